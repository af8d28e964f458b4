//! Host-level tests: the functions called directly (as the linker would), on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

use wasmi_py_wasi::{Entry, Errno, GuestMemory, WasiCtx};

use crate::abi::{self, af, level, msg, so, sock, tcp, Eai};
use crate::ops::Cx;
use crate::policy::{AllowEntry, Checker, NetPolicy};

const FD_OUT: u32 = 0;
const FD_OUT2: u32 = 4;
const LEN_OUT: u32 = 8;
const ADDR: u32 = 16;
const ADDR2: u32 = 48;
const VAL: u32 = 96;
const BUF: u32 = 1024;
const MEM: usize = 64 * 1024;

struct Guest {
    wasi: WasiCtx,
    net: Checker,
    mem: Vec<u8>,
}

impl Guest {
    fn new(policy: NetPolicy) -> Self {
        Guest {
            wasi: WasiCtx::builder().build().unwrap(),
            net: Checker::new(policy),
            mem: vec![0; MEM],
        }
    }

    fn cx<R>(&mut self, f: impl FnOnce(&mut Cx<'_, '_>) -> R) -> R {
        let mut m = GuestMemory::new(&mut self.mem);
        f(&mut Cx {
            wasi: &mut self.wasi,
            net: &mut self.net,
            m: &mut m,
        })
    }

    fn u32(&self, at: u32) -> u32 {
        let a = at as usize;
        u32::from_le_bytes(self.mem[a..a + 4].try_into().unwrap())
    }

    fn put(&mut self, at: u32, bytes: &[u8]) {
        self.mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    }

    fn put_addr(&mut self, at: u32, addr: &str) {
        let a: SocketAddr = addr.parse().unwrap();
        self.put(at, &abi::encode_sockaddr(&a));
    }

    fn get_addr(&self, at: u32) -> SocketAddr {
        abi::decode_sockaddr(&self.mem[at as usize..at as usize + 28]).unwrap()
    }

    fn open(&mut self, family: u32, ty: u32, flags: u32) -> u32 {
        self.cx(|c| c.sock_open(family, ty, 0, flags, FD_OUT))
            .unwrap();
        self.u32(FD_OUT)
    }

    fn close(&mut self, fd: u32) {
        self.wasi.table().remove(fd).unwrap();
    }

    fn set_int(&mut self, fd: u32, lvl: u32, name: u32, v: i32) -> Result<(), Errno> {
        self.put(VAL, &v.to_le_bytes());
        self.cx(|c| c.sock_setsockopt(fd, lvl, name, VAL, 4))
    }

    fn get_int(&mut self, fd: u32, lvl: u32, name: u32) -> Result<i32, Errno> {
        self.put(LEN_OUT, &8u32.to_le_bytes());
        self.cx(|c| c.sock_getsockopt(fd, lvl, name, VAL, LEN_OUT))?;
        assert_eq!(self.u32(LEN_OUT), 4);
        Ok(self.u32(VAL) as i32)
    }
}

