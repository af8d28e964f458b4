//! The `wasmi_py_socket` functions (see `docs/socket-abi.md`), one method each.
//!
//! Every guest pointer is checked before anything happens on the host (so a bad
//! out-pointer never loses an accepted connection or received data); out-parameters are
//! written only on success.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use wasmi_py_wasi::errno::{from_io_error, from_raw_os_error};
use wasmi_py_wasi::{Entry, Errno, GuestMemory, Socket, SocketEntry, WasiCtx};

use crate::abi::{self, af, ai, level, msg, proto, so, sock, tcp, Eai};
use crate::policy::Checker;
use crate::sys::{self, SockName};

/// The result of a socket call: 0 or an ABI errno.
pub type SockResult = Result<(), Errno>;

/// What one host call works on.
pub struct Cx<'a, 'm> {
    /// The guest's WASI state (its fd table holds the sockets).
    pub wasi: &'a mut WasiCtx,
    /// The network policy.
    pub net: &'a mut Checker,
    /// The caller's memory.
    pub m: &'a mut GuestMemory<'m>,
}

fn io_err(e: io::Error) -> Errno {
    from_io_error(&e)
}

/// The host descriptor of guest socket `fd`.
fn sock_fd(wasi: &mut WasiCtx, fd: u32) -> Result<RawFd, Errno> {
    match wasi.table().get(fd)? {
        Entry::Socket(s) => Ok(s.socket.fd().as_raw_fd()),
        _ => Err(Errno::NOTSOCK),
    }
}

fn push_socket(
    wasi: &mut WasiCtx,
    fd: std::os::fd::OwnedFd,
    dgram: bool,
    nonblock: bool,
) -> Result<u32, Errno> {
    wasi.table().push(Entry::Socket(SocketEntry {
        socket: Socket::Other { fd, dgram },
        nonblock,
    }))
}

