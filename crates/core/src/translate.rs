//! Translation of a validated function body into register bytecode, in one pass that also
//! validates it (the [`FuncValidator`] sees every instruction first).
//!
//! The translator keeps a compile-time operand stack of where each wasm value lives: a
//! local's slot, a constant's slot, or the temporary slot of its stack position
//! (`temp_base + position`). Pushing a local or a constant emits nothing; an instruction
//! reads its operands' slots and writes its result to the temporary of the position it
//! occupies. Invariants that keep this correct:
//!
//! * **Locals never cross control flow as references.** At every `block`, `loop`, `if` and
//!   `else`, operands that still refer to a local are copied to their temporaries, so a
//!   `local.set` inside a nested region cannot change a value pushed before it.
//! * **`local.set`/`local.tee` preserve older reads.** Within straight-line code, stack
//!   entries that refer to the local being written are copied to their temporaries first.
//! * **Labels own fixed slots.** A block's results (a loop's parameters) live in the
//!   temporaries at the block's entry height; every branch to it copies its values there.
//! * **Folding `local.set` into the producer** (`i32.add` writing the local directly)
//!   happens only when the producer is the last instruction emitted and no label lies
//!   between them.
//!
//! Branch targets are resolved here: forward jumps are patched when their block ends, and
//! `br_table` becomes a jump table. Nothing about structured control flow is left for
//! run time.
//!
//! **Constants** get one slot per distinct value, between the locals and the temporaries.
//! They are found during the single pass (a pre-scan decoding the body twice cost 17% of
//! translation), so while translating, temporaries are numbered as if there were no
//! constants and constant `k` (in order of first appearance) has the provisional slot
//! `PROVISIONAL_TOP - k`, at the top of the slot space; [`Translator::place_constants`]
//! then moves every temporary up by the number of constants and every constant to its
//! slot. The frame-size limit keeps the two ranges apart.

use std::sync::Arc;

use wasmi_py_decode::{BlockType, Error, Module, Operator, Result};
use wasmi_py_validate::{FuncValidator, ModuleValidator};

use crate::inline::{self, Inlined};
use crate::instr::{Bin, Instr, Load, Reg, Store, Un};
use crate::trap::TrapCode;

/// A function ready to run.
#[derive(Debug)]
pub struct CompiledFunc {
    /// The bytecode with each instruction's handler (see `exec`).
    pub(crate) ops: Box<[crate::exec::Op]>,
    /// Values of the constant slots, in slot order, padded with zeros to
    /// `exec::blocked_len(num_consts)` values (a call copies them in whole blocks).
    pub(crate) consts: Box<[u64]>,
    /// Constant slots of the frame (`consts` without the padding).
    pub(crate) num_consts: usize,
    pub(crate) num_params: usize,
    /// Declared (non-parameter) locals, zeroed on entry.
    pub(crate) num_locals: usize,
    /// Slots the frame needs: params + locals + constants + temporaries.
    pub(crate) frame_size: usize,
    /// The op ranges that are inlined bodies of other functions (`crate::inline`), in
    /// order; empty for a plain translation.
    pub(crate) inlined: Box<[Inlined]>,
    /// Bit `i`: the function's own code writes parameter `i` (a `local.set` or
    /// `local.tee` of it). Where the function is inlined, a parameter it never writes is
    /// read from the caller's argument (a local or constant) instead of a copy of it (see
    /// [`CompiledFunc::writes_param`]).
    pub(crate) params_written: u64,
}

impl CompiledFunc {
    /// Whether the function's code may write parameter `i` (parameters from the 64th on
    /// always count as written).
    pub(crate) fn writes_param(&self, i: usize) -> bool {
        i >= 64 || self.params_written & (1 << i) != 0
    }

    /// A function from its verified bytecode (see [`verify`]) and frame layout: `consts`
    /// are the values of the constant slots, which follow the params and the declared
    /// locals. Callers check `num_params + num_locals + consts.len() <= frame_size`.
    pub(crate) fn from_parts(
        instrs: &[Instr],
        consts: &[u64],
        num_params: usize,
        num_locals: usize,
        frame_size: usize,
    ) -> Self {
        let num_consts = consts.len();
        let mut padded = Vec::with_capacity(crate::exec::blocked_len(num_consts));
        padded.extend_from_slice(consts);
        padded.resize(crate::exec::blocked_len(num_consts), 0);
        Self {
            ops: instrs.iter().map(|&i| crate::exec::Op::new(i)).collect(),
            consts: padded.into_boxed_slice(),
            num_consts,
            num_params,
            num_locals,
            frame_size,
            inlined: Box::default(),
            // Unknown: as if every parameter were written.
            params_written: u64::MAX,
        }
    }

    /// The bytecode (for tests and debugging).
    pub fn instrs(&self) -> Vec<Instr> {
        self.ops.iter().map(|op| op.instr).collect()
    }
}

/// Most slots a frame may have (slot indices are 16-bit).
pub(crate) const MAX_FRAME_SLOTS: usize = u16::MAX as usize;

/// The provisional slot of constant 0 while a body is translated (see the module docs): the
/// highest slot index a frame can have.
const PROVISIONAL_TOP: Reg = (MAX_FRAME_SLOTS - 1) as Reg;

/// Up to this many constants, a constant's index is found by a linear search; beyond, by
/// a map (a body with thousands of constants must not make translation quadratic).
const LINEAR_CONSTS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Local,
    Const,
    Temp,
}

#[derive(Debug, Clone, Copy)]
struct Operand {
    kind: Kind,
    reg: Reg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtrlKind {
    Block,
    Loop,
    If,
    Else,
    Function,
}

#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// Operand stack height below the block's parameters.
    height: usize,
    num_params: usize,
    num_results: usize,
    /// The last of the jumps to patch with the position after `end`. Until then each pending
    /// jump's offset field holds the index of the one before it (-1 for none): a chain
    /// through the code instead of a vector per block.
    exits: Option<usize>,
    /// For loops: the position branches jump back to.
    loop_start: usize,
    /// For `if`: the conditional jump to patch with the start of `else` (or the end).
    else_jump: Option<usize>,
    /// Whether the code right after the block's start was reachable.
    reachable_at_entry: bool,
}

impl Ctrl {
    /// Values a branch to this label carries.
    fn label_arity(&self) -> usize {
        if self.kind == CtrlKind::Loop {
            self.num_params
        } else {
            self.num_results
        }
    }
}

struct Translator<'a> {
    module: &'a Module,
    validator: FuncValidator<'a>,
    instrs: Vec<Instr>,
    stack: Vec<Operand>,
    ctrls: Vec<Ctrl>,
    /// The constant values in order of first appearance; the one at index `k` lives in slot
    /// `first_const + k` (provisionally `PROVISIONAL_TOP - k`, see the module docs).
    consts: Vec<u64>,
    /// Index of each constant, once there are more than [`LINEAR_CONSTS`] (fewer are
    /// found by a linear search of `consts`).
    const_index: ConstIndex,
    first_const: usize,
    func_index: u32,
    temp_base: usize,
    max_height: usize,
    reachable: bool,
    /// The last emitted instruction and the temporary it wrote, if no label has been placed
    /// since. Folds (into `local.set`, a branch, a load's address) consult it only through
    /// [`Translator::produced_by_last`], which also checks *which* slot was written: a
    /// `drop` in between leaves another value on top (a bug found by execute_diff).
    last_result: Option<(usize, Reg)>,
    /// Position of the last label: instructions before it must not be merged with ones
    /// after it (a jump may land between them).
    barrier: usize,
    num_results: usize,
    /// Where to find callees to inline, if inlining.
    inline: Option<InlineSource<'a>>,
    /// The op ranges inlined so far.
    inlined: Vec<Inlined>,
    /// Ops inlining may still add.
    inline_budget: usize,
    /// See [`CompiledFunc::params_written`].
    params_written: u64,
    /// Parameters of the function (its first locals).
    num_params: usize,
    /// Reused by [`Translator::inline_call`]: where each parameter of the callee is read
    /// (`None`: its own slot, where the argument was copied).
    inline_args: Vec<Option<Reg>>,
}

/// Index of a function's constants by bit pattern (see [`Translator::constant`]).
///
/// Performance: a `BTreeMap` here was ~4% of translating python.wasm (the eval loop has
/// hundreds of constants); a few multiplications and shifts are enough to hash bit
/// patterns (see [`MixHasher`]), and an adversary can at worst make one function's
/// translation slower.
type ConstIndex = std::collections::HashMap<u64, u16, std::hash::BuildHasherDefault<MixHasher>>;

/// Hashes a `u64` with splitmix64's finaliser (two multiplications, three shifts): every
/// input bit reaches the low bits the table picks buckets with (float constants have
/// theirs mostly zero, which a single multiplication leaves so).
#[derive(Default)]
struct MixHasher(u64);

impl std::hash::Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        let mut x = self.0 ^ n;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = x ^ (x >> 31);
    }
}

/// Buffers a translation works in, kept per thread and reused (cleared) by the next one:
/// growing the translator's vectors from empty for every function, and the four vectors
/// `fuse_pairs` builds, made malloc/realloc/free ~12% of translating python.wasm.
#[derive(Default)]
struct Scratch {
    instrs: Vec<Instr>,
    stack: Vec<Operand>,
    ctrls: Vec<Ctrl>,
    consts: Vec<u64>,
    const_index: ConstIndex,
    inline_args: Vec<Option<Reg>>,
    pairs: PairScratch,
}

/// The working vectors of [`fuse_pairs`].
#[derive(Default)]
struct PairScratch {
    is_target: Vec<bool>,
    new_index: Vec<usize>,
    out: Vec<Instr>,
    jump_from: Vec<usize>,
}

impl Scratch {
    /// Whether the buffers are small enough to keep for the next translation: one huge
    /// function must not pin its working memory for the rest of the thread's life.
    fn worth_keeping(&self) -> bool {
        const KEEP: usize = 1 << 13;
        let p = &self.pairs;
        [
            self.instrs.capacity(),
            self.stack.capacity(),
            self.ctrls.capacity(),
            self.consts.capacity(),
            p.is_target.capacity(),
            p.new_index.capacity(),
            p.out.capacity(),
            p.jump_from.capacity(),
        ]
        .iter()
        .all(|&c| c <= KEEP)
    }
}

/// Where a translation finds the code of the callees it may inline (`crate::inline`): the
/// translated code of module function `f`, if it is [`inline::inlinable`].
pub(crate) type InlineSource<'a> = &'a dyn Fn(u32) -> Option<Arc<CompiledFunc>>;

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Box<Scratch>>> = const { std::cell::Cell::new(None) };
}

/// Validates and translates defined function `defined_index` of `module`.
pub fn translate(
    module: &Module,
    refs: &ModuleValidator,
    defined_index: u32,
) -> Result<CompiledFunc> {
    translate_inlining(module, refs, defined_index, None)
}

/// [`translate`], inlining the calls of functions `inline` has code for.
pub(crate) fn translate_inlining(
    module: &Module,
    refs: &ModuleValidator,
    defined_index: u32,
    inline: Option<InlineSource<'_>>,
) -> Result<CompiledFunc> {
    let mut scratch = SCRATCH.with(std::cell::Cell::take).unwrap_or_default();
    let mut result = translate_with(module, refs, defined_index, inline, &mut scratch);
    if result.is_err() && inline.is_some() {
        // Inlining must not change which functions translate: it can make a frame that
        // was near the slot limit too large. (An invalid body fails the same way again.)
        result = translate_with(module, refs, defined_index, None, &mut scratch);
    }
    if scratch.worth_keeping() {
        SCRATCH.with(|cell| cell.set(Some(scratch)));
    }
    result
}

/// [`translate`] in `scratch`'s buffers (which it leaves behind, contents unspecified).
fn translate_with(
    module: &Module,
    refs: &ModuleValidator,
    defined_index: u32,
    inline: Option<InlineSource<'_>>,
    scratch: &mut Scratch,
) -> Result<CompiledFunc> {
    let func_index = module.num_imported_functions + defined_index;
    let body = module
        .body(defined_index)
        .ok_or_else(|| Error::invalid(0, format!("unknown function {func_index}")))?;
    let body_bytes = module.bodies[defined_index as usize].len();
    let (locals, ops) = body.read_locals()?;
    let validator = FuncValidator::new(refs, module, func_index, &locals)?;
    let ty = module
        .func_type(func_index)
        .ok_or_else(|| Error::invalid(0, format!("unknown function {func_index}")))?;
    let num_params = ty.params().len();
    let num_locals: usize = locals.iter().map(|&(n, _)| n as usize).sum();

    let first_const = num_params + num_locals;

    let mut t = Translator {
        module,
        validator,
        instrs: std::mem::take(&mut scratch.instrs),
        stack: std::mem::take(&mut scratch.stack),
        ctrls: std::mem::take(&mut scratch.ctrls),
        consts: std::mem::take(&mut scratch.consts),
        const_index: std::mem::take(&mut scratch.const_index),
        first_const,
        func_index,
        // Provisional: temporaries are numbered as if there were no constants.
        temp_base: first_const,
        max_height: 0,
        reachable: true,
        last_result: None,
        barrier: 0,
        num_results: ty.results().len(),
        inline,
        inlined: Vec::new(),
        inline_budget: body_bytes.max(inline::MIN_GROWTH_BUDGET),
        params_written: 0,
        num_params,
        inline_args: std::mem::take(&mut scratch.inline_args),
    };
    t.instrs.clear();
    t.stack.clear();
    t.ctrls.clear();
    t.consts.clear();
    t.const_index.clear();
    let result = t.run(ops, num_locals, &mut scratch.pairs);
    scratch.instrs = t.instrs;
    scratch.stack = t.stack;
    scratch.ctrls = t.ctrls;
    scratch.consts = t.consts;
    scratch.const_index = t.const_index;
    scratch.inline_args = t.inline_args;
    result
}

