/*
 * _wasisocket: the guest half of wasmi-py's host socket ABI.
 *
 * The ABI itself (import module "wasmi_py_socket", struct layouts, constants,
 * error numbers) is specified in docs/socket-abi.md.  This file is compiled
 * into python.wasm as a builtin module by python-wasm/build.sh (via
 * python-wasm/Setup.local); build.sh copies it into CPython's Modules/
 * directory because makesetup cannot handle absolute source paths.
 *
 * What it provides: a socket type compatible with the stock `_socket.socket`
 * (the base class of `socket.socket`), the resolver functions
 * (getaddrinfo, getnameinfo, gethostbyname, ...), socketpair, dup and the
 * constants the stock `_socket` lacks on WASI.  All of that is put into the
 * stock `_socket` module when `_socket` is made (PyInit__socket at the end of
 * this file wraps the stock one), so that the unchanged `socket.py` (and with
 * it http.client, urllib, socketserver, asyncio, ...) uses it; the stock
 * `_socket` stays built in and keeps everything not replaced.
 *
 * Python-level constants are the stock `_socket`'s on wasm32-wasi (wasi-libc
 * values: AF_INET 1, SOCK_STREAM 6, SOL_SOCKET 0x7fffffff, ...); this module
 * translates them to the ABI's own values at each host call.
 *
 * Host imports used (keep in sync with docs/socket-abi.md, "Imports
 * referenced by the current build", and SOCKET_IMPORTS in build.sh):
 *   sock_open sock_bind sock_listen sock_accept4 sock_connect sock_send
 *   sock_recv sock_sendto sock_recvfrom sock_shutdown sock_getsockname
 *   sock_getpeername sock_setsockopt sock_getsockopt sock_socketpair sock_dup
 *   getaddrinfo getnameinfo gethostname
 *
 * Error convention: every socket import returns an ABI errno, which by design
 * uses the wasi_snapshot_preview1 errno numbering; wasi-libc's errno values
 * are the same numbers, so `errno = ret; PyErr_SetFromErrno(...)` raises the
 * correct OSError subclass.  NOTCAPABLE (76) means the host's network policy
 * refused the operation: it raises PermissionError with a message naming the
 * wasmi-py flags that would allow it.
 *
 * Socket descriptors returned by the host are ordinary WASI file descriptors:
 * close() goes through wasi-libc (fd_close), blocking mode through
 * fcntl(F_SETFL) (fd_fdstat_set_flags), and timeouts wait with poll()
 * (poll_oneoff), exactly like CPython's own socket module does.
 */

#define PY_SSIZE_T_CLEAN
#include "Python.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/time.h>

/* ---- ABI version and constants (docs/socket-abi.md) -------------------- */

#define WASMI_PY_SOCKET_ABI_VERSION 1
#define WASMI_PY_SOCKET_IMPORT_MODULE "wasmi_py_socket"

/* address families */
#define WPS_AF_UNSPEC 0
#define WPS_AF_INET 1
#define WPS_AF_INET6 2
#define WPS_AF_UNIX 3 /* reported only (socketpair, preopened Unix sockets) */
/* socket types */
#define WPS_SOCK_STREAM 1
#define WPS_SOCK_DGRAM 2
/* sock_open / sock_accept4 / sock_socketpair flags */
#define WPS_SOCK_NONBLOCK 0x1
/* send/recv flags */
#define WPS_MSG_PEEK 0x1
#define WPS_MSG_WAITALL 0x2
#define WPS_MSG_DONTWAIT 0x4
/* protocols (IANA numbers) */
#define WPS_IPPROTO_IP 0
#define WPS_IPPROTO_TCP 6
#define WPS_IPPROTO_UDP 17
/* option levels and names */
#define WPS_SOL_SOCKET 1
#define WPS_SOL_TCP 2
#define WPS_SOL_IP 3
#define WPS_SOL_IPV6 4
#define WPS_SO_REUSEADDR 1
#define WPS_SO_ERROR 2
#define WPS_SO_TYPE 3
#define WPS_SO_KEEPALIVE 4
#define WPS_SO_BROADCAST 5
#define WPS_SO_SNDBUF 6
#define WPS_SO_RCVBUF 7
#define WPS_SO_LINGER 8
#define WPS_SO_RCVTIMEO 9
#define WPS_SO_SNDTIMEO 10
#define WPS_SO_ACCEPTCONN 11
#define WPS_SO_REUSEPORT 12
#define WPS_SO_DOMAIN 13
#define WPS_TCP_NODELAY 1
#define WPS_TCP_KEEPIDLE 2
#define WPS_TCP_KEEPINTVL 3
#define WPS_TCP_KEEPCNT 4
#define WPS_IP_TTL 1
#define WPS_IPV6_V6ONLY 1
/* resolver flags */
#define WPS_AI_PASSIVE 0x1
#define WPS_AI_CANONNAME 0x2
#define WPS_AI_NUMERICHOST 0x4
#define WPS_AI_NUMERICSERV 0x8
#define WPS_AI_V4MAPPED 0x10
#define WPS_AI_ALL 0x20
#define WPS_AI_ADDRCONFIG 0x40
#define WPS_NI_NUMERICHOST 0x1
#define WPS_NI_NUMERICSERV 0x2
#define WPS_NI_NAMEREQD 0x4
#define WPS_NI_DGRAM 0x8
#define WPS_NI_NOFQDN 0x10
/* resolver statuses */
#define WPS_EAI_OK 0
#define WPS_EAI_NONAME 1
#define WPS_EAI_AGAIN 2
#define WPS_EAI_FAIL 3
#define WPS_EAI_FAMILY 4
#define WPS_EAI_SOCKTYPE 5
#define WPS_EAI_SERVICE 6
#define WPS_EAI_MEMORY 7
#define WPS_EAI_BADFLAGS 8
#define WPS_EAI_NODATA 9
#define WPS_EAI_OVERFLOW 10
#define WPS_EAI_SYSTEM 11
#define WPS_EAI_DENIED 12
/* the ABI errno of a policy denial */
#define WPS_NOTCAPABLE 76

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

/* resolver hints: 16 bytes */
typedef struct {
    uint32_t flags;
    uint16_t family;
    uint16_t socktype;
    uint16_t protocol;
    uint8_t reserved[6];
} wps_hints;
_Static_assert(sizeof(wps_hints) == 16, "wps_hints must be 16 bytes");

/* one resolver result: 32 bytes */
typedef struct {
    uint16_t socktype;
    uint16_t protocol;
    wps_sockaddr addr;
} wps_addrinfo;
_Static_assert(sizeof(wps_addrinfo) == 32, "wps_addrinfo must be 32 bytes");
_Static_assert(offsetof(wps_addrinfo, addr) == 4, "addrinfo.addr at offset 4");

/* ---- Python-level constants ---------------------------------------------
 * Those the stock _socket already has keep its values (wasi-libc's, and
 * CPython's Modules/addrinfo.h for AI_/EAI_/NI_ since wasi-libc has no
 * netdb.h); the ones it lacks get Linux's numbers. */

#define PY_AF_UNSPEC 0
#define PY_AF_INET 1
#define PY_AF_INET6 2
#define PY_AF_UNIX 3
#define PY_SOCK_DGRAM 5
#define PY_SOCK_STREAM 6
#define PY_SOCK_NONBLOCK 0x4000
#define PY_SOCK_CLOEXEC 0x2000
#define PY_SOL_SOCKET 0x7fffffff
#define PY_IPPROTO_IP 0
#define PY_IPPROTO_TCP 6
#define PY_IPPROTO_UDP 17
#define PY_IPPROTO_IPV6 41
#define PY_SO_REUSEADDR 2
#define PY_SO_TYPE 3
#define PY_SO_ERROR 4
#define PY_SO_BROADCAST 6
#define PY_SO_SNDBUF 7
#define PY_SO_RCVBUF 8
#define PY_SO_KEEPALIVE 9
#define PY_SO_LINGER 13
#define PY_SO_REUSEPORT 15
#define PY_SO_ACCEPTCONN 30
#define PY_SO_PROTOCOL 38
#define PY_SO_DOMAIN 39
#define PY_SO_RCVTIMEO 66
#define PY_SO_SNDTIMEO 67
#define PY_TCP_NODELAY 1
#define PY_TCP_KEEPIDLE 4
#define PY_TCP_KEEPINTVL 5
#define PY_TCP_KEEPCNT 6
#define PY_IP_TTL 2
#define PY_IPV6_V6ONLY 26
#define PY_MSG_PEEK 1
#define PY_MSG_WAITALL 2
#define PY_MSG_DONTWAIT 0x40
#define PY_MSG_NOSIGNAL 0x4000
#define PY_AI_PASSIVE 1
#define PY_AI_CANONNAME 2
#define PY_AI_NUMERICHOST 4
#define PY_AI_NUMERICSERV 8
#define PY_AI_ALL 256
#define PY_AI_ADDRCONFIG 1024
#define PY_AI_V4MAPPED 2048
#define PY_NI_NOFQDN 1
#define PY_NI_NUMERICHOST 2
#define PY_NI_NAMEREQD 4
#define PY_NI_NUMERICSERV 8
#define PY_NI_DGRAM 16
#define PY_EAI_ADDRFAMILY 1
#define PY_EAI_AGAIN 2
#define PY_EAI_BADFLAGS 3
#define PY_EAI_FAIL 4
#define PY_EAI_FAMILY 5
#define PY_EAI_MEMORY 6
#define PY_EAI_NODATA 7
#define PY_EAI_NONAME 8
#define PY_EAI_SERVICE 9
#define PY_EAI_SOCKTYPE 10
#define PY_EAI_SYSTEM 11
#define PY_EAI_OVERFLOW 14
#define PY_SOMAXCONN 4096
#define PY_DEFAULT_BACKLOG 128

/* ---- host imports ------------------------------------------------------- */

#define WPS_IMPORT(name) \
    __attribute__((import_module(WASMI_PY_SOCKET_IMPORT_MODULE), import_name(name)))

WPS_IMPORT("sock_open")
int32_t __wps_sock_open(int32_t family, int32_t type, int32_t protocol,
                        int32_t flags, int32_t *fd_out);
WPS_IMPORT("sock_bind")
int32_t __wps_sock_bind(int32_t fd, const wps_sockaddr *addr, uint32_t addr_len);
WPS_IMPORT("sock_listen")
int32_t __wps_sock_listen(int32_t fd, int32_t backlog);
WPS_IMPORT("sock_accept4")
int32_t __wps_sock_accept4(int32_t fd, int32_t flags, int32_t *fd_out,
                           wps_sockaddr *addr_out);
WPS_IMPORT("sock_connect")
int32_t __wps_sock_connect(int32_t fd, const wps_sockaddr *addr, uint32_t addr_len);
WPS_IMPORT("sock_send")
int32_t __wps_sock_send(int32_t fd, const void *buf, uint32_t buf_len,
                        int32_t flags, uint32_t *sent_out);
WPS_IMPORT("sock_recv")
int32_t __wps_sock_recv(int32_t fd, void *buf, uint32_t buf_len,
                        int32_t flags, uint32_t *received_out);
WPS_IMPORT("sock_sendto")
int32_t __wps_sock_sendto(int32_t fd, const void *buf, uint32_t buf_len,
                          int32_t flags, const wps_sockaddr *addr,
                          uint32_t addr_len, uint32_t *sent_out);
WPS_IMPORT("sock_recvfrom")
int32_t __wps_sock_recvfrom(int32_t fd, void *buf, uint32_t buf_len,
                            int32_t flags, wps_sockaddr *addr_out,
                            uint32_t *received_out);
WPS_IMPORT("sock_shutdown")
int32_t __wps_sock_shutdown(int32_t fd, int32_t how);
WPS_IMPORT("sock_getsockname")
int32_t __wps_sock_getsockname(int32_t fd, wps_sockaddr *addr_out);
WPS_IMPORT("sock_getpeername")
int32_t __wps_sock_getpeername(int32_t fd, wps_sockaddr *addr_out);
WPS_IMPORT("sock_setsockopt")
int32_t __wps_sock_setsockopt(int32_t fd, int32_t level, int32_t name,
                              const void *value, uint32_t value_len);
WPS_IMPORT("sock_getsockopt")
int32_t __wps_sock_getsockopt(int32_t fd, int32_t level, int32_t name,
                              void *value, uint32_t *value_len_inout);
