//! Differential fuzzing of decode+validate against wasmparser: see
//! `wasmi_py_fuzz::oracle::run_validate_diff` (src/oracle.rs) for the modes, the feature
//! mapping and the documented known differences. A disagreement panics with both verdicts
//! and both error messages.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wasmi_py_fuzz::oracle::run_validate_diff(data));
