//! The differential oracle: wasmi-py's verdict on a module (decode, then validate) against
//! wasmparser's (`Validator::validate_all`) with the same set of proposals enabled.
//!
//! This file is shared, without a crate boundary, by
//! - the `validate_diff` fuzz target (through the `wasmi-py-fuzz` library),
//! - `examples/seed_corpus.rs`,
//! - `crates/validate/tests/smith_differential.rs` (which pulls it in with `#[path]`, so that
//!   `cargo test` in the product workspace runs the same checks without libFuzzer).
//!
//! It may therefore only use crates that both sides have: `wasmi_py_decode`,
//! `wasmi_py_validate`, `wasmparser`, `wasm_smith` and `arbitrary`.
//!
//! # Known, deliberate differences
//!
//! A disagreement is a bug in one of the two, unless it is one of these (see
//! [`known_difference`]); every one of them is a case where wasmparser rejects a module that
//! the spec accepts and we accept, never the other way round:
//!
//! 1. **wasmparser's implementation limits** (`wasmparser::limits`, the JS-API limits):
//!    at most 1000 params / 1000 results per function type, 100,000 bytes per name,
//!    10,000,000 table elements per segment, 7,654,321 bytes per function body, 1,000,000
//!    types/functions/imports/exports/globals, 100,000 element/data segments, 50,000 locals
//!    *including the parameters*. The spec has no such limits. Our only limit of this kind is
//!    `wasmi_py_decode::MAX_LOCALS` (50,000 *declared* locals, parameters not counted), so
//!    wasmparser always hits its locals limit first. wasmparser's messages for these are
//!    "... size is out of bounds", "... count exceeds limit of N", "number of elements is out
//!    of bounds", "string size out of bounds", "too many locals", "function body size ...".
//!    If wasmparser rejects with one of those and we accept, that is not a divergence.
//!
//! Everything else is reported: the panic message carries both verdicts and both errors.

use std::fmt;

use arbitrary::{Arbitrary, Unstructured};
use wasmi_py_decode::{Features, Module};

/// Our verdict: decode, then validate. `Ok` iff the module is accepted.
pub fn ours(bytes: &[u8], features: Features) -> Result<(), wasmi_py_decode::Error> {
    let module = Module::decode(bytes, features)?;
    wasmi_py_validate::validate(&module)
}

/// wasmparser's verdict with the proposals of `features` (and nothing else) enabled.
pub fn theirs(bytes: &[u8], features: Features) -> Result<(), wasmparser::BinaryReaderError> {
    wasmparser::Validator::new_with_features(wasmparser_features(features))
        .validate_all(bytes)
        .map(|_types| ())
}

/// Maps our proposal set onto wasmparser's.
///
/// Starts from the empty set, not from `WasmFeatures::default()` (which enables threads,
/// exceptions, GC, tail calls, memory64, ... and the compact-imports encoding). wasmparser's
/// `MVP` set is `FLOATS | GC_TYPES`: neither is a proposal; `FLOATS` allows float types and
/// instructions at all, `GC_TYPES` allows `externref` at all (it is additionally gated by
/// `REFERENCE_TYPES`), so both are always on. `REFERENCE_TYPES` implies
/// `CALL_INDIRECT_OVERLONG` and `BULK_MEMORY` implies `BULK_MEMORY_OPT`, as in 2.0.
pub fn wasmparser_features(f: Features) -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as W;
    let mut w = W::FLOATS | W::GC_TYPES;
    w.set(W::MUTABLE_GLOBAL, f.mutable_global);
    w.set(W::SIGN_EXTENSION, f.sign_ext);
    w.set(W::SATURATING_FLOAT_TO_INT, f.saturating_float_to_int);
    w.set(W::MULTI_VALUE, f.multi_value);
    w.set(W::BULK_MEMORY, f.bulk_memory);
    w.set(W::REFERENCE_TYPES, f.reference_types);
    w.set(W::SIMD, f.simd);
    w.set(W::MULTI_MEMORY, f.multi_memory);
    w
}

/// Divergence classes of bugs that were open at some point, which a fuzzing session may skip
/// while they are open so that it can look for other bugs: `WASMI_PY_FUZZ_IGNORE` is a
/// comma-separated list of these names. Never set in `cargo test`, where they must fail.
/// When a new bug class blocks fuzzing, add a precise classifier for it to
/// [`open_bug_class`] (matching as narrowly as possible, so it hides nothing else).
///
/// Both classes below were found by the first `validate_diff` runs and fixed in bdcf58b
/// ("1.0-mode fixes"); a classifier that no longer fires is harmless.
///
/// - `elem-exprs-no-reftypes`: an element segment in an expression encoding (flags 4-7)
///   accepted with `reference_types` off; wasmparser rejects (it gates expression items on
///   reference types; in 1.0 the flags word is a table index, and only table 0 exists).
/// - `datacount-no-bulk`: a data count section (id 12) accepted with `bulk_memory` off;
///   wasmparser rejects, as does 1.0 (id 12 is not a 1.0 section).
pub const OPEN_BUG_CLASSES: &[&str] = &["elem-exprs-no-reftypes", "datacount-no-bulk"];

