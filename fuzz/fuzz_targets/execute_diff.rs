//! Differential execution against wasmi 2.0: a wasm-smith module (2.0 without SIMD, no
//! imports, everything exported, instrumented to terminate) is instantiated in both engines
//! and every export called; results, traps, globals, memories and tables must agree. See
//! `wasmi_py_fuzz::exec_oracle` (src/exec_oracle.rs). A disagreement panics with both
//! outcomes and the calls before it.
//!
//! `EXECUTE_DIFF_LAST_INPUT=<file>`: write every input to `<file>` before running it. For
//! crashes libFuzzer cannot record (a native stack overflow kills the process before its
//! signal handler can write the artifact): the file then holds the input that crashed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(path) = std::env::var_os("EXECUTE_DIFF_LAST_INPUT") {
        let _ = std::fs::write(path, data);
    }
    wasmi_py_fuzz::exec_oracle::run_execute_diff(data)
});
