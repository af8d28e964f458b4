//! The execution oracle: runs a wasm-smith module in wasmi-py and in `wasmi` 2.0 (the
//! reference implementation, spec-compliant) and compares everything observable.
//!
//! Used by the `execute_diff` fuzz target, `tests/execute_diff.rs` (a fixed-seed run and the
//! replay of `regressions/execute_diff/`, both part of `cd fuzz && cargo test`) and
//! `examples/execute_diff_repro.rs`. Unlike `oracle.rs` this file is *not* included by the
//! product workspace's tests: it needs `wasmi`, which only this workspace depends on.
//!
//! # What is generated
//!
//! [`smith_config`]: exactly what wasmi-py executes: the MVP, mutable globals, sign
//! extension, saturating float-to-int, multi-value, bulk memory and reference types. No
//! SIMD (decoded and validated by wasmi-py, not executed yet), no threads, exceptions, GC,
//! tail calls, memory64, multi-memory, relaxed SIMD, extended const, wide arithmetic or
//! custom page sizes. No imports (so no host functions). Every function, table, memory and
//! global is exported. Memories have a declared maximum of at most [`MAX_PAGES`] pages and
//! tables one of at most [`MAX_TABLE_ELEMENTS`], so `memory.grow`/`table.grow` never run
//! into an engine's own allocation limits. NaNs are canonicalised by wasm-smith after every
//! float operation whose NaN payload the spec leaves open (`canonicalize_nans`), so
//! memories and bit-casts are comparable byte for byte.
//!
//! # Termination
//!
//! wasm-smith's `Module::ensure_termination(fuel)` instruments every function entry and
//! loop header with a decrement of a fuel global and an `unreachable` when it is zero, and
//! makes `memory.fill`/`copy`/`init`, `table.fill`/`copy`/`init` trap when their length is
//! at least the fuel left. Both engines therefore run the same number of steps and stop
//! with the same trap (`unreachable`) when the budget runs out. The budget (1 to
//! [`MAX_FUEL`], drawn per module) is the global's initial value, so the start function
//! gets it; the harness exports the global as [`FUEL_EXPORT`] (one export entry appended to
//! wasm-smith's export section, nothing else changes) and sets it back to the budget in
//! both engines before every call, so that one call that runs out does not leave the others
//! nothing. (Its value is compared after each call like any exported global: both engines
//! must have counted the same loop iterations and calls.) Neither engine's own fuel
//! metering is used (their accountings differ).
//!
//! # Inconclusive modules
//!
//! The call-stack limits differ (wasmi-py: 100,000 frames and 8 Mi value slots; wasmi: set
//! to [`WASMI_MAX_RECURSION`] frames and [`WASMI_MAX_STACK_BYTES`] bytes here). The fuel
//! bounds recursion depth by [`MAX_FUEL`], so this is rare, but a module with huge frames
//! can still exhaust one engine's stack and not the other's. When either engine reports
//! "call stack exhausted" (at instantiation or in any call), the module is **inconclusive**
//! and the rest of it is skipped ([`Verdict::Inconclusive`]). So is a module wasmi rejects
//! (its implementation limits; wasm-smith only makes valid modules) or fails to
//! instantiate for a reason other than a trap.
//!
//! # Known wasmi 2.0.0 bugs, worked around
//!
//! wasmi is the reference, so where it is wrong the oracle must not believe it. The module
//! wasmi runs is rewritten ([`wasmi_workarounds`]) into a semantically identical one that
//! avoids the bug; wasmi-py always runs the module exactly as wasm-smith made it.
//!
//! 1. **`select` fused with an `i32.eqz`/`i32.eq 0`/`i32.ne 0` condition** (wasmi's
//!    `FuncTranslator::try_fuse_select`): when the comparison's operand is a local or stack
//!    slot rather than wasmi's register, the comparison is dropped but `select` still reads
//!    its condition from the register, i.e. a stale value, so it picks an arbitrary operand:
//!    `(select (i64.const 7) (i64.const 9) (i32.eqz (local.get 0)))` with local 0 = 1
//!    returns 7 (the spec says 9). Found by this oracle at once: wasm-smith guards every
//!    division with exactly this pattern when `disallow_traps` is on. Workaround: a
//!    `local.tee` of a fresh i32 local before every `select` (wasmi never fuses a
//!    comparison whose result went to a local).
//! 2. Not a miscompilation, a build issue: wasmi's default dispatch tail-calls from one
//!    instruction handler to the next and relies on LLVM turning that into a jump, which it
//!    does not in the fuzz build (coverage instrumentation, debug assertions); a long loop
//!    then overflows the native stack (SIGSEGV, and libFuzzer writes no artifact). This
//!    workspace builds wasmi with its `portable-dispatch` feature (a plain loop).
//! 3. Not worked around, detected: a call can return an externref that wasmi's own store
//!    cannot resolve (`ExternRef::data` panics "entity not found";
//!    `regressions/execute_diff/wasmi-unresolvable-externref-result.bin`). The call's
//!    outcome is then [`Outcome::ReferenceBroke`] and the module inconclusive. Not minimised
//!    yet.
//! 4. **A `local.get` below the parameters of a `block`/`if`/`loop`** (found 2026-11-24,
//!    `regressions/execute_diff/global-xor-off-by-one-crash-72080a81…`): wasmi keeps
//!    `local.get` lazy on its stack and copies such a local to a register ("preserves" it)
//!    where a block *nested inside* the one with parameters starts; a path that skips that
//!    point (the `else` arm, a `br_if` out) then reads the register uninitialised (valgrind
//!    flags the read; the value is heap garbage, so the divergence comes and goes between
//!    runs). `local.get 0 f32.const 0 local.get 1 if (param f32) (result f32) block end end
//!    drop` returns garbage for local 1 = 0; V8 and wasmi-py return local 0. Workaround: an
//!    empty `loop end` before every block with parameters (wasmi preserves all stacked
//!    locals on entering a loop, on every path). `spec-tests/regressions/
//!    block_params_local_below.wast` pins the semantics for wasmi-py.
//!
//! # What is compared
//!
//! 1. The export lists (names and kinds).
//! 2. Instantiation: both trap (with the same trap category, see [`TrapKind`]) or neither.
//! 3. The state after instantiation: every exported global's value, every exported
//!    memory's size and bytes, every exported table's size and elements.
//! 4. [`ROUNDS`] rounds of calls, each calling every exported function, in the order of
//!    their export names:
//!    round 0 with zero/null arguments, the later rounds with arguments drawn from the
//!    input (edge-case integers, floats including NaNs and infinities, null or exported
//!    funcrefs, null or host externrefs). After each call: the results (NaN-canonicalised:
//!    any NaN equals any NaN, everything else bit for bit; funcrefs by the export name of
//!    the function, externrefs by their host payload) or the trap and its category, then
//!    the state as in 3. A trap does not stop the rounds: the state after a trap must agree
//!    too.
//!
//! Trap categories are compared when both engines name one (`wasmi::TrapCode` merges
//! "out of bounds table access" and "undefined element", so that is one category); a trap
//! without a category in one engine (a host error, say) only has to be a trap in the other.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use arbitrary::{Arbitrary, Unstructured};
use wasmi_py_core as py;