fn ignored(class: &str) -> bool {
    std::env::var("WASMI_PY_FUZZ_IGNORE")
        .map(|v| v.split(',').any(|c| c.trim() == class))
        .unwrap_or(false)
}

/// The id of the section whose contents hold byte `offset`, by walking section headers.
fn section_at(bytes: &[u8], offset: usize) -> Option<u8> {
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let b = *bytes.get(pos)?;
            pos += 1;
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 || shift > 28 {
                break;
            }
        }
        let end = pos.checked_add(size)?;
        if (pos..end).contains(&offset) {
            return Some(id);
        }
        pos = end;
    }
    None
}

/// The open-bug class a disagreement falls in, if any (see [`OPEN_BUG_CLASSES`]).
pub fn open_bug_class(
    bytes: &[u8],
    features: Features,
    ours: &Result<(), wasmi_py_decode::Error>,
    theirs: &Result<(), wasmparser::BinaryReaderError>,
) -> Option<&'static str> {
    let (Ok(()), Err(e)) = (ours, theirs) else {
        return None;
    };
    let at = usize::try_from(e.offset()).unwrap_or(usize::MAX);
    if !features.reference_types
        && e.message() == "reference types support is not enabled"
        && section_at(bytes, at) == Some(9)
        && bytes.get(at).is_some_and(|&flags| (4..=7).contains(&flags))
    {
        return Some("elem-exprs-no-reftypes");
    }
    if !features.bulk_memory
        && e.message() == "data count section requires the bulk-memory proposal"
    {
        return Some("datacount-no-bulk");
    }
    None
}

/// Why a disagreement is expected, if it is one of the documented known differences.
pub fn known_difference(
    ours: &Result<(), wasmi_py_decode::Error>,
    theirs: &Result<(), wasmparser::BinaryReaderError>,
) -> Option<&'static str> {
    match (ours, theirs) {
        (Ok(()), Err(e)) => {
            let m = e.message();
            let limit = m.contains("size is out of bounds")
                || m.contains("count exceeds limit of")
                || m.contains("number of elements is out of bounds")
                || m.contains("string size out of bounds")
                || m.contains("too many locals")
                || m.contains("function body size");
            limit.then_some("wasmparser implementation limit (the spec has none)")
        }
        _ => None,
    }
}

/// A disagreement between the two verdicts, with everything needed to act on it.
pub struct Divergence {
    pub features: Features,
    pub ours: Result<(), wasmi_py_decode::Error>,
    pub theirs: Result<(), wasmparser::BinaryReaderError>,
    pub len: usize,
    /// The open-bug class it falls in, if it is a known, reported bug.
    pub open_bug: Option<&'static str>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wasmi-py and wasmparser disagree on a {}-byte module",
            self.len
        )?;
        writeln!(f, "  features: {:?}", self.features)?;
        match &self.ours {
            Ok(()) => writeln!(f, "  wasmi-py:   ACCEPT")?,
            Err(e) => writeln!(
                f,
                "  wasmi-py:   REJECT ({:?}) at offset {}: {}",
                e.kind(),
                e.offset(),
                e.message()
            )?,
        }
        match &self.theirs {
            Ok(()) => writeln!(f, "  wasmparser: ACCEPT")?,
            Err(e) => writeln!(
                f,
                "  wasmparser: REJECT at offset {}: {}",
                e.offset(),
                e.message()
            )?,
        }
        if let Some(class) = self.open_bug {
            writeln!(
                f,
                "  (open-bug class `{class}`: WASMI_PY_FUZZ_IGNORE={class} skips it while fuzzing)"
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Outcome of one differential check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    BothAccept,
    BothReject,
    /// They disagree, but in a documented way ([`known_difference`]).
    Known(&'static str),
}

/// Compares the two verdicts on `bytes` with `features`.
pub fn compare(bytes: &[u8], features: Features) -> Result<Agreement, Divergence> {
    let o = ours(bytes, features);
    let t = theirs(bytes, features);
    match (&o, &t) {
        (Ok(()), Ok(())) => Ok(Agreement::BothAccept),
        (Err(_), Err(_)) => Ok(Agreement::BothReject),
        _ => match known_difference(&o, &t) {
            Some(why) => Ok(Agreement::Known(why)),
            None => match open_bug_class(bytes, features, &o, &t) {
                Some(class) if ignored(class) => Ok(Agreement::Known(class)),
                open_bug => Err(Divergence {
                    features,
                    ours: o,
                    theirs: t,
                    len: bytes.len(),
                    open_bug,
                }),
            },
        },
    }
}

/// A random proposal set: each proposal of ours on or off (multi-memory always off: not
/// generated, and not part of what CPython needs).
pub fn arbitrary_features(u: &mut Unstructured) -> arbitrary::Result<Features> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => Features::mvp(),
        1 => Features::wasm2(),
        _ => Features {
            mutable_global: u.arbitrary()?,
            sign_ext: u.arbitrary()?,
            saturating_float_to_int: u.arbitrary()?,
            multi_value: u.arbitrary()?,
            bulk_memory: u.arbitrary()?,
            reference_types: u.arbitrary()?,
            simd: u.arbitrary()?,
            multi_memory: false,
        },
    })
}

