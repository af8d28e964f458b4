//! Sockets: CPython's unchanged `socket` module — and with it urllib, http.client,
//! http.server, selectors, asyncio and `requests` — on real host sockets through the built
//! `wasmi-py` binary (the `wasmi_py_socket` host module, `docs/socket-abi.md`). Everything
//! runs on loopback against servers the test starts itself on ports the OS chooses, and
//! every test is bounded in time (the guest is killed and the test fails past its limit).
//!
//! Needs a built python.wasm (python-wasm/build.sh). The `requests` test installs the
//! pure-Python wheels from PyPI into the wasmi-py cache (outside the repository) the first
//! time; if that is impossible (no pip, no PyPI) the test fails, as do the tests that need
//! a host python3 or an IPv6 loopback when those are missing: nothing passes by skipping.
//! Measurements (throughput, request rate) are printed to stderr: `--nocapture` shows them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wasmi-py");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmi-py-sockets-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

/// A running child process (the guest, or a host helper) whose output is collected; killed
/// when dropped.
struct Proc {
    child: Child,
    what: String,
    lines: Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Proc {
    fn spawn(mut cmd: Command, what: &str) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let all = Arc::clone(&stdout);
        let r1 = std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                all.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let mut err = child.stderr.take().unwrap();
        let all = Arc::clone(&stderr);
        let r2 = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            all.lock().unwrap().push_str(&s);
        });
        Proc {
            child,
            what: what.to_owned(),
            lines,
            stdout,
            stderr,
            readers: vec![r1, r2],
        }
    }

    /// The guest: `wasmi-py run ARGS...` in `dir`.
    fn guest(dir: &Path, args: &[&str]) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.arg("run").args(args).current_dir(dir);
        Proc::spawn(cmd, "wasmi-py")
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    fn wait_line(&self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_owned();
                    }
                }
                Err(_) => panic!(
                    "{}: no line starting with {prefix:?} within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    self.what,
                    self.stdout.lock().unwrap(),
                    self.stderr()
                ),
            }
        }
    }

    /// Waits for the process to exit (killing it and failing past `limit`).
    fn finish(mut self, limit: Duration) -> Out {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    self.what,
                    self.stdout.lock().unwrap(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Out {
            status: status.code().unwrap_or(-1),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `code` with `flags` and returns its output once it exits (within `limit`).
fn run_py(dir: &Path, flags: &[&str], code: &str, limit: Duration) -> Out {
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["-c", code]);
    Proc::guest(dir, &args).finish(limit)
}

fn ok(out: &Out) -> &str {
    assert_eq!(
        out.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    &out.stdout
}

fn have_python3() -> bool {
    Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success())
}

/// A host TCP echo server (one thread per connection) on `addr`; returns its address.
fn echo_server(addr: &str) -> SocketAddr {
    let l = TcpListener::bind(addr).unwrap();
    let a = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            std::thread::spawn(move || {
                let _ = c.set_read_timeout(Some(Duration::from_secs(60)));
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 || c.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    a
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn urllib_and_http_client_against_a_native_http_server() {
    assert!(
        have_python3(),
        "this test needs a host python3 (Debian's python3) for its server"
    );
    let dir = scratch("urllib");
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("hello.txt"), "hello from the host\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(www.join("big.bin"), &big).unwrap();
    let mut cmd = Command::new("python3");
    cmd.args([
        "-u",
        "-m",
        "http.server",
        "0",
        "--bind",
        "127.0.0.1",
        "--directory",
    ])
    .arg(&www);
    let server = Proc::spawn(cmd, "python3 -m http.server");
    let line = server.wait_line("Serving HTTP on 127.0.0.1 port ", Duration::from_secs(20));
    let port: u16 = line.split_whitespace().next().unwrap().parse().unwrap();
    let code = format!(
        r#"
import urllib.request, urllib.error, http.client, zlib
r = urllib.request.urlopen('http://127.0.0.1:{port}/hello.txt', timeout=20)
print(r.status, r.read().decode().strip())
c = http.client.HTTPConnection('localhost', {port}, timeout=20)
c.request('GET', '/big.bin')
r = c.getresponse()
body = r.read()
print(r.status, r.getheader('Content-Length'), len(body), zlib.crc32(body))
c.close()
try:
    urllib.request.urlopen('http://127.0.0.1:{port}/missing', timeout=20)
except urllib.error.HTTPError as e:
    print('HTTPError', e.code)
"#
    );
    let out = run_py(&dir, &["--net"], &code, LIMIT);
    let crc = crc32(&big);
    assert_eq!(
        ok(&out),
        format!("200 hello from the host\n200 300000 300000 {crc}\nHTTPError 404\n")
    );
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn one_megabyte_echo_both_ways_against_a_rust_server() {
    // The server reads everything until the guest shuts down its sending side, then sends
    // it all back: 1 MiB each way per connection, four connections.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for _ in 0..4 {
            let (mut c, _) = l.accept().unwrap();
            c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            let mut all = Vec::new();
            c.read_to_end(&mut all).unwrap();
            c.write_all(&all).unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            assert_eq!(all.len(), 1 << 20);
        }
    });
    let code = format!(
        r#"
import socket, time
data = bytes(range(256)) * 4096
assert len(data) == 1 << 20
elapsed = 0.0
for i in range(4):
    t = time.perf_counter()
    s = socket.create_connection(('127.0.0.1', {port}), timeout=60)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = bytearray()
    view = memoryview(bytearray(65536))
    while True:
        n = s.recv_into(view) if i % 2 else len(b := s.recv(65536))
        if n == 0:
            break
        got += view[:n] if i % 2 else b
    s.close()
    elapsed += time.perf_counter() - t
    assert got == data, (i, len(got))
print('ok', round(4 * 2 * len(data) / 1e6 / elapsed, 1))
"#
    );
    let out = run_py(&scratch("echo1mb"), &["--net"], &code, LIMIT);
    let stdout = ok(&out);
    server.join().unwrap();
    let mbps: f64 = stdout.strip_prefix("ok ").unwrap().trim().parse().unwrap();
    eprintln!(
        "1 MiB echo both ways (4 connections): {mbps} MB/s (guest-measured, both directions)"
    );
    assert!(mbps > 0.0);
}

/// The pure-Python `requests` stack (requests, urllib3, idna, charset_normalizer, certifi)
/// installed with pip into the wasmi-py cache; `None` if that is impossible here.
fn requests_packages() -> Option<PathBuf> {
    let cache = std::env::var_os("WASMI_PY_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/wasmi-py")))?;
    let dir = cache.join("pypi/requests-py313");
    if dir.join("requests/__init__.py").is_file() && dir.join("urllib3").is_dir() {
        return Some(dir);
    }
    let tmp = cache.join(format!("pypi/.requests-py313.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).ok()?;
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
    ])
    .arg(&tmp)
    .args([
        "--only-binary=:all:",
        "--platform",
        "any",
        "--python-version",
        "3.13",
        "--implementation",
        "py",
        "--abi",
        "none",
        "requests",
    ]);
    let out = Proc::spawn(cmd, "pip install requests").finish(Duration::from_secs(300));
    let wheels_ok = [
        "requests",
        "urllib3",
        "idna",
        "charset_normalizer",
        "certifi",
    ]
    .iter()
    .all(|p| tmp.join(p).is_dir());
    if out.status != 0 || !wheels_ok {
        eprintln!(
            "pip install failed (status {}):\n{}",
            out.status, out.stderr
        );
        let _ = std::fs::remove_dir_all(&tmp);
        return None;
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // another test run installed it meanwhile
        let _ = std::fs::remove_dir_all(&tmp);
    }
    dir.join("requests/__init__.py").is_file().then_some(dir)
}

#[test]
fn requests_get_and_post_json_against_a_local_server() {
    assert!(
        have_python3(),
        "this test needs a host python3 (Debian's python3) for its server"
    );
    let pkgs = requests_packages()
        .expect("cannot install requests (and urllib3, idna, charset_normalizer, certifi) from PyPI with pip");
    let dir = scratch("requests");
    std::fs::write(
        dir.join("jsonserver.py"),
        r#"
import http.server, json
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def reply(self, obj, code=200):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        self.reply({'path': self.path, 'agent': self.headers.get('User-Agent', '').split('/')[0]})
    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        self.reply({'got': json.loads(self.rfile.read(n)), 'type': self.headers.get('Content-Type')}, 201)
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print('PORT', s.server_address[1], flush=True)
s.serve_forever()
"#,
    )
    .unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg("-u").arg(dir.join("jsonserver.py"));
    let server = Proc::spawn(cmd, "json server");
    let port = server.wait_line("PORT ", Duration::from_secs(20));
    let pkgs = pkgs.to_string_lossy().into_owned();
    let code = format!(
        r#"
import sys
sys.path.insert(0, {pkgs:?})
import requests
r = requests.get('http://127.0.0.1:{port}/items?x=1', timeout=30)
print(r.status_code, r.headers['Content-Type'], r.json())
r = requests.post('http://localhost:{port}/items', json={{'name': 'wasmi', 'n': [1, 2, 3]}}, timeout=30)
print(r.status_code, r.json())
with requests.Session() as s:
    print([s.get('http://127.0.0.1:{port}/k%d' % i, timeout=30).json()['path'] for i in range(3)])
"#
    );
    let dir_flag = format!("--dir={pkgs}");
    let out = run_py(&dir, &["--net", &dir_flag], &code, Duration::from_secs(180));
    assert_eq!(
        ok(&out),
        "200 application/json {'path': '/items?x=1', 'agent': 'python-requests'}\n\
         201 {'got': {'name': 'wasmi', 'n': [1, 2, 3]}, 'type': 'application/json'}\n\
         ['/k0', '/k1', '/k2']\n"
    );
}

#[test]
fn http_server_in_the_guest_answers_200_sequential_host_requests() {
    let code = r#"
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/quit':
            self.server.done = True
        body = ('hello ' + self.path).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(('127.0.0.1', 0), H)
srv.done = False
print('PORT', srv.server_address[1], flush=True)
while not srv.done:
    srv.handle_request()
srv.server_close()
print('bye')
"#;
    let guest = Proc::guest(&scratch("httpserver"), &["--net", "-c", code]);
    let port: u16 = guest.wait_line("PORT ", LIMIT).parse().unwrap();
    let get = |path: &str| -> String {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(c, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut resp = String::new();
        c.read_to_string(&mut resp).unwrap();
        resp
    };
    let t = Instant::now();
    for i in 0..200 {
        let resp = get(&format!("/r{i}"));
        assert!(resp.starts_with("HTTP/1.0 200 OK\r\n"), "{resp}");
        assert!(resp.ends_with(&format!("\r\n\r\nhello /r{i}")), "{resp}");
    }
    let rate = 200.0 / t.elapsed().as_secs_f64();
    eprintln!("http.server in the guest: {rate:.0} requests/s (200 sequential HTTP/1.0 GETs)");
    assert!(get("/quit").ends_with("hello /quit"));
    let out = guest.finish(LIMIT);
    assert_eq!(ok(&out), "PORT ".to_owned() + &port.to_string() + "\nbye\n");
}

/// Opens 100 connections to the guest at once, sends a line on each, checks every echo.
fn hundred_concurrent_clients(port: u16) {
    let mut conns: Vec<TcpStream> = (0..100)
        .map(|_| {
            let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            c
        })
        .collect();
    for (i, c) in conns.iter_mut().enumerate() {
        writeln!(c, "message {i}").unwrap();
    }
    for (i, c) in conns.iter_mut().enumerate() {
        let want = format!("message {i}\n");
        let mut got = Vec::new();
        let mut b = [0u8; 64];
        while got.len() < want.len() {
            let n = c.read(&mut b).unwrap();
            assert!(n > 0, "connection {i} closed early");
            got.extend_from_slice(&b[..n]);
        }
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }
}

#[test]
fn selectors_echo_server_in_the_guest_serves_100_concurrent_connections() {
    let code = r#"
import selectors, socket
sel = selectors.DefaultSelector()
lsock = socket.create_server(('127.0.0.1', 0), backlog=128)
lsock.setblocking(False)
sel.register(lsock, selectors.EVENT_READ)
print('PORT', lsock.getsockname()[1], flush=True)
served = closed = 0
while closed < 100:
    for key, _ in sel.select(timeout=30):
        if key.fileobj is lsock:
            conn, _ = lsock.accept()
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            served += 1
        else:
            data = key.fileobj.recv(4096)
            if data:
                key.fileobj.sendall(data)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                closed += 1
print(type(sel).__name__, 'served', served, 'closed', closed)
"#;
    let guest = Proc::guest(&scratch("selectors"), &["--net", "-c", code]);
    let port: u16 = guest.wait_line("PORT ", LIMIT).parse().unwrap();
    let t = Instant::now();
    hundred_concurrent_clients(port);
    eprintln!(
        "selectors echo: 100 concurrent connections in {:?}",
        t.elapsed()
    );
    let out = guest.finish(LIMIT);
    assert!(
        ok(&out).ends_with("PollSelector served 100 closed 100\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn asyncio_echo_server_in_the_guest_serves_100_concurrent_connections() {
    let code = r#"
import asyncio
async def main():
    done = asyncio.Event()
    closed = 0
    async def handle(reader, writer):
        nonlocal closed
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed += 1
        if closed == 100:
            done.set()
    server = await asyncio.start_server(handle, '127.0.0.1', 0, backlog=128)
    print('PORT', server.sockets[0].getsockname()[1], flush=True)
    await asyncio.wait_for(done.wait(), 60)
    server.close()
    await server.wait_closed()
    print('closed', closed)
asyncio.run(main())
"#;
    let guest = Proc::guest(&scratch("asyncio"), &["--net", "-c", code]);
    let port: u16 = guest.wait_line("PORT ", LIMIT).parse().unwrap();
    hundred_concurrent_clients(port);
    let out = guest.finish(LIMIT);
    assert!(ok(&out).ends_with("closed 100\n"), "{}", out.stdout);
}

#[test]
fn udp_echo_both_directions() {
    let host = UdpSocket::bind("127.0.0.1:0").unwrap();
    host.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let hport = host.local_addr().unwrap().port();
    let code = format!(
        r#"
import socket
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(30)
c.sendto(b'from the guest', ('127.0.0.1', {hport}))
data, addr = c.recvfrom(100)
print('reply', data, addr == ('127.0.0.1', {hport}))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
s.bind(('127.0.0.1', 0))
print('PORT', s.getsockname()[1], flush=True)
data, addr = s.recvfrom(100)
s.sendto(data[::-1], addr)
print('echoed', data)
"#
    );
    let guest = Proc::guest(&scratch("udp"), &["--net", "-c", &code]);
    // guest → host
    let mut b = [0u8; 100];
    let (n, from) = host.recv_from(&mut b).unwrap();
    assert_eq!(&b[..n], b"from the guest");
    host.send_to(&b[..n].to_ascii_uppercase(), from).unwrap();
    // host → guest
    let gport: u16 = guest.wait_line("PORT ", LIMIT).parse().unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    client
        .send_to(b"from the host", ("127.0.0.1", gport))
        .unwrap();
    let (n, _) = client.recv_from(&mut b).unwrap();
    assert_eq!(&b[..n], b"tsoh eht morf");
    let out = guest.finish(LIMIT);
    assert_eq!(
        ok(&out),
        format!("reply b'FROM THE GUEST' True\nPORT {gport}\nechoed b'from the host'\n")
    );
}

#[test]
fn ipv6_tcp_and_udp_on_loopback() {
    assert!(
        TcpListener::bind("[::1]:0").is_ok(),
        "this test needs an IPv6 loopback ([::1])"
    );
    let echo = echo_server("[::1]:0");
    let code = format!(
        r#"
import socket
s = socket.create_connection(('::1', {port}), timeout=30)
print(s.family.name, s.getpeername()[:2])
s.sendall(b'six')
print(s.recv(10))
s.close()
a = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
a.bind(('::1', 0))
b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
b.settimeout(30)
b.sendto(b'dgram6', a.getsockname())
print(a.recvfrom(10)[0], socket.has_ipv6)
"#,
        port = echo.port()
    );
    let out = run_py(&scratch("ipv6"), &["--net"], &code, LIMIT);
    assert_eq!(
        ok(&out),
        format!(
            "AF_INET6 ('::1', {})\nb'six'\nb'dgram6' True\n",
            echo.port()
        )
    );
}

#[test]
fn getaddrinfo_and_local_names_work_without_the_network() {
    let code = r#"
import socket
print('127.0.0.1' in {ai[4][0] for ai in socket.getaddrinfo('localhost', 80, type=socket.SOCK_STREAM)})
print(socket.getaddrinfo('127.0.0.1', 'http', socket.AF_INET, socket.SOCK_STREAM))
print(socket.getaddrinfo('::1', 8080, socket.AF_INET6, socket.SOCK_DGRAM)[0][4])
print(socket.gethostbyname('localhost'), socket.gethostname())
print(socket.getnameinfo(('127.0.0.1', 443), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV))
try:
    socket.getaddrinfo('not-a-number', 80, flags=socket.AI_NUMERICHOST)
except socket.gaierror as e:
    print('gaierror', e.errno == socket.EAI_NONAME)
"#;
    let out = run_py(&scratch("gai"), &[], code, LIMIT);
    assert_eq!(
        ok(&out),
        "True\n\
         [(<AddressFamily.AF_INET: 1>, <SocketKind.SOCK_STREAM: 6>, 6, '', ('127.0.0.1', 80))]\n\
         ('::1', 8080, 0, 0)\n\
         127.0.0.1 localhost\n\
         ('127.0.0.1', '443')\n\
         gaierror True\n"
    );
}

#[test]
fn connection_refused_raises_connectionrefusederror() {
    let port = closed_port();
    let code = format!(
        r#"
import socket
for timeout in (None, 5):
    try:
        socket.create_connection(('127.0.0.1', {port}), timeout=timeout)
    except ConnectionRefusedError as e:
        print('refused', e.strerror)
"#
    );
    let out = run_py(&scratch("refused"), &["--net"], &code, LIMIT);
    assert_eq!(
        ok(&out),
        "refused Connection refused\nrefused Connection refused\n"
    );
}

#[test]
fn recv_with_a_timeout_against_a_silent_server_raises_timeouterror() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let conns: Vec<_> = l.incoming().take(2).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(conns);
    });
    let code = format!(
        r#"
import socket, time
s = socket.create_connection(('127.0.0.1', {port}), timeout=5)
s.settimeout(0.2)
t = time.monotonic()
try:
    s.recv(10)
except TimeoutError as e:
    print('TimeoutError', e, round(time.monotonic() - t, 3))
s.close()
socket.setdefaulttimeout(0.3)
s = socket.create_connection(('127.0.0.1', {port}))
print(s.gettimeout())
t = time.monotonic()
try:
    s.makefile('rb').read(1)
except TimeoutError:
    print('makefile TimeoutError', round(time.monotonic() - t, 3))
"#
    );
    let out = run_py(&scratch("timeout"), &["--net"], &code, LIMIT);
    let stdout = ok(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let first = lines[0].strip_prefix("TimeoutError timed out ").unwrap();
    let secs: f64 = first.parse().unwrap();
    assert!((0.18..1.5).contains(&secs), "timed out after {secs} s");
    assert_eq!(lines[1], "0.3");
    let secs: f64 = lines[2]
        .strip_prefix("makefile TimeoutError ")
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.28..1.5).contains(&secs), "timed out after {secs} s");
}

