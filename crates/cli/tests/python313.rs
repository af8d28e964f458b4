//! `wasmi-py run` for Python: CPython 3.13 (python.wasm from python-wasm/build.sh) through
//! the built binary, compared with what `python3` does. Needs a built python.wasm.

use std::io::Write;
use std::process::{Command, Stdio};

struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

fn wasmi_py(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmi-py"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wasmi-py runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmi-py-py313-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn dash_c_prints_and_exits_0() {
    let dir = scratch("c");
    let out = wasmi_py(
        &dir,
        &[
            "-c",
            "import sys; print(6 * 7, sys.argv, sys.version_info[:2])",
            "x",
        ],
        None,
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "42 ['-c', 'x'] (3, 13)\n");
}

#[test]
fn script_with_arguments_sees_its_argv_path_and_cwd() {
    let dir = scratch("script");
    std::fs::write(
        dir.join("helper.py"),
        "VALUE = 'imported from the script directory'\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.py"),
        "import os, sys, helper\nprint(sys.argv)\nprint(helper.VALUE)\nprint(os.getcwd() == os.path.dirname(os.path.abspath(__file__)))\n",
    )
    .unwrap();
    let out = wasmi_py(&dir, &["main.py", "one", "two words"], None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "['main.py', 'one', 'two words']\nimported from the script directory\nTrue\n"
    );
}

#[test]
fn python_wasm_run_as_a_plain_wasi_command_has_host_sockets() {
    // `_start` (what any WASI host runs) has no prelude of ours and runs `site`: still,
    // start-up loads nothing of the sockets, and importing `_socket` installs them.
    let install = wasmi_py_cpython::Install::locate(None).expect("python.wasm is built");
    let dir = scratch("start");
    let stdlib = format!("{}::/usr/local:ro", install.home.display());
    let code =
        "import sys; print([m in sys.modules for m in ('site', '_socket', '_wasisocket')]); \
                import _socket; print(_socket.getaddrinfo.__module__)";
    let wasm = install.wasm.to_str().unwrap();
    let out = wasmi_py(&dir, &["--dir", &stdlib, wasm, "-c", code], None);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "[True, False, False]\n_wasisocket\n");
}