/// A wasm-smith configuration drawn from `u` that generates only what we support, and the
/// proposal set (ours) its modules need.
///
/// Turns off every proposal past WebAssembly 2.0 in `c` (and multi-memory: at most one
/// memory), leaving the 2.0 proposals as they are.
pub fn disable_post_2_0(c: &mut wasm_smith::Config) {
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.exceptions_enabled = false;
    c.gc_enabled = false;
    c.custom_descriptors_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.tail_call_enabled = false;
    c.memory64_enabled = false;
    c.relaxed_simd_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.extended_const_enabled = false;
    c.compact_imports_enabled = false;
    c.max_memories = c.max_memories.min(1);
    c.min_memories = c.min_memories.min(1);
    c.max_tags = 0;
}

/// `Config::arbitrary` varies the limits, the instruction kinds, `min_uleb_size` (over-long
/// LEB128s), and the 2.0 proposals; everything past 2.0 is forced off here. wasm-smith has
/// no knob for `mutable-global` (it is always allowed), so the returned features have it on.
pub fn smith_config(u: &mut Unstructured) -> arbitrary::Result<(wasm_smith::Config, Features)> {
    let mut c = wasm_smith::Config::arbitrary(u)?;
    disable_post_2_0(&mut c);
    if !c.reference_types_enabled {
        c.max_tables = c.max_tables.min(1);
    }
    // Keep modules small enough for a fast fuzz loop and a bounded `cargo test`.
    c.max_funcs = c.max_funcs.min(50);
    c.max_instructions = c.max_instructions.min(300);
    c.max_types = c.max_types.min(50);
    c.max_imports = c.max_imports.min(50);
    c.max_globals = c.max_globals.min(50);
    c.max_exports = c.max_exports.min(50);
    c.max_element_segments = c.max_element_segments.min(20);
    c.max_elements = c.max_elements.min(50);
    c.max_data_segments = c.max_data_segments.min(20);
    let features = Features {
        mutable_global: true,
        sign_ext: c.sign_extension_ops_enabled,
        saturating_float_to_int: c.saturating_float_to_int_enabled,
        multi_value: c.multi_value_enabled,
        bulk_memory: c.bulk_memory_enabled,
        reference_types: c.reference_types_enabled,
        simd: c.simd_enabled,
        multi_memory: false,
    };
    Ok((c, features))
}

/// A wasm-smith module drawn from `u`, and the features it needs.
pub fn smith_module(u: &mut Unstructured) -> arbitrary::Result<(Vec<u8>, Features)> {
    let (config, features) = smith_config(u)?;
    let module = wasm_smith::Module::new(config, u)?;
    Ok((module.to_bytes(), features))
}

/// Bytes worth writing over a module byte: LEB128 edges, section ids, value types, block
/// type and opcode bytes that sit at feature boundaries.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x10, 0x11,
    0x1b, 0x1c, 0x20, 0x23, 0x24, 0x25, 0x26, 0x40, 0x41, 0x60, 0x6f, 0x70, 0x7b, 0x7c, 0x7d, 0x7e,
    0x7f, 0x80, 0xc0, 0xd0, 0xd1, 0xd2, 0xfc, 0xfd, 0xff,
];

