//! Chooses the interpreter's dispatch backend (see `src/exec.rs`, "Threaded execution").
//!
//! `wasmi_py_tail` is set when handlers can chain by tail calls: the build optimises (LLVM
//! performs sibling-call optimisation only at `opt-level` 2, 3, "s" or "z"), the target is
//! one whose LLVM backend is known to lower such calls to jumps, and the
//! `portable-dispatch` feature is off. Otherwise handlers return to a loop.

use std::env;

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
    let portable = env::var_os("CARGO_FEATURE_PORTABLE_DISPATCH").is_some();
    if optimising && tail_call_target && !portable {
        println!("cargo::rustc-cfg=wasmi_py_tail");
    }
}
