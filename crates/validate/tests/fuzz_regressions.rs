//! Replays every input the fuzzers ever crashed on (`fuzz/regressions/<target>/*`), through
//! the same code the fuzz targets run (`fuzz/src/oracle.rs`, included by path), so that a
//! fixed crash stays fixed without libFuzzer or a nightly toolchain.
//!
//! `fuzz/regressions/decode/*` must decode/validate without panicking;
//! `fuzz/regressions/validate_diff/*` must also give wasmparser's verdict. Files whose names
//! start with `.` or end in `.md` are skipped. See fuzz/README.md for how inputs get here.

#[allow(dead_code)]
#[path = "../../../fuzz/src/oracle.rs"]
mod oracle;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("readable directory entry").path())
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                p.is_file() && !name.starts_with('.') && !name.ends_with(".md")
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("readable regression input");
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    eprintln!("{target}: replayed {} regression inputs", files.len());
    assert!(
        failed.is_empty(),
        "{} of {} {target} regression inputs fail (messages above):\n  {}",
        failed.len(),
        files.len(),
        failed.join("\n  ")
    );
}

#[test]
fn decode_regressions() {
    replay("decode", oracle::run_decode);
}

#[test]
fn validate_diff_regressions() {
    replay("validate_diff", oracle::run_validate_diff);
}