#[test]
fn dash_m_json_tool_formats_a_file() {
    let dir = scratch("m");
    std::fs::write(dir.join("in.json"), r#"{"b": [1, 2], "a": null}"#).unwrap();
    let out = wasmi_py(&dir, &["-m", "json.tool", "--sort-keys", "in.json"], None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\n    \"a\": null,\n    \"b\": [\n        1,\n        2\n    ]\n}\n"
    );
}

#[test]
fn exit_statuses_and_tracebacks_are_python3s() {
    let dir = scratch("exit");
    assert_eq!(wasmi_py(&dir, &["-c", "pass"], None).status, 0);
    assert_eq!(
        wasmi_py(&dir, &["-c", "import sys; sys.exit(3)"], None).status,
        3
    );
    let out = wasmi_py(&dir, &["-c", "import sys; sys.exit('bye')"], None);
    assert_eq!((out.status, out.stderr.as_str()), (1, "bye\n"));
    std::fs::write(
        dir.join("boom.py"),
        "def f():\n    raise ValueError('boom')\nf()\n",
    )
    .unwrap();
    let out = wasmi_py(&dir, &["boom.py"], None);
    assert_eq!(out.status, 1);
    let path = dir.join("boom.py");
    let expected = format!(
        "Traceback (most recent call last):\n  File \"{p}\", line 3, in <module>\n    f()\n    ~^^\n  File \"{p}\", line 2, in f\n    raise ValueError('boom')\nValueError: boom\n",
        p = path.display()
    );
    assert_eq!(out.stderr, expected);
}

#[test]
fn program_from_piped_stdin_and_input() {
    let dir = scratch("stdin");
    let out = wasmi_py(
        &dir,
        &["-c", "print(input('name? ').upper())"],
        Some("wasm\n"),
    );
    assert_eq!((out.status, out.stdout.as_str()), (0, "name? WASM\n"));
    let out = wasmi_py(
        &dir,
        &[],
        Some("import sys\nprint('from stdin', sys.argv)\n"),
    );
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (0, "from stdin ['']\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn files_go_through_the_mapped_directories_and_nowhere_else() {
    let dir = scratch("files");
    let data = scratch("files-data");
    let code = r#"import os
open('local.txt', 'w').write('in cwd')
open('/data/out.txt', 'w').write('in --dir')
print(sorted(os.listdir('/data')))
for p in ('/etc/passwd', '../../../etc/passwd'):
    try:
        open(p)
        print('ESCAPED', p)
    except OSError as e:
        print('denied', type(e).__name__)
"#;
    let spec = format!("{}::/data", data.display());
    let out = wasmi_py(&dir, &["--dir", &spec, "-c", code], None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "['out.txt']\ndenied FileNotFoundError\ndenied PermissionError\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("local.txt")).unwrap(),
        "in cwd"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("out.txt")).unwrap(),
        "in --dir"
    );
}

#[test]
fn python3_interpreter_options_reach_cpython() {
    let dir = scratch("options");
    let out = wasmi_py(
        &dir,
        &[
            "-uBIs",
            "-X",
            "utf8",
            "-Werror::DeprecationWarning",
            "-O",
            "-c",
            "import sys; f = sys.flags; print(f.dont_write_bytecode, f.isolated, f.safe_path, \
             f.no_user_site, f.utf8_mode, f.optimize, sys.warnoptions, sys._xoptions, \
             sys.stdout.write_through, '' in sys.path)",
        ],
        None,
    );
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "1 1 True 1 1 1 ['error::DeprecationWarning'] {'utf8': True} True False\n"
    );

    // Host sockets, with site and without (-S): `_socket` installs them when it is first
    // imported (python-wasm/_wasisocket.c), so start-up loads neither module.
    let sockets = "import sys; loaded = [m in sys.modules for m in ('_socket', '_wasisocket')]; \
                   import socket, _socket; print(sys.flags.no_site, 'site' in sys.modules, \
                   loaded, _socket.getaddrinfo.__module__, \
                   socket.socket.__mro__[1] is sys.modules['_wasisocket'].socket)";
    let out = wasmi_py(&dir, &["-c", sockets], None);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "0 True [False, False] _wasisocket True\n");
    let out = wasmi_py(&dir, &["-S", "-c", sockets], None);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "1 False [False, False] _wasisocket True\n");

    let out = wasmi_py(&dir, &["-V"], None);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert!(out.stdout.starts_with("Python 3.13."), "{}", out.stdout);

    let out = wasmi_py(&dir, &["-uZ", "-c", "pass"], None);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("unknown option '-Z' in '-uZ'"),
        "{}",
        out.stderr
    );
}

#[test]
fn dash_i_inspects_after_the_code_even_after_systemexit() {
    let dir = scratch("inspect");
    let out = wasmi_py(
        &dir,
        &["-i", "-c", "x = 21\nraise SystemExit(3)"],
        Some("print(x * 2)\nraise SystemExit(4)\n"),
    );
    // As python3 -i: SystemExit in the code is printed like any exception, the REPL runs
    // in the code's namespace, and the REPL's own SystemExit sets the status.
    assert_eq!(out.status, 4, "stderr: {}", out.stderr);
    assert!(out.stdout.contains("42\n"), "stdout: {}", out.stdout);
    assert!(
        out.stderr.contains("SystemExit: 3"),
        "stderr: {}",
        out.stderr
    );

    // Without -i the same code just exits 3.
    let out = wasmi_py(&dir, &["-c", "raise SystemExit(3)"], Some("print(1)\n"));
    assert_eq!((out.status, out.stdout.as_str()), (3, ""));
}

