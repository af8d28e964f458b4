//! A bounded, deterministic run of the `validate_diff` fuzz target's checks in `cargo test`:
//! wasm-smith modules (which we must accept) and byte-level mutations of them (on which our
//! verdict must equal wasmparser's with the same proposals). The oracle is the fuzz crate's
//! own (`fuzz/src/oracle.rs`), included by path so both always check the same thing.
//!
//! Seeds are fixed (an xorshift generator fills the byte buffers wasm-smith draws from), so
//! a failure reproduces exactly; the failing seed is in the message. Every divergence found
//! is listed before the test fails, not just the first.

#[allow(dead_code)]
#[path = "../../../fuzz/src/oracle.rs"]
mod oracle;

use arbitrary::Unstructured;
use oracle::Agreement;
use wasmi_py_decode::Features;

/// Modules generated. Each is checked valid, then under a random proposal set, then
/// `MUTANTS` mutated copies are compared.
const MODULES: u64 = 2000;
const MUTANTS: usize = 4;

/// xorshift64*: tiny, deterministic, good enough to feed `Unstructured`.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Never zero, and seeds close together start far apart.
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

#[derive(Default, Debug)]
struct Stats {
    generated: usize,
    valid_checked: usize,
    compared: usize,
    both_accept: usize,
    both_reject: usize,
    known: usize,
    divergences: Vec<String>,
}

impl Stats {
    fn record(&mut self, what: &str, seed: u64, bytes: &[u8], features: Features) {
        self.compared += 1;
        match oracle::compare(bytes, features) {
            Ok(Agreement::BothAccept) => self.both_accept += 1,
            Ok(Agreement::BothReject) => self.both_reject += 1,
            Ok(Agreement::Known(_)) => self.known += 1,
            Err(d) => self.divergences.push(format!(
                "seed {seed}, {what}:\n{d}  module: {}\n",
                hex(bytes)
            )),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    if bytes.len() > 512 {
        return format!("({} bytes, too long to print)", bytes.len());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn smith_modules_are_accepted_and_mutants_agree_with_wasmparser() {
    let mut stats = Stats::default();
    for seed in 0..MODULES {
        let mut rng = Rng::new(seed);
        let len = 512 + (rng.next() % 3584) as usize;
        let data = rng.bytes(len);
        let mut u = Unstructured::new(&data);
        let Ok((bytes, features)) = oracle::smith_module(&mut u) else {
            continue;
        };
        stats.generated += 1;

        // Valid by construction: wasmparser must accept it (else the harness is wrong) and
        // so must we.
        // Proposals only add: valid with some of 2.0's is valid with all of them.
        for f in [features, Features::wasm2()] {
            assert!(
                oracle::theirs(&bytes, f).is_ok(),
                "seed {seed}: harness bug, wasmparser rejects a wasm-smith module under \
                 {f:?}: {:?}",
                oracle::theirs(&bytes, f)
            );
            match oracle::ours(&bytes, f) {
                Ok(()) => stats.valid_checked += 1,
                Err(e) => stats.divergences.push(format!(
                    "seed {seed}, valid wasm-smith module rejected by wasmi-py ({f:?}): \
                     {e}\n  module: {}\n",
                    hex(&bytes)
                )),
            }
        }

        // The same module under another proposal set: feature gating must agree.
        let mut fu = Unstructured::new(&data[data.len() / 2..]);
        if let Ok(other) = oracle::arbitrary_features(&mut fu) {
            stats.record("other features", seed, &bytes, other);
        }

        // Mutants.
        for m in 0..MUTANTS {
            let noise = rng.bytes(64);
            let mut mu = Unstructured::new(&noise);
            let mut mutant = bytes.clone();
            if oracle::mutate(&mut mutant, &mut mu).is_err() {
                continue;
            }
            let f = if m % 2 == 0 {
                features
            } else {
                oracle::arbitrary_features(&mut mu).unwrap_or(features)
            };
            stats.record(&format!("mutant {m}"), seed, &mutant, f);
        }
    }

    eprintln!(
        "smith differential: {} modules generated, {} valid (module, features) pairs accepted, {} comparisons \
         ({} both accept, {} both reject, {} known differences), {} divergences",
        stats.generated,
        stats.valid_checked,
        stats.compared,
        stats.both_accept,
        stats.both_reject,
        stats.known,
        stats.divergences.len()
    );
    assert!(
        stats.divergences.is_empty(),
        "{} divergence(s) between wasmi-py and wasmparser:\n\n{}",
        stats.divergences.len(),
        stats.divergences.join("\n")
    );
    // The run must not be vacuous: most seeds produce a module, and the mutants include
    // both modules that stay valid and modules that break.
    assert!(stats.generated as u64 >= MODULES * 9 / 10, "{stats:?}");
    assert!(stats.both_accept > 0 && stats.both_reject > 0, "{stats:?}");
}

/// The feature mapping is not vacuous: each proposal, switched off, makes wasmparser and us
/// reject a module that uses it, and switched on makes both accept it.
#[test]
fn feature_gates_agree_on_hand_written_modules() {
    // (type (func (param i32) (result i32))) (func (type 0) local.get 0 <op>)
    fn unary_i32(op: &[u8]) -> Vec<u8> {
        let mut code = vec![0x00, 0x20, 0x00];
        code.extend_from_slice(op);
        code.push(0x0b);
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(&[0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f]);
        m.extend_from_slice(&[0x03, 0x02, 0x01, 0x00]);
        m.extend_from_slice(&[0x0a, code.len() as u8 + 2, 0x01, code.len() as u8]);
        m.extend_from_slice(&code);
        m
    }
    type SwitchOff = fn(&mut Features);
    let cases: [(&str, Vec<u8>, SwitchOff); 3] = [
        ("i32.extend8_s", unary_i32(&[0xc0]), |f| f.sign_ext = false),
        (
            "i32.trunc_sat_f32_s",
            // f32.convert_i32_s then i32.trunc_sat_f32_s
            unary_i32(&[0xb2, 0xfc, 0x00]),
            |f| f.saturating_float_to_int = false,
        ),
        (
            "i32x4.splat + i32x4.extract_lane 0",
            unary_i32(&[0xfd, 0x11, 0xfd, 0x1b, 0x00]),
            |f| f.simd = false,
        ),
    ];
    for (name, module, switch_off) in cases {
        let on = Features::wasm2();
        let mut off = on;
        switch_off(&mut off);
        assert!(
            oracle::theirs(&module, on).is_ok(),
            "{name}: wasmparser, on"
        );
        assert!(
            oracle::theirs(&module, off).is_err(),
            "{name}: wasmparser, off"
        );
        let r = oracle::compare(&module, on);
        assert!(matches!(r, Ok(Agreement::BothAccept)), "{name}, on: {r:?}");
        let r = oracle::compare(&module, off);
        assert!(matches!(r, Ok(Agreement::BothReject)), "{name}, off: {r:?}");
    }
}