#[test]
fn tcp_listen_connect_accept_send_recv_peek_shutdown() {
    let mut g = Guest::new(NetPolicy::All);
    let l = g.open(af::INET, sock::STREAM, 0);
    g.set_int(l, level::SOCKET, so::REUSEADDR, 1).unwrap();
    assert_eq!(g.get_int(l, level::SOCKET, so::REUSEADDR), Ok(1));
    g.put_addr(ADDR, "127.0.0.1:0");
    g.cx(|c| c.sock_bind(l, ADDR, 28)).unwrap();
    g.cx(|c| c.sock_listen(l, 16)).unwrap();
    assert_eq!(g.get_int(l, level::SOCKET, so::ACCEPTCONN), Ok(1));
    g.cx(|c| c.sock_getsockname(l, ADDR)).unwrap();
    let local = g.get_addr(ADDR);
    assert_ne!(local.port(), 0);

    let c = g.open(af::INET, sock::STREAM, 0);
    g.cx(|cx| cx.sock_connect(c, ADDR, 28)).unwrap();
    g.cx(|cx| cx.sock_accept4(l, 0, FD_OUT, ADDR2)).unwrap();
    let s = g.u32(FD_OUT);
    g.cx(|cx| cx.sock_getsockname(c, ADDR)).unwrap();
    assert_eq!(
        g.get_addr(ADDR2),
        g.get_addr(ADDR),
        "accept reports the peer"
    );
    g.cx(|cx| cx.sock_getpeername(s, ADDR)).unwrap();
    assert_eq!(g.get_addr(ADDR), g.get_addr(ADDR2));

    g.set_int(c, level::TCP, tcp::NODELAY, 1).unwrap();
    assert_eq!(g.get_int(c, level::TCP, tcp::NODELAY), Ok(1));
    assert_eq!(
        g.get_int(c, level::SOCKET, so::TYPE),
        Ok(sock::STREAM as i32)
    );
    assert_eq!(g.get_int(c, level::SOCKET, so::DOMAIN), Ok(af::INET as i32));
    assert_eq!(g.get_int(c, level::SOCKET, so::ERROR), Ok(0));

    g.put(BUF, b"hello socket");
    g.cx(|cx| cx.sock_send(c, BUF, 12, 0, LEN_OUT)).unwrap();
    assert_eq!(g.u32(LEN_OUT), 12);
    g.cx(|cx| cx.sock_recv(s, BUF + 100, 5, msg::PEEK | msg::WAITALL, LEN_OUT))
        .unwrap();
    assert_eq!(&g.mem[BUF as usize + 100..][..5], b"hello");
    g.cx(|cx| cx.sock_recv(s, BUF + 200, 64, 0, LEN_OUT))
        .unwrap();
    assert_eq!(g.u32(LEN_OUT), 12, "peek did not consume");
    assert_eq!(&g.mem[BUF as usize + 200..][..12], b"hello socket");
    // nothing more: a one-shot non-blocking receive says AGAIN
    assert_eq!(
        g.cx(|cx| cx.sock_recv(s, BUF, 64, msg::DONTWAIT, LEN_OUT)),
        Err(Errno::AGAIN)
    );
    g.cx(|cx| cx.sock_shutdown(c, 2)).unwrap();
    g.cx(|cx| cx.sock_recv(s, BUF, 64, 0, LEN_OUT)).unwrap();
    assert_eq!(g.u32(LEN_OUT), 0, "orderly shutdown");
    assert_eq!(g.cx(|cx| cx.sock_shutdown(c, 9)), Err(Errno::INVAL));
    g.close(c);
    g.put(BUF, b"x");
    // writing to a closed peer: PIPE (or RESET), never a signal
    let mut last = Ok(());
    for _ in 0..10 {
        last = g.cx(|cx| cx.sock_send(s, BUF, 1, 0, LEN_OUT));
        if last.is_err() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        matches!(last, Err(Errno::PIPE) | Err(Errno::CONNRESET)),
        "{last:?}"
    );
    g.close(s);
    g.close(l);
}

#[test]
fn fd_table_integration_filetype_and_nonblock() {
    let mut g = Guest::new(NetPolicy::All);
    let u = g.open(af::INET6, sock::DGRAM, sock::NONBLOCK);
    match g.wasi.table().get(u).unwrap() {
        Entry::Socket(s) => {
            assert!(s.nonblock);
            assert_eq!(s.filetype(), wasmi_py_wasi::types::filetype::SOCKET_DGRAM);
        }
        _ => panic!("not a socket"),
    }
    assert_eq!(
        g.get_int(u, level::SOCKET, so::TYPE),
        Ok(sock::DGRAM as i32)
    );
    assert_eq!(
        g.get_int(u, level::SOCKET, so::DOMAIN),
        Ok(af::INET6 as i32)
    );
    // a non-socket fd
    assert_eq!(g.cx(|c| c.sock_listen(0, 1)), Err(Errno::NOTSOCK));
    assert_eq!(g.cx(|c| c.sock_listen(99, 1)), Err(Errno::BADF));
}

