//! Differential check: for every module binary of the default suites, wasmi-py accepts it
//! iff `wasmparser` (the reference validator, same features) does.
//!
//! Where the two disagree and *we* agree with the spec suite's own expectation, the case is
//! listed in [`ALLOWED`] with the reason; any other disagreement fails the test, and so does
//! an allow-list entry that no longer disagrees (so the list cannot rot).

use std::collections::BTreeSet;

use spec_tests::{check_module, suite_modules, Expect, Features, Suite, SuiteModule};
use wasmparser::{Validator, WasmFeatures};

/// Disagreements with wasmparser where wasmi-py matches the suite: (`suite/file.wast`, line,
/// why wasmparser differs).
const ALLOWED: &[(&str, usize, &str)] = &[];

/// Our features as wasmparser's, proposal by proposal.
///
/// Starts from nothing and adds wasmparser's two non-proposal gates every core module needs:
/// `FLOATS` (float types and instructions) and `GC_TYPES` (lets `externref` through when
/// reference types are on; `WasmFeatures::MVP` is exactly these two).
fn wasmparser_features(features: Features) -> WasmFeatures {
    // Destructured so that a new field of `Features` is a compile error here.
    let Features {
        mutable_global,
        sign_ext,
        saturating_float_to_int,
        multi_value,
        bulk_memory,
        reference_types,
        simd,
        multi_memory,
    } = features;
    let mut w = WasmFeatures::empty() | WasmFeatures::FLOATS | WasmFeatures::GC_TYPES;
    for (on, flag) in [
        (mutable_global, WasmFeatures::MUTABLE_GLOBAL),
        (sign_ext, WasmFeatures::SIGN_EXTENSION),
        (
            saturating_float_to_int,
            WasmFeatures::SATURATING_FLOAT_TO_INT,
        ),
        (multi_value, WasmFeatures::MULTI_VALUE),
        (bulk_memory, WasmFeatures::BULK_MEMORY),
        (reference_types, WasmFeatures::REFERENCE_TYPES),
        (simd, WasmFeatures::SIMD),
        (multi_memory, WasmFeatures::MULTI_MEMORY),
    ] {
        if on {
            w |= flag;
        }
    }
    w
}

#[test]
fn feature_mapping_matches_wasmparser_presets() {
    let nothing = Features {
        mutable_global: false,
        ..Features::mvp()
    };
    assert_eq!(wasmparser_features(nothing), WasmFeatures::MVP);
    let wasm1 = Features {
        mutable_global: true,
        ..nothing
    };
    assert_eq!(wasmparser_features(wasm1), WasmFeatures::WASM1);
    // `Features::mvp()` is 1.0 as the W3C Recommendation has it (with mutable globals).
    assert_eq!(wasmparser_features(Features::mvp()), WasmFeatures::WASM1);
    assert_eq!(wasmparser_features(Features::wasm2()), WasmFeatures::WASM2);
}

fn wasmparser_accepts(module: &SuiteModule) -> Result<(), String> {
    Validator::new_with_features(wasmparser_features(module.features))
        .validate_all(&module.bytes)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn verdicts_agree_with_wasmparser() {
    let mut compared = 0usize;
    let mut agreed = 0usize;
    let mut allowed_seen = BTreeSet::new();
    let mut problems = Vec::new();

    for suite in Suite::defaults() {
        for module in suite_modules(&suite) {
            compared += 1;
            let ours = check_module(&module.bytes, module.features);
            let theirs = wasmparser_accepts(&module);
            if ours.is_ok() == theirs.is_ok() {
                agreed += 1;
                continue;
            }
            let at = format!(
                "{}:{}:{} ({})",
                module.file, module.line, module.col, module.directive
            );
            let describe = || {
                format!(
                    "{at}: suite expects {}; wasmi-py: {}; wasmparser: {}",
                    match &module.expect {
                        Expect::Valid => "valid".to_string(),
                        Expect::Malformed(m) => format!("malformed \"{m}\""),
                        Expect::Invalid(m) => format!("invalid \"{m}\""),
                    },
                    match &ours {
                        Ok(()) => "accepted".to_string(),
                        Err(e) => format!("rejected ({e})"),
                    },
                    match &theirs {
                        Ok(()) => "accepted".to_string(),
                        Err(e) => format!("rejected ({e})"),
                    },
                )
            };
            let allowed = ALLOWED
                .iter()
                .position(|(file, line, _)| *file == module.file && *line == module.line);
            let we_match_suite = ours.is_ok() == module.expect.is_valid();
            match allowed {
                Some(i) if we_match_suite => {
                    allowed_seen.insert(i);
                }
                Some(_) => problems.push(format!(
                    "{} [allow-listed, but wasmi-py does not match the suite either]",
                    describe()
                )),
                None => problems.push(describe()),
            }
        }
    }

    for (i, (file, line, reason)) in ALLOWED.iter().enumerate() {
        if !allowed_seen.contains(&i) {
            problems.push(format!(
                "{file}:{line}: allow-listed ({reason}) but no longer a disagreement: remove it"
            ));
        }
    }

    println!(
        "differential: {compared} modules compared, {agreed} agreed, {} allow-listed disagreements, {} problems",
        allowed_seen.len(),
        problems.len()
    );
    assert!(compared > 5000, "only {compared} modules compared");
    if !problems.is_empty() {
        for p in problems.iter().take(100) {
            eprintln!("{p}");
        }
        panic!(
            "{} disagreements with wasmparser (first 100 above)",
            problems.len()
        );
    }
}
