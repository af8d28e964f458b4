//! Inlining: the bodies of small callees copied into their callers' bytecode.
//!
//! A wasm call is the most expensive thing the interpreter does routinely: it records the
//! caller's position, checks the limits, pushes a frame, zeroes the callee's locals and
//! copies its constants in, and the return undoes it (perf: `Cx::call` alone was 10-12% of
//! CPython's workloads). Compiled C calls small functions all the time (`_PyUnicode_IsAlpha`,
//! `_Py_NewReference`, `PyObject_Malloc`, ...: clang inlines only within a file), so the
//! translator (`Translator::inline_call`) replaces a direct `call` of a small function of
//! the same module by that function's bytecode:
//!
//! - the callee's slots become the caller's temporaries from the call's `base` on (where
//!   its frame would have started: its parameters are the caller's argument slots, as for
//!   a real call, and nothing above `base` is live in the caller across a call), except
//!   that a parameter the callee never writes (`CompiledFunc::params_written`) is read
//!   where its argument is when that is a local of the caller or a constant (no copy);
//! - its constants join the caller's, and its declared locals are zeroed by copies from a
//!   zero constant, except those its entry block writes before any read
//!   ([`needs_zeroing`]);
//! - a return becomes a copy of the result to `base` and a jump past the inlined body; the
//!   last instruction's return simply falls through, and the op computing its value
//!   writes it to `base` itself where no jump lands on that return ([`result_producer`]).
//!
//! Which code is inlined: the callee's translation if it exists already (the function has
//! run, or was translated, before) and is small ([`inlinable`]); a callee is never
//! translated for the purpose, and a translation in progress is never waited for. Two
//! reasons. Lazy translation pays only for what runs, and many call sites are on paths a
//! program never takes; a function that has run already is the kind that runs often. And
//! it needs no locking: a function's translation never waits for another's, so there are
//! no cycles (a function is not inlined into itself; a callee with inlined code of its own
//! is not inlined, so it is one level and backtraces stay exact). The price: the same
//! function may be translated with different inlining in different processes (equivalent
//! code either way); with the code cache, what a first run translated is what later runs
//! use.
//!
//! An earlier version inlined in a pass over the finished bytecode: renumbering every
//! slot of the caller (its temporaries move up past the new constants), verifying and
//! building the code a second time cost 8 ms of CPython's 85 ms start-up. Inlining while
//! translating costs only the copying: constants and temporaries get their final slots in
//! the pass that places them anyway, and the pair fusions see the inlined code.
//!
//! Observable differences, none of them semantic: a call to an inlined function consumes
//! no fuel and does not count towards the call-depth limit (its body is finite apart from
//! its loops and calls, which do). Backtraces and profiles are unchanged:
//! [`CompiledFunc::inlined`] records which op range came from which function, and a trap
//! (or a profile sample) inside one shows the inlined function's frame.

use crate::exec::Op;
use crate::instr::{Instr, Reg};
use crate::translate::CompiledFunc;

/// Callees with more ops than this are not inlined. Chosen by A/B runs (code cache warm,
/// CPython workloads): of 12, 24, 40, 60 and 80 ops, 40 gained most when inlining also
/// ran without a cache and inlined parameters were copies; since only modules with a
/// code cache inline (`Inline::WithCodeCache`) and unwritten parameters are read in place,
/// 64 gains ~1% over 40 (objects 0.977 / 0.993, json 0.990 / 0.996, generators
/// 0.981 / 0.999, recursion 0.990 / 0.995, regex and start-up level; peak RSS +0.2-0.35
/// MiB, code cache file +4%), and 96 nothing over 64.
pub(crate) const MAX_OPS: usize = 64;
/// Callees with more declared locals than this are not inlined (each costs a copy).
pub(crate) const MAX_LOCALS: usize = 8;
/// Ops a caller may grow by: this or its body's size in bytes, whichever is larger.
/// Bounds the code of a function with very many call sites.
pub(crate) const MIN_GROWTH_BUDGET: usize = 256;

