//! `wasmi-py run` through the built binary, with small hand-written WASI modules.

mod common;

use common::{temp_dir, TempDir};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

/// The module in a fresh directory (removed when the returned guard drops).
fn module(tag: &str, text: &str) -> (TempDir, PathBuf) {
    let dir = temp_dir(tag);
    let path = dir.join("m.wasm");
    std::fs::write(&path, wat(text)).unwrap();
    (dir, path)
}

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmi-py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A command that echoes its arguments (one per line), copies stdin to stdout, and exits
/// with the status given as the number of arguments minus one (via proc_exit when non-zero).
const ECHO: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; Writes the NUL-terminated string at $p followed by a newline to stdout.
  (func $puts (param $p i32) (local $n i32)
    (block $done (loop $scan
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $scan)))
    (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.const 10))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.add (local.get $n) (i32.const 1)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $print_list (param $count i32) (param $ptrs i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $puts (i32.load (i32.add (local.get $ptrs) (i32.mul (local.get $i) (i32.const 4)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func (export "_start") (local $argc i32)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (local.set $argc (i32.load (i32.const 16)))
    (drop (call $args_get (i32.const 1024) (i32.const 2048)))
    (call $print_list (local.get $argc) (i32.const 1024))
    (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $environ_get (i32.const 8192) (i32.const 12288)))
    (call $print_list (i32.load (i32.const 16)) (i32.const 8192))
    ;; Copy stdin to stdout.
    (block $eof (loop $copy
      (i32.store (i32.const 32) (i32.const 20000))
      (i32.store (i32.const 36) (i32.const 1000))
      (drop (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))
      (br_if $eof (i32.eqz (i32.load (i32.const 40))))
      (i32.store (i32.const 36) (i32.load (i32.const 40)))
      (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 44)))
      (br $copy)))
    (if (i32.gt_u (local.get $argc) (i32.const 1))
      (then (call $proc_exit (i32.sub (local.get $argc) (i32.const 1)))))))"#;

#[test]
fn arguments_environment_stdin_and_exit_status() {
    let (_dir, m) = module("echo", ECHO);
    let m = m.to_str().unwrap();
    let (code, out, err) = run(&["run", "--env", "A=1", "--env=B=two", m], b"piped\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{m}\nA=1\nB=two\npiped\n"));
    // Everything after the module goes to the guest, flags included.
    let (code, out, _) = run(&["run", "--", m, "x", "--env", "y"], b"");
    assert_eq!(code, 3);
    assert_eq!(out, format!("{m}\nx\n--env\ny\n"));
}

#[test]
fn inherit_env() {
    let (_dir, m) = module("env", ECHO);
    let out = Command::new(env!("CARGO_BIN_EXE_wasmi-py"))
        .args([
            "run",
            "--inherit-env",
            "--env",
            "OVERRIDE=new",
            m.to_str().unwrap(),
        ])
        .env("WASMI_PY_TEST_VAR", "visible")
        .env("OVERRIDE", "old")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\nWASMI_PY_TEST_VAR=visible\n"), "{stdout}");
    assert!(stdout.contains("\nOVERRIDE=new\n"), "{stdout}");
    assert!(!stdout.contains("OVERRIDE=old"), "{stdout}");
}

#[test]
fn trap_prints_backtrace_with_names_and_exits_134() {
    let (_dir, m) = module(
        "trap",
        r#"(module
          (func $deep_inside (result i32) unreachable)
          (func $middle (result i32) (call $deep_inside))
          (func $_start (export "_start") (drop (call $middle))))"#,
    );
    let (code, out, err) = run(&["run", m.to_str().unwrap()], b"");
    assert_eq!(code, 134);
    assert_eq!(out, "");
    assert!(err.starts_with("Error: wasm trap: unreachable"), "{err}");
    assert!(err.contains("wasm backtrace:"), "{err}");
    let inner = err.find("deep_inside").expect("innermost frame named");
    let outer = err.find("_start").expect("outermost frame named");
    assert!(
        inner < err.find("middle").unwrap() && err.find("middle").unwrap() < outer,
        "{err}"
    );
}