#[test]
fn nonblocking_connect_reports_inprogress_then_so_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut g = Guest::new(NetPolicy::All);
    let c = g.open(af::INET, sock::STREAM, sock::NONBLOCK);
    g.put_addr(ADDR, &listener.local_addr().unwrap().to_string());
    match g.cx(|cx| cx.sock_connect(c, ADDR, 28)) {
        Ok(()) | Err(Errno::INPROGRESS) => {}
        other => panic!("{other:?}"),
    }
    let (mut peer, _) = listener.accept().unwrap();
    // wait until writable, as poll_oneoff would
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while g.cx(|cx| cx.sock_getpeername(c, ADDR2)).is_err() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(g.get_int(c, level::SOCKET, so::ERROR), Ok(0));
    peer.write_all(b"hi").unwrap();
    let mut n = 0;
    while n == 0 {
        match g.cx(|cx| cx.sock_recv(c, BUF, 16, 0, LEN_OUT)) {
            Ok(()) => n = g.u32(LEN_OUT),
            Err(Errno::AGAIN) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(&g.mem[BUF as usize..][..2], b"hi");
    let mut buf = [0u8; 1];
    drop(g);
    assert_eq!(
        peer.read(&mut buf).unwrap(),
        0,
        "dropping the table closes the socket"
    );
}

#[test]
fn connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut g = Guest::new(NetPolicy::All);
    let c = g.open(af::INET, sock::STREAM, 0);
    g.put_addr(ADDR, &format!("127.0.0.1:{port}"));
    assert_eq!(
        g.cx(|cx| cx.sock_connect(c, ADDR, 28)),
        Err(Errno::CONNREFUSED)
    );
}

#[test]
fn udp_both_directions_with_recvfrom_address() {
    let host = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut g = Guest::new(NetPolicy::All);
    let u = g.open(af::INET, sock::DGRAM, 0);
    g.put_addr(ADDR, "127.0.0.1:0");
    g.cx(|c| c.sock_bind(u, ADDR, 28)).unwrap();
    g.cx(|c| c.sock_getsockname(u, ADDR)).unwrap();
    let guest_addr = g.get_addr(ADDR);
    g.put_addr(ADDR2, &host.local_addr().unwrap().to_string());
    g.put(BUF, b"ping");
    g.cx(|c| c.sock_sendto(u, BUF, 4, 0, ADDR2, 28, LEN_OUT))
        .unwrap();
    let mut b = [0u8; 16];
    let (n, from) = host.recv_from(&mut b).unwrap();
    assert_eq!((&b[..n], from), (&b"ping"[..], guest_addr));
    host.send_to(b"pong!", from).unwrap();
    g.cx(|c| c.sock_recvfrom(u, BUF, 64, 0, ADDR, LEN_OUT))
        .unwrap();
    assert_eq!(g.u32(LEN_OUT), 5);
    assert_eq!(g.get_addr(ADDR), host.local_addr().unwrap());
    g.set_int(u, level::SOCKET, so::BROADCAST, 1).unwrap();
    assert_eq!(g.get_int(u, level::SOCKET, so::BROADCAST), Ok(1));
}

#[test]
fn options_with_struct_values() {
    let mut g = Guest::new(NetPolicy::All);
    let s = g.open(af::INET, sock::STREAM, 0);
    // linger {1, 5}
    g.put(VAL, &[1, 0, 0, 0, 5, 0, 0, 0]);
    g.cx(|c| c.sock_setsockopt(s, level::SOCKET, so::LINGER, VAL, 8))
        .unwrap();
    g.put(VAL, &[0; 8]);
    g.put(LEN_OUT, &8u32.to_le_bytes());
    g.cx(|c| c.sock_getsockopt(s, level::SOCKET, so::LINGER, VAL, LEN_OUT))
        .unwrap();
    assert_eq!(&g.mem[VAL as usize..][..8], &[1, 0, 0, 0, 5, 0, 0, 0]);
    // receive timeout 1.5 s
    g.put(VAL, &1_500_000_000u64.to_le_bytes());
    g.cx(|c| c.sock_setsockopt(s, level::SOCKET, so::RCVTIMEO, VAL, 8))
        .unwrap();
    g.put(VAL, &[0; 8]);
    g.cx(|c| c.sock_getsockopt(s, level::SOCKET, so::RCVTIMEO, VAL, LEN_OUT))
        .unwrap();
    assert_eq!(
        u64::from_le_bytes(g.mem[VAL as usize..][..8].try_into().unwrap()),
        1_500_000_000
    );
    g.set_int(s, level::SOCKET, so::RCVBUF, 65536).unwrap();
    assert!(g.get_int(s, level::SOCKET, so::RCVBUF).unwrap() >= 65536);
    g.set_int(s, level::SOCKET, so::KEEPALIVE, 1).unwrap();
    assert_eq!(g.get_int(s, level::SOCKET, so::KEEPALIVE), Ok(1));
    // wrong sizes, unknown and read-only options
    assert_eq!(
        g.cx(|c| c.sock_setsockopt(s, level::SOCKET, so::KEEPALIVE, VAL, 2)),
        Err(Errno::INVAL)
    );
    assert_eq!(
        g.cx(|c| c.sock_setsockopt(s, 77, 1, VAL, 4)),
        Err(Errno::NOPROTOOPT)
    );
    assert_eq!(
        g.cx(|c| c.sock_setsockopt(s, level::SOCKET, so::ERROR, VAL, 4)),
        Err(Errno::NOPROTOOPT)
    );
    g.put(LEN_OUT, &2u32.to_le_bytes());
    assert_eq!(
        g.cx(|c| c.sock_getsockopt(s, level::SOCKET, so::TYPE, VAL, LEN_OUT)),
        Err(Errno::INVAL)
    );
}

