//! CPython 3.13 (python.wasm) driven through its C API by wasmi-py alone.
//!
//! Needs a built python.wasm (`python-wasm/build.sh`, which `scripts/test-all.sh` runs
//! first); without one these tests fail with the message of `Install::locate`.

use std::sync::{Arc, Mutex, OnceLock};

use wasmi_py_cpython::{Config, Dir, Ended, Install, Main, Mode, Python, Runtime};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let install = Install::locate(None).unwrap_or_else(|e| panic!("{e}"));
        Runtime::load(install, None).unwrap_or_else(|e| panic!("{e}"))
    })
}

type Buf = Arc<Mutex<Vec<u8>>>;

fn start(config: Config) -> (Python, Buf, Buf) {
    let (config, out, err) = config.capture_output();
    let python = runtime().start(config).unwrap_or_else(|e| panic!("{e}"));
    (python, out, err)
}

fn text(buf: &Buf) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
}

#[test]
fn runs_code_and_state_persists_between_calls() {
    let (mut py, out, err) = start(Config::default());
    assert!(py.run("x = 6 * 7").unwrap());
    assert!(py
        .run("import sys; print(x, sys.version_info[:2])")
        .unwrap());
    assert_eq!(py.finalize().unwrap(), 0);
    assert_eq!(text(&out), "42 (3, 13)\n", "stderr: {}", text(&err));
}

#[test]
fn an_exception_prints_a_traceback_and_the_interpreter_goes_on() {
    let (mut py, out, err) = start(Config::default());
    assert!(!py.run("1 / 0").unwrap());
    assert!(py.run("print('still alive')").unwrap());
    py.finalize().unwrap();
    assert!(
        text(&err).contains("ZeroDivisionError: division by zero"),
        "{}",
        text(&err)
    );
    assert_eq!(text(&out), "still alive\n");
}

#[test]
fn sys_exit_ends_with_its_status() {
    let (mut py, _, _) = start(Config::default());
    match py.run("import sys; sys.exit(3)") {
        Err(Ended::Exit(3)) => {}
        other => panic!("expected exit 3, got {other:?}"),
    }
}

#[test]
fn compiled_in_modules_work() {
    let (mut py, out, err) = start(Config::default());
    let code = "import zlib, _wasisocket, socket, select, hashlib, binascii\n\
                data = b'x' * 1000\n\
                assert zlib.decompress(zlib.compress(data)) == data\n\
                print(len(zlib.compress(data)) < 100, hashlib.sha256(b'abc').hexdigest()[:8],\n\
                      binascii.hexlify(b'hi').decode())";
    assert!(py.run(code).unwrap(), "stderr: {}", text(&err));
    py.finalize().unwrap();
    assert_eq!(text(&out), "True ba7816bf 6869\n");
}

#[test]
fn deep_recursion_is_a_recursion_error_not_a_trap() {
    let (mut py, out, err) = start(Config::default());
    let code = "def f(): return f()\n\
                try:\n    f()\nexcept RecursionError as e:\n    print('RecursionError', type(e).__name__)";
    assert!(py.run(code).unwrap(), "stderr: {}", text(&err));
    py.finalize().unwrap();
    assert_eq!(text(&out), "RecursionError RecursionError\n");
}

#[test]
fn files_round_trip_through_a_mapped_directory() {
    let dir = std::env::temp_dir().join(format!("wasmi-py-cpython-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in.txt"), "from the host").unwrap();
    let config = Config {
        dirs: vec![Dir {
            host: dir.clone(),
            guest: "/data".into(),
            read_only: false,
        }],
        ..Config::default()
    };
    let (mut py, out, err) = start(config);
    let code = "print(open('/data/in.txt').read())\n\
                with open('/data/out.txt', 'w') as f: f.write('from the guest')";
    assert!(py.run(code).unwrap(), "stderr: {}", text(&err));
    py.finalize().unwrap();
    assert_eq!(text(&out), "from the host\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "from the guest"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn run_main_sets_argv_and_exits_1_with_a_clean_traceback() {
    let (mut py, _, err) = start(Config::default());
    let main = Main {
        mode: Mode::Command("import sys\nprint(sys.argv)\nraise ValueError('boom')".into()),
        argv: vec!["-c".into(), "a1".into()],
        path0: Some(String::new()),
        cwd: None,
        skip_first_line: false,
        inspect: false,
        orig_argv: None,
    };
    match py.run_main(&main) {
        Err(Ended::Exit(1)) => {}
        other => panic!("expected exit 1, got {other:?}"),
    }
    let err = text(&err);
    // Exactly python3.13 -c's: with the line of the command (linecache).
    assert_eq!(
        err,
        "Traceback (most recent call last):\n  File \"<string>\", line 3, in <module>\n    raise ValueError('boom')\nValueError: boom\n"
    );
    assert!(
        !err.contains("_wasmi_py"),
        "our frames must not show: {err}"
    );
}

#[test]
fn a_profile_covers_initialization_the_program_and_finalization() {
    let (mut py, out, err) = start(Config {
        profile: Some(1000),
        ..Config::default()
    });
    assert!(py.run("print(sum(i * i for i in range(200_000)))").unwrap());
    assert_eq!(py.finalize().unwrap(), 0);
    assert_eq!(text(&out), "2666646666700000\n", "{}", text(&err));
    let profile = py.profile().expect("asked for");
    let outermost: std::collections::BTreeSet<&str> =
        profile.stacks().map(|(names, _)| names[0]).collect();
    for f in [
        "Py_InitializeFromConfig",
        "PyRun_SimpleString",
        "Py_FinalizeEx",
    ] {
        assert!(outermost.contains(f), "{outermost:?}");
    }
    let functions = profile.functions();
    let eval = functions
        .iter()
        .find(|f| f.name == "_PyEval_EvalFrameDefault")
        .expect("the eval loop");
    assert!(eval.total_time > profile.total() / 4, "{functions:?}");
    let host = functions
        .iter()
        .find(|f| f.name.starts_with("wasi_snapshot_preview1."));
    assert!(host.is_some(), "host functions appear by import name");
}
