//! Behaviour of the preview1 functions, driven through a forwarding guest module.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{forwarding_wat, Guest, TempDir, OUT, OUT2};
use wasmi_py_core::{Val, ValType};
use wasmi_py_wasi::{types, Errno, OutputSpec, PreopenSocket, StdinSpec, WasiCtx, SIGNATURES};

fn captured() -> (OutputSpec, Arc<Mutex<Vec<u8>>>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    (OutputSpec::Capture(buf.clone()), buf)
}

fn with_dir(tag: &str) -> (TempDir, Guest) {
    let t = TempDir::new(tag);
    let ctx = WasiCtx::builder()
        .preopen_dir(t.path(), "/work", false)
        .build()
        .unwrap();
    (t, Guest::new(ctx))
}

#[test]
fn all_46_functions_are_defined() {
    assert_eq!(SIGNATURES.len(), 46);
    let mut names: Vec<_> = SIGNATURES.iter().map(|s| s.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 46);
    assert!(forwarding_wat().contains("\"sock_shutdown\""));
}

#[test]
fn args_and_environ() {
    let ctx = WasiCtx::builder()
        .arg("prog.wasm")
        .arg("héllo")
        .env("A", "1")
        .env("B", "x=y")
        .env("A", "2")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    assert_eq!(g.call("args_sizes_get", &[OUT, OUT2]), Errno::SUCCESS);
    assert_eq!((g.u32_at(OUT), g.u32_at(OUT2)), (2, 10 + 7));
    let argv = g.reserve(8);
    let buf = g.reserve(17);
    assert_eq!(g.call("args_get", &[argv, buf]), Errno::SUCCESS);
    assert_eq!(g.u32_at(argv), buf);
    assert_eq!(g.u32_at(argv + 4), buf + 10);
    assert_eq!(g.read(buf, 17), b"prog.wasm\0h\xc3\xa9llo\0");
    assert_eq!(g.call("environ_sizes_get", &[OUT, OUT2]), Errno::SUCCESS);
    assert_eq!((g.u32_at(OUT), g.u32_at(OUT2)), (2, 6 + 4));
    let env = g.reserve(8);
    let buf = g.reserve(10);
    assert_eq!(g.call("environ_get", &[env, buf]), Errno::SUCCESS);
    assert_eq!(g.read(buf, 10), b"B=x=y\0A=2\0");
    // Out of bounds: EFAULT, no panic.
    assert_eq!(g.call("args_get", &[u32::MAX - 2, buf]), Errno::FAULT);
    assert_eq!(g.call("args_get", &[argv, u32::MAX - 3]), Errno::FAULT);
    assert_eq!(g.call("environ_sizes_get", &[OUT, u32::MAX]), Errno::FAULT);
}

#[test]
fn stdio_capture_and_input() {
    let (out, out_buf) = captured();
    let (err, err_buf) = captured();
    let ctx = WasiCtx::builder()
        .stdin(StdinSpec::Bytes(b"line one\nline two\n".to_vec()))
        .stdout(out)
        .stderr(err)
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    assert_eq!(g.write_fd(1, b"to stdout"), Ok(9));
    assert_eq!(g.write_fd(2, b"to stderr"), Ok(9));
    // Two iovecs in one call.
    let (a, al) = g.alloc(b"ab");
    let (b, bl) = g.alloc(b"cd");
    let iovs = g.alloc(&[a, al, b, bl].map(u32::to_le_bytes).concat()).0;
    assert_eq!(g.call("fd_write", &[1, iovs, 2, OUT]), Errno::SUCCESS);
    assert_eq!(g.u32_at(OUT), 4);
    assert_eq!(*out_buf.lock().unwrap(), b"to stdoutabcd");
    assert_eq!(*err_buf.lock().unwrap(), b"to stderr");
    assert_eq!(g.write_fd(0, b"x"), Err(Errno::BADF));
    assert_eq!(g.read_fd(1, 4), Err(Errno::BADF));
    // Reads scatter over several buffers.
    let b1 = g.reserve(4);
    let b2 = g.reserve(6);
    let iovs = g.alloc(&[b1, 4, b2, 6].map(u32::to_le_bytes).concat()).0;
    assert_eq!(g.call("fd_read", &[0, iovs, 2, OUT]), Errno::SUCCESS);
    assert_eq!(g.u32_at(OUT), 10);
    assert_eq!(g.read(b1, 4), b"line");
    assert_eq!(g.read(b2, 6), b" one\nl");
    assert_eq!(g.read_fd(0, 100).unwrap(), b"ine two\n");
    assert_eq!(g.read_fd(0, 100).unwrap(), b"");
    // fdstat: not terminals (filetype unknown, with seek/tell rights absent only for ttys).
    assert_eq!(g.call("fd_fdstat_get", &[1, OUT]), Errno::SUCCESS);
    let st = g.read(OUT, 24);
    assert_eq!(st[0], types::filetype::UNKNOWN);
    let rights = u64::from_le_bytes(st[8..16].try_into().unwrap());
    assert_ne!(rights & types::rights::FD_WRITE, 0);
    assert_eq!(rights & types::rights::FD_READ, 0);
    assert_eq!(g.call("fd_filestat_get", &[0, OUT]), Errno::SUCCESS);
    let e = g.call_vals(
        "fd_seek",
        &[Val::I32(1), Val::I64(0), Val::I32(1), Val::I32(OUT as i32)],
    );
    assert_eq!(e, Errno::SPIPE);
    // Closing stdout closes only the guest's descriptor.
    assert_eq!(g.call("fd_close", &[1]), Errno::SUCCESS);
    assert_eq!(g.write_fd(1, b"x"), Err(Errno::BADF));
    assert_eq!(g.call("fd_close", &[1]), Errno::BADF);
}