#[test]
fn nonblocking_connect_select_makefile_recv_into_peek_and_fromfd() {
    let echo = echo_server("127.0.0.1:0");
    let code = format!(
        r#"
import socket, select, errno, time, os, stat
s = socket.socket()
s.setblocking(False)
rc = s.connect_ex(('127.0.0.1', {port}))
print('connect_ex', rc in (0, errno.EINPROGRESS))
_, w, _ = select.select([], [s], [], 30)
print('writable', w == [s], s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
try:
    s.recv(1)
except BlockingIOError:
    print('would block')
s.sendall(b'ping')
r, _, _ = select.select([s], [], [], 30)
print('readable', r == [s], s.recv(10))
s.setblocking(True)
s.settimeout(30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print('nodelay', s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
f = s.makefile('rwb')
f.write(b'a line\n')
f.flush()
print(f.readline())
f.close()
buf = bytearray(16)
s.sendall(b'into')
print(bytes(buf[:s.recv_into(buf)]))
s.sendall(b'peek')
select.select([s], [], [], 30)
time.sleep(0.1)
print(s.recv(4, socket.MSG_PEEK), s.recv(4))
d = socket.fromfd(s.fileno(), socket.AF_INET, socket.SOCK_STREAM)
d.sendall(b'dup!')
print(s.recv(4), d.getpeername() == s.getpeername())
d.close()
# the socket is a WASI fd like any other: fd_write/fd_read/fd_filestat_get/fd_fdstat_*
os.write(s.fileno(), b'raw!')
# With a timeout set the fd is non-blocking: wait for the echo before reading it raw (under
# load it can take a while; reading at once raced with the echo server).
select.select([s], [], [], 30)
print(os.read(s.fileno(), 4), stat.S_ISSOCK(os.fstat(s.fileno()).st_mode), os.get_blocking(s.fileno()))
s.close()
"#,
        port = echo.port()
    );
    let out = run_py(&scratch("nonblock"), &["--net"], &code, LIMIT);
    assert_eq!(
        ok(&out),
        "connect_ex True\nwritable True 0\nwould block\nreadable True b'ping'\nnodelay 1\n\
         b'a line\\n'\nb'into'\nb'peek' b'peek'\nb'dup!' True\nb'raw!' True False\n"
    );
}

#[test]
fn without_net_the_network_is_denied_naming_the_flag() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let code = format!(
        r#"
import socket, asyncio, urllib.request, urllib.error
s = socket.socket()
try:
    s.connect(('127.0.0.1', {port}))
except PermissionError as e:
    print('connect:', e)
try:
    socket.socket().bind(('127.0.0.1', 0))
except PermissionError as e:
    print('bind:', e)
try:
    socket.create_server(('127.0.0.1', 0))
except PermissionError as e:
    print('create_server:', e.errno, '--allow-net=127.0.0.1' in str(e))
try:
    socket.getaddrinfo('example.com', 80)
except PermissionError as e:
    print('resolve:', e)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b'x', ('127.0.0.1', {port}))
except PermissionError as e:
    print('sendto:', e)
try:
    urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=5)
except urllib.error.URLError as e:
    print('urlopen:', type(e.reason).__name__)
a, b = socket.socketpair()
a.sendall(b'local pairs work')
print(b.recv(100))
print(asyncio.run(asyncio.sleep(0, 'asyncio works')))
"#
    );
    let out = run_py(&scratch("denied"), &[], &code, LIMIT);
    let deny = "[Errno 76] network access denied by wasmi-py:";
    assert_eq!(
        ok(&out),
        format!(
            "connect: {deny} connecting to 127.0.0.1:{port} needs --net or --allow-net=127.0.0.1:{port}\n\
             bind: {deny} binding to 127.0.0.1:0 needs --net or --allow-net=127.0.0.1\n\
             create_server: 76 True\n\
             resolve: {deny} resolving 'example.com' needs --net or --allow-net=example.com\n\
             sendto: {deny} sending to 127.0.0.1:{port} needs --net or --allow-net=127.0.0.1:{port}\n\
             urlopen: PermissionError\n\
             b'local pairs work'\n\
             asyncio works\n"
        )
    );
    assert!(l.accept().is_err(), "nothing reached the host listener");
}

