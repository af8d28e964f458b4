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