#[test]
fn inherited_stdio_reports_what_the_host_fd_is() {
    let ctx = WasiCtx::builder().inherit_stdio().build().unwrap();
    let mut g = Guest::new(ctx);
    for fd in 0..3 {
        assert_eq!(g.call("fd_fdstat_get", &[fd, OUT]), Errno::SUCCESS);
        let st = g.read(OUT, 24);
        let rights = u64::from_le_bytes(st[8..16].try_into().unwrap());
        let tty = std::io::IsTerminal::is_terminal(&std::io::stdin()) && fd == 0;
        if tty {
            assert_eq!(st[0], types::filetype::CHARACTER_DEVICE);
            assert_eq!(
                rights & (types::rights::FD_SEEK | types::rights::FD_TELL),
                0
            );
        }
        if st[0] == types::filetype::CHARACTER_DEVICE
            && rights & (types::rights::FD_SEEK | types::rights::FD_TELL) == 0
        {
            // That is what wasi-libc's isatty() checks: only for real terminals.
            let is_tty = match fd {
                0 => std::io::IsTerminal::is_terminal(&std::io::stdin()),
                1 => std::io::IsTerminal::is_terminal(&std::io::stdout()),
                _ => std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            assert!(is_tty, "fd {fd} looks like a tty to wasi-libc but is not");
        }
    }
}

#[test]
fn preopens() {
    let (_t, mut g) = with_dir("prestat");
    assert_eq!(g.call("fd_prestat_get", &[3, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT, 8), [0, 0, 0, 0, 5, 0, 0, 0]);
    let buf = g.reserve(8);
    assert_eq!(g.call("fd_prestat_dir_name", &[3, buf, 5]), Errno::SUCCESS);
    assert_eq!(g.read(buf, 5), b"/work");
    assert_eq!(
        g.call("fd_prestat_dir_name", &[3, buf, 4]),
        Errno::NAMETOOLONG
    );
    assert_eq!(g.call("fd_prestat_get", &[4, OUT]), Errno::BADF);
    assert_eq!(g.call("fd_prestat_get", &[1, OUT]), Errno::BADF);
    assert_eq!(g.call("fd_prestat_dir_name", &[1, buf, 8]), Errno::NOTDIR);
    assert_eq!(g.call("fd_prestat_get", &[3, u32::MAX]), Errno::FAULT);
    assert_eq!(g.call("fd_fdstat_get", &[3, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT, 1)[0], types::filetype::DIRECTORY);
    let inheriting = g.u64_at(OUT + 16);
    assert_ne!(inheriting & types::rights::FD_WRITE, 0);
}

#[test]
fn file_io() {
    let (t, mut g) = with_dir("fileio");
    let fd = g.create(3, "f.txt").unwrap();
    assert_eq!(g.write_fd(fd, b"hello world"), Ok(11));
    let seek = |g: &mut Guest, off: i64, whence: u32| {
        let e = g.call_vals(
            "fd_seek",
            &[
                Val::I32(fd as i32),
                Val::I64(off),
                Val::I32(whence as i32),
                Val::I32(OUT as i32),
            ],
        );
        (e, g.u64_at(OUT))
    };
    assert_eq!(seek(&mut g, 0, types::whence::CUR), (Errno::SUCCESS, 11));
    assert_eq!(seek(&mut g, -5, types::whence::END), (Errno::SUCCESS, 6));
    assert_eq!(g.read_fd(fd, 100).unwrap(), b"world");
    assert_eq!(seek(&mut g, -1, types::whence::SET).0, Errno::INVAL);
    assert_eq!(seek(&mut g, -100, types::whence::CUR).0, Errno::INVAL);
    assert_eq!(seek(&mut g, 0, 7).0, Errno::INVAL);
    assert_eq!(g.call("fd_tell", &[fd, OUT]), Errno::SUCCESS);
    assert_eq!(g.u64_at(OUT), 11);
    // pread / pwrite leave the offset alone.
    let buf = g.reserve(5);
    let iov = g.alloc(&[buf, 5].map(u32::to_le_bytes).concat()).0;
    let e = g.call_vals(
        "fd_pread",
        &[
            Val::I32(fd as i32),
            Val::I32(iov as i32),
            Val::I32(1),
            Val::I64(0),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!(
        (e, g.u32_at(OUT), g.read(buf, 5)),
        (Errno::SUCCESS, 5, b"hello".to_vec())
    );
    let (p, l) = g.alloc(b"HE");
    let iov = g.alloc(&[p, l].map(u32::to_le_bytes).concat()).0;
    let e = g.call_vals(
        "fd_pwrite",
        &[
            Val::I32(fd as i32),
            Val::I32(iov as i32),
            Val::I32(1),
            Val::I64(0),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!((e, g.u32_at(OUT)), (Errno::SUCCESS, 2));
    assert_eq!(g.call("fd_tell", &[fd, OUT]), Errno::SUCCESS);
    assert_eq!(g.u64_at(OUT), 11);
    assert_eq!(
        std::fs::read(t.path().join("f.txt")).unwrap(),
        b"HEllo world"
    );
    // Positioned transfers on what has no position, or past i64::MAX.
    let positioned = |g: &mut Guest, func: &str, fd: u32, offset: u64| {
        g.call_vals(
            func,
            &[
                Val::I32(fd as i32),
                Val::I32(iov as i32),
                Val::I32(1),
                Val::I64(offset as i64),
                Val::I32(OUT as i32),
            ],
        )
    };
    assert_eq!(positioned(&mut g, "fd_pread", 3, 0), Errno::ISDIR);
    assert_eq!(positioned(&mut g, "fd_pwrite", 3, 0), Errno::BADF);
    assert_eq!(positioned(&mut g, "fd_pread", 1, 0), Errno::SPIPE);
    assert_eq!(positioned(&mut g, "fd_pwrite", 1, 0), Errno::SPIPE);
    assert_eq!(positioned(&mut g, "fd_pread", fd, 1 << 63), Errno::INVAL);
    assert_eq!(positioned(&mut g, "fd_pwrite", fd, 1 << 63), Errno::INVAL);
    // filestat, set_size, allocate, sync, advise.
    assert_eq!(g.call("fd_filestat_get", &[fd, OUT]), Errno::SUCCESS);
    let st = g.read(OUT, 64);
    assert_eq!(st[16], types::filetype::REGULAR_FILE);
    assert_eq!(u64::from_le_bytes(st[32..40].try_into().unwrap()), 11);
    assert_eq!(
        g.call_vals("fd_filestat_set_size", &[Val::I32(fd as i32), Val::I64(4)]),
        Errno::SUCCESS
    );
    assert_eq!(std::fs::read(t.path().join("f.txt")).unwrap(), b"HEll");
    let e = g.call_vals(
        "fd_allocate",
        &[Val::I32(fd as i32), Val::I64(0), Val::I64(100)],
    );
    assert_eq!(e, Errno::SUCCESS);
    assert_eq!(
        std::fs::metadata(t.path().join("f.txt")).unwrap().len(),
        100
    );
    assert_eq!(g.call("fd_sync", &[fd]), Errno::SUCCESS);
    assert_eq!(g.call("fd_datasync", &[fd]), Errno::SUCCESS);
    let e = g.call_vals(
        "fd_advise",
        &[Val::I32(fd as i32), Val::I64(0), Val::I64(0), Val::I32(2)],
    );
    assert_eq!(e, Errno::SUCCESS);
    let e = g.call_vals(
        "fd_advise",
        &[Val::I32(fd as i32), Val::I64(0), Val::I64(0), Val::I32(9)],
    );
    assert_eq!(e, Errno::INVAL);
    // Timestamps.
    let mtime: u64 = 1_000_000_000 * 1_600_000_000 + 123;
    let e = g.call_vals(
        "fd_filestat_set_times",
        &[
            Val::I32(fd as i32),
            Val::I64(0),
            Val::I64(mtime as i64),
            Val::I32(i32::from(types::fstflags::MTIM)),
        ],
    );
    assert_eq!(e, Errno::SUCCESS);
    let md = std::fs::metadata(t.path().join("f.txt")).unwrap();
    assert_eq!(
        md.modified().unwrap(),
        UNIX_EPOCH + Duration::from_nanos(mtime)
    );
    let e = g.call_vals(
        "fd_filestat_set_times",
        &[
            Val::I32(fd as i32),
            Val::I64(0),
            Val::I64(0),
            Val::I32(i32::from(types::fstflags::MTIM | types::fstflags::MTIM_NOW)),
        ],
    );
    assert_eq!(e, Errno::INVAL);
    // Read-only descriptors cannot write and vice versa.
    let ro = g.open(3, "f.txt").unwrap();
    assert_eq!(g.write_fd(ro, b"x"), Err(Errno::BADF));
    let wo = g
        .open_with(3, b"f.txt", 1, 0, types::rights::FD_WRITE, 0)
        .unwrap();
    assert_eq!(g.read_fd(wo, 1), Err(Errno::BADF));
    // Append mode.
    let ap = g
        .open_with(
            3,
            b"f.txt",
            1,
            0,
            types::rights::FD_WRITE,
            u32::from(types::fdflags::APPEND),
        )
        .unwrap();
    assert_eq!(g.write_fd(ap, b"END"), Ok(3));
    assert!(std::fs::read(t.path().join("f.txt"))
        .unwrap()
        .ends_with(b"END"));
    assert_eq!(g.call("fd_fdstat_get", &[ap, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT + 2, 2), [1, 0]);
    assert_eq!(g.call("fd_fdstat_set_flags", &[ap, 0]), Errno::SUCCESS);
    assert_eq!(
        g.call(
            "fd_fdstat_set_flags",
            &[ap, u32::from(types::fdflags::SYNC)]
        ),
        Errno::INVAL
    );
    // The sync flags are kept and reported.
    let sync = types::fdflags::DSYNC | types::fdflags::RSYNC | types::fdflags::SYNC;
    let sy = g
        .open_with(
            3,
            b"f.txt",
            1,
            0,
            types::rights::FD_WRITE | types::rights::FD_READ,
            u32::from(sync),
        )
        .unwrap();
    assert_eq!(g.write_fd(sy, b"S"), Ok(1));
    assert_eq!(g.call("fd_fdstat_get", &[sy, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT + 2, 2), sync.to_le_bytes());
    assert_eq!(
        g.call("fd_fdstat_set_flags", &[sy, u32::from(sync)]),
        Errno::SUCCESS
    );
    assert_eq!(g.call("fd_fdstat_set_flags", &[sy, 0]), Errno::INVAL);
    // EXCL, O_DIRECTORY on a file, closing.
    assert_eq!(
        g.open_with(
            3,
            b"f.txt",
            1,
            u32::from(types::oflags::CREAT | types::oflags::EXCL),
            2,
            0
        ),
        Err(Errno::EXIST)
    );
    assert_eq!(g.open_dir(3, "f.txt"), Err(Errno::NOTDIR));
    assert_eq!(g.open(3, "missing"), Err(Errno::NOENT));
    assert_eq!(g.open(3, ""), Err(Errno::NOENT));
    for fd in [fd, ro, wo, ap] {
        assert_eq!(g.call("fd_close", &[fd]), Errno::SUCCESS);
    }
    assert_eq!(g.read_fd(fd, 1), Err(Errno::BADF));
    // O_CREAT on a read-only open creates the file.
    let fd = g
        .open_with(
            3,
            b"new.txt",
            1,
            u32::from(types::oflags::CREAT),
            types::rights::FD_READ,
            0,
        )
        .unwrap();
    assert!(t.path().join("new.txt").exists());
    assert_eq!(g.write_fd(fd, b"x"), Err(Errno::BADF));
}

#[test]
fn directories_and_links() {
    let (t, mut g) = with_dir("dirs");
    assert_eq!(g.path_op("path_create_directory", 3, "d"), Errno::SUCCESS);
    assert_eq!(g.path_op("path_create_directory", 3, "d"), Errno::EXIST);
    let f = g.create(3, "d/a").unwrap();
    assert_eq!(g.write_fd(f, b"abc"), Ok(3));
    assert_eq!(g.rename(3, "d/a", 3, "d/b"), Errno::SUCCESS);
    assert_eq!(g.link(3, false, "d/b", 3, "c"), Errno::SUCCESS);
    assert_eq!(g.symlink("d/b", 3, "s"), Errno::SUCCESS);
    assert_eq!(g.readlink(3, "s").unwrap(), "d/b");
    assert_eq!(g.readlink(3, "c"), Err(Errno::INVAL));
    assert_eq!(g.link(3, true, "s", 3, "via_symlink"), Errno::SUCCESS);
    let st = g.stat(3, "s", false).unwrap();
    assert_eq!(st[16], types::filetype::SYMBOLIC_LINK);
    let st = g.stat(3, "s", true).unwrap();
    assert_eq!(st[16], types::filetype::REGULAR_FILE);
    assert_eq!(u64::from_le_bytes(st[24..32].try_into().unwrap()), 3); // nlink
    assert_eq!(u64::from_le_bytes(st[32..40].try_into().unwrap()), 3); // size
    assert_eq!(g.path_op("path_remove_directory", 3, "d"), Errno::NOTEMPTY);
    assert_eq!(g.path_op("path_unlink_file", 3, "d"), Errno::ISDIR);
    assert_eq!(g.path_op("path_unlink_file", 3, "d/b"), Errno::SUCCESS);
    assert_eq!(g.path_op("path_remove_directory", 3, "d"), Errno::SUCCESS);
    assert_eq!(g.path_op("path_unlink_file", 3, "s"), Errno::SUCCESS);
    assert_eq!(std::fs::read(t.path().join("c")).unwrap(), b"abc");
    assert_eq!(g.path_op("path_unlink_file", 3, "missing"), Errno::NOENT);
    // Opening a directory without O_DIRECTORY gives a directory descriptor.
    std::fs::create_dir(t.path().join("e")).unwrap();
    let d = g.open(3, "e").unwrap();
    assert_eq!(g.call("fd_fdstat_get", &[d, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT, 1)[0], types::filetype::DIRECTORY);
    assert_eq!(g.read_fd(d, 4), Err(Errno::ISDIR));
    assert!(g.create(d, "inside").is_ok());
    assert!(t.path().join("e/inside").exists());
    assert_eq!(
        g.open_with(3, b"e", 1, 0, types::rights::FD_WRITE, 0),
        Err(Errno::ISDIR)
    );
}

/// Parses `fd_readdir` output: (d_next, ino, type, name) per complete entry.
fn parse_dirents(buf: &[u8]) -> Vec<(u64, u64, u8, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= buf.len() {
        let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
        let ino = u64::from_le_bytes(buf[at + 8..at + 16].try_into().unwrap());
        let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let ty = buf[at + 20];
        if at + 24 + namlen > buf.len() {
            break;
        }
        let name = String::from_utf8(buf[at + 24..at + 24 + namlen].to_vec()).unwrap();
        out.push((next, ino, ty, name));
        at += 24 + namlen;
    }
    out
}

#[test]
fn readdir_with_cookies_and_truncation() {
    let (t, mut g) = with_dir("readdir");
    let mut expected = vec![".".to_string(), "..".to_string()];
    for i in 0..40 {
        let name = format!("file-with-a-longish-name-{i:03}");
        std::fs::write(t.path().join(&name), "x").unwrap();
        expected.push(name);
    }
    std::fs::create_dir(t.path().join("subdir")).unwrap();
    expected.push("subdir".into());
    expected.sort();

    // A buffer that holds a few entries: page through with cookies, like wasi-libc does.
    let buf_len = 200u32;
    let buf = g.reserve(buf_len);
    let mut cookie = 0u64;
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 200, "readdir does not terminate");
        let e = g.call_vals(
            "fd_readdir",
            &[
                Val::I32(3),
                Val::I32(buf as i32),
                Val::I32(buf_len as i32),
                Val::I64(cookie as i64),
                Val::I32(OUT as i32),
            ],
        );
        assert_eq!(e, Errno::SUCCESS);
        let used = g.u32_at(OUT);
        let ents = parse_dirents(&g.read(buf, used));
        for (next, ino, ty, name) in &ents {
            let md = std::fs::symlink_metadata(t.path().join(name)).unwrap();
            if name != "." && name != ".." {
                assert_eq!(*ino, std::os::unix::fs::MetadataExt::ino(&md), "{name}");
                let want = if md.is_dir() {
                    types::filetype::DIRECTORY
                } else {
                    types::filetype::REGULAR_FILE
                };
                assert_eq!(*ty, want);
            }
            seen.push(name.clone());
            cookie = *next;
        }
        if used < buf_len {
            break; // end of directory
        }
        // Full buffer: the last entry may be cut off; it is retried from its cookie.
        assert!(!ents.is_empty(), "an entry larger than the buffer");
    }
    seen.sort();
    assert_eq!(seen, expected);

    // A buffer smaller than one header: truncated, bufused == buf_len.
    let e = g.call_vals(
        "fd_readdir",
        &[
            Val::I32(3),
            Val::I32(buf as i32),
            Val::I32(10),
            Val::I64(0),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!((e, g.u32_at(OUT)), (Errno::SUCCESS, 10));
    // A cookie past the end: nothing.
    let e = g.call_vals(
        "fd_readdir",
        &[
            Val::I32(3),
            Val::I32(buf as i32),
            Val::I32(100),
            Val::I64(1 << 40),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!((e, g.u32_at(OUT)), (Errno::SUCCESS, 0));
    // Not a directory / out of bounds.
    let e = g.call_vals(
        "fd_readdir",
        &[
            Val::I32(1),
            Val::I32(buf as i32),
            Val::I32(100),
            Val::I64(0),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!(e, Errno::NOTDIR);
    let e = g.call_vals(
        "fd_readdir",
        &[
            Val::I32(3),
            Val::I32(-8),
            Val::I32(100),
            Val::I64(0),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!(e, Errno::FAULT);
}

/// Writes a clock subscription at `at`.
fn clock_sub(g: &mut Guest, at: u32, userdata: u64, id: u32, timeout: u64, abs: bool) {
    let mut s = [0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = types::eventtype::CLOCK;
    s[16..20].copy_from_slice(&id.to_le_bytes());
    s[24..32].copy_from_slice(&timeout.to_le_bytes());
    s[40..42].copy_from_slice(&u16::from(abs).to_le_bytes());
    g.write(at, &s);
}

fn fd_sub(g: &mut Guest, at: u32, userdata: u64, kind: u8, fd: u32) {
    let mut s = [0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = kind;
    s[16..20].copy_from_slice(&fd.to_le_bytes());
    g.write(at, &s);
}

/// Returns (userdata, error, type) per event.
fn events(g: &Guest, at: u32, n: u32) -> Vec<(u64, u16, u8)> {
    (0..n)
        .map(|i| {
            let e = g.read(at + i * 32, 32);
            (
                u64::from_le_bytes(e[0..8].try_into().unwrap()),
                u16::from_le_bytes(e[8..10].try_into().unwrap()),
                e[10],
            )
        })
        .collect()
}

#[test]
fn poll_oneoff_clocks_really_sleep() {
    let mut g = Guest::new(WasiCtx::builder().build().unwrap());
    let subs = g.reserve(48 * 4);
    let evs = g.reserve(32 * 4);
    // Relative monotonic, 50 ms.
    clock_sub(
        &mut g,
        subs,
        7,
        types::clockid::MONOTONIC,
        50_000_000,
        false,
    );
    let t0 = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 1, OUT]), Errno::SUCCESS);
    assert!(
        t0.elapsed() >= Duration::from_millis(50),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(g.u32_at(OUT), 1);
    assert_eq!(events(&g, evs, 1), [(7, 0, types::eventtype::CLOCK)]);
    // Absolute monotonic deadline 40 ms from now.
    assert_eq!(
        g.call_vals(
            "clock_time_get",
            &[Val::I32(1), Val::I64(0), Val::I32(OUT2 as i32)]
        ),
        Errno::SUCCESS
    );
    let now = g.u64_at(OUT2);
    clock_sub(
        &mut g,
        subs,
        8,
        types::clockid::MONOTONIC,
        now + 40_000_000,
        true,
    );
    let t0 = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 1, OUT]), Errno::SUCCESS);
    assert!(
        t0.elapsed() >= Duration::from_millis(39),
        "{:?}",
        t0.elapsed()
    );
    // Absolute realtime deadline 30 ms from now.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    clock_sub(
        &mut g,
        subs,
        9,
        types::clockid::REALTIME,
        now + 30_000_000,
        true,
    );
    let t0 = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 1, OUT]), Errno::SUCCESS);
    assert!(
        t0.elapsed() >= Duration::from_millis(25),
        "{:?}",
        t0.elapsed()
    );
    // A deadline in the past fires at once; the earliest of two clocks wins.
    clock_sub(
        &mut g,
        subs,
        1,
        types::clockid::MONOTONIC,
        10_000_000_000,
        false,
    );
    clock_sub(&mut g, subs + 48, 2, types::clockid::MONOTONIC, 1, true);
    let t0 = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 2, OUT]), Errno::SUCCESS);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(g.u32_at(OUT), 1);
    assert_eq!(events(&g, evs, 1)[0].0, 2);
    // No subscriptions, bad clock, out of bounds.
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 0, OUT]), Errno::INVAL);
    clock_sub(&mut g, subs, 3, 99, 0, false);
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 1, OUT]), Errno::SUCCESS);
    assert_eq!(
        events(&g, evs, 1),
        [(3, Errno::INVAL.0, types::eventtype::CLOCK)]
    );
    assert_eq!(
        g.call("poll_oneoff", &[subs, u32::MAX - 40, 1, OUT]),
        Errno::FAULT
    );
    assert_eq!(
        g.call("poll_oneoff", &[subs, evs, 0x1000_0000, OUT]),
        Errno::FAULT
    );
}