impl Translator<'_> {
    /// Translates the body `ops` (after its locals): the main pass, the post-passes, the
    /// verifier, and the finished code.
    fn run(
        &mut self,
        mut ops: wasmi_py_decode::OperatorsReader<'_>,
        num_locals: usize,
        pairs: &mut PairScratch,
    ) -> Result<CompiledFunc> {
        let num_params = self.num_params;
        self.ctrls.push(Ctrl {
            kind: CtrlKind::Function,
            height: 0,
            num_params: 0,
            num_results: self.num_results,
            exits: None,
            loop_start: 0,
            else_jump: None,
            reachable_at_entry: true,
        });
        while !self.validator.is_finished() {
            if ops.is_empty() {
                return Err(Error::malformed(
                    ops.offset(),
                    "unexpected end of section or function: END opcode expected",
                ));
            }
            // The operator is used where `read` left it, inside the `Result`: moving it out
            // (as `?` did) copied it with wide loads right after `decode_operator`'s narrow
            // stores, a store-forwarding stall per operator (4% of translation time).
            let at = ops.offset();
            let decoded = ops.read();
            let op = match decoded {
                Ok(ref op) => op,
                Err(e) => return Err(e),
            };
            self.validator.op(op, at)?;
            self.translate_op(op, at)?;
        }
        if !ops.is_empty() {
            return Err(Error::malformed(
                ops.offset(),
                "section size mismatch: operators remaining after end of function",
            ));
        }
        let frame_size = self.first_const + self.consts.len() + self.max_height;
        if frame_size > MAX_FRAME_SLOTS {
            return Err(too_large(self.func_index));
        }
        self.place_constants();
        thread_jumps(&mut self.instrs);
        fuse_pairs(&mut self.instrs, pairs, &mut self.inlined);
        verify(&self.instrs, frame_size).map_err(|reason| {
            Error::invalid(
                0,
                format!(
                    "internal error: bytecode of function {} failed verification: {reason}",
                    self.func_index
                ),
            )
        })?;
        let mut code = CompiledFunc::from_parts(
            &self.instrs,
            &self.consts,
            num_params,
            num_locals,
            frame_size,
        );
        code.inlined = std::mem::take(&mut self.inlined).into_boxed_slice();
        code.params_written = self.params_written;
        Ok(code)
    }
}

/// Jump threading, after translation: a jump whose target is an unconditional `Jump` goes
/// straight to that jump's target (a few hops at most), and an unconditional jump to a
/// return becomes the return. Structured control flow makes such chains common (`br` out
/// of nested blocks, the jump over an `else` landing on the end of an enclosing `if`, early
/// returns), and each hop was a dispatch.
///
/// Fuel stays sound: a cycle of the threaded jumps is a cycle of the original code and
/// still contains a backward jump, which consumes fuel.
fn thread_jumps(instrs: &mut [Instr]) {
    let at =
        |instrs: &[Instr], t: i64| usize::try_from(t).ok().and_then(|t| instrs.get(t).copied());
    for i in 0..instrs.len() {
        let Some(&mut offset) = instrs[i].jump_offset_mut() else {
            continue;
        };
        let mut target = i as i64 + i64::from(offset);
        for _ in 0..4 {
            match at(instrs, target) {
                Some(Instr::Jump { offset }) => target += i64::from(offset),
                _ => break,
            }
        }
        let Ok(offset) = i32::try_from(target - i as i64) else {
            continue;
        };
        let unconditional = matches!(instrs[i], Instr::Jump { .. });
        instrs[i] = match at(instrs, target) {
            Some(ret @ (Instr::Return | Instr::Return1 { .. } | Instr::ReturnMany { .. }))
                if unconditional =>
            {
                ret
            }
            Some(Instr::JumpTableAnd { .. }) if unconditional => Instr::JumpToTableAnd { offset },
            _ => {
                let mut instr = instrs[i];
                if let Some(o) = instr.jump_offset_mut() {
                    *o = offset;
                }
                instr
            }
        };
    }
}

/// The one instruction doing `first` then `second`, for the adjacent pairs CPython
/// executes most that no dataflow fusion covers (pair counts of the objects workload on
/// the threaded interpreter: `i32.store`→`i32.add` 3.4%, `i32.load16_u`→`i32.shr_u`
/// 2.3%, `i32.add`→`i32.load` 2.3% where the sum is also kept, `i32.add`→`i32.add`
/// 1.7%, copies before a jump or call 1.5% + 2.1%).
fn fused_pair(first: &Instr, second: &Instr) -> Option<Instr> {
    Some(match (*first, *second) {
        (Instr::I32Store(st), Instr::I32Add(add)) => Instr::I32StoreThenAdd(st, add),
        (Instr::I32Add(a), Instr::I32Add(b)) => Instr::I32AddThenAdd(a, b),
        (Instr::I32Add(add), Instr::I32Load(ld)) => Instr::I32AddThenLoad(add, ld),
        (Instr::I32Add(add), Instr::I32Load16U(ld)) => Instr::I32AddThenLoad16U(add, ld),
        (Instr::I32Load16U(ld), Instr::I32ShrU(shr)) => Instr::I32Load16UThenShrU(ld, shr),
        (Instr::I32Load(a), Instr::I32Load(b)) => Instr::I32LoadThenLoad {
            dst0: a.dst,
            addr0: a.addr,
            dst1: b.dst,
            addr1: b.addr,
            offset0: u16::try_from(a.offset).ok()?,
            offset1: u16::try_from(b.offset).ok()?,
        },
        (Instr::I32Add(add), Instr::I32Store(st)) => Instr::I32AddThenStore(add, st),
        (Instr::I32Load(ld), Instr::I32Store(st)) => Instr::I32LoadThenStore {
            dst: ld.dst,
            addr0: ld.addr,
            addr1: st.addr,
            value: st.value,
            offset0: u16::try_from(ld.offset).ok()?,
            offset1: u16::try_from(st.offset).ok()?,
        },
        (Instr::I32Store(st), Instr::I32Load(ld)) => Instr::I32StoreThenLoad {
            addr0: st.addr,
            value: st.value,
            dst: ld.dst,
            addr1: ld.addr,
            offset0: u16::try_from(st.offset).ok()?,
            offset1: u16::try_from(ld.offset).ok()?,
        },
        (Instr::I32Store(a), Instr::I32Store(b)) => Instr::I32StoreThenStore {
            addr0: a.addr,
            value0: a.value,
            addr1: b.addr,
            value1: b.value,
            offset0: u16::try_from(a.offset).ok()?,
            offset1: u16::try_from(b.offset).ok()?,
        },
        (
            Instr::I32Load(ld),
            Instr::I32AddStore {
                addr,
                lhs,
                rhs,
                offset,
            },
        ) => Instr::I32LoadThenAddStore {
            dst: ld.dst,
            addr0: ld.addr,
            addr1: addr,
            lhs,
            rhs,
            offset0: u16::try_from(ld.offset).ok()?,
            offset1: u16::try_from(offset).ok()?,
        },
        (
            Instr::I32Load(a),
            Instr::I32LoadAdd {
                dst,
                base,
                index,
                offset,
            },
        ) => Instr::I32LoadThenLoadAdd {
            dst0: a.dst,
            addr0: a.addr,
            dst1: dst,
            base1: base,
            index1: index,
            offset0: u16::try_from(a.offset).ok()?,
            offset1: u16::try_from(offset).ok()?,
        },
        (
            Instr::I32LoadAdd {
                dst,
                base,
                index,
                offset,
            },
            Instr::I32Load(b),
        ) => Instr::I32LoadAddThenLoad {
            dst0: dst,
            base0: base,
            index0: index,
            dst1: b.dst,
            addr1: b.addr,
            offset0: u16::try_from(offset).ok()?,
            offset1: u16::try_from(b.offset).ok()?,
        },
        // The load's address is the shifted sum plus another operand (either side).
        (
            Instr::I32AddShl {
                dst,
                base,
                index,
                shift,
            },
            Instr::I32LoadAdd {
                dst: dst1,
                base: base1,
                index: index1,
                offset,
            },
        ) => Instr::I32AddShlThenLoadAdd {
            dst0: dst,
            base0: base,
            index0: index,
            shift,
            dst1,
            other: other_operand(base1, index1, dst)?,
            offset: u16::try_from(offset).ok()?,
        },
        // `!=` is symmetric: the loaded value on either side.
        (
            Instr::I32LoadAdd {
                dst,
                base,
                index,
                offset,
            },
            Instr::JumpIfI32Ne {
                lhs,
                rhs,
                offset: jump,
            },
        ) => Instr::JumpIfLoadAddI32Ne {
            dst,
            base,
            index,
            other: other_operand(lhs, rhs, dst)?,
            offset: u16::try_from(offset).ok()?,
            jump,
        },
        // The jump is the first instruction's (see `jump_member`).
        (
            Instr::JumpIfLoadI32Eq {
                load: ld,
                other,
                offset,
            },
            Instr::I32AddStore {
                addr,
                lhs,
                rhs,
                offset: st_offset,
            },
        ) if addr == ld.addr && st_offset == ld.offset && lhs == ld.dst => {
            Instr::JumpIfLoadI32EqElseAddStore {
                dst: ld.dst,
                addr,
                other,
                rhs,
                offset: u16::try_from(ld.offset).ok()?,
                jump: offset,
            }
        }
        (Instr::I32And(and), Instr::JumpIfEqz { cond, offset }) => {
            Instr::I32AndThenJumpIfEqz { and, cond, offset }
        }
        (Instr::I32And(and), Instr::JumpIfNez { cond, offset }) => {
            Instr::I32AndThenJumpIfNez { and, cond, offset }
        }
        (Instr::I32Add(add), Instr::JumpIfNez { cond, offset }) => {
            Instr::I32AddThenJumpIfNez { add, cond, offset }
        }
        (Instr::I32Load8U(load), Instr::JumpIfEqz { cond, offset }) => {
            Instr::I32Load8UThenJumpIfEqz { load, cond, offset }
        }
        (Instr::I32Load8U(load), Instr::JumpIfNez { cond, offset }) => {
            Instr::I32Load8UThenJumpIfNez { load, cond, offset }
        }
        (
            Instr::I32Load8UAdd {
                dst,
                base,
                index,
                offset: load_offset,
            },
            Instr::JumpIfEqz { cond, offset },
        ) => Instr::I32Load8UAddThenJumpIfEqz {
            dst,
            base,
            index,
            cond,
            load_offset: u16::try_from(load_offset).ok()?,
            offset,
        },
        // `&` is symmetric: the loaded byte on either side.
        (
            Instr::I32Load8UAdd {
                dst,
                base,
                index,
                offset: load_offset,
            },
            Instr::JumpIfI32AndEqz { lhs, rhs, offset }
            | Instr::JumpIfI32AndNez { lhs, rhs, offset },
        ) => {
            let mask = other_operand(lhs, rhs, dst)?;
            let load_offset = u16::try_from(load_offset).ok()?;
            if matches!(second, Instr::JumpIfI32AndEqz { .. }) {
                Instr::I32Load8UAddThenJumpIfAndEqz {
                    dst,
                    base,
                    index,
                    mask,
                    load_offset,
                    offset,
                }
            } else {
                Instr::I32Load8UAddThenJumpIfAndNez {
                    dst,
                    base,
                    index,
                    mask,
                    load_offset,
                    offset,
                }
            }
        }
        (Instr::I32Add(add), Instr::Jump { offset }) => Instr::I32AddThenJump { add, offset },
        (Instr::I32Store(store), Instr::JumpIfNez { cond, offset }) => {
            Instr::I32StoreThenJumpIfNez {
                store,
                cond,
                offset,
            }
        }
        (Instr::Copy { dst, src }, Instr::Jump { offset }) => {
            Instr::CopyThenJump { dst, src, offset }
        }
        (Instr::Copy { dst, src }, Instr::JumpToTableAnd { offset }) => {
            Instr::CopyThenJumpToTableAnd { dst, src, offset }
        }
        (
            Instr::Copy2 {
                dst0,
                src0,
                dst1,
                src1,
            },
            Instr::JumpToTableAnd { offset },
        ) => Instr::Copy2ThenJumpToTableAnd {
            dst0,
            src0,
            dst1,
            src1,
            offset,
        },
        (Instr::I32Add(add), Instr::Global0Set { src }) => Instr::I32AddThenGlobal0Set(add, src),
        (Instr::Copy { dst, src }, Instr::Call { func, base, result }) => Instr::CopyThenCall {
            dst,
            src,
            base,
            func,
            result,
        },
        (
            Instr::Copy2 {
                dst0,
                src0,
                dst1,
                src1,
            },
            Instr::Call { func, base, result },
        ) => Instr::Copy2ThenCall {
            dst0,
            src0,
            dst1,
            src1,
            base,
            result,
            func: u16::try_from(func).ok()?,
        },
        _ => return None,
    })
}