/// Most fuel a module is given (see the module docs, "Termination").
pub const MAX_FUEL: u32 = 2_000;
/// Largest declared maximum of a generated memory, in 64 KiB pages.
pub const MAX_PAGES: u64 = 16;
/// Largest declared maximum of a generated table.
pub const MAX_TABLE_ELEMENTS: u64 = 1_000;
/// Rounds of calls per module (round 0: zero arguments; later rounds: drawn arguments).
pub const ROUNDS: usize = 2;
/// wasmi's recursion limit here (well above [`MAX_FUEL`], which bounds the depth).
pub const WASMI_MAX_RECURSION: usize = 10_000;
/// wasmi's value stack limit here, in bytes (wasmi-py's default is 8 Mi 8-byte slots).
pub const WASMI_MAX_STACK_BYTES: usize = 64 << 20;

/// The proposals wasmi-py executes (and the generator uses): 2.0 without SIMD.
pub fn py_features() -> py::Features {
    py::Features {
        simd: false,
        ..py::Features::wasm2()
    }
}

/// A wasm-smith configuration drawn from `u` that generates only what both engines execute
/// identically (see the module docs).
pub fn smith_config(u: &mut Unstructured) -> arbitrary::Result<wasm_smith::Config> {
    let mut c = wasm_smith::Config::arbitrary(u)?;
    // The 2.0 proposals wasmi-py executes: all on.
    c.sign_extension_ops_enabled = true;
    c.saturating_float_to_int_enabled = true;
    c.multi_value_enabled = true;
    c.bulk_memory_enabled = true;
    c.reference_types_enabled = true;
    // Everything else off (SIMD is 2.0 but not executed by wasmi-py yet).
    c.simd_enabled = false;
    crate::oracle::disable_post_2_0(&mut c);
    c.max_tables = c.max_tables.min(4);
    // No imports: nothing to link, no host functions.
    c.max_imports = 0;
    c.min_imports = 0;
    // Export everything, so that all state can be compared and every function called.
    c.export_everything = true;
    // Bounded memories and tables, always with a declared maximum.
    c.max_memory32_bytes = MAX_PAGES * 65536;
    c.memory_max_size_required = true;
    c.max_table_elements = MAX_TABLE_ELEMENTS;
    c.table_max_size_required = true;
    // Comparable NaNs (see the module docs) and instrumentable bodies.
    c.canonicalize_nans = true;
    c.allow_invalid_funcs = false;
    // Small enough modules for a fast loop, but at least one function to call.
    c.max_funcs = c.max_funcs.clamp(1, 30);
    c.min_funcs = 1;
    c.max_instructions = c.max_instructions.min(300);
    c.max_types = c.max_types.clamp(1, 30);
    c.min_types = 1;
    c.max_globals = c.max_globals.min(30);
    c.max_element_segments = c.max_element_segments.min(10);
    c.max_elements = c.max_elements.min(30);
    c.max_data_segments = c.max_data_segments.min(10);
    Ok(c)
}

/// The export name of the fuel global (see the module docs, "Termination").
pub const FUEL_EXPORT: &str = "wasmi-py-fuzz:fuel";

/// A wasm-smith module drawn from `u`, instrumented for termination with its fuel global
/// exported as [`FUEL_EXPORT`], and the fuel budget.
pub fn smith_module(u: &mut Unstructured) -> arbitrary::Result<(Vec<u8>, u32)> {
    let config = smith_config(u)?;
    let mut module = wasm_smith::Module::new(config, u)?;
    let fuel = u.int_in_range(1..=MAX_FUEL)?;
    let global = module
        .ensure_termination(fuel)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let bytes = add_export(&module.to_bytes(), FUEL_EXPORT, 0x03, global)
        .ok_or(arbitrary::Error::IncorrectFormat)?;
    Ok((bytes, fuel))
}

fn leb(mut v: u32, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn read_leb(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return u32::try_from(v).ok();
        }
        if shift > 35 {
            return None;
        }
    }
}

/// `bytes` with one more export (`name`, external kind byte `kind`, `index`) at the end of
/// the export section (made if there is none). Every other byte stays as it was, except
/// the export section's size and count, which are re-encoded minimally.
pub fn add_export(bytes: &[u8], name: &str, kind: u8, index: u32) -> Option<Vec<u8>> {
    let mut entry = Vec::new();
    leb(name.len() as u32, &mut entry);
    entry.extend_from_slice(name.as_bytes());
    entry.push(kind);
    leb(index, &mut entry);
    let section = |count: u32, entries: &[u8]| {
        let mut contents = Vec::new();
        leb(count, &mut contents);
        contents.extend_from_slice(entries);
        contents.extend_from_slice(&entry);
        let mut s = vec![7u8];
        leb(contents.len() as u32, &mut s);
        s.extend(contents);
        s
    };
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        pos += 1;
        let size = read_leb(bytes, &mut pos)? as usize;
        let end = pos.checked_add(size).filter(|&e| e <= bytes.len())?;
        // Sections after the export section: start, element, data count, code, data.
        if (8..=12).contains(&id) {
            let mut out = bytes[..start].to_vec();
            out.extend(section(0, &[]));
            out.extend_from_slice(&bytes[start..]);
            return Some(out);
        }
        if id == 7 {
            let mut p = pos;
            let count = read_leb(bytes, &mut p)?;
            let mut out = bytes[..start].to_vec();
            out.extend(section(count.checked_add(1)?, &bytes[p..end]));
            out.extend_from_slice(&bytes[end..]);
            return Some(out);
        }
        pos = end;
    }
    let mut out = bytes.to_vec();
    out.extend(section(0, &[]));
    Some(out)
}

/// A value as both engines can express it. Floats are kept as bits; funcrefs are named by
/// the export name of the function (every function is exported), externrefs by the host
/// payload the harness gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef(Option<String>),
    ExternRef(Option<u32>),
}