#[test]
fn poll_oneoff_descriptors() {
    let (t, _) = with_dir("poll");
    std::fs::write(t.path().join("f"), "12345").unwrap();
    let ctx = WasiCtx::builder()
        .stdin(StdinSpec::Bytes(b"abc".to_vec()))
        .preopen_dir(t.path(), "/w", false)
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    let f = g.open(3, "f").unwrap();
    let subs = g.reserve(48 * 5);
    let evs = g.reserve(32 * 5);
    clock_sub(
        &mut g,
        subs,
        1,
        types::clockid::MONOTONIC,
        10_000_000_000,
        false,
    );
    fd_sub(&mut g, subs + 48, 2, types::eventtype::FD_READ, 0);
    fd_sub(&mut g, subs + 96, 3, types::eventtype::FD_READ, f);
    fd_sub(&mut g, subs + 144, 4, types::eventtype::FD_WRITE, 1);
    fd_sub(&mut g, subs + 192, 5, types::eventtype::FD_READ, 77);
    let t0 = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 5, OUT]), Errno::SUCCESS);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(g.u32_at(OUT), 4);
    let ev = events(&g, evs, 4);
    assert_eq!(ev[0], (2, 0, types::eventtype::FD_READ));
    assert_eq!(g.u64_at(evs + 16), 3); // nbytes of stdin
    assert_eq!(ev[1], (3, 0, types::eventtype::FD_READ));
    assert_eq!(g.u64_at(evs + 32 + 16), 5); // bytes left in the file
    assert_eq!(ev[2], (4, 0, types::eventtype::FD_WRITE));
    assert_eq!(ev[3], (5, Errno::BADF.0, types::eventtype::FD_READ));
}

