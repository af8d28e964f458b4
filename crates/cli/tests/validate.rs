//! End-to-end tests of `wasmi-py validate` through the built binary.

use std::process::Command;

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmi-py"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_module(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmi-py-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn valid_module_prints_a_summary() {
    let path = temp_module(
        "ok.wasm",
        &wat("(module (func (export \"f\") (result i32) (i32.const 1)))"),
    );
    let (code, stdout, _) = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("valid") && stdout.contains("1 functions, 1 exports"),
        "{stdout}"
    );
}

#[test]
fn invalid_module_names_function_and_offset() {
    let path = temp_module(
        "bad.wasm",
        &wat("(module (func $ok) (func $broken (result i32) (f32.const 0)))"),
    );
    let (code, _, stderr) = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid module: type mismatch"), "{stderr}");
    assert!(stderr.contains("in function 1 `broken`"), "{stderr}");
    assert!(stderr.contains("at byte offset"), "{stderr}");
}

#[test]
fn malformed_bytes_and_bad_usage() {
    let path = temp_module("junk.wasm", b"\0asm\x01\0\0\0\x0d\x00");
    let (code, _, stderr) = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("malformed module: malformed section id 13 at byte offset 8"),
        "{stderr}"
    );
    let (code, _, _) = run(&["frobnicate"]);
    assert_eq!(code, 2);
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("validate"));
}
