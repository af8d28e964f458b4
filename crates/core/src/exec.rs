//! The interpreter loop.
//!
//! Execution is a `loop { match }` over the current function's bytecode. Wasm calls never
//! recurse on the native stack: a call pushes a [`Frame`] on the store's frame stack and
//! switches to the callee's bytecode in the same loop; a return pops it. Calls to host
//! functions leave the loop (returning [`Exit::Host`]) so the host closure can get the whole
//! `&mut Store`, and the loop is re-entered afterwards.
//!
//! Instruction fetch and slot access are unchecked: `translate::verify` has proven for every
//! function that all slots lie inside its frame, all jumps inside its code, and that control
//! cannot run off the end; `push_frame` guarantees the frame lies inside the value stack.
//! Linear memory accesses stay bounds-checked (against the current length).

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

use crate::instr::{Bin, Instr, Load, Store as StoreOp, Un};
use crate::num;
use crate::store::{Caller, Func};
use crate::store::{CodePtr, Frame, FuncKind, Instance, Store, StoreInner};
use crate::translate::CompiledFunc;
use crate::trap::{BacktraceFrame, Trap, TrapCode};
use crate::value::Val;

/// Values stored in 64-bit slots.
trait Slot: Sized {
    fn from_slot(slot: u64) -> Self;
    fn into_slot(self) -> u64;
}

macro_rules! slot_int {
    ($($t:ty => $u:ty),*) => {$(
        impl Slot for $t {
            #[inline(always)]
            fn from_slot(slot: u64) -> Self { slot as $u as $t }
            #[inline(always)]
            fn into_slot(self) -> u64 { self as $u as u64 }
        }
    )*};
}
slot_int!(i32 => u32, u32 => u32, i64 => u64, u64 => u64);

impl Slot for f32 {
    #[inline(always)]
    fn from_slot(slot: u64) -> Self {
        f32::from_bits(slot as u32)
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Slot for f64 {
    #[inline(always)]
    fn from_slot(slot: u64) -> Self {
        f64::from_bits(slot)
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self.to_bits()
    }
}

/// The current frame's slots, indexed without bounds checks.
///
/// Constructed only from a slice covering exactly the frame (`fp..fp + frame_size`), and
/// only indexed with slots of instructions that passed `translate::verify` for that frame
/// size; so every access is in bounds. The length is kept for the debug assertions.
struct Regs<'a> {
    ptr: *mut u64,
    len: usize,
    _frame: PhantomData<&'a mut [u64]>,
}

impl<'a> Regs<'a> {
    fn new(frame: &'a mut [u64]) -> Self {
        Self {
            ptr: frame.as_mut_ptr(),
            len: frame.len(),
            _frame: PhantomData,
        }
    }

    /// `self[dst..dst + n] = self[src..src + n]` (overlapping allowed).
    fn copy_within(&mut self, src: usize, dst: usize, n: usize) {
        assert!(src + n <= self.len && dst + n <= self.len);
        // SAFETY: both ranges were just checked to lie inside the frame; `copy` allows
        // overlap.
        unsafe { std::ptr::copy(self.ptr.add(src), self.ptr.add(dst), n) }
    }
}

impl Index<usize> for Regs<'_> {
    type Output = u64;
    #[inline(always)]
    fn index(&self, i: usize) -> &u64 {
        debug_assert!(i < self.len);
        // SAFETY: `i` is a slot of a verified instruction, so `i < frame_size == len`, and
        // `ptr..ptr + len` is the frame slice borrowed for `'a`.
        unsafe { &*self.ptr.add(i) }
    }
}

impl IndexMut<usize> for Regs<'_> {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut u64 {
        debug_assert!(i < self.len);
        // SAFETY: as for `index`; the frame slice is borrowed mutably for `'a`.
        unsafe { &mut *self.ptr.add(i) }
    }
}

/// Why the loop stopped without a trap.
pub(crate) enum Exit {
    /// The entry frame returned.
    Returned,
    /// A call to host function `func` (store id) with arguments at absolute slot `base`.
    Host { func: u32, base: usize },
}

#[cold]
fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

/// The limits a call checks, read once per entry into the loop.
#[derive(Clone, Copy)]
struct Limits {
    max_depth: usize,
    max_slots: usize,
}

impl Limits {
    fn of(s: &StoreInner) -> Self {
        let config = s.engine.config();
        Self {
            max_depth: config.max_call_depth,
            max_slots: config.max_value_slots,
        }
    }
}

/// Sets up the frame of a wasm function at absolute slot `fp` (arguments already there):
/// checks the limits, grows the value stack if needed, zeroes the declared locals, copies
/// the constants in, and pushes the frame.
#[inline]
fn push_frame(
    frames: &mut Vec<Frame>,
    stack: &mut Vec<u64>,
    limits: Limits,
    func: u32,
    instance: u32,
    code: *const CompiledFunc,
    fp: usize,
) -> Result<(), Trap> {
    // SAFETY: `code` comes from `code_of`: it points into an `Arc<CompiledFunc>` owned by
    // the module of an instance of this store, which lives as long as the store.
    let code_ref = unsafe { &*code };
    if frames.len() >= limits.max_depth {
        return Err(trap(TrapCode::StackOverflow));
    }
    let end = fp + code_ref.frame_size;
    if end > stack.len() {
        grow_stack(stack, end, limits.max_slots)?;
    }
    let locals_start = fp + code_ref.num_params;
    let consts_start = locals_start + code_ref.num_locals;
    // Declared locals read as zero on every call, whatever an earlier frame left there.
    // Small ranges are written inline: for the typical handful of slots a call into libc's
    // memset/memcpy costs more than the copy (it was 18% of a call-heavy profile).
    let locals = &mut stack[locals_start..consts_start];
    if locals.len() <= 8 {
        for slot in locals {
            *slot = 0;
        }
    } else {
        locals.fill(0);
    }
    let consts = &code_ref.consts;
    let dst = &mut stack[consts_start..consts_start + consts.len()];
    if consts.len() <= 8 {
        for (d, &c) in dst.iter_mut().zip(consts.iter()) {
            *d = c;
        }
    } else {
        dst.copy_from_slice(consts);
    }
    frames.push(Frame {
        code: CodePtr(code),
        ip: 0,
        fp,
        instance,
        func,
    });
    Ok(())
}

