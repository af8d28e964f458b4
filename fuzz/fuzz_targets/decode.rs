//! Arbitrary bytes into the decoder (1.0 and 2.0+SIMD proposal sets) and, when they decode,
//! the validator. Both must return, never panic, and stay bounded in time and memory
//! (libFuzzer's -timeout and -rss_limit_mb catch hangs and runaway allocations).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wasmi_py_fuzz::oracle::run_decode(data));
