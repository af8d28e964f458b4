//! Thin checked wrappers over the libc socket calls `std` does not offer (unbound sockets,
//! non-blocking connect, socket options, the resolver). Every `unsafe` block of the crate
//! is in this module. Descriptors are passed as [`RawFd`]s looked up in the guest's fd
//! table for the duration of one host call; a stale number can only make the kernel
//! answer `EBADF`, never touch memory.

use std::ffi::{CStr, CString};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// Repeats `f` while it fails with `EINTR`.
fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// What `getsockname`/`getpeername`/`accept`/`recvfrom` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockName {
    /// An IPv4 or IPv6 address.
    Inet(SocketAddr),
    /// A Unix-domain address (not representable in the ABI).
    Unix,
    /// No address (e.g. `recvfrom` on a connected stream).
    None,
    /// Another family.
    Other,
}

/// A `sockaddr_storage` holding `addr`, and its length.
fn to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in.
            unsafe {
                std::ptr::write(
                    (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>(),
                    sin,
                )
            };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo().to_be(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in6.
            unsafe {
                std::ptr::write(
                    (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>(),
                    sin6,
                )
            };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Reads an address the kernel wrote into `storage` (`len` bytes of it).
fn from_raw(storage: &libc::sockaddr_storage, len: libc::socklen_t) -> SockName {
    let len = len as usize;
    if len < size_of::<libc::sa_family_t>() {
        return SockName::None;
    }
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the kernel wrote a sockaddr_in (family AF_INET, long enough) into the
            // suitably aligned storage.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            SockName::Inet(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the kernel wrote a sockaddr_in6 (family AF_INET6, long enough) into the
            // suitably aligned storage.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            SockName::Inet(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                u32::from_be(sin6.sin6_flowinfo),
                sin6.sin6_scope_id,
            )))
        }
        libc::AF_UNIX => SockName::Unix,
        libc::AF_UNSPEC => SockName::None,
        _ => SockName::Other,
    }
}

fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel as a new descriptor nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `socket(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` if asked).
pub fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    proto: libc::c_int,
    nonblock: bool,
) -> io::Result<OwnedFd> {
    let mut ty = ty | libc::SOCK_CLOEXEC;
    if nonblock {
        ty |= libc::SOCK_NONBLOCK;
    }
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::socket(domain, ty, proto) }).map(owned)
}

/// `socketpair(AF_UNIX, ty)`.
pub fn socketpair(ty: libc::c_int, nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut ty = ty | libc::SOCK_CLOEXEC;
    if nonblock {
        ty |= libc::SOCK_NONBLOCK;
    }
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as socketpair requires.
    cvt(unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) })?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// `bind(2)`.
pub fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = to_raw(addr);
    // SAFETY: `storage` holds a valid address of `len` bytes for the duration of the call.
    cvt(unsafe { libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })
        .map(drop)
}

/// `connect(2)` (not retried on `EINTR`: the connection then completes in the background).
pub fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = to_raw(addr);
    // SAFETY: `storage` holds a valid address of `len` bytes for the duration of the call.
    cvt(unsafe { libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })
        .map(drop)
}

/// `listen(2)`.
pub fn listen(fd: RawFd, backlog: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::listen(fd, backlog) }).map(drop)
}

/// `accept4(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` if asked).
pub fn accept(fd: RawFd, nonblock: bool) -> io::Result<(OwnedFd, SockName)> {
    let mut flags = libc::SOCK_CLOEXEC;
    if nonblock {
        flags |= libc::SOCK_NONBLOCK;
    }
    retry(|| {
        // SAFETY: all-zero is a valid sockaddr_storage.
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `storage`/`len` are valid and writable for the duration of the call; the
        // kernel writes at most `len` bytes.
        let new = cvt(unsafe {
            libc::accept4(
                fd,
                (&mut storage as *mut libc::sockaddr_storage).cast(),
                &mut len,
                flags,
            )
        })?;
        Ok((owned(new), from_raw(&storage, len)))
    })
}

/// `send(2)` with `MSG_NOSIGNAL`.
pub fn send(fd: RawFd, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    retry(|| {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes during the call.
        cvt_size(unsafe {
            libc::send(
                fd,
                buf.as_ptr().cast(),
                buf.len(),
                flags | libc::MSG_NOSIGNAL,
            )
        })
    })
}

/// `sendto(2)` with `MSG_NOSIGNAL`.
pub fn sendto(fd: RawFd, buf: &[u8], flags: libc::c_int, addr: &SocketAddr) -> io::Result<usize> {
    let (storage, len) = to_raw(addr);
    retry(|| {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes and `storage` holds a valid
        // address of `len` bytes, both for the duration of the call.
        cvt_size(unsafe {
            libc::sendto(
                fd,
                buf.as_ptr().cast(),
                buf.len(),
                flags | libc::MSG_NOSIGNAL,
                (&storage as *const libc::sockaddr_storage).cast(),
                len,
            )
        })
    })
}