/// Grows the value stack to hold at least `end` slots (geometrically, up to the limit).
#[cold]
fn grow_stack(stack: &mut Vec<u64>, end: usize, limit: usize) -> Result<(), Trap> {
    if end > limit {
        return Err(trap(TrapCode::StackOverflow));
    }
    let new_len = end.max(stack.len() * 2).clamp(1024, limit);
    stack.resize(new_len, 0);
    Ok(())
}

/// The compiled code of a wasm function, translating it on first use. The pointer stays
/// valid as long as the store (the instance's module owns the code).
#[inline]
fn code_of(
    instances: &[crate::store::InstanceEntity],
    instance: u32,
    defined: u32,
) -> Result<*const CompiledFunc, Trap> {
    instances[instance as usize]
        .module
        .code(defined)
        .map(Arc::as_ptr)
        .map_err(|e| Trap::host(format!("function failed to compile: {e}")))
}

macro_rules! un {
    ($regs:ident, $o:expr, $f:expr) => {{
        let o: Un = $o;
        let v = $f(Slot::from_slot($regs[o.src as usize]));
        $regs[o.dst as usize] = Slot::into_slot(v);
    }};
}

macro_rules! bin {
    ($regs:ident, $o:expr, $f:expr) => {{
        let o: Bin = $o;
        let v = $f(
            Slot::from_slot($regs[o.lhs as usize]),
            Slot::from_slot($regs[o.rhs as usize]),
        );
        $regs[o.dst as usize] = Slot::into_slot(v);
    }};
}

/// Unary operator that may trap.
macro_rules! un_trap {
    ($regs:ident, $o:expr, $f:expr) => {{
        let o: Un = $o;
        match $f(Slot::from_slot($regs[o.src as usize])) {
            Ok(v) => $regs[o.dst as usize] = Slot::into_slot(v),
            Err(code) => return Err(trap(code)),
        }
    }};
}

/// Binary operator that may trap.
macro_rules! bin_trap {
    ($regs:ident, $o:expr, $f:expr) => {{
        let o: Bin = $o;
        match $f(
            Slot::from_slot($regs[o.lhs as usize]),
            Slot::from_slot($regs[o.rhs as usize]),
        ) {
            Ok(v) => $regs[o.dst as usize] = Slot::into_slot(v),
            Err(code) => return Err(trap(code)),
        }
    }};
}

/// `dst = convert(mem[addr + offset .. + N])`.
macro_rules! load {
    ($regs:ident, $mem:ident, $o:expr, $n:literal, $conv:expr) => {{
        let o: Load = $o;
        let ea = ($regs[o.addr as usize] as u32 as usize) + o.offset as usize;
        match $mem
            .get(ea..ea + $n)
            .and_then(|b| <[u8; $n]>::try_from(b).ok())
        {
            Some(bytes) => $regs[o.dst as usize] = Slot::into_slot($conv(bytes)),
            None => return Err(trap(TrapCode::MemoryOutOfBounds)),
        }
    }};
}

/// `mem[addr + offset .. + N] = bytes(value)`.
macro_rules! store {
    ($regs:ident, $mem:ident, $o:expr, $n:literal, $bytes:expr) => {{
        let o: StoreOp = $o;
        let ea = ($regs[o.addr as usize] as u32 as usize) + o.offset as usize;
        let bytes: [u8; $n] = $bytes($regs[o.value as usize]);
        match $mem.get_mut(ea..ea + $n) {
            Some(dst) => dst.copy_from_slice(&bytes),
            None => return Err(trap(TrapCode::MemoryOutOfBounds)),
        }
    }};
}