#[test]
fn bz2_lzma_and_compressed_tarfiles_work_as_in_python3() {
    let dir = scratch("compress");
    // python.wasm links libbz2 and liblzma (python-wasm/build.sh): the stdlib modules on
    // top of them work, and their output is what python3.13 writes (sizes compared).
    let code = "import bz2, lzma, tarfile\n\
                d = b'wasmi-py ' * 1000\n\
                assert bz2.decompress(bz2.compress(d)) == d\n\
                assert lzma.decompress(lzma.compress(d)) == d\n\
                for mode in ('bz2', 'xz'):\n\
                \x20   with open('a.txt', 'wb') as f: f.write(d)\n\
                \x20   with tarfile.open('t.tar.' + mode, 'w:' + mode) as t: t.add('a.txt')\n\
                \x20   with tarfile.open('t.tar.' + mode) as t: assert t.extractfile('a.txt').read() == d\n\
                print(len(bz2.compress(d)), len(lzma.compress(d)))\n";
    let out = wasmi_py(&dir, &["-c", code], None);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "66 116\n");
}

#[test]
fn sys_orig_argv_is_the_python_command_line() {
    let dir = scratch("orig-argv");
    std::fs::write(
        dir.join("s.py"),
        "import sys\nprint(sys.orig_argv, sys.argv)\n",
    )
    .unwrap();
    // As python3.13 -u -X dev -- s.py a --dir x: every python3 argument in order (argv[0]
    // is 'python'), without wasmi-py's own sandbox options.
    let out = wasmi_py(
        &dir,
        &[
            "-u", "--env", "A=1", "-X", "dev", "--", "s.py", "a", "--dir", "x",
        ],
        None,
    );
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "['python', '-u', '-X', 'dev', '--', 's.py', 'a', '--dir', 'x'] ['s.py', 'a', '--dir', 'x']\n"
    );
}

#[test]
fn dash_i_without_a_program_runs_the_repl_on_piped_stdin() {
    let dir = scratch("repl");
    // What python3.13 -i -q writes for this input (not a terminal): results on stdout;
    // prompts, and tracebacks naming "<stdin>" with the line, on stderr.
    let out = wasmi_py(&dir, &["-i", "-q"], Some("1/0\nx = (1,\n 2)\nx\n"));
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "(1, 2)\n");
    assert_eq!(
        out.stderr,
        ">>> Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n    \
         1/0\n    ~^~\nZeroDivisionError: division by zero\n>>> ... >>> >>> \n"
    );

    // Syntax errors point where python3's REPL points (codeop alone gives no caret for
    // `1 +` and one a column early for `for x in y`).
    let out = wasmi_py(&dir, &["-i", "-q"], Some("1 +\nfor x in y\n"));
    assert_eq!(
        out.stderr,
        ">>>   File \"<stdin>\", line 1\n    1 +\n       ^\nSyntaxError: invalid syntax\n\
         >>>   File \"<stdin>\", line 1\n    for x in y\n              ^\n\
         SyntaxError: expected ':'\n>>> \n"
    );
    // A statement still open at the end of input ends there: it runs, or is an error.
    let out = wasmi_py(
        &dir,
        &["-i", "-q"],
        Some("for x in range(2):\n  print(x)\n"),
    );
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("0\n1\n", ">>> ... ... \n>>> \n")
    );
    let out = wasmi_py(&dir, &["-i", "-q"], Some("(1,\n"));
    assert_eq!(
        out.stderr,
        ">>> ... \n  File \"<stdin>\", line 1\n    (1,\n    ^\n\
         SyntaxError: '(' was never closed\n>>> \n"
    );

    // `-i -` is the same, with sys.argv[0] '-'; the REPL's SystemExit is the status.
    let out = wasmi_py(
        &dir,
        &["-i", "-q", "-", "a"],
        Some("import sys; print(sys.argv)\nraise SystemExit(3)\n"),
    );
    assert_eq!((out.status, out.stdout.as_str()), (3, "['-', 'a']\n"));

    // Without -i, piped stdin is a program: no prompts.
    let out = wasmi_py(&dir, &[], Some("print(6 * 7)\n"));
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (0, "42\n", "")
    );
}

#[test]
fn dash_x_skips_the_first_line_and_dash_reads_stdin() {
    let dir = scratch("x");
    std::fs::write(
        dir.join("s.py"),
        "this first line is not Python\nimport sys\nprint(sys._getframe().f_lineno)\n",
    )
    .unwrap();
    let out = wasmi_py(&dir, &["-x", "s.py"], None);
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (0, "3\n"),
        "{}",
        out.stderr
    );
    let out = wasmi_py(&dir, &["s.py"], None);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("SyntaxError"), "{}", out.stderr);

    let out = wasmi_py(&dir, &["-", "a", "-c"], Some("import sys; print(sys.argv)"));
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "['-', 'a', '-c']\n");
}