/// An op range of a caller's code that is the inlined body of another function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inlined {
    /// First op of the body.
    pub(crate) start: u32,
    /// One past the body's last op.
    pub(crate) end: u32,
    /// The inlined function's index in the module (for backtraces).
    pub(crate) func: u32,
}

/// Whether `callee`, a translated function, may be inlined: small, without inlined code of
/// its own, returning at most one value.
pub(crate) fn inlinable(callee: &CompiledFunc) -> bool {
    callee.inlined.is_empty()
        && callee.ops.len() <= MAX_OPS
        && callee.num_locals <= MAX_LOCALS
        && callee
            .ops
            .iter()
            .all(|op| !matches!(op.instr, Instr::ReturnMany { .. }))
}

/// If `ops` (a callee's code) ends in `Return1 { src }` that no jump lands on, right after
/// the op computing `src`: that op's index. Inlined, it writes the result where the call
/// wants it, and the copy a return becomes is saved (one dispatch per call).
pub(crate) fn result_producer(ops: &[Op]) -> Option<usize> {
    let last = ops.len().checked_sub(1)?;
    let Instr::Return1 { src } = ops[last].instr else {
        return None;
    };
    let before = last.checked_sub(1)?;
    let mut producer = ops[before].instr;
    if producer.result_mut().map(|r| *r) != Some(src) {
        return None;
    }
    // A jump table's entries are run directly (an entry may be the return itself).
    (!jump_targets(ops)[last]).then_some(before)
}

/// Whether a callee's declared local `local` (a slot) must be zeroed when it is inlined:
/// false only if the straight-line code at its entry (up to the first jump, or op a jump
/// may land on) writes the local before anything reads it, so every path writes it
/// first. (clang's locals are mostly registers of this kind; a zeroing copy per local
/// and call is what is saved.)
pub(crate) fn needs_zeroing(ops: &[Op], targets: &[bool], local: Reg) -> bool {
    for (i, op) in ops.iter().enumerate() {
        let mut instr = op.instr;
        if targets[i] || instr.is_terminal() || instr.jump_offset_mut().is_some() {
            return true;
        }
        if matches!(instr, Instr::JumpTable { .. } | Instr::JumpTableAnd { .. }) {
            return true;
        }
        let mut mentions = 0;
        instr.visit_regs_mut(|_, r| mentions += usize::from(*r == local));
        if mentions > 0 {
            let written = instr.result_mut().is_some_and(|r| *r == local);
            return !(written && mentions == 1);
        }
    }
    true
}

/// Which ops of `ops` a jump may land on (jump targets and jump-table entries).
pub(crate) fn jump_targets(ops: &[Op]) -> Vec<bool> {
    let mut targets = vec![false; ops.len() + 1];
    for (i, op) in ops.iter().enumerate() {
        let mut instr = op.instr;
        if let Some(&mut offset) = instr.jump_offset_mut() {
            if let Some(t) = usize::try_from(i as i64 + i64::from(offset))
                .ok()
                .and_then(|t| targets.get_mut(t))
            {
                *t = true;
            }
        }
        if let Instr::JumpTable { len, .. } | Instr::JumpTableAnd { len, .. } = instr {
            let entries = (i + 1).min(ops.len())..(i + 2 + len as usize).min(ops.len());
            targets[entries].fill(true);
        }
    }
    targets
}