/// Runs until the frame at depth `entry_depth` returns or a host call is needed.
#[allow(clippy::cognitive_complexity)]
fn run(s: &mut StoreInner, entry_depth: usize) -> Result<Exit, Trap> {
    let limits = Limits::of(s);
    {
        let Some(frame) = s.frames.last() else {
            return Ok(Exit::Returned);
        };
        // SAFETY: frames point at code owned by their instance's module, which the store
        // keeps alive (see `push_frame`).
        let mut code: &CompiledFunc = unsafe { &*frame.code.0 };
        let (mut fp, mut instance_id) = (frame.fp, frame.instance);
        let mut ip = frame.ip;
        let mut instrs: &[Instr] = &code.instrs;
        let StoreInner {
            funcs,
            instances,
            memories,
            tables,
            globals,
            elems,
            datas,
            stack,
            frames,
            fuel,
            ..
        } = &mut *s;
        let mut inst = &instances[instance_id as usize];
        let mut mem_id = inst.memories.first().map(|&m| m as usize);
        let mut mem: &mut [u8] = match mem_id {
            Some(m) => memories[m].data_mut(),
            None => &mut [],
        };
        let mut regs = Regs::new(&mut stack[fp..fp + code.frame_size]);
        // Makes the frame on top of `frames` current: code, slots, and (only when the
        // instance changes) instance and memory. Calls and returns switch frames in place,
        // without leaving the loop.
        macro_rules! switch_to_top_frame {
            () => {{
                let frame = frames.last().expect("a frame to switch to");
                // SAFETY: frames point at store-owned code (see `push_frame`).
                code = unsafe { &*frame.code.0 };
                instrs = &code.instrs;
                fp = frame.fp;
                ip = frame.ip;
                if frame.instance != instance_id {
                    instance_id = frame.instance;
                    inst = &instances[instance_id as usize];
                    mem_id = inst.memories.first().map(|&m| m as usize);
                    mem = match mem_id {
                        Some(m) => memories[m].data_mut(),
                        None => &mut [],
                    };
                }
                regs = Regs::new(&mut stack[fp..fp + code.frame_size]);
                continue;
            }};
        }
        // Relative jump; backward jumps (loops) consume fuel when metering.
        macro_rules! jump {
            ($offset:expr) => {{
                let offset: i32 = $offset;
                if offset < 0 {
                    if let Some(f) = fuel.as_mut() {
                        if *f == 0 {
                            return Err(trap(TrapCode::OutOfFuel));
                        }
                        *f -= 1;
                    }
                }
                ip = ip.wrapping_add_signed(offset as isize);
                continue;
            }};
        }
        // Calls function `target` (store id) with its frame at absolute slot `callee_fp`:
        // a host function leaves the loop, a wasm function's frame becomes current.
        macro_rules! enter_callee {
            ($target:expr, $callee_fp:expr) => {{
                let (target, callee_fp): (u32, usize) = ($target, $callee_fp);
                frames.last_mut().expect("current frame").ip = ip + 1;
                match funcs[target as usize].kind {
                    FuncKind::Host { .. } => {
                        return Ok(Exit::Host {
                            func: target,
                            base: callee_fp,
                        })
                    }
                    FuncKind::Wasm { instance, defined } => {
                        if let Some(f) = fuel.as_mut() {
                            if *f == 0 {
                                return Err(trap(TrapCode::OutOfFuel));
                            }
                            *f -= 1;
                        }
                        let callee = code_of(instances, instance, defined)?;
                        push_frame(frames, stack, limits, target, instance, callee, callee_fp)?;
                        switch_to_top_frame!();
                    }
                }
            }};
        }
        // Fused compare-and-branch.
        macro_rules! cmp_jump {
            ($lhs:ident, $rhs:ident, $offset:ident, $cmp:expr) => {{
                if $cmp(
                    Slot::from_slot(regs[$lhs as usize]),
                    Slot::from_slot(regs[$rhs as usize]),
                ) {
                    jump!($offset);
                }
            }};
        }
        loop {
            debug_assert!(ip < instrs.len());
            // SAFETY: `verify` proved every jump target and every fall-through successor of
            // this function's instructions is an index into `instrs`, and frames start at 0
            // or resume after a (non-terminal) call.
            let instr = unsafe { *instrs.get_unchecked(ip) };
            match instr {
                // ----- i32 -----
                Instr::I32Eqz(o) => un!(regs, o, |a: i32| (a == 0) as i32),
                Instr::I32Eq(o) => bin!(regs, o, |a: i32, b: i32| (a == b) as i32),
                Instr::I32Ne(o) => bin!(regs, o, |a: i32, b: i32| (a != b) as i32),
                Instr::I32LtS(o) => bin!(regs, o, |a: i32, b: i32| (a < b) as i32),
                Instr::I32LtU(o) => bin!(regs, o, |a: u32, b: u32| (a < b) as i32),
                Instr::I32GtS(o) => bin!(regs, o, |a: i32, b: i32| (a > b) as i32),
                Instr::I32GtU(o) => bin!(regs, o, |a: u32, b: u32| (a > b) as i32),
                Instr::I32LeS(o) => bin!(regs, o, |a: i32, b: i32| (a <= b) as i32),
                Instr::I32LeU(o) => bin!(regs, o, |a: u32, b: u32| (a <= b) as i32),
                Instr::I32GeS(o) => bin!(regs, o, |a: i32, b: i32| (a >= b) as i32),
                Instr::I32GeU(o) => bin!(regs, o, |a: u32, b: u32| (a >= b) as i32),
                Instr::I32Clz(o) => un!(regs, o, |a: u32| a.leading_zeros()),
                Instr::I32Ctz(o) => un!(regs, o, |a: u32| a.trailing_zeros()),
                Instr::I32Popcnt(o) => un!(regs, o, |a: u32| a.count_ones()),
                Instr::I32Add(o) => bin!(regs, o, |a: i32, b: i32| a.wrapping_add(b)),
                Instr::I32Sub(o) => bin!(regs, o, |a: i32, b: i32| a.wrapping_sub(b)),
                Instr::I32Mul(o) => bin!(regs, o, |a: i32, b: i32| a.wrapping_mul(b)),
                Instr::I32DivS(o) => bin_trap!(regs, o, num::i32_div_s),
                Instr::I32DivU(o) => bin_trap!(regs, o, num::i32_div_u),
                Instr::I32RemS(o) => bin_trap!(regs, o, num::i32_rem_s),
                Instr::I32RemU(o) => bin_trap!(regs, o, num::i32_rem_u),
                Instr::I32And(o) => bin!(regs, o, |a: u32, b: u32| a & b),
                Instr::I32Or(o) => bin!(regs, o, |a: u32, b: u32| a | b),
                Instr::I32Xor(o) => bin!(regs, o, |a: u32, b: u32| a ^ b),
                Instr::I32Shl(o) => bin!(regs, o, num::i32_shl),
                Instr::I32ShrS(o) => bin!(regs, o, num::i32_shr_s),
                Instr::I32ShrU(o) => bin!(regs, o, num::i32_shr_u),
                Instr::I32Rotl(o) => bin!(regs, o, num::i32_rotl),
                Instr::I32Rotr(o) => bin!(regs, o, num::i32_rotr),
                // ----- i64 -----
                Instr::I64Eqz(o) => un!(regs, o, |a: i64| (a == 0) as i32),
                Instr::I64Eq(o) => bin!(regs, o, |a: i64, b: i64| (a == b) as i32),
                Instr::I64Ne(o) => bin!(regs, o, |a: i64, b: i64| (a != b) as i32),
                Instr::I64LtS(o) => bin!(regs, o, |a: i64, b: i64| (a < b) as i32),
                Instr::I64LtU(o) => bin!(regs, o, |a: u64, b: u64| (a < b) as i32),
                Instr::I64GtS(o) => bin!(regs, o, |a: i64, b: i64| (a > b) as i32),
                Instr::I64GtU(o) => bin!(regs, o, |a: u64, b: u64| (a > b) as i32),
                Instr::I64LeS(o) => bin!(regs, o, |a: i64, b: i64| (a <= b) as i32),
                Instr::I64LeU(o) => bin!(regs, o, |a: u64, b: u64| (a <= b) as i32),
                Instr::I64GeS(o) => bin!(regs, o, |a: i64, b: i64| (a >= b) as i32),
                Instr::I64GeU(o) => bin!(regs, o, |a: u64, b: u64| (a >= b) as i32),
                Instr::I64Clz(o) => un!(regs, o, |a: u64| u64::from(a.leading_zeros())),
                Instr::I64Ctz(o) => un!(regs, o, |a: u64| u64::from(a.trailing_zeros())),
                Instr::I64Popcnt(o) => un!(regs, o, |a: u64| u64::from(a.count_ones())),
                Instr::I64Add(o) => bin!(regs, o, |a: i64, b: i64| a.wrapping_add(b)),
                Instr::I64Sub(o) => bin!(regs, o, |a: i64, b: i64| a.wrapping_sub(b)),
                Instr::I64Mul(o) => bin!(regs, o, |a: i64, b: i64| a.wrapping_mul(b)),
                Instr::I64DivS(o) => bin_trap!(regs, o, num::i64_div_s),
                Instr::I64DivU(o) => bin_trap!(regs, o, num::i64_div_u),
                Instr::I64RemS(o) => bin_trap!(regs, o, num::i64_rem_s),
                Instr::I64RemU(o) => bin_trap!(regs, o, num::i64_rem_u),
                Instr::I64And(o) => bin!(regs, o, |a: u64, b: u64| a & b),
                Instr::I64Or(o) => bin!(regs, o, |a: u64, b: u64| a | b),
                Instr::I64Xor(o) => bin!(regs, o, |a: u64, b: u64| a ^ b),
                Instr::I64Shl(o) => bin!(regs, o, num::i64_shl),
                Instr::I64ShrS(o) => bin!(regs, o, num::i64_shr_s),
                Instr::I64ShrU(o) => bin!(regs, o, num::i64_shr_u),
                Instr::I64Rotl(o) => bin!(regs, o, num::i64_rotl),
                Instr::I64Rotr(o) => bin!(regs, o, num::i64_rotr),
                // ----- f32 -----
                Instr::F32Eq(o) => bin!(regs, o, |a: f32, b: f32| (a == b) as i32),
                Instr::F32Ne(o) => bin!(regs, o, |a: f32, b: f32| (a != b) as i32),
                Instr::F32Lt(o) => bin!(regs, o, |a: f32, b: f32| (a < b) as i32),
                Instr::F32Gt(o) => bin!(regs, o, |a: f32, b: f32| (a > b) as i32),
                Instr::F32Le(o) => bin!(regs, o, |a: f32, b: f32| (a <= b) as i32),
                Instr::F32Ge(o) => bin!(regs, o, |a: f32, b: f32| (a >= b) as i32),
                Instr::F32Abs(o) => un!(regs, o, num::f32_abs),
                Instr::F32Neg(o) => un!(regs, o, num::f32_neg),
                Instr::F32Ceil(o) => un!(regs, o, num::f32_ceil),
                Instr::F32Floor(o) => un!(regs, o, num::f32_floor),
                Instr::F32Trunc(o) => un!(regs, o, num::f32_trunc),
                Instr::F32Nearest(o) => un!(regs, o, num::f32_nearest),
                Instr::F32Sqrt(o) => un!(regs, o, num::f32_sqrt),
                Instr::F32Add(o) => bin!(regs, o, |a: f32, b: f32| a + b),
                Instr::F32Sub(o) => bin!(regs, o, |a: f32, b: f32| a - b),
                Instr::F32Mul(o) => bin!(regs, o, |a: f32, b: f32| a * b),
                Instr::F32Div(o) => bin!(regs, o, |a: f32, b: f32| a / b),
                Instr::F32Min(o) => bin!(regs, o, num::f32_min),
                Instr::F32Max(o) => bin!(regs, o, num::f32_max),
                Instr::F32Copysign(o) => bin!(regs, o, num::f32_copysign),
                // ----- f64 -----
                Instr::F64Eq(o) => bin!(regs, o, |a: f64, b: f64| (a == b) as i32),
                Instr::F64Ne(o) => bin!(regs, o, |a: f64, b: f64| (a != b) as i32),
                Instr::F64Lt(o) => bin!(regs, o, |a: f64, b: f64| (a < b) as i32),
                Instr::F64Gt(o) => bin!(regs, o, |a: f64, b: f64| (a > b) as i32),
                Instr::F64Le(o) => bin!(regs, o, |a: f64, b: f64| (a <= b) as i32),
                Instr::F64Ge(o) => bin!(regs, o, |a: f64, b: f64| (a >= b) as i32),
                Instr::F64Abs(o) => un!(regs, o, num::f64_abs),
                Instr::F64Neg(o) => un!(regs, o, num::f64_neg),
                Instr::F64Ceil(o) => un!(regs, o, num::f64_ceil),
                Instr::F64Floor(o) => un!(regs, o, num::f64_floor),
                Instr::F64Trunc(o) => un!(regs, o, num::f64_trunc),
                Instr::F64Nearest(o) => un!(regs, o, num::f64_nearest),
                Instr::F64Sqrt(o) => un!(regs, o, num::f64_sqrt),
                Instr::F64Add(o) => bin!(regs, o, |a: f64, b: f64| a + b),
                Instr::F64Sub(o) => bin!(regs, o, |a: f64, b: f64| a - b),
                Instr::F64Mul(o) => bin!(regs, o, |a: f64, b: f64| a * b),
                Instr::F64Div(o) => bin!(regs, o, |a: f64, b: f64| a / b),
                Instr::F64Min(o) => bin!(regs, o, num::f64_min),
                Instr::F64Max(o) => bin!(regs, o, num::f64_max),
                Instr::F64Copysign(o) => bin!(regs, o, num::f64_copysign),
                // ----- conversions -----
                Instr::I32WrapI64(o) => un!(regs, o, |a: i64| a as i32),
                Instr::I32TruncF32S(o) => un_trap!(regs, o, num::i32_trunc_f32_s),
                Instr::I32TruncF32U(o) => un_trap!(regs, o, num::i32_trunc_f32_u),
                Instr::I32TruncF64S(o) => un_trap!(regs, o, num::i32_trunc_f64_s),
                Instr::I32TruncF64U(o) => un_trap!(regs, o, num::i32_trunc_f64_u),
                Instr::I64ExtendI32S(o) => un!(regs, o, |a: i32| i64::from(a)),
                Instr::I64ExtendI32U(o) => un!(regs, o, |a: u32| u64::from(a)),
                Instr::I64TruncF32S(o) => un_trap!(regs, o, num::i64_trunc_f32_s),
                Instr::I64TruncF32U(o) => un_trap!(regs, o, num::i64_trunc_f32_u),
                Instr::I64TruncF64S(o) => un_trap!(regs, o, num::i64_trunc_f64_s),
                Instr::I64TruncF64U(o) => un_trap!(regs, o, num::i64_trunc_f64_u),
                Instr::F32ConvertI32S(o) => un!(regs, o, |a: i32| a as f32),
                Instr::F32ConvertI32U(o) => un!(regs, o, |a: u32| a as f32),
                Instr::F32ConvertI64S(o) => un!(regs, o, |a: i64| a as f32),
                Instr::F32ConvertI64U(o) => un!(regs, o, |a: u64| a as f32),
                Instr::F32DemoteF64(o) => un!(regs, o, |a: f64| a as f32),
                Instr::F64ConvertI32S(o) => un!(regs, o, |a: i32| f64::from(a)),
                Instr::F64ConvertI32U(o) => un!(regs, o, |a: u32| f64::from(a)),
                Instr::F64ConvertI64S(o) => un!(regs, o, |a: i64| a as f64),
                Instr::F64ConvertI64U(o) => un!(regs, o, |a: u64| a as f64),
                Instr::F64PromoteF32(o) => un!(regs, o, |a: f32| f64::from(a)),
                // Reinterpretations: the slot already holds the bits.
                Instr::I32ReinterpretF32(o)
                | Instr::I64ReinterpretF64(o)
                | Instr::F32ReinterpretI32(o)
                | Instr::F64ReinterpretI64(o) => regs[o.dst as usize] = regs[o.src as usize],
                Instr::I32Extend8S(o) => un!(regs, o, |a: i32| i32::from(a as i8)),
                Instr::I32Extend16S(o) => un!(regs, o, |a: i32| i32::from(a as i16)),
                Instr::I64Extend8S(o) => un!(regs, o, |a: i64| i64::from(a as i8)),
                Instr::I64Extend16S(o) => un!(regs, o, |a: i64| i64::from(a as i16)),
                Instr::I64Extend32S(o) => un!(regs, o, |a: i64| i64::from(a as i32)),
                Instr::I32TruncSatF32S(o) => un!(regs, o, |a: f32| a as i32),
                Instr::I32TruncSatF32U(o) => un!(regs, o, |a: f32| a as u32),
                Instr::I32TruncSatF64S(o) => un!(regs, o, |a: f64| a as i32),
                Instr::I32TruncSatF64U(o) => un!(regs, o, |a: f64| a as u32),
                Instr::I64TruncSatF32S(o) => un!(regs, o, |a: f32| a as i64),
                Instr::I64TruncSatF32U(o) => un!(regs, o, |a: f32| a as u64),
                Instr::I64TruncSatF64S(o) => un!(regs, o, |a: f64| a as i64),
                Instr::I64TruncSatF64U(o) => un!(regs, o, |a: f64| a as u64),
                // ----- memory -----
                Instr::I32Load(o) => load!(regs, mem, o, 4, i32::from_le_bytes),
                Instr::I64Load(o) => load!(regs, mem, o, 8, i64::from_le_bytes),
                Instr::F32Load(o) => load!(regs, mem, o, 4, u32::from_le_bytes),
                Instr::F64Load(o) => load!(regs, mem, o, 8, u64::from_le_bytes),
                Instr::I32Load8S(o) => load!(regs, mem, o, 1, |b: [u8; 1]| i32::from(b[0] as i8)),
                Instr::I32Load8U(o) => load!(regs, mem, o, 1, |b: [u8; 1]| u32::from(b[0])),
                Instr::I32Load16S(o) => {
                    load!(regs, mem, o, 2, |b| i32::from(i16::from_le_bytes(b)))
                }
                Instr::I32Load16U(o) => {
                    load!(regs, mem, o, 2, |b| u32::from(u16::from_le_bytes(b)))
                }
                Instr::I64Load8S(o) => load!(regs, mem, o, 1, |b: [u8; 1]| i64::from(b[0] as i8)),
                Instr::I64Load8U(o) => load!(regs, mem, o, 1, |b: [u8; 1]| u64::from(b[0])),
                Instr::I64Load16S(o) => {
                    load!(regs, mem, o, 2, |b| i64::from(i16::from_le_bytes(b)))
                }
                Instr::I64Load16U(o) => {
                    load!(regs, mem, o, 2, |b| u64::from(u16::from_le_bytes(b)))
                }
                Instr::I64Load32S(o) => {
                    load!(regs, mem, o, 4, |b| i64::from(i32::from_le_bytes(b)))
                }
                Instr::I64Load32U(o) => {
                    load!(regs, mem, o, 4, |b| u64::from(u32::from_le_bytes(b)))
                }
                Instr::I32Store(o) | Instr::F32Store(o) => {
                    store!(regs, mem, o, 4, |v: u64| (v as u32).to_le_bytes())
                }
                Instr::I64Store(o) | Instr::F64Store(o) => {
                    store!(regs, mem, o, 8, |v: u64| v.to_le_bytes())
                }
                Instr::I32Store8(o) | Instr::I64Store8(o) => {
                    store!(regs, mem, o, 1, |v: u64| [v as u8])
                }
                Instr::I32Store16(o) | Instr::I64Store16(o) => {
                    store!(regs, mem, o, 2, |v: u64| (v as u16).to_le_bytes())
                }
                Instr::I64Store32(o) => store!(regs, mem, o, 4, |v: u64| (v as u32).to_le_bytes()),
                Instr::MemorySize { dst } => {
                    regs[dst as usize] = u64::from((mem.len() / crate::memory::PAGE_SIZE) as u32);
                }
                Instr::MemoryGrow { dst, delta } => {
                    let delta = regs[delta as usize] as u32;
                    let m = mem_id.expect("validated: memory exists");
                    let result = memories[m].grow(delta).map_or(-1i32, |old| old as i32);
                    mem = memories[m].data_mut();
                    regs[dst as usize] = Slot::into_slot(result);
                }
                Instr::MemoryFill { dst, value, len } => {
                    let d = regs[dst as usize] as u32 as usize;
                    let n = regs[len as usize] as u32 as usize;
                    match mem.get_mut(d..d + n) {
                        Some(range) => range.fill(regs[value as usize] as u8),
                        None => return Err(trap(TrapCode::MemoryOutOfBounds)),
                    }
                }
                Instr::MemoryCopy { dst, src, len } => {
                    let d = regs[dst as usize] as u32 as usize;
                    let sr = regs[src as usize] as u32 as usize;
                    let n = regs[len as usize] as u32 as usize;
                    if sr + n > mem.len() || d + n > mem.len() {
                        return Err(trap(TrapCode::MemoryOutOfBounds));
                    }
                    mem.copy_within(sr..sr + n, d);
                }
                Instr::MemoryInit {
                    data,
                    dst,
                    src,
                    len,
                } => {
                    let seg = &datas[inst.datas[data as usize] as usize];
                    let bytes = &seg.bytes[seg.range.clone()];
                    let d = regs[dst as usize] as u32 as usize;
                    let sr = regs[src as usize] as u32 as usize;
                    let n = regs[len as usize] as u32 as usize;
                    match (bytes.get(sr..sr + n), mem.get_mut(d..d + n)) {
                        (Some(from), Some(to)) => to.copy_from_slice(from),
                        _ => return Err(trap(TrapCode::MemoryOutOfBounds)),
                    }
                }
                Instr::DataDrop { data } => {
                    datas[inst.datas[data as usize] as usize].range = 0..0;
                }
                // ----- variables -----
                Instr::Copy { dst, src } => regs[dst as usize] = regs[src as usize],
                Instr::Copy2 {
                    dst0,
                    src0,
                    dst1,
                    src1,
                } => {
                    regs[dst0 as usize] = regs[src0 as usize];
                    regs[dst1 as usize] = regs[src1 as usize];
                }
                Instr::I32LoadAdd {
                    dst,
                    base,
                    index,
                    offset,
                } => {
                    let addr =
                        (regs[base as usize] as u32).wrapping_add(regs[index as usize] as u32);
                    let ea = addr as usize + offset as usize;
                    match mem
                        .get(ea..ea + 4)
                        .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    {
                        Some(bytes) => regs[dst as usize] = u64::from(u32::from_le_bytes(bytes)),
                        None => return Err(trap(TrapCode::MemoryOutOfBounds)),
                    }
                }
                Instr::I32Load8UAdd {
                    dst,
                    base,
                    index,
                    offset,
                } => {
                    let addr =
                        (regs[base as usize] as u32).wrapping_add(regs[index as usize] as u32);
                    match mem.get(addr as usize + offset as usize) {
                        Some(&byte) => regs[dst as usize] = u64::from(byte),
                        None => return Err(trap(TrapCode::MemoryOutOfBounds)),
                    }
                }
                Instr::I32StoreAdd {
                    base,
                    index,
                    value,
                    offset,
                } => {
                    let addr =
                        (regs[base as usize] as u32).wrapping_add(regs[index as usize] as u32);
                    let ea = addr as usize + offset as usize;
                    let bytes = (regs[value as usize] as u32).to_le_bytes();
                    match mem.get_mut(ea..ea + 4) {
                        Some(dst) => dst.copy_from_slice(&bytes),
                        None => return Err(trap(TrapCode::MemoryOutOfBounds)),
                    }
                }
                Instr::Select { dst, cond, a, b } => {
                    let pick = if regs[cond as usize] as u32 != 0 {
                        a
                    } else {
                        b
                    };
                    regs[dst as usize] = regs[pick as usize];
                }
                Instr::GlobalGet { dst, global } => {
                    regs[dst as usize] = globals[inst.globals[global as usize] as usize].value;
                }
                Instr::GlobalSet { src, global } => {
                    globals[inst.globals[global as usize] as usize].value = regs[src as usize];
                }
                // ----- tables and references -----
                Instr::TableGet { dst, index, table } => {
                    let t = &tables[inst.tables[table as usize] as usize];
                    match t.elems.get(regs[index as usize] as u32 as usize) {
                        Some(&r) => regs[dst as usize] = r,
                        None => return Err(trap(TrapCode::TableOutOfBounds)),
                    }
                }
                Instr::TableSet {
                    index,
                    value,
                    table,
                } => {
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    match t.elems.get_mut(regs[index as usize] as u32 as usize) {
                        Some(r) => *r = regs[value as usize],
                        None => return Err(trap(TrapCode::TableOutOfBounds)),
                    }
                }
                Instr::TableSize { dst, table } => {
                    let t = &tables[inst.tables[table as usize] as usize];
                    regs[dst as usize] = t.elems.len() as u64;
                }
                Instr::TableGrow {
                    dst,
                    init,
                    delta,
                    table,
                } => {
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    let old = t.elems.len();
                    let delta = regs[delta as usize] as u32 as usize;
                    let max = t.ty.limits.max.unwrap_or(u32::MAX) as usize;
                    // Tables are capped at 10M entries here so no guest can make the host
                    // allocate unboundedly; growing past that fails like hitting the max.
                    let result = match old.checked_add(delta) {
                        Some(new) if new <= max && new <= 10_000_000 => {
                            t.elems.resize(new, regs[init as usize]);
                            old as u32 as i32
                        }
                        _ => -1,
                    };
                    regs[dst as usize] = Slot::into_slot(result);
                }
                Instr::TableFill {
                    index,
                    value,
                    len,
                    table,
                } => {
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    let i = regs[index as usize] as u32 as usize;
                    let n = regs[len as usize] as u32 as usize;
                    match t.elems.get_mut(i..i + n) {
                        Some(range) => range.fill(regs[value as usize]),
                        None => return Err(trap(TrapCode::TableOutOfBounds)),
                    }
                }
                Instr::TableCopy {
                    dst,
                    src,
                    len,
                    dst_table,
                    src_table,
                } => {
                    let d = regs[dst as usize] as u32 as usize;
                    let sr = regs[src as usize] as u32 as usize;
                    let n = regs[len as usize] as u32 as usize;
                    let dt = inst.tables[dst_table as usize] as usize;
                    let st = inst.tables[src_table as usize] as usize;
                    if sr + n > tables[st].elems.len() || d + n > tables[dt].elems.len() {
                        return Err(trap(TrapCode::TableOutOfBounds));
                    }
                    if dt == st {
                        tables[dt].elems.copy_within(sr..sr + n, d);
                    } else {
                        let items: Vec<u64> = tables[st].elems[sr..sr + n].to_vec();
                        tables[dt].elems[d..d + n].copy_from_slice(&items);
                    }
                }
                Instr::TableInit {
                    dst,
                    src,
                    len,
                    table,
                    elem,
                } => {
                    let seg = &elems[inst.elems[elem as usize] as usize];
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    let d = regs[dst as usize] as u32 as usize;
                    let sr = regs[src as usize] as u32 as usize;
                    let n = regs[len as usize] as u32 as usize;
                    match (seg.get(sr..sr + n), t.elems.get_mut(d..d + n)) {
                        (Some(from), Some(to)) => to.copy_from_slice(from),
                        _ => return Err(trap(TrapCode::TableOutOfBounds)),
                    }
                }
                Instr::ElemDrop { elem } => {
                    elems[inst.elems[elem as usize] as usize] = Box::new([]);
                }
                Instr::RefFunc { dst, func } => {
                    regs[dst as usize] = u64::from(inst.funcs[func as usize]) + 1;
                }
                Instr::RefIsNull { dst, src } => {
                    regs[dst as usize] = u64::from(regs[src as usize] == 0);
                }
                // ----- control -----
                Instr::Trap(code) => return Err(trap(code)),
                Instr::Jump { offset } => jump!(offset),
                Instr::JumpIfNez { cond, offset } => {
                    if regs[cond as usize] as u32 != 0 {
                        jump!(offset);
                    }
                }
                Instr::JumpIfEqz { cond, offset } => {
                    if regs[cond as usize] as u32 == 0 {
                        jump!(offset);
                    }
                }
                Instr::JumpIfI32Eq { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a == b)
                }
                Instr::JumpIfI32AndNez { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a & b != 0)
                }
                Instr::JumpIfI32AndEqz { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a & b == 0)
                }
                Instr::JumpIfI32Ne { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a != b)
                }
                Instr::JumpIfI32LtS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i32, b: i32| a < b)
                }
                Instr::JumpIfI32LtU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a < b)
                }
                Instr::JumpIfI32GtS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i32, b: i32| a > b)
                }
                Instr::JumpIfI32GtU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a > b)
                }
                Instr::JumpIfI32LeS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i32, b: i32| a <= b)
                }
                Instr::JumpIfI32LeU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a <= b)
                }
                Instr::JumpIfI32GeS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i32, b: i32| a >= b)
                }
                Instr::JumpIfI32GeU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u32, b: u32| a >= b)
                }
                Instr::JumpIfI64Eq { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u64, b: u64| a == b)
                }
                Instr::JumpIfI64Ne { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u64, b: u64| a != b)
                }
                Instr::JumpIfI64LtS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i64, b: i64| a < b)
                }
                Instr::JumpIfI64LtU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u64, b: u64| a < b)
                }
                Instr::JumpIfI64GtS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i64, b: i64| a > b)
                }
                Instr::JumpIfI64GtU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u64, b: u64| a > b)
                }
                Instr::JumpIfI64LeS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i64, b: i64| a <= b)
                }
                Instr::JumpIfI64LeU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u64, b: u64| a <= b)
                }
                Instr::JumpIfI64GeS { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: i64, b: i64| a >= b)
                }
                Instr::JumpIfI64GeU { lhs, rhs, offset } => {
                    cmp_jump!(lhs, rhs, offset, |a: u64, b: u64| a >= b)
                }
                Instr::JumpTable { index, len } => {
                    let i = (regs[index as usize] as u32).min(len);
                    ip += 1 + i as usize;
                    continue;
                }
                Instr::Return => {}
                Instr::Return1 { src } => regs[0] = regs[src as usize],
                Instr::ReturnMany { base, count } => {
                    regs.copy_within(base as usize, 0, count as usize);
                }
                Instr::Call { func, base } => {
                    let target = inst.funcs[func as usize];
                    enter_callee!(target, fp + base as usize);
                }
                Instr::CallIndirect {
                    ty,
                    index,
                    base,
                    table,
                } => {
                    let t = &tables[inst.tables[table as usize] as usize];
                    let Some(&entry) = t.elems.get(regs[index as usize] as u32 as usize) else {
                        return Err(trap(TrapCode::UndefinedElement));
                    };
                    let Some(target) = entry.checked_sub(1).map(|f| f as u32) else {
                        return Err(trap(TrapCode::IndirectCallToNull));
                    };
                    if funcs[target as usize].ty != inst.type_ids[ty as usize] {
                        return Err(trap(TrapCode::BadSignature));
                    }
                    enter_callee!(target, fp + base as usize);
                }
            }
            match instr {
                Instr::Return | Instr::Return1 { .. } | Instr::ReturnMany { .. } => {
                    frames.pop();
                    if frames.len() <= entry_depth {
                        return Ok(Exit::Returned);
                    }
                    switch_to_top_frame!();
                }
                _ => ip += 1,
            }
        }
    }
}