impl Value {
    /// Equality with NaN canonicalisation: any NaN equals any NaN of the same type.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::F32(a), Value::F32(b)) => {
                a == b || (f32::from_bits(*a).is_nan() && f32::from_bits(*b).is_nan())
            }
            (Value::F64(a), Value::F64(b)) => {
                a == b || (f64::from_bits(*a).is_nan() && f64::from_bits(*b).is_nan())
            }
            _ => self == other,
        }
    }

    /// The zero (null) value of a type.
    fn zero(ty: Ty) -> Value {
        match ty {
            Ty::I32 => Value::I32(0),
            Ty::I64 => Value::I64(0),
            Ty::F32 => Value::F32(0),
            Ty::F64 => Value::F64(0),
            Ty::V128 => Value::V128(0),
            Ty::FuncRef => Value::FuncRef(None),
            Ty::ExternRef => Value::ExternRef(None),
        }
    }
}

/// Written in the `.wast` constant syntax (for messages and transcripts).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "(i32.const {v})"),
            Value::I64(v) => write!(f, "(i64.const {v})"),
            Value::F32(b) => write!(f, "(f32.const {})", wast_f32(*b)),
            Value::F64(b) => write!(f, "(f64.const {})", wast_f64(*b)),
            Value::V128(v) => write!(f, "(v128.const i64x2 {} {})", *v as u64, (*v >> 64) as u64),
            Value::FuncRef(None) => write!(f, "(ref.null func)"),
            Value::FuncRef(Some(name)) => write!(f, "(ref.func {})", wast_string(name)),
            Value::ExternRef(None) => write!(f, "(ref.null extern)"),
            Value::ExternRef(Some(k)) => write!(f, "(ref.extern {k})"),
        }
    }
}

fn wast_f32(bits: u32) -> String {
    let v = f32::from_bits(bits);
    if v.is_nan() {
        let sign = if bits >> 31 != 0 { "-" } else { "" };
        format!("{sign}nan:0x{:x}", bits & 0x7f_ffff)
    } else {
        // Rust prints the shortest decimal that reads back to the same bits.
        format!("{v}")
    }
}

fn wast_f64(bits: u64) -> String {
    let v = f64::from_bits(bits);
    if v.is_nan() {
        let sign = if bits >> 63 != 0 { "-" } else { "" };
        format!("{sign}nan:0x{:x}", bits & 0xf_ffff_ffff_ffff)
    } else {
        format!("{v}")
    }
}

/// A `.wast` string literal.
pub fn wast_string(s: &str) -> String {
    let mut out = String::from("\"");
    for &b in s.as_bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\{b:02x}");
        }
    }
    out.push('"');
    out
}

/// Value types, shared by both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

fn ty_of_wasmi(t: wasmi::ValType) -> Ty {
    match t {
        wasmi::ValType::I32 => Ty::I32,
        wasmi::ValType::I64 => Ty::I64,
        wasmi::ValType::F32 => Ty::F32,
        wasmi::ValType::F64 => Ty::F64,
        wasmi::ValType::V128 => Ty::V128,
        wasmi::ValType::FuncRef => Ty::FuncRef,
        wasmi::ValType::ExternRef => Ty::ExternRef,
    }
}

fn ty_of_py(t: py::ValType) -> Ty {
    match t {
        py::ValType::I32 => Ty::I32,
        py::ValType::I64 => Ty::I64,
        py::ValType::F32 => Ty::F32,
        py::ValType::F64 => Ty::F64,
        py::ValType::V128 => Ty::V128,
        py::ValType::FuncRef => Ty::FuncRef,
        py::ValType::ExternRef => Ty::ExternRef,
    }
}

/// A wasmi function's parameter and result types.
fn wasmi_signature<T>(f: &wasmi::Func, store: &wasmi::Store<T>) -> (Vec<Ty>, Vec<Ty>) {
    let ty = f.ty(store);
    let convert = |types: &[wasmi::ValType]| types.iter().map(|&t| ty_of_wasmi(t)).collect();
    (convert(ty.params()), convert(ty.results()))
}

/// A wasmi-py function's parameter and result types.
fn py_signature<T>(f: &py::Func, store: &py::Store<T>) -> (Vec<Ty>, Vec<Ty>) {
    let ty = f.ty(store);
    let convert = |types: &[py::ValType]| types.iter().map(|&t| ty_of_py(t)).collect();
    (convert(ty.params()), convert(ty.results()))
}

/// Trap categories both engines can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    /// Table access out of bounds, including `call_indirect`'s "undefined element".
    TableOutOfBounds,
    /// `call_indirect` to a null entry ("uninitialized element").
    IndirectCallToNull,
    /// `call_indirect` type mismatch.
    BadSignature,
    IntegerDivisionByZero,
    IntegerOverflow,
    /// Float-to-int conversion of NaN or out of range.
    BadConversionToInteger,
    /// Call stack exhausted: makes the module inconclusive (limits differ).
    StackExhausted,
    /// No category (a host error, out of fuel, a resource limit, ...): only "it trapped"
    /// is compared.
    Other,
}

impl TrapKind {
    /// The spec suite's message for the category (for transcripts).
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::IndirectCallToNull => "uninitialized element",
            TrapKind::BadSignature => "indirect call type mismatch",
            TrapKind::IntegerDivisionByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::BadConversionToInteger => "invalid conversion to integer",
            TrapKind::StackExhausted => "call stack exhausted",
            TrapKind::Other => "(no category)",
        }
    }
}