/// Applies 1 to 8 byte-level mutations driven by `u`: set a byte (to an interesting value,
/// a random one, or by flipping one bit), insert a byte, delete a byte or a short range,
/// duplicate a short range. The 8-byte header is left alone most of the time, since
/// breaking it only exercises the first check of the decoder.
pub fn mutate(bytes: &mut Vec<u8>, u: &mut Unstructured) -> arbitrary::Result<()> {
    let n = u.int_in_range(1u8..=8)?;
    for _ in 0..n {
        if bytes.is_empty() {
            bytes.push(u.arbitrary()?);
            continue;
        }
        let low = if bytes.len() > 8 && u.ratio(15u8, 16u8)? {
            8
        } else {
            0
        };
        let pos = u.int_in_range(low..=bytes.len() - 1)?;
        match u.int_in_range(0u8..=6)? {
            0 => bytes[pos] = *u.choose(INTERESTING)?,
            1 => bytes[pos] = u.arbitrary()?,
            2 => bytes[pos] ^= 1 << u.int_in_range(0u8..=7)?,
            3 => {
                let b = if u.arbitrary()? {
                    *u.choose(INTERESTING)?
                } else {
                    u.arbitrary()?
                };
                bytes.insert(pos, b);
            }
            4 => {
                bytes.remove(pos);
            }
            5 => {
                let len = u.int_in_range(1..=16usize)?.min(bytes.len() - pos);
                bytes.drain(pos..pos + len);
            }
            _ => {
                let len = u.int_in_range(1..=16usize)?.min(bytes.len() - pos);
                let copy: Vec<u8> = bytes[pos..pos + len].to_vec();
                let at = u.int_in_range(low.min(bytes.len())..=bytes.len())?;
                bytes.splice(at..at, copy);
            }
        }
    }
    Ok(())
}

/// One input of the `decode` fuzz target: decode with the 1.0 and the 2.0+SIMD proposal
/// sets, and validate what decodes. Must not panic (the verdicts themselves are not checked).
pub fn run_decode(data: &[u8]) {
    for features in [Features::mvp(), Features::wasm2()] {
        if let Ok(module) = Module::decode(data, features) {
            let _ = wasmi_py_validate::validate(&module);
        }
    }
}

/// One input of the `validate_diff` fuzz target. Panics, with both verdicts and both
/// messages, if we and wasmparser disagree (outside [`known_difference`]).
///
/// The first byte picks the mode, the rest drives it:
/// - `0 (mod 3)`: a wasm-smith module (valid by construction, only proposals we support). We
///   must accept it with the features it was generated for, and agree with wasmparser
///   under a second, random proposal set (which exercises feature gating).
/// - `1 (mod 3)`: a wasm-smith module with a few bytes changed, inserted or deleted
///   ([`mutate`]); the verdicts must agree, under its own or a random proposal set.
/// - `2 (mod 3)`: the remaining bytes as they are (libFuzzer's own mutations of a seed
///   corpus made from the spec suite); the next byte picks the proposal set.
pub fn run_validate_diff(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => diff_smith(rest),
        1 => diff_mutated(rest),
        _ => diff_raw(rest),
    }
}

fn check(bytes: &[u8], features: Features) {
    if let Err(d) = compare(bytes, features) {
        panic!("{d}");
    }
}

/// Checks a module that is valid under `features`: wasmparser must accept it (else the
/// harness is wrong) and so must we.
pub fn check_valid(bytes: &[u8], features: Features) {
    if let Err(e) = theirs(bytes, features) {
        panic!(
            "harness bug: wasmparser rejects a wasm-smith module under the features it was \
             generated for ({features:?}): {e}"
        );
    }
    if let Err(e) = ours(bytes, features) {
        panic!(
            "wasmi-py rejects a valid wasm-smith module ({} bytes, features {features:?}) \
             that wasmparser accepts: {:?} at offset {}: {}",
            bytes.len(),
            e.kind(),
            e.offset(),
            e.message()
        );
    }
}

fn diff_smith(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((bytes, features)) = smith_module(&mut u) else {
        return;
    };
    check_valid(&bytes, features);
    // Proposals only add: valid with some of 2.0's is valid with all of them.
    check_valid(&bytes, Features::wasm2());
    if let Ok(other) = arbitrary_features(&mut u) {
        check(&bytes, other);
    }
}

fn diff_mutated(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((mut bytes, features)) = smith_module(&mut u) else {
        return;
    };
    if mutate(&mut bytes, &mut u).is_err() {
        return;
    }
    let features = if u.ratio(1u8, 2u8).unwrap_or(false) {
        features
    } else {
        arbitrary_features(&mut u).unwrap_or(features)
    };
    check(&bytes, features);
}

fn diff_raw(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    check(bytes, raw_features(sel));
}

/// The proposal set a raw input's selector byte picks: 1.0, 2.0+SIMD, or a subset given by
/// its high six bits (SIMD goes with reference types there).
pub fn raw_features(sel: u8) -> Features {
    match sel & 3 {
        0 => Features::mvp(),
        1 | 2 => Features::wasm2(),
        _ => Features {
            mutable_global: sel & 0x04 != 0,
            sign_ext: sel & 0x08 != 0,
            saturating_float_to_int: sel & 0x10 != 0,
            multi_value: sel & 0x20 != 0,
            bulk_memory: sel & 0x40 != 0,
            reference_types: sel & 0x80 != 0,
            simd: sel & 0x80 != 0,
            multi_memory: false,
        },
    }
}
