//! The register bytecode the interpreter executes.
//!
//! A function's frame is a window of 64-bit slots on the value stack:
//!
//! ```text
//! fp → [ params | declared locals | constants | temporaries (operand stack) ]
//! ```
//!
//! Every instruction operand is a slot index ([`Reg`]) relative to the frame pointer. Wasm
//! locals and constants are slots like any other, so `local.get`, `i32.const` and friends
//! emit nothing: the consuming instruction reads the local's or the constant's slot directly.
//! Constants are copied into the frame when it is entered (a pre-scan of the body collects
//! them, de-duplicated), together with zeroing the declared locals.
//!
//! The numeric and memory instructions are generated from the operator table
//! ([`wasmi_py_decode::for_each_operator!`]): each row typed `sig(a -> b)` becomes a
//! [`Un`] instruction, each `sig(a b -> c)` a [`Bin`] one, each load/store a [`Load`] or
//! [`Store`], under the same variant name. SIMD rows are not executable yet and generate
//! nothing. Control flow, calls, tables, globals and bulk memory are the hand-written
//! variants at the end of the enum.

use crate::trap::TrapCode;

/// A frame slot index, relative to the frame pointer.
pub type Reg = u16;

/// A module entity an instruction names (see [`Instr::for_each_entity`]): the interpreter
/// looks each up in the instance's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A function (imported or defined), by module index.
    Func(u32),
    Global(u32),
    Table(u16),
    /// A function type, by module type index.
    Type(u32),
    /// An element segment.
    Elem(u32),
    /// A data segment.
    Data(u32),
    /// Memory 0 (loads and stores do not count: without a memory they trap on the
    /// bounds check).
    Memory,
}

/// What a slot field of an instruction is (see [`Instr::visit_regs_mut`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegUse {
    /// A slot the instruction reads or writes.
    Slot,
    /// The first of `count` consecutive slots (`ReturnMany`).
    ReturnRange(u16),
    /// Where a callee's frame starts: the caller's slot of its first argument, not a slot
    /// the call itself accesses.
    CallBase,
    /// Where a call's single result is returned to (`Frame::ret`). For a call without
    /// exactly one result it is the base, and nothing is written there.
    CallResult,
}

/// Operands of a unary numeric instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Un {
    pub dst: Reg,
    pub src: Reg,
}

/// Operands of a binary numeric instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bin {
    pub dst: Reg,
    pub lhs: Reg,
    pub rhs: Reg,
}

/// Operands of a load: `dst = mem[addr + offset]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub dst: Reg,
    pub addr: Reg,
    pub offset: u32,
}

/// Operands of a store: `mem[addr + offset] = value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Store {
    pub addr: Reg,
    pub value: Reg,
    pub offset: u32,
}

