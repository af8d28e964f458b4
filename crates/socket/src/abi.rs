//! The ABI's own constants and the 28-byte `sockaddr` (see `docs/socket-abi.md`).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use wasmi_py_wasi::Errno;

/// Size of an ABI `sockaddr`.
pub const SOCKADDR_SIZE: u32 = 28;
/// Size of the resolver hints.
pub const HINTS_SIZE: u32 = 16;
/// Size of one resolver result entry.
pub const ADDRINFO_SIZE: u32 = 32;

/// Address families.
pub mod af {
    /// Unspecified (resolver hints only).
    pub const UNSPEC: u32 = 0;
    /// IPv4.
    pub const INET: u32 = 1;
    /// IPv6.
    pub const INET6: u32 = 2;
    /// Unix domain: only reported (`SO_DOMAIN` of socket pairs and preopened Unix sockets).
    pub const UNIX: u32 = 3;
}

/// Socket types.
pub mod sock {
    /// A stream (TCP).
    pub const STREAM: u32 = 1;
    /// Datagrams (UDP).
    pub const DGRAM: u32 = 2;
    /// `sock_open`/`sock_accept4`/`sock_socketpair` flag: the new socket is non-blocking.
    pub const NONBLOCK: u32 = 0x1;
}

/// Protocols (IANA numbers).
pub mod proto {
    /// The default for the type.
    pub const IP: u32 = 0;
    /// TCP.
    pub const TCP: u32 = 6;
    /// UDP.
    pub const UDP: u32 = 17;
}

/// Send/receive flags.
pub mod msg {
    /// Look at the data without consuming it (receive only).
    pub const PEEK: u32 = 0x1;
    /// Wait for the full length (receive only).
    pub const WAITALL: u32 = 0x2;
    /// This call does not block.
    pub const DONTWAIT: u32 = 0x4;
}

/// Option levels.
pub mod level {
    /// `SOL_SOCKET`.
    pub const SOCKET: u32 = 1;
    /// `SOL_TCP`.
    pub const TCP: u32 = 2;
    /// `SOL_IP`.
    pub const IP: u32 = 3;
    /// `SOL_IPV6`.
    pub const IPV6: u32 = 4;
}

/// `SOL_SOCKET` option names.
pub mod so {
    /// bool.
    pub const REUSEADDR: u32 = 1;
    /// int (ABI errno), get only; reading clears it.
    pub const ERROR: u32 = 2;
    /// int (`SOCK_*`), get only.
    pub const TYPE: u32 = 3;
    /// bool.
    pub const KEEPALIVE: u32 = 4;
    /// bool.
    pub const BROADCAST: u32 = 5;
    /// int.
    pub const SNDBUF: u32 = 6;
    /// int.
    pub const RCVBUF: u32 = 7;
    /// `{i32 onoff; i32 seconds}`.
    pub const LINGER: u32 = 8;
    /// u64 nanoseconds (0 = none).
    pub const RCVTIMEO: u32 = 9;
    /// u64 nanoseconds (0 = none).
    pub const SNDTIMEO: u32 = 10;
    /// bool, get only.
    pub const ACCEPTCONN: u32 = 11;
    /// bool.
    pub const REUSEPORT: u32 = 12;
    /// int (`AF_*`), get only.
    pub const DOMAIN: u32 = 13;
}

/// `SOL_TCP` option names.
pub mod tcp {
    /// bool.
    pub const NODELAY: u32 = 1;
    /// int (seconds).
    pub const KEEPIDLE: u32 = 2;
    /// int (seconds).
    pub const KEEPINTVL: u32 = 3;
    /// int.
    pub const KEEPCNT: u32 = 4;
}

/// Resolver flags and statuses.
pub mod ai {
    /// `AI_PASSIVE`.
    pub const PASSIVE: u32 = 0x1;
    /// `AI_CANONNAME`.
    pub const CANONNAME: u32 = 0x2;
    /// `AI_NUMERICHOST`.
    pub const NUMERICHOST: u32 = 0x4;
    /// `AI_NUMERICSERV`.
    pub const NUMERICSERV: u32 = 0x8;
    /// `AI_V4MAPPED`.
    pub const V4MAPPED: u32 = 0x10;
    /// `AI_ALL`.
    pub const ALL: u32 = 0x20;
    /// `AI_ADDRCONFIG`.
    pub const ADDRCONFIG: u32 = 0x40;
    /// Every valid flag.
    pub const MASK: u32 = 0x7f;