WPS_IMPORT("sock_socketpair")
int32_t __wps_sock_socketpair(int32_t type, int32_t flags, int32_t *fds_out);
WPS_IMPORT("sock_dup")
int32_t __wps_sock_dup(int32_t fd, int32_t *fd_out);
WPS_IMPORT("getaddrinfo")
int32_t __wps_getaddrinfo(const char *node, uint32_t node_len,
                          const char *service, uint32_t service_len,
                          const wps_hints *hints, wps_addrinfo *res,
                          uint32_t res_cap, uint32_t *res_count_out,
                          char *canon, uint32_t canon_cap,
                          uint32_t *canon_len_out);
WPS_IMPORT("getnameinfo")
int32_t __wps_getnameinfo(const wps_sockaddr *addr, uint32_t addr_len,
                          int32_t flags, char *host, uint32_t host_cap,
                          uint32_t *host_len_out, char *serv, uint32_t serv_cap,
                          uint32_t *serv_len_out);
WPS_IMPORT("gethostname")
int32_t __wps_gethostname(char *buf, uint32_t buf_cap, uint32_t *len_out);

/* ---- module-wide state -------------------------------------------------- */

/* The default timeout for new sockets in nanoseconds (-1: None, blocking).
 * The module does not support several interpreters (see wps_slots), so a
 * static is fine. */
static int64_t wps_default_timeout = -1;
/* _socket.gaierror and _socket.herror (borrowed from the stock module so
 * that `except socket.gaierror` catches ours). */
static PyObject *wps_gaierror = NULL;
static PyObject *wps_herror = NULL;

static PyTypeObject wps_sock_type;

typedef struct {
    PyObject_HEAD
    int fd;          /* WASI fd, -1 when closed/detached */
    int family;      /* Python-level AF_* */
    int type;        /* Python-level SOCK_* (without NONBLOCK/CLOEXEC) */
    int proto;
    int64_t timeout; /* ns; -1 = blocking (None), 0 = non-blocking */
} wps_sock;

/* ---- errors -------------------------------------------------------------- */