/// The one instruction doing `first`, `second` and `third` (see [`fused_pair`]):
/// `global.get 0`, `i32.sub`, `global.set 0` of the difference, the prologue of every C
/// function with a stack frame (objects workload: 0.9% of dispatches each); and CPython's
/// instruction fetch and dispatch, `i32.load16_u`, `i32.shr_u` of the loaded unit, a jump
/// to the masked jump table (the pair `I32Load16UThenShrU -> JumpToTableAnd` was the most
/// frequent left in objects, 1.5%, and in nbody, 2.2%).
fn fused_triple(first: &Instr, second: &Instr, third: &Instr) -> Option<Instr> {
    match (*first, *second, *third) {
        (Instr::I32Load16U(ld), Instr::I32ShrU(shr), Instr::JumpToTableAnd { offset: jump })
            if shr.lhs == ld.dst =>
        {
            Some(Instr::I32Load16UShrUThenJumpToTableAnd {
                dst: ld.dst,
                addr: ld.addr,
                arg: shr.dst,
                shift: shr.rhs,
                offset: u16::try_from(ld.offset).ok()?,
                jump,
            })
        }
        (Instr::Global0Get { dst: tmp }, Instr::I32Sub(sub), Instr::Global0Set { src })
            if sub.lhs == tmp && src == sub.dst =>
        {
            Some(Instr::Global0SubSet {
                tmp,
                dst: sub.dst,
                rhs: sub.rhs,
            })
        }
        _ => None,
    }
}

/// Which of the `len` instructions merged into `fused` holds the jump it keeps: its jump
/// offset is relative to that instruction's old position, and `fuse_pairs` re-targets it
/// from there. The last one, which is where the jump of every merged group is, except in
/// `Py_INCREF`'s pair (the first: the immortality test jumps over the increment).
fn jump_member(fused: &Instr, len: usize) -> usize {
    match fused {
        Instr::JumpIfLoadI32EqElseAddStore { .. } => 0,
        _ => len - 1,
    }
}

/// The operand of `lhs` and `rhs` that is not `known`, if one of them is `known` (the other
/// operand of a commutative operation, `known` on either side).
fn other_operand(lhs: Reg, rhs: Reg, known: Reg) -> Option<Reg> {
    if lhs == known {
        Some(rhs)
    } else if rhs == known {
        Some(lhs)
    } else {
        None
    }
}

/// The one instruction doing the four: CPython's `Py_DECREF` (see
/// [`Instr::JumpIfLoadI32EqElseAddStoreJumpIfNez`]), whose two jumps go to the same place
/// (objects workload: `JumpIfLoadI32Eq -> I32AddThenStore` 1.4% of dispatches,
/// `I32AddThenStore -> JumpIfNez` 1.4%). The merged instruction keeps one jump offset,
/// the last instruction's (see [`jump_member`]), so the first jump's target must be the
/// last's.
fn fused_quad(first: &Instr, second: &Instr, third: &Instr, fourth: &Instr) -> Option<Instr> {
    match (*first, *second, *third, *fourth) {
        (
            Instr::JumpIfLoadI32Eq {
                load: ld,
                other,
                offset: skip,
            },
            Instr::I32Add(add),
            Instr::I32Store(st),
            Instr::JumpIfNez { cond, offset },
        ) if ld.offset == 0
            && add.lhs == ld.dst
            && st.addr == ld.addr
            && st.offset == 0
            && st.value == add.dst
            && cond == add.dst
            && i64::from(skip) == i64::from(offset) + 3 =>
        {
            Some(Instr::JumpIfLoadI32EqElseAddStoreJumpIfNez {
                dst: ld.dst,
                addr: ld.addr,
                other,
                sum: add.dst,
                rhs: add.rhs,
                jump: offset,
            })
        }
        _ => None,
    }
}

/// Merges adjacent quadruples, triples and pairs (see [`fused_quad`], [`fused_triple`],
/// [`fused_pair`]) of which no
/// instruction but the first is a jump target, and re-targets every jump. A jump inside a
/// merged pair (`CopyThenJump`) keeps its target relative to the merged instruction. No pair crosses the start or end of an
/// `inlined` range (a trap's position must say whether it was inside), and the ranges
/// are moved with their code.
fn fuse_pairs(instrs: &mut Vec<Instr>, scratch: &mut PairScratch, inlined: &mut [Inlined]) {
    let n = instrs.len();
    let PairScratch {
        is_target,
        new_index,
        out,
        jump_from,
    } = scratch;
    is_target.clear();
    is_target.resize(n + 1, false);
    for (i, instr) in instrs.iter().enumerate() {
        if let Some(&mut offset) = instr.clone().jump_offset_mut() {
            if let Ok(t) = usize::try_from(i as i64 + i64::from(offset)) {
                if t < n {
                    is_target[t] = true;
                }
            }
        }
        if let Instr::JumpTable { len, .. } | Instr::JumpTableAnd { len, .. } = *instr {
            let entries = (i + 1).min(n)..(i + 2 + len as usize).min(n);
            is_target[entries].fill(true);
        }
    }
    for r in inlined.iter() {
        for at in [r.start, r.end] {
            if let Some(t) = is_target.get_mut(at as usize) {
                *t = true;
            }
        }
    }
    // new_index[old]: where the old instruction (or the pair it starts or ends) is now;
    // jump_from[new]: the old index of the jump inside the new instruction.
    new_index.clear();
    new_index.resize(n, 0);
    out.clear();
    jump_from.clear();
    let mut i = 0;
    // The quadruple or else the triple starting at `at` (and its length), if none of its
    // instructions but the first is a target; computed once per position (the
    // look-ahead below reuses it).
    let group_at = |at: usize| {
        let free = |k: usize| at + k < n && !is_target[at + k];
        if free(1) && free(2) && free(3) {
            let quad = &instrs[at..at + 4];
            if let Some(fused) = fused_quad(&quad[0], &quad[1], &quad[2], &quad[3]) {
                return Some((fused, 4));
            }
        }
        (free(1) && free(2))
            .then(|| fused_triple(&instrs[at], &instrs[at + 1], &instrs[at + 2]))
            .flatten()
            .map(|fused| (fused, 3))
    };
    let mut group = group_at(0);
    while i < n {
        if let Some((fused, len)) = group {
            new_index[i..i + len].fill(out.len());
            out.push(fused);
            jump_from.push(i + jump_member(&fused, len));
            i += len;
            group = group_at(i);
            continue;
        }
        // A group starting at the next instruction saves more than a pair here would.
        let group_next = group_at(i + 1);
        let pair = (group_next.is_none() && i + 1 < n && !is_target[i + 1])
            .then(|| fused_pair(&instrs[i], &instrs[i + 1]))
            .flatten();
        new_index[i] = out.len();
        match pair {
            Some(fused) => {
                new_index[i + 1] = out.len();
                out.push(fused);
                jump_from.push(i + jump_member(&fused, 2));
                i += 2;
                group = group_at(i);
            }
            None => {
                out.push(instrs[i]);
                jump_from.push(i);
                i += 1;
                group = group_next;
            }
        }
    }
    if out.len() == n {
        return;
    }
    for r in inlined.iter_mut() {
        // A range's ends begin ops of their own (marked above); `end` may be `n`.
        let moved = |at: u32| new_index.get(at as usize).map_or(out.len(), |&i| i) as u32;
        (r.start, r.end) = (moved(r.start), moved(r.end));
    }
    for (at, instr) in out.iter_mut().enumerate() {
        let from = jump_from[at];
        if let Some(offset) = instr.jump_offset_mut() {
            let old_target = from as i64 + i64::from(*offset);
            // Out-of-range targets are left for `verify` to reject.
            if let Some(&t) = usize::try_from(old_target)
                .ok()
                .and_then(|t| new_index.get(t))
            {
                *offset = (t as i64 - at as i64) as i32;
            }
        }
    }
    // The old code's buffer becomes the next translation's `out`.
    std::mem::swap(instrs, out);
}

/// Checks the properties the interpreter loop relies on to skip bounds checks: every slot an
/// instruction names is inside the frame, every jump lands inside the function, a jump
/// table's entries follow it, call bases do not pass the frame's end, and execution cannot
/// run off the end (the last instruction never falls through). This makes the unchecked
/// accesses in `exec.rs` sound whatever the translator above got wrong: a translator bug can
/// give wrong results, never undefined behaviour.
pub(crate) fn verify(instrs: &[Instr], frame_size: usize) -> Result<(), String> {
    check_end(instrs.last())?;
    for (i, instr) in instrs.iter().enumerate() {
        check_instr(instr, i, instrs.len(), frame_size).map_err(|fault| match fault {
            Fault::Slot(r) => format!("{instr:?} at {i} names slot {r}, frame has {frame_size}"),
            Fault::Jump => format!("{instr:?} at {i} jumps outside the function"),
            Fault::JumpTable => format!("jump table at {i} runs past the end"),
            Fault::CallFrame => format!("call at {i} has its base or result past the frame"),
        })?;
    }
    Ok(())
}

/// What [`verify`] requires of the last instruction of a body: that there is one, and
/// that execution cannot fall off the end after it.
pub(crate) fn check_end(last: Option<&Instr>) -> Result<(), String> {
    match last {
        None => Err("no instructions".into()),
        Some(last) if !last.is_terminal() => {
            Err(format!("last instruction {last:?} falls through"))
        }
        Some(_) => Ok(()),
    }
}

/// Why an instruction fails [`check_instr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// It names this slot, which is not in the frame.
    Slot(Reg),
    /// It jumps outside the body.
    Jump,
    /// Its jump table runs past the end of the body.
    JumpTable,
    /// A call's base or result slot is past the frame.
    CallFrame,
}

/// What [`verify`] checks of each instruction: `instr`, at index `i` of a body of `len`
/// instructions in a frame of `frame_size` slots, names only slots of the frame, jumps
/// only inside the body, and has its jump table (the `len` ops after it) inside too.
///
/// Performance: always inlined, so that the code cache's decoder of each kind of
/// instruction (`Instr::decode_checked`), which knows the kind, gets it specialised to
/// that kind (the matches inside fold away). Checking a decoded body instruction by
/// instruction through these matches was ~11 ns per instruction, a mispredicted jump
/// per match, 2.1 ms of a cold `wasmi-py run -c pass` (185k instructions read).
#[inline(always)]
pub(crate) fn check_instr(
    instr: &Instr,
    i: usize,
    len: usize,
    frame_size: usize,
) -> Result<(), Fault> {
    let mut bad = None;
    instr.for_each_reg(|r| {
        if r as usize >= frame_size {
            bad = Some(r);
        }
    });
    if let Some(r) = bad {
        return Err(Fault::Slot(r));
    }
    if let Some(&mut offset) = instr.clone().jump_offset_mut() {
        let target = i as i64 + i64::from(offset);
        if target < 0 || target >= len as i64 {
            return Err(Fault::Jump);
        }
    }
    match *instr {
        Instr::JumpTable { len: n, .. } | Instr::JumpTableAnd { len: n, .. }
            if i + 1 + n as usize >= len =>
        {
            Err(Fault::JumpTable)
        }
        Instr::Call { base, result, .. }
        | Instr::CallIndirect { base, result, .. }
        | Instr::CopyThenCall { base, result, .. }
        | Instr::Copy2ThenCall { base, result, .. }
            if base.max(result) as usize > frame_size =>
        {
            Err(Fault::CallFrame)
        }
        _ => Ok(()),
    }
}