fn read_addr(m: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<SocketAddr, Errno> {
    if len != abi::SOCKADDR_SIZE {
        // still fault first if the pointer is bad
        m.slice(ptr, len)?;
        return Err(Errno::INVAL);
    }
    abi::decode_sockaddr(m.slice(ptr, abi::SOCKADDR_SIZE)?)
}

/// The ABI bytes of an address the host reported.
fn name_bytes(name: &SockName) -> [u8; abi::SOCKADDR_SIZE as usize] {
    match name {
        SockName::Inet(a) => abi::encode_sockaddr(a),
        SockName::Unix => {
            let mut b = [0u8; abi::SOCKADDR_SIZE as usize];
            b[0..2].copy_from_slice(&(af::UNIX as u16).to_le_bytes());
            b
        }
        SockName::None | SockName::Other => [0u8; abi::SOCKADDR_SIZE as usize],
    }
}

fn check_out(m: &GuestMemory<'_>, ptr: u32, size: u32) -> SockResult {
    m.check_array(ptr, 1, size)
}

fn host_msg_flags(flags: u32, allowed: u32) -> Result<libc::c_int, Errno> {
    if flags & !allowed != 0 {
        return Err(Errno::INVAL);
    }
    let mut out = 0;
    if flags & msg::PEEK != 0 {
        out |= libc::MSG_PEEK;
    }
    if flags & msg::WAITALL != 0 {
        out |= libc::MSG_WAITALL;
    }
    if flags & msg::DONTWAIT != 0 {
        out |= libc::MSG_DONTWAIT;
    }
    Ok(out)
}

fn unspecified(like: &SocketAddr) -> SocketAddr {
    match like {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// How a socket option's value is encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Linger,
    Duration,
    /// Read-only, computed specially.
    Get,
}

/// ABI (level, name) → host (level, name, kind).
fn option(lvl: u32, name: u32) -> Result<(libc::c_int, libc::c_int, Kind), Errno> {
    use Kind::*;
    Ok(match (lvl, name) {
        (level::SOCKET, so::REUSEADDR) => (libc::SOL_SOCKET, libc::SO_REUSEADDR, Bool),
        (level::SOCKET, so::ERROR) => (libc::SOL_SOCKET, libc::SO_ERROR, Get),
        (level::SOCKET, so::TYPE) => (libc::SOL_SOCKET, libc::SO_TYPE, Get),
        (level::SOCKET, so::KEEPALIVE) => (libc::SOL_SOCKET, libc::SO_KEEPALIVE, Bool),
        (level::SOCKET, so::BROADCAST) => (libc::SOL_SOCKET, libc::SO_BROADCAST, Bool),
        (level::SOCKET, so::SNDBUF) => (libc::SOL_SOCKET, libc::SO_SNDBUF, Int),
        (level::SOCKET, so::RCVBUF) => (libc::SOL_SOCKET, libc::SO_RCVBUF, Int),
        (level::SOCKET, so::LINGER) => (libc::SOL_SOCKET, libc::SO_LINGER, Linger),
        (level::SOCKET, so::RCVTIMEO) => (libc::SOL_SOCKET, libc::SO_RCVTIMEO, Duration),
        (level::SOCKET, so::SNDTIMEO) => (libc::SOL_SOCKET, libc::SO_SNDTIMEO, Duration),
        (level::SOCKET, so::ACCEPTCONN) => (libc::SOL_SOCKET, libc::SO_ACCEPTCONN, Get),
        (level::SOCKET, so::REUSEPORT) => (libc::SOL_SOCKET, libc::SO_REUSEPORT, Bool),
        (level::SOCKET, so::DOMAIN) => (libc::SOL_SOCKET, libc::SO_DOMAIN, Get),
        (level::TCP, tcp::NODELAY) => (libc::IPPROTO_TCP, libc::TCP_NODELAY, Bool),
        (level::TCP, tcp::KEEPIDLE) => (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, Int),
        (level::TCP, tcp::KEEPINTVL) => (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, Int),
        (level::TCP, tcp::KEEPCNT) => (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, Int),
        (level::IP, 1) => (libc::IPPROTO_IP, libc::IP_TTL, Int),
        (level::IPV6, 1) => (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, Bool),
        _ => return Err(Errno::NOPROTOOPT),
    })
}

fn value_size(kind: Kind) -> u32 {
    match kind {
        Kind::Linger | Kind::Duration => 8,
        _ => 4,
    }
}

fn ns_to_timeval(ns: u64) -> sys::Timeval {
    sys::Timeval {
        sec: libc::time_t::try_from(ns / 1_000_000_000).unwrap_or(libc::time_t::MAX),
        usec: ((ns % 1_000_000_000) / 1000) as libc::suseconds_t,
    }
}

fn timeval_to_ns(tv: sys::Timeval) -> u64 {
    (tv.sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add((tv.usec.max(0) as u64) * 1000)
}

fn abi_family(host: libc::c_int) -> u32 {
    match host {
        libc::AF_INET => af::INET,
        libc::AF_INET6 => af::INET6,
        libc::AF_UNIX => af::UNIX,
        _ => af::UNSPEC,
    }
}

fn host_eai(rc: libc::c_int) -> Eai {
    /// glibc's `EAI_ADDRFAMILY` (no address in the requested family; not in `libc`).
    const EAI_ADDRFAMILY: libc::c_int = -9;
    match rc {
        libc::EAI_NONAME => Eai::NONAME,
        libc::EAI_AGAIN => Eai::AGAIN,
        libc::EAI_FAIL => Eai::FAIL,
        libc::EAI_FAMILY => Eai::FAMILY,
        libc::EAI_SOCKTYPE => Eai::SOCKTYPE,
        libc::EAI_SERVICE => Eai::SERVICE,
        libc::EAI_MEMORY => Eai::MEMORY,
        libc::EAI_BADFLAGS => Eai::BADFLAGS,
        libc::EAI_NODATA | EAI_ADDRFAMILY => Eai::NODATA,
        libc::EAI_OVERFLOW => Eai::OVERFLOW,
        _ => Eai::SYSTEM,
    }
}

/// An optional guest string for the resolver (`len` 0 = none).
fn guest_cstr(
    m: &GuestMemory<'_>,
    ptr: u32,
    len: u32,
) -> Result<Option<(std::ffi::CString, String)>, Eai> {
    if len == 0 {
        return Ok(None);
    }
    let bytes = m.slice(ptr, len).map_err(|_| Eai::SYSTEM)?;
    let c = sys::cstring(bytes).ok_or(Eai::NONAME)?;
    Ok(Some((c, String::from_utf8_lossy(bytes).into_owned())))
}

impl Cx<'_, '_> {
    /// `sock_open(family, type, protocol, flags, fd_out)`.
    pub fn sock_open(
        &mut self,
        family: u32,
        ty: u32,
        protocol: u32,
        flags: u32,
        fd_out: u32,
    ) -> SockResult {
        check_out(self.m, fd_out, 4)?;
        let domain = match family {
            af::INET => libc::AF_INET,
            af::INET6 => libc::AF_INET6,
            _ => return Err(Errno::AFNOSUPPORT),
        };
        let (host_ty, dgram) = match ty {
            sock::STREAM => (libc::SOCK_STREAM, false),
            sock::DGRAM => (libc::SOCK_DGRAM, true),
            _ => return Err(Errno::INVAL),
        };
        let host_proto = match (protocol, dgram) {
            (proto::IP, _) => 0,
            (proto::TCP, false) => libc::IPPROTO_TCP,
            (proto::UDP, true) => libc::IPPROTO_UDP,
            _ => return Err(Errno::PROTONOSUPPORT),
        };
        if flags & !sock::NONBLOCK != 0 {
            return Err(Errno::INVAL);
        }
        let nonblock = flags & sock::NONBLOCK != 0;
        let fd = sys::socket(domain, host_ty, host_proto, nonblock).map_err(io_err)?;
        let new = push_socket(self.wasi, fd, dgram, nonblock)?;
        self.m.write_u32(fd_out, new)
    }

    /// `sock_bind(fd, addr, addr_len)`.
    pub fn sock_bind(&mut self, fd: u32, addr: u32, addr_len: u32) -> SockResult {
        let a = read_addr(self.m, addr, addr_len)?;
        let raw = sock_fd(self.wasi, fd)?;
        if !self.net.may_bind(a) {
            return Err(Errno::NOTCAPABLE);
        }
        sys::bind(raw, &a).map_err(io_err)
    }

    /// `sock_listen(fd, backlog)`.
    pub fn sock_listen(&mut self, fd: u32, backlog: u32) -> SockResult {
        let raw = sock_fd(self.wasi, fd)?;
        // Listening on a socket that was never bound binds it to the wildcard address.
        if let Ok(SockName::Inet(local)) = sys::getsockname(raw) {
            if local.port() == 0 && !self.net.may_bind(unspecified(&local)) {
                return Err(Errno::NOTCAPABLE);
            }
        }
        let backlog = libc::c_int::try_from(backlog)
            .unwrap_or(libc::c_int::MAX)
            .min(65535);
        sys::listen(raw, backlog).map_err(io_err)
    }

    /// `sock_accept4(fd, flags, fd_out, addr_out)`.
    pub fn sock_accept4(&mut self, fd: u32, flags: u32, fd_out: u32, addr_out: u32) -> SockResult {
        if flags & !sock::NONBLOCK != 0 {
            return Err(Errno::INVAL);
        }
        check_out(self.m, fd_out, 4)?;
        if addr_out != 0 {
            check_out(self.m, addr_out, abi::SOCKADDR_SIZE)?;
        }
        let raw = sock_fd(self.wasi, fd)?;
        let nonblock = flags & sock::NONBLOCK != 0;
        let (conn, peer) = sys::accept(raw, nonblock).map_err(io_err)?;
        let new = push_socket(self.wasi, conn, false, nonblock)?;
        self.m.write_u32(fd_out, new)?;
        if addr_out != 0 {
            self.m.write(addr_out, &name_bytes(&peer))?;
        }
        Ok(())
    }

    /// `sock_connect(fd, addr, addr_len)`.
    pub fn sock_connect(&mut self, fd: u32, addr: u32, addr_len: u32) -> SockResult {
        let a = read_addr(self.m, addr, addr_len)?;
        let raw = sock_fd(self.wasi, fd)?;
        if !self.net.may_connect(a) {
            return Err(Errno::NOTCAPABLE);
        }
        match sys::connect(raw, &a) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                // The connection goes on in the background: wait for its outcome.
                sys::wait_writable(raw).map_err(io_err)?;
                let err: libc::c_int =
                    sys::getsockopt(raw, libc::SOL_SOCKET, libc::SO_ERROR).map_err(io_err)?;
                match from_raw_os_error(err) {
                    Errno::SUCCESS => Ok(()),
                    e => Err(e),
                }
            }
            Err(e) => Err(io_err(e)),
        }
    }

    /// `sock_send(fd, buf, len, flags, sent_out)`.
    pub fn sock_send(
        &mut self,
        fd: u32,
        buf: u32,
        len: u32,
        flags: u32,
        sent_out: u32,
    ) -> SockResult {
        let flags = host_msg_flags(flags, msg::DONTWAIT)?;
        check_out(self.m, sent_out, 4)?;
        let raw = sock_fd(self.wasi, fd)?;
        let n = sys::send(raw, self.m.slice(buf, len)?, flags).map_err(io_err)?;
        self.m.write_u32(sent_out, u32::try_from(n).unwrap_or(len))
    }

    /// `sock_recv(fd, buf, len, flags, received_out)`.
    pub fn sock_recv(
        &mut self,
        fd: u32,
        buf: u32,
        len: u32,
        flags: u32,
        received_out: u32,
    ) -> SockResult {
        let flags = host_msg_flags(flags, msg::PEEK | msg::WAITALL | msg::DONTWAIT)?;
        check_out(self.m, received_out, 4)?;
        let raw = sock_fd(self.wasi, fd)?;
        let n = sys::recv(raw, self.m.slice_mut(buf, len)?, flags).map_err(io_err)?;
        self.m
            .write_u32(received_out, u32::try_from(n).unwrap_or(len))
    }

    /// `sock_sendto(fd, buf, len, flags, addr, addr_len, sent_out)`.
    #[allow(clippy::too_many_arguments)]
    pub fn sock_sendto(
        &mut self,
        fd: u32,
        buf: u32,
        len: u32,
        flags: u32,
        addr: u32,
        addr_len: u32,
        sent_out: u32,
    ) -> SockResult {
        if addr == 0 {
            return self.sock_send(fd, buf, len, flags, sent_out);
        }
        let flags = host_msg_flags(flags, msg::DONTWAIT)?;
        let a = read_addr(self.m, addr, addr_len)?;
        check_out(self.m, sent_out, 4)?;
        let raw = sock_fd(self.wasi, fd)?;
        if !self.net.may_connect(a) {
            return Err(Errno::NOTCAPABLE);
        }
        let n = sys::sendto(raw, self.m.slice(buf, len)?, flags, &a).map_err(io_err)?;
        self.m.write_u32(sent_out, u32::try_from(n).unwrap_or(len))
    }

    /// `sock_recvfrom(fd, buf, len, flags, addr_out, received_out)`.
    pub fn sock_recvfrom(
        &mut self,
        fd: u32,
        buf: u32,
        len: u32,
        flags: u32,
        addr_out: u32,
        received_out: u32,
    ) -> SockResult {
        let flags = host_msg_flags(flags, msg::PEEK | msg::WAITALL | msg::DONTWAIT)?;
        check_out(self.m, received_out, 4)?;
        if addr_out != 0 {
            check_out(self.m, addr_out, abi::SOCKADDR_SIZE)?;
        }
        let raw = sock_fd(self.wasi, fd)?;
        let (n, from) = sys::recvfrom(raw, self.m.slice_mut(buf, len)?, flags).map_err(io_err)?;
        self.m
            .write_u32(received_out, u32::try_from(n).unwrap_or(len))?;
        if addr_out != 0 {
            self.m.write(addr_out, &name_bytes(&from))?;
        }
        Ok(())
    }

    /// `sock_shutdown(fd, how)`.
    pub fn sock_shutdown(&mut self, fd: u32, how: u32) -> SockResult {
        let how = match how {
            1 => libc::SHUT_RD,
            2 => libc::SHUT_WR,
            3 => libc::SHUT_RDWR,
            _ => return Err(Errno::INVAL),
        };
        let raw = sock_fd(self.wasi, fd)?;
        sys::shutdown(raw, how).map_err(io_err)
    }

    fn name(&mut self, fd: u32, addr_out: u32, peer: bool) -> SockResult {
        check_out(self.m, addr_out, abi::SOCKADDR_SIZE)?;
        let raw = sock_fd(self.wasi, fd)?;
        let name = if peer {
            sys::getpeername(raw)
        } else {
            sys::getsockname(raw)
        }
        .map_err(io_err)?;
        self.m.write(addr_out, &name_bytes(&name))
    }

    /// `sock_getsockname(fd, addr_out)`.
    pub fn sock_getsockname(&mut self, fd: u32, addr_out: u32) -> SockResult {
        self.name(fd, addr_out, false)
    }

    /// `sock_getpeername(fd, addr_out)`.
    pub fn sock_getpeername(&mut self, fd: u32, addr_out: u32) -> SockResult {
        self.name(fd, addr_out, true)
    }

    /// `sock_setsockopt(fd, level, name, value, value_len)`.
    pub fn sock_setsockopt(
        &mut self,
        fd: u32,
        lvl: u32,
        name: u32,
        value: u32,
        value_len: u32,
    ) -> SockResult {
        let bytes = self.m.slice(value, value_len)?;
        let (hl, hn, kind) = option(lvl, name)?;
        if kind == Kind::Get {
            return Err(Errno::NOPROTOOPT);
        }
        if value_len != value_size(kind) {
            return Err(Errno::INVAL);
        }
        let int_at =
            |i: usize| i32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let raw = sock_fd(self.wasi, fd)?;
        let r = match kind {
            Kind::Bool => sys::setsockopt::<libc::c_int>(raw, hl, hn, i32::from(int_at(0) != 0)),
            Kind::Int => sys::setsockopt::<libc::c_int>(raw, hl, hn, int_at(0)),
            Kind::Linger => sys::setsockopt(
                raw,
                hl,
                hn,
                sys::Linger {
                    onoff: int_at(0),
                    linger: int_at(4),
                },
            ),
            Kind::Duration => {
                let mut ns = [0u8; 8];
                ns.copy_from_slice(&bytes[..8]);
                sys::setsockopt(raw, hl, hn, ns_to_timeval(u64::from_le_bytes(ns)))
            }
            Kind::Get => return Err(Errno::NOPROTOOPT),
        };
        r.map_err(io_err)
    }

    /// `sock_getsockopt(fd, level, name, value, value_len_inout)`.
    pub fn sock_getsockopt(
        &mut self,
        fd: u32,
        lvl: u32,
        name: u32,
        value: u32,
        value_len_inout: u32,
    ) -> SockResult {
        let cap = self.m.read_u32(value_len_inout)?;
        let (hl, hn, kind) = option(lvl, name)?;
        let size = value_size(kind);
        if cap < size {
            return Err(Errno::INVAL);
        }
        self.m.check_array(value, 1, size)?;
        let raw = sock_fd(self.wasi, fd)?;
        let mut out = [0u8; 8];
        match kind {
            Kind::Get => {
                let v: libc::c_int = sys::getsockopt(raw, hl, hn).map_err(io_err)?;
                let abi_v: u32 = match name {
                    so::ERROR => u32::from(from_raw_os_error(v).0),
                    so::TYPE => match v {
                        libc::SOCK_STREAM | libc::SOCK_SEQPACKET => sock::STREAM,
                        libc::SOCK_DGRAM => sock::DGRAM,
                        _ => 0,
                    },
                    so::DOMAIN => abi_family(v),
                    _ => u32::from(v != 0),
                };
                out[..4].copy_from_slice(&abi_v.to_le_bytes());
            }
            Kind::Bool => {
                let v: libc::c_int = sys::getsockopt(raw, hl, hn).map_err(io_err)?;
                out[..4].copy_from_slice(&i32::from(v != 0).to_le_bytes());
            }
            Kind::Int => {
                let v: libc::c_int = sys::getsockopt(raw, hl, hn).map_err(io_err)?;
                out[..4].copy_from_slice(&v.to_le_bytes());
            }
            Kind::Linger => {
                let v: sys::Linger = sys::getsockopt(raw, hl, hn).map_err(io_err)?;
                out[..4].copy_from_slice(&v.onoff.to_le_bytes());
                out[4..].copy_from_slice(&v.linger.to_le_bytes());
            }
            Kind::Duration => {
                let v: sys::Timeval = sys::getsockopt(raw, hl, hn).map_err(io_err)?;
                out.copy_from_slice(&timeval_to_ns(v).to_le_bytes());
            }
        }
        self.m.write(value, &out[..size as usize])?;
        self.m.write_u32(value_len_inout, size)
    }

    /// `sock_socketpair(type, flags, fds_out)`: a connected pair of local sockets. Needs
    /// no network capability.
    pub fn sock_socketpair(&mut self, ty: u32, flags: u32, fds_out: u32) -> SockResult {
        check_out(self.m, fds_out, 8)?;
        let (host_ty, dgram) = match ty {
            sock::STREAM => (libc::SOCK_STREAM, false),
            sock::DGRAM => (libc::SOCK_DGRAM, true),
            _ => return Err(Errno::INVAL),
        };
        if flags & !sock::NONBLOCK != 0 {
            return Err(Errno::INVAL);
        }
        let nonblock = flags & sock::NONBLOCK != 0;
        let (a, b) = sys::socketpair(host_ty, nonblock).map_err(io_err)?;
        let fa = push_socket(self.wasi, a, dgram, nonblock)?;
        let fb = match push_socket(self.wasi, b, dgram, nonblock) {
            Ok(fb) => fb,
            Err(e) => {
                let _ = self.wasi.table().remove(fa);
                return Err(e);
            }
        };
        self.m.write_u32(fds_out, fa)?;
        self.m.write_u32(fds_out + 4, fb)
    }

    /// `sock_dup(fd, fd_out)`.
    pub fn sock_dup(&mut self, fd: u32, fd_out: u32) -> SockResult {
        check_out(self.m, fd_out, 4)?;
        let (raw, dgram) = match self.wasi.table().get(fd)? {
            Entry::Socket(s) => (s.socket.fd().as_raw_fd(), s.socket.is_dgram()),
            _ => return Err(Errno::NOTSOCK),
        };
        let new = sys::dup(raw).map_err(io_err)?;
        let nonblock = sys::is_nonblocking(raw).map_err(io_err)?;
        let nfd = push_socket(self.wasi, new, dgram, nonblock)?;
        self.m.write_u32(fd_out, nfd)
    }

    /// `getaddrinfo(node, node_len, service, service_len, hints, res, res_cap, res_count_out,
    /// canon, canon_cap, canon_len_out)`.
    #[allow(clippy::too_many_arguments)]
    pub fn getaddrinfo(
        &mut self,
        node: u32,
        node_len: u32,
        service: u32,
        service_len: u32,
        hints: u32,
        res: u32,
        res_cap: u32,
        res_count_out: u32,
        canon: u32,
        canon_cap: u32,
        canon_len_out: u32,
    ) -> Eai {
        // The body uses `?`; its error is the `EAI_*` code returned.
        let mut run = || -> Result<(), Eai> {
            let fault = |_| Eai::SYSTEM;
            let node = guest_cstr(self.m, node, node_len)?;
            let service = guest_cstr(self.m, service, service_len)?;
            let mut h = sys::Hints::default();
            let mut flags = 0;
            if hints != 0 {
                let b = self.m.slice(hints, abi::HINTS_SIZE).map_err(fault)?;
                flags = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let family = u32::from(u16::from_le_bytes([b[4], b[5]]));
                let socktype = u32::from(u16::from_le_bytes([b[6], b[7]]));
                let protocol = u16::from_le_bytes([b[8], b[9]]);
                if flags & !ai::MASK != 0 || b[10..16].iter().any(|&x| x != 0) {
                    return Err(Eai::BADFLAGS);
                }
                h.family = match family {
                    af::UNSPEC => libc::AF_UNSPEC,
                    af::INET => libc::AF_INET,
                    af::INET6 => libc::AF_INET6,
                    _ => return Err(Eai::FAMILY),
                };
                h.socktype = match socktype {
                    0 => 0,
                    sock::STREAM => libc::SOCK_STREAM,
                    sock::DGRAM => libc::SOCK_DGRAM,
                    _ => return Err(Eai::SOCKTYPE),
                };
                h.protocol = libc::c_int::from(protocol);
                for (bit, host) in [
                    (ai::PASSIVE, libc::AI_PASSIVE),
                    (ai::CANONNAME, libc::AI_CANONNAME),
                    (ai::NUMERICHOST, libc::AI_NUMERICHOST),
                    (ai::NUMERICSERV, libc::AI_NUMERICSERV),
                    (ai::V4MAPPED, libc::AI_V4MAPPED),
                    (ai::ALL, libc::AI_ALL),
                    (ai::ADDRCONFIG, libc::AI_ADDRCONFIG),
                ] {
                    if flags & bit != 0 {
                        h.flags |= host;
                    }
                }
            }
            self.m
                .check_array(res, res_cap, abi::ADDRINFO_SIZE)
                .map_err(fault)?;
            self.m.check_array(res_count_out, 1, 4).map_err(fault)?;
            if canon != 0 {
                self.m.check_array(canon, canon_cap, 1).map_err(fault)?;
            }
            if canon_len_out != 0 {
                self.m.check_array(canon_len_out, 1, 4).map_err(fault)?;
            }
            if let Some((_, name)) = &node {
                if flags & ai::NUMERICHOST == 0 && !self.net.may_resolve(name) {
                    return Err(Eai::DENIED);
                }
            }
            let (found, canon_name) = sys::getaddrinfo(
                node.as_ref().map(|(c, _)| c.as_c_str()),
                service.as_ref().map(|(c, _)| c.as_c_str()),
                h,
            )
            .map_err(host_eai)?;
            let entries: Vec<[u8; abi::ADDRINFO_SIZE as usize]> = found
                .iter()
                .filter_map(|r| {
                    let ty = match r.socktype {
                        libc::SOCK_STREAM => sock::STREAM,
                        libc::SOCK_DGRAM => sock::DGRAM,
                        _ => return None,
                    };
                    let mut e = [0u8; abi::ADDRINFO_SIZE as usize];
                    e[0..2].copy_from_slice(&(ty as u16).to_le_bytes());
                    e[2..4]
                        .copy_from_slice(&(u16::try_from(r.protocol).unwrap_or(0)).to_le_bytes());
                    e[4..].copy_from_slice(&abi::encode_sockaddr(&r.addr));
                    Some(e)
                })
                .collect();
            if let Some((_, name)) = &node {
                self.net.learn(name, found.iter().map(|r| r.addr.ip()));
            }
            for (i, e) in entries.iter().take(res_cap as usize).enumerate() {
                let at = u64::from(res) + i as u64 * u64::from(abi::ADDRINFO_SIZE);
                let at = u32::try_from(at).map_err(|_| Eai::SYSTEM)?;
                self.m.write(at, e).map_err(fault)?;
            }
            let count = u32::try_from(entries.len()).map_err(|_| Eai::MEMORY)?;
            self.m.write_u32(res_count_out, count).map_err(fault)?;
            let canon_name = canon_name.unwrap_or_default();
            let clen = if canon != 0 {
                let n = canon_name.len().min(canon_cap as usize);
                self.m.write(canon, &canon_name[..n]).map_err(fault)?;
                n
            } else {
                0
            };
            if canon_len_out != 0 {
                self.m
                    .write_u32(canon_len_out, clen as u32)
                    .map_err(fault)?;
            }
            Ok(())
        };
        run().err().unwrap_or(Eai::OK)
    }

    /// `getnameinfo(addr, addr_len, flags, host, host_cap, host_len_out, serv, serv_cap,
    /// serv_len_out)`.
    #[allow(clippy::too_many_arguments)]
    pub fn getnameinfo(
        &mut self,
        addr: u32,
        addr_len: u32,
        flags: u32,
        host: u32,
        host_cap: u32,
        host_len_out: u32,
        serv: u32,
        serv_cap: u32,
        serv_len_out: u32,
    ) -> Eai {
        let r = (|| -> Result<(), Eai> {
            let fault = |_| Eai::SYSTEM;
            let a = match read_addr(self.m, addr, addr_len) {
                Ok(a) => a,
                Err(Errno::FAULT) => return Err(Eai::SYSTEM),
                Err(_) => return Err(Eai::FAMILY),
            };
            if flags & !ai::NI_MASK != 0 {
                return Err(Eai::BADFLAGS);
            }
            if host != 0 {
                self.m.check_array(host, host_cap, 1).map_err(fault)?;
                self.m.check_array(host_len_out, 1, 4).map_err(fault)?;
            }
            if serv != 0 {
                self.m.check_array(serv, serv_cap, 1).map_err(fault)?;
                self.m.check_array(serv_len_out, 1, 4).map_err(fault)?;
            }
            let mut hf = 0;
            let mut numeric_host = flags & ai::NI_NUMERICHOST != 0;
            if !numeric_host && !self.net.may_reverse(a.ip()) {
                // A reverse lookup the policy does not allow: with NI_NAMEREQD that is an
                // error; otherwise getnameinfo's own fallback applies (the numeric form).
                if flags & ai::NI_NAMEREQD != 0 {
                    return Err(Eai::DENIED);
                }
                numeric_host = true;
            }
            for (bit, on, hostflag) in [
                (ai::NI_NUMERICHOST, numeric_host, libc::NI_NUMERICHOST),
                (ai::NI_NUMERICSERV, false, libc::NI_NUMERICSERV),
                (ai::NI_NAMEREQD, false, libc::NI_NAMEREQD),
                (ai::NI_DGRAM, false, libc::NI_DGRAM),
                (ai::NI_NOFQDN, false, libc::NI_NOFQDN),
            ] {
                if on || flags & bit != 0 {
                    hf |= hostflag;
                }
            }
            let (h, s) = sys::getnameinfo(&a, hf).map_err(host_eai)?;
            if host != 0 {
                if h.len() > host_cap as usize {
                    return Err(Eai::OVERFLOW);
                }
                self.m.write(host, &h).map_err(fault)?;
                self.m
                    .write_u32(host_len_out, h.len() as u32)
                    .map_err(fault)?;
            }
            if serv != 0 {
                if s.len() > serv_cap as usize {
                    return Err(Eai::OVERFLOW);
                }
                self.m.write(serv, &s).map_err(fault)?;
                self.m
                    .write_u32(serv_len_out, s.len() as u32)
                    .map_err(fault)?;
            }
            Ok(())
        })();
        r.err().unwrap_or(Eai::OK)
    }

    /// `gethostname(buf, buf_cap, len_out)`: the host's name if the guest has any network
    /// access, else `localhost` (the name is not the guest's business otherwise).
    pub fn gethostname(&mut self, buf: u32, buf_cap: u32, len_out: u32) -> SockResult {
        check_out(self.m, len_out, 4)?;
        let name = if self.net.any() {
            sys::gethostname().map_err(io_err)?
        } else {
            b"localhost".to_vec()
        };
        let len = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
        if len > buf_cap {
            return Err(Errno::NAMETOOLONG);
        }
        self.m.write(buf, &name)?;
        self.m.write_u32(len_out, len)
    }
}
