/*
 * _wasisocket: the guest half of wasmi-py's host socket ABI (stub stage).
 *
 * The ABI itself (import module "wasmi_py_socket", struct layouts, constants,
 * error numbers) is specified in docs/socket-abi.md.  This file is compiled
 * into python.wasm as a builtin module by python-wasm/build.sh (via
 * python-wasm/Setup.local); build.sh copies it into CPython's Modules/
 * directory because makesetup cannot handle absolute source paths.
 *
 * Stub stage: the module exposes abi_version() (no host call) and thin
 * wrappers over EXACTLY these host imports, which a host must provide at
 * instantiation time (a declared-and-used import is a link requirement):
 *
 *     wasmi_py_socket.sock_open    (i32 i32 i32 i32 i32) -> i32
 *     wasmi_py_socket.sock_connect (i32 i32 i32) -> i32
 *     wasmi_py_socket.sock_send    (i32 i32 i32 i32 i32) -> i32
 *     wasmi_py_socket.sock_recv    (i32 i32 i32 i32 i32) -> i32
 *     wasmi_py_socket.gethostname  (i32 i32 i32) -> i32
 *
 * Keep that list and docs/socket-abi.md ("Imports referenced by the current
 * build") in sync: adding a call to another import here adds a new
 * instantiation requirement for every host.
 *
 * Error convention: every import returns an ABI errno, which by design uses
 * the wasi_snapshot_preview1 errno numbering; wasi-libc's errno values are the
 * same numbers, so `errno = ret; PyErr_SetFromErrno(...)` raises the correct
 * OSError subclass (ConnectionRefusedError, BlockingIOError, ...).
 *
 * Socket descriptors returned by the host are ordinary WASI file descriptors:
 * close() goes through wasi-libc (fd_close), and poll_oneoff/select work on them.
 */

#define PY_SSIZE_T_CLEAN
#include "Python.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

/* ---- ABI version and constants (docs/socket-abi.md) -------------------- */

#define WASMI_PY_SOCKET_ABI_VERSION 1
#define WASMI_PY_SOCKET_IMPORT_MODULE "wasmi_py_socket"

/* address families */
#define WPS_AF_UNSPEC 0
#define WPS_AF_INET 1
#define WPS_AF_INET6 2
/* socket types */
#define WPS_SOCK_STREAM 1
#define WPS_SOCK_DGRAM 2
/* sock_open / sock_accept4 flags */
#define WPS_SOCK_NONBLOCK 0x1
/* send/recv flags */
#define WPS_MSG_PEEK 0x1
#define WPS_MSG_WAITALL 0x2
#define WPS_MSG_DONTWAIT 0x4
/* protocols (IANA numbers) */
#define WPS_IPPROTO_IP 0
#define WPS_IPPROTO_TCP 6
#define WPS_IPPROTO_UDP 17

/* struct wps_sockaddr: 28 bytes, 4-byte aligned, little-endian fields */
typedef struct {
    uint16_t family;   /* offset 0: WPS_AF_* */
    uint16_t port;     /* offset 2: port number in host order (a plain u16) */
    uint8_t addr[16];  /* offset 4: IPv4 in bytes 0..3, IPv6 all 16, network order */
    uint32_t flowinfo; /* offset 20: IPv6 flow info, 0 for IPv4 */
    uint32_t scope_id; /* offset 24: IPv6 scope id, 0 for IPv4 */
} wps_sockaddr;

_Static_assert(sizeof(wps_sockaddr) == 28, "wps_sockaddr must be 28 bytes");
_Static_assert(offsetof(wps_sockaddr, addr) == 4, "addr at offset 4");
_Static_assert(offsetof(wps_sockaddr, flowinfo) == 20, "flowinfo at offset 20");
_Static_assert(offsetof(wps_sockaddr, scope_id) == 24, "scope_id at offset 24");

/* ---- host imports (only those referenced by this stub) ------------------ */

#define WPS_IMPORT(name) \
    __attribute__((import_module(WASMI_PY_SOCKET_IMPORT_MODULE), import_name(name)))

WPS_IMPORT("sock_open")
int32_t __wps_sock_open(int32_t family, int32_t type, int32_t protocol,
                        int32_t flags, int32_t *fd_out);

WPS_IMPORT("sock_connect")
int32_t __wps_sock_connect(int32_t fd, const wps_sockaddr *addr, uint32_t addr_len);

WPS_IMPORT("sock_send")
int32_t __wps_sock_send(int32_t fd, const void *buf, uint32_t buf_len,
                        int32_t flags, uint32_t *sent_out);

WPS_IMPORT("sock_recv")
int32_t __wps_sock_recv(int32_t fd, void *buf, uint32_t buf_len,
                        int32_t flags, uint32_t *received_out);