#[test]
fn poll_oneoff_waits_for_a_pipe() {
    // A host pipe as a preopened Unix socket pair stands in for a slow stdin.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let ctx = WasiCtx::builder()
        .preopen_socket(PreopenSocket::UnixStream(theirs))
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    // Non-blocking: nothing there yet.
    let nonblock = u32::from(types::fdflags::NONBLOCK);
    assert_eq!(
        g.call("fd_fdstat_set_flags", &[3, nonblock]),
        Errno::SUCCESS
    );
    assert_eq!(g.read_fd(3, 10), Err(Errno::AGAIN));
    assert_eq!(g.call("fd_fdstat_get", &[3, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT + 2, 2), [4, 0]);
    assert_eq!(g.call("fd_fdstat_set_flags", &[3, 0]), Errno::SUCCESS);
    let subs = g.reserve(96);
    let evs = g.reserve(64);
    fd_sub(&mut g, subs, 1, types::eventtype::FD_READ, 3);
    clock_sub(
        &mut g,
        subs + 48,
        2,
        types::clockid::MONOTONIC,
        5_000_000_000,
        false,
    );
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        (&ours).write_all(b"late").unwrap();
        ours
    });
    let t0 = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[subs, evs, 2, OUT]), Errno::SUCCESS);
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(90) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert_eq!(
        events(&g, evs, g.u32_at(OUT)),
        [(1, 0, types::eventtype::FD_READ)]
    );
    assert_eq!(g.read_fd(3, 10).unwrap(), b"late");
    let _ours = writer.join().unwrap();
}