static PyObject *
wps_error(int32_t err)
{
    /* ABI errno == WASI errno == wasi-libc errno */
    errno = (int)err;
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* PermissionError(NOTCAPABLE, "network access denied by wasmi-py: <what>
 * needs --net or --allow-net=<allow>"). */
static PyObject *
wps_denied(const char *what, const char *allow)
{
    PyObject *msg = PyUnicode_FromFormat(
        "network access denied by wasmi-py: %s needs --net or --allow-net=%s",
        what, allow);
    if (msg == NULL) {
        return NULL;
    }
    PyObject *args = Py_BuildValue("(iN)", WPS_NOTCAPABLE, msg);
    if (args != NULL) {
        PyErr_SetObject(PyExc_PermissionError, args);
        Py_DECREF(args);
    }
    return NULL;
}

static PyObject *
wps_timeout_error(void)
{
    PyErr_SetString(PyExc_TimeoutError, "timed out");
    return NULL;
}

static int
wps_py_eai(int32_t status)
{
    switch (status) {
    case WPS_EAI_NONAME: return PY_EAI_NONAME;
    case WPS_EAI_AGAIN: return PY_EAI_AGAIN;
    case WPS_EAI_FAIL: return PY_EAI_FAIL;
    case WPS_EAI_FAMILY: return PY_EAI_FAMILY;
    case WPS_EAI_SOCKTYPE: return PY_EAI_SOCKTYPE;
    case WPS_EAI_SERVICE: return PY_EAI_SERVICE;
    case WPS_EAI_MEMORY: return PY_EAI_MEMORY;
    case WPS_EAI_BADFLAGS: return PY_EAI_BADFLAGS;
    case WPS_EAI_NODATA: return PY_EAI_NODATA;
    case WPS_EAI_OVERFLOW: return PY_EAI_OVERFLOW;
    default: return PY_EAI_SYSTEM;
    }
}

static const char *
wps_gai_strerror(int32_t status)
{
    /* glibc's gai_strerror() texts, what Python on Linux shows */
    switch (status) {
    case WPS_EAI_NONAME: return "Name or service not known";
    case WPS_EAI_AGAIN: return "Temporary failure in name resolution";
    case WPS_EAI_FAIL: return "Non-recoverable failure in name resolution";
    case WPS_EAI_FAMILY: return "ai_family not supported";
    case WPS_EAI_SOCKTYPE: return "ai_socktype not supported";
    case WPS_EAI_SERVICE: return "Servname not supported for ai_socktype";
    case WPS_EAI_MEMORY: return "Memory allocation failure";
    case WPS_EAI_BADFLAGS: return "Bad value for ai_flags";
    case WPS_EAI_NODATA: return "No address associated with hostname";
    case WPS_EAI_OVERFLOW: return "Argument buffer overflow";
    default: return "System error";
    }
}

/* Raises for a resolver status: PermissionError for a denial (`name` is
 * what was being resolved), else socket.gaierror. */
static PyObject *
wps_gai_error(int32_t status, const char *name)
{
    if (status == WPS_EAI_DENIED) {
        char what[300];
        snprintf(what, sizeof(what), "resolving '%.250s'", name ? name : "");
        return wps_denied(what, name ? name : "HOST");
    }
    PyObject *args = Py_BuildValue("(is)", wps_py_eai(status),
                                   wps_gai_strerror(status));
    if (args != NULL) {
        PyErr_SetObject(wps_gaierror ? wps_gaierror : PyExc_OSError, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* ---- time ------------------------------------------------------------------ */

static int64_t
wps_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parses a timeout object: None -> -1, else non-negative seconds -> ns. */
static int
wps_timeout_from_object(PyObject *obj, int64_t *out)
{
    if (obj == Py_None) {
        *out = -1;
        return 0;
    }
    double secs = PyFloat_AsDouble(obj);
    if (secs == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Format(PyExc_TypeError,
                         "'%.200s' object cannot be interpreted as an integer or float",
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    if (isnan(secs)) {
        PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
        return -1;
    }
    if (secs < 0) {
        PyErr_SetString(PyExc_ValueError, "Timeout value out of range");
        return -1;
    }
    if (secs > 9.2e9) {
        PyErr_SetString(PyExc_OverflowError, "timeout doesn't fit into C timeval");
        return -1;
    }
    /* round up: a tiny positive timeout must not become "non-blocking" */
    double ns = ceil(secs * 1e9);
    *out = (int64_t)ns;
    return 0;
}

static PyObject *
wps_timeout_to_object(int64_t t)
{
    if (t < 0) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble((double)t / 1e9);
}

/* Waits with poll() (poll_oneoff) until fd is readable (or writable) or the
 * deadline passes: 1 ready, 0 timed out, -1 error (errno). */
static int
wps_wait(int fd, int writing, int64_t deadline)
{
    struct pollfd p;
    for (;;) {
        int64_t left = deadline - wps_now();
        if (left < 0) {
            left = 0;
        }
        int64_t ms64 = (left + 999999) / 1000000;
        int ms = ms64 > INT_MAX ? INT_MAX : (int)ms64;
        p.fd = fd;
        p.events = writing ? POLLOUT : POLLIN;
        p.revents = 0;
        int r;
        Py_BEGIN_ALLOW_THREADS
        r = poll(&p, 1, ms);
        Py_END_ALLOW_THREADS
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r > 0) {
            return 1;
        }
        if (wps_now() >= deadline) {
            return 0;
        }
    }
}

/* ---- helpers --------------------------------------------------------------- */

static int
wps_check_fd(wps_sock *s)
{
    if (s->fd < 0) {
        errno = EBADF;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

/* Lengths cross the ABI as u32. On wasm32 Py_ssize_t is 32-bit, so a
 * non-negative length always fits. */
static int
wps_check_len(Py_ssize_t len, const char *what)
{
    if (len < 0) {
        PyErr_Format(PyExc_ValueError, "negative buffersize in %s", what);
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

static int
wps_set_blocking(int fd, int block)
{
    /* sockets carry no other fdflags, so F_SETFL needs no F_GETFL first */
    return fcntl(fd, F_SETFL, block ? 0 : O_NONBLOCK);
}

static int
wps_abi_type(int pytype)
{
    switch (pytype) {
    case PY_SOCK_STREAM: return WPS_SOCK_STREAM;
    case PY_SOCK_DGRAM: return WPS_SOCK_DGRAM;
    default: return -1;
    }
}

static int
wps_py_type(int abitype)
{
    return abitype == WPS_SOCK_DGRAM ? PY_SOCK_DGRAM : PY_SOCK_STREAM;
}

/* Python-level MSG_* -> ABI flags; -1 (with an exception) for unknown bits. */
static int32_t
wps_msg_flags(int flags, int sending)
{
    int32_t out = 0;
    if (flags & PY_MSG_PEEK) {
        out |= WPS_MSG_PEEK;
    }
    if (flags & PY_MSG_WAITALL) {
        out |= WPS_MSG_WAITALL;
    }
    if (flags & PY_MSG_DONTWAIT) {
        out |= WPS_MSG_DONTWAIT;
    }
    int rest = flags & ~(PY_MSG_PEEK | PY_MSG_WAITALL | PY_MSG_DONTWAIT | PY_MSG_NOSIGNAL);
    if (rest != 0 || (sending && (out & (WPS_MSG_PEEK | WPS_MSG_WAITALL)))) {
        errno = EINVAL;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return out;
}

/* A hostname argument: str (IDNA-encoded if not ASCII), bytes or bytearray.
 * Returns a new bytes object (NUL-free), or NULL with an exception. */
static PyObject *
wps_host_bytes(PyObject *obj)
{
    PyObject *b;
    if (PyBytes_Check(obj)) {
        b = Py_NewRef(obj);
    }
    else if (PyByteArray_Check(obj)) {
        b = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(obj),
                                      PyByteArray_GET_SIZE(obj));
    }
    else if (PyUnicode_Check(obj)) {
        if (PyUnicode_IS_ASCII(obj)) {
            b = PyUnicode_AsASCIIString(obj);
        }
        else {
            b = PyUnicode_AsEncodedString(obj, "idna", NULL);
            if (b == NULL) {
                PyErr_SetString(PyExc_TypeError, "encoding of hostname failed");
                return NULL;
            }
        }
    }
    else {
        PyErr_Format(PyExc_TypeError, "str, bytes or bytearray expected, not %s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (b == NULL) {
        return NULL;
    }
    if (strlen(PyBytes_AS_STRING(b)) != (size_t)PyBytes_GET_SIZE(b)) {
        Py_DECREF(b);
        PyErr_SetString(PyExc_TypeError, "host name must not contain null character");
        return NULL;
    }
    return b;
}

/* Formats an address for messages: "1.2.3.4:80" or "[::1]:80" (port 0 and
 * with_port == 0: just the host). */
static void
wps_format_addr(const wps_sockaddr *sa, int with_port, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN + 1] = "?";
    if (sa->family == WPS_AF_INET) {
        inet_ntop(AF_INET, sa->addr, host, sizeof(host));
        if (with_port) {
            snprintf(out, cap, "%s:%u", host, (unsigned)sa->port);
        }
        else {
            snprintf(out, cap, "%s", host);
        }
    }
    else {
        inet_ntop(AF_INET6, sa->addr, host, sizeof(host));
        if (with_port) {
            snprintf(out, cap, "[%s]:%u", host, (unsigned)sa->port);
        }
        else {
            snprintf(out, cap, "%s", host);
        }
    }
}

/* PermissionError for a denied connect/bind/sendto of `sa`. */
static PyObject *
wps_denied_addr(const char *verb, const wps_sockaddr *sa)
{
    char addr[80], what[120];
    wps_format_addr(sa, 1, addr, sizeof(addr));
    snprintf(what, sizeof(what), "%s %s", verb, addr);
    if (sa->port == 0) {
        wps_format_addr(sa, 0, addr, sizeof(addr));
    }
    return wps_denied(what, addr);
}

/* ---- resolver ----------------------------------------------------------------- */

/* Calls the host resolver; returns a PyMem_Malloc'ed array of *count entries
 * (free with PyMem_Free) or NULL with an exception set. `name` is used in
 * messages. canon/canon_len may be NULL. */
static wps_addrinfo *
wps_resolve(const char *node, const char *service, const wps_hints *hints,
            uint32_t *count, char *canon, uint32_t canon_cap, uint32_t *canon_len)
{
    uint32_t cap = 8;
    for (int attempt = 0; attempt < 4; attempt++) {
        wps_addrinfo *res = PyMem_Malloc(sizeof(wps_addrinfo) * cap);
        if (res == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        uint32_t n = 0, clen = 0;
        int32_t status;
        Py_BEGIN_ALLOW_THREADS
        status = __wps_getaddrinfo(node, node ? (uint32_t)strlen(node) : 0,
                                   service, service ? (uint32_t)strlen(service) : 0,
                                   hints, res, cap, &n, canon,
                                   canon ? canon_cap : 0, &clen);
        Py_END_ALLOW_THREADS
        if (status != WPS_EAI_OK) {
            PyMem_Free(res);
            wps_gai_error(status, node);
            return NULL;
        }
        if (n <= cap) {
            *count = n;
            if (canon_len != NULL) {
                *canon_len = clen > canon_cap ? canon_cap : clen;
            }
            return res;
        }
        PyMem_Free(res);
        cap = n;
    }
    PyErr_SetString(PyExc_OSError, "getaddrinfo: result keeps growing");
    return NULL;
}

/* Turns a host name into an address of family `af` (ABI value, or UNSPEC)
 * like CPython's setipaddr(): "" is the wildcard address, "<broadcast>" the
 * IPv4 broadcast address, numeric addresses need no lookup, anything else is
 * resolved through the host. Fills family and addr (and scope_id). */
static int
wps_setipaddr(const char *name, int af, wps_sockaddr *sa)
{
    memset(sa->addr, 0, sizeof(sa->addr));
    if (name[0] == '\0') {
        sa->family = af == WPS_AF_INET6 ? WPS_AF_INET6 : WPS_AF_INET;
        return 0;
    }
    if (strcmp(name, "255.255.255.255") == 0 || strcmp(name, "<broadcast>") == 0) {
        if (af != WPS_AF_INET && af != WPS_AF_UNSPEC) {
            PyErr_SetString(PyExc_OSError, "address family mismatched");
            return -1;
        }
        sa->family = WPS_AF_INET;
        memset(sa->addr, 0xff, 4);
        return 0;
    }
    if ((af == WPS_AF_UNSPEC || af == WPS_AF_INET) && inet_pton(AF_INET, name, sa->addr) == 1) {
        sa->family = WPS_AF_INET;
        return 0;
    }
    if ((af == WPS_AF_UNSPEC || af == WPS_AF_INET6) && strchr(name, '%') == NULL
        && inet_pton(AF_INET6, name, sa->addr) == 1) {
        sa->family = WPS_AF_INET6;
        return 0;
    }
    wps_hints hints;
    memset(&hints, 0, sizeof(hints));
    hints.family = (uint16_t)af;
    hints.socktype = WPS_SOCK_DGRAM; /* one entry per address */
    uint32_t n = 0;
    wps_addrinfo *res = wps_resolve(name, NULL, &hints, &n, NULL, 0, NULL);
    if (res == NULL) {
        return -1;
    }
    if (n == 0) {
        PyMem_Free(res);
        wps_gai_error(WPS_EAI_NONAME, name);
        return -1;
    }
    sa->family = res[0].addr.family;
    memcpy(sa->addr, res[0].addr.addr, sizeof(sa->addr));
    if (sa->family == WPS_AF_INET6 && sa->scope_id == 0) {
        sa->scope_id = res[0].addr.scope_id;
    }
    PyMem_Free(res);
    return 0;
}

/* Python address tuple -> wps_sockaddr for a socket of Python family `family`. */
static int
wps_getsockaddrarg(int family, PyObject *args, wps_sockaddr *sa, const char *caller)
{
    memset(sa, 0, sizeof(*sa));
    if (family != PY_AF_INET && family != PY_AF_INET6) {
        errno = EAFNOSUPPORT;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (!PyTuple_Check(args)) {
        PyErr_Format(PyExc_TypeError, "%s(): %s address must be tuple, not %.500s",
                     caller, family == PY_AF_INET ? "AF_INET" : "AF_INET6",
                     Py_TYPE(args)->tp_name);
        return -1;
    }
    PyObject *hostobj;
    int port;
    unsigned int flowinfo = 0, scope_id = 0;
    if (family == PY_AF_INET) {
        if (!PyArg_ParseTuple(args, "Oi;AF_INET address must be a pair (host, port)",
                              &hostobj, &port)) {
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Format(PyExc_OverflowError, "%s(): port must be 0-65535.", caller);
            }
            return -1;
        }
    }
    else {
        if (!PyArg_ParseTuple(args, "Oi|II;AF_INET6 address must be a tuple "
                              "(host, port[, flowinfo[, scopeid]])",
                              &hostobj, &port, &flowinfo, &scope_id)) {
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Format(PyExc_OverflowError, "%s(): port must be 0-65535.", caller);
            }
            return -1;
        }
        if (flowinfo > 0xfffff) {
            PyErr_Format(PyExc_OverflowError, "%s(): flowinfo must be 0-1048575.", caller);
            return -1;
        }
    }
    if (port < 0 || port > 0xffff) {
        PyErr_Format(PyExc_OverflowError, "%s(): port must be 0-65535.", caller);
        return -1;
    }
    PyObject *host = wps_host_bytes(hostobj);
    if (host == NULL) {
        return -1;
    }
    sa->flowinfo = flowinfo;
    sa->scope_id = scope_id;
    int r = wps_setipaddr(PyBytes_AS_STRING(host),
                          family == PY_AF_INET ? WPS_AF_INET : WPS_AF_INET6, sa);
    Py_DECREF(host);
    if (r < 0) {
        return -1;
    }
    sa->port = (uint16_t)port;
    return 0;
}

/* wps_sockaddr -> Python address (None for an empty one). */
static PyObject *
wps_makesockaddr(const wps_sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN + 1];
    switch (sa->family) {
    case WPS_AF_INET:
        if (inet_ntop(AF_INET, sa->addr, host, sizeof(host)) == NULL) {
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        return Py_BuildValue("si", host, (int)sa->port);
    case WPS_AF_INET6:
        if (inet_ntop(AF_INET6, sa->addr, host, sizeof(host)) == NULL) {
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        return Py_BuildValue("siII", host, (int)sa->port, (unsigned)sa->flowinfo,
                             (unsigned)sa->scope_id);
    case WPS_AF_UNIX:
        return PyUnicode_FromString("");
    default:
        Py_RETURN_NONE;
    }
}

/* ---- the socket type ------------------------------------------------------------ */

/* An operation attempted by wps_sock_call: returns an ABI errno. */
typedef int32_t (*wps_op)(wps_sock *s, void *data);

/* Runs `op` honouring the socket's timeout like CPython's sock_call(): a
 * blocking socket blocks in the host; a non-blocking one raises
 * BlockingIOError; with a timeout the host socket is non-blocking and EAGAIN
 * waits with poll() until `deadline`. 0 on success, -1 with an exception. */
static int
wps_sock_call(wps_sock *s, int writing, wps_op op, void *data, int64_t deadline)
{
    for (;;) {
        int32_t err;
        Py_BEGIN_ALLOW_THREADS
        err = op(s, data);
        Py_END_ALLOW_THREADS
        if (err == 0) {
            return 0;
        }
        if (err == EINTR) {
            if (PyErr_CheckSignals() < 0) {
                return -1;
            }
            continue;
        }
        if (s->timeout > 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
            int r = wps_wait(s->fd, writing, deadline);
            if (r < 0) {
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
            }
            if (r == 0) {
                wps_timeout_error();
                return -1;
            }
            continue;
        }
        wps_error(err);
        return -1;
    }
}

static int64_t
wps_deadline(wps_sock *s)
{
    return s->timeout > 0 ? wps_now() + s->timeout : 0;
}

static PyObject *
wps_sock_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    wps_sock *s = (wps_sock *)type->tp_alloc(type, 0);
    if (s != NULL) {
        s->fd = -1;
        s->family = PY_AF_INET;
        s->type = PY_SOCK_STREAM;
        s->proto = 0;
        s->timeout = -1;
    }
    return (PyObject *)s;
}

/* Initialises the timeout of a fresh socket object as CPython does. */
static int
wps_init_timeout(wps_sock *s, int nonblock_requested, int host_nonblock)
{
    if (nonblock_requested) {
        s->timeout = 0;
    }
    else {
        s->timeout = wps_default_timeout;
    }
    int want_nonblock = s->timeout >= 0;
    if (want_nonblock != host_nonblock && host_nonblock >= 0) {
        if (wps_set_blocking(s->fd, !want_nonblock) < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
    }
    return 0;
}

static int
wps_sock_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    wps_sock *s = (wps_sock *)self;
    static char *kwlist[] = {"family", "type", "proto", "fileno", NULL};
    int family = -1, type = -1, proto = -1;
    PyObject *fdobj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|iiiO:socket", kwlist,
                                     &family, &type, &proto, &fdobj)) {
        return -1;
    }
    if (fdobj != NULL && fdobj != Py_None) {
        if (PyFloat_Check(fdobj)) {
            PyErr_SetString(PyExc_TypeError, "fileno must be an integer");
            return -1;
        }
        int fd = PyLong_AsInt(fdobj);
        if (fd == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (fd < 0) {
            PyErr_SetString(PyExc_ValueError, "negative file descriptor");
            return -1;
        }
        /* ask the host what it is (also checks that it is a socket) */
        int32_t value = 0;
        uint32_t len = sizeof(value);
        int32_t err = __wps_sock_getsockopt(fd, WPS_SOL_SOCKET, WPS_SO_TYPE, &value, &len);
        if (err != 0) {
            wps_error(err);
            return -1;
        }
        int host_type = wps_py_type(value);
        if (family == -1) {
            len = sizeof(value);
            err = __wps_sock_getsockopt(fd, WPS_SOL_SOCKET, WPS_SO_DOMAIN, &value, &len);
            if (err != 0) {
                wps_error(err);
                return -1;
            }
            family = value; /* ABI and Python AF_* values coincide */
        }
        if (type == -1) {
            type = host_type;
        }
        if (proto == -1) {
            proto = 0;
        }
        int host_nonblock = -1;
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) {
            host_nonblock = (fl & O_NONBLOCK) != 0;
        }
        s->fd = fd;
        s->family = family;
        s->type = type & ~(PY_SOCK_NONBLOCK | PY_SOCK_CLOEXEC);
        s->proto = proto;
        /* like CPython: an fd adopted with the default timeout None keeps
         * its blocking mode as it is */
        if (type & PY_SOCK_NONBLOCK) {
            return wps_init_timeout(s, 1, host_nonblock);
        }
        s->timeout = wps_default_timeout;
        if (wps_default_timeout >= 0 && host_nonblock != 1) {
            if (wps_set_blocking(fd, 0) < 0) {
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
            }
        }
        return 0;
    }
    if (family == -1) {
        family = PY_AF_INET;
    }
    if (type == -1) {
        type = PY_SOCK_STREAM;
    }
    if (proto == -1) {
        proto = 0;
    }
    int base_type = type & ~(PY_SOCK_NONBLOCK | PY_SOCK_CLOEXEC);
    int abi_type = wps_abi_type(base_type);
    if (family != PY_AF_INET && family != PY_AF_INET6) {
        /* AF_UNIX sockets only come from socketpair() */
        errno = EAFNOSUPPORT;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (abi_type < 0) {
        errno = EPROTOTYPE;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    int nonblock_requested = (type & PY_SOCK_NONBLOCK) != 0;
    int host_nonblock = nonblock_requested || wps_default_timeout >= 0;
    int32_t fd = -1;
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_open(family, abi_type, proto,
                          host_nonblock ? WPS_SOCK_NONBLOCK : 0, &fd);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        wps_error(err);
        return -1;
    }
    s->fd = fd;
    s->family = family;
    s->type = base_type;
    s->proto = proto;
    return wps_init_timeout(s, nonblock_requested, host_nonblock);
}

static void
wps_sock_finalize(PyObject *self)
{
    wps_sock *s = (wps_sock *)self;
    if (s->fd == -1) {
        return;
    }
    PyObject *exc = PyErr_GetRaisedException();
    if (PyErr_ResourceWarning(self, 1, "unclosed %R", self)) {
        if (PyErr_ExceptionMatches(PyExc_Warning)) {
            PyErr_WriteUnraisable(self);
        }
        PyErr_Clear();
    }
    int fd = s->fd;
    s->fd = -1;
    (void)close(fd);
    PyErr_SetRaisedException(exc);
}

static void
wps_sock_dealloc(PyObject *self)
{
    if (PyObject_CallFinalizerFromDealloc(self) < 0) {
        return;
    }
    Py_TYPE(self)->tp_free(self);
}

static PyObject *
wps_sock_repr(PyObject *self)
{
    wps_sock *s = (wps_sock *)self;
    return PyUnicode_FromFormat("<socket object, fd=%d, family=%d, type=%d, proto=%d>",
                                s->fd, s->family, s->type, s->proto);
}

/* -- accept -- */

typedef struct {
    int32_t fd;
    wps_sockaddr addr;
} wps_accept_io;

static int32_t
wps_op_accept(wps_sock *s, void *data)
{
    wps_accept_io *io = data;
    return __wps_sock_accept4(s->fd, 0, &io->fd, &io->addr);
}

static PyObject *
wps_sock_accept(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    wps_sock *s = (wps_sock *)self;
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    wps_accept_io io;
    memset(&io, 0, sizeof(io));
    io.fd = -1;
    if (wps_sock_call(s, 0, wps_op_accept, &io, wps_deadline(s)) < 0) {
        return NULL;
    }
    PyObject *addr = wps_makesockaddr(&io.addr);
    if (addr == NULL) {
        close(io.fd);
        return NULL;
    }
    return Py_BuildValue("(iN)", (int)io.fd, addr);
}

/* -- bind / listen -- */

static PyObject *
wps_sock_bind(PyObject *self, PyObject *addro)
{
    wps_sock *s = (wps_sock *)self;
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    wps_sockaddr sa;
    if (wps_getsockaddrarg(s->family, addro, &sa, "bind") < 0) {
        return NULL;
    }
    if (PySys_Audit("socket.bind", "OO", self, addro) < 0) {
        return NULL;
    }
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_bind(s->fd, &sa, sizeof(sa));
    Py_END_ALLOW_THREADS
    if (err == WPS_NOTCAPABLE) {
        return wps_denied_addr("binding to", &sa);
    }
    if (err != 0) {
        return wps_error(err);
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_listen(PyObject *self, PyObject *args)
{
    wps_sock *s = (wps_sock *)self;
    int backlog = PY_DEFAULT_BACKLOG;
    if (!PyArg_ParseTuple(args, "|i:listen", &backlog)) {
        return NULL;
    }
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    if (backlog < 0) {
        backlog = 0;
    }
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_listen(s->fd, backlog);
    Py_END_ALLOW_THREADS
    if (err == WPS_NOTCAPABLE) {
        return wps_denied("listening on an unbound socket (the wildcard address)",
                          s->family == PY_AF_INET6 ? "[::]" : "0.0.0.0");
    }
    if (err != 0) {
        return wps_error(err);
    }
    Py_RETURN_NONE;
}

/* -- connect -- */

static int32_t
wps_so_error(int fd)
{
    int32_t value = 0;
    uint32_t len = sizeof(value);
    int32_t err = __wps_sock_getsockopt(fd, WPS_SOL_SOCKET, WPS_SO_ERROR, &value, &len);
    return err != 0 ? err : value;
}

/* Connects; returns 0 or an ABI errno in *res (raise == 0) or raises.
 * Returns -1 only with a Python exception set. */
static int
wps_connect(wps_sock *s, const wps_sockaddr *sa, int raise, int32_t *res)
{
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_connect(s->fd, sa, sizeof(*sa));
    Py_END_ALLOW_THREADS
    if (err == WPS_NOTCAPABLE) {
        wps_denied_addr("connecting to", sa);
        return -1;
    }
    if (err == EINTR) {
        /* the connection goes on in the background; wait for it */
        if (PyErr_CheckSignals() < 0) {
            return -1;
        }
        int r = wps_wait(s->fd, 1, s->timeout > 0 ? wps_now() + s->timeout : INT64_MAX);
        err = r < 0 ? errno : (r == 0 ? EWOULDBLOCK : wps_so_error(s->fd));
    }
    else if (err == EINPROGRESS && s->timeout > 0) {
        int r = wps_wait(s->fd, 1, wps_now() + s->timeout);
        if (r < 0) {
            err = errno;
        }
        else if (r == 0) {
            if (raise) {
                wps_timeout_error();
                return -1;
            }
            err = EWOULDBLOCK;
        }
        else {
            err = wps_so_error(s->fd);
        }
    }
    if (err != 0 && raise) {
        wps_error(err);
        return -1;
    }
    *res = err;
    return 0;
}

static PyObject *
wps_sock_connect(PyObject *self, PyObject *addro)
{
    wps_sock *s = (wps_sock *)self;
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    wps_sockaddr sa;
    if (wps_getsockaddrarg(s->family, addro, &sa, "connect") < 0) {
        return NULL;
    }
    if (PySys_Audit("socket.connect", "OO", self, addro) < 0) {
        return NULL;
    }
    int32_t res = 0;
    if (wps_connect(s, &sa, 1, &res) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_connect_ex(PyObject *self, PyObject *addro)
{
    wps_sock *s = (wps_sock *)self;
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    wps_sockaddr sa;
    if (wps_getsockaddrarg(s->family, addro, &sa, "connect_ex") < 0) {
        return NULL;
    }
    if (PySys_Audit("socket.connect", "OO", self, addro) < 0) {
        return NULL;
    }
    int32_t res = 0;
    if (wps_connect(s, &sa, 0, &res) < 0) {
        return NULL;
    }
    return PyLong_FromLong(res);
}

/* -- close / detach / fileno -- */

static PyObject *
wps_sock_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    wps_sock *s = (wps_sock *)self;
    int fd = s->fd;
    if (fd != -1) {
        s->fd = -1;
        int r;
        Py_BEGIN_ALLOW_THREADS
        r = close(fd);
        Py_END_ALLOW_THREADS
        if (r < 0 && errno != ECONNRESET) {
            return PyErr_SetFromErrno(PyExc_OSError);
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_detach(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    wps_sock *s = (wps_sock *)self;
    int fd = s->fd;
    s->fd = -1;
    return PyLong_FromLong(fd);
}

static PyObject *
wps_sock_fileno(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(((wps_sock *)self)->fd);
}

/* -- names -- */

static PyObject *
wps_sock_name(wps_sock *s, int peer)
{
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    if (s->family == PY_AF_UNIX) {
        /* socketpair ends (and preopened Unix sockets) have no usable name */
        return PyUnicode_FromString("");
    }
    wps_sockaddr sa;
    memset(&sa, 0, sizeof(sa));
    int32_t err = peer ? __wps_sock_getpeername(s->fd, &sa)
                       : __wps_sock_getsockname(s->fd, &sa);
    if (err != 0) {
        return wps_error(err);
    }
    return wps_makesockaddr(&sa);
}

static PyObject *
wps_sock_getsockname(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return wps_sock_name((wps_sock *)self, 0);
}

static PyObject *
wps_sock_getpeername(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return wps_sock_name((wps_sock *)self, 1);
}

/* -- timeouts and blocking -- */

static PyObject *
wps_sock_settimeout(PyObject *self, PyObject *arg)
{
    wps_sock *s = (wps_sock *)self;
    int64_t t;
    if (wps_timeout_from_object(arg, &t) < 0) {
        return NULL;
    }
    s->timeout = t;
    if (s->fd != -1 && wps_set_blocking(s->fd, t < 0) < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_gettimeout(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return wps_timeout_to_object(((wps_sock *)self)->timeout);
}

static PyObject *
wps_sock_setblocking(PyObject *self, PyObject *arg)
{
    wps_sock *s = (wps_sock *)self;
    int block = PyObject_IsTrue(arg);
    if (block < 0) {
        return NULL;
    }
    s->timeout = block ? -1 : 0;
    if (s->fd != -1 && wps_set_blocking(s->fd, block) < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_getblocking(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    wps_sock *s = (wps_sock *)self;
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    return PyBool_FromLong(s->timeout != 0);
}

/* -- recv family -- */

typedef struct {
    void *buf;
    uint32_t len;
    int32_t flags;
    uint32_t result;
    const wps_sockaddr *to;
    wps_sockaddr from;
} wps_io;

static int32_t
wps_op_recv(wps_sock *s, void *data)
{
    wps_io *io = data;
    return __wps_sock_recv(s->fd, io->buf, io->len, io->flags, &io->result);
}

static int32_t
wps_op_recvfrom(wps_sock *s, void *data)
{
    wps_io *io = data;
    memset(&io->from, 0, sizeof(io->from));
    return __wps_sock_recvfrom(s->fd, io->buf, io->len, io->flags, &io->from, &io->result);
}

static int32_t
wps_op_send(wps_sock *s, void *data)
{
    wps_io *io = data;
    return __wps_sock_send(s->fd, io->buf, io->len, io->flags, &io->result);
}

static int32_t
wps_op_sendto(wps_sock *s, void *data)
{
    wps_io *io = data;
    return __wps_sock_sendto(s->fd, io->buf, io->len, io->flags, io->to,
                             sizeof(wps_sockaddr), &io->result);
}

/* Receives into buf (len bytes); returns bytes received or -1. */
static Py_ssize_t
wps_recv_into_buf(wps_sock *s, void *buf, Py_ssize_t len, int flags, wps_sockaddr *from)
{
    if (wps_check_fd(s) < 0 || wps_check_len(len, "recv") < 0) {
        return -1;
    }
    int32_t aflags = wps_msg_flags(flags, 0);
    if (aflags < 0) {
        return -1;
    }
    wps_io io;
    memset(&io, 0, sizeof(io));
    io.buf = buf;
    io.len = (uint32_t)len;
    io.flags = aflags;
    if (wps_sock_call(s, 0, from ? wps_op_recvfrom : wps_op_recv, &io, wps_deadline(s)) < 0) {
        return -1;
    }
    if (io.result > (uint32_t)len) {
        errno = EIO;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (from != NULL) {
        *from = io.from;
    }
    return (Py_ssize_t)io.result;
}

static PyObject *
wps_sock_recv_common(wps_sock *s, PyObject *args, int want_addr)
{
    Py_ssize_t bufsize;
    int flags = 0;
    if (!PyArg_ParseTuple(args, want_addr ? "n|i:recvfrom" : "n|i:recv", &bufsize, &flags)) {
        return NULL;
    }
    if (bufsize < 0) {
        PyErr_SetString(PyExc_ValueError, want_addr ? "negative buffersize in recvfrom"
                                                    : "negative buffersize in recv");
        return NULL;
    }
    PyObject *buf = PyBytes_FromStringAndSize(NULL, bufsize);
    if (buf == NULL) {
        return NULL;
    }
    wps_sockaddr from;
    Py_ssize_t n = wps_recv_into_buf(s, PyBytes_AS_STRING(buf), bufsize, flags,
                                     want_addr ? &from : NULL);
    if (n < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    if (n != bufsize && _PyBytes_Resize(&buf, n) < 0) {
        return NULL;
    }
    if (!want_addr) {
        return buf;
    }
    PyObject *addr = wps_makesockaddr(&from);
    if (addr == NULL) {
        Py_DECREF(buf);
        return NULL;
    }
    return Py_BuildValue("(NN)", buf, addr);
}

static PyObject *
wps_sock_recv(PyObject *self, PyObject *args)
{
    return wps_sock_recv_common((wps_sock *)self, args, 0);
}

static PyObject *
wps_sock_recvfrom(PyObject *self, PyObject *args)
{
    return wps_sock_recv_common((wps_sock *)self, args, 1);
}

static PyObject *
wps_sock_recv_into_common(wps_sock *s, PyObject *args, PyObject *kwds, int want_addr)
{
    static char *kwlist[] = {"buffer", "nbytes", "flags", NULL};
    Py_buffer pbuf;
    Py_ssize_t nbytes = 0;
    int flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds,
                                     want_addr ? "w*|ni:recvfrom_into" : "w*|ni:recv_into",
                                     kwlist, &pbuf, &nbytes, &flags)) {
        return NULL;
    }
    if (nbytes < 0) {
        PyBuffer_Release(&pbuf);
        PyErr_SetString(PyExc_ValueError, want_addr ? "negative buffersize in recvfrom_into"
                                                    : "negative buffersize in recv_into");
        return NULL;
    }
    if (nbytes == 0) {
        nbytes = pbuf.len;
    }
    else if (nbytes > pbuf.len) {
        PyBuffer_Release(&pbuf);
        PyErr_SetString(PyExc_ValueError, want_addr ? "nbytes is greater than the length of the buffer"
                                                    : "buffer too small for requested bytes");
        return NULL;
    }
    wps_sockaddr from;
    Py_ssize_t n = wps_recv_into_buf(s, pbuf.buf, nbytes, flags, want_addr ? &from : NULL);
    PyBuffer_Release(&pbuf);
    if (n < 0) {
        return NULL;
    }
    if (!want_addr) {
        return PyLong_FromSsize_t(n);
    }
    PyObject *addr = wps_makesockaddr(&from);
    if (addr == NULL) {
        return NULL;
    }
    return Py_BuildValue("(nN)", n, addr);
}

static PyObject *
wps_sock_recv_into(PyObject *self, PyObject *args, PyObject *kwds)
{
    return wps_sock_recv_into_common((wps_sock *)self, args, kwds, 0);
}

static PyObject *
wps_sock_recvfrom_into(PyObject *self, PyObject *args, PyObject *kwds)
{
    return wps_sock_recv_into_common((wps_sock *)self, args, kwds, 1);
}

/* -- send family -- */

static PyObject *
wps_sock_send(PyObject *self, PyObject *args)
{
    wps_sock *s = (wps_sock *)self;
    Py_buffer data;
    int flags = 0;
    if (!PyArg_ParseTuple(args, "y*|i:send", &data, &flags)) {
        return NULL;
    }
    if (wps_check_fd(s) < 0 || wps_check_len(data.len, "send") < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    int32_t aflags = wps_msg_flags(flags, 1);
    if (aflags < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    wps_io io;
    memset(&io, 0, sizeof(io));
    io.buf = data.buf;
    io.len = (uint32_t)data.len;
    io.flags = aflags;
    int r = wps_sock_call(s, 1, wps_op_send, &io, wps_deadline(s));
    PyBuffer_Release(&data);
    if (r < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLong(io.result);
}

static PyObject *
wps_sock_sendall(PyObject *self, PyObject *args)
{
    wps_sock *s = (wps_sock *)self;
    Py_buffer data;
    int flags = 0;
    if (!PyArg_ParseTuple(args, "y*|i:sendall", &data, &flags)) {
        return NULL;
    }
    if (wps_check_fd(s) < 0 || wps_check_len(data.len, "sendall") < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    int32_t aflags = wps_msg_flags(flags, 1);
    if (aflags < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    /* the timeout bounds the whole call, as in CPython >= 3.5 */
    int64_t deadline = wps_deadline(s);
    const char *p = data.buf;
    Py_ssize_t left = data.len;
    while (left > 0) {
        wps_io io;
        memset(&io, 0, sizeof(io));
        io.buf = (void *)p;
        io.len = (uint32_t)left;
        io.flags = aflags;
        if (wps_sock_call(s, 1, wps_op_send, &io, deadline) < 0) {
            PyBuffer_Release(&data);
            return NULL;
        }
        if (io.result > (uint32_t)left) {
            io.result = (uint32_t)left;
        }
        p += io.result;
        left -= io.result;
        if (PyErr_CheckSignals() < 0) {
            PyBuffer_Release(&data);
            return NULL;
        }
    }
    PyBuffer_Release(&data);
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_sendto(PyObject *self, PyObject *args)
{
    wps_sock *s = (wps_sock *)self;
    Py_buffer data;
    int flags = 0;
    PyObject *addro;
    Py_ssize_t n = PyTuple_Size(args);
    if (n == 2) {
        if (!PyArg_ParseTuple(args, "y*O:sendto", &data, &addro)) {
            return NULL;
        }
    }
    else if (n == 3) {
        if (!PyArg_ParseTuple(args, "y*iO:sendto", &data, &flags, &addro)) {
            return NULL;
        }
    }
    else {
        PyErr_Format(PyExc_TypeError, "sendto() takes 2 or 3 arguments (%zd given)", n);
        return NULL;
    }
    if (wps_check_fd(s) < 0 || wps_check_len(data.len, "sendto") < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    int32_t aflags = wps_msg_flags(flags, 1);
    wps_sockaddr sa;
    if (aflags < 0 || wps_getsockaddrarg(s->family, addro, &sa, "sendto") < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (PySys_Audit("socket.sendto", "OO", self, addro) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    wps_io io;
    memset(&io, 0, sizeof(io));
    io.buf = data.buf;
    io.len = (uint32_t)data.len;
    io.flags = aflags;
    io.to = &sa;
    int32_t err;
    /* first attempt outside wps_sock_call to tell a denial apart */
    Py_BEGIN_ALLOW_THREADS
    err = wps_op_sendto(s, &io);
    Py_END_ALLOW_THREADS
    if (err == WPS_NOTCAPABLE) {
        PyBuffer_Release(&data);
        return wps_denied_addr("sending to", &sa);
    }
    int r = 0;
    if (err != 0) {
        r = wps_sock_call(s, 1, wps_op_sendto, &io, wps_deadline(s));
    }
    PyBuffer_Release(&data);
    if (r < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLong(io.result);
}

/* -- shutdown -- */

static PyObject *
wps_sock_shutdown(PyObject *self, PyObject *arg)
{
    wps_sock *s = (wps_sock *)self;
    int how = PyLong_AsInt(arg);
    if (how == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    /* SHUT_RD 1, SHUT_WR 2, SHUT_RDWR 3 on both sides; anything else is EINVAL */
    int32_t err;
    Py_BEGIN_ALLOW_THREADS
    err = __wps_sock_shutdown(s->fd, how);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        return wps_error(err);
    }
    Py_RETURN_NONE;
}

/* -- options -- */

enum { WPS_OPT_INT, WPS_OPT_LINGER, WPS_OPT_TIMEVAL };

/* Python (level, name) -> ABI (level, name, kind); -1 for an unknown option. */
static int
wps_map_option(int level, int name, int32_t *alevel, int32_t *aname, int *kind)
{
    *kind = WPS_OPT_INT;
    if (level == PY_SOL_SOCKET) {
        *alevel = WPS_SOL_SOCKET;
        switch (name) {
        case PY_SO_REUSEADDR: *aname = WPS_SO_REUSEADDR; return 0;
        case PY_SO_ERROR: *aname = WPS_SO_ERROR; return 0;
        case PY_SO_TYPE: *aname = WPS_SO_TYPE; return 0;
        case PY_SO_KEEPALIVE: *aname = WPS_SO_KEEPALIVE; return 0;
        case PY_SO_BROADCAST: *aname = WPS_SO_BROADCAST; return 0;
        case PY_SO_SNDBUF: *aname = WPS_SO_SNDBUF; return 0;
        case PY_SO_RCVBUF: *aname = WPS_SO_RCVBUF; return 0;
        case PY_SO_LINGER: *aname = WPS_SO_LINGER; *kind = WPS_OPT_LINGER; return 0;
        case PY_SO_RCVTIMEO: *aname = WPS_SO_RCVTIMEO; *kind = WPS_OPT_TIMEVAL; return 0;
        case PY_SO_SNDTIMEO: *aname = WPS_SO_SNDTIMEO; *kind = WPS_OPT_TIMEVAL; return 0;
        case PY_SO_ACCEPTCONN: *aname = WPS_SO_ACCEPTCONN; return 0;
        case PY_SO_REUSEPORT: *aname = WPS_SO_REUSEPORT; return 0;
        case PY_SO_DOMAIN: *aname = WPS_SO_DOMAIN; return 0;
        default: return -1;
        }
    }
    if (level == PY_IPPROTO_TCP) {
        *alevel = WPS_SOL_TCP;
        switch (name) {
        case PY_TCP_NODELAY: *aname = WPS_TCP_NODELAY; return 0;
        case PY_TCP_KEEPIDLE: *aname = WPS_TCP_KEEPIDLE; return 0;
        case PY_TCP_KEEPINTVL: *aname = WPS_TCP_KEEPINTVL; return 0;
        case PY_TCP_KEEPCNT: *aname = WPS_TCP_KEEPCNT; return 0;
        default: return -1;
        }
    }
    if (level == PY_IPPROTO_IP) {
        *alevel = WPS_SOL_IP;
        if (name == PY_IP_TTL) {
            *aname = WPS_IP_TTL;
            return 0;
        }
        return -1;
    }
    if (level == PY_IPPROTO_IPV6) {
        *alevel = WPS_SOL_IPV6;
        if (name == PY_IPV6_V6ONLY) {
            *aname = WPS_IPV6_V6ONLY;
            return 0;
        }
        return -1;
    }
    return -1;
}

static PyObject *
wps_noprotoopt(void)
{
    errno = ENOPROTOOPT;
    return PyErr_SetFromErrno(PyExc_OSError);
}

static PyObject *
wps_sock_setsockopt(PyObject *self, PyObject *args)
{
    wps_sock *s = (wps_sock *)self;
    int level, name;
    PyObject *value;
    unsigned int optlen = 0;
    if (!PyArg_ParseTuple(args, "iiO|I:setsockopt", &level, &name, &value, &optlen)) {
        return NULL;
    }
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    int32_t alevel, aname;
    int kind;
    if (wps_map_option(level, name, &alevel, &aname, &kind) < 0) {
        return wps_noprotoopt();
    }
    unsigned char buf[16];
    uint32_t len;
    if (PyLong_Check(value)) {
        int v = PyLong_AsInt(value);
        if (v == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (kind != WPS_OPT_INT) {
            errno = EINVAL;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        int32_t v32 = v;
        memcpy(buf, &v32, 4);
        len = 4;
    }
    else if (value == Py_None) {
        /* setsockopt(level, opt, None, optlen): a NULL value */
        errno = EINVAL;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    else {
        Py_buffer b;
        if (PyObject_GetBuffer(value, &b, PyBUF_SIMPLE) < 0) {
            return NULL;
        }
        if (kind == WPS_OPT_TIMEVAL) {
            struct timeval tv;
            if ((size_t)b.len != sizeof(tv)) {
                PyBuffer_Release(&b);
                errno = EINVAL;
                return PyErr_SetFromErrno(PyExc_OSError);
            }
            memcpy(&tv, b.buf, sizeof(tv));
            uint64_t ns = (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
            memcpy(buf, &ns, 8);
            len = 8;
        }
        else if (b.len > (Py_ssize_t)sizeof(buf)) {
            PyBuffer_Release(&b);
            errno = EINVAL;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        else {
            memcpy(buf, b.buf, b.len);
            len = (uint32_t)b.len;
        }
        PyBuffer_Release(&b);
    }
    int32_t err = __wps_sock_setsockopt(s->fd, alevel, aname, buf, len);
    if (err != 0) {
        return wps_error(err);
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_sock_getsockopt(PyObject *self, PyObject *args)
{
    wps_sock *s = (wps_sock *)self;
    int level, name, buflen = 0;
    if (!PyArg_ParseTuple(args, "ii|i:getsockopt", &level, &name, &buflen)) {
        return NULL;
    }
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    int32_t alevel, aname;
    int kind;
    if (wps_map_option(level, name, &alevel, &aname, &kind) < 0) {
        if (level == PY_SOL_SOCKET && name == PY_SO_PROTOCOL && buflen == 0) {
            return PyLong_FromLong(s->proto);
        }
        return wps_noprotoopt();
    }
    unsigned char buf[16];
    memset(buf, 0, sizeof(buf));
    uint32_t len = kind == WPS_OPT_INT ? 4 : 8;
    int32_t err = __wps_sock_getsockopt(s->fd, alevel, aname, buf, &len);
    if (err != 0) {
        return wps_error(err);
    }
    if (kind == WPS_OPT_INT && aname == WPS_SO_TYPE && alevel == WPS_SOL_SOCKET) {
        int32_t v;
        memcpy(&v, buf, 4);
        v = wps_py_type(v);
        memcpy(buf, &v, 4);
    }
    if (buflen == 0) {
        if (kind != WPS_OPT_INT) {
            errno = EINVAL;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        int32_t v;
        memcpy(&v, buf, 4);
        return PyLong_FromLong(v);
    }
    if (buflen < 0 || buflen > 1024) {
        PyErr_SetString(PyExc_OSError, "getsockopt buflen out of range");
        return NULL;
    }
    if (kind == WPS_OPT_TIMEVAL) {
        uint64_t ns;
        memcpy(&ns, buf, 8);
        struct timeval tv;
        memset(&tv, 0, sizeof(tv));
        tv.tv_sec = (time_t)(ns / 1000000000u);
        tv.tv_usec = (suseconds_t)((ns % 1000000000u) / 1000u);
        Py_ssize_t n = buflen < (int)sizeof(tv) ? buflen : (Py_ssize_t)sizeof(tv);
        return PyBytes_FromStringAndSize((const char *)&tv, n);
    }
    Py_ssize_t n = buflen < (int)len ? buflen : (Py_ssize_t)len;
    return PyBytes_FromStringAndSize((const char *)buf, n);
}

/* -- members -- */

static PyObject *
wps_sock_get_family(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(((wps_sock *)self)->family);
}

static PyObject *
wps_sock_get_type(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(((wps_sock *)self)->type);
}

static PyObject *
wps_sock_get_proto(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(((wps_sock *)self)->proto);
}

static PyObject *
wps_sock_get_timeout(PyObject *self, void *Py_UNUSED(closure))
{
    return wps_timeout_to_object(((wps_sock *)self)->timeout);
}

static PyGetSetDef wps_sock_getset[] = {
    {"family", wps_sock_get_family, NULL, "the socket family", NULL},
    {"type", wps_sock_get_type, NULL, "the socket type", NULL},
    {"proto", wps_sock_get_proto, NULL, "the socket protocol", NULL},
    {"timeout", wps_sock_get_timeout, NULL, "the socket timeout", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyObject *
wps_sock_dup(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    wps_sock *s = (wps_sock *)self;
    if (wps_check_fd(s) < 0) {
        return NULL;
    }
    int32_t fd = -1;
    int32_t err = __wps_sock_dup(s->fd, &fd);
    if (err != 0) {
        return wps_error(err);
    }
    PyObject *args = Py_BuildValue("(iiii)", s->family, s->type, s->proto, (int)fd);
    if (args == NULL) {
        close(fd);
        return NULL;
    }
    PyObject *sock = PyObject_Call((PyObject *)&wps_sock_type, args, NULL);
    Py_DECREF(args);
    if (sock == NULL) {
        close(fd);
    }
    return sock;
}

static PyMethodDef wps_sock_methods[] = {
    {"_accept", wps_sock_accept, METH_NOARGS,
     "_accept() -> (integer, address info)\n\nWait for an incoming connection."},
    {"bind", wps_sock_bind, METH_O, "bind(address)\n\nBind the socket to a local address."},
    {"close", wps_sock_close, METH_NOARGS, "close()\n\nClose the socket."},
    {"connect", wps_sock_connect, METH_O, "connect(address)\n\nConnect the socket to a remote address."},
    {"connect_ex", wps_sock_connect_ex, METH_O,
     "connect_ex(address) -> errno\n\nLike connect(address), but return an error code instead of raising."},
    {"detach", wps_sock_detach, METH_NOARGS,
     "detach()\n\nClose the socket object without closing the file descriptor."},
    {"dup", wps_sock_dup, METH_NOARGS, "dup() -> socket object\n\nDuplicate the socket."},
    {"fileno", wps_sock_fileno, METH_NOARGS, "fileno() -> integer\n\nReturn the file descriptor."},
    {"getpeername", wps_sock_getpeername, METH_NOARGS,
     "getpeername() -> address info\n\nReturn the address of the remote endpoint."},
    {"getsockname", wps_sock_getsockname, METH_NOARGS,
     "getsockname() -> address info\n\nReturn the address of the local endpoint."},
    {"getsockopt", wps_sock_getsockopt, METH_VARARGS,
     "getsockopt(level, option[, buffersize]) -> value\n\nGet a socket option."},
    {"setsockopt", wps_sock_setsockopt, METH_VARARGS,
     "setsockopt(level, option, value: int | buffer)\n\nSet a socket option."},
    {"getblocking", wps_sock_getblocking, METH_NOARGS,
     "getblocking()\n\nReturn True if the socket is in blocking mode."},
    {"setblocking", wps_sock_setblocking, METH_O,
     "setblocking(flag)\n\nSet the socket to blocking (flag is true) or non-blocking mode."},
    {"gettimeout", wps_sock_gettimeout, METH_NOARGS,
     "gettimeout() -> timeout\n\nReturn the timeout in seconds (float) or None."},
    {"settimeout", wps_sock_settimeout, METH_O,
     "settimeout(timeout)\n\nSet a timeout on socket operations (seconds, or None)."},
    {"listen", wps_sock_listen, METH_VARARGS,
     "listen([backlog])\n\nEnable a server to accept connections."},
    {"recv", wps_sock_recv, METH_VARARGS, "recv(buffersize[, flags]) -> data"},
    {"recv_into", (PyCFunction)(void (*)(void))wps_sock_recv_into, METH_VARARGS | METH_KEYWORDS,
     "recv_into(buffer, [nbytes[, flags]]) -> nbytes_read"},
    {"recvfrom", wps_sock_recvfrom, METH_VARARGS, "recvfrom(buffersize[, flags]) -> (data, address info)"},
    {"recvfrom_into", (PyCFunction)(void (*)(void))wps_sock_recvfrom_into,
     METH_VARARGS | METH_KEYWORDS, "recvfrom_into(buffer[, nbytes[, flags]]) -> (nbytes, address info)"},
    {"send", wps_sock_send, METH_VARARGS, "send(data[, flags]) -> count"},
    {"sendall", wps_sock_sendall, METH_VARARGS, "sendall(data[, flags])\n\nSend all of data."},
    {"sendto", wps_sock_sendto, METH_VARARGS, "sendto(data[, flags], address) -> count"},
    {"shutdown", wps_sock_shutdown, METH_O, "shutdown(flag)\n\nShut down reading, writing or both."},
    {NULL, NULL, 0, NULL}
};

PyDoc_STRVAR(wps_sock_doc,
"socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None) -> socket object\n\n"
"A socket backed by a real host socket through wasmi-py's wasmi_py_socket ABI.\n"
"Compatible with the stock _socket.socket (the base class of socket.socket).");

static PyTypeObject wps_sock_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_socket.socket",
    .tp_basicsize = sizeof(wps_sock),
    .tp_dealloc = wps_sock_dealloc,
    .tp_repr = wps_sock_repr,
    .tp_getattro = PyObject_GenericGetAttr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = wps_sock_doc,
    .tp_methods = wps_sock_methods,
    .tp_getset = wps_sock_getset,
    .tp_init = wps_sock_init,
    .tp_alloc = PyType_GenericAlloc,
    .tp_new = wps_sock_new,
    .tp_free = PyObject_Free,
    .tp_finalize = wps_sock_finalize,
};

/* ---- module functions -------------------------------------------------------------- */

static PyObject *
wps_abi_version(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(WASMI_PY_SOCKET_ABI_VERSION);
}

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

static int
wps_abi_family(int pyfamily, int32_t *out)
{
    switch (pyfamily) {
    case PY_AF_UNSPEC: *out = WPS_AF_UNSPEC; return 0;
    case PY_AF_INET: *out = WPS_AF_INET; return 0;
    case PY_AF_INET6: *out = WPS_AF_INET6; return 0;
    default: return -1;
    }
}

static PyObject *
wps_getaddrinfo(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"host", "port", "family", "type", "proto", "flags", NULL};
    PyObject *hobj = NULL, *pobj = NULL;
    int family = PY_AF_UNSPEC, socktype = 0, protocol = 0, flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|iiii:getaddrinfo", kwlist,
                                     &hobj, &pobj, &family, &socktype, &protocol, &flags)) {
        return NULL;
    }
    PyObject *hbytes = NULL, *pbytes = NULL, *result = NULL;
    const char *host = NULL, *port = NULL;
    char pbuf[32];
    wps_addrinfo *res = NULL;
    if (hobj != Py_None) {
        hbytes = wps_host_bytes(hobj);
        if (hbytes == NULL) {
            return NULL;
        }
        host = PyBytes_AS_STRING(hbytes);
    }
    if (PyLong_CheckExact(pobj) || PyLong_Check(pobj)) {
        long value = PyLong_AsLong(pobj);
        if (value == -1 && PyErr_Occurred()) {
            goto done;
        }
        snprintf(pbuf, sizeof(pbuf), "%ld", value);
        port = pbuf;
    }
    else if (PyUnicode_Check(pobj)) {
        pbytes = PyUnicode_AsUTF8String(pobj);
        if (pbytes == NULL) {
            goto done;
        }
        port = PyBytes_AS_STRING(pbytes);
    }
    else if (PyBytes_Check(pobj)) {
        port = PyBytes_AS_STRING(pobj);
    }
    else if (pobj != Py_None) {
        PyErr_SetString(PyExc_OSError, "Int or String expected");
        goto done;
    }
    if (PySys_Audit("socket.getaddrinfo", "OOiii", hobj, pobj, family, socktype, protocol) < 0) {
        goto done;
    }
    wps_hints hints;
    memset(&hints, 0, sizeof(hints));
    int32_t afamily;
    if (wps_abi_family(family, &afamily) < 0) {
        wps_gai_error(WPS_EAI_FAMILY, host);
        goto done;
    }
    hints.family = (uint16_t)afamily;
    if (socktype != 0) {
        int t = wps_abi_type(socktype & ~(PY_SOCK_NONBLOCK | PY_SOCK_CLOEXEC));
        if (t < 0) {
            wps_gai_error(WPS_EAI_SOCKTYPE, host);
            goto done;
        }
        hints.socktype = (uint16_t)t;
    }
    if (protocol < 0 || protocol > 0xffff) {
        wps_gai_error(WPS_EAI_SERVICE, host);
        goto done;
    }
    hints.protocol = (uint16_t)protocol;
    uint32_t aflags = 0;
    if (flags & PY_AI_PASSIVE) aflags |= WPS_AI_PASSIVE;
    if (flags & PY_AI_CANONNAME) aflags |= WPS_AI_CANONNAME;
    if (flags & PY_AI_NUMERICHOST) aflags |= WPS_AI_NUMERICHOST;
    if (flags & PY_AI_NUMERICSERV) aflags |= WPS_AI_NUMERICSERV;
    if (flags & PY_AI_V4MAPPED) aflags |= WPS_AI_V4MAPPED;
    if (flags & PY_AI_ALL) aflags |= WPS_AI_ALL;
    if (flags & PY_AI_ADDRCONFIG) aflags |= WPS_AI_ADDRCONFIG;
    if (flags & ~(PY_AI_PASSIVE | PY_AI_CANONNAME | PY_AI_NUMERICHOST | PY_AI_NUMERICSERV
                  | PY_AI_V4MAPPED | PY_AI_ALL | PY_AI_ADDRCONFIG)) {
        wps_gai_error(WPS_EAI_BADFLAGS, host);
        goto done;
    }
    hints.flags = aflags;
    char canon[256];
    uint32_t n = 0, clen = 0;
    res = wps_resolve(host, port, &hints, &n, canon, sizeof(canon), &clen);
    if (res == NULL) {
        goto done;
    }
    result = PyList_New(0);
    if (result == NULL) {
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        PyObject *addr = wps_makesockaddr(&res[i].addr);
        if (addr == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyObject *item = Py_BuildValue(
            "iiis#N", (int)res[i].addr.family, wps_py_type(res[i].socktype),
            (int)res[i].protocol, canon, (Py_ssize_t)(i == 0 ? clen : 0), addr);
        if (item == NULL || PyList_Append(result, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(result);
            goto done;
        }
        Py_DECREF(item);
    }
done:
    PyMem_Free(res);
    Py_XDECREF(hbytes);
    Py_XDECREF(pbytes);
    return result;
}

/* Resolves a host argument for the gethostby* functions. */
static int
wps_resolve_one(PyObject *nameobj, int af, wps_sockaddr *sa)
{
    PyObject *b = wps_host_bytes(nameobj);
    if (b == NULL) {
        return -1;
    }
    memset(sa, 0, sizeof(*sa));
    int r = wps_setipaddr(PyBytes_AS_STRING(b), af, sa);
    Py_DECREF(b);
    return r;
}

static PyObject *
wps_gethostbyname(PyObject *module, PyObject *arg)
{
    if (PySys_Audit("socket.gethostbyname", "O", arg) < 0) {
        return NULL;
    }
    wps_sockaddr sa;
    if (wps_resolve_one(arg, WPS_AF_INET, &sa) < 0) {
        return NULL;
    }
    char host[INET_ADDRSTRLEN + 1];
    inet_ntop(AF_INET, sa.addr, host, sizeof(host));
    return PyUnicode_FromString(host);
}

static PyObject *
wps_gethostbyname_ex(PyObject *module, PyObject *arg)
{
    if (PySys_Audit("socket.gethostbyname", "O", arg) < 0) {
        return NULL;
    }
    PyObject *b = wps_host_bytes(arg);
    if (b == NULL) {
        return NULL;
    }
    const char *name = PyBytes_AS_STRING(b);
    PyObject *addrs = PyList_New(0), *result = NULL;
    wps_addrinfo *res = NULL;
    if (addrs == NULL) {
        goto done;
    }
    wps_sockaddr sa;
    memset(&sa, 0, sizeof(sa));
    char canon[256];
    uint32_t clen = 0, n = 0;
    struct in_addr probe;
    if (name[0] == '\0' || inet_pton(AF_INET, name, &probe) == 1
        || strcmp(name, "<broadcast>") == 0) {
        if (wps_setipaddr(name, WPS_AF_INET, &sa) < 0) {
            goto done;
        }
        char host[INET_ADDRSTRLEN + 1];
        inet_ntop(AF_INET, sa.addr, host, sizeof(host));
        PyObject *h = PyUnicode_FromString(host);
        if (h == NULL || PyList_Append(addrs, h) < 0) {
            Py_XDECREF(h);
            goto done;
        }
        Py_DECREF(h);
        result = Py_BuildValue("(s[]O)", name, addrs);
        goto done;
    }
    wps_hints hints;
    memset(&hints, 0, sizeof(hints));
    hints.family = WPS_AF_INET;
    hints.socktype = WPS_SOCK_STREAM;
    hints.flags = WPS_AI_CANONNAME;
    res = wps_resolve(name, NULL, &hints, &n, canon, sizeof(canon), &clen);
    if (res == NULL) {
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        char host[INET_ADDRSTRLEN + 1];
        inet_ntop(AF_INET, res[i].addr.addr, host, sizeof(host));
        PyObject *h = PyUnicode_FromString(host);
        if (h == NULL) {
            goto done;
        }
        int has = PySequence_Contains(addrs, h);
        if (has < 0 || (!has && PyList_Append(addrs, h) < 0)) {
            Py_DECREF(h);
            goto done;
        }
        Py_DECREF(h);
    }
    if (clen > 0) {
        result = Py_BuildValue("(s#[]O)", canon, (Py_ssize_t)clen, addrs);
    }
    else {
        result = Py_BuildValue("(s[]O)", name, addrs);
    }
done:
    PyMem_Free(res);
    Py_XDECREF(addrs);
    Py_DECREF(b);
    return result;
}

/* Host getnameinfo on a sockaddr; fills host/serv (NUL-terminated). */
static int32_t
wps_nameinfo(const wps_sockaddr *sa, int32_t aflags, char *host, uint32_t host_cap,
             char *serv, uint32_t serv_cap)
{
    uint32_t hlen = 0, slen = 0;
    int32_t status;
    Py_BEGIN_ALLOW_THREADS
    status = __wps_getnameinfo(sa, sizeof(*sa), aflags, host, host ? host_cap - 1 : 0, &hlen,
                               serv, serv ? serv_cap - 1 : 0, &slen);
    Py_END_ALLOW_THREADS
    if (status == 0) {
        if (host) {
            host[hlen < host_cap ? hlen : host_cap - 1] = '\0';
        }
        if (serv) {
            serv[slen < serv_cap ? slen : serv_cap - 1] = '\0';
        }
    }
    return status;
}

static PyObject *
wps_gethostbyaddr(PyObject *module, PyObject *arg)
{
    if (PySys_Audit("socket.gethostbyaddr", "O", arg) < 0) {
        return NULL;
    }
    wps_sockaddr sa;
    if (wps_resolve_one(arg, WPS_AF_UNSPEC, &sa) < 0) {
        return NULL;
    }
    char host[1025];
    int32_t status = wps_nameinfo(&sa, WPS_NI_NAMEREQD, host, sizeof(host), NULL, 0);
    if (status == WPS_EAI_DENIED) {
        char addr[80], what[120];
        wps_format_addr(&sa, 0, addr, sizeof(addr));
        snprintf(what, sizeof(what), "looking up the name of %s", addr);
        return wps_denied(what, addr);
    }
    if (status == WPS_EAI_NONAME || status == WPS_EAI_NODATA) {
        PyObject *args = Py_BuildValue("(is)", 1, "Unknown host");
        if (args != NULL) {
            PyErr_SetObject(wps_herror ? wps_herror : PyExc_OSError, args);
            Py_DECREF(args);
        }
        return NULL;
    }
    if (status != 0) {
        return wps_gai_error(status, NULL);
    }
    char ip[INET6_ADDRSTRLEN + 1];
    inet_ntop(sa.family == WPS_AF_INET ? AF_INET : AF_INET6, sa.addr, ip, sizeof(ip));
    return Py_BuildValue("(s[][s])", host, ip);
}

static PyObject *
wps_getnameinfo(PyObject *module, PyObject *args)
{
    PyObject *sa_obj;
    int flags;
    if (!PyArg_ParseTuple(args, "Oi:getnameinfo", &sa_obj, &flags)) {
        return NULL;
    }
    if (!PyTuple_Check(sa_obj)) {
        PyErr_SetString(PyExc_TypeError, "getnameinfo() argument 1 must be a tuple");
        return NULL;
    }
    PyObject *hostobj;
    int port;
    unsigned int flowinfo = 0, scope_id = 0;
    if (!PyArg_ParseTuple(sa_obj, "Oi|II;getnameinfo(): illegal sockaddr argument",
                          &hostobj, &port, &flowinfo, &scope_id)) {
        return NULL;
    }
    if (flowinfo > 0xfffff) {
        PyErr_SetString(PyExc_OverflowError, "getnameinfo(): flowinfo must be 0-1048575.");
        return NULL;
    }
    if (port < 0 || port > 0xffff) {
        PyErr_SetString(PyExc_OverflowError, "getnameinfo(): port must be 0-65535.");
        return NULL;
    }
    if (PySys_Audit("socket.getnameinfo", "(O)", sa_obj) < 0) {
        return NULL;
    }
    PyObject *b = wps_host_bytes(hostobj);
    if (b == NULL) {
        return NULL;
    }
    const char *name = PyBytes_AS_STRING(b);
    wps_sockaddr sa;
    memset(&sa, 0, sizeof(sa));
    /* like CPython: the host part must be numeric (AI_NUMERICHOST) */
    if (inet_pton(AF_INET, name, sa.addr) == 1) {
        sa.family = WPS_AF_INET;
    }
    else if (inet_pton(AF_INET6, name, sa.addr) == 1) {
        sa.family = WPS_AF_INET6;
    }
    else {
        wps_hints hints;
        memset(&hints, 0, sizeof(hints));
        hints.socktype = WPS_SOCK_DGRAM;
        hints.flags = WPS_AI_NUMERICHOST;
        uint32_t n = 0;
        wps_addrinfo *res = wps_resolve(name, NULL, &hints, &n, NULL, 0, NULL);
        if (res == NULL) {
            Py_DECREF(b);
            return NULL;
        }
        if (n != 1) {
            PyMem_Free(res);
            Py_DECREF(b);
            PyErr_SetString(PyExc_OSError, "sockaddr resolved to multiple addresses");
            return NULL;
        }
        sa = res[0].addr;
        PyMem_Free(res);
    }
    Py_DECREF(b);
    sa.port = (uint16_t)port;
    if (sa.family == WPS_AF_INET6) {
        sa.flowinfo = flowinfo;
        sa.scope_id = scope_id;
    }
    else if (PyTuple_GET_SIZE(sa_obj) != 2) {
        PyErr_SetString(PyExc_OSError, "IPv4 sockaddr must be 2 tuple");
        return NULL;
    }
    int32_t aflags = 0;
    if (flags & PY_NI_NUMERICHOST) aflags |= WPS_NI_NUMERICHOST;
    if (flags & PY_NI_NUMERICSERV) aflags |= WPS_NI_NUMERICSERV;
    if (flags & PY_NI_NAMEREQD) aflags |= WPS_NI_NAMEREQD;
    if (flags & PY_NI_DGRAM) aflags |= WPS_NI_DGRAM;
    if (flags & PY_NI_NOFQDN) aflags |= WPS_NI_NOFQDN;
    char host[1025], serv[32];
    int32_t status = wps_nameinfo(&sa, aflags, host, sizeof(host), serv, sizeof(serv));
    if (status == WPS_EAI_DENIED) {
        char addr[80], what[120];
        wps_format_addr(&sa, 0, addr, sizeof(addr));
        snprintf(what, sizeof(what), "looking up the name of %s", addr);
        return wps_denied(what, addr);
    }
    if (status != 0) {
        return wps_gai_error(status, NULL);
    }
    return Py_BuildValue("(ss)", host, serv);
}

static PyObject *
wps_getservbyname(PyObject *module, PyObject *args)
{
    const char *name, *proto = NULL;
    if (!PyArg_ParseTuple(args, "s|s:getservbyname", &name, &proto)) {
        return NULL;
    }
    if (PySys_Audit("socket.getservbyname", "ss", name, proto ? proto : "") < 0) {
        return NULL;
    }
    wps_hints hints;
    memset(&hints, 0, sizeof(hints));
    hints.family = WPS_AF_INET;
    hints.flags = WPS_AI_PASSIVE;
    hints.socktype = (proto && strcmp(proto, "udp") == 0) ? WPS_SOCK_DGRAM : WPS_SOCK_STREAM;
    if (proto && strcmp(proto, "udp") != 0 && strcmp(proto, "tcp") != 0) {
        PyErr_SetString(PyExc_OSError, "service/proto not found");
        return NULL;
    }
    /* a numeric "service" is not a service name */
    char *end;
    (void)strtol(name, &end, 10);
    if (*name != '\0' && *end == '\0') {
        PyErr_SetString(PyExc_OSError, "service/proto not found");
        return NULL;
    }
    uint32_t n = 0;
    wps_addrinfo *res = wps_resolve(NULL, name, &hints, &n, NULL, 0, NULL);
    if (res == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_OSError, "service/proto not found");
        return NULL;
    }
    if (n == 0) {
        PyMem_Free(res);
        PyErr_SetString(PyExc_OSError, "service/proto not found");
        return NULL;
    }
    long port = res[0].addr.port;
    PyMem_Free(res);
    return PyLong_FromLong(port);
}

static PyObject *
wps_getservbyport(PyObject *module, PyObject *args)
{
    int port;
    const char *proto = NULL;
    if (!PyArg_ParseTuple(args, "i|s:getservbyport", &port, &proto)) {
        return NULL;
    }
    if (port < 0 || port > 0xffff) {
        PyErr_SetString(PyExc_OverflowError, "getservbyport: port must be 0-65535.");
        return NULL;
    }
    if (PySys_Audit("socket.getservbyport", "is", port, proto ? proto : "") < 0) {
        return NULL;
    }
    wps_sockaddr sa;
    memset(&sa, 0, sizeof(sa));
    sa.family = WPS_AF_INET;
    sa.port = (uint16_t)port;
    sa.addr[0] = 127;
    sa.addr[3] = 1;
    char serv[32];
    int32_t flags = WPS_NI_NUMERICHOST;
    if (proto && strcmp(proto, "udp") == 0) {
        flags |= WPS_NI_DGRAM;
    }
    char host[64];
    int32_t status = wps_nameinfo(&sa, flags, host, sizeof(host), serv, sizeof(serv));
    char *end;
    (void)strtol(serv, &end, 10);
    if (status != 0 || *end == '\0') {
        PyErr_SetString(PyExc_OSError, "port/proto not found");
        return NULL;
    }
    return PyUnicode_FromString(serv);
}

static PyObject *
wps_getprotobyname(PyObject *module, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == NULL) {
        return NULL;
    }
    static const struct { const char *name; int num; } protos[] = {
        {"ip", 0}, {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"ipv6", 41}, {"icmpv6", 58},
    };
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
        if (strcmp(protos[i].name, name) == 0) {
            return PyLong_FromLong(protos[i].num);
        }
    }
    PyErr_SetString(PyExc_OSError, "protocol not found");
    return NULL;
}

static PyObject *
wps_new_socket_from_fd(int family, int type, int proto, int fd)
{
    PyObject *args = Py_BuildValue("(iiii)", family, type, proto, fd);
    if (args == NULL) {
        return NULL;
    }
    PyObject *sock = PyObject_Call((PyObject *)&wps_sock_type, args, NULL);
    Py_DECREF(args);
    return sock;
}

static PyObject *
wps_socketpair(PyObject *module, PyObject *args)
{
    int family = PY_AF_UNIX, type = PY_SOCK_STREAM, proto = 0;
    if (!PyArg_ParseTuple(args, "|iii:socketpair", &family, &type, &proto)) {
        return NULL;
    }
    if (family != PY_AF_UNIX) {
        /* as on Linux: only local socket pairs exist */
        errno = EOPNOTSUPP;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    int base_type = type & ~(PY_SOCK_NONBLOCK | PY_SOCK_CLOEXEC);
    int abi_type = wps_abi_type(base_type);
    if (abi_type < 0) {
        errno = EPROTOTYPE;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    int32_t fds[2] = {-1, -1};
    int32_t err = __wps_sock_socketpair(abi_type, (type & PY_SOCK_NONBLOCK) ? WPS_SOCK_NONBLOCK : 0,
                                        fds);
    if (err != 0) {
        return wps_error(err);
    }
    PyObject *a = wps_new_socket_from_fd(PY_AF_UNIX, type, proto, fds[0]);
    if (a == NULL) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    PyObject *b = wps_new_socket_from_fd(PY_AF_UNIX, type, proto, fds[1]);
    if (b == NULL) {
        Py_DECREF(a); /* closes fds[0] */
        close(fds[1]);
        return NULL;
    }
    return Py_BuildValue("(NN)", a, b);
}

static PyObject *
wps_dup(PyObject *module, PyObject *arg)
{
    int fd = PyLong_AsInt(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int32_t newfd = -1;
    int32_t err = __wps_sock_dup(fd, &newfd);
    if (err != 0) {
        return wps_error(err);
    }
    return PyLong_FromLong(newfd);
}

static PyObject *
wps_close_fd(PyObject *module, PyObject *arg)
{
    int fd = PyLong_AsInt(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (close(fd) < 0 && errno != ECONNRESET) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyObject *
wps_getdefaulttimeout(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return wps_timeout_to_object(wps_default_timeout);
}

static PyObject *
wps_setdefaulttimeout(PyObject *module, PyObject *arg)
{
    int64_t t;
    if (wps_timeout_from_object(arg, &t) < 0) {
        return NULL;
    }
    wps_default_timeout = t;
    Py_RETURN_NONE;
}

static PyObject *
wps_inet_ntoa(PyObject *module, PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (b.len != 4) {
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_OSError, "packed IP wrong length for inet_ntoa");
        return NULL;
    }
    char host[INET_ADDRSTRLEN + 1];
    inet_ntop(AF_INET, b.buf, host, sizeof(host));
    PyBuffer_Release(&b);
    return PyUnicode_FromString(host);
}

/* ---- install: make the stock _socket use all of the above -------------------- */

/* Functions replaced (or added) in _socket by install(). */
static const char *const wps_installed_functions[] = {
    "getaddrinfo", "getnameinfo", "gethostname", "gethostbyname", "gethostbyname_ex",
    "gethostbyaddr", "getservbyname", "getservbyport", "getprotobyname", "socketpair",
    "dup", "close", "getdefaulttimeout", "setdefaulttimeout", "inet_ntoa", NULL
};

/* Constants set in _socket by install() (added, or replaced where noted). */
static const struct { const char *name; long value; } wps_installed_constants[] = {
    {"AF_UNIX", PY_AF_UNIX},
    {"SO_REUSEADDR", PY_SO_REUSEADDR},
    {"SO_ERROR", PY_SO_ERROR},
    {"SO_BROADCAST", PY_SO_BROADCAST},
    {"SO_SNDBUF", PY_SO_SNDBUF},
    {"SO_RCVBUF", PY_SO_RCVBUF},
    {"SO_KEEPALIVE", PY_SO_KEEPALIVE},
    {"SO_LINGER", PY_SO_LINGER},
    {"SO_REUSEPORT", PY_SO_REUSEPORT},
    {"SO_ACCEPTCONN", PY_SO_ACCEPTCONN},
    {"SO_PROTOCOL", PY_SO_PROTOCOL},
    {"SO_DOMAIN", PY_SO_DOMAIN},
    {"SO_RCVTIMEO", PY_SO_RCVTIMEO},
    {"SO_SNDTIMEO", PY_SO_SNDTIMEO},
    {"SOL_IPV6", PY_IPPROTO_IPV6},
    {"MSG_DONTWAIT", PY_MSG_DONTWAIT},
    {"MSG_NOSIGNAL", PY_MSG_NOSIGNAL},
    {"AI_NUMERICSERV", PY_AI_NUMERICSERV},
    {"EAI_OVERFLOW", PY_EAI_OVERFLOW},
    /* replaced: the stock value (5) is wasi-libc's; the host's listen() is Linux's */
    {"SOMAXCONN", PY_SOMAXCONN},
    {NULL, 0}
};

/* Puts this module's socket type, functions and constants (`module`: _wasisocket)
 * into the stock _socket module `sock`. Returns 1 if it changed `sock`, 0 if `sock`
 * had them already, -1 with an exception set on failure. */
static int
wps_install_into(PyObject *module, PyObject *sock)
{
    PyObject *current = PyObject_GetAttrString(sock, "socket");
    if (current == NULL) {
        PyErr_Clear();
    }
    else if (current == (PyObject *)&wps_sock_type) {
        Py_DECREF(current);
        return 0;
    }
    else {
        /* keep the stock type reachable (e.g. for debugging) */
        int r = PyObject_SetAttrString(module, "stock_socket", current);
        Py_DECREF(current);
        if (r < 0) {
            return -1;
        }
    }
    if (PyObject_SetAttrString(sock, "socket", (PyObject *)&wps_sock_type) < 0
        || PyObject_SetAttrString(sock, "SocketType", (PyObject *)&wps_sock_type) < 0) {
        return -1;
    }
    for (const char *const *name = wps_installed_functions; *name; name++) {
        PyObject *f = PyObject_GetAttrString(module, *name);
        if (f == NULL) {
            return -1;
        }
        int r = PyObject_SetAttrString(sock, *name, f);
        Py_DECREF(f);
        if (r < 0) {
            return -1;
        }
    }
    for (size_t i = 0; wps_installed_constants[i].name; i++) {
        if (PyModule_AddIntConstant(sock, wps_installed_constants[i].name,
                                    wps_installed_constants[i].value) < 0) {
            return -1;
        }
    }
    /* the stock module is built without ENABLE_IPV6; the host does IPv6 */
    if (PyObject_SetAttrString(sock, "has_ipv6", Py_True) < 0) {
        return -1;
    }
    return 1;
}

PyDoc_STRVAR(install_doc,
"install() -> bool\n\n"
"Make the stock _socket module use this module's socket type, resolver and\n"
"helpers. _socket does this itself when it is imported (see PyInit__socket\n"
"below), so this finds it done and returns False; True if it changed _socket.");

static PyObject *
wps_install(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyObject *sock = PyImport_ImportModule("_socket");
    if (sock == NULL) {
        return NULL;
    }
    int r = wps_install_into(module, sock);
    Py_DECREF(sock);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyMethodDef wps_methods[] = {
    {"abi_version", wps_abi_version, METH_NOARGS,
     "abi_version() -> int\n\nVersion of the wasmi_py_socket ABI (no host call)."},
    {"install", wps_install, METH_NOARGS, install_doc},
    {"gethostname", wps_gethostname, METH_NOARGS, "gethostname() -> str"},
    {"getaddrinfo", (PyCFunction)(void (*)(void))wps_getaddrinfo, METH_VARARGS | METH_KEYWORDS,
     "getaddrinfo(host, port [, family, type, proto, flags])\n"
     "    -> list of (family, type, proto, canonname, sockaddr)"},
    {"getnameinfo", wps_getnameinfo, METH_VARARGS, "getnameinfo(sockaddr, flags) -> (host, port)"},
    {"gethostbyname", wps_gethostbyname, METH_O, "gethostbyname(host) -> address"},
    {"gethostbyname_ex", wps_gethostbyname_ex, METH_O,
     "gethostbyname_ex(host) -> (name, aliaslist, addresslist)"},
    {"gethostbyaddr", wps_gethostbyaddr, METH_O,
     "gethostbyaddr(host) -> (name, aliaslist, addresslist)"},
    {"getservbyname", wps_getservbyname, METH_VARARGS, "getservbyname(servicename[, protocolname]) -> integer"},
    {"getservbyport", wps_getservbyport, METH_VARARGS, "getservbyport(port[, protocolname]) -> string"},
    {"getprotobyname", wps_getprotobyname, METH_O, "getprotobyname(name) -> integer"},
    {"socketpair", wps_socketpair, METH_VARARGS,
     "socketpair([family[, type [, proto]]]) -> (socket object, socket object)\n\n"
     "A connected pair of local (Unix-domain) host sockets; needs no network access."},
    {"dup", wps_dup, METH_O, "dup(integer) -> integer\n\nDuplicate a socket file descriptor."},
    {"close", wps_close_fd, METH_O, "close(integer) -> None\n\nClose a socket file descriptor."},
    {"getdefaulttimeout", wps_getdefaulttimeout, METH_NOARGS,
     "getdefaulttimeout() -> timeout"},
    {"setdefaulttimeout", wps_setdefaulttimeout, METH_O, "setdefaulttimeout(timeout)"},
    {"inet_ntoa", wps_inet_ntoa, METH_O, "inet_ntoa(packed_ip) -> ip_address_string"},
    {NULL, NULL, 0, NULL}
};

static int
wps_exec(PyObject *m)
{
    if (PyType_Ready(&wps_sock_type) < 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(m, "socket", (PyObject *)&wps_sock_type) < 0) {
        return -1;
    }
    PyObject *stock = PyImport_ImportModule("_socket");
    if (stock == NULL) {
        return -1;
    }
    Py_XSETREF(wps_gaierror, PyObject_GetAttrString(stock, "gaierror"));
    Py_XSETREF(wps_herror, PyObject_GetAttrString(stock, "herror"));
    Py_DECREF(stock);
    if (wps_gaierror == NULL || wps_herror == NULL) {
        return -1;
    }
#define ADD_INT(name, value) \
    if (PyModule_AddIntConstant(m, name, value) < 0) { return -1; }
    ADD_INT("ABI_VERSION", WASMI_PY_SOCKET_ABI_VERSION);
    ADD_INT("SOCKADDR_SIZE", (long)sizeof(wps_sockaddr));
#undef ADD_INT
    if (PyModule_AddStringConstant(m, "IMPORT_MODULE", WASMI_PY_SOCKET_IMPORT_MODULE) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot wps_slots[] = {
    {Py_mod_exec, wps_exec},
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

PyDoc_STRVAR(module_doc,
"Guest side of wasmi-py's host socket ABI (import module \"wasmi_py_socket\").\n"
"See docs/socket-abi.md. The stock _socket (and so the socket module) uses it\n"
"from its first import on.");

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

/* ---- the stock _socket installs all of the above when it is made ------------------ */

/* Setup.local builds the stock Modules/socketmodule.c through _wps_socketmodule.c, which
 * renames its PyInit__socket to _wps_stock_PyInit__socket, so the builtin module table's
 * PyInit__socket is the one below: it returns the stock module definition with one more
 * Py_mod_exec slot, which runs after the stock ones and installs this module's socket
 * type and helpers into the fresh _socket. Whatever imports _socket, however Python was
 * started (without site, with a user's own sitecustomize, python.wasm run as a plain
 * WASI command), gets real host sockets, and a program that never imports socket pays
 * nothing at start-up (a sitecustomize module did the install before: ~1.3 ms of every
 * start-up for importing sitecustomize, _wasisocket and _socket).
 *
 * The definition itself must stay the stock one (socketmodule.c finds its module state
 * with PyType_GetModuleByDef(type, &socketmodule)), so only its slot list is replaced. */
PyMODINIT_FUNC _wps_stock_PyInit__socket(void);

static int
wps_socket_exec(PyObject *sock)
{
    PyObject *module = PyImport_ImportModule("_wasisocket");
    if (module == NULL) {
        /* _wasisocket cannot be loaded into every interpreter (its socket type is
         * static: Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED); there the stock _socket
         * stays as it is. */
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    int r = wps_install_into(module, sock);
    Py_DECREF(module);
    return r < 0 ? -1 : 0;
}

/* The stock slots, then wps_socket_exec, then the terminator (the stock list has 3). */
static PyModuleDef_Slot wps_socket_slots[8];

PyMODINIT_FUNC
PyInit__socket(void)
{
    PyModuleDef *def = (PyModuleDef *)_wps_stock_PyInit__socket();
    if (def == NULL || def->m_slots == wps_socket_slots) {
        return (PyObject *)def;
    }
    size_t n = 0;
    while (def->m_slots != NULL && def->m_slots[n].slot != 0) {
        n++;
    }
    if (n + 2 > Py_ARRAY_LENGTH(wps_socket_slots)) {
        PyErr_SetString(PyExc_SystemError, "_wasisocket: the stock _socket has too many slots");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        wps_socket_slots[i] = def->m_slots[i];
    }
    wps_socket_slots[n] = (PyModuleDef_Slot){Py_mod_exec, wps_socket_exec};
    wps_socket_slots[n + 1] = (PyModuleDef_Slot){0, NULL};
    def->m_slots = wps_socket_slots;
    return (PyObject *)def;
}