/// `recv(2)`.
pub fn recv(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    retry(|| {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes during the call.
        cvt_size(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) })
    })
}

/// `recvfrom(2)`.
pub fn recvfrom(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<(usize, SockName)> {
    retry(|| {
        // SAFETY: all-zero is a valid sockaddr_storage.
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes and `storage`/`len` are
        // writable for the duration of the call; the kernel writes at most `len` bytes.
        let n = cvt_size(unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags,
                (&mut storage as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        })?;
        Ok((n, from_raw(&storage, len)))
    })
}

/// `shutdown(2)`.
pub fn shutdown(fd: RawFd, how: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::shutdown(fd, how) }).map(drop)
}

fn name_of(
    fd: RawFd,
    f: unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int,
) -> io::Result<SockName> {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `f` is getsockname or getpeername; `storage`/`len` are writable for the
    // duration of the call and the kernel writes at most `len` bytes.
    cvt(unsafe {
        f(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    Ok(from_raw(&storage, len))
}

/// `getsockname(2)`.
pub fn getsockname(fd: RawFd) -> io::Result<SockName> {
    name_of(fd, libc::getsockname)
}

/// `getpeername(2)`.
pub fn getpeername(fd: RawFd) -> io::Result<SockName> {
    name_of(fd, libc::getpeername)
}

/// `setsockopt(2)` with a plain-data value.
pub fn setsockopt<V: Copy>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: V,
) -> io::Result<()> {
    // SAFETY: `value` is a live, initialised `V` of `size_of::<V>()` bytes during the call;
    // the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const V).cast(),
            size_of::<V>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `getsockopt(2)` of a plain-data value (`V` must be valid for any bit pattern).
pub fn getsockopt<V: Copy + Default>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<V> {
    let mut value = V::default();
    let mut len = size_of::<V>() as libc::socklen_t;
    // SAFETY: `value` is writable for `len` bytes during the call and the kernel writes at
    // most that many; the callers only use integer and integer-struct types.
    cvt(unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut V).cast(), &mut len) })?;
    Ok(value)
}

/// `struct linger`, with a `Default` for [`getsockopt`].
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Linger {
    /// Linger on close.
    pub onoff: libc::c_int,
    /// Seconds.
    pub linger: libc::c_int,
}

/// `struct timeval`, with a `Default` for [`getsockopt`].
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Timeval {
    /// Seconds.
    pub sec: libc::time_t,
    /// Microseconds.
    pub usec: libc::suseconds_t,
}

/// Whether the descriptor's `O_NONBLOCK` is set.
pub fn is_nonblocking(fd: RawFd) -> io::Result<bool> {
    // SAFETY: F_GETFL takes no pointer.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    Ok(flags & libc::O_NONBLOCK != 0)
}

/// `fcntl(F_DUPFD_CLOEXEC)`.
pub fn dup(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer argument.
    cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) }).map(owned)
}

/// Waits until `fd` is writable (a connect interrupted by a signal finishes in the
/// background).
pub fn wait_writable(fd: RawFd) -> io::Result<()> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    loop {
        // SAFETY: `p` is one valid, writable pollfd for the duration of the call.
        match cvt(unsafe { libc::poll(&mut p, 1, -1) }) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// One `getaddrinfo` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrInfo {
    /// `SOCK_STREAM`, `SOCK_DGRAM`, ... (host values).
    pub socktype: libc::c_int,
    /// The protocol number.
    pub protocol: libc::c_int,
    /// The address.
    pub addr: SocketAddr,
}

/// Host `getaddrinfo(3)` hints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints {
    /// `AI_*` (host values).
    pub flags: libc::c_int,
    /// `AF_*` (host values).
    pub family: libc::c_int,
    /// `SOCK_*` (host values).
    pub socktype: libc::c_int,
    /// Protocol number.
    pub protocol: libc::c_int,
}