#[test]
fn clocks_random_and_misc() {
    let mut g = Guest::new(WasiCtx::builder().build().unwrap());
    let get = |g: &mut Guest, id: i32| {
        let e = g.call_vals(
            "clock_time_get",
            &[Val::I32(id), Val::I64(1), Val::I32(OUT as i32)],
        );
        (e, g.u64_at(OUT))
    };
    let (e, real) = get(&mut g, 0);
    assert_eq!(e, Errno::SUCCESS);
    let host = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(host.abs_diff(real) < 2_000_000_000);
    let (_, m1) = get(&mut g, 1);
    let (_, m2) = get(&mut g, 1);
    assert!(m2 >= m1);
    assert_eq!(get(&mut g, 2).0, Errno::SUCCESS);
    assert_eq!(get(&mut g, 3).0, Errno::SUCCESS);
    assert_eq!(get(&mut g, 4).0, Errno::INVAL);
    assert_eq!(g.call("clock_res_get", &[1, OUT]), Errno::SUCCESS);
    assert!(g.u64_at(OUT) >= 1);
    assert_eq!(g.call("clock_res_get", &[1, u32::MAX]), Errno::FAULT);
    let buf = g.reserve(64);
    assert_eq!(g.call("random_get", &[buf, 64]), Errno::SUCCESS);
    assert_ne!(g.read(buf, 64), vec![0; 64]);
    assert_eq!(g.call("random_get", &[u32::MAX, 2]), Errno::FAULT);
    assert_eq!(g.call("sched_yield", &[]), Errno::SUCCESS);
    assert_eq!(g.call("proc_raise", &[6]), Errno::NOTSUP);
    // proc_exit ends the run with the status (not a crash).
    let trap = g.call_raw("proc_exit", &[Val::I32(7)]).unwrap_err();
    assert_eq!(trap.exit_status(), Some(7));
}