/// The function (module index) inlined at op `index` of `code`, if any.
pub(crate) fn inlined_at(code: &CompiledFunc, index: usize) -> Option<u32> {
    // The ranges are in order and disjoint (a profile sample looks up every frame).
    let after = code.inlined.partition_point(|r| r.end as usize <= index);
    let r = code.inlined.get(after)?;
    (r.start as usize <= index).then_some(r.func)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Config, Engine, Inline, Linker, Module, Store, Val};

    /// `text` loaded eagerly (every function translated at load, in index order: callees
    /// defined before their callers are translated first, and so inlined).
    fn module(text: &str, inline: bool) -> Module {
        module_with(text, inline, false)
    }

    fn module_with(text: &str, inline: bool, lazy: bool) -> Module {
        let bytes = wasm(text);
        let engine = Engine::new(Config {
            inline: if inline {
                Inline::Always
            } else {
                Inline::Never
            },
            lazy,
            ..Config::default()
        });
        Module::new(&engine, &bytes).unwrap()
    }

    /// The binary of module `text`.
    fn wasm(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        wast::parser::parse::<wast::Wat>(&buf)
            .unwrap()
            .encode()
            .unwrap()
    }

    /// Defined function `f`'s code and the functions it calls.
    fn code(m: &Module, f: u32) -> (Arc<CompiledFunc>, Vec<u32>) {
        let code = Arc::clone(m.inner.code(f).unwrap());
        let calls = code
            .instrs()
            .iter()
            .filter_map(|i| match *i {
                Instr::Call { func, .. } | Instr::CopyThenCall { func, .. } => Some(func),
                Instr::Copy2ThenCall { func, .. } => Some(u32::from(func)),
                _ => None,
            })
            .collect();
        (code, calls)
    }

    const CALLS: &str = r#"(module
      (import "env" "f" (func $imported (param i32) (result i32)))
      (func $small (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func $self (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (call $self (i32.sub (local.get 0) (i32.const 1))))
          (else (i32.const 0))))
      (func $two (param i32) (result i32 i32) (local.get 0) (local.get 0))
      (func $big (param i32) (result i32) BIG (local.get 0))
      (func $long (param i32) (result i32) (local.get 0) LONG)
      (func (export "caller") (param i32) (result i32)
        (i32.add (call $small (local.get 0)) (call $imported (local.get 0)))
        (i32.add (call $self (local.get 0)))
        (i32.add (call $big (local.get 0)))
        (i32.add (call $long (local.get 0)))
        (call $two (local.get 0)) (drop) (i32.add)))"#;

    /// [`CALLS`] with `$big` and `$long` over [`MAX_OPS`] (statements, one-byte ops).
    fn calls_text() -> String {
        let big = "(local.set 0 (i32.mul (local.get 0) (i32.const 3)))".repeat(MAX_OPS);
        let long = "i32.eqz ".repeat(MAX_OPS + 1);
        CALLS.replace("BIG", &big).replace("LONG", &long)
    }

    #[test]
    fn parameters_never_written_are_read_from_the_arguments() {
        let m = module(
            r#"(module
              (func $sub (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
              (func $bump (param i32) (result i32)
                (local.set 0 (i32.add (local.get 0) (i32.const 1))) (local.get 0))
              (func (export "reads") (param i32 i32) (result i32)
                (call $sub (local.get 1) (local.get 0)))
              (func (export "writes") (param i32) (result i32)
                (call $bump (local.get 0))))"#,
            true,
        );
        let (bump, _) = code(&m, 1);
        assert!(bump.writes_param(0));
        let (sub, _) = code(&m, 0);
        assert!(!sub.writes_param(0) && !sub.writes_param(1) && sub.writes_param(64));
        // `$sub` inlined: one subtraction of the caller's own locals, no copies.
        let (reads, _) = code(&m, 2);
        assert_eq!(reads.inlined.len(), 1);
        let subs: Vec<Instr> = reads
            .instrs()
            .iter()
            .copied()
            .filter(|i| !matches!(i, Instr::Return1 { .. }))
            .collect();
        assert!(
            matches!(
                subs[..],
                [Instr::I32Sub(crate::instr::Bin { lhs: 1, rhs: 0, .. })]
            ),
            "{:?}",
            reads.instrs()
        );
        // `$bump` writes its parameter: the argument is copied into the callee's slot.
        let (writes, _) = code(&m, 3);
        assert_eq!(writes.inlined.len(), 1);
        assert!(
            matches!(writes.instrs()[0], Instr::Copy { src: 0, .. }),
            "{:?}",
            writes.instrs()
        );
    }

    #[test]
    fn by_default_only_modules_with_a_code_cache_inline() {
        let bytes = wasm(
            r#"(module
              (func $small (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
              (func (export "caller") (param i32) (result i32) (call $small (local.get 0))))"#,
        );
        let dir =
            std::env::temp_dir().join(format!("wasmi-py-inline-policy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Whether `caller` (defined function 1) inlined `$small`, loaded eagerly (callees
        // first) under each policy, with and without a code cache.
        let inlines = |inline: Inline, cached: bool| {
            let engine = Engine::new(Config {
                inline,
                lazy: false,
                ..Config::default()
            });
            let m = if cached {
                Module::with_code_cache(&engine, &bytes, &dir).unwrap()
            } else {
                Module::new(&engine, &bytes).unwrap()
            };
            !code(&m, 1).0.inlined.is_empty()
        };
        assert_eq!(Config::default().inline, Inline::WithCodeCache);
        assert!(!inlines(Inline::WithCodeCache, false));
        assert!(inlines(Inline::WithCodeCache, true));
        assert!(inlines(Inline::Always, false));
        assert!(inlines(Inline::Always, true));
        assert!(!inlines(Inline::Never, false));
        assert!(!inlines(Inline::Never, true));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn small_callees_are_inlined_and_others_called() {
        let m = module(&calls_text(), true);
        // Function indices: 0 imported, 1 small, 2 self, 3 two, 4 big, 5 long, 6 caller.
        let (caller, calls) = code(&m, 5);
        // `$self` is inlined too (into another function), its recursive call staying a
        // call; the import, the multi-value, the long and the big functions are called.
        assert_eq!(calls, [0, 2, 4, 5, 3]);
        let inlined: Vec<u32> = caller.inlined.iter().map(|r| r.func).collect();
        assert_eq!(inlined, [1, 2]);
        // `$small` is one add, writing the call's result slot (no copy, no return).
        let small = caller.inlined[0];
        assert_eq!(small.end - small.start, 1, "{:?}", caller.instrs());
        let (recursive, calls) = code(&m, 1);
        assert_eq!(calls, [2], "a function is not inlined into itself");
        assert!(recursive.inlined.is_empty());
        // Without inlining, the same code calls `$small`.
        let (_, calls) = code(&module(&calls_text(), false), 5);
        assert_eq!(calls, [1, 0, 2, 4, 5, 3]);
    }

    #[test]
    fn inlining_changes_no_result() {
        let results = |inline: bool| -> Vec<Val> {
            let m = module(&calls_text(), inline);
            let mut store = Store::new(&Engine::default(), ());
            let mut linker = Linker::new();
            linker.func_new(
                &mut store,
                "env",
                "f",
                crate::FuncType::new([crate::ValType::I32], [crate::ValType::I32]),
                |_, args, results| {
                    let Val::I32(x) = args[0] else { unreachable!() };
                    results[0] = Val::I32(x * 10);
                    Ok(())
                },
            );
            let inst = linker.instantiate(&mut store, &m).unwrap();
            let f = inst.get_func(&store, "caller").unwrap();
            (0..5)
                .flat_map(|n| f.call(&mut store, &[Val::I32(n)]).unwrap())
                .collect()
        };
        assert_eq!(results(true), results(false));
    }

    #[test]
    fn a_trap_in_an_inlined_body_shows_its_frame() {
        let text = r#"(module
          (memory 1)
          (func $leaf (param i32) (result i32) (i32.load (local.get 0)))
          (func $middle (param i32) (result i32)
            (i32.add (call $leaf (local.get 0)) (i32.const 1)))
          (func (export "outer") (param i32) (result i32)
            (call $middle (local.get 0))))"#;
        for inline in [true, false] {
            let m = module(text, inline);
            let (middle, _) = code(&m, 1);
            assert_eq!(middle.inlined.is_empty(), !inline);
            let mut store = Store::new(&Engine::default(), ());
            let inst = Linker::new().instantiate(&mut store, &m).unwrap();
            let f = inst.get_func(&store, "outer").unwrap();
            let trap = f.call(&mut store, &[Val::I32(-1)]).unwrap_err();
            let names: Vec<_> = trap
                .backtrace()
                .iter()
                .map(|frame| frame.name.clone().unwrap_or_default())
                .collect();
            // `outer` has no name-section name (an export only).
            assert_eq!(names, ["leaf", "middle", ""], "inline: {inline}");
            assert_eq!(f.call(&mut store, &[Val::I32(0)]).unwrap(), [Val::I32(1)]);
        }
    }

    /// Lazily, a callee is inlined only if it was translated before its caller: a call
    /// site is never the reason to translate a function.
    #[test]
    fn only_callees_translated_before_are_inlined() {
        let text = r#"(module
          (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
          (func (export "warm") (param i32) (result i32) (call $leaf (local.get 0)))
          (func (export "run") (param i32) (result i32) (call $leaf (local.get 0))))"#;
        for warm_first in [false, true] {
            let m = module_with(text, true, true);
            let mut store = Store::new(&Engine::default(), ());
            let inst = Linker::new().instantiate(&mut store, &m).unwrap();
            let order = if warm_first {
                ["warm", "run"]
            } else {
                ["run", "warm"]
            };
            for name in order {
                let f = inst.get_func(&store, name).unwrap();
                assert_eq!(f.call(&mut store, &[Val::I32(1)]).unwrap(), [Val::I32(2)]);
            }
            // Whichever runs second was translated after `$leaf` ran, and inlines it.
            let (run, calls) = code(&m, 2);
            assert_eq!(run.inlined.is_empty(), !warm_first);
            assert_eq!(calls.is_empty(), warm_first);
            let (warm, _) = code(&m, 1);
            assert_eq!(warm.inlined.is_empty(), warm_first);
        }
    }

    /// A function inlined into its caller still shows as a frame of its own in a profile,
    /// with its loop's time as its self time.
    #[test]
    fn a_profile_shows_inlined_frames() {
        let text = r#"(module
          (func $spin (param $n i32) (result i32) (local $acc i32)
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (local.get $n)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
            (local.get $acc))
          (func $inlines (export "run") (param i32) (result i32) (call $spin (local.get 0))))"#;
        let m = module(text, true);
        assert_eq!(code(&m, 1).0.inlined.len(), 1);
        let mut store = Store::new(&Engine::default(), ());
        let inst = Linker::new().instantiate(&mut store, &m).unwrap();
        let run = inst.get_func(&store, "run").unwrap();
        store.start_profile(100);
        run.call(&mut store, &[Val::I32(3_000_000)]).unwrap();
        let profile = store.profile().unwrap();
        let stacks: Vec<_> = profile.stacks().collect();
        assert_eq!(stacks[0].0, ["inlines", "spin"], "{stacks:?}");
        let functions = profile.functions();
        let spin = functions.iter().find(|f| f.name == "spin").unwrap();
        assert!(spin.self_time * 10 > profile.total() * 9, "{functions:?}");
    }

    /// A function whose frame fits only without inlining still translates (without it).
    #[test]
    fn inlining_never_makes_a_frame_too_large() {
        // Without inlining: 50,000 locals + 15,530 constants + 2 temporaries = 65,532
        // slots. Inlining `$small` (when only one constant is known: it fits then) adds
        // its three constants and a 6-slot frame: 65,539.
        let locals = " i32".repeat(50_000);
        let constants: String = (100..100 + 15_528)
            .map(|k| format!("(drop (i32.add (i32.const {k}) (i32.const {k})))"))
            .collect();
        let text = format!(
            r#"(module
              (func $small (param i32) (result i32)
                (i32.add (i32.add (local.get 0) (i32.const 1)) (i32.add (i32.const 2) (i32.const 3))))
              (func (export "big") (result i32) (local{locals})
                (drop (call $small (i32.const 0))) {constants} (call $small (i32.const 4))))"#
        );
        let m = module(&text, true);
        let (big, calls) = code(&m, 1);
        assert!(big.inlined.is_empty());
        assert_eq!(calls, [0, 0]);
        let mut store = Store::new(&Engine::default(), ());
        let inst = Linker::new().instantiate(&mut store, &m).unwrap();
        let f = inst.get_func(&store, "big").unwrap();
        assert_eq!(f.call(&mut store, &[]).unwrap(), [Val::I32(10)]);
    }

    /// The op before a final `Return1` may write the call's result directly only if it
    /// computes the returned slot and nothing jumps to the return. (The translator makes
    /// a taken `br_if` to the end its own copy-and-return, so this is checked on code
    /// made by hand.)
    #[test]
    fn the_result_producer_is_found_only_where_safe() {
        let ops = |instrs: &[Instr]| -> Vec<Op> { instrs.iter().map(|&i| Op::new(i)).collect() };
        let add = Instr::I32Add(crate::instr::Bin {
            dst: 3,
            lhs: 0,
            rhs: 1,
        });
        let ret = Instr::Return1 { src: 3 };
        assert_eq!(result_producer(&ops(&[add, ret])), Some(0));
        let other = Instr::Return1 { src: 2 };
        assert_eq!(result_producer(&ops(&[add, other])), None, "another slot");
        let jump = Instr::JumpIfNez { cond: 0, offset: 2 };
        assert_eq!(
            result_producer(&ops(&[jump, add, ret])),
            None,
            "a jump lands"
        );
        let past = Instr::JumpIfNez { cond: 0, offset: 1 };
        assert_eq!(result_producer(&ops(&[past, add, ret])), Some(1));
        // Entries 1..=3, the last being the return (run directly when taken).
        let table = Instr::JumpTable { index: 0, len: 2 };
        let to_add = Instr::Jump { offset: 1 };
        assert_eq!(
            result_producer(&ops(&[table, to_add, add, ret])),
            None,
            "the return is a table entry"
        );
        assert_eq!(result_producer(&ops(&[ret])), None);
        assert_eq!(result_producer(&ops(&[Instr::Return])), None);
    }

    /// A local is left unzeroed only if straight-line code at the entry writes it before
    /// any read.
    #[test]
    fn locals_written_first_are_not_zeroed() {
        let ops = |instrs: &[Instr]| -> Vec<Op> { instrs.iter().map(|&i| Op::new(i)).collect() };
        let bin = |dst, lhs, rhs| Instr::I32Add(crate::instr::Bin { dst, lhs, rhs });
        let ret = Instr::Return1 { src: 1 };
        let check = |code: &[Instr]| {
            let code = ops(code);
            needs_zeroing(&code, &jump_targets(&code), 1)
        };
        // Local 1 (param 0): written first, read first, read and written by one op.
        assert!(!check(&[bin(1, 0, 0), bin(2, 1, 1), ret]));
        assert!(check(&[bin(2, 1, 0), bin(1, 0, 0), ret]));
        assert!(check(&[bin(1, 1, 0), ret]));
        // A jump before the write: a path may skip it.
        let skip = Instr::JumpIfNez { cond: 0, offset: 2 };
        assert!(check(&[skip, bin(1, 0, 0), ret]));
        // The write is a loop head (a jump target): first on every path still, but the
        // analysis stops at targets (conservative).
        let back = Instr::JumpIfNez {
            cond: 0,
            offset: -1,
        };
        assert!(check(&[bin(1, 0, 0), back, ret]));
        // Never mentioned: zeroed (nothing to save, nothing to risk).
        assert!(check(&[bin(2, 0, 0), Instr::Return1 { src: 2 }]));
    }

    #[test]
    fn ranges_are_found_by_position() {
        let mut code = CompiledFunc::from_parts(&[Instr::Return; 10], &[], 0, 0, 0);
        code.inlined = vec![
            Inlined {
                start: 2,
                end: 4,
                func: 7,
            },
            Inlined {
                start: 4,
                end: 4,
                func: 8,
            },
            Inlined {
                start: 6,
                end: 9,
                func: 9,
            },
        ]
        .into_boxed_slice();
        let found: Vec<_> = (0..10).map(|i| inlined_at(&code, i)).collect();
        let n = None;
        assert_eq!(
            found,
            [n, n, Some(7), Some(7), n, n, Some(9), Some(9), Some(9), n]
        );
    }
}
