# wasmi-py: the stock _socket module uses real host sockets (python-wasm/_wasisocket.c,
# docs/socket-abi.md), so the unchanged socket module works. `site` imports this module at
# start-up, before any user code; as a module with its byte code it costs less than the
# line of a .pth file, which `site` would compile at every start-up (3.6 ms measured).
import _wasisocket

_wasisocket.install()
del _wasisocket
