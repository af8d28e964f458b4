/*
 * The stock _socket module (Modules/socketmodule.c, unchanged) with its init function
 * renamed, built instead of socketmodule.c by python-wasm/Setup.local: the module
 * table's PyInit__socket is _wasisocket.c's, which calls this one and makes _socket
 * install the host sockets when it is imported (see the end of _wasisocket.c).
 * (A -DPyInit__socket=... flag in Setup.local cannot do this: makesetup reads a line
 * with '=' as a make variable.)
 */
#define PyInit__socket _wps_stock_PyInit__socket
#include "socketmodule.c"