#[test]
fn renumber_and_rights() {
    let (_t, mut g) = with_dir("renumber");
    let a = g.create(3, "a").unwrap();
    let b = g.create(3, "b").unwrap();
    assert_eq!(g.call("fd_renumber", &[a, b]), Errno::SUCCESS);
    assert_eq!(g.write_fd(a, b"x"), Err(Errno::BADF));
    assert_eq!(g.write_fd(b, b"x"), Ok(1));
    assert_eq!(g.call("fd_renumber", &[b, 50]), Errno::BADF);
    assert_eq!(g.call("fd_renumber", &[50, b]), Errno::BADF);
    // The lowest free number is reused.
    assert_eq!(g.create(3, "c"), Ok(a));
    let set = |g: &mut Guest, base: u64, inh: u64| {
        g.call_vals(
            "fd_fdstat_set_rights",
            &[
                Val::I32(b as i32),
                Val::I64(base as i64),
                Val::I64(inh as i64),
            ],
        )
    };
    let r = types::rights::FD_READ | types::rights::FD_WRITE;
    assert_eq!(set(&mut g, r, 0), Errno::SUCCESS);
    assert_eq!(g.call("fd_fdstat_get", &[b, OUT]), Errno::SUCCESS);
    assert_eq!(g.u64_at(OUT + 8), r);
    assert_eq!(
        set(&mut g, r | types::rights::FD_SEEK, 0),
        Errno::NOTCAPABLE
    );
    assert_eq!(set(&mut g, types::rights::FD_READ, 0), Errno::SUCCESS);
}