/// Calls `func` with `args` from the host.
pub(crate) fn call<T>(store: &mut Store<T>, func: Func, args: &[Val]) -> Result<Vec<Val>, Trap> {
    let ty = store.inner.func_type(func.0).clone();
    if args.len() != ty.params().len() || args.iter().zip(ty.params()).any(|(a, &t)| a.ty() != t) {
        return Err(Trap::host(format!(
            "argument type mismatch: function has type {ty}, called with {:?}",
            args.iter().map(Val::ty).collect::<Vec<_>>()
        )));
    }
    let results_len = ty.results().len();
    match store.inner.funcs[func.0 as usize].kind {
        FuncKind::Host { host } => {
            let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
            let f = Arc::clone(&store.hosts[host as usize]);
            f(
                Caller {
                    store,
                    instance: None,
                },
                args,
                &mut results,
            )?;
            Ok(results)
        }
        FuncKind::Wasm { instance, defined } => {
            let s = &mut store.inner;
            let base = s.stack_top;
            let saved_top = s.stack_top;
            let entry_depth = s.frames.len();
            let needed = base + args.len().max(results_len);
            if needed > s.stack.len() {
                if needed > s.engine.config().max_value_slots {
                    return Err(trap(TrapCode::StackOverflow));
                }
                s.stack.resize(needed.max(1024), 0);
            }
            for (i, a) in args.iter().enumerate() {
                s.stack[base + i] = a.to_slot();
            }
            let code = code_of(&s.instances, instance, defined)?;
            let limits = Limits::of(s);
            let result = push_frame(
                &mut s.frames,
                &mut s.stack,
                limits,
                func.0,
                instance,
                code,
                base,
            )
            .and_then(|()| run_to_completion(store, entry_depth));
            let s = &mut store.inner;
            if let Err(trap) = result {
                let backtrace = backtrace(s, entry_depth);
                s.frames.truncate(entry_depth);
                s.stack_top = saved_top;
                return Err(trap.with_backtrace(backtrace));
            }
            s.stack_top = saved_top;
            Ok(ty
                .results()
                .iter()
                .enumerate()
                .map(|(i, &t)| Val::from_slot(s.stack[base + i], t))
                .collect())
        }
    }
}