/// The fused jump for a comparison `cmp` whose result feeds a branch: taken when the
/// comparison holds (or, with `negate`, when it does not). Integer comparisons only: the
/// negation of a float comparison is not a comparison (NaN).
fn fused_jump(cmp: &Instr, negate: bool) -> Option<Instr> {
    macro_rules! pick {
        ($o:ident, $yes:ident, $no:ident) => {{
            let (lhs, rhs) = ($o.lhs, $o.rhs);
            Some(if negate {
                Instr::$no {
                    lhs,
                    rhs,
                    offset: 0,
                }
            } else {
                Instr::$yes {
                    lhs,
                    rhs,
                    offset: 0,
                }
            })
        }};
    }
    match *cmp {
        Instr::I32Eq(o) => pick!(o, JumpIfI32Eq, JumpIfI32Ne),
        Instr::I32Ne(o) => pick!(o, JumpIfI32Ne, JumpIfI32Eq),
        Instr::I32LtS(o) => pick!(o, JumpIfI32LtS, JumpIfI32GeS),
        Instr::I32LtU(o) => pick!(o, JumpIfI32LtU, JumpIfI32GeU),
        Instr::I32GtS(o) => pick!(o, JumpIfI32GtS, JumpIfI32LeS),
        Instr::I32GtU(o) => pick!(o, JumpIfI32GtU, JumpIfI32LeU),
        Instr::I32LeS(o) => pick!(o, JumpIfI32LeS, JumpIfI32GtS),
        Instr::I32LeU(o) => pick!(o, JumpIfI32LeU, JumpIfI32GtU),
        Instr::I32GeS(o) => pick!(o, JumpIfI32GeS, JumpIfI32LtS),
        Instr::I32GeU(o) => pick!(o, JumpIfI32GeU, JumpIfI32LtU),
        Instr::I64Eq(o) => pick!(o, JumpIfI64Eq, JumpIfI64Ne),
        Instr::I64Ne(o) => pick!(o, JumpIfI64Ne, JumpIfI64Eq),
        Instr::I64LtS(o) => pick!(o, JumpIfI64LtS, JumpIfI64GeS),
        Instr::I64LtU(o) => pick!(o, JumpIfI64LtU, JumpIfI64GeU),
        Instr::I64GtS(o) => pick!(o, JumpIfI64GtS, JumpIfI64LeS),
        Instr::I64GtU(o) => pick!(o, JumpIfI64GtU, JumpIfI64LeU),
        Instr::I64LeS(o) => pick!(o, JumpIfI64LeS, JumpIfI64GtS),
        Instr::I64LeU(o) => pick!(o, JumpIfI64LeU, JumpIfI64GtU),
        Instr::I64GeS(o) => pick!(o, JumpIfI64GeS, JumpIfI64LtS),
        Instr::I64GeU(o) => pick!(o, JumpIfI64GeU, JumpIfI64LtU),
        Instr::I32And(o) => pick!(o, JumpIfI32AndNez, JumpIfI32AndEqz),
        Instr::I32Eqz(o) => Some(if negate {
            Instr::JumpIfNez {
                cond: o.src,
                offset: 0,
            }
        } else {
            Instr::JumpIfEqz {
                cond: o.src,
                offset: 0,
            }
        }),
        _ => None,
    }
}

#[cold]
fn too_large(func_index: u32) -> Error {
    Error::invalid(
        0,
        format!("function {func_index} needs more than {MAX_FRAME_SLOTS} value slots (an interpreter limit)"),
    )
}

/// The slot encoding of a constant instruction's value.
fn const_bits(op: &Operator<'_>) -> Option<u64> {
    Some(match *op {
        Operator::I32Const { value } => u64::from(value as u32),
        Operator::I64Const { value } => value as u64,
        Operator::F32Const { value } => u64::from(value.0),
        Operator::F64Const { value } => value.0,
        Operator::RefNull { .. } => 0,
        _ => return None,
    })
}

/// How the generated numeric instructions are built from an operator, by table row.
macro_rules! define_numeric {
    ($( $feat:ident [$($enc:tt)+] $name:ident { $($field:ident : $ty:ty $(as $rd:ident)?),* } $mnem:literal $kind:ident $args:tt ;)*) => {
        /// The generated instruction for `op` given its operand and result slots, or `None`
        /// for instructions the translator handles by hand.
        fn numeric(op: &Operator<'_>) -> Option<Shape> {
            match op {
                $( Operator::$name { .. } => define_numeric!(@shape $feat $name $kind $args), )*
            }
        }
    };
    (@shape simd $name:ident $kind:ident $args:tt) => { None };
    (@shape $feat:ident $name:ident sig ($a:ident -> $r:ident)) => {
        Some(Shape::Un(|dst, src| Instr::$name(Un { dst, src })))
    };
    (@shape $feat:ident $name:ident sig ($a:ident $b:ident -> $r:ident)) => {
        Some(Shape::Bin(|dst, lhs, rhs| Instr::$name(Bin { dst, lhs, rhs })))
    };
    (@shape $feat:ident $name:ident load $args:tt) => {
        Some(Shape::Load(|dst, addr, offset| Instr::$name(Load { dst, addr, offset })))
    };
    (@shape $feat:ident $name:ident store $args:tt) => {
        Some(Shape::Store(|addr, value, offset| Instr::$name(Store { addr, value, offset })))
    };
    (@shape $feat:ident $name:ident $kind:ident $args:tt) => { None };
}
wasmi_py_decode::for_each_operator!(define_numeric);

enum Shape {
    Un(fn(Reg, Reg) -> Instr),
    Bin(fn(Reg, Reg, Reg) -> Instr),
    Load(fn(Reg, Reg, u32) -> Instr),
    Store(fn(Reg, Reg, u32) -> Instr),
}