#[test]
fn allow_net_list_is_honoured() {
    let allowed = echo_server("127.0.0.1:0");
    let other = echo_server("127.0.0.1:0");
    let code = format!(
        r#"
import socket
for host in ('127.0.0.1', 'localhost'):
    s = socket.create_connection((host, {a}), timeout=30)
    s.sendall(b'allowed via ' + host.encode())
    print(s.recv(100))
    s.close()
try:
    socket.create_connection(('127.0.0.1', {b}), timeout=30)
except PermissionError as e:
    print('denied:', e)
"#,
        a = allowed.port(),
        b = other.port()
    );
    let flag = format!("--allow-net=127.0.0.1:{}", allowed.port());
    let out = run_py(&scratch("allow"), &[&flag], &code, LIMIT);
    assert_eq!(
        ok(&out),
        format!(
            "b'allowed via 127.0.0.1'\nb'allowed via localhost'\n\
             denied: [Errno 76] network access denied by wasmi-py: connecting to 127.0.0.1:{b} \
             needs --net or --allow-net=127.0.0.1:{b}\n",
            b = other.port()
        )
    );
    // a name in the list allows what it resolves to
    let flag = format!("--allow-net=localhost:{}", allowed.port());
    let code = format!(
        "import socket\ns = socket.create_connection(('127.0.0.1', {}), timeout=30)\ns.sendall(b'by name')\nprint(s.recv(100))\n",
        allowed.port()
    );
    let out = run_py(&scratch("allow-name"), &[&flag], &code, LIMIT);
    assert_eq!(ok(&out), "b'by name'\n");
}