fn trap_kind_py(code: Option<py::TrapCode>) -> TrapKind {
    use py::TrapCode as C;
    match code {
        Some(C::Unreachable) => TrapKind::Unreachable,
        Some(C::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(C::TableOutOfBounds | C::UndefinedElement) => TrapKind::TableOutOfBounds,
        Some(C::IndirectCallToNull | C::UninitializedElement) => TrapKind::IndirectCallToNull,
        Some(C::BadSignature) => TrapKind::BadSignature,
        Some(C::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
        Some(C::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(C::BadConversionToInteger) => TrapKind::BadConversionToInteger,
        Some(C::StackOverflow) => TrapKind::StackExhausted,
        Some(C::OutOfFuel) | None => TrapKind::Other,
    }
}

fn trap_kind_wasmi(e: &wasmi::Error) -> TrapKind {
    use wasmi::TrapCode as C;
    match e.as_trap_code() {
        Some(C::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(C::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(C::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        Some(C::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        Some(C::BadSignature) => TrapKind::BadSignature,
        Some(C::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
        Some(C::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(C::BadConversionToInteger) => TrapKind::BadConversionToInteger,
        Some(C::StackOverflow) => TrapKind::StackExhausted,
        Some(_) => TrapKind::Other,
        None => match e.kind() {
            // An active element segment that does not fit its table: the spec's
            // "out of bounds table access" at instantiation.
            wasmi::errors::ErrorKind::Instantiation(
                wasmi::errors::InstantiationError::ElementSegmentDoesNotFit { .. },
            ) => TrapKind::TableOutOfBounds,
            _ => TrapKind::Other,
        },
    }
}

/// What a call (or an instantiation) did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Returned(Vec<Value>),
    Trapped(TrapKind, String),
    /// The reference (wasmi) produced something it cannot itself handle: inconclusive.
    ReferenceBroke(String),
}

impl Outcome {
    /// True if the call says nothing about agreement (limits differ, or the reference broke).
    fn exhausted(&self) -> bool {
        matches!(
            self,
            Outcome::Trapped(TrapKind::StackExhausted, _) | Outcome::ReferenceBroke(_)
        )
    }

    fn agrees(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Returned(a), Outcome::Returned(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (Outcome::Trapped(a, _), Outcome::Trapped(b, _)) => {
                a == b || *a == TrapKind::Other || *b == TrapKind::Other
            }
            _ => false,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(vals) => {
                write!(f, "returned [")?;
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Outcome::Trapped(kind, msg) => write!(f, "trapped: {kind:?} ({msg})"),
            Outcome::ReferenceBroke(msg) => write!(f, "reference broke: {msg}"),
        }
    }
}

/// The export kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Func,
    Table,
    Memory,
    Global,
}

/// The engine-independent view of one side of the comparison.
trait Side {
    /// Sets the fuel global (if the module exports it) to `fuel`.
    fn refuel(&mut self, fuel: u32);
    fn call(&mut self, name: &str, args: &[Value]) -> Outcome;
    fn global(&self, name: &str) -> Value;
    fn memory(&self, name: &str) -> &[u8];
    fn table(&self, name: &str) -> Vec<Value>;
}

// ---------------------------------------------------------------------------------------
// wasmi-py

struct Py {
    store: py::Store<()>,
    instance: py::Instance,
    /// Function handle -> export name (funcref identity).
    func_names: HashMap<py::Func, String>,
}

impl Py {
    fn engine_val(&self, v: &Value) -> py::Val {
        match v {
            Value::I32(x) => py::Val::I32(*x),
            Value::I64(x) => py::Val::I64(*x),
            Value::F32(b) => py::Val::F32(f32::from_bits(*b)),
            Value::F64(b) => py::Val::F64(f64::from_bits(*b)),
            Value::V128(x) => py::Val::V128(*x),
            Value::FuncRef(None) => py::Val::FuncRef(None),
            Value::FuncRef(Some(name)) => {
                py::Val::FuncRef(self.instance.get_func(&self.store, name))
            }
            Value::ExternRef(r) => py::Val::ExternRef(r.map(py::ExternRef)),
        }
    }

    fn value_of(&self, v: py::Val) -> Value {
        match v {
            py::Val::I32(x) => Value::I32(x),
            py::Val::I64(x) => Value::I64(x),
            py::Val::F32(x) => Value::F32(x.to_bits()),
            py::Val::F64(x) => Value::F64(x.to_bits()),
            py::Val::V128(x) => Value::V128(x),
            py::Val::FuncRef(f) => Value::FuncRef(f.map(|f| {
                self.func_names
                    .get(&f)
                    .cloned()
                    .unwrap_or_else(|| format!("<unexported {f:?}>"))
            })),
            py::Val::ExternRef(r) => Value::ExternRef(r.map(|r| r.0)),
        }
    }
}

impl Side for Py {
    fn refuel(&mut self, fuel: u32) {
        if let Some(g) = self.instance.get_global(&self.store, FUEL_EXPORT) {
            g.set(&mut self.store, py::Val::I32(fuel as i32))
                .expect("the fuel global is a mutable i32");
        }
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let func = self
            .instance
            .get_func(&self.store, name)
            .expect("exported func");
        let args: Vec<py::Val> = args.iter().map(|a| self.engine_val(a)).collect();
        match func.call(&mut self.store, &args) {
            Ok(results) => {
                Outcome::Returned(results.into_iter().map(|v| self.value_of(v)).collect())
            }
            Err(trap) => Outcome::Trapped(trap_kind_py(trap.code()), trap.to_string()),
        }
    }

    fn global(&self, name: &str) -> Value {
        let g = self
            .instance
            .get_global(&self.store, name)
            .expect("exported global");
        self.value_of(g.get(&self.store))
    }

    fn memory(&self, name: &str) -> &[u8] {
        let m = self
            .instance
            .get_memory(&self.store, name)
            .expect("exported memory");
        m.data(&self.store)
    }

    fn table(&self, name: &str) -> Vec<Value> {
        let Some(py::Extern::Table(t)) = self.instance.get_export(&self.store, name) else {
            panic!("exported table");
        };
        (0..t.size(&self.store))
            .map(|i| self.value_of(t.get(&self.store, i).expect("in bounds")))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// wasmi

struct Wasmi {
    store: wasmi::Store<()>,
    instance: wasmi::Instance,
    /// `Debug` rendering of a function handle -> export name (wasmi's `Func` has no
    /// `Eq`/`Hash`; its `Debug` output is its store index).
    func_names: HashMap<String, String>,
}

impl Wasmi {
    fn engine_val(&mut self, v: &Value) -> wasmi::Val {
        match v {
            Value::I32(x) => wasmi::Val::I32(*x),
            Value::I64(x) => wasmi::Val::I64(*x),
            Value::F32(b) => wasmi::Val::F32(wasmi::F32::from_bits(*b)),
            Value::F64(b) => wasmi::Val::F64(wasmi::F64::from_bits(*b)),
            Value::V128(_) => unreachable!("no SIMD is generated"),
            Value::FuncRef(None) => wasmi::Val::FuncRef(wasmi::Nullable::Null),
            Value::FuncRef(Some(name)) => {
                let f = self
                    .instance
                    .get_func(&self.store, name)
                    .expect("exported func");
                wasmi::Val::FuncRef(wasmi::Nullable::Val(f))
            }
            Value::ExternRef(None) => wasmi::Val::ExternRef(wasmi::Nullable::Null),
            Value::ExternRef(Some(k)) => wasmi::Val::ExternRef(wasmi::Nullable::Val(
                wasmi::ExternRef::new(&mut self.store, *k),
            )),
        }
    }

    fn func_name(&self, f: &wasmi::Func) -> String {
        let key = format!("{f:?}");
        self.func_names
            .get(&key)
            .cloned()
            .unwrap_or_else(|| format!("<unexported {key}>"))
    }

    fn value_of(&self, v: &wasmi::Val) -> Value {
        match v {
            wasmi::Val::I32(x) => Value::I32(*x),
            wasmi::Val::I64(x) => Value::I64(*x),
            wasmi::Val::F32(x) => Value::F32(x.to_bits()),
            wasmi::Val::F64(x) => Value::F64(x.to_bits()),
            wasmi::Val::V128(_) => unreachable!("no SIMD is generated"),
            wasmi::Val::FuncRef(f) => Value::FuncRef(f.val().map(|f| self.func_name(f))),
            wasmi::Val::ExternRef(r) => Value::ExternRef(r.val().map(|r| {
                *r.data(&self.store)
                    .downcast_ref::<u32>()
                    .expect("the harness only makes u32 externrefs")
            })),
        }
    }
}

impl Side for Wasmi {
    fn refuel(&mut self, fuel: u32) {
        if let Some(g) = self.instance.get_global(&self.store, FUEL_EXPORT) {
            g.set(&mut self.store, wasmi::Val::I32(fuel as i32))
                .expect("the fuel global is a mutable i32");
        }
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let func = self
            .instance
            .get_func(&self.store, name)
            .expect("exported func");
        let ty = func.ty(&self.store);
        let args: Vec<wasmi::Val> = args.iter().map(|a| self.engine_val(a)).collect();
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|&t| wasmi::Val::default_for_ty(t))
            .collect();
        match func.call(&mut self.store, &args, &mut results) {
            // wasmi 2.0.0 can return an externref its own store cannot resolve (found by
            // this target, crash-d14629bf…: `ExternRef::data` panics "entity not found").
            // Like a panic in wasmi's translator, that makes the module inconclusive.
            Ok(()) => catch_oracle_panic(|| {
                Outcome::Returned(results.iter().map(|v| self.value_of(v)).collect())
            })
            .unwrap_or_else(|| {
                Outcome::ReferenceBroke(
                    "wasmi returned an externref its store cannot resolve".to_owned(),
                )
            }),
            Err(e) => Outcome::Trapped(trap_kind_wasmi(&e), e.to_string()),
        }
    }

    fn global(&self, name: &str) -> Value {
        let g = self
            .instance
            .get_global(&self.store, name)
            .expect("exported global");
        self.value_of(&g.get(&self.store))
    }

    fn memory(&self, name: &str) -> &[u8] {
        let m = self
            .instance
            .get_memory(&self.store, name)
            .expect("exported memory");
        m.data(&self.store)
    }

    fn table(&self, name: &str) -> Vec<Value> {
        let t = self
            .instance
            .get_table(&self.store, name)
            .expect("exported table");
        (0..t.size(&self.store))
            .map(|i| match t.get(&self.store, i).expect("in bounds") {
                wasmi::Ref::Func(f) => Value::FuncRef(f.val().map(|f| self.func_name(f))),
                wasmi::Ref::Extern(r) => self.value_of(&wasmi::Val::ExternRef(r)),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The comparison

/// Why a module's comparison ended without a divergence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// wasm-smith could not make a module from the input.
    NoModule,
    /// Compared to the end: `calls` calls (`traps` of them trapped in both), both engines
    /// agreeing throughout (`instantiated` is false if both trapped at instantiation).
    Agree {
        instantiated: bool,
        calls: usize,
        traps: usize,
    },
    /// Skipped partway (see the module docs, "Inconclusive modules"), after `calls` calls.
    Inconclusive { reason: String, calls: usize },
}

/// A disagreement between the engines, with the context to reproduce it.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// What differs (the call and both outcomes, or the global/memory/table).
    pub what: String,
    /// The calls made before, with wasmi's outcomes (a `.wast`-like transcript).
    pub history: Vec<String>,
    pub module_len: usize,
    pub fuel: u32,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wasmi-py and wasmi disagree on a {}-byte wasm-smith module (fuel {}):",
            self.module_len, self.fuel
        )?;
        writeln!(f, "  {}", self.what)?;
        if !self.history.is_empty() {
            writeln!(f, "  after (wasmi's outcomes):")?;
            for h in &self.history {
                writeln!(f, "    {h}")?;
            }
        }
        write!(
            f,
            "  (examples/execute_diff_repro.rs prints the module as text and the full transcript)"
        )
    }
}

/// One call in the transcript, as a `.wast` assertion (wasmi's outcome).
fn transcript_line(name: &str, args: &[Value], outcome: &Outcome) -> String {
    let mut s = format!("(invoke {}", wast_string(name));
    for a in args {
        let _ = write!(s, " {a}");
    }
    s.push(')');
    match outcome {
        Outcome::Returned(vals) => {
            let mut line = format!("(assert_return {s}");
            for v in vals {
                let _ = write!(line, " {v}");
            }
            line.push(')');
            line
        }
        Outcome::Trapped(kind, msg) => {
            format!("(assert_trap {s} \"{}\") ;; wasmi: {msg}", kind.message())
        }
        Outcome::ReferenceBroke(msg) => format!(";; {s}: wasmi broke: {msg}"),
    }
}

/// The module wasmi runs: `bytes` rewritten around the wasmi 2.0.0 bugs listed in the module
/// docs ("Known wasmi 2.0.0 bugs"); semantically identical. `None` if it cannot be parsed.
pub fn wasmi_workarounds(bytes: &[u8]) -> Option<Vec<u8>> {
    use wasm_encoder::reencode::{Error, Reencode};
    use wasmparser::{Operator, Parser, Payload};

    // Parameter counts of the defined functions (no imports are generated, but count them
    // anyway), so each body's fresh local gets the next index.
    let mut type_params = Vec::new();
    let mut func_params = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        let params = match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len(),
                            _ => 0,
                        };
                        type_params.push(params as u32);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    func_params.push(*type_params.get(ty.ok()? as usize)?);
                }
            }
            _ => {}
        }
    }

    struct Workarounds {
        type_params: Vec<u32>,
        func_params: Vec<u32>,
        next: usize,
    }
    impl Reencode for Workarounds {
        type Error = std::convert::Infallible;

        fn parse_function_body(
            &mut self,
            code: &mut wasm_encoder::CodeSection,
            func: wasmparser::FunctionBody<'_>,
        ) -> Result<(), Error<Self::Error>> {
            let mut index = self.func_params.get(self.next).copied().unwrap_or(0);
            self.next += 1;
            let mut locals = Vec::new();
            for pair in func.get_locals_reader()? {
                let (n, ty) = pair?;
                index += n;
                locals.push((n, self.val_type(ty)?));
            }
            locals.push((1, wasm_encoder::ValType::I32));
            let mut f = wasm_encoder::Function::new(locals);
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                let op = reader.read()?;
                if matches!(
                    op,
                    Operator::Select
                        | Operator::TypedSelect { .. }
                        | Operator::TypedSelectMulti { .. }
                ) {
                    // Bug 1: the condition goes through a local, so it is never fused.
                    f.instruction(&wasm_encoder::Instruction::LocalTee(index));
                }
                if let Operator::Block { blockty }
                | Operator::If { blockty }
                | Operator::Loop { blockty } = op
                {
                    // Bug 4: an empty `loop` first makes wasmi preserve every local on the
                    // stack here, on every path, not later inside the block.
                    let params = match blockty {
                        wasmparser::BlockType::FuncType(t) => {
                            self.type_params.get(t as usize).copied().unwrap_or(0)
                        }
                        _ => 0,
                    };
                    if params > 0 {
                        f.instruction(&wasm_encoder::Instruction::Loop(
                            wasm_encoder::BlockType::Empty,
                        ));
                        f.instruction(&wasm_encoder::Instruction::End);
                    }
                }
                f.instruction(&self.instruction(op)?);
            }
            code.function(&f);
            Ok(())
        }
    }

    let mut module = wasm_encoder::Module::new();
    Workarounds {
        type_params,
        func_params,
        next: 0,
    }
    .parse_core_module(&mut module, Parser::new(0), bytes)
    .ok()?;
    Some(module.finish())
}

/// The exports of `module`, sorted by name (the order of the calls; wasmi's own order
/// depends on its collection features).
fn export_list(module: &wasmi::Module) -> Vec<(String, Kind)> {
    let mut list: Vec<(String, Kind)> = module
        .exports()
        .map(|e| {
            let kind = match e.ty() {
                wasmi::ExternType::Func(_) => Kind::Func,
                wasmi::ExternType::Table(_) => Kind::Table,
                wasmi::ExternType::Memory(_) => Kind::Memory,
                wasmi::ExternType::Global(_) => Kind::Global,
            };
            (e.name().to_owned(), kind)
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

fn py_engine() -> py::Engine {
    py::Engine::new(py::Config {
        features: py_features(),
        lazy: false,
        // Compared with inlining, as `wasmi-py run` translates (it has a code cache).
        inline: py::Inline::Always,
        ..py::Config::default()
    })
}

fn wasmi_engine() -> wasmi::Engine {
    let mut config = wasmi::Config::default();
    config
        .set_max_recursion_depth(WASMI_MAX_RECURSION)
        .set_max_stack_height(WASMI_MAX_STACK_BYTES)
        .compilation_mode(wasmi::CompilationMode::Eager)
        // (wasmi's SIMD is a cargo feature, off here.)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_memory64(false)
        .wasm_multi_memory(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false);
    wasmi::Engine::new(&config)
}

/// Arguments for a call: zeros in round 0, drawn from `u` afterwards.
fn draw_args(u: &mut Unstructured, round: usize, params: &[Ty], funcs: &[String]) -> Vec<Value> {
    if round == 0 {
        return params.iter().map(|&t| Value::zero(t)).collect();
    }
    params
        .iter()
        .map(|&t| draw_value(u, t, funcs).unwrap_or(Value::zero(t)))
        .collect()
}

fn draw_value(u: &mut Unstructured, ty: Ty, funcs: &[String]) -> arbitrary::Result<Value> {
    const I32S: &[i32] = &[
        0,
        1,
        -1,
        2,
        7,
        8,
        31,
        32,
        63,
        64,
        255,
        256,
        65535,
        65536,
        i32::MIN,
        i32::MAX,
    ];
    const I64S: &[i64] = &[
        0,
        1,
        -1,
        2,
        31,
        32,
        63,
        64,
        65536,
        i32::MIN as i64,
        i32::MAX as i64,
        u32::MAX as i64,
        i64::MIN,
        i64::MAX,
    ];
    const F32S: &[u32] = &[
        0,
        0x8000_0000,
        0x3f80_0000,
        0xbf80_0000,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0xffc0_0000,
        0x7fa0_0000,
        0x7f80_0001,
        0x0000_0001,
        0x0080_0000,
        0x7f7f_ffff,
        0x4f00_0000,
        0xcf00_0000,
        0x5f00_0000,
        0x3f00_0000,
        0x4040_0000,
    ];
    const F64S: &[u64] = &[
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0xbff0_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0xfff8_0000_0000_0000,
        0x7ff4_0000_0000_0000,
        0x7ff0_0000_0000_0001,
        1,
        0x0010_0000_0000_0000,
        0x7fef_ffff_ffff_ffff,
        0x41e0_0000_0000_0000,
        0xc1e0_0000_0000_0000,
        0x43e0_0000_0000_0000,
        0x3fe0_0000_0000_0000,
    ];
    let pick = u.ratio(3u8, 4u8)?;
    Ok(match ty {
        Ty::I32 => Value::I32(if pick {
            *u.choose(I32S)?
        } else {
            u.arbitrary()?
        }),
        Ty::I64 => Value::I64(if pick {
            *u.choose(I64S)?
        } else {
            u.arbitrary()?
        }),
        Ty::F32 => Value::F32(if pick {
            *u.choose(F32S)?
        } else {
            u.arbitrary()?
        }),
        Ty::F64 => Value::F64(if pick {
            *u.choose(F64S)?
        } else {
            u.arbitrary()?
        }),
        Ty::V128 => Value::V128(u.arbitrary()?),
        Ty::FuncRef => {
            if funcs.is_empty() || u.ratio(1u8, 3u8)? {
                Value::FuncRef(None)
            } else {
                Value::FuncRef(Some(u.choose(funcs)?.clone()))
            }
        }
        Ty::ExternRef => {
            if u.ratio(1u8, 3u8)? {
                Value::ExternRef(None)
            } else {
                Value::ExternRef(Some(u.int_in_range(0..=3)?))
            }
        }
    })
}

struct Run {
    py: Py,
    wasmi: Wasmi,
    exports: Vec<(String, Kind)>,
    history: Vec<String>,
    module_len: usize,
    fuel: u32,
}

impl Run {
    fn diverge(&self, what: String) -> Divergence {
        Divergence {
            what,
            history: self.history.clone(),
            module_len: self.module_len,
            fuel: self.fuel,
        }
    }

    /// Compares every exported global, memory and table; `when` says after what.
    fn compare_state(&self, when: &str) -> Result<(), Divergence> {
        for (name, kind) in &self.exports {
            match kind {
                Kind::Func => {}
                Kind::Global => {
                    let (a, b) = (self.py.global(name), self.wasmi.global(name));
                    if !a.same(&b) {
                        return Err(self.diverge(format!(
                            "global {} {when}: wasmi-py {a}, wasmi {b}",
                            wast_string(name)
                        )));
                    }
                }
                Kind::Memory => {
                    let (a, b) = (self.py.memory(name), self.wasmi.memory(name));
                    if a != b {
                        let what = if a.len() != b.len() {
                            format!("wasmi-py {} bytes, wasmi {} bytes", a.len(), b.len())
                        } else {
                            let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
                            let end = (at + 16).min(a.len());
                            format!(
                                "first difference at byte {at}: wasmi-py {:02x?}, wasmi {:02x?}",
                                &a[at..end],
                                &b[at..end]
                            )
                        };
                        return Err(
                            self.diverge(format!("memory {} {when}: {what}", wast_string(name)))
                        );
                    }
                }
                Kind::Table => {
                    let (a, b) = (self.py.table(name), self.wasmi.table(name));
                    if a.len() != b.len() {
                        return Err(self.diverge(format!(
                            "table {} {when}: wasmi-py {} elements, wasmi {}",
                            wast_string(name),
                            a.len(),
                            b.len()
                        )));
                    }
                    if let Some(i) = a.iter().zip(&b).position(|(x, y)| !x.same(y)) {
                        return Err(self.diverge(format!(
                            "table {} {when}: element {i}: wasmi-py {}, wasmi {}",
                            wast_string(name),
                            a[i],
                            b[i]
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Runs one fuzz input: a module from wasm-smith, then the comparison. `Err` on a
/// divergence.
pub fn check_input(data: &[u8]) -> Result<Verdict, Divergence> {
    let mut u = Unstructured::new(data);
    let Ok((bytes, fuel)) = smith_module(&mut u) else {
        return Ok(Verdict::NoModule);
    };
    compare(&bytes, fuel, &mut u)
}

/// The `execute_diff` fuzz target: panics with the divergence, if any.
pub fn run_execute_diff(data: &[u8]) {
    if let Err(d) = check_input(data) {
        panic!("{d}");
    }
}

/// Compares the two engines on `bytes`, setting its [`FUEL_EXPORT`] global (if any) to
/// `fuel` before each call unless `fuel` is 0; the argument values of rounds 1.. are drawn
/// from `u`.
pub fn compare(bytes: &[u8], fuel: u32, u: &mut Unstructured) -> Result<Verdict, Divergence> {
    let early = |what: String| Divergence {
        what,
        history: Vec::new(),
        module_len: bytes.len(),
        fuel,
    };
    let inconclusive = |reason: String, calls| Ok(Verdict::Inconclusive { reason, calls });

    // Load.
    let Some(w_bytes) = wasmi_workarounds(bytes) else {
        return inconclusive("the module does not re-encode".to_owned(), 0);
    };
    let w_engine = wasmi_engine();
    // wasmi 2.0.0's translator can itself panic (e.g. `unreachable!` in `encode_store`,
    // found by this target): a panic inside the *reference* makes the module inconclusive.
    // wasmi-py is never guarded like this: a panic in wasmi-py stays a crash.
    let Some(w_module) = catch_oracle_panic(|| wasmi::Module::new(&w_engine, &w_bytes)) else {
        return inconclusive("wasmi panicked while compiling the module".to_owned(), 0);
    };
    let w_module = match w_module {
        Ok(m) => m,
        Err(e) => return inconclusive(format!("wasmi rejects the module: {e}"), 0),
    };
    let p_engine = py_engine();
    let p_module = match py::Module::new(&p_engine, bytes) {
        Ok(m) => m,
        Err(e) => {
            return Err(early(format!(
                "wasmi-py rejects a module wasmi accepts: {e}"
            )))
        }
    };

    // Instantiate.
    let mut w_store = wasmi::Store::new(&w_engine, ());
    let w_inst = wasmi::Linker::<()>::new(&w_engine).instantiate_and_start(&mut w_store, &w_module);
    let mut p_store = py::Store::new(&p_engine, ());
    let p_inst = py::Linker::new().instantiate(&mut p_store, &p_module);
    let (w_inst, p_inst) = match (w_inst, p_inst) {
        (Ok(w), Ok(p)) => (w, p),
        (w, p) => {
            let w = match &w {
                Ok(_) => Outcome::Returned(Vec::new()),
                Err(e) => Outcome::Trapped(trap_kind_wasmi(e), e.to_string()),
            };
            let p = match &p {
                Ok(_) => Outcome::Returned(Vec::new()),
                Err(py::Error::Trap(t)) => Outcome::Trapped(trap_kind_py(t.code()), t.to_string()),
                Err(e) => {
                    return Err(early(format!(
                        "instantiation: wasmi-py fails without a trap ({e}); wasmi: {w}"
                    )))
                }
            };
            if w.exhausted() || p.exhausted() {
                return inconclusive(format!("stack exhausted at instantiation ({w} / {p})"), 0);
            }
            if let (Outcome::Trapped(TrapKind::Other, msg), Outcome::Returned(_)) = (&w, &p) {
                // Not a trap in wasmi's terms (a resource or implementation limit).
                return inconclusive(format!("wasmi fails to instantiate: {msg}"), 0);
            }
            if w.agrees(&p) {
                return Ok(Verdict::Agree {
                    instantiated: false,
                    calls: 0,
                    traps: 0,
                });
            }
            return Err(early(format!(
                "instantiation: wasmi-py {}, wasmi {}",
                describe_instantiation(&p),
                describe_instantiation(&w)
            )));
        }
    };

    // Exports: same names and kinds.
    let exports = export_list(&w_module);
    let mut p_exports: Vec<(String, Kind)> = p_inst
        .exports(&p_store)
        .into_iter()
        .map(|(name, e)| {
            let kind = match e {
                py::Extern::Func(_) => Kind::Func,
                py::Extern::Table(_) => Kind::Table,
                py::Extern::Memory(_) => Kind::Memory,
                py::Extern::Global(_) => Kind::Global,
            };
            (name, kind)
        })
        .collect();
    p_exports.sort_by(|a, b| a.0.cmp(&b.0));
    if exports != p_exports {
        return Err(early(format!(
            "export lists differ: wasmi-py {p_exports:?}, wasmi {exports:?}"
        )));
    }

    let mut p_names = HashMap::new();
    let mut w_names = HashMap::new();
    let mut funcs = Vec::new();
    for (name, kind) in &exports {
        if *kind != Kind::Func {
            continue;
        }
        let pf = p_inst.get_func(&p_store, name).expect("exported func");
        let wf = w_inst.get_func(&w_store, name).expect("exported func");
        p_names.entry(pf).or_insert_with(|| name.clone());
        w_names
            .entry(format!("{wf:?}"))
            .or_insert_with(|| name.clone());
        let (params, results) = wasmi_signature(&wf, &w_store);
        let (p_params, p_results) = py_signature(&pf, &p_store);
        if params != p_params || results != p_results {
            return Err(early(format!(
                "type of func {}: wasmi-py {p_params:?} -> {p_results:?}, wasmi {params:?} -> {results:?}",
                wast_string(name)
            )));
        }
        funcs.push((name.clone(), params));
    }
    let func_names: Vec<String> = funcs.iter().map(|(n, _)| n.clone()).collect();

    let mut run = Run {
        py: Py {
            store: p_store,
            instance: p_inst,
            func_names: p_names,
        },
        wasmi: Wasmi {
            store: w_store,
            instance: w_inst,
            func_names: w_names,
        },
        exports,
        history: Vec::new(),
        module_len: bytes.len(),
        fuel,
    };
    run.compare_state("after instantiation")?;

    let (mut calls, mut traps) = (0, 0);
    for round in 0..ROUNDS {
        for (name, params) in &funcs {
            let args = draw_args(u, round, params, &func_names);
            if fuel > 0 {
                run.wasmi.refuel(fuel);
                run.py.refuel(fuel);
            }
            let w = run.wasmi.call(name, &args);
            let p = run.py.call(name, &args);
            calls += 1;
            if w.exhausted() || p.exhausted() {
                return inconclusive(
                    format!("stack exhausted in {} ({w} / {p})", wast_string(name)),
                    calls,
                );
            }
            let line = transcript_line(name, &args, &w);
            if !w.agrees(&p) {
                return Err(run.diverge(format!("{line}\n  wasmi-py: {p}\n  wasmi:    {w}")));
            }
            run.history.push(line);
            traps += usize::from(matches!(w, Outcome::Trapped(..)));
            run.compare_state(&format!("after call #{calls} ({})", wast_string(name)))?;
        }
    }
    Ok(Verdict::Agree {
        instantiated: true,
        calls,
        traps,
    })
}

fn describe_instantiation(o: &Outcome) -> String {
    match o {
        Outcome::Returned(_) => "instantiates".to_owned(),
        Outcome::Trapped(..) | Outcome::ReferenceBroke(_) => format!("{o}"),
    }
}

/// wasmi's behaviour on the module of fuzz input `data`, as `.wast` lines: the calls the
/// oracle makes with wasmi's outcomes, then every exported global's final value. (The fuel
/// global is reset to the budget before each call, which `.wast` cannot express: in a
/// regression test, drop the fuel instrumentation or reset it from an exported function.) For
/// turning a divergence into a regression test (`examples/execute_diff_repro.rs`).
/// Returns the module bytes too.
pub fn transcript(data: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut u = Unstructured::new(data);
    let (bytes, fuel) = smith_module(&mut u).ok()?;
    let mut out = String::new();
    let engine = wasmi_engine();
    let w_bytes = wasmi_workarounds(&bytes)?;
    let module = match wasmi::Module::new(&engine, &w_bytes) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(out, ";; wasmi rejects the module: {e}");
            return Some((bytes, out));
        }
    };
    let mut store = wasmi::Store::new(&engine, ());
    let instance =
        match wasmi::Linker::<()>::new(&engine).instantiate_and_start(&mut store, &module) {
            Ok(i) => i,
            Err(e) => {
                let _ = writeln!(
                    out,
                    "(assert_trap (module ...) \"{}\") ;; wasmi: {e}",
                    trap_kind_wasmi(&e).message()
                );
                return Some((bytes, out));
            }
        };
    let exports = export_list(&module);
    let mut func_names = HashMap::new();
    let mut funcs = Vec::new();
    for (name, kind) in &exports {
        if *kind == Kind::Func {
            let f = instance.get_func(&store, name).expect("exported func");
            func_names
                .entry(format!("{f:?}"))
                .or_insert_with(|| name.clone());
            funcs.push((name.clone(), wasmi_signature(&f, &store).0));
        }
    }
    let names: Vec<String> = funcs.iter().map(|(n, _)| n.clone()).collect();
    let mut w = Wasmi {
        store,
        instance,
        func_names,
    };
    for round in 0..ROUNDS {
        for (name, params) in &funcs {
            let args = draw_args(&mut u, round, params, &names);
            w.refuel(fuel);
            let outcome = w.call(name, &args);
            let _ = writeln!(out, "{}", transcript_line(name, &args, &outcome));
            if outcome.exhausted() {
                let _ = writeln!(out, ";; (stack exhausted: the oracle stops here)");
                return Some((bytes, out));
            }
        }
    }
    for (name, kind) in &exports {
        match kind {
            Kind::Global => {
                let _ = writeln!(
                    out,
                    "(assert_return (get {}) {})",
                    wast_string(name),
                    w.global(name)
                );
            }
            Kind::Memory => {
                let m = w.memory(name);
                let nonzero = m.iter().filter(|&&b| b != 0).count();
                let _ = writeln!(
                    out,
                    ";; memory {}: {} bytes, {nonzero} non-zero",
                    wast_string(name),
                    m.len()
                );
            }
            _ => {}
        }
    }
    Some((bytes, out))
}

/// The fuzz input `tests/execute_diff.rs` uses for `seed`: 512 to 4607 bytes from splitmix64
/// (a fixed generator, so the same modules on every machine).
pub fn seeded_input(seed: u64) -> Vec<u8> {
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let mut state = seed;
    let len = 512 + (splitmix(&mut state) % 4096) as usize;
    (0..len).map(|_| splitmix(&mut state) as u8).collect()
}

/// Runs `f` (a call into wasmi, the reference) and returns `None` if it panicked. The
/// panic hook is silenced for the duration: libfuzzer-sys's hook would abort the process
/// before unwinding. Needs `panic = "unwind"`, the default of cargo-fuzz builds.
fn catch_oracle_panic<R>(f: impl FnOnce() -> R) -> Option<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.ok()
}