#[test]
fn socketpair_and_dup_need_no_network() {
    let mut g = Guest::new(NetPolicy::Deny);
    g.cx(|c| c.sock_socketpair(sock::STREAM, 0, FD_OUT))
        .unwrap();
    let (a, b) = (g.u32(FD_OUT), g.u32(FD_OUT2));
    assert_eq!(g.get_int(a, level::SOCKET, so::DOMAIN), Ok(af::UNIX as i32));
    g.cx(|c| c.sock_dup(a, LEN_OUT)).unwrap();
    let a2 = g.u32(LEN_OUT);
    g.close(a);
    g.put(BUF, b"via dup");
    g.cx(|c| c.sock_send(a2, BUF, 7, 0, LEN_OUT)).unwrap();
    g.cx(|c| c.sock_recv(b, BUF + 64, 64, 0, LEN_OUT)).unwrap();
    assert_eq!(&g.mem[BUF as usize + 64..][..7], b"via dup");
    assert_eq!(g.cx(|c| c.sock_dup(0, LEN_OUT)), Err(Errno::NOTSOCK));
}

#[test]
fn deny_policy_refuses_network_but_not_local_things() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut g = Guest::new(NetPolicy::Deny);
    let c = g.open(af::INET, sock::STREAM, 0);
    g.put_addr(ADDR, &listener.local_addr().unwrap().to_string());
    assert_eq!(
        g.cx(|cx| cx.sock_connect(c, ADDR, 28)),
        Err(Errno::NOTCAPABLE)
    );
    g.put_addr(ADDR, "127.0.0.1:0");
    assert_eq!(g.cx(|cx| cx.sock_bind(c, ADDR, 28)), Err(Errno::NOTCAPABLE));
    assert_eq!(
        g.cx(|cx| cx.sock_listen(c, 1)),
        Err(Errno::NOTCAPABLE),
        "implicit bind"
    );
    let u = g.open(af::INET, sock::DGRAM, 0);
    g.put(BUF, b"x");
    g.put_addr(ADDR, &listener.local_addr().unwrap().to_string());
    assert_eq!(
        g.cx(|cx| cx.sock_sendto(u, BUF, 1, 0, ADDR, 28, LEN_OUT)),
        Err(Errno::NOTCAPABLE)
    );
    // the host name is not revealed
    g.cx(|cx| cx.gethostname(BUF, 64, LEN_OUT)).unwrap();
    assert_eq!(
        &g.mem[BUF as usize..][..g.u32(LEN_OUT) as usize],
        b"localhost"
    );
}

fn gai(
    g: &mut Guest,
    node: &str,
    service: &str,
    flags: u32,
    family: u32,
    socktype: u32,
) -> (Eai, Vec<SocketAddr>) {
    let node_at = 4096u32;
    let svc_at = 4608u32;
    let hints_at = 4700u32;
    let res_at = 8192u32;
    g.put(node_at, node.as_bytes());
    g.put(svc_at, service.as_bytes());
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&flags.to_le_bytes());
    h[4..6].copy_from_slice(&(family as u16).to_le_bytes());
    h[6..8].copy_from_slice(&(socktype as u16).to_le_bytes());
    g.put(hints_at, &h);
    let st = g.cx(|c| {
        c.getaddrinfo(
            node_at,
            node.len() as u32,
            svc_at,
            service.len() as u32,
            hints_at,
            res_at,
            16,
            LEN_OUT,
            BUF,
            256,
            FD_OUT,
        )
    });
    let mut out = Vec::new();
    if st == Eai::OK {
        for i in 0..g.u32(LEN_OUT).min(16) {
            let at = (res_at + i * 32) as usize;
            out.push(abi::decode_sockaddr(&g.mem[at + 4..at + 32]).unwrap());
        }
    }
    (st, out)
}