#[test]
fn sockets() {
    // None preopened: the sock_* functions tell a non-socket from a closed descriptor.
    let (_t, mut g) = with_dir("nosock");
    assert_eq!(g.call("sock_accept", &[3, 0, OUT]), Errno::NOTSOCK);
    assert_eq!(g.call("sock_accept", &[9, 0, OUT]), Errno::BADF);
    assert_eq!(
        g.call("sock_recv", &[1, OUT, 0, 0, OUT, OUT2]),
        Errno::NOTSOCK
    );
    assert_eq!(g.call("sock_send", &[0, OUT, 0, 0, OUT]), Errno::NOTSOCK);
    assert_eq!(g.call("sock_shutdown", &[2, 3]), Errno::NOTSOCK);
    assert_eq!(g.call("sock_shutdown", &[9, 3]), Errno::BADF);

    // A preopened listener: accept, receive, send, shut down.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ctx = WasiCtx::builder()
        .preopen_socket(PreopenSocket::TcpListener(listener))
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"ping").unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).unwrap();
        reply
    });
    assert_eq!(g.call("fd_fdstat_get", &[3, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT, 1)[0], types::filetype::SOCKET_STREAM);
    assert_eq!(g.call("sock_accept", &[3, 2, OUT]), Errno::INVAL);
    assert_eq!(g.call("sock_accept", &[3, 0, OUT]), Errno::SUCCESS);
    let conn = g.u32_at(OUT);
    assert_eq!(g.call("sock_shutdown", &[3, 3]), Errno::NOTCONN);
    let buf = g.reserve(16);
    let iov = g.alloc(&[buf, 4].map(u32::to_le_bytes).concat()).0;
    let ri = u32::from(types::RECV_WAITALL);
    assert_eq!(
        g.call("sock_recv", &[conn, iov, 1, ri, OUT, OUT2]),
        Errno::SUCCESS
    );
    assert_eq!((g.u32_at(OUT), g.read(buf, 4)), (4, b"ping".to_vec()));
    assert_eq!(
        g.call("sock_recv", &[conn, iov, 1, 8, OUT, OUT2]),
        Errno::INVAL
    );
    let (p, l) = g.alloc(b"pong");
    let iov = g.alloc(&[p, l].map(u32::to_le_bytes).concat()).0;
    assert_eq!(g.call("sock_send", &[conn, iov, 1, 0, OUT]), Errno::SUCCESS);
    assert_eq!(g.u32_at(OUT), 4);
    assert_eq!(g.call("sock_shutdown", &[conn, 0]), Errno::INVAL);
    assert_eq!(g.call("sock_shutdown", &[conn, 3]), Errno::SUCCESS);
    assert_eq!(client.join().unwrap(), b"pong");
}

/// Every function with hostile arguments: out-of-bounds and overflowing pointers, huge
/// lengths, unknown descriptors and flags. Nothing may panic; only `proc_exit` may trap.
#[test]
fn hostile_arguments_never_panic() {
    let (_t, mut g) = with_dir("hostile");
    let patterns: [u32; 8] = [
        0,
        1,
        3,
        0xffff,
        0x3_fff0,
        0x7fff_ffff,
        0xffff_fff8,
        u32::MAX,
    ];
    let wide: [i64; 4] = [0, 1, -1, i64::MAX];
    let mut calls = 0;
    for (name, params, _) in SIGNATURES {
        if *name == "proc_exit" {
            continue;
        }
        for k in 0..patterns.len() {
            for j in 0..wide.len() {
                // Rotate the patterns over the parameters so every parameter sees each.
                let args: Vec<Val> = params
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match t {
                        ValType::I32 => Val::I32(patterns[(k + i) % patterns.len()] as i32),
                        _ => Val::I64(wide[(j + i) % wide.len()]),
                    })
                    .collect();
                // poll_oneoff on zeroed memory is a zero-timeout clock: never blocks.
                let r = g.call_raw(name, &args);
                assert!(r.is_ok(), "{name}{args:?} trapped: {:?}", r.err());
                calls += 1;
            }
        }
    }
    assert!(calls > 1000);
}