/// Builds the [`Instr`] enum: rows of the operator table with a generated shape, then the
/// hand-written instructions. A tt-muncher, because only some rows become variants.
macro_rules! define_instr {
    // SIMD rows are decoded and validated but not executed yet.
    (@munch [$($acc:tt)*] simd [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal $kind:ident $args:tt ; $($rest:tt)*) => {
        define_instr!(@munch [$($acc)*] $($rest)*);
    };
    (@munch [$($acc:tt)*] $feat:ident [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal sig ($a:ident -> $r:ident) ; $($rest:tt)*) => {
        define_instr!(@munch [$($acc)* ($name Un $mnem)] $($rest)*);
    };
    (@munch [$($acc:tt)*] $feat:ident [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal sig ($a:ident $b:ident -> $r:ident) ; $($rest:tt)*) => {
        define_instr!(@munch [$($acc)* ($name Bin $mnem)] $($rest)*);
    };
    (@munch [$($acc:tt)*] $feat:ident [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal load $args:tt ; $($rest:tt)*) => {
        define_instr!(@munch [$($acc)* ($name Load $mnem)] $($rest)*);
    };
    (@munch [$($acc:tt)*] $feat:ident [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal store $args:tt ; $($rest:tt)*) => {
        define_instr!(@munch [$($acc)* ($name Store $mnem)] $($rest)*);
    };
    // Everything else (control, constants, `nop`, specials) is translated by hand.
    (@munch [$($acc:tt)*] $feat:ident [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal $kind:ident $args:tt ; $($rest:tt)*) => {
        define_instr!(@munch [$($acc)*] $($rest)*);
    };
    (@munch [$( ($name:ident $shape:ident $mnem:literal) )*]) => {
        define_instr!(@define [$( ($name $shape $mnem) )*] {
            // ----- hand-written instructions -----
            /// Stop with a trap.
            Trap(TrapCode),
            /// `dst = src`.
            Copy { dst: Reg, src: Reg },
            /// `dst0 = src0; dst1 = src1` (in that order): two adjacent copies in one dispatch
            /// (call arguments and branch values come in runs).
            Copy2 { dst0: Reg, src0: Reg, dst1: Reg, src1: Reg },
            /// `dst = load32(base + index + offset)`: `i32.add` feeding `i32.load` (compiled
            /// C indexes memory this way: the most frequent pair in CPython).
            I32LoadAdd { dst: Reg, base: Reg, index: Reg, offset: u32 },
            /// `dst = load8_u(base + index + offset)`.
            I32Load8UAdd { dst: Reg, base: Reg, index: Reg, offset: u32 },
            /// `store32(base + index + offset, value)`.
            I32StoreAdd { base: Reg, index: Reg, value: Reg, offset: u32 },
            /// `store32(addr + offset, lhs + rhs)`: an `i32.add` whose result is the value
            /// stored (reference counting: `ob_refcnt = ob_refcnt + 1`).
            I32AddStore { addr: Reg, lhs: Reg, rhs: Reg, offset: u32 },
            /// `dst = base + (index << (shift & 31))`: an `i32.shl` feeding an `i32.add`
            /// (array indexing).
            I32AddShl { dst: Reg, base: Reg, index: Reg, shift: Reg },
            /// Load-and-branch: `dst = load32(addr + mem_offset)`, then jump if `dst` is
            /// (`Eq`) or is not (`Ne`) equal to `other` (read after `dst` is written), is not
            /// zero (`Nez`), is zero (`Eqz`). An `i32.load` feeding a branch: CPython's
            /// immortality check in `Py_INCREF`/`Py_DECREF` (which keeps the loaded count in
            /// a local for the increment), type and flag tests.
            JumpIfLoadI32Eq { load: Load, other: Reg, offset: i32 },
            JumpIfLoadI32Ne { load: Load, other: Reg, offset: i32 },
            JumpIfLoadNez { load: Load, offset: i32 },
            JumpIfLoadEqz { load: Load, offset: i32 },
            // ----- sequences: two adjacent instructions in one dispatch (`translate::fuse_pairs`),
            // executed in order; the second is never a jump target. The operands are those
            // of the two instructions. -----
            /// `i32.store` then `i32.add`.
            I32StoreThenAdd(Store, Bin),
            /// `i32.add` then `i32.add`.
            I32AddThenAdd(Bin, Bin),
            /// `i32.add` then `i32.load` (the address may be the sum: `local.tee`d pointers).
            I32AddThenLoad(Bin, Load),
            /// `i32.add` then `i32.load16_u`.
            I32AddThenLoad16U(Bin, Load),
            /// `i32.load16_u` then `i32.shr_u` (CPython's eval loop: a code unit, then its
            /// argument byte).
            I32Load16UThenShrU(Load, Bin),
            /// `i32.load` then `i32.load`, both with offsets below 2^16 (pointer chasing).
            I32LoadThenLoad { dst0: Reg, addr0: Reg, dst1: Reg, addr1: Reg, offset0: u16, offset1: u16 },
            /// [`Instr::I32Load`] then [`Instr::I32LoadAdd`], offsets below 2^16.
            I32LoadThenLoadAdd { dst0: Reg, addr0: Reg, dst1: Reg, base1: Reg, index1: Reg, offset0: u16, offset1: u16 },
            /// [`Instr::I32LoadAdd`] then [`Instr::I32Load`], offsets below 2^16.
            I32LoadAddThenLoad { dst0: Reg, base0: Reg, index0: Reg, dst1: Reg, addr1: Reg, offset0: u16, offset1: u16 },
            /// [`Instr::I32AddShl`] then [`Instr::I32LoadAdd`] of its sum plus `other`
            /// (array indexing: `frame->localsplus[oparg]`): `dst0 = base0 + (index0 <<
            /// (shift & 31))`, then `dst1 = load32(dst0 + other + offset)`.
            I32AddShlThenLoadAdd { dst0: Reg, base0: Reg, index0: Reg, shift: Reg, dst1: Reg, other: Reg, offset: u16 },
            /// [`Instr::I32LoadAdd`] then [`Instr::JumpIfI32Ne`] of the loaded value and
            /// `other` (read after the load is written).
            JumpIfLoadAddI32Ne { dst: Reg, base: Reg, index: Reg, other: Reg, offset: u16, jump: i32 },
            /// `i32.load` then `i32.store`, offsets below 2^16 (copying a field).
            I32LoadThenStore { dst: Reg, addr0: Reg, addr1: Reg, value: Reg, offset0: u16, offset1: u16 },
            /// `i32.store` then `i32.load`, offsets below 2^16 (the load sees the store).
            I32StoreThenLoad { addr0: Reg, value: Reg, dst: Reg, addr1: Reg, offset0: u16, offset1: u16 },
            /// `i32.store` then `i32.store`, offsets below 2^16 (initialising fields).
            I32StoreThenStore { addr0: Reg, value0: Reg, addr1: Reg, value1: Reg, offset0: u16, offset1: u16 },
            /// `i32.load` then [`Instr::I32AddStore`], offsets below 2^16.
            I32LoadThenAddStore { dst: Reg, addr0: Reg, addr1: Reg, lhs: Reg, rhs: Reg, offset0: u16, offset1: u16 },
            /// `i32.add` then `i32.store` (the sum kept in a local).
            I32AddThenStore(Bin, Store),
            /// `i32.store` then [`Instr::JumpIfNez`].
            I32StoreThenJumpIfNez { store: Store, cond: Reg, offset: i32 },
            /// [`Instr::I32Load8UAdd`] (offset below 2^16) then [`Instr::JumpIfI32AndEqz`]
            /// of the loaded byte and `mask` (a flag byte tested: type flags, ctype tables).
            I32Load8UAddThenJumpIfAndEqz { dst: Reg, base: Reg, index: Reg, mask: Reg, load_offset: u16, offset: i32 },
            /// [`Instr::I32Load8UAdd`] then [`Instr::JumpIfI32AndNez`] (as above).
            I32Load8UAddThenJumpIfAndNez { dst: Reg, base: Reg, index: Reg, mask: Reg, load_offset: u16, offset: i32 },
            /// `i32.add` then [`Instr::Jump`] (a block's result computed at its end).
            I32AddThenJump { add: Bin, offset: i32 },
            /// `i32.and` then [`Instr::JumpIfEqz`] (flag tests whose result is kept).
            I32AndThenJumpIfEqz { and: Bin, cond: Reg, offset: i32 },
            /// `i32.and` then [`Instr::JumpIfNez`].
            I32AndThenJumpIfNez { and: Bin, cond: Reg, offset: i32 },
            /// `i32.add` then [`Instr::JumpIfNez`].
            I32AddThenJumpIfNez { add: Bin, cond: Reg, offset: i32 },
            /// `i32.load8_u` then [`Instr::JumpIfEqz`] (C strings: the terminating NUL).
            I32Load8UThenJumpIfEqz { load: Load, cond: Reg, offset: i32 },
            /// `i32.load8_u` then [`Instr::JumpIfNez`].
            I32Load8UThenJumpIfNez { load: Load, cond: Reg, offset: i32 },
            /// [`Instr::I32Load8UAdd`] (offset below 2^16) then [`Instr::JumpIfEqz`].
            I32Load8UAddThenJumpIfEqz { dst: Reg, base: Reg, index: Reg, cond: Reg, load_offset: u16, offset: i32 },
            /// [`Instr::JumpIfLoadI32Eq`], then, not jumping, [`Instr::I32AddStore`] of the
            /// loaded value to where it was loaded from: CPython's `Py_INCREF` (skip an
            /// immortal object, else count up). `dst = load32(addr + offset)`; jump if
            /// `dst == other`; else `store32(addr + offset, dst + rhs)`.
            JumpIfLoadI32EqElseAddStore { dst: Reg, addr: Reg, other: Reg, rhs: Reg, offset: u16, jump: i32 },
            /// [`Instr::JumpIfLoadI32Eq`] at offset 0, then, not jumping, `i32.add` of the
            /// loaded value, `i32.store` of the sum where it was loaded from and
            /// [`Instr::JumpIfNez`] of the sum to the same target: CPython's `Py_DECREF`
            /// (skip an immortal object, else count down and skip unless it was the last
            /// reference). `dst = load32(addr)`; jump if `dst == other`; else
            /// `sum = dst + rhs`, `store32(addr, sum)`, jump if `sum != 0`.
            JumpIfLoadI32EqElseAddStoreJumpIfNez { dst: Reg, addr: Reg, other: Reg, sum: Reg, rhs: Reg, jump: i32 },
            /// [`Instr::Jump`] to a [`Instr::JumpTableAnd`], executed in the same dispatch
            /// (the end of every opcode in CPython's eval loop jumps back to its dispatch).
            JumpToTableAnd { offset: i32 },
            /// [`Instr::Copy`] then [`Instr::Jump`] (block results).
            CopyThenJump { dst: Reg, src: Reg, offset: i32 },
            /// [`Instr::Copy`] then [`Instr::JumpToTableAnd`] (CPython's eval loop: the
            /// next instruction's pointer moved to the loop's variable, then the dispatch).
            CopyThenJumpToTableAnd { dst: Reg, src: Reg, offset: i32 },
            /// `i32.load16_u`, `i32.shr_u` of the loaded value, then
            /// [`Instr::JumpToTableAnd`]: CPython's eval loop fetching the next code unit,
            /// taking its argument byte and dispatching on its opcode, in one dispatch.
            /// `dst = load16_u(addr + offset)`, `arg = dst >> (shift & 31)`.
            I32Load16UShrUThenJumpToTableAnd { dst: Reg, addr: Reg, arg: Reg, shift: Reg, offset: u16, jump: i32 },
            /// [`Instr::Copy2`] then [`Instr::JumpToTableAnd`].
            Copy2ThenJumpToTableAnd { dst0: Reg, src0: Reg, dst1: Reg, src1: Reg, offset: i32 },
            /// [`Instr::Copy`] then [`Instr::Call`] (the last argument).
            CopyThenCall { dst: Reg, src: Reg, base: Reg, func: u32, result: Reg },
            /// [`Instr::Copy2`] then [`Instr::Call`] of one of the first 65,536 functions
            /// (16 bytes leave room for a 16-bit index only).
            Copy2ThenCall { dst0: Reg, src0: Reg, dst1: Reg, src1: Reg, base: Reg, result: Reg, func: u16 },
            /// Unconditional jump by `offset` instructions (relative to this one).
            Jump { offset: i32 },
            /// Jump if `cond` (i32) is not zero.
            JumpIfNez { cond: Reg, offset: i32 },
            /// Jump if `cond` (i32) is zero.
            JumpIfEqz { cond: Reg, offset: i32 },
            /// Fused compare-and-branch: jump if `lhs <op> rhs` (i32; `S`/`U` signedness).
            JumpIfI32Eq { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32Ne { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32LtS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32LtU { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32GtS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32GtU { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32LeS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32LeU { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32GeS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32GeU { lhs: Reg, rhs: Reg, offset: i32 },
            /// Fused test-and-branch: jump if `lhs & rhs` is not zero (or, `Eqz`, zero).
            JumpIfI32AndNez { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI32AndEqz { lhs: Reg, rhs: Reg, offset: i32 },
            /// Fused compare-and-branch on i64 operands.
            JumpIfI64Eq { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64Ne { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64LtS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64LtU { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64GtS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64GtU { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64LeS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64LeU { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64GeS { lhs: Reg, rhs: Reg, offset: i32 },
            JumpIfI64GeU { lhs: Reg, rhs: Reg, offset: i32 },
            /// Jump to entry `min(index, len)` of the `len + 1` [`Instr::Jump`]s that follow.
            JumpTable { index: Reg, len: u32 },
            /// `dst = lhs & rhs`, then [`Instr::JumpTable`] on `dst`: the masked opcode
            /// CPython's interpreter loop dispatches on.
            JumpTableAnd { dst: Reg, lhs: Reg, rhs: Reg, len: u32 },
            /// Return with no results.
            Return,
            /// Return one result: `fp[0] = fp[src]`.
            Return1 { src: Reg },
            /// Return `count` results: `fp[0..count] = fp[base..base + count]`.
            ReturnMany { base: Reg, count: u16 },
            /// Call function `func` (module function index); arguments at `fp[base..]`, results
            /// are written back from `fp[base]` on, except that a single result goes to
            /// `fp[result]` (the translator folds a `local.set` of it there; otherwise it is
            /// `base`).
            Call { func: u32, base: Reg, result: Reg },
            /// Call through table `table` with the function index in `index`, checking the
            /// callee's signature against the module type `ty`. A single result goes to
            /// `fp[result]`, as for [`Instr::Call`].
            CallIndirect { ty: u32, index: Reg, base: Reg, table: u16, result: Reg },
            /// `dst = cond != 0 ? a : b`.
            Select { dst: Reg, cond: Reg, a: Reg, b: Reg },
            /// `dst = global[global]`.
            GlobalGet { dst: Reg, global: u32 },
            /// `dst = global[0]`. Global 0 of C compiled to wasm is the shadow stack pointer,
            /// read and written by the prologue and epilogue of every function with a stack
            /// frame: the interpreter keeps its address at hand (see `Cx::g0`).
            Global0Get { dst: Reg },
            /// `global[0] = src`.
            Global0Set { src: Reg },
            /// `tmp = global[0]; dst = tmp - rhs; global[0] = dst` (i32): `global.get 0`,
            /// `i32.sub`, `global.set 0` in one dispatch, the prologue allocating a stack
            /// frame.
            Global0SubSet { tmp: Reg, dst: Reg, rhs: Reg },
            /// `i32.add` then `global[0] = src`: the epilogue freeing a stack frame.
            I32AddThenGlobal0Set(Bin, Reg),
            /// `global[global] = src`.
            GlobalSet { src: Reg, global: u32 },
            /// `dst = memory.size`.
            MemorySize { dst: Reg },
            /// `dst = memory.grow(delta)`.
            MemoryGrow { dst: Reg, delta: Reg },
            /// `memory.fill(dst, value, len)`.
            MemoryFill { dst: Reg, value: Reg, len: Reg },
            /// `memory.copy(dst, src, len)`.
            MemoryCopy { dst: Reg, src: Reg, len: Reg },
            /// `memory.init(data, dst, src, len)`.
            MemoryInit { data: u32, dst: Reg, src: Reg, len: Reg },
            /// `data.drop(data)`.
            DataDrop { data: u32 },
            /// `dst = table[table][index]`.
            TableGet { dst: Reg, index: Reg, table: u16 },
            /// `table[table][index] = value`.
            TableSet { index: Reg, value: Reg, table: u16 },
            /// `dst = table.size`.
            TableSize { dst: Reg, table: u16 },
            /// `dst = table.grow(init, delta)`.
            TableGrow { dst: Reg, init: Reg, delta: Reg, table: u16 },
            /// `table.fill(index, value, len)`.
            TableFill { index: Reg, value: Reg, len: Reg, table: u16 },
            /// `table.copy(dst, src, len)`.
            TableCopy { dst: Reg, src: Reg, len: Reg, dst_table: u16, src_table: u16 },
            /// `table.init(elem, dst, src, len)`.
            TableInit { dst: Reg, src: Reg, len: Reg, table: u16, elem: u16 },
            /// `elem.drop(elem)`.
            ElemDrop { elem: u32 },
            /// `dst = ref.func func`.
            RefFunc { dst: Reg, func: u32 },
            /// `dst = (src == null)`.
            RefIsNull { dst: Reg, src: Reg },
        });
    };
    // The enum and what is derived from its variant list: the generated rows, then the
    // hand-written variants (tuple, struct or unit).
    (@define [$( ($name:ident $shape:ident $mnem:literal) )*] {
        $( $(#[$hmeta:meta])* $hname:ident $( ( $($tty:ty),+ ) )? $( { $($fname:ident : $fty:ty),+ $(,)? } )? ),+ $(,)?
    }) => {
        /// One bytecode instruction.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Instr {
            $(
                #[doc = $mnem]
                $name($shape),
            )*
            $(
                $(#[$hmeta])*
                $hname $( ( $($tty),+ ) )? $( { $($fname : $fty),+ } )?,
            )+
        }

        impl Instr {
            /// The variant's name (reports of dispatch counts: `crate::op_stats`).
            #[cfg(feature = "op-stats")]
            pub(crate) fn kind_name(&self) -> &'static str {
                match self {
                    $( Self::$name(_) => stringify!($name), )*
                    $( Self::$hname { .. } => stringify!($hname), )+
                }
            }

            /// The slot an instruction writes its single result to, if it has one that may be
            /// redirected (the translator folds a following `local.set` into it).
            pub fn result_mut(&mut self) -> Option<&mut Reg> {
                match self {
                    $( Self::$name(ops) => define_instr!(@dst $shape ops), )*
                    Self::Copy { dst, .. }
                    | Self::I32LoadAdd { dst, .. }
                    | Self::I32Load8UAdd { dst, .. }
                    | Self::I32AddShl { dst, .. }
                    | Self::Select { dst, .. }
                    | Self::GlobalGet { dst, .. }
                    | Self::Global0Get { dst }
                    | Self::Call { result: dst, .. }
                    | Self::CallIndirect { result: dst, .. }
                    | Self::MemorySize { dst }
                    | Self::MemoryGrow { dst, .. }
                    | Self::TableGet { dst, .. }
                    | Self::TableSize { dst, .. }
                    | Self::TableGrow { dst, .. }
                    | Self::RefFunc { dst, .. }
                    | Self::RefIsNull { dst, .. } => Some(dst),
                    _ => None,
                }
            }

            /// Calls `f` with every slot field of the instruction and what it is (see
            /// [`RegUse`]): the one list of where instructions name slots, for the verifier
            /// ([`for_each_reg`](Self::for_each_reg)) and for the translator's final slot
            /// layout.
            #[inline(always)] // see `translate::check_instr`
            pub fn visit_regs_mut(&mut self, mut f: impl FnMut(RegUse, &mut Reg)) {
                use RegUse::Slot;
                match self {
                    $( Self::$name(ops) => define_instr!(@regs $shape ops f), )*
                    Self::Trap(_)
                    | Self::Jump { .. }
                    | Self::Return
                    | Self::DataDrop { .. }
                    | Self::ElemDrop { .. } => {}
                    Self::Call { base, result, .. } => {
                        f(RegUse::CallBase, base);
                        f(RegUse::CallResult, result);
                    }
                    Self::Copy { dst, src } => {
                        f(Slot, dst);
                        f(Slot, src);
                    }
                    Self::Copy2 { dst0, src0, dst1, src1 } => {
                        f(Slot, dst0);
                        f(Slot, src0);
                        f(Slot, dst1);
                        f(Slot, src1);
                    }
                    Self::I32LoadAdd { dst, base, index, .. }
                    | Self::I32Load8UAdd { dst, base, index, .. }
                    | Self::I32StoreAdd { base, index, value: dst, .. } => {
                        f(Slot, dst);
                        f(Slot, base);
                        f(Slot, index);
                    }
                    Self::JumpIfNez { cond, .. } | Self::JumpIfEqz { cond, .. } => f(Slot, cond),
                    Self::I32StoreThenAdd(st, add) => {
                        define_instr!(@regs Store st f);
                        define_instr!(@regs Bin add f);
                    }
                    Self::I32AddThenLoad(add, ld) | Self::I32AddThenLoad16U(add, ld) => {
                        define_instr!(@regs Bin add f);
                        define_instr!(@regs Load ld f);
                    }
                    Self::I32Load16UThenShrU(ld, shr) => {
                        define_instr!(@regs Load ld f);
                        define_instr!(@regs Bin shr f);
                    }
                    Self::I32AddThenAdd(a, b) => {
                        define_instr!(@regs Bin a f);
                        define_instr!(@regs Bin b f);
                    }
                    Self::I32LoadThenLoad { dst0, addr0, dst1, addr1, .. } => {
                        f(Slot, dst0);
                        f(Slot, addr0);
                        f(Slot, dst1);
                        f(Slot, addr1);
                    }
                    Self::I32AddThenStore(add, st) => {
                        define_instr!(@regs Bin add f);
                        define_instr!(@regs Store st f);
                    }
                    Self::I32LoadThenStore { dst, addr0, addr1, value, .. }
                    | Self::I32StoreThenLoad { addr0, value, dst, addr1, .. } => {
                        f(Slot, dst);
                        f(Slot, addr0);
                        f(Slot, addr1);
                        f(Slot, value);
                    }
                    Self::I32StoreThenStore { addr0, value0, addr1, value1, .. } => {
                        f(Slot, addr0);
                        f(Slot, value0);
                        f(Slot, addr1);
                        f(Slot, value1);
                    }
                    Self::I32LoadThenAddStore { dst, addr0, addr1, lhs, rhs, .. } => {
                        f(Slot, dst);
                        f(Slot, addr0);
                        f(Slot, addr1);
                        f(Slot, lhs);
                        f(Slot, rhs);
                    }
                    Self::I32LoadThenLoadAdd { dst0, addr0, dst1, base1, index1, .. } => {
                        f(Slot, dst0);
                        f(Slot, addr0);
                        f(Slot, dst1);
                        f(Slot, base1);
                        f(Slot, index1);
                    }
                    Self::I32LoadAddThenLoad { dst0, base0, index0, dst1, addr1, .. } => {
                        f(Slot, dst0);
                        f(Slot, base0);
                        f(Slot, index0);
                        f(Slot, dst1);
                        f(Slot, addr1);
                    }
                    Self::I32AddShlThenLoadAdd { dst0, base0, index0, shift, dst1, other, .. } => {
                        f(Slot, dst0);
                        f(Slot, base0);
                        f(Slot, index0);
                        f(Slot, shift);
                        f(Slot, dst1);
                        f(Slot, other);
                    }
                    Self::JumpIfLoadAddI32Ne { dst, base, index, other, .. } => {
                        f(Slot, dst);
                        f(Slot, base);
                        f(Slot, index);
                        f(Slot, other);
                    }
                    Self::I32StoreThenJumpIfNez { store, cond, .. } => {
                        define_instr!(@regs Store store f);
                        f(Slot, cond);
                    }
                    Self::I32AndThenJumpIfEqz { and: bin, cond, .. }
                    | Self::I32AndThenJumpIfNez { and: bin, cond, .. }
                    | Self::I32AddThenJumpIfNez { add: bin, cond, .. } => {
                        define_instr!(@regs Bin bin f);
                        f(Slot, cond);
                    }
                    Self::I32Load8UThenJumpIfEqz { load, cond, .. }
                    | Self::I32Load8UThenJumpIfNez { load, cond, .. } => {
                        define_instr!(@regs Load load f);
                        f(Slot, cond);
                    }
                    Self::I32Load8UAddThenJumpIfAndEqz { dst, base, index, mask, .. }
                    | Self::I32Load8UAddThenJumpIfAndNez { dst, base, index, mask, .. } => {
                        f(Slot, dst);
                        f(Slot, base);
                        f(Slot, index);
                        f(Slot, mask);
                    }
                    Self::I32AddThenJump { add, .. } => define_instr!(@regs Bin add f),
                    Self::I32Load8UAddThenJumpIfEqz { dst, base, index, cond, .. } => {
                        f(Slot, dst);
                        f(Slot, base);
                        f(Slot, index);
                        f(Slot, cond);
                    }
                    Self::JumpIfLoadI32EqElseAddStore { dst, addr, other, rhs, .. } => {
                        f(Slot, dst);
                        f(Slot, addr);
                        f(Slot, other);
                        f(Slot, rhs);
                    }
                    Self::JumpIfLoadI32EqElseAddStoreJumpIfNez { dst, addr, other, sum, rhs, .. } => {
                        f(Slot, dst);
                        f(Slot, addr);
                        f(Slot, other);
                        f(Slot, sum);
                        f(Slot, rhs);
                    }
                    Self::JumpToTableAnd { .. } => {}
                    Self::CopyThenJump { dst, src, .. }
                    | Self::CopyThenJumpToTableAnd { dst, src, .. } => {
                        f(Slot, dst);
                        f(Slot, src);
                    }
                    Self::CopyThenCall { dst, src, base, result, .. } => {
                        f(Slot, dst);
                        f(Slot, src);
                        f(RegUse::CallBase, base);
                        f(RegUse::CallResult, result);
                    }
                    Self::Copy2ThenJumpToTableAnd { dst0, src0, dst1, src1, .. } => {
                        f(Slot, dst0);
                        f(Slot, src0);
                        f(Slot, dst1);
                        f(Slot, src1);
                    }
                    Self::I32Load16UShrUThenJumpToTableAnd { dst, addr, arg, shift, .. } => {
                        f(Slot, dst);
                        f(Slot, addr);
                        f(Slot, arg);
                        f(Slot, shift);
                    }
                    Self::Global0Get { dst } => f(Slot, dst),
                    Self::Global0Set { src } => f(Slot, src),
                    Self::Global0SubSet { tmp, dst, rhs } => {
                        f(Slot, tmp);
                        f(Slot, dst);
                        f(Slot, rhs);
                    }
                    Self::I32AddThenGlobal0Set(add, src) => {
                        define_instr!(@regs Bin add f);
                        f(Slot, src);
                    }
                    Self::Copy2ThenCall { dst0, src0, dst1, src1, base, result, .. } => {
                        f(Slot, dst0);
                        f(Slot, src0);
                        f(Slot, dst1);
                        f(Slot, src1);
                        f(RegUse::CallBase, base);
                        f(RegUse::CallResult, result);
                    }
                    Self::I32AddStore { addr, lhs, rhs, .. } => {
                        f(Slot, addr);
                        f(Slot, lhs);
                        f(Slot, rhs);
                    }
                    Self::I32AddShl { dst, base, index, shift } => {
                        f(Slot, dst);
                        f(Slot, base);
                        f(Slot, index);
                        f(Slot, shift);
                    }
                    Self::JumpIfLoadI32Eq { load, other, .. }
                    | Self::JumpIfLoadI32Ne { load, other, .. } => {
                        define_instr!(@regs Load load f);
                        f(Slot, other);
                    }
                    Self::JumpIfLoadNez { load, .. } | Self::JumpIfLoadEqz { load, .. } => {
                        define_instr!(@regs Load load f);
                    }
                    Self::JumpIfI32Eq { lhs, rhs, .. }
                    | Self::JumpIfI32AndNez { lhs, rhs, .. }
                    | Self::JumpIfI32AndEqz { lhs, rhs, .. }
                    | Self::JumpIfI32Ne { lhs, rhs, .. }
                    | Self::JumpIfI32LtS { lhs, rhs, .. }
                    | Self::JumpIfI32LtU { lhs, rhs, .. }
                    | Self::JumpIfI32GtS { lhs, rhs, .. }
                    | Self::JumpIfI32GtU { lhs, rhs, .. }
                    | Self::JumpIfI32LeS { lhs, rhs, .. }
                    | Self::JumpIfI32LeU { lhs, rhs, .. }
                    | Self::JumpIfI32GeS { lhs, rhs, .. }
                    | Self::JumpIfI32GeU { lhs, rhs, .. }
                    | Self::JumpIfI64Eq { lhs, rhs, .. }
                    | Self::JumpIfI64Ne { lhs, rhs, .. }
                    | Self::JumpIfI64LtS { lhs, rhs, .. }
                    | Self::JumpIfI64LtU { lhs, rhs, .. }
                    | Self::JumpIfI64GtS { lhs, rhs, .. }
                    | Self::JumpIfI64GtU { lhs, rhs, .. }
                    | Self::JumpIfI64LeS { lhs, rhs, .. }
                    | Self::JumpIfI64LeU { lhs, rhs, .. }
                    | Self::JumpIfI64GeS { lhs, rhs, .. }
                    | Self::JumpIfI64GeU { lhs, rhs, .. } => {
                        f(Slot, lhs);
                        f(Slot, rhs);
                    }
                    Self::JumpTable { index, .. } => f(Slot, index),
                    Self::JumpTableAnd { dst, lhs, rhs, .. } => {
                        f(Slot, dst);
                        f(Slot, lhs);
                        f(Slot, rhs);
                    }
                    Self::Return1 { src } => f(Slot, src),
                    Self::ReturnMany { base, count } => f(RegUse::ReturnRange(*count), base),
                    Self::CallIndirect { index, base, result, .. } => {
                        f(Slot, index);
                        f(RegUse::CallBase, base);
                        f(RegUse::CallResult, result);
                    }
                    Self::Select { dst, cond, a, b } => {
                        f(Slot, dst);
                        f(Slot, cond);
                        f(Slot, a);
                        f(Slot, b);
                    }
                    Self::GlobalGet { dst, .. } => f(Slot, dst),
                    Self::GlobalSet { src, .. } => f(Slot, src),
                    Self::MemorySize { dst } => f(Slot, dst),
                    Self::MemoryGrow { dst, delta } => {
                        f(Slot, dst);
                        f(Slot, delta);
                    }
                    Self::MemoryFill { dst, value: src, len }
                    | Self::MemoryCopy { dst, src, len }
                    | Self::MemoryInit { dst, src, len, .. }
                    | Self::TableFill { index: dst, value: src, len, .. }
                    | Self::TableCopy { dst, src, len, .. }
                    | Self::TableInit { dst, src, len, .. } => {
                        f(Slot, dst);
                        f(Slot, src);
                        f(Slot, len);
                    }
                    Self::TableGet { dst, index, .. } => {
                        f(Slot, dst);
                        f(Slot, index);
                    }
                    Self::TableSet { index, value, .. } => {
                        f(Slot, index);
                        f(Slot, value);
                    }
                    Self::TableSize { dst, .. } => f(Slot, dst),
                    Self::TableGrow { dst, init, delta, .. } => {
                        f(Slot, dst);
                        f(Slot, init);
                        f(Slot, delta);
                    }
                    Self::RefFunc { dst, .. } => f(Slot, dst),
                    Self::RefIsNull { dst, src } => {
                        f(Slot, dst);
                        f(Slot, src);
                    }
                }
            }

            /// Calls `f` with every slot the instruction reads or writes (the verifier's view):
            /// a `ReturnMany` range slot by slot (and `Reg::MAX` if it would wrap); call
            /// bases are not slots of this frame (the callee's frame starts there) and are
            /// checked separately.
            #[inline(always)] // see `translate::check_instr`
            pub fn for_each_reg(&self, mut f: impl FnMut(Reg)) {
                let mut copy = *self;
                copy.visit_regs_mut(|role, &mut r| match role {
                    RegUse::Slot => f(r),
                    RegUse::ReturnRange(count) => {
                        for i in 0..count {
                            f(r.saturating_add(i));
                        }
                        if count > 0 && r.checked_add(count - 1).is_none() {
                            f(Reg::MAX);
                        }
                    }
                    RegUse::CallBase | RegUse::CallResult => {}
                });
            }

            /// Calls `f` with every module entity the instruction names: the one list of
            /// them (the code cache checks that each exists before running a body it read;
            /// see [`Entity`]). No wildcard arm, so a new instruction has to be listed.
            #[inline(always)] // see `translate::check_instr`
            pub fn for_each_entity(&self, mut f: impl FnMut(Entity)) {
                use Entity::*;
                match *self {
                    $( Self::$name(_) => {} )*
                    Self::Call { func, .. }
                    | Self::CopyThenCall { func, .. }
                    | Self::RefFunc { func, .. } => f(Func(func)),
                    Self::Copy2ThenCall { func, .. } => f(Func(u32::from(func))),
                    Self::CallIndirect { ty, table, .. } => {
                        f(Type(ty));
                        f(Table(table));
                    }
                    Self::GlobalGet { global, .. } | Self::GlobalSet { global, .. } => {
                        f(Global(global))
                    }
                    Self::Global0Get { .. }
                    | Self::Global0Set { .. }
                    | Self::Global0SubSet { .. }
                    | Self::I32AddThenGlobal0Set(..) => f(Global(0)),
                    Self::TableGet { table, .. }
                    | Self::TableSet { table, .. }
                    | Self::TableSize { table, .. }
                    | Self::TableGrow { table, .. }
                    | Self::TableFill { table, .. } => f(Table(table)),
                    Self::TableCopy { dst_table, src_table, .. } => {
                        f(Table(dst_table));
                        f(Table(src_table));
                    }
                    Self::TableInit { table, elem, .. } => {
                        f(Table(table));
                        f(Elem(u32::from(elem)));
                    }
                    Self::ElemDrop { elem } => f(Elem(elem)),
                    Self::MemoryInit { data, .. } => {
                        f(Data(data));
                        f(Memory);
                    }
                    Self::DataDrop { data } => f(Data(data)),
                    Self::MemorySize { .. }
                    | Self::MemoryGrow { .. }
                    | Self::MemoryFill { .. }
                    | Self::MemoryCopy { .. } => f(Memory),
                    Self::Trap(_)
                    | Self::Copy { .. }
                    | Self::Copy2 { .. }
                    | Self::I32LoadAdd { .. }
                    | Self::I32Load8UAdd { .. }
                    | Self::I32StoreAdd { .. }
                    | Self::I32AddStore { .. }
                    | Self::I32AddShl { .. }
                    | Self::JumpIfLoadI32Eq { .. }
                    | Self::JumpIfLoadI32Ne { .. }
                    | Self::JumpIfLoadNez { .. }
                    | Self::JumpIfLoadEqz { .. }
                    | Self::I32StoreThenAdd(..)
                    | Self::I32AddThenAdd(..)
                    | Self::I32AddThenLoad(..)
                    | Self::I32AddThenLoad16U(..)
                    | Self::I32Load16UThenShrU(..)
                    | Self::I32LoadThenLoad { .. }
                    | Self::I32AddThenStore(..)
                    | Self::I32LoadThenLoadAdd { .. }
                    | Self::I32LoadAddThenLoad { .. }
                    | Self::I32LoadThenStore { .. }
                    | Self::I32StoreThenLoad { .. }
                    | Self::I32StoreThenStore { .. }
                    | Self::I32LoadThenAddStore { .. }
                    | Self::I32AddShlThenLoadAdd { .. }
                    | Self::JumpIfLoadAddI32Ne { .. }
                    | Self::I32StoreThenJumpIfNez { .. }
                    | Self::I32AndThenJumpIfEqz { .. }
                    | Self::I32AndThenJumpIfNez { .. }
                    | Self::I32AddThenJumpIfNez { .. }
                    | Self::I32Load8UThenJumpIfEqz { .. }
                    | Self::I32Load8UThenJumpIfNez { .. }
                    | Self::I32Load8UAddThenJumpIfEqz { .. }
                    | Self::I32Load8UAddThenJumpIfAndEqz { .. }
                    | Self::I32Load8UAddThenJumpIfAndNez { .. }
                    | Self::I32AddThenJump { .. }
                    | Self::JumpIfLoadI32EqElseAddStore { .. }
                    | Self::JumpIfLoadI32EqElseAddStoreJumpIfNez { .. }
                    | Self::JumpToTableAnd { .. }
                    | Self::CopyThenJump { .. }
                    | Self::CopyThenJumpToTableAnd { .. }
                    | Self::Copy2ThenJumpToTableAnd { .. }
                    | Self::I32Load16UShrUThenJumpToTableAnd { .. }
                    | Self::Jump { .. }
                    | Self::JumpIfNez { .. }
                    | Self::JumpIfEqz { .. }
                    | Self::JumpIfI32Eq { .. }
                    | Self::JumpIfI32Ne { .. }
                    | Self::JumpIfI32LtS { .. }
                    | Self::JumpIfI32LtU { .. }
                    | Self::JumpIfI32GtS { .. }
                    | Self::JumpIfI32GtU { .. }
                    | Self::JumpIfI32LeS { .. }
                    | Self::JumpIfI32LeU { .. }
                    | Self::JumpIfI32GeS { .. }
                    | Self::JumpIfI32GeU { .. }
                    | Self::JumpIfI32AndNez { .. }
                    | Self::JumpIfI32AndEqz { .. }
                    | Self::JumpIfI64Eq { .. }
                    | Self::JumpIfI64Ne { .. }
                    | Self::JumpIfI64LtS { .. }
                    | Self::JumpIfI64LtU { .. }
                    | Self::JumpIfI64GtS { .. }
                    | Self::JumpIfI64GtU { .. }
                    | Self::JumpIfI64LeS { .. }
                    | Self::JumpIfI64LeU { .. }
                    | Self::JumpIfI64GeS { .. }
                    | Self::JumpIfI64GeU { .. }
                    | Self::JumpTable { .. }
                    | Self::JumpTableAnd { .. }
                    | Self::Return
                    | Self::Return1 { .. }
                    | Self::ReturnMany { .. }
                    | Self::Select { .. }
                    | Self::RefIsNull { .. } => {}
                }
            }

            /// The relative jump offset of a jump instruction.
            #[inline(always)] // see `translate::check_instr`
            pub fn jump_offset_mut(&mut self) -> Option<&mut i32> {
                match self {
                    Self::Jump { offset }
                    | Self::CopyThenJump { offset, .. }
                    | Self::JumpToTableAnd { offset }
                    | Self::CopyThenJumpToTableAnd { offset, .. }
                    | Self::Copy2ThenJumpToTableAnd { offset, .. }
                    | Self::I32Load16UShrUThenJumpToTableAnd { jump: offset, .. }
                    | Self::I32StoreThenJumpIfNez { offset, .. }
                    | Self::I32AndThenJumpIfEqz { offset, .. }
                    | Self::I32AndThenJumpIfNez { offset, .. }
                    | Self::I32AddThenJumpIfNez { offset, .. }
                    | Self::I32Load8UThenJumpIfEqz { offset, .. }
                    | Self::I32Load8UThenJumpIfNez { offset, .. }
                    | Self::I32Load8UAddThenJumpIfEqz { offset, .. }
                    | Self::I32Load8UAddThenJumpIfAndEqz { offset, .. }
                    | Self::I32Load8UAddThenJumpIfAndNez { offset, .. }
                    | Self::I32AddThenJump { offset, .. }
                    | Self::JumpIfLoadI32EqElseAddStore { jump: offset, .. }
                    | Self::JumpIfLoadAddI32Ne { jump: offset, .. }
                    | Self::JumpIfLoadI32EqElseAddStoreJumpIfNez { jump: offset, .. }
                    | Self::JumpIfNez { offset, .. }
                    | Self::JumpIfEqz { offset, .. }
                    | Self::JumpIfLoadI32Eq { offset, .. }
                    | Self::JumpIfLoadI32Ne { offset, .. }
                    | Self::JumpIfLoadNez { offset, .. }
                    | Self::JumpIfLoadEqz { offset, .. }
                    | Self::JumpIfI32Eq { offset, .. }
                    | Self::JumpIfI32AndNez { offset, .. }
                    | Self::JumpIfI32AndEqz { offset, .. }
                    | Self::JumpIfI32Ne { offset, .. }
                    | Self::JumpIfI32LtS { offset, .. }
                    | Self::JumpIfI32LtU { offset, .. }
                    | Self::JumpIfI32GtS { offset, .. }
                    | Self::JumpIfI32GtU { offset, .. }
                    | Self::JumpIfI32LeS { offset, .. }
                    | Self::JumpIfI32LeU { offset, .. }
                    | Self::JumpIfI32GeS { offset, .. }
                    | Self::JumpIfI32GeU { offset, .. }
                    | Self::JumpIfI64Eq { offset, .. }
                    | Self::JumpIfI64Ne { offset, .. }
                    | Self::JumpIfI64LtS { offset, .. }
                    | Self::JumpIfI64LtU { offset, .. }
                    | Self::JumpIfI64GtS { offset, .. }
                    | Self::JumpIfI64GtU { offset, .. }
                    | Self::JumpIfI64LeS { offset, .. }
                    | Self::JumpIfI64LeU { offset, .. }
                    | Self::JumpIfI64GeS { offset, .. }
                    | Self::JumpIfI64GeU { offset, .. } => Some(offset),
                    _ => None,
                }
            }

            /// True if execution never continues with the next instruction.
            pub fn is_terminal(&self) -> bool {
                matches!(
                    self,
                    Self::Jump { .. }
                        | Self::CopyThenJump { .. }
                        | Self::I32AddThenJump { .. }
                        | Self::JumpToTableAnd { .. }
                        | Self::CopyThenJumpToTableAnd { .. }
                        | Self::Copy2ThenJumpToTableAnd { .. }
                        | Self::I32Load16UShrUThenJumpToTableAnd { .. }
                        | Self::Return
                        | Self::Return1 { .. }
                        | Self::ReturnMany { .. }
                        | Self::Trap(_)
                )
            }
        }

        /// Every variant in declaration order: an instruction's tag in its encoding.
        #[derive(Clone, Copy)]
        #[allow(dead_code, clippy::enum_variant_names)]
        enum Tag {
            $( $name, )*
            $( $hname, )+
        }

        /// The decoder of each tag, in the order of [`Tag`].
        type Decoder = fn(&mut codec::Reader<'_>, &codec::Check, usize) -> Option<Instr>;
        const DECODERS: &[Decoder] = &[
            $( |r, c, i| c.accept(Instr::$name(codec::Field::get(r)?), i), )*
            $( define_instr!(@decode $hname $( ( $($tty),+ ) )? $( { $($fname : $fty),+ } )?), )+
        ];

        impl Instr {
            /// Appends the instruction's encoding to `out`: its tag (the variant's position
            /// in the enum, 2 bytes), then its fields in declaration order, little-endian
            /// (the code cache's format; see [`codec`]).
            #[allow(clippy::needless_return)]
            pub(crate) fn encode(&self, out: &mut Vec<u8>) {
                let instr = *self;
                $(
                    if let Self::$name(ops) = instr {
                        codec::Field::put(&(Tag::$name as u16), out);
                        codec::Field::put(&ops, out);
                        return;
                    }
                )*
                $( define_instr!(@encode instr out $hname $( ( $($tty),+ ) )? $( { $($fname),+ } )?); )+
            }

            /// Reads one instruction written by [`Instr::encode`]; `None` if the bytes end
            /// early or name no instruction. Any field value is accepted.
            #[cfg(test)]
            pub(crate) fn decode(r: &mut codec::Reader<'_>) -> Option<Self> {
                Self::decode_checked(r, &codec::Check::ANYTHING, 0)
            }

            /// [`Instr::decode`] of the instruction at index `index` of a body, `None` also
            /// if it fails `check` (see [`codec::Check`]). Each kind of instruction has its
            /// own decoder, into which the check is inlined: specialised to the kind.
            pub(crate) fn decode_checked(
                r: &mut codec::Reader<'_>,
                check: &codec::Check,
                index: usize,
            ) -> Option<Self> {
                let tag: u16 = codec::Field::get(r)?;
                DECODERS.get(usize::from(tag))?(r, check, index)
            }
        }
    };
    (@decode $n:ident ( $($t:ty),+ )) => {
        |r, c, i| c.accept(Instr::$n( $( <$t as codec::Field>::get(r)? ),+ ), i)
    };
    (@decode $n:ident { $($f:ident : $t:ty),+ }) => {
        |r, c, i| c.accept(Instr::$n { $( $f: <$t as codec::Field>::get(r)? ),+ }, i)
    };
    (@decode $n:ident) => {
        |_, c, i| c.accept(Instr::$n, i)
    };
    (@encode $i:ident $o:ident $n:ident ($a:ty)) => {
        if let Instr::$n(x) = $i {
            codec::Field::put(&(Tag::$n as u16), $o);
            codec::Field::put(&x, $o);
            return;
        }
    };
    (@encode $i:ident $o:ident $n:ident ($a:ty, $b:ty)) => {
        if let Instr::$n(x, y) = $i {
            codec::Field::put(&(Tag::$n as u16), $o);
            codec::Field::put(&x, $o);
            codec::Field::put(&y, $o);
            return;
        }
    };
    (@encode $i:ident $o:ident $n:ident { $($f:ident),+ }) => {
        if let Instr::$n { $($f),+ } = $i {
            codec::Field::put(&(Tag::$n as u16), $o);
            $( codec::Field::put(&$f, $o); )+
            return;
        }
    };
    (@encode $i:ident $o:ident $n:ident) => {
        if let Instr::$n = $i {
            codec::Field::put(&(Tag::$n as u16), $o);
            return;
        }
    };
    (@regs Un $ops:ident $f:ident) => {{
        $f(RegUse::Slot, &mut $ops.dst);
        $f(RegUse::Slot, &mut $ops.src);
    }};
    (@regs Bin $ops:ident $f:ident) => {{
        $f(RegUse::Slot, &mut $ops.dst);
        $f(RegUse::Slot, &mut $ops.lhs);
        $f(RegUse::Slot, &mut $ops.rhs);
    }};
    (@regs Load $ops:ident $f:ident) => {{
        $f(RegUse::Slot, &mut $ops.dst);
        $f(RegUse::Slot, &mut $ops.addr);
    }};
    (@regs Store $ops:ident $f:ident) => {{
        $f(RegUse::Slot, &mut $ops.addr);
        $f(RegUse::Slot, &mut $ops.value);
    }};
    (@dst Un $ops:ident) => { Some(&mut $ops.dst) };
    (@dst Bin $ops:ident) => { Some(&mut $ops.dst) };
    (@dst Load $ops:ident) => { Some(&mut $ops.dst) };
    (@dst Store $ops:ident) => {{
        let _ = $ops;
        None
    }};
    // Entry (last, as it matches anything): the operator table's rows.
    ($($rows:tt)*) => {
        define_instr!(@munch [] $($rows)*);
    };
}
wasmi_py_decode::for_each_operator!(define_instr);

/// The portable encoding of instructions, for the code cache (`crate::cache`): every
/// field little-endian at its own width, no padding, so encoding never reads an
/// uninitialised byte and decoding never builds an invalid value.
pub(crate) mod codec {
    use super::{Bin, Entity, Instr, Load, Store, Un};
    use crate::trap::TrapCode;

    /// What an instruction read from the code cache must satisfy before it may run:
    /// what `translate::verify` checks of each instruction of a body
    /// (`translate::check_instr`), and that every module entity it names exists (the
    /// interpreter indexes the instance's lists with them). The body-level rule (it ends
    /// in a terminal instruction) is the caller's.
    pub(crate) struct Check<'a> {
        /// The module the body belongs to; `None`: anything is accepted (encoding round
        /// trips in tests).
        pub(crate) module: Option<&'a wasmi_py_decode::Module>,
        /// Instructions in the body and slots in its frame.
        pub(crate) len: usize,
        pub(crate) frame_size: usize,
    }

    impl Check<'_> {
        /// Accepts anything.
        #[cfg(test)]
        pub(crate) const ANYTHING: Self = Self {
            module: None,
            len: 0,
            frame_size: 0,
        };

        /// `instr` if, as the instruction at `index`, it passes the check.
        #[inline(always)]
        pub(crate) fn accept(&self, instr: Instr, index: usize) -> Option<Instr> {
            let Some(module) = self.module else {
                return Some(instr);
            };
            crate::translate::check_instr(&instr, index, self.len, self.frame_size).ok()?;
            names_exist(&instr, module).then_some(instr)
        }
    }

    /// Whether every entity `instr` names exists in `module` (the interpreter indexes
    /// the instance's lists with them).
    #[inline(always)] // see `translate::check_instr`
    pub(crate) fn names_exist(instr: &Instr, module: &wasmi_py_decode::Module) -> bool {
        let below = |i: u32, n: usize| (i as usize) < n;
        let mut exist = true;
        instr.for_each_entity(|entity| {
            exist &= match entity {
                Entity::Func(f) => below(f, module.functions.len()),
                Entity::Global(g) => below(g, module.globals.len()),
                Entity::Table(t) => below(u32::from(t), module.tables.len()),
                Entity::Type(t) => below(t, module.types.len()),
                Entity::Elem(e) => below(e, module.elements.len()),
                Entity::Data(d) => below(d, module.data.len()),
                Entity::Memory => !module.memories.is_empty(),
            }
        });
        exist
    }

    /// Reads fields from a byte slice, front to back.
    pub(crate) struct Reader<'a> {
        bytes: &'a [u8],
    }

    impl<'a> Reader<'a> {
        pub(crate) fn new(bytes: &'a [u8]) -> Self {
            Self { bytes }
        }

        /// The next `N` bytes, or `None` if fewer are left.
        pub(crate) fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
            let (head, rest) = self.bytes.split_first_chunk::<N>()?;
            self.bytes = rest;
            Some(*head)
        }

        pub(crate) fn remaining(&self) -> usize {
            self.bytes.len()
        }
    }

    /// A field of an instruction (or of the cache's records).
    pub(crate) trait Field: Sized {
        fn put(&self, out: &mut Vec<u8>);
        fn get(r: &mut Reader<'_>) -> Option<Self>;
    }

    macro_rules! int_field {
        ($($t:ty),*) => {$(
            impl Field for $t {
                fn put(&self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }
                fn get(r: &mut Reader<'_>) -> Option<Self> {
                    r.take().map(<$t>::from_le_bytes)
                }
            }
        )*};
    }
    int_field!(u8, u16, u32, i32, u64);

    impl Field for TrapCode {
        fn put(&self, out: &mut Vec<u8>) {
            (*self as u8).put(out);
        }
        fn get(r: &mut Reader<'_>) -> Option<Self> {
            TrapCode::ALL.get(usize::from(u8::get(r)?)).copied()
        }
    }

    /// Operand structs: their fields in declaration order.
    macro_rules! struct_field {
        ($($t:ident { $($f:ident),+ })*) => {$(
            impl Field for $t {
                fn put(&self, out: &mut Vec<u8>) {
                    $( self.$f.put(out); )+
                }
                fn get(r: &mut Reader<'_>) -> Option<Self> {
                    Some(Self { $( $f: Field::get(r)? ),+ })
                }
            }
        )*};
    }
    struct_field! {
        Un { dst, src }
        Bin { dst, lhs, rhs }
        Load { dst, addr, offset }
        Store { addr, value, offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        // At most 16 bytes: with the 8-byte handler address an executable op is then 24
        // bytes, the same as with a 12-byte instruction (alignment); the interpreter streams
        // through ops, so their size is a cache-footprint decision.
        assert!(
            std::mem::size_of::<Instr>() <= 16,
            "{}",
            std::mem::size_of::<Instr>()
        );
    }

    #[test]
    fn local_set_can_be_folded_into_producers() {
        let mut add = Instr::I32Add(Bin {
            dst: 5,
            lhs: 1,
            rhs: 2,
        });
        *add.result_mut().unwrap() = 0;
        assert_eq!(
            add,
            Instr::I32Add(Bin {
                dst: 0,
                lhs: 1,
                rhs: 2
            })
        );
        let mut store = Instr::I32Store(Store {
            addr: 0,
            value: 1,
            offset: 0,
        });
        assert!(store.result_mut().is_none());
    }

    #[test]
    fn every_instruction_encodes_to_what_it_decodes_from() {
        // Each tag decoded from a field pattern, encoded again: the same bytes, so every
        // variant's tag and field order agree between the two directions.
        for tag in 0..DECODERS.len() as u16 {
            let mut bytes = tag.to_le_bytes().to_vec();
            bytes.extend((0..32u8).map(|i| i.wrapping_mul(37) % 12));
            let mut r = codec::Reader::new(&bytes);
            let instr = Instr::decode(&mut r).unwrap_or_else(|| panic!("tag {tag}"));
            let used = bytes.len() - r.remaining();
            let mut out = Vec::new();
            instr.encode(&mut out);
            assert_eq!(out, bytes[..used], "{instr:?}");
            // Cut short anywhere: no instruction.
            for cut in 0..used {
                assert_eq!(Instr::decode(&mut codec::Reader::new(&bytes[..cut])), None);
            }
        }
        let past = (DECODERS.len() as u16).to_le_bytes();
        assert_eq!(Instr::decode(&mut codec::Reader::new(&past)), None);
    }

    #[test]
    fn trap_codes_are_listed_at_their_index() {
        for (i, code) in TrapCode::ALL.iter().enumerate() {
            assert_eq!(*code as usize, i);
        }
    }
}