impl Translator<'_> {
    // ----- operand stack -------------------------------------------------------------------

    /// The index of constant `bits` among the function's constants, added if new.
    fn constant(&mut self, bits: u64) -> Result<Reg> {
        let known = if self.consts.len() <= LINEAR_CONSTS {
            self.consts.iter().position(|&c| c == bits)
        } else {
            self.const_index.get(&bits).map(|&k| k as usize)
        };
        if let Some(k) = known {
            return Ok(k as Reg);
        }
        let k = self.consts.len();
        // Keeps the provisional slots above the temporaries (and the frame in range).
        if self.first_const + k + 1 > MAX_FRAME_SLOTS {
            return Err(too_large(self.func_index));
        }
        self.consts.push(bits);
        if self.consts.len() == LINEAR_CONSTS + 1 {
            for (i, &c) in self.consts.iter().enumerate() {
                self.const_index.insert(c, i as u16);
            }
        } else if self.consts.len() > LINEAR_CONSTS + 1 {
            self.const_index.insert(bits, k as u16);
        }
        Ok(k as Reg)
    }

    /// Gives constants and temporaries their final slots (see the module docs): every
    /// temporary (and call base) moves up by the number of constants, and constant `k`
    /// moves from `PROVISIONAL_TOP - k` to `first_const + k`. Run once, after the main pass
    /// checked that the frame fits, which keeps the provisional ranges apart.
    fn place_constants(&mut self) {
        let (first_const, n) = (self.first_const, self.consts.len());
        if n == 0 {
            return;
        }
        let lowest_provisional = PROVISIONAL_TOP as usize + 1 - n;
        for instr in &mut self.instrs {
            instr.visit_regs_mut(|_, reg| {
                let r = *reg as usize;
                if r >= lowest_provisional {
                    *reg = (first_const + (PROVISIONAL_TOP as usize - r)) as Reg;
                } else if r >= first_const {
                    *reg = (r + n) as Reg;
                }
            });
        }
        self.temp_base = first_const + n;
    }

    fn temp(&self, position: usize) -> Reg {
        (self.temp_base + position) as Reg
    }

    fn push_temp(&mut self) -> Reg {
        let position = self.stack.len();
        let reg = self.temp(position);
        self.stack.push(Operand {
            kind: Kind::Temp,
            reg,
        });
        self.max_height = self.max_height.max(self.stack.len());
        reg
    }

    fn push(&mut self, kind: Kind, reg: Reg) {
        self.stack.push(Operand { kind, reg });
        self.max_height = self.max_height.max(self.stack.len());
    }

    fn pop(&mut self) -> Operand {
        self.stack
            .pop()
            .expect("validated code never pops an empty operand stack")
    }

    /// The slot of the temporary a result at the current top would occupy.
    fn next_temp(&self) -> Reg {
        self.temp(self.stack.len())
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.last_result = None;
        // Two adjacent copies (no label between them) become one `Copy2`.
        if let Instr::Copy { dst, src } = instr {
            if self.instrs.len() > self.barrier {
                if let Some(&Instr::Copy {
                    dst: dst0,
                    src: src0,
                }) = self.instrs.last()
                {
                    let last = self.instrs.len() - 1;
                    self.instrs[last] = Instr::Copy2 {
                        dst0,
                        src0,
                        dst1: dst,
                        src1: src,
                    };
                    return last;
                }
            }
        }
        self.instrs.push(instr);
        self.instrs.len() - 1
    }

    /// The operands of the `i32.add` just emitted if it computed `addr` (the temporary on
    /// top of the stack, now popped), so a load or store can do the addition itself.
    fn take_address_add(&mut self, addr: Operand) -> Option<(Reg, Reg)> {
        let last = self.produced_by_last(addr)?;
        match self.instrs[last] {
            Instr::I32Add(Bin { dst, lhs, rhs }) if dst == addr.reg => {
                self.instrs.pop();
                self.last_result = None;
                Some((lhs, rhs))
            }
            _ => None,
        }
    }

    /// Emits a call with `results` results (in temporaries from its base on). A single
    /// result is the call's result as any instruction's is: a `local.set` of it is folded
    /// into the call's `result` slot, and the copy it would take is saved (CPython:
    /// 1.2-1.6% of all dispatches were such copies right after calls).
    fn emit_call(&mut self, call: Instr, results: usize) {
        if results == 1 {
            self.emit_result(call);
        } else {
            self.emit(call);
            for _ in 0..results {
                self.push_temp();
            }
        }
    }

    /// Emits an instruction whose result is the new top temporary.
    fn emit_result(&mut self, instr: Instr) {
        self.instrs.push(instr);
        let reg = self.push_temp();
        self.last_result = Some((self.instrs.len() - 1, reg));
    }

    /// If `opd` (just popped from the top) is the temporary the last emitted instruction
    /// wrote, with no label since, that instruction's index: it may then be fused with the
    /// instruction consuming `opd`, or retargeted.
    fn produced_by_last(&self, opd: Operand) -> Option<usize> {
        let (index, reg) = self.last_result?;
        let is_last = index + 1 == self.instrs.len();
        (is_last && opd.kind == Kind::Temp && opd.reg == reg && reg == self.next_temp())
            .then_some(index)
    }

    /// Copies the operand at `position` into its temporary if it is not there yet.
    fn materialize(&mut self, position: usize) {
        let opd = self.stack[position];
        if opd.kind != Kind::Temp {
            let dst = self.temp(position);
            self.emit(Instr::Copy { dst, src: opd.reg });
            self.stack[position] = Operand {
                kind: Kind::Temp,
                reg: dst,
            };
        }
    }

    /// Materializes the top `n` operands.
    fn materialize_top(&mut self, n: usize) {
        let len = self.stack.len();
        for position in len - n..len {
            self.materialize(position);
        }
    }

    /// Copies every operand that refers to a local into its temporary (control-flow entry).
    fn materialize_locals(&mut self) {
        for position in 0..self.stack.len() {
            if self.stack[position].kind == Kind::Local {
                self.materialize(position);
            }
        }
    }

    /// Before writing `local`, copies operands that still read it into their temporaries.
    fn preserve_local(&mut self, local: Reg) {
        for position in 0..self.stack.len() {
            let opd = self.stack[position];
            if opd.kind == Kind::Local && opd.reg == local {
                self.materialize(position);
            }
        }
    }

    // ----- inlining (see `crate::inline`) ---------------------------------------------------

    /// Emits the body of function `func` in place of a call of it whose arguments are the
    /// temporaries from stack position `position` on (already popped); `false` if it is
    /// not inlined and the call is to be emitted.
    fn inline_call(&mut self, func: u32, position: usize) -> Result<bool> {
        let Some(source) = self.inline else {
            return Ok(false);
        };
        if func == self.func_index {
            return Ok(false);
        }
        let Some(callee) = source(func) else {
            return Ok(false);
        };
        let c = &*callee;
        let added = c.ops.len() + c.num_locals;
        // The frame must still fit, with room for every constant the callee may add (so
        // `constant` cannot fail below).
        let fits = self.first_const + position + c.frame_size <= MAX_FRAME_SLOTS
            && self.first_const + self.consts.len() + c.num_consts < MAX_FRAME_SLOTS;
        if added > self.inline_budget || !fits || c.ops.is_empty() {
            return Ok(false);
        }
        self.inline_budget -= added;
        self.max_height = self.max_height.max(position + c.frame_size);
        // The arguments, on the stack from `position` on: a parameter the callee never
        // writes is read where its argument is, if that is a local of this function or a
        // constant (inlined code writes neither: only its own slots, from `base` on);
        // the others are copied into the callee's parameter slots, as for a call.
        let mut args = std::mem::take(&mut self.inline_args);
        args.clear();
        for i in 0..c.num_params {
            let opd = self.stack[position + i];
            if opd.kind != Kind::Temp && !c.writes_param(i) {
                args.push(Some(opd.reg));
            } else {
                self.materialize(position + i);
                args.push(None);
            }
        }
        self.stack.truncate(position);
        let mut consts = Vec::with_capacity(c.num_consts);
        for &value in &c.consts[..c.num_consts] {
            consts.push(PROVISIONAL_TOP - self.constant(value)?);
        }
        let targets = inline::jump_targets(&c.ops);
        let zeroed: Vec<usize> = (c.num_params..c.num_params + c.num_locals)
            .filter(|&local| inline::needs_zeroing(&c.ops, &targets, local as Reg))
            .collect();
        let zero = match zeroed.is_empty() {
            true => 0,
            false => PROVISIONAL_TOP - self.constant(0)?,
        };
        // The callee's slot `r` in this frame: its constants are ours, the rest is at
        // `base + r` (all below `MAX_FRAME_SLOTS`, checked above).
        let base = self.temp_base + position;
        let first_const = c.num_params + c.num_locals;
        let slot = |r: Reg| -> Reg {
            if let Some(&Some(arg)) = args.get(usize::from(r)) {
                return arg;
            }
            match usize::from(r).checked_sub(first_const) {
                Some(k) if k < c.num_consts => consts[k],
                _ => (base + usize::from(r)) as Reg,
            }
        };
        // Nothing before merges with the inlined code, nothing in it with what follows.
        self.label();
        // Declared locals read as zero, unless the callee surely writes them first.
        for local in zeroed {
            self.emit(Instr::Copy {
                dst: (base + local) as Reg,
                src: zero,
            });
        }
        let start = self.instrs.len();
        let last = c.ops.len() - 1;
        let producer = inline::result_producer(&c.ops);
        let drop_last = matches!(c.ops[last].instr, Instr::Return) || producer.is_some();
        let end = start + last + usize::from(!drop_last);
        for (j, op) in c.ops.iter().enumerate() {
            let to_end = (end - (start + j)) as i32;
            let instr = match op.instr {
                // The last instruction's return falls through to what follows the call
                // (jumps to it land there too; so does a jump table whose last entry it
                // was: taking that entry runs the op at `end`, which is continuing there).
                Instr::Return if j == last => continue,
                // The op before computed the result, straight into the call's base.
                Instr::Return1 { .. } if j == last && producer.is_some() => continue,
                mut instr if Some(j) == producer => {
                    instr.visit_regs_mut(|_, r| *r = slot(*r));
                    if let Some(dst) = instr.result_mut() {
                        *dst = base as Reg;
                    }
                    instr
                }
                Instr::Return1 { src } if j == last => Instr::Copy {
                    dst: base as Reg,
                    src: slot(src),
                },
                Instr::Return => Instr::Jump { offset: to_end },
                Instr::Return1 { src } => Instr::CopyThenJump {
                    dst: base as Reg,
                    src: slot(src),
                    offset: to_end,
                },
                mut instr => {
                    instr.visit_regs_mut(|_, r| *r = slot(*r));
                    instr
                }
            };
            // Pushed as they are: `emit` would merge copies and move the jumps' targets.
            self.instrs.push(instr);
        }
        debug_assert_eq!(self.instrs.len(), end);
        self.inline_args = args;
        self.label();
        self.inlined.push(Inlined {
            start: start as u32,
            end: end as u32,
            func,
        });
        Ok(true)
    }

    // ----- control --------------------------------------------------------------------------

    fn label(&mut self) -> usize {
        self.last_result = None;
        self.barrier = self.instrs.len();
        self.instrs.len()
    }

    /// Adds the jump at `jump` to the exits of control frame `index` (see [`Ctrl::exits`]).
    fn add_exit(&mut self, index: usize, jump: usize) {
        let previous = self.ctrls[index].exits.replace(jump);
        *self.offset_of(jump) = previous.map_or(-1, |j| j as i32);
    }

    /// The offset field of the jump emitted at `jump`.
    fn offset_of(&mut self, jump: usize) -> &mut i32 {
        self.instrs[jump]
            .jump_offset_mut()
            .unwrap_or_else(|| unreachable!("instruction {jump} is not a jump"))
    }

    fn patch(&mut self, jump: usize, target: usize) {
        *self.offset_of(jump) = target as i32 - jump as i32;
    }

    /// If `cond` (just popped) is the result of the comparison (or `and`) just emitted,
    /// removes that instruction and returns it with whether its sense is inverted (an
    /// `i32.eqz` of a fusable result is looked through). The caller emits the fused jump
    /// with [`emit_cond_jump`](Self::emit_cond_jump); it may emit other instructions in
    /// between, as long as they do not write the comparison's operands (the comparison only
    /// reads slots that were popped, so copies of what is still on the stack are fine).
    fn take_condition(&mut self, cond: Operand) -> Option<(Instr, bool)> {
        let last = self.produced_by_last(cond)?;
        let producer = self.instrs[last];
        fused_jump(&producer, false)?;
        self.instrs.pop();
        self.last_result = None;
        // `i32.eqz` of a comparison or `and` emitted just before: fuse with that one instead,
        // inverted. Its result was only read by the `eqz` (it was popped for it).
        // Only when the eqz's operand was the temporary at its own position (`src == dst`):
        // if it read a local (e.g. after a `local.tee` folded into the producer), the
        // producer's result is still needed and must stay.
        if let Instr::I32Eqz(Un { src, dst }) = producer {
            let prev = last
                .checked_sub(1)
                .filter(|&p| p >= self.barrier && src == dst);
            if let Some(prev) = prev {
                let mut inner = self.instrs[prev];
                let writes_src = inner.result_mut().is_some_and(|dst| *dst == src);
                if writes_src
                    && !matches!(inner, Instr::I32Eqz(_))
                    && fused_jump(&inner, false).is_some()
                {
                    self.instrs.pop();
                    return Some((inner, true));
                }
            }
        }
        Some((producer, false))
    }

    /// Emits a conditional jump on `cond` (taken when it is non-zero, or zero with
    /// `negate`), fused with `producer` (from [`take_condition`](Self::take_condition)) when
    /// there is one: compare-and-branch.
    fn emit_cond_jump(
        &mut self,
        cond: Operand,
        producer: Option<(Instr, bool)>,
        negate: bool,
    ) -> usize {
        let jump = producer
            .and_then(|(producer, inverted)| fused_jump(&producer, negate != inverted))
            .unwrap_or(if negate {
                Instr::JumpIfEqz {
                    cond: cond.reg,
                    offset: 0,
                }
            } else {
                Instr::JumpIfNez {
                    cond: cond.reg,
                    offset: 0,
                }
            });
        let jump = self.take_load_into_jump(&jump).unwrap_or(jump);
        self.emit(jump)
    }

    /// True if `reg` is a temporary no live stack position uses (its value was consumed).
    fn is_dead_temp(&self, reg: Reg) -> bool {
        reg as usize >= self.temp_base + self.stack.len()
    }

    /// The instruction emitted last, if no label has been placed since.
    fn last_in_block(&self) -> Option<Instr> {
        let last = self.instrs.len().checked_sub(1)?;
        (last >= self.barrier).then(|| self.instrs[last])
    }

    /// Removes the instruction emitted last (it was fused into the next one).
    fn drop_last(&mut self) {
        self.instrs.pop();
        self.last_result = None;
    }

    /// If `jump` tests the value the `i32.load` emitted last wrote: the load-and-branch
    /// doing both (it still writes the loaded value, which may be live: a local the
    /// program keeps it in); the load is removed.
    fn take_load_into_jump(&mut self, jump: &Instr) -> Option<Instr> {
        let Some(Instr::I32Load(load)) = self.last_in_block() else {
            return None;
        };
        let dst = load.dst;
        // The comparison's other operand; read after `dst` is written, so it may be `dst`.
        let other = |lhs: Reg, rhs: Reg| match (lhs == dst, rhs == dst) {
            (true, _) => Some(rhs),
            (false, true) => Some(lhs),
            (false, false) => None,
        };
        let offset = 0;
        let fused = match *jump {
            Instr::JumpIfNez { cond, .. } if cond == dst => Instr::JumpIfLoadNez { load, offset },
            Instr::JumpIfEqz { cond, .. } if cond == dst => Instr::JumpIfLoadEqz { load, offset },
            Instr::JumpIfI32Eq { lhs, rhs, .. } => Instr::JumpIfLoadI32Eq {
                load,
                other: other(lhs, rhs)?,
                offset,
            },
            Instr::JumpIfI32Ne { lhs, rhs, .. } => Instr::JumpIfLoadI32Ne {
                load,
                other: other(lhs, rhs)?,
                offset,
            },
            _ => return None,
        };
        self.drop_last();
        Some(fused)
    }

    /// If one of `a`/`b` (the operands of an `i32.add` just popped) is the dead result of
    /// the `i32.shl` emitted last: `a + (x << k)` in one instruction; the shift is removed.
    fn take_shl_into_add(&mut self, dst: Reg, a: Operand, b: Operand) -> Option<Instr> {
        let Some(Instr::I32Shl(Bin {
            dst: shifted,
            lhs: index,
            rhs: shift,
        })) = self.last_in_block()
        else {
            return None;
        };
        if !self.is_dead_temp(shifted) {
            return None;
        }
        let base = match (a.reg == shifted, b.reg == shifted) {
            (true, false) => b.reg,
            (false, true) => a.reg,
            _ => return None,
        };
        self.drop_last();
        Some(Instr::I32AddShl {
            dst,
            base,
            index,
            shift,
        })
    }

    /// If `value` (the value operand of an `i32.store`, just popped) is the dead result of
    /// the `i32.add` emitted last: its operands, and the add is removed.
    fn take_value_add(&mut self, value: Operand) -> Option<(Reg, Reg)> {
        let Some(Instr::I32Add(Bin { dst, lhs, rhs })) = self.last_in_block() else {
            return None;
        };
        if dst != value.reg || !self.is_dead_temp(dst) {
            return None;
        }
        self.drop_last();
        Some((lhs, rhs))
    }

    fn block_arity(&self, ty: BlockType) -> (usize, usize) {
        match ty {
            BlockType::Empty => (0, 0),
            BlockType::Value(_) => (0, 1),
            BlockType::Func(i) => {
                let t = &self.module.types[i as usize];
                (t.params().len(), t.results().len())
            }
        }
    }

    fn push_ctrl(&mut self, kind: CtrlKind, ty: BlockType) {
        let (num_params, num_results) = self.block_arity(ty);
        let height = self.stack.len().saturating_sub(num_params);
        self.ctrls.push(Ctrl {
            kind,
            height,
            num_params,
            num_results,
            exits: None,
            loop_start: 0,
            else_jump: None,
            reachable_at_entry: self.reachable,
        });
    }

    /// Copies the top `arity` operands into the label slots of `ctrl` (at its height).
    fn copy_to_label(&mut self, label_height: usize, arity: usize) {
        let top = self.stack.len() - arity;
        for i in 0..arity {
            let src = self.stack[top + i];
            let dst = self.temp(label_height + i);
            if !(src.kind == Kind::Temp && src.reg == dst) {
                self.emit(Instr::Copy { dst, src: src.reg });
            }
        }
    }

    /// Emits a branch to the label `depth` levels out: copies, then the jump.
    fn branch(&mut self, depth: u32) {
        let index = self.ctrls.len() - 1 - depth as usize;
        let (height, arity, is_loop, loop_start) = {
            let c = &self.ctrls[index];
            (
                c.height,
                c.label_arity(),
                c.kind == CtrlKind::Loop,
                c.loop_start,
            )
        };
        if self.ctrls[index].kind == CtrlKind::Function {
            self.emit_return();
            return;
        }
        self.copy_to_label(height, arity);
        let jump = self.emit(Instr::Jump { offset: 0 });
        if is_loop {
            self.patch(jump, loop_start);
        } else {
            self.add_exit(index, jump);
        }
    }

    fn emit_return(&mut self) {
        let n = self.num_results;
        match n {
            0 => {
                self.emit(Instr::Return);
            }
            1 => {
                let src = self.stack[self.stack.len() - 1].reg;
                self.emit(Instr::Return1 { src });
            }
            _ => {
                // Gather the results in their temporaries, then move them down. This is one
                // path out of possibly several (a br_if or br_table stub), so the operand
                // stack itself must not change: only slots are written, and a temporary
                // under a local or constant entry holds nothing else.
                let top = self.stack.len() - n;
                for position in top..self.stack.len() {
                    let opd = self.stack[position];
                    let dst = self.temp(position);
                    if opd.kind != Kind::Temp {
                        self.emit(Instr::Copy { dst, src: opd.reg });
                    }
                }
                let base = self.temp(top);
                self.emit(Instr::ReturnMany {
                    base,
                    count: n as u16,
                });
            }
        }
    }

    fn unreachable_from_here(&mut self) {
        let height = self.ctrls.last().map_or(0, |c| c.height);
        self.stack.truncate(height);
        self.reachable = false;
        self.last_result = None;
    }

    // ----- instructions ---------------------------------------------------------------------

    fn translate_op(&mut self, op: &Operator<'_>, at: usize) -> Result<()> {
        // Dead code is validated but not translated; only the control structure is tracked
        // so that the `end`/`else` that makes code reachable again is recognised.
        if !self.reachable {
            match op {
                Operator::Block { ty } | Operator::Loop { ty } | Operator::If { ty } => {
                    self.push_ctrl(CtrlKind::Block, *ty);
                    let c = self.ctrls.last_mut().expect("just pushed");
                    c.height = self.stack.len();
                }
                Operator::Else {} => self.op_else(),
                Operator::End {} => self.op_end(),
                _ => {}
            }
            return Ok(());
        }
        if let Some(shape) = numeric(op) {
            self.translate_numeric(op, shape)?;
            return Ok(());
        }
        match *op {
            Operator::Unreachable {} => {
                self.emit(Instr::Trap(TrapCode::Unreachable));
                self.unreachable_from_here();
            }
            Operator::Nop {} => {}
            Operator::Block { ty } => {
                self.materialize_locals();
                let (params, _) = self.block_arity(ty);
                self.materialize_top(params);
                self.push_ctrl(CtrlKind::Block, ty);
            }
            Operator::Loop { ty } => {
                self.materialize_locals();
                let (params, _) = self.block_arity(ty);
                self.materialize_top(params);
                self.push_ctrl(CtrlKind::Loop, ty);
                let start = self.label();
                self.ctrls.last_mut().expect("just pushed").loop_start = start;
            }
            Operator::If { ty } => {
                let cond = self.pop();
                let producer = self.take_condition(cond);
                self.materialize_locals();
                let (params, _) = self.block_arity(ty);
                self.materialize_top(params);
                let jump = self.emit_cond_jump(cond, producer, true);
                self.push_ctrl(CtrlKind::If, ty);
                self.ctrls.last_mut().expect("just pushed").else_jump = Some(jump);
            }
            Operator::Else {} => self.op_else(),
            Operator::End {} => self.op_end(),
            Operator::Br { relative_depth } => {
                self.branch(relative_depth);
                self.unreachable_from_here();
            }
            Operator::BrIf { relative_depth } => self.op_br_if(relative_depth),
            Operator::BrTable { ref targets } => {
                let index = self.pop();
                let depths: Vec<u32> = targets
                    .targets()
                    .chain(std::iter::once(targets.default()))
                    .collect();
                self.op_br_table(index.reg, &depths);
                self.unreachable_from_here();
            }
            Operator::Return {} => {
                self.emit_return();
                self.unreachable_from_here();
            }
            Operator::Call { function_index } => {
                let ty = self
                    .module
                    .func_type(function_index)
                    .expect("validated call target");
                let (np, nr) = (ty.params().len(), ty.results().len());
                let position = self.stack.len() - np;
                if self.inline_call(function_index, position)? {
                    for _ in 0..nr {
                        self.push_temp();
                    }
                } else {
                    self.materialize_top(np);
                    let base = self.temp(position);
                    self.stack.truncate(position);
                    let call = Instr::Call {
                        func: function_index,
                        base,
                        result: base,
                    };
                    self.emit_call(call, nr);
                }
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let index = self.pop();
                let ty = &self.module.types[type_index as usize];
                let (np, nr) = (ty.params().len(), ty.results().len());
                self.materialize_top(np);
                let base = self.temp(self.stack.len() - np);
                self.stack.truncate(self.stack.len() - np);
                let table = u16::try_from(table_index)
                    .map_err(|_| Error::invalid(at, "more than 65535 tables"))?;
                let call = Instr::CallIndirect {
                    ty: type_index,
                    index: index.reg,
                    base,
                    table,
                    result: base,
                };
                self.emit_call(call, nr);
            }
            Operator::Drop {} => {
                self.pop();
            }
            Operator::Select {} | Operator::TypedSelect { .. } => {
                let cond = self.pop();
                let b = self.pop();
                let a = self.pop();
                let dst = self.next_temp();
                self.emit_result(Instr::Select {
                    dst,
                    cond: cond.reg,
                    a: a.reg,
                    b: b.reg,
                });
            }
            Operator::LocalGet { local_index } => self.push(Kind::Local, local_index as Reg),
            Operator::LocalSet { local_index } => self.op_local_set(local_index as Reg, false),
            Operator::LocalTee { local_index } => self.op_local_set(local_index as Reg, true),
            // Global 0 has instructions of its own (see `Instr::Global0Get`).
            Operator::GlobalGet { global_index } => {
                let dst = self.next_temp();
                self.emit_result(match global_index {
                    0 => Instr::Global0Get { dst },
                    global => Instr::GlobalGet { dst, global },
                });
            }
            Operator::GlobalSet { global_index } => {
                let src = self.pop().reg;
                self.emit(match global_index {
                    0 => Instr::Global0Set { src },
                    global => Instr::GlobalSet { src, global },
                });
            }
            Operator::I32Const { .. }
            | Operator::I64Const { .. }
            | Operator::F32Const { .. }
            | Operator::F64Const { .. }
            | Operator::RefNull { .. } => {
                let bits = const_bits(op).expect("a constant");
                let k = self.constant(bits)?;
                self.push(Kind::Const, PROVISIONAL_TOP - k);
            }
            Operator::MemorySize { .. } => {
                let dst = self.next_temp();
                self.emit_result(Instr::MemorySize { dst });
            }
            Operator::MemoryGrow { .. } => {
                let delta = self.pop();
                let dst = self.next_temp();
                self.emit_result(Instr::MemoryGrow {
                    dst,
                    delta: delta.reg,
                });
            }
            Operator::MemoryFill { .. } => {
                let [dst, value, len] = self.pop3();
                self.emit(Instr::MemoryFill { dst, value, len });
            }
            Operator::MemoryCopy { .. } => {
                let [dst, src, len] = self.pop3();
                self.emit(Instr::MemoryCopy { dst, src, len });
            }
            Operator::MemoryInit { data_index, .. } => {
                let [dst, src, len] = self.pop3();
                self.emit(Instr::MemoryInit {
                    data: data_index,
                    dst,
                    src,
                    len,
                });
            }
            Operator::DataDrop { data_index } => {
                self.emit(Instr::DataDrop { data: data_index });
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let dst = self.next_temp();
                self.emit_result(Instr::TableGet {
                    dst,
                    index: index.reg,
                    table: small(table, at)?,
                });
            }
            Operator::TableSet { table } => {
                let value = self.pop();
                let index = self.pop();
                self.emit(Instr::TableSet {
                    index: index.reg,
                    value: value.reg,
                    table: small(table, at)?,
                });
            }
            Operator::TableSize { table } => {
                let dst = self.next_temp();
                self.emit_result(Instr::TableSize {
                    dst,
                    table: small(table, at)?,
                });
            }
            Operator::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let dst = self.next_temp();
                self.emit_result(Instr::TableGrow {
                    dst,
                    init: init.reg,
                    delta: delta.reg,
                    table: small(table, at)?,
                });
            }
            Operator::TableFill { table } => {
                let [index, value, len] = self.pop3();
                self.emit(Instr::TableFill {
                    index,
                    value,
                    len,
                    table: small(table, at)?,
                });
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let [dst, src, len] = self.pop3();
                self.emit(Instr::TableCopy {
                    dst,
                    src,
                    len,
                    dst_table: small(dst_table, at)?,
                    src_table: small(src_table, at)?,
                });
            }
            Operator::TableInit { elem_index, table } => {
                let [dst, src, len] = self.pop3();
                self.emit(Instr::TableInit {
                    dst,
                    src,
                    len,
                    table: small(table, at)?,
                    elem: small(elem_index, at)?,
                });
            }
            Operator::ElemDrop { elem_index } => {
                self.emit(Instr::ElemDrop { elem: elem_index });
            }
            Operator::RefIsNull {} => {
                let src = self.pop();
                let dst = self.next_temp();
                self.emit_result(Instr::RefIsNull { dst, src: src.reg });
            }
            Operator::RefFunc { function_index } => {
                let dst = self.next_temp();
                self.emit_result(Instr::RefFunc {
                    dst,
                    func: function_index,
                });
            }
            ref other => {
                return Err(Error::invalid(
                    at,
                    format!(
                        "{} cannot be executed yet (SIMD execution is not implemented)",
                        other.mnemonic()
                    ),
                ))
            }
        }
        Ok(())
    }

    fn pop3(&mut self) -> [Reg; 3] {
        let c = self.pop();
        let b = self.pop();
        let a = self.pop();
        [a.reg, b.reg, c.reg]
    }

    fn translate_numeric(&mut self, op: &Operator<'_>, shape: Shape) -> Result<()> {
        match shape {
            Shape::Un(make) => {
                let a = self.pop();
                let dst = self.next_temp();
                self.emit_result(make(dst, a.reg));
            }
            Shape::Bin(make) => {
                let b = self.pop();
                let a = self.pop();
                let dst = self.next_temp();
                let fused = match op {
                    Operator::I32Add {} => self.take_shl_into_add(dst, a, b),
                    _ => None,
                };
                self.emit_result(fused.unwrap_or_else(|| make(dst, a.reg, b.reg)));
            }
            Shape::Load(make) => {
                let addr = self.pop();
                let dst = self.next_temp();
                let offset = memarg_offset(op);
                let fused = match op {
                    Operator::I32Load { .. } | Operator::I32Load8U { .. } => {
                        self.take_address_add(addr).map(|(base, index)| {
                            if let Operator::I32Load { .. } = op {
                                Instr::I32LoadAdd {
                                    dst,
                                    base,
                                    index,
                                    offset,
                                }
                            } else {
                                Instr::I32Load8UAdd {
                                    dst,
                                    base,
                                    index,
                                    offset,
                                }
                            }
                        })
                    }
                    _ => None,
                };
                self.emit_result(fused.unwrap_or_else(|| make(dst, addr.reg, offset)));
            }
            Shape::Store(make) => {
                let value = self.pop();
                let offset = memarg_offset(op);
                if let Operator::I32Store { .. } = op {
                    if let Some((lhs, rhs)) = self.take_value_add(value) {
                        let addr = self.pop();
                        self.emit(Instr::I32AddStore {
                            addr: addr.reg,
                            lhs,
                            rhs,
                            offset,
                        });
                        return Ok(());
                    }
                }
                let addr = self.pop();
                // The add must be the last instruction: then `value` is a local or constant
                // (a computed value would have been emitted after the address).
                let fused = match op {
                    Operator::I32Store { .. } => {
                        self.take_address_add(addr)
                            .map(|(base, index)| Instr::I32StoreAdd {
                                base,
                                index,
                                value: value.reg,
                                offset,
                            })
                    }
                    _ => None,
                };
                self.emit(fused.unwrap_or_else(|| make(addr.reg, value.reg, offset)));
            }
        }
        Ok(())
    }

    fn op_local_set(&mut self, local: Reg, tee: bool) {
        if usize::from(local) < self.num_params {
            // Parameters are the first locals; from the 64th on all count as written.
            self.params_written |= 1u64.checked_shl(u32::from(local)).unwrap_or(0);
        }
        let value = self.pop();
        let needs_preserve = self
            .stack
            .iter()
            .any(|o| o.kind == Kind::Local && o.reg == local);
        if needs_preserve {
            self.preserve_local(local);
        }
        let folded = !needs_preserve && self.produced_by_last(value).is_some();
        if folded {
            let last = self.instrs.len() - 1;
            if let Some(dst) = self.instrs[last].result_mut() {
                *dst = local;
            }
        } else if !(value.kind == Kind::Local && value.reg == local) {
            self.emit(Instr::Copy {
                dst: local,
                src: value.reg,
            });
        }
        self.last_result = None;
        if tee {
            self.push(Kind::Local, local);
        }
    }

    fn op_br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let index = self.ctrls.len() - 1 - depth as usize;
        let c = &self.ctrls[index];
        let arity = c.label_arity();
        let in_place = c.kind != CtrlKind::Function && {
            let top = self.stack.len() - arity;
            (0..arity).all(|i| {
                let o = self.stack[top + i];
                o.kind == Kind::Temp && o.reg == self.temp(c.height + i)
            })
        };
        if in_place {
            let (is_loop, loop_start) = (c.kind == CtrlKind::Loop, c.loop_start);
            let producer = self.take_condition(cond);
            let jump = self.emit_cond_jump(cond, producer, false);
            if is_loop {
                self.patch(jump, loop_start);
            } else {
                self.add_exit(index, jump);
            }
        } else {
            // Skip over the copies and the jump when the condition is false.
            let producer = self.take_condition(cond);
            let skip = self.emit_cond_jump(cond, producer, true);
            self.branch(depth);
            let after = self.label();
            self.patch(skip, after);
        }
    }

    fn op_br_table(&mut self, index: Reg, depths: &[u32]) {
        let len = (depths.len() - 1) as u32;
        // An `i32.and` emitted last that computed the index: one instruction (it still
        // writes its result, which may be live).
        let table = match self.last_in_block() {
            Some(Instr::I32And(Bin { dst, lhs, rhs })) if dst == index => {
                self.drop_last();
                Instr::JumpTableAnd { dst, lhs, rhs, len }
            }
            _ => Instr::JumpTable { index, len },
        };
        let table = self.emit(table);
        let entries: Vec<usize> = depths
            .iter()
            .map(|_| self.emit(Instr::Jump { offset: 0 }))
            .collect();
        for (entry, &depth) in entries.into_iter().zip(depths) {
            let c_index = self.ctrls.len() - 1 - depth as usize;
            let c = &self.ctrls[c_index];
            let arity = c.label_arity();
            let needs_copies = c.kind == CtrlKind::Function || {
                let top = self.stack.len() - arity;
                !(0..arity).all(|i| {
                    let o = self.stack[top + i];
                    o.kind == Kind::Temp && o.reg == self.temp(c.height + i)
                })
            };
            if needs_copies {
                // A stub: copies then the jump (or the return).
                let stub = self.label();
                self.patch(entry, stub);
                self.branch(depth);
            } else if c.kind == CtrlKind::Loop {
                let start = c.loop_start;
                self.patch(entry, start);
            } else {
                self.add_exit(c_index, entry);
            }
        }
        let _ = table;
    }

    fn op_else(&mut self) {
        let c = self.ctrls.last_mut().expect("validated else has an if");
        let reachable_at_entry = c.reachable_at_entry;
        let (height, num_params, num_results) = (c.height, c.num_params, c.num_results);
        if self.reachable {
            // End of the then-branch: results into place, jump over the else-branch.
            self.copy_to_label(height, num_results);
            let jump = self.emit(Instr::Jump { offset: 0 });
            self.add_exit(self.ctrls.len() - 1, jump);
        }
        let c = self.ctrls.last_mut().expect("if");
        c.kind = CtrlKind::Else;
        let else_jump = c.else_jump.take();
        let start = self.label();
        if let Some(jump) = else_jump {
            self.patch(jump, start);
        }
        // The else-branch starts with the if's parameters in their temporaries.
        self.stack.truncate(height);
        for _ in 0..num_params {
            self.push_temp();
        }
        self.reachable = reachable_at_entry;
    }

    fn op_end(&mut self) {
        let c = self.ctrls.last().expect("validated end has a frame");
        let (kind, height, num_results) = (c.kind, c.height, c.num_results);
        if kind == CtrlKind::Function {
            if self.reachable {
                self.emit_return();
            }
            self.ctrls.pop();
            return;
        }
        if self.reachable {
            self.copy_to_label(height, num_results);
        }
        let c = self.ctrls.pop().expect("checked above");
        let end = self.label();
        let mut pending = c.exits;
        while let Some(jump) = pending {
            pending = usize::try_from(*self.offset_of(jump)).ok();
            self.patch(jump, end);
        }
        // An `if` without `else` falls through when the condition is false.
        let mut reachable = self.reachable || c.exits.is_some();
        if let Some(jump) = c.else_jump {
            self.patch(jump, end);
            reachable |= c.reachable_at_entry;
        }
        if kind == CtrlKind::Loop {
            // Branches to a loop go backwards; only the fallthrough reaches its end.
            reachable = self.reachable;
        }
        self.stack.truncate(height);
        self.reachable = reachable && c.reachable_at_entry;
        if self.reachable {
            for _ in 0..num_results {
                self.push_temp();
            }
        }
    }
}

