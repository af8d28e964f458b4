#!/usr/bin/env python3
"""Optional smoke test of a python-wasm build under an independent engine.

Runs the cached python.wasm with wasmtime's Python bindings (PyPI package
`wasmtime`, which ships its own native library), with fake implementations
of the wasmi_py_socket host imports, and checks:

  1. command flow: `_start` with `python -c PROGRAM` imports the compiled-in
     modules (zlib, hashes, _socket, _wasisocket, ...) from the .pyc stdlib;
  2. C-API flow: `__wasm_call_ctors`, `Py_InitializeEx(0)`,
     `PyRun_SimpleString`, `Py_FinalizeEx` through the exports.

Not used by build.sh and not needed by the project's own interpreter; it
exists to validate python.wasm before wasmi-py can run it:

    python3 -m venv /tmp/wt && /tmp/wt/bin/pip install wasmtime
    /tmp/wt/bin/python python-wasm/smoke_test.py [CACHE_DIR] [--debug]

CACHE_DIR defaults to `python-wasm/build.sh --print-path`.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import wasmtime

# ABI errno values (docs/socket-abi.md: the wasi_snapshot_preview1 numbering)
NOSYS = 52
HOSTNAME = b"smoke-host"

PROGRAM = r"""
import sys, os
# Nothing of the sockets is loaded at start-up: _socket installs them when imported.
assert "_socket" not in sys.modules and "_wasisocket" not in sys.modules, sorted(sys.modules)
print("version", sys.version.split()[0], sys.platform, sys.prefix)
import zlib, binascii, select, hashlib, _md5, _sha1, _sha2, _sha3, _blake2
data = b"wasmi-py " * 100
assert zlib.decompress(zlib.compress(data)) == data
assert binascii.crc32(data) == zlib.crc32(data)
print("hashes", hashlib.md5(data).hexdigest()[:8], hashlib.sha256(data).hexdigest()[:8],
      hashlib.sha3_256(data).hexdigest()[:8], hashlib.blake2b(data).hexdigest()[:8])
import _socket, socket
print("socket", socket.AF_INET, socket.SOCK_STREAM, hasattr(_socket, "socket"))
import _wasisocket as w
assert w.abi_version() == 1 == w.ABI_VERSION
assert socket.socket.__mro__[1] is w.socket, "importing _socket installed it"
assert w.install() is False, "already installed"
assert socket.gethostname() == "smoke-host", socket.gethostname()
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except OSError as e:
    import errno
    assert e.errno == errno.ENOSYS, e
    print("sock_open -> ENOSYS ok")
import json, asyncio, sysconfig, decimal, datetime, re, pathlib
print("sysconfig", sysconfig.get_platform(), sysconfig.get_config_var("HOST_GNU_TYPE"))
import encodings
assert encodings.__cached__.endswith(".pyc")
print("builtin", ",".join(m for m in ("_wasisocket", "zlib", "_socket") if m in sys.builtin_module_names))
print("ok")
"""


def make_linker(engine, calls):
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    i32 = wasmtime.ValType.i32()

    def ft(n):
        return wasmtime.FuncType([i32] * n, [i32])

    def nosys(name, n):
        def f(caller, *args):
            calls.append(name)
            return NOSYS
        linker.define_func("wasmi_py_socket", name, ft(n), f, access_caller=True)

    def gethostname(caller, buf, cap, len_out):
        calls.append("gethostname")
        mem = caller["memory"]
        n = min(len(HOSTNAME), cap)
        mem.write(caller, HOSTNAME[:n], buf)
        mem.write(caller, len(HOSTNAME).to_bytes(4, "little"), len_out)
        return 0

    linker.define_func("wasmi_py_socket", "gethostname", ft(3), gethostname, access_caller=True)
    # every other import of docs/socket-abi.md: (name, number of i32 parameters)
    for name, n in [("sock_open", 5), ("sock_bind", 3), ("sock_listen", 2),
                    ("sock_accept4", 4), ("sock_connect", 3), ("sock_send", 5),
                    ("sock_recv", 5), ("sock_sendto", 7), ("sock_recvfrom", 6),
                    ("sock_shutdown", 2), ("sock_getsockname", 2), ("sock_getpeername", 2),
                    ("sock_setsockopt", 5), ("sock_getsockopt", 5), ("sock_socketpair", 3),
                    ("sock_dup", 2), ("getaddrinfo", 11), ("getnameinfo", 9)]:
        nosys(name, n)
    return linker


def new_store(engine, root, argv, out_path):
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = argv
    wasi.preopen_dir(root, "/usr/local")
    wasi.stdout_file = out_path
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    return store


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cache_dir", nargs="?")
    ap.add_argument("--debug", action="store_true", help="run python-debug.wasm")
    args = ap.parse_args()
    root = args.cache_dir
    if root is None:
        here = os.path.dirname(os.path.abspath(__file__))
        root = subprocess.run([os.path.join(here, "build.sh"), "--print-path"],
                              check=True, capture_output=True, text=True).stdout.strip()
    wasm = os.path.join(root, "python-debug.wasm" if args.debug else "python.wasm")

    config = wasmtime.Config()
    config.max_wasm_stack = 2 * 1024 * 1024  # wasmtime caps it at async_stack_size
    config.cache = True
    engine = wasmtime.Engine(config)
    t = time.time()
    module = wasmtime.Module.from_file(engine, wasm)
    print(f"compiled {wasm} in {time.time() - t:.1f}s")
    failures = 0

    with tempfile.TemporaryDirectory() as tmp:
        # 1. command flow
        calls = []
        out = os.path.join(tmp, "out1")
        store = new_store(engine, root, ["python", "-c", PROGRAM], out)
        inst = make_linker(engine, calls).instantiate(store, module)
        t = time.time()
        code = 0
        try:
            inst.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            code = e.code
        text = open(out).read()
        print(f"--- _start python -c ... (exit {code}, {time.time() - t:.1f}s, host calls {calls})")
        print(text, end="")
        if code != 0 or not text.rstrip().endswith("ok"):
            failures += 1

        # 2. C-API flow through the exports
        calls = []
        out = os.path.join(tmp, "out2")
        store = new_store(engine, root, ["python"], out)
        inst = make_linker(engine, calls).instantiate(store, module)
        ex = inst.exports(store)
        t = time.time()
        ex["__wasm_call_ctors"](store)
        ex["Py_InitializeEx"](store, 0)
        src = b"import sys, zlib, _wasisocket; print('capi', sys.version_info[:2], _wasisocket.gethostname())\0"
        ptr = ex["malloc"](store, len(src))
        ex["memory"].write(store, src, ptr)
        rc = ex["PyRun_SimpleString"](store, ptr)
        ex["free"](store, ptr)
        fin = ex["Py_FinalizeEx"](store)
        text = open(out).read()
        print(f"--- C API: PyRun_SimpleString -> {rc}, Py_FinalizeEx -> {fin} "
              f"({time.time() - t:.1f}s, host calls {calls})")
        print(text, end="")
        if rc != 0 or fin != 0 or "capi (3, 13) smoke-host" not in text:
            failures += 1

    print("smoke test:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