    /// `NI_NUMERICHOST`.
    pub const NI_NUMERICHOST: u32 = 0x1;
    /// `NI_NUMERICSERV`.
    pub const NI_NUMERICSERV: u32 = 0x2;
    /// `NI_NAMEREQD`.
    pub const NI_NAMEREQD: u32 = 0x4;
    /// `NI_DGRAM`.
    pub const NI_DGRAM: u32 = 0x8;
    /// `NI_NOFQDN`.
    pub const NI_NOFQDN: u32 = 0x10;
    /// Every valid getnameinfo flag.
    pub const NI_MASK: u32 = 0x1f;
}

/// A resolver status (`getaddrinfo`/`getnameinfo` return these, not errnos).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eai(pub i32);

impl Eai {
    /// Success.
    pub const OK: Eai = Eai(0);
    /// The name or service is not known.
    pub const NONAME: Eai = Eai(1);
    /// Temporary failure.
    pub const AGAIN: Eai = Eai(2);
    /// Permanent failure.
    pub const FAIL: Eai = Eai(3);
    /// Family not supported.
    pub const FAMILY: Eai = Eai(4);
    /// Socket type not supported.
    pub const SOCKTYPE: Eai = Eai(5);
    /// Service not supported for the socket type.
    pub const SERVICE: Eai = Eai(6);
    /// Out of memory.
    pub const MEMORY: Eai = Eai(7);
    /// Invalid flags (or non-zero reserved hint bytes).
    pub const BADFLAGS: Eai = Eai(8);
    /// The name has no addresses.
    pub const NODATA: Eai = Eai(9);
    /// A buffer is too small (getnameinfo).
    pub const OVERFLOW: Eai = Eai(10);
    /// Another failure (including a bad guest pointer).
    pub const SYSTEM: Eai = Eai(11);
    /// The host's network policy does not allow this lookup.
    pub const DENIED: Eai = Eai(12);
}

/// Decodes an ABI `sockaddr` (28 bytes).
pub fn decode_sockaddr(b: &[u8]) -> Result<SocketAddr, Errno> {
    if b.len() != SOCKADDR_SIZE as usize {
        return Err(Errno::INVAL);
    }
    let family = u32::from(u16::from_le_bytes([b[0], b[1]]));
    let port = u16::from_le_bytes([b[2], b[3]]);
    let mut addr = [0u8; 16];
    addr.copy_from_slice(&b[4..20]);
    let flowinfo = u32::from_le_bytes([b[20], b[21], b[22], b[23]]);
    let scope_id = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
    match family {
        af::INET => Ok(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]),
            port,
        ))),
        af::INET6 => Ok(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(addr),
            port,
            flowinfo,
            scope_id,
        ))),
        _ => Err(Errno::AFNOSUPPORT),
    }
}

/// Encodes an address as an ABI `sockaddr`.
pub fn encode_sockaddr(addr: &SocketAddr) -> [u8; SOCKADDR_SIZE as usize] {
    let mut b = [0u8; SOCKADDR_SIZE as usize];
    match addr {
        SocketAddr::V4(a) => {
            b[0..2].copy_from_slice(&(af::INET as u16).to_le_bytes());
            b[2..4].copy_from_slice(&a.port().to_le_bytes());
            b[4..8].copy_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            b[0..2].copy_from_slice(&(af::INET6 as u16).to_le_bytes());
            b[2..4].copy_from_slice(&a.port().to_le_bytes());
            b[4..20].copy_from_slice(&a.ip().octets());
            b[20..24].copy_from_slice(&a.flowinfo().to_le_bytes());
            b[24..28].copy_from_slice(&a.scope_id().to_le_bytes());
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_round_trips_and_matches_the_documented_layout() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let b = encode_sockaddr(&v4);
        assert_eq!(&b[0..8], &[1, 0, 0x90, 0x1f, 0x7f, 0, 0, 1]);
        assert!(b[8..].iter().all(|&x| x == 0));
        assert_eq!(decode_sockaddr(&b), Ok(v4));
        let v6 = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 443, 7, 3));
        let b = encode_sockaddr(&v6);
        assert_eq!(&b[0..4], &[2, 0, 0xbb, 0x01]);
        assert_eq!(b[4], 0xfe);
        assert_eq!(&b[20..28], &[7, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(decode_sockaddr(&b), Ok(v6));
        let mut bad = b;
        bad[0] = 9;
        assert_eq!(decode_sockaddr(&bad), Err(Errno::AFNOSUPPORT));
        assert_eq!(decode_sockaddr(&b[..27]), Err(Errno::INVAL));
    }
}