WPS_IMPORT("gethostname")
int32_t __wps_gethostname(char *buf, uint32_t buf_cap, uint32_t *len_out);

/* ---- helpers ------------------------------------------------------------ */

static PyObject *
wps_error(int32_t err)
{
    /* ABI errno == WASI errno == wasi-libc errno */
    errno = (int)err;
    return PyErr_SetFromErrno(PyExc_OSError);
}

static int
wps_check_fd(int fd)
{
    if (fd < 0) {
        PyErr_SetString(PyExc_ValueError, "negative file descriptor");
        return -1;
    }
    return 0;
}

/* Lengths cross the ABI as u32. On wasm32 Py_ssize_t is 32-bit, so a
 * non-negative length always fits (careful: (Py_ssize_t)UINT32_MAX is -1
 * there); the upper bound only matters for a 64-bit Py_ssize_t. */
static int
wps_check_len(Py_ssize_t len, const char *what)
{
    if (len < 0) {
        PyErr_Format(PyExc_ValueError, "%s(): negative length", what);
        return -1;
    }
#if SIZEOF_SIZE_T > 4
    if ((size_t)len > (size_t)UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s(): length does not fit in u32", what);
        return -1;
    }
#endif
    return 0;
}

/* ---- module functions --------------------------------------------------- */

PyDoc_STRVAR(abi_version_doc,
"abi_version() -> int\n\n"
"Version of the wasmi_py_socket ABI this module was compiled against.\n"
"Does not call the host.");

static PyObject *
wps_abi_version(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(WASMI_PY_SOCKET_ABI_VERSION);
}

PyDoc_STRVAR(gethostname_doc,
"gethostname() -> str\n\nHost name as reported by the host (import gethostname).");

static PyObject *
wps_gethostname(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    char buf[256];
    uint32_t len = 0;
    int32_t err = __wps_gethostname(buf, (uint32_t)sizeof(buf), &len);
    if (err != 0) {
        return wps_error(err);
    }
    if (len > sizeof(buf)) {
        errno = ENAMETOOLONG;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyUnicode_DecodeFSDefaultAndSize(buf, (Py_ssize_t)len);
}

PyDoc_STRVAR(socket_doc,
"socket(family=AF_INET, type=SOCK_STREAM, proto=0, flags=0) -> int\n\n"
"Open a socket through the host (import sock_open) and return its WASI fd.\n"
"All arguments use the ABI's own constants (the module's AF_*, SOCK_*).");

static PyObject *
wps_socket(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"family", "type", "proto", "flags", NULL};
    int family = WPS_AF_INET, type = WPS_SOCK_STREAM, proto = 0, flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|iiii:socket", kwlist,
                                     &family, &type, &proto, &flags)) {
        return NULL;
    }
    int32_t fd = -1;
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_open(family, type, proto, flags, &fd);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        return wps_error(err);
    }
    return PyLong_FromLong(fd);
}

PyDoc_STRVAR(connect_doc,
"connect(fd, host, port)\n\n"
"Connect fd to a numeric IPv4 or IPv6 address string and a port\n"
"(import sock_connect). Non-blocking sockets raise BlockingIOError\n"
"(EINPROGRESS); completion is signalled through poll_oneoff.");

static PyObject *
wps_connect(PyObject *module, PyObject *args)
{
    int fd, port;
    const char *host;
    if (!PyArg_ParseTuple(args, "isi:connect", &fd, &host, &port)) {
        return NULL;
    }
    if (wps_check_fd(fd) < 0) {
        return NULL;
    }
    if (port < 0 || port > 0xffff) {
        PyErr_SetString(PyExc_OverflowError, "connect(): port must be 0-65535");
        return NULL;
    }
    wps_sockaddr sa;
    memset(&sa, 0, sizeof(sa));
    sa.port = (uint16_t)port;
    if (inet_pton(AF_INET, host, sa.addr) == 1) {
        sa.family = WPS_AF_INET;
    }
    else if (inet_pton(AF_INET6, host, sa.addr) == 1) {
        sa.family = WPS_AF_INET6;
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "connect(): %R is not a numeric IPv4/IPv6 address", args);
        return NULL;
    }
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_connect(fd, &sa, (uint32_t)sizeof(sa));
    Py_END_ALLOW_THREADS
    if (err != 0) {
        return wps_error(err);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(send_doc,
"send(fd, data, flags=0) -> int\n\nSend bytes (import sock_send); returns bytes sent.");

static PyObject *
wps_send(PyObject *module, PyObject *args)
{
    int fd, flags = 0;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "iy*|i:send", &fd, &data, &flags)) {
        return NULL;
    }
    if (wps_check_fd(fd) < 0 || wps_check_len(data.len, "send") < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    uint32_t sent = 0;
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_send(fd, data.buf, (uint32_t)data.len, flags, &sent);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    if (err != 0) {
        return wps_error(err);
    }
    return PyLong_FromUnsignedLong(sent);
}

