//! Support code for wasmi-py's fuzz targets.
//!
//! - [`oracle`]: decode/validate against wasmparser (`decode`, `validate_diff`).
//!   `crates/validate/tests/{smith_differential,fuzz_regressions}.rs` include it by `#[path]`
//!   so that `cargo test` in the product workspace runs the same checks without libFuzzer.
//! - [`exec_oracle`]: execution against wasmi 2.0 (`execute_diff`). Needs `wasmi`, which only
//!   this workspace depends on, so its `cargo test` coverage lives here (`tests/execute_diff.rs`).

pub mod exec_oracle;
pub mod oracle;