/// Runs the loop, serving host calls, until the entry frame returns.
fn run_to_completion<T>(store: &mut Store<T>, entry_depth: usize) -> Result<(), Trap> {
    loop {
        match run(&mut store.inner, entry_depth)? {
            Exit::Returned => return Ok(()),
            Exit::Host { func, base } => call_host_from_wasm(store, func, base)?,
        }
    }
}

fn call_host_from_wasm<T>(store: &mut Store<T>, func: u32, base: usize) -> Result<(), Trap> {
    let s = &mut store.inner;
    let ty = s.func_type(func).clone();
    let FuncKind::Host { host } = s.funcs[func as usize].kind else {
        unreachable!("Exit::Host names a host function");
    };
    let caller = s.frames.last().map(|f| Instance(f.instance));
    let args: Vec<Val> = ty
        .params()
        .iter()
        .enumerate()
        .map(|(i, &t)| Val::from_slot(s.stack[base + i], t))
        .collect();
    let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
    // Re-entrant calls from the host start above the caller's frame.
    let saved_top = s.stack_top;
    if let Some(f) = s.frames.last() {
        // SAFETY: frames point at store-owned code (see `push_frame`).
        s.stack_top = f.fp + unsafe { &*f.code.0 }.frame_size;
    }
    let f = Arc::clone(&store.hosts[host as usize]);
    let outcome = f(
        Caller {
            store,
            instance: caller,
        },
        &args,
        &mut results,
    );
    let s = &mut store.inner;
    s.stack_top = saved_top;
    outcome?;
    for (i, (v, &t)) in results.iter().zip(ty.results()).enumerate() {
        if v.ty() != t {
            return Err(Trap::host(format!(
                "host function returned {:?} where {t} was declared",
                v.ty()
            )));
        }
        s.stack[base + i] = v.to_slot();
    }
    Ok(())
}

fn backtrace(s: &StoreInner, entry_depth: usize) -> Vec<BacktraceFrame> {
    s.frames[entry_depth..]
        .iter()
        .rev()
        .map(|f| {
            let inst = &s.instances[f.instance as usize];
            let module = &inst.module.module;
            let func_index = match s.funcs[f.func as usize].kind {
                FuncKind::Wasm { defined, .. } => module.num_imported_functions + defined,
                FuncKind::Host { .. } => f.func,
            };
            BacktraceFrame {
                func_index,
                name: module.names.function(func_index).map(str::to_owned),
            }
        })
        .collect()
}
