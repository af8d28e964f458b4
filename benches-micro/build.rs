//! Records the build profile, optimisation level and compiler version for the report.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    println!("cargo::rerun-if-env-changed=PROFILE");
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "?".into());
    let opt = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "?".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "rustc ?".into());
    println!("cargo::rustc-env=MICRO_BENCH_PROFILE={profile}");
    println!("cargo::rustc-env=MICRO_BENCH_OPT_LEVEL={opt}");
    println!("cargo::rustc-env=MICRO_BENCH_RUSTC={version}");
}