#[test]
fn resolver_through_the_host_and_the_policy() {
    let mut g = Guest::new(NetPolicy::Deny);
    let (st, addrs) = gai(&mut g, "localhost", "8080", 0, af::INET, sock::STREAM);
    assert_eq!(st, Eai::OK);
    assert_eq!(addrs, vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
    let (st, addrs) = gai(&mut g, "::1", "http", 0, 0, sock::STREAM);
    assert_eq!((st, addrs[0].port()), (Eai::OK, 80));
    assert_eq!(gai(&mut g, "example.invalid", "80", 0, 0, 0).0, Eai::DENIED);
    assert_eq!(
        gai(&mut g, "nonumeric", "80", 0x4, 0, 0).0,
        Eai::NONAME,
        "AI_NUMERICHOST"
    );
    assert_eq!(gai(&mut g, "localhost", "80", 0x80, 0, 0).0, Eai::BADFLAGS);
    assert_eq!(gai(&mut g, "localhost", "80", 0, 9, 0).0, Eai::FAMILY);
    assert_eq!(gai(&mut g, "localhost", "80", 0, 0, 9).0, Eai::SOCKTYPE);
    let mut g = Guest::new(NetPolicy::All);
    assert_eq!(gai(&mut g, "name.invalid", "80", 0, 0, 0).0, Eai::NONAME);

    // reverse: numeric always, names of loopback always, others not without the network
    let mut g = Guest::new(NetPolicy::Deny);
    g.put_addr(ADDR, "127.0.0.1:80");
    let st = g.cx(|c| {
        c.getnameinfo(
            ADDR,
            28,
            abi::ai::NI_NUMERICSERV,
            BUF,
            255,
            LEN_OUT,
            BUF + 300,
            31,
            FD_OUT,
        )
    });
    assert_eq!(st, Eai::OK);
    assert_eq!(&g.mem[BUF as usize + 300..][..2], b"80");
    g.put_addr(ADDR, "192.0.2.1:80");
    let st = g.cx(|c| c.getnameinfo(ADDR, 28, abi::ai::NI_NAMEREQD, BUF, 255, LEN_OUT, 0, 0, 0));
    assert_eq!(st, Eai::DENIED);
    let st = g.cx(|c| c.getnameinfo(ADDR, 28, 0, BUF, 255, LEN_OUT, 0, 0, 0));
    assert_eq!(st, Eai::OK, "falls back to the numeric form");
    assert_eq!(
        &g.mem[BUF as usize..][..g.u32(LEN_OUT) as usize],
        b"192.0.2.1"
    );
    let st = g.cx(|c| c.getnameinfo(ADDR, 28, 0, BUF, 3, LEN_OUT, 0, 0, 0));
    assert_eq!(st, Eai::OVERFLOW);
}

#[test]
fn allow_list_is_honoured() {
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = allowed.local_addr().unwrap();
    let mut policy = NetPolicy::Deny;
    policy.allow(AllowEntry::parse_list(&a.to_string()).unwrap());
    let mut g = Guest::new(policy);
    let c = g.open(af::INET, sock::STREAM, 0);
    g.put_addr(ADDR, &other.local_addr().unwrap().to_string());
    assert_eq!(
        g.cx(|cx| cx.sock_connect(c, ADDR, 28)),
        Err(Errno::NOTCAPABLE)
    );
    g.put_addr(ADDR, &a.to_string());
    g.cx(|cx| cx.sock_connect(c, ADDR, 28)).unwrap();
    let (mut s, _) = allowed.accept().unwrap();
    s.write_all(b"ok").unwrap();
    g.cx(|cx| cx.sock_recv(c, BUF, 2, msg::WAITALL, LEN_OUT))
        .unwrap();
    assert_eq!(&g.mem[BUF as usize..][..2], b"ok");
    drop(TcpStream::connect(a)); // the host side is unaffected by the guest's policy
}

#[test]
fn bad_pointers_fault_and_nothing_panics() {
    let mut g = Guest::new(NetPolicy::All);
    let big = MEM as u32 - 2;
    assert_eq!(
        g.cx(|c| c.sock_open(af::INET, sock::STREAM, 0, 0, big)),
        Err(Errno::FAULT)
    );
    assert_eq!(g.wasi.table().len(), 3, "nothing was opened");
    let s = g.open(af::INET, sock::STREAM, 0);
    assert_eq!(g.cx(|c| c.sock_bind(s, big, 28)), Err(Errno::FAULT));
    assert_eq!(g.cx(|c| c.sock_bind(s, ADDR, 27)), Err(Errno::INVAL));
    assert_eq!(
        g.cx(|c| c.sock_send(s, u32::MAX, 10, 0, LEN_OUT)),
        Err(Errno::FAULT)
    );
    assert_eq!(
        g.cx(|c| c.sock_recv(s, BUF, u32::MAX, 0, LEN_OUT)),
        Err(Errno::FAULT)
    );
    assert_eq!(
        g.cx(|c| c.sock_recv(s, BUF, 1, 0x80, LEN_OUT)),
        Err(Errno::INVAL)
    );
    assert_eq!(
        g.cx(|c| c.sock_getsockopt(s, 1, 1, VAL, big + 1)),
        Err(Errno::FAULT)
    );
    let st = g.cx(|c| c.getaddrinfo(0, 0, 0, 0, 0, 0, u32::MAX, LEN_OUT, 0, 0, 0));
    assert_eq!(st, Eai::SYSTEM, "result array out of bounds");
    let st = g.cx(|c| c.getaddrinfo(u32::MAX, 5, 0, 0, 0, 0, 1, LEN_OUT, 0, 0, 0));
    assert_eq!(st, Eai::SYSTEM, "node out of bounds");
    let st = g.cx(|c| c.getaddrinfo(0, 5, 0, 0, 0, 0, 1, LEN_OUT, 0, 0, 0));
    assert_eq!(st, Eai::NONAME, "a node with a NUL byte names nothing");
    // arbitrary arguments to every function: statuses, never a panic (no network, so no
    // lookup leaves the host)
    let mut g = Guest::new(NetPolicy::Deny);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        match x % 4 {
            0 => (x >> 32) as u32 % 16,
            1 => (x >> 32) as u32 % (MEM as u32 + 64),
            2 => u32::MAX - (x >> 40) as u32,
            _ => (x >> 32) as u32,
        }
    };
    for _ in 0..3000 {
        let a: Vec<u32> = (0..11).map(|_| next()).collect();
        let which = a[0] % 19;
        // keep away from the fds that could block (stdio), and never block on a socket
        g.cx(|c| {
            let fd = 3 + a[1] % 4;
            match which {
                0 => drop(c.sock_open(a[2] % 4, a[3] % 4, a[4] % 20, a[5] % 3, a[6])),
                1 => drop(c.sock_bind(fd, a[2], a[3] % 40)),
                2 => drop(c.sock_getsockname(fd, a[2])),
                3 => drop(c.sock_getpeername(fd, a[2])),
                4 => drop(c.sock_setsockopt(fd, a[2] % 5, a[3] % 14, a[4], a[5] % 12)),
                5 => drop(c.sock_getsockopt(fd, a[2] % 5, a[3] % 14, a[4], a[5])),
                6 => drop(c.sock_send(fd, a[2], a[3] % 64, msg::DONTWAIT | (a[4] % 2), a[5])),
                7 => drop(c.sock_recv(fd, a[2], a[3] % 64, msg::DONTWAIT | (a[4] % 8), a[5])),
                8 => drop(c.sock_recvfrom(fd, a[2], a[3] % 64, msg::DONTWAIT, a[4], a[5])),
                9 => drop(c.sock_shutdown(fd, a[2] % 5)),
                10 => drop(c.sock_dup(fd, a[2])),
                11 => drop(c.sock_socketpair(a[2] % 4, a[3] % 3, a[4])),
                12 => drop(c.gethostname(a[2], a[3] % 300, a[4])),
                13 => drop(c.getnameinfo(
                    a[2],
                    a[3] % 40,
                    (a[4] % 40) | 1,
                    a[5],
                    a[6] % 64,
                    a[7],
                    a[8],
                    a[9] % 64,
                    a[10],
                )),
                14 => drop(c.getaddrinfo(
                    a[2],
                    a[3] % 8,
                    a[4],
                    a[5] % 8,
                    a[6],
                    a[7],
                    a[8] % 64,
                    a[9],
                    a[10],
                    a[2] % 64,
                    a[3],
                )),
                _ => {}
            }
        });
        // close whatever got opened beyond a few fds, so the table stays small
        for fd in 8..64 {
            let _ = g.wasi.table().remove(fd);
        }
    }
}
