//! Support code for wasmi-py's fuzz targets. Everything lives in [`oracle`], which
//! `crates/validate/tests/{smith_differential,fuzz_regressions}.rs` include by `#[path]` so
//! that `cargo test` in the product workspace runs the same checks without libFuzzer.

pub mod oracle;