PyDoc_STRVAR(recv_doc,
"recv(fd, bufsize, flags=0) -> bytes\n\nReceive up to bufsize bytes (import sock_recv).\n"
"b'' means the peer closed the connection.");

static PyObject *
wps_recv(PyObject *module, PyObject *args)
{
    int fd, flags = 0;
    Py_ssize_t bufsize;
    if (!PyArg_ParseTuple(args, "in|i:recv", &fd, &bufsize, &flags)) {
        return NULL;
    }
    if (wps_check_fd(fd) < 0 || wps_check_len(bufsize, "recv") < 0) {
        return NULL;
    }
    PyObject *buf = PyBytes_FromStringAndSize(NULL, bufsize);
    if (buf == NULL) {
        return NULL;
    }
    uint32_t received = 0;
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_recv(fd, PyBytes_AS_STRING(buf), (uint32_t)bufsize, flags,
                          &received);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        Py_DECREF(buf);
        return wps_error(err);
    }
    if ((uint64_t)received > (uint64_t)bufsize) {
        Py_DECREF(buf);
        errno = EIO;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if ((Py_ssize_t)received != bufsize && _PyBytes_Resize(&buf, received) < 0) {
        return NULL;
    }
    return buf;
}

PyDoc_STRVAR(close_doc,
"close(fd)\n\nClose a socket fd. Sockets live in the WASI fd table, so this is\n"
"plain close() -> wasi_snapshot_preview1.fd_close (no wasmi_py_socket import).");

static PyObject *
wps_close(PyObject *module, PyObject *args)
{
    int fd;
    if (!PyArg_ParseTuple(args, "i:close", &fd)) {
        return NULL;
    }
    if (wps_check_fd(fd) < 0) {
        return NULL;
    }
    if (close(fd) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyMethodDef wps_methods[] = {
    {"abi_version", wps_abi_version, METH_NOARGS, abi_version_doc},
    {"gethostname", wps_gethostname, METH_NOARGS, gethostname_doc},
    {"socket", (PyCFunction)(void (*)(void))wps_socket, METH_VARARGS | METH_KEYWORDS, socket_doc},
    {"connect", wps_connect, METH_VARARGS, connect_doc},
    {"send", wps_send, METH_VARARGS, send_doc},
    {"recv", wps_recv, METH_VARARGS, recv_doc},
    {"close", wps_close, METH_VARARGS, close_doc},
    {NULL, NULL, 0, NULL}
};

static int
wps_exec(PyObject *m)
{
#define ADD_INT(name, value) \
    if (PyModule_AddIntConstant(m, name, value) < 0) { return -1; }
    ADD_INT("ABI_VERSION", WASMI_PY_SOCKET_ABI_VERSION);
    ADD_INT("AF_UNSPEC", WPS_AF_UNSPEC);
    ADD_INT("AF_INET", WPS_AF_INET);
    ADD_INT("AF_INET6", WPS_AF_INET6);
    ADD_INT("SOCK_STREAM", WPS_SOCK_STREAM);
    ADD_INT("SOCK_DGRAM", WPS_SOCK_DGRAM);
    ADD_INT("SOCK_NONBLOCK", WPS_SOCK_NONBLOCK);
    ADD_INT("MSG_PEEK", WPS_MSG_PEEK);
    ADD_INT("MSG_WAITALL", WPS_MSG_WAITALL);
    ADD_INT("MSG_DONTWAIT", WPS_MSG_DONTWAIT);
    ADD_INT("IPPROTO_IP", WPS_IPPROTO_IP);
    ADD_INT("IPPROTO_TCP", WPS_IPPROTO_TCP);
    ADD_INT("IPPROTO_UDP", WPS_IPPROTO_UDP);
    ADD_INT("SOCKADDR_SIZE", (long)sizeof(wps_sockaddr));
#undef ADD_INT
    if (PyModule_AddStringConstant(m, "IMPORT_MODULE",
                                   WASMI_PY_SOCKET_IMPORT_MODULE) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot wps_slots[] = {
    {Py_mod_exec, wps_exec},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

PyDoc_STRVAR(module_doc,
"Guest side of wasmi-py's host socket ABI (import module \"wasmi_py_socket\").\n"
"See docs/socket-abi.md. Stub stage: abi_version() plus thin wrappers.");

static struct PyModuleDef wps_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_wasisocket",
    .m_doc = module_doc,
    .m_size = 0,
    .m_methods = wps_methods,
    .m_slots = wps_slots,
};

PyMODINIT_FUNC
PyInit__wasisocket(void)
{
    return PyModuleDef_Init(&wps_module);
}