#[test]
fn the_prelude_comes_from_the_standard_library_and_cannot_be_shadowed() {
    // python-wasm/build.sh installs the prelude (module `_wasmi_py`) with its byte code;
    // the host imports it from there (not from PYTHONPATH) instead of compiling it.
    let dir = scratch("prelude");
    std::fs::write(
        dir.join("_wasmi_py.py"),
        "raise SystemExit('a _wasmi_py on PYTHONPATH was imported')\n",
    )
    .unwrap();
    let pythonpath = format!("PYTHONPATH={}", dir.display());
    let out = wasmi_py(
        &dir,
        &[
            "--env",
            &pythonpath,
            "-c",
            "import sys; m = sys.modules['_wasmi_py']; print(m.__spec__.origin, m.__cached__)",
        ],
        None,
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "/usr/local/lib/python3.13/_wasmi_py.py \
         /usr/local/lib/python3.13/__pycache__/_wasmi_py.cpython-313.pyc\n"
    );
}

#[test]
fn slash_and_the_directories_above_the_mapped_ones_exist_read_only() {
    // As for python3, `/` exists, and so does every directory above the current one; they
    // hold only the way to the mapped directories, and nothing can be created in them.
    let dir = scratch("vroot");
    let out = wasmi_py(
        &dir,
        &[
            "-c",
            "import os, pathlib, sys
cwd = os.getcwd()
parent = os.path.dirname(cwd)
print(os.path.isdir('/'), os.path.ismount('/'), pathlib.Path('/').resolve())
print(os.path.isdir(parent), os.listdir(parent) == [os.path.basename(cwd)])
print('usr' in os.listdir('/'), os.path.exists('/etc/passwd'))
try:
    os.mkdir(os.path.join(parent, 'new'))
except PermissionError:
    print('read-only')
os.makedirs(parent, exist_ok=True)
print([p for p, _, _ in os.walk('/usr')][:2])",
        ],
        None,
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "True True /\nTrue True\nTrue False\nread-only\n['/usr', '/usr/local']\n"
    );
}

#[test]
fn the_prelude_compiles_programs_as_the_builtin_compile_does() {
    // _wasmi_helpers.compile (python-wasm/_wasmi_helpers.c) skips only the builtin's
    // "is it an ast.AST" check; everything else must be the builtin's.
    let dir = scratch("helpers-compile");
    let check = r##"
import _wasmi_helpers as h, _wasmi_py
assert _wasmi_py._compile is h.compile
sources = ["x = 1\nprint(x + 2)\n", "def f(a, *, b=2):\n    return a + b\n", "async def g():\n    await h\n",
           b"# -*- coding: latin-1 -*-\ns = '\xe9'\n", "# -*- coding: latin-1 -*-\ns = '\xe9'\n",
           "from __future__ import annotations\ndef f(x: int) -> int: ...\n", b"\xef\xbb\xbfy = 2\n"]
for src in sources:
    for mode in ("exec", "single") if isinstance(src, str) and src.count("\n") == 1 else ("exec",):
        a, b = compile(src, "f.py", mode), h.compile(src, "f.py", mode)
        assert (a.co_code, a.co_consts, a.co_names, a.co_filename) == (b.co_code, b.co_consts, b.co_names, b.co_filename), src
        assert a.co_flags == b.co_flags, (src, a.co_flags, b.co_flags)
assert h.compile("1 + 2", "e", "eval").co_code == compile("1 + 2", "e", "eval").co_code
for bad in ["x = (1,\n", "print(x +)\n", "a\0b\n", b"\xff\n"]:
    errors = []
    for c in (compile, h.compile):
        try:
            c(bad, "bad.py", "exec")
        except SyntaxError as e:
            errors.append((type(e), e.msg, e.lineno, e.offset, e.text))
    assert len(errors) == 2 and errors[0] == errors[1], errors
print("same")
"##;
    let out = wasmi_py(&dir, &["-c", check], None);
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (0, "same\n"),
        "{}",
        out.stderr
    );
}