/// All entries of directory `fd`, read with one large buffer.
fn list(g: &mut Guest, fd: u32) -> Vec<(u64, u8, String)> {
    let buf = g.reserve(4096);
    assert_eq!(
        g.call_vals(
            "fd_readdir",
            &[
                Val::I32(fd as i32),
                Val::I32(buf as i32),
                Val::I32(4096),
                Val::I64(0),
                Val::I32(OUT as i32)
            ]
        ),
        Errno::SUCCESS
    );
    let used = g.u32_at(OUT);
    parse_dirents(&g.read(buf, used))
        .into_iter()
        .map(|(_, ino, ty, name)| (ino, ty, name))
        .collect()
}

#[test]
fn the_virtual_root_holds_the_preopens_ancestors_and_nothing_else() {
    let t = TempDir::new("vroot");
    std::fs::write(t.path().join("real.txt"), "x").unwrap();
    let ctx = WasiCtx::builder()
        .preopen_dir(t.path(), "/home/u/proj", false)
        .preopen_dir(t.path(), "/usr/local", true)
        .virtual_root(true)
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    // fd 5 is the root, after the two directories; nothing after it.
    assert_eq!(g.call("fd_prestat_get", &[5, OUT]), Errno::SUCCESS);
    assert_eq!(g.u32_at(OUT + 4), 1);
    let buf = g.reserve(8);
    assert_eq!(g.call("fd_prestat_dir_name", &[5, buf, 1]), Errno::SUCCESS);
    assert_eq!(g.read(buf, 1), b"/");
    assert_eq!(g.call("fd_prestat_get", &[6, OUT]), Errno::BADF);

    let names = |entries: Vec<(u64, u8, String)>| -> Vec<String> {
        assert!(entries.iter().all(|e| e.1 == types::filetype::DIRECTORY));
        entries.into_iter().map(|e| e.2).collect()
    };
    let root = list(&mut g, 5);
    assert_eq!(names(root.clone()), [".", "..", "home", "usr"]);
    assert_eq!(root[0].0, root[1].0, "/.. is /");
    let home_u = g.open_dir(5, "home/u").unwrap();
    assert_eq!(names(list(&mut g, home_u)), [".", "..", "proj"]);
    // `..` cannot go above `/`; names outside the tree do not exist.
    let up = g.open_dir(home_u, "../../../..").unwrap();
    assert_eq!(names(list(&mut g, up)), [".", "..", "home", "usr"]);
    assert_eq!(g.open_dir(5, "etc"), Err(Errno::NOENT));
    assert_eq!(g.open(5, "home/u/proj/real.txt"), Err(Errno::NOENT));
    assert_eq!(g.open_dir(5, "/etc"), Err(Errno::PERM));

    // stat: directories with their own inodes.
    let st = g.stat(5, "home", true).unwrap();
    assert_eq!(st[16], types::filetype::DIRECTORY);
    assert_eq!(g.stat(5, "nope", true), Err(Errno::NOENT));
    assert_eq!(g.call("fd_filestat_get", &[home_u, OUT]), Errno::SUCCESS);
    assert_eq!(g.read(OUT + 16, 1)[0], types::filetype::DIRECTORY);
    assert_ne!(
        g.u64_at(OUT + 8),
        u64::from_le_bytes(st[8..16].try_into().unwrap())
    );

    // Read-only, with mkdir of what exists reporting that it exists.
    assert_eq!(g.path_op("path_create_directory", 5, "home"), Errno::EXIST);
    assert_eq!(g.path_op("path_create_directory", 5, "new"), Errno::PERM);
    assert_eq!(g.create(5, "f"), Err(Errno::PERM));
    assert_eq!(g.path_op("path_remove_directory", 5, "home"), Errno::PERM);
    assert_eq!(g.path_op("path_unlink_file", 5, "home"), Errno::PERM);
    assert_eq!(g.rename(5, "home", 5, "h"), Errno::PERM);
    assert_eq!(g.symlink("x", 5, "s"), Errno::PERM);
    assert_eq!(g.readlink(5, "home"), Err(Errno::INVAL));
    assert_eq!(g.read_fd(5, 4), Err(Errno::ISDIR));
    assert_eq!(g.write_fd(5, b"x"), Err(Errno::BADF));
    // As for a host directory: no file operations, and nothing to sync.
    assert_eq!(g.call("fd_sync", &[5]), Errno::SUCCESS);
    assert_eq!(
        g.call_vals("fd_filestat_set_size", &[Val::I32(5), Val::I64(0)]),
        Errno::BADF
    );
    assert_eq!(
        g.call_vals(
            "fd_advise",
            &[Val::I32(5), Val::I64(0), Val::I64(0), Val::I32(0)]
        ),
        Errno::BADF
    );
    assert_eq!(
        g.open_with(5, b"usr", 0, 0, types::rights::FD_WRITE, 0),
        Err(Errno::ISDIR)
    );
    // The preopens themselves are unchanged.
    assert_eq!(g.open(3, "real.txt").map(|_| ()), Ok(()));
}

#[test]
fn no_virtual_root_unless_asked_or_when_slash_is_mapped() {
    let t = TempDir::new("vroot-off");
    let ctx = WasiCtx::builder()
        .preopen_dir(t.path(), "/work", false)
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    assert_eq!(g.call("fd_prestat_get", &[4, OUT]), Errno::BADF);
    let ctx = WasiCtx::builder()
        .preopen_dir(t.path(), "/", false)
        .virtual_root(true)
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    assert_eq!(g.call("fd_prestat_get", &[4, OUT]), Errno::BADF);
}