#[test]
fn a_preopened_socket_is_adopted_with_fromfd() {
    use wasmi_py_core::{Engine, Linker, Module, Store};
    use wasmi_py_socket::{NetPolicy, SocketCtx};
    use wasmi_py_wasi::{OutputSpec, PreopenSocket, WasiCtx};

    struct Host {
        wasi: WasiCtx,
        net: SocketCtx,
    }
    let install = wasmi_py_cpython::Install::locate(None).expect("a built python.wasm");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let code = "import socket\n\
                l = socket.fromfd(4, socket.AF_INET, socket.SOCK_STREAM)\n\
                print(l.family.name, l.type.name, l.getsockname()[0])\n\
                c, a = l.accept()\n\
                c.sendall(c.recv(100).upper())\n\
                c.close()\n";
    let wasi = WasiCtx::builder()
        .args(["python", "-c", code])
        .preopen_dir(&install.home, "/usr/local", true)
        .preopen_socket(PreopenSocket::TcpListener(listener))
        .stdout(OutputSpec::Capture(Arc::clone(&out)))
        .stderr(OutputSpec::Capture(Arc::clone(&err)))
        .build()
        .unwrap();
    let client = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        c.write_all(b"hello").unwrap();
        let mut b = String::new();
        c.read_to_string(&mut b).unwrap();
        b
    });
    let engine = Engine::default();
    let module = Module::new(&engine, &std::fs::read(&install.wasm).unwrap()).unwrap();
    let mut store = Store::new(
        &engine,
        Host {
            wasi,
            net: SocketCtx::new(NetPolicy::Deny),
        },
    );
    let mut linker = Linker::new();
    wasmi_py_wasi::add_to_linker(&mut linker, &mut store, |h: &mut Host| &mut h.wasi);
    wasmi_py_socket::add_to_linker(&mut linker, &mut store, |h: &mut Host| {
        (&mut h.wasi, &mut h.net)
    });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_func(&store, "_start").unwrap();
    let status = match start.call(&mut store, &[]) {
        Ok(_) => 0,
        Err(trap) => trap.exit_status().unwrap_or(134),
    };
    let stderr = String::from_utf8_lossy(&err.lock().unwrap()).into_owned();
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(client.join().unwrap(), "HELLO");
    assert_eq!(
        String::from_utf8_lossy(&out.lock().unwrap()),
        "AF_INET SOCK_STREAM 127.0.0.1\n"
    );
}
