//! Chooses the interpreter's dispatch backend (see `src/exec.rs`, "Threaded execution").
//!
//! `wasmi_py_tail` is set when handlers can chain by tail calls: the build optimises (LLVM
//! performs sibling-call optimisation only at `opt-level` 2, 3, "s" or "z"), the target is
//! one whose LLVM backend is known to lower such calls to jumps, and the
//! `portable-dispatch` and `op-stats` features are off. Otherwise handlers return to a loop.
//!
//! `WASMI_PY_CODE_STAMP` identifies the translator for the code cache (`src/cache.rs`): a
//! hash of every source file of this crate, the decoder and the validator, so a cache file
//! written by a build that could translate differently is never read.

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    println!("cargo::rustc-check-cfg=cfg(wasmi_py_tail)");
    let optimising = matches!(
        env::var("OPT_LEVEL").unwrap_or_default().as_str(),
        "2" | "3" | "s" | "z"
    );
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let tail_call_target = matches!(arch.as_str(), "x86_64" | "aarch64");
    // Counting dispatches (`op-stats`) happens in the portable backend's loop.
    let portable = env::var_os("CARGO_FEATURE_PORTABLE_DISPATCH").is_some()
        || env::var_os("CARGO_FEATURE_OP_STATS").is_some();
    if optimising && tail_call_target && !portable {
        println!("cargo::rustc-cfg=wasmi_py_tail");
    }
    code_stamp();
}

fn code_stamp() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut files = Vec::new();
    for dir in ["src", "../decode/src", "../validate/src"] {
        let dir = manifest.join(dir);
        println!("cargo::rerun-if-changed={}", dir.display());
        collect(&dir, &mut files);
    }
    files.sort();
    // SipHash with fixed keys: a version stamp, not a security boundary (the cache's
    // file names carry the module's SHA-256).
    let mut hasher = DefaultHasher::new();
    hasher.write(env::var("CARGO_PKG_VERSION").unwrap_or_default().as_bytes());
    for file in &files {
        let name = file.strip_prefix(&manifest).unwrap_or(file);
        hasher.write(name.to_string_lossy().as_bytes());
        hasher.write(&std::fs::read(file).unwrap_or_default());
    }
    println!(
        "cargo::rustc-env=WASMI_PY_CODE_STAMP={:016x}",
        hasher.finish()
    );
}

/// Every file under `dir`, recursively.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