#[test]
fn start_returning_is_status_zero_and_ctors_are_not_called() {
    let (_dir, m) = module(
        "ctors",
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (func (export "__wasm_call_ctors") (call $exit (i32.const 99)))
          (func (export "_start")))"#,
    );
    let (code, _, err) = run(&["run", m.to_str().unwrap()], b"");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn preopened_directories() {
    let dir = temp_dir("dirs");
    std::fs::write(dir.join("in.txt"), "content").unwrap();
    // Reads /d/in.txt (fd 3 is the preopen, path relative to it) and writes it to stdout.
    let (_dir, m) = module(
        "dirs-module",
        r#"(module
          (import "wasi_snapshot_preview1" "path_open"
            (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $name (param i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "in.txt")
          (func (export "_start") (local $e i32)
            (local.set $e (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 6)
              (i32.const 0) (i64.const 2) (i64.const 2) (i32.const 0) (i32.const 200)))
            (if (local.get $e) (then (call $exit (i32.add (i32.const 10) (local.get $e)))))
            (i32.store (i32.const 0) (i32.const 1000))
            (i32.store (i32.const 4) (i32.const 100))
            (drop (call $read (i32.load (i32.const 200)) (i32.const 0) (i32.const 1) (i32.const 8)))
            (i32.store (i32.const 4) (i32.load (i32.const 8)))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            ;; The preopen's guest name.
            (drop (call $name (i32.const 3) (i32.const 2000) (i32.const 2)))
            (i32.store (i32.const 0) (i32.const 2000))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    );
    let spec = format!("{}::/d:ro", dir.display());
    let (code, out, err) = run(&["run", "--dir", &spec, m.to_str().unwrap()], b"");
    assert_eq!((code, out.as_str()), (0, "content/d"), "{err}");
    // Without the preopen, fd 3 does not exist: path_open fails with EBADF (8).
    let (code, _, _) = run(&["run", m.to_str().unwrap()], b"");
    assert_eq!(code, 18);
}

#[test]
fn usage_and_load_errors() {
    let (code, out, _) = run(&["run", "--help"], b"");
    assert_eq!(code, 0);
    for flag in [
        "--dir HOST[::GUEST][:ro]",
        "--env KEY=VALUE",
        "--inherit-env",
        "134",
        ":ro",
    ] {
        assert!(out.contains(flag), "help lacks {flag}:\n{out}");
    }
    // Without a module (or script), `run` is python3 reading its program from stdin; the
    // module usage stays available under --help-wasm.
    let (code, _, err) = run(&["run"], b"");
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["run", "--help-wasm"], b"");
    assert_eq!(code, 0);
    assert!(out.contains("MODULE.wasm"), "{out}");
    let (code, _, err) = run(&["run", "--bogus", "x.wasm"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("unknown option '--bogus'"), "{err}");
    let (code, _, err) = run(&["run", "--dir"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("--dir needs a value"), "{err}");
    let (code, _, err) = run(&["run", "/nonexistent/m.wasm"], b"");
    assert_eq!(code, 1);
    assert!(err.contains("cannot read /nonexistent/m.wasm"), "{err}");
    let (_dir, m) = module("nodir", "(module (func (export \"_start\")))");
    let (code, _, err) = run(
        &["run", "--dir", "/nonexistent-dir-xyz", m.to_str().unwrap()],
        b"",
    );
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent-dir-xyz"), "{err}");
    let bad_dir = temp_dir("bad");
    let bad = bad_dir.join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0\x01").unwrap();
    let (code, _, _) = run(&["run", bad.to_str().unwrap()], b"");
    assert_eq!(code, 1);
    let (_dir, m) = module(
        "unlinkable",
        r#"(module (import "env" "f" (func)) (func (export "_start")))"#,
    );
    let (code, _, err) = run(&["run", m.to_str().unwrap()], b"");
    assert_eq!(code, 1);
    assert!(err.contains("unknown import"), "{err}");
    let (_dir, m) = module("nostart", "(module)");
    let (code, _, err) = run(&["run", m.to_str().unwrap()], b"");
    assert_eq!(code, 1);
    assert!(err.contains("_start"), "{err}");
}

/// `run` with `WASMI_PY_CACHE` set to `cache`.
fn run_cached(cache: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmi-py"))
        .args(args)
        .env("WASMI_PY_CACHE", cache)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn code_files(cache: &std::path::Path) -> Vec<PathBuf> {
    match std::fs::read_dir(cache.join("code")) {
        Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn code_cache_is_written_used_and_can_be_turned_off() {
    let (dir, m) = module("cache", ECHO);
    let m = m.to_str().unwrap();
    let cache = dir.join("cache");
    // The guest ends with proc_exit(2): the translated code is still saved.
    let first = run_cached(&cache, &["run", m, "a", "b"]);
    assert_eq!(first, (2, format!("{m}\na\nb\n")));
    let files = code_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let written = std::fs::read(&files[0]).unwrap();
    // From the cache: the same run, and the file is not rewritten (nothing new).
    assert_eq!(run_cached(&cache, &["run", m, "a", "b"]), first);
    assert_eq!(std::fs::read(&files[0]).unwrap(), written);

    let off = dir.join("off");
    assert_eq!(
        run_cached(&off, &["run", "--no-code-cache", m, "a", "b"]),
        first
    );
    assert!(code_files(&off).is_empty());
}

#[test]
fn profile_is_written_and_summarised() {
    let (dir, m) = module(
        "profile",
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $spin (param $n i32)
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
  (func $main (export "_start")
    (call $spin (i32.const 20000000))
    (call $proc_exit (i32.const 3))))"#,
    );
    let file = dir.join("out.folded");
    let (status, out, err) = run(
        &[
            "run",
            "--profile",
            file.to_str().unwrap(),
            m.to_str().unwrap(),
        ],
        b"",
    );
    // The guest's exit status and output are its own.
    assert_eq!((status, out.as_str()), (3, ""), "{err}");
    assert!(err.contains("top functions"), "{err}");
    assert!(err.lines().any(|l| l.ends_with("  spin")), "{err}");
    let folded = std::fs::read_to_string(&file).unwrap();
    let spin: u64 = folded
        .lines()
        .filter_map(|l| l.strip_prefix("main;spin "))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert!(spin > 0, "{folded}");

    // An unwritable file is reported; the run's status stays the guest's.
    let (status, _, err) = run(
        &[
            "run",
            "--profile",
            "/nonexistent/dir/p",
            m.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(status, 3);
    assert!(err.contains("cannot write the profile"), "{err}");
}