fn memarg_offset(op: &Operator<'_>) -> u32 {
    // Offsets are read as u32 (no memory64), so this never truncates.
    op.memarg().map_or(0, |m| m.offset as u32)
}

fn small(index: u32, at: usize) -> Result<u16> {
    u16::try_from(index).map_err(|_| Error::invalid(at, "index above 65535 (an interpreter limit)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_hashes_spread_float_bit_patterns_over_buckets() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let build = BuildHasherDefault::<MixHasher>::default();
        // Small floats and powers of two: bit patterns whose low bits are all zero.
        let values: Vec<u64> = (1..=64)
            .map(|i| f64::from(i).to_bits())
            .chain((0..64).map(|i| 1u64 << i))
            .collect();
        let buckets: std::collections::HashSet<u64> =
            values.iter().map(|&v| build.hash_one(v) & 0xff).collect();
        assert!(
            buckets.len() >= 64,
            "{} of 256 buckets for 128 values",
            buckets.len()
        );
    }

    #[test]
    fn verifier_rejects_what_the_loop_cannot_check() {
        let ret = Instr::Return;
        assert!(verify(&[ret], 0).is_ok());
        assert!(verify(&[], 4).is_err(), "empty code");
        let copy = Instr::Copy { dst: 0, src: 3 };
        assert!(verify(&[copy, ret], 4).is_ok());
        assert!(
            verify(&[copy, ret], 3).is_err(),
            "slot 3 outside a 3-slot frame"
        );
        assert!(verify(&[copy], 4).is_err(), "falls off the end");
        let back = Instr::Jump { offset: -1 };
        assert!(verify(&[back], 0).is_err(), "jumps before the start");
        assert!(verify(&[ret, back], 0).is_ok());
        let table = Instr::JumpTable { index: 0, len: 1 };
        let j = Instr::Jump { offset: 0 };
        assert!(verify(&[table, j, j], 1).is_ok());
        assert!(verify(&[table, j], 1).is_err(), "table entries missing");
        let many = Instr::ReturnMany { base: 2, count: 3 };
        assert!(verify(&[many], 5).is_ok());
        assert!(verify(&[many], 4).is_err());
        let call = Instr::Call {
            func: 0,
            base: 9,
            result: 9,
        };
        assert!(verify(&[call, ret], 8).is_err(), "call base past the frame");
    }

    #[test]
    fn comparisons_feeding_branches_are_fused() {
        let text = r#"(module (func (param i32 i32) (result i32)
            (block (br_if 0 (i32.lt_s (local.get 0) (local.get 1))))
            (if (result i32) (i32.eq (local.get 0) (local.get 1))
              (then (i32.const 1)) (else (i32.const 2)))))"#;
        let (module, refs) = module_of(text);
        let code = translate(&module, &refs, 0).unwrap();
        let instrs = code.instrs();
        assert!(
            instrs
                .iter()
                .any(|i| matches!(i, Instr::JumpIfI32LtS { .. })),
            "{instrs:?}"
        );
        // `if` jumps to `else` when the condition is false: the negated comparison.
        assert!(
            instrs
                .iter()
                .any(|i| matches!(i, Instr::JumpIfI32Ne { .. })),
            "{instrs:?}"
        );
        assert!(!instrs
            .iter()
            .any(|i| matches!(i, Instr::I32LtS(_) | Instr::I32Eq(_))));
    }

    /// The decoded module of WAT `text`, with its module-level validation.
    fn module_of(text: &str) -> (Module, ModuleValidator) {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let bytes = wast::parser::parse::<wast::Wat>(&buf)
            .unwrap()
            .encode()
            .unwrap();
        let module = Module::decode(&bytes, Default::default()).unwrap();
        let refs = ModuleValidator::new(&module).unwrap();
        (module, refs)
    }

    /// The bytecode of each function of `text`.
    fn bytecode(text: &str) -> Vec<Vec<Instr>> {
        let (module, refs) = module_of(text);
        (0..module.functions.len() as u32)
            .map(|f| translate(&module, &refs, f).unwrap().instrs())
            .collect()
    }

    /// A translation reuses the buffers of the one before on its thread (`Scratch`): the
    /// result must not depend on what that was, including a translation that failed
    /// half-way and one with a much larger body.
    #[test]
    fn translations_do_not_depend_on_the_previous_one() {
        let small = r#"(module (memory 1)
            (func (param i32) (result i32) (local i32)
              (block (br_if 0 (i32.eqz (local.get 0)))
                (local.set 1 (i32.add (i32.load (local.get 0)) (i32.const 7))))
              (i32.add (local.get 1) (i32.const 7))))"#;
        let mut big_body = String::new();
        for i in 0..300 {
            big_body.push_str(&format!(
                "(block (br_if 0 (i32.eq (local.get 0) (i32.const {i}))) \
                 (local.set 1 (i32.add (local.get 1) (i32.const {})))) ",
                i * 3 + 1
            ));
        }
        let big = format!(
            "(module (func (param i32) (result i32) (local i32) {big_body} (local.get 1)))"
        );
        // Valid up to a type error deep inside nested blocks.
        let broken = r#"(module (func (result i32) (local i64)
            (block (loop (block (br_if 2 (i32.const 1)) (i64.const 1) (i32.const 2) (i32.add)
              (drop))))
            (i32.const 0)))"#;
        let (small_m, small_r) = module_of(small);
        let fresh = std::thread::scope(|s| {
            s.spawn(|| translate(&small_m, &small_r, 0).unwrap())
                .join()
                .unwrap()
        });
        let (big_m, big_r) = module_of(&big);
        let (broken_m, broken_r) = module_of(broken);
        assert!(translate(&big_m, &big_r, 0).is_ok());
        assert!(translate(&broken_m, &broken_r, 0).is_err());
        let after = translate(&small_m, &small_r, 0).unwrap();
        assert_eq!(
            format!("{:?}", fresh.instrs()),
            format!("{:?}", after.instrs())
        );
        assert_eq!(fresh.consts, after.consts);
        assert_eq!(
            (fresh.num_consts, fresh.frame_size),
            (after.num_consts, after.frame_size)
        );
    }

    /// `Py_INCREF` and `Py_DECREF` as clang compiles them become one instruction each;
    /// look-alikes that differ in what matters do not (their behaviour is checked in
    /// `spec-tests/regressions/refcount_fusions.wast`, whose functions these are).
    #[test]
    fn reference_counting_is_fused() {
        let funcs = bytecode(&regression_module("refcount_fusions.wast"));
        let count =
            |f: usize, pred: fn(&Instr) -> bool| funcs[f].iter().filter(|i| pred(i)).count();
        let incref = |i: &Instr| matches!(i, Instr::JumpIfLoadI32EqElseAddStore { .. });
        let decref = |i: &Instr| matches!(i, Instr::JumpIfLoadI32EqElseAddStoreJumpIfNez { .. });
        // Functions in order: dealloc, incref, incref8, decref, decref2, decref-two-exits,
        // incref-elsewhere, decref-into-address, decref-loop.
        for (f, increfs, decrefs) in [
            (1, 1, 0),
            (2, 1, 0),
            (3, 0, 1),
            (4, 0, 1),
            (5, 0, 0),
            (6, 0, 0),
            (7, 0, 1),
            (8, 0, 1),
        ] {
            assert_eq!(
                (count(f, incref), count(f, decref)),
                (increfs, decrefs),
                "function {f}: {:?}",
                funcs[f]
            );
        }
        // The offset stays with the fused increment.
        assert!(funcs[2]
            .iter()
            .any(|i| matches!(i, Instr::JumpIfLoadI32EqElseAddStore { offset: 8, .. })));
    }

    /// The module of regression file `name` (its first `(module ...)`, which ends where
    /// the first line starting with `(invoke`, `(assert` or `;;` after it begins).
    fn regression_module(name: &str) -> String {
        let path = format!(
            "{}/../../spec-tests/regressions/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let start = text.find("(module").unwrap();
        let end = text[start..]
            .find("\n(invoke")
            .into_iter()
            .chain(text[start..].find("\n(assert"))
            .chain(text[start..].find("\n;; "))
            .min()
            .unwrap();
        text[start..start + end].to_string()
    }

    /// The load pairs are made where `load_pairs.wast` expects them (it checks how they
    /// behave), and not for the look-alike.
    #[test]
    fn load_pairs_are_fused() {
        let funcs = bytecode(&regression_module("load_pairs.wast"));
        let has = |f: usize, pred: fn(&Instr) -> bool| funcs[f].iter().any(pred);
        let load_loadadd = |i: &Instr| matches!(i, Instr::I32LoadThenLoadAdd { .. });
        let loadadd_load = |i: &Instr| matches!(i, Instr::I32LoadAddThenLoad { .. });
        let index = |i: &Instr| matches!(i, Instr::I32AddShlThenLoadAdd { .. });
        let ne = |i: &Instr| matches!(i, Instr::JumpIfLoadAddI32Ne { .. });
        type Shape = fn(&Instr) -> bool;
        let expected: [(usize, Shape); 10] = [
            (0, load_loadadd),
            (1, load_loadadd),
            (2, loadadd_load),
            (3, loadadd_load),
            (4, index),
            (5, index),
            (7, index),
            (8, ne),
            (9, ne),
            (10, ne),
        ];
        for (f, pred) in expected {
            assert!(has(f, pred), "function {f}: {:?}", funcs[f]);
        }
        assert!(!has(6, index), "{:?}", funcs[6]);
    }

    /// The load/store pairs are made where `memory_pairs.wast` expects them.
    #[test]
    fn memory_pairs_are_fused() {
        let funcs = bytecode(&regression_module("memory_pairs.wast"));
        type Shape = fn(&Instr) -> bool;
        let load_store: Shape = |i| matches!(i, Instr::I32LoadThenStore { .. });
        let store_load: Shape = |i| matches!(i, Instr::I32StoreThenLoad { .. });
        let store_store: Shape = |i| matches!(i, Instr::I32StoreThenStore { .. });
        let load_addstore: Shape = |i| matches!(i, Instr::I32LoadThenAddStore { .. });
        let expected: [(usize, Shape); 6] = [
            (0, load_store),
            (1, load_store),
            (2, load_store),
            (3, store_load),
            (4, store_store),
            (5, load_addstore),
        ];
        for (f, shape) in expected {
            assert!(funcs[f].iter().any(shape), "function {f}: {:?}", funcs[f]);
        }
    }

    /// The value-then-branch pairs are made where `branch_pairs.wast` expects them.
    #[test]
    fn branch_pairs_are_fused() {
        let funcs = bytecode(&regression_module("branch_pairs.wast"));
        type Shape = fn(&Instr) -> bool;
        let expected: [(usize, Shape); 11] = [
            (0, |i| matches!(i, Instr::I32AndThenJumpIfEqz { .. })),
            (1, |i| matches!(i, Instr::I32AndThenJumpIfNez { .. })),
            (2, |i| matches!(i, Instr::I32AndThenJumpIfNez { .. })),
            (3, |i| matches!(i, Instr::I32AddThenJumpIfNez { .. })),
            (4, |i| matches!(i, Instr::I32Load8UThenJumpIfEqz { .. })),
            (5, |i| matches!(i, Instr::I32Load8UThenJumpIfNez { .. })),
            (6, |i| matches!(i, Instr::I32Load8UAddThenJumpIfEqz { .. })),
            (6, |i| {
                matches!(i, Instr::I32Load8UAddThenJumpIfEqz { load_offset: 1, .. })
            }),
            (7, |i| {
                matches!(
                    i,
                    Instr::I32Load8UAddThenJumpIfAndNez { load_offset: 2, .. }
                )
            }),
            (8, |i| {
                matches!(
                    i,
                    Instr::I32Load8UAddThenJumpIfAndEqz { load_offset: 2, .. }
                )
            }),
            (9, |i| matches!(i, Instr::I32AddThenJump { .. })),
        ];
        for (f, shape) in expected {
            assert!(funcs[f].iter().any(shape), "function {f}: {:?}", funcs[f]);
        }
    }

    #[test]
    fn cpython_pairs_are_fused_only_when_the_value_is_dead() {
        let funcs = bytecode(
            r#"(module (memory 1)
            (func (param i32 i32) (result i32)
              (block (br_if 0 (i32.eq (i32.load (local.get 0)) (local.get 1))) (return (i32.const 0)))
              (i32.const 1))
            (func (param i32) (result i32) (local i32)
              (block (br_if 0 (local.tee 1 (i32.load (local.get 0)))))
              (local.get 1))
            (func (param i32 i32 i32) (result i32)
              (i32.add (local.get 0) (i32.shl (local.get 1) (local.get 2))))
            (func (param i32 i32 i32) (result i32) (local i32)
              (i32.add (local.get 0) (local.tee 3 (i32.shl (local.get 1) (local.get 2)))))
            (func (param i32 i32)
              (i32.store (local.get 0) (i32.add (local.get 1) (i32.const 1)))))"#,
        );
        let has = |f: usize, pred: fn(&Instr) -> bool| funcs[f].iter().any(pred);
        assert!(
            has(0, |i| matches!(i, Instr::JumpIfLoadI32Eq { .. })),
            "{:?}",
            funcs[0]
        );
        assert!(
            !has(0, |i| matches!(i, Instr::I32Load(_))),
            "{:?}",
            funcs[0]
        );
        // The loaded value is also written to a local: fused, and the local still written.
        assert!(
            !has(1, |i| matches!(i, Instr::I32Load(_))),
            "{:?}",
            funcs[1]
        );
        assert!(
            has(1, |i| matches!(
                i,
                Instr::JumpIfLoadNez {
                    load: Load { dst: 1, .. },
                    ..
                }
            )),
            "{:?}",
            funcs[1]
        );
        assert!(
            has(2, |i| matches!(i, Instr::I32AddShl { .. })),
            "{:?}",
            funcs[2]
        );
        assert!(
            !has(3, |i| matches!(i, Instr::I32AddShl { .. })),
            "{:?}",
            funcs[3]
        );
        assert!(
            has(4, |i| matches!(i, Instr::I32AddStore { .. })),
            "{:?}",
            funcs[4]
        );
    }

    #[test]
    fn jumps_are_threaded_and_jumps_to_returns_become_returns() {
        let funcs = bytecode(
            r#"(module (func (param i32) (result i32)
              (block $out (block $mid (block (br_if $mid (local.get 0)) (br $out)))
                (return (i32.const 5)))
              (i32.const 7)))"#,
        );
        let code = &funcs[0];
        // `br $out` lands on the final return: it is that return now.
        assert!(
            !code.iter().any(|i| matches!(i, Instr::Jump { .. })),
            "{code:?}"
        );
        // No jump targets a `Jump`.
        for (at, instr) in code.iter().enumerate() {
            if let Some(&mut offset) = instr.clone().jump_offset_mut() {
                let target = &code[(at as i64 + i64::from(offset)) as usize];
                assert!(!matches!(target, Instr::Jump { .. }), "{code:?}");
            }
        }
    }

    #[test]
    fn adjacent_pairs_merge_except_across_jump_targets() {
        let funcs = bytecode(
            r#"(module (memory 1)
            (func (param i32 i32) (local i32)
              (i32.store (local.get 0) (local.get 1))
              (local.set 2 (i32.add (local.get 1) (i32.const 1))))
            (func (param i32) (local i32)
              (i32.store (i32.const 16) (i32.const 0))
              (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.const 3)))
                (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))"#,
        );
        let pair = |f: usize| {
            funcs[f]
                .iter()
                .any(|i| matches!(i, Instr::I32StoreThenAdd { .. }))
        };
        assert!(pair(0), "{:?}", funcs[0]);
        // The add starts the loop (a jump target): no pair.
        assert!(!pair(1), "{:?}", funcs[1]);
        assert!(
            funcs[1].iter().any(|i| matches!(i, Instr::I32Add(_))),
            "{:?}",
            funcs[1]
        );
    }

    #[test]
    fn stack_frame_prologues_and_epilogues_are_one_instruction_each() {
        let funcs = bytecode(
            r#"(module (memory 1)
            (global $sp (mut i32) (i32.const 1024))
            (global $other (mut i32) (i32.const 0))
            (func (param i32) (result i32) (local i32)
              (global.set $sp (local.tee 1 (i32.sub (global.get $sp) (i32.const 16))))
              (i32.store (local.get 1) (local.get 0))
              (local.set 0 (i32.load offset=4 (local.get 1)))
              (global.set $sp (i32.add (local.get 1) (i32.const 16)))
              (local.get 0))
            (func (result i32) (local i32)
              (global.set $other (i32.sub (global.get $other) (i32.const 16)))
              (global.set $sp (local.tee 0 (i32.const 8)))
              (global.get $sp)))"#,
        );
        let has = |f: usize, p: fn(&Instr) -> bool| funcs[f].iter().any(p);
        assert!(
            has(0, |i| matches!(i, Instr::Global0SubSet { .. })),
            "{:?}",
            funcs[0]
        );
        assert!(
            has(0, |i| matches!(i, Instr::I32AddThenGlobal0Set(..))),
            "{:?}",
            funcs[0]
        );
        // Another global keeps the general instructions; global 0 alone gets its forms.
        assert!(
            has(1, |i| matches!(i, Instr::GlobalGet { global: 1, .. }))
                && has(1, |i| matches!(i, Instr::GlobalSet { global: 1, .. }))
                && has(1, |i| matches!(i, Instr::Global0Set { .. }))
                && has(1, |i| matches!(i, Instr::Global0Get { .. }))
                && !has(1, |i| matches!(i, Instr::Global0SubSet { .. })),
            "{:?}",
            funcs[1]
        );
    }

    #[test]
    fn copies_before_a_jump_back_to_a_masked_table_join_it() {
        let funcs = bytecode(
            r#"(module (func (param i32) (result i32) (local i32 i32 i32)
              (loop $d
                (block $b (block $a
                  (br_table $a $b (i32.and (local.get 0) (i32.const 1))))
                  (local.set 1 (i32.add (local.get 0) (i32.const 1)))
                  (local.set 0 (local.get 1))
                  (br $d))
                (local.set 1 (i32.add (local.get 0) (i32.const 3)))
                (local.set 2 (local.get 0))
                (local.set 0 (local.get 1))
                (br_if $d (i32.lt_u (local.get 0) (i32.const 100))))
              (local.get 2)))"#,
        );
        let code = &funcs[0];
        assert!(
            code.iter()
                .any(|i| matches!(i, Instr::CopyThenJumpToTableAnd { .. })),
            "{code:?}"
        );
        let code = bytecode(
            r#"(module (func (param i32) (result i32) (local i32 i32)
              (loop $d
                (block $b (block $a
                  (br_table $a $b (i32.and (local.get 0) (i32.const 1))))
                  (local.set 1 (i32.add (local.get 0) (i32.const 1)))
                  (local.set 2 (local.get 0))
                  (local.set 0 (local.get 1))
                  (br $d)))
              (local.get 2)))"#,
        );
        assert!(
            code[0]
                .iter()
                .any(|i| matches!(i, Instr::Copy2ThenJumpToTableAnd { .. })),
            "{:?}",
            code[0]
        );
    }

    #[test]
    fn an_instruction_fetch_before_a_jump_back_to_a_masked_table_joins_it() {
        let funcs = bytecode(
            r#"(module (memory 1) (func (param i32) (result i32) (local i32 i32)
              (loop $d
                (block $b (block $a
                  (br_table $a $b (i32.and (local.get 1) (i32.const 255))))
                  (local.set 0 (i32.add (local.get 0) (i32.const 2)))
                  (local.set 1 (i32.load16_u offset=4 (local.get 0)))
                  (local.set 2 (i32.shr_u (local.get 1) (i32.const 8)))
                  (br $d)))
              (local.get 2)))"#,
        );
        let code = &funcs[0];
        assert!(
            code.iter().any(|i| matches!(
                i,
                Instr::I32Load16UShrUThenJumpToTableAnd {
                    dst: 1,
                    addr: 0,
                    arg: 2,
                    offset: 4,
                    ..
                }
            )),
            "{code:?}"
        );
    }

    #[test]
    fn a_local_set_of_a_call_result_is_the_calls_result_slot() {
        let funcs = bytecode(
            r#"(module
            (type $ii (func (param i32) (result i32)))
            (table 1 funcref)
            (func (param i32) (result i32) (local i32)
              (local.set 1 (call 1 (local.get 0)))
              (local.set 1 (call_indirect (type $ii) (local.get 1) (i32.const 0)))
              (call 2 (local.get 1))
              (local.set 0)
              (local.set 1)
              (i32.add (local.get 0) (local.get 1)))
            (func (param i32) (result i32)
              (i32.add (i32.add (local.get 0) (local.get 0)) (i32.const 1)))
            (func (param i32) (result i32 i32) (local.get 0) (local.get 0)))"#,
        );
        let code = &funcs[0];
        assert!(
            code.iter()
                .any(|i| matches!(i, Instr::CopyThenCall { result: 1, .. })
                    || matches!(i, Instr::Call { result: 1, .. })),
            "{code:?}"
        );
        assert!(
            code.iter()
                .any(|i| matches!(i, Instr::CallIndirect { result: 1, .. })),
            "{code:?}"
        );
        // Two results come back from the base, and are copied from there.
        assert!(
            code.iter().any(|i| matches!(
                i,
                Instr::Call { func: 2, base, result, .. } if base == result
            ) || matches!(
                i,
                Instr::CopyThenCall { func: 2, base, result, .. } if base == result
            )),
            "{code:?}"
        );
    }

    #[test]
    fn a_jump_back_to_a_masked_jump_table_runs_the_table() {
        let funcs = bytecode(
            r#"(module (func (param i32) (result i32) (local i32)
              (loop $d
                (block $b (block $a
                  (br_table $a $b (i32.and (local.get 0) (i32.const 1))))
                  (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                  (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                  (br $d)))
              (local.get 1)))"#,
        );
        let code = &funcs[0];
        assert!(
            code.iter().any(|i| matches!(i, Instr::JumpTableAnd { .. })),
            "{code:?}"
        );
        assert!(
            code.iter()
                .any(|i| matches!(i, Instr::JumpToTableAnd { .. })),
            "{code:?}"
        );
    }
}