/// Host `getaddrinfo(3)`: the IPv4/IPv6 results and the canonical name, or the `EAI_*`
/// code (host value; `EAI_SYSTEM` comes with errno in the `io::Error`).
pub fn getaddrinfo(
    node: Option<&CStr>,
    service: Option<&CStr>,
    hints: Hints,
) -> Result<(Vec<AddrInfo>, Option<Vec<u8>>), libc::c_int> {
    // SAFETY: all-zero is a valid addrinfo (null pointers, zero integers).
    let mut h: libc::addrinfo = unsafe { zeroed() };
    h.ai_flags = hints.flags;
    h.ai_family = hints.family;
    h.ai_socktype = hints.socktype;
    h.ai_protocol = hints.protocol;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: node/service are NUL-terminated or null, `h` is a valid hints record and
    // `res` a writable out-pointer, all live for the duration of the call.
    let rc = unsafe {
        libc::getaddrinfo(
            node.map_or(std::ptr::null(), CStr::as_ptr),
            service.map_or(std::ptr::null(), CStr::as_ptr),
            &h,
            &mut res,
        )
    };
    if rc != 0 {
        return Err(rc);
    }
    let mut out = Vec::new();
    let mut canon = None;
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` walks the list getaddrinfo returned, which stays valid until the
        // freeaddrinfo below.
        let ai = unsafe { &*p };
        if canon.is_none() && !ai.ai_canonname.is_null() {
            // SAFETY: ai_canonname is a NUL-terminated string owned by the list.
            canon = Some(
                unsafe { CStr::from_ptr(ai.ai_canonname) }
                    .to_bytes()
                    .to_vec(),
            );
        }
        if !ai.ai_addr.is_null() {
            // SAFETY: all-zero is a valid sockaddr_storage.
            let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
            let len = (ai.ai_addrlen as usize).min(size_of::<libc::sockaddr_storage>());
            // SAFETY: ai_addr points to ai_addrlen readable bytes; at most the storage's
            // size is copied into it.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
                    len,
                )
            };
            if let SockName::Inet(addr) = from_raw(&storage, len as libc::socklen_t) {
                out.push(AddrInfo {
                    socktype: ai.ai_socktype,
                    protocol: ai.ai_protocol,
                    addr,
                });
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed exactly once.
    unsafe { libc::freeaddrinfo(res) };
    Ok((out, canon))
}

/// Host `getnameinfo(3)`: (host, service) or the `EAI_*` code (host value).
pub fn getnameinfo(
    addr: &SocketAddr,
    flags: libc::c_int,
) -> Result<(Vec<u8>, Vec<u8>), libc::c_int> {
    let (storage, len) = to_raw(addr);
    let mut host = [0 as libc::c_char; 1025];
    let mut serv = [0 as libc::c_char; 32];
    // SAFETY: `storage` holds a valid address of `len` bytes; `host`/`serv` are writable
    // buffers of the given sizes, all live for the duration of the call.
    let rc = unsafe {
        libc::getnameinfo(
            (&storage as *const libc::sockaddr_storage).cast(),
            len,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            serv.as_mut_ptr(),
            serv.len() as libc::socklen_t,
            flags,
        )
    };
    if rc != 0 {
        return Err(rc);
    }
    // SAFETY: on success both buffers hold NUL-terminated strings.
    let h = unsafe { CStr::from_ptr(host.as_ptr()) }.to_bytes().to_vec();
    // SAFETY: as above.
    let s = unsafe { CStr::from_ptr(serv.as_ptr()) }.to_bytes().to_vec();
    Ok((h, s))
}

/// The host's name (`gethostname(2)`).
pub fn gethostname() -> io::Result<Vec<u8>> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: `buf` is writable for its length; one byte is kept for the terminator.
    cvt(unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len() - 1) })?;
    // SAFETY: the last byte is still 0, so the buffer holds a NUL-terminated string.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec())
}

/// A C string from guest bytes (`None` if they contain a NUL).
pub fn cstring(bytes: &[u8]) -> Option<CString> {
    CString::new(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_addresses_round_trip() {
        for a in ["127.0.0.1:80", "[::1]:443", "[fe80::1%2]:9"] {
            let addr: SocketAddr = a.parse().unwrap();
            let (storage, len) = to_raw(&addr);
            assert_eq!(from_raw(&storage, len), SockName::Inet(addr), "{a}");
        }
        // SAFETY: all-zero is a valid sockaddr_storage.
        let empty: libc::sockaddr_storage = unsafe { zeroed() };
        assert_eq!(from_raw(&empty, 0), SockName::None);
    }

    #[test]
    fn numeric_lookup_needs_no_network() {
        let node = CString::new("127.0.0.1").unwrap();
        let svc = CString::new("80").unwrap();
        let (res, _) = getaddrinfo(
            Some(&node),
            Some(&svc),
            Hints {
                flags: libc::AI_NUMERICHOST | libc::AI_NUMERICSERV,
                socktype: libc::SOCK_STREAM,
                ..Hints::default()
            },
        )
        .unwrap();
        assert_eq!(res.len(), 1);
        assert_eq!(res[0].addr, "127.0.0.1:80".parse().unwrap());
    }
}
