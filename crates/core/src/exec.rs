//! The interpreter.
//!
//! Each bytecode instruction has a handler function; handlers chain into each other (see
//! "Threaded execution" below). Wasm calls never recurse on the native stack: a call pushes
//! a [`Frame`] on the store's frame stack and continues with the callee's code; a return
//! pops it. Calls to host functions leave the interpreter (returning [`Exit::Host`]) so the
//! host closure can get the whole `&mut Store`, and execution is resumed afterwards.
//!
//! Instruction fetch and slot access are unchecked: `translate::verify` has proven for every
//! function that all slots lie inside its frame, all jumps inside its code, and that control
//! cannot run off the end; `push_frame` guarantees the frame lies inside the value stack.
//! Linear memory accesses stay bounds-checked (against the current length).

use std::sync::Arc;

use crate::instr::{Bin, Instr, Load, Store as StoreOp, Un};
use crate::num;
use crate::store::{CallInfo, Caller, Func, FuncEntity, InstanceEntity, IpPtr};
use crate::store::{Frame, FuncKind, Instance, Store, StoreInner};
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

/// Why execution stopped without a trap.
pub(crate) enum Exit {
    /// The entry frame returned.
    Returned,
    /// A call to host function `func` (store id) with arguments at absolute slot `base`, a
    /// single result going to absolute slot `ret`.
    Host { func: u32, base: usize, ret: usize },
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
            // Frame records hold slot indices in 32 bits.
            max_slots: config.max_value_slots.min(MAX_SLOTS),
        }
    }
}

/// Most value-stack slots whatever the configuration: slot indices, frame ends and the
/// slack beyond them fit in the 32 bits of `Frame::fp`/`Frame::ret`.
const MAX_SLOTS: usize = (u32::MAX / 2) as usize;

/// Slots the value stack keeps beyond the end of the top frame: `push_frame` zeroes the
/// locals and copies the constants of a frame as whole 8-slot blocks (up to
/// [`BLOCKED_SLOTS`] of each), which may run past the frame's end into these slots. Nothing
/// above the top frame is live, so they may hold garbage.
const STACK_SLACK: usize = BLOCKED_SLOTS;

/// Locals and constants up to this many are written as 1, 2 or 4 fixed blocks of 8 slots:
/// a few vector stores, no loop and no libc call. Exact-count loops were turned into libc
/// `memset`/`memmove` calls by LLVM; those calls were ~3% of a CPython profile (a CPython
/// call copies 11 constants on average), but most of that was the stores themselves: the
/// blocks made calls ~1% faster overall. Larger ranges still use `fill`/`copy_from_slice`.
const BLOCKED_SLOTS: usize = 32;

type Block = [u64; 8];

/// The whole-block length of `n` slots (see [`BLOCKED_SLOTS`]), or `n` if `n` is larger.
pub(crate) const fn blocked_len(n: usize) -> usize {
    match n {
        0..=8 => 8,
        9..=16 => 16,
        17..=BLOCKED_SLOTS => BLOCKED_SLOTS,
        _ => n,
    }
}

/// Writes `blocked_len(n)` slots at `dst`, block `i` from `block(i)`; `false` (and
/// nothing written) if `n > BLOCKED_SLOTS`.
///
/// # Safety
/// `dst..dst + blocked_len(n)` is writable, and `block` reads only what its caller
/// guarantees for blocks `0..blocked_len(n) / 8`.
#[inline(always)]
unsafe fn write_blocks(dst: *mut u64, n: usize, block: impl Fn(usize) -> Block) -> bool {
    if n > BLOCKED_SLOTS {
        return false;
    }
    let blocks = blocked_len(n) / 8;
    for i in 0..BLOCKED_SLOTS / 8 {
        if i < blocks {
            // SAFETY: block `i < blocks` lies inside `dst..dst + blocked_len(n)`.
            unsafe { dst.add(i * 8).cast::<Block>().write_unaligned(block(i)) };
        }
    }
    true
}

/// Records in the caller's frame (the top one) that it continues after the call at `ip`
/// and where the call's single result goes if not to its base (`Frame::ret`); returns the
/// absolute slots where the callee's frame starts (`base` in the caller's) and where its
/// single result goes (`result` in the caller's).
///
/// # Safety
/// `ip` points at a call instruction in the code of the top frame.
#[inline(always)]
unsafe fn leave_caller(frames: &mut [Frame], ip: Ip, base: u16, result: u16) -> (usize, usize) {
    let frame = frames.last_mut().expect("the caller's frame");
    // SAFETY: a call is never the last instruction of verified code.
    frame.ip = IpPtr(unsafe { ip.add(1) });
    let fp = frame.fp as usize;
    let ret = fp + result as usize;
    // Below `Limits::max_slots` (the caller's frame is in the stack), so it fits.
    frame.ret = if result == base { NO_RET } else { ret as u32 };
    (fp + base as usize, ret)
}

/// `Frame::ret` of a frame whose pending call returns its result to the call's base.
const NO_RET: u32 = u32::MAX;

/// Consumes one unit of `fuel`, if metered; `Err` when it has run out (a trap, unless
/// profiling: see [`Cx::fuel_out`]).
#[inline(always)]
fn consume_fuel(fuel: &mut Option<u64>) -> Result<(), TrapCode> {
    if let Some(f) = fuel.as_mut() {
        if *f == 0 {
            return Err(TrapCode::OutOfFuel);
        }
        *f -= 1;
    }
    Ok(())
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
    info: &CallInfo,
    fp: usize,
) -> Result<(), Trap> {
    if frames.len() >= limits.max_depth {
        return Err(trap(TrapCode::StackOverflow));
    }
    let end = fp + info.frame_size as usize;
    if end + STACK_SLACK > stack.len() {
        grow_stack(stack, end, limits.max_slots)?;
    }
    let locals_start = fp + info.num_params as usize;
    let num_locals = info.num_locals as usize;
    let consts_start = locals_start + num_locals;
    let num_consts = info.num_consts as usize;
    debug_assert!(consts_start + num_consts <= end);
    // Declared locals read as zero on every call, whatever an earlier frame left there.
    // Zeroing comes first: its blocks may cover constant slots, which are written next.
    // SAFETY: `locals_start + blocked_len(num_locals)` is at most `end + STACK_SLACK` (for
    // a count that is blocked at all), and the stack holds that many slots.
    let zeroed = unsafe {
        let dst = stack.as_mut_ptr().add(locals_start);
        write_blocks(dst, num_locals, |_| [0; 8])
    };
    if !zeroed {
        stack[locals_start..consts_start].fill(0);
    }
    // SAFETY: the destination as above; `info.consts` holds `blocked_len(num_consts)`
    // values (padded, see `CallInfo`), so every block read is inside it.
    let copied = unsafe {
        let dst = stack.as_mut_ptr().add(consts_start);
        let src = info.consts;
        write_blocks(dst, num_consts, |i| {
            src.add(i * 8).cast::<Block>().read_unaligned()
        })
    };
    if !copied {
        // SAFETY: `info` describes a `CompiledFunc` owned by the store (see `CallInfo`):
        // `consts..consts + num_consts` is its constant slice.
        let consts = unsafe { std::slice::from_raw_parts(info.consts, num_consts) };
        stack[consts_start..consts_start + num_consts].copy_from_slice(consts);
    }
    // Both below `Limits::max_slots` (checked above for `end`), so they fit.
    frames.push(Frame {
        ip: IpPtr(info.ops),
        fp: fp as u32,
        ret: NO_RET,
        instance: info.instance,
        func,
    });
    Ok(())
}

/// Grows the value stack to hold at least `end + STACK_SLACK` slots (geometrically, up to
/// the limit plus the slack).
#[cold]
fn grow_stack(stack: &mut Vec<u64>, end: usize, limit: usize) -> Result<(), Trap> {
    if end > limit {
        return Err(trap(TrapCode::StackOverflow));
    }
    let new_len = (stack.len() * 2)
        .max(1024)
        .min(limit)
        .max(end)
        .saturating_add(STACK_SLACK);
    stack.resize(new_len, 0);
    Ok(())
}

/// The call entry of function `target` with its code filled in, translating the code on the
/// function's first call; `None` for a host function.
#[cold]
fn resolve(s: &mut StoreInner, target: u32) -> Result<Option<CallInfo>, Trap> {
    match s.funcs[target as usize].kind {
        FuncKind::Host { .. } => Ok(None),
        FuncKind::Wasm { instance, defined } => {
            let code = code_of(&s.instances, instance, defined)?;
            let info = &mut s.calls[target as usize];
            // SAFETY: `code_of` points at store-owned code (see `CallInfo`).
            info.set_code(unsafe { &*code });
            Ok(Some(*info))
        }
    }
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
        .code_for_call(defined)
        .map(Arc::as_ptr)
        .map_err(|e| Trap::host(format!("function failed to compile: {e}")))
}

// ---------------------------------------------------------------------------------------
// Threaded execution
// ---------------------------------------------------------------------------------------
//
// Every bytecode instruction is executed by its own handler function; a translated
// function's code is a sequence of [`Op`]s, each the instruction plus the address of its
// handler. A handler does its work and then *dispatches*: it calls the handler of the next
// op, passing the interpreter state in argument registers (`ip`, `sp`, the memory base and
// length, and the execution context `cx`).
//
// Why: with one `loop { match }` every instruction ends in the same indirect jump, whose
// target the CPU's branch predictor can hardly guess, and the state lives in whatever
// registers the one huge function could spare (the memory length was spilled to the stack
// in the profile of the loop version, and 40% of CPython's samples sat on the shared
// dispatch sequence). With a dispatch at the end of every handler each one gets its own
// predictor history ("threaded code"), and the hot state stays in registers.
//
// Backends (selected by `build.rs`, one set of handlers for both):
// - `wasmi_py_tail`: the dispatch is a call in tail position, which LLVM compiles to a jump
//   (sibling-call optimisation) when optimising for x86_64/aarch64. Stable Rust cannot
//   *require* that (`become` is unstable), so `tests/native_stack.rs` runs every kind of
//   instruction millions of times on a thread with a small native stack: a handler whose
//   dispatch is not a jump overflows it.
// - otherwise (debug builds, other targets, or the `portable-dispatch` feature): a handler
//   stores the state in `cx` and returns [`Done::Continue`] to a `loop` in [`execute`].

/// Instruction pointer: an op of a verified function's code.
pub(crate) type Ip = *const Op;

/// One executable instruction: the handler to run and the instruction it runs.
#[derive(Clone, Copy)]
pub struct Op {
    pub(crate) handler: Handler,
    pub(crate) instr: Instr,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.instr.fmt(f)
    }
}

impl Op {
    pub(crate) fn new(instr: Instr) -> Self {
        Self {
            handler: handler_for(&instr),
            instr,
        }
    }
}

/// A handler: runs the instruction at `ip` and everything after it until execution leaves
/// the interpreter (returns from the entry frame, calls the host, traps).
///
/// # Safety
///
/// `ip` points at an op whose handler is this one, in the code of the frame on top of
/// `cx`'s frame stack; that code passed `translate::verify`. `sp` points at that frame's
/// first slot, and the frame's `frame_size` slots lie inside the value stack. `mem`/`len`
/// are the base and length of the current instance's memory 0 (dangling/0 without one),
/// equal to `cx.mem`/`cx.len`.
pub(crate) type Handler = unsafe fn(Ip, Sp, *mut u8, usize, &mut Cx<'_>) -> Done;

/// Why a handler returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    /// Portable backend only: run the op at `cx.ip` next.
    #[cfg_attr(wasmi_py_tail, allow(dead_code))]
    Continue,
    /// The entry frame returned.
    Return,
    /// Call the host function `cx.host`.
    Host,
    /// Stop with the trap in `cx.trap`.
    Trap,
}

/// The current frame's slots: a pointer to its first slot.
#[derive(Clone, Copy)]
pub(crate) struct Sp(*mut u64);

impl Sp {
    /// Reads slot `r`.
    ///
    /// # Safety
    /// `r` is a slot of a verified instruction of the current frame (`r < frame_size`).
    #[inline(always)]
    unsafe fn get(self, r: u16) -> u64 {
        // SAFETY: by the contract, `r` lies inside the frame, which lies inside the stack.
        unsafe { *self.0.add(r as usize) }
    }

    /// Writes slot `r`.
    ///
    /// # Safety
    /// As for [`Sp::get`].
    #[inline(always)]
    unsafe fn set(self, r: u16, v: u64) {
        // SAFETY: as for `get`.
        unsafe { *self.0.add(r as usize) = v }
    }
}

/// The execution context: the store and why execution stopped.
pub(crate) struct Cx<'a> {
    s: &'a mut StoreInner,
    entry_depth: usize,
    limits: Limits,
    /// The instance of the current frame (store id and entity).
    instance_id: u32,
    inst: *const InstanceEntity,
    /// Store id of the current instance's memory 0.
    mem_id: Option<usize>,
    /// The value of the current instance's global 0 (dangling without one: no verified
    /// code of such an instance names it), for the `Global0*` instructions. Derived from
    /// `s.globals.as_mut_ptr()`, as are all global accesses while executing, so no
    /// reference to the globals is made that could invalidate it; the globals do not move
    /// while execution is inside the interpreter (they are added only through
    /// `&mut Store`, which a host function gets only after `run` has returned).
    g0: *mut u64,
    /// Set with [`Done::Host`]: the host function, the absolute slot of its arguments and
    /// where a single result goes.
    host: (u32, usize, usize),
    /// Set with [`Done::Trap`].
    trap: Option<Trap>,
    /// Set with [`Done::Trap`] by [`Cx::trap`]: the op that trapped (null if the trap
    /// did not come from an op of the top frame: it was raised at a call).
    trap_ip: Ip,
    /// Where to continue: set by the slow paths (calls, returns to another instance,
    /// `memory.grow`) and, in the portable backend, by every handler. `mem`/`len` are
    /// always those of the current instance's memory 0.
    ip: Ip,
    sp: Sp,
    mem: *mut u8,
    len: usize,
}

impl<'a> Cx<'a> {
    /// A context resuming the top frame of `s`.
    fn new(s: &'a mut StoreInner, entry_depth: usize) -> Self {
        let limits = Limits::of(s);
        let mut cx = Self {
            s,
            entry_depth,
            limits,
            instance_id: u32::MAX,
            inst: std::ptr::null(),
            mem_id: None,
            g0: std::ptr::NonNull::dangling().as_ptr(),
            host: (0, 0, 0),
            trap: None,
            trap_ip: std::ptr::null(),
            ip: std::ptr::null(),
            sp: Sp(std::ptr::null_mut()),
            mem: std::ptr::NonNull::dangling().as_ptr(),
            len: 0,
        };
        cx.resume_top_frame();
        cx
    }

    /// Makes `instance` current: its entity and its memory 0.
    fn set_instance(&mut self, instance: u32) {
        let inst = &self.s.instances[instance as usize];
        self.instance_id = instance;
        self.inst = inst;
        self.mem_id = inst.memories.first().map(|&m| m as usize);
        self.g0 = match inst.globals.first() {
            Some(&g) => self.global_ptr(g as usize),
            None => std::ptr::NonNull::dangling().as_ptr(),
        };
        self.refresh_memory();
    }

    /// The value of global `id` (store id), found without making a reference to the
    /// globals (see `g0`).
    #[inline(always)]
    fn global_ptr(&mut self, id: usize) -> *mut u64 {
        let globals = &mut self.s.globals;
        assert!(id < globals.len(), "instances name existing globals");
        // SAFETY: `id` is in bounds (checked above); `addr_of_mut!` makes no reference.
        unsafe { std::ptr::addr_of_mut!((*globals.as_mut_ptr().add(id)).value) }
    }

    /// The value of the current instance's global `global` (module index).
    #[inline(always)]
    fn global(&mut self, global: u32) -> *mut u64 {
        let id = self.inst().globals[global as usize] as usize;
        self.global_ptr(id)
    }

    /// Re-reads the base and length of the current memory (after it may have grown).
    fn refresh_memory(&mut self) {
        match self.mem_id {
            Some(m) => {
                let data = self.s.memories[m].data_mut();
                self.mem = data.as_mut_ptr();
                self.len = data.len();
            }
            None => {
                self.mem = std::ptr::NonNull::dangling().as_ptr();
                self.len = 0;
            }
        }
    }

    /// Continues with the frame on top of the frame stack.
    fn resume_top_frame(&mut self) {
        let frame = self.s.frames.last().expect("a frame to resume");
        let (ip, fp, instance) = (frame.ip.0, frame.fp as usize, frame.instance);
        if instance != self.instance_id {
            self.set_instance(instance);
        } else {
            self.refresh_memory();
        }
        self.ip = ip;
        // `push_frame` made `fp + frame_size <= stack.len()`.
        self.sp = Sp(self.s.stack[fp..].as_mut_ptr());
    }

    /// The current instance.
    #[inline(always)]
    fn inst(&self) -> &InstanceEntity {
        // SAFETY: `inst` points into `s.instances`, which does not change while execution
        // is inside the interpreter (instances are added only through `&mut Store`, which a
        // host function gets only after `run` has returned `Exit::Host`).
        unsafe { &*self.inst }
    }

    /// Stops with a trap, raised by the op at `ip` (of the top frame's code).
    #[cold]
    #[inline(never)]
    fn trap(&mut self, ip: Ip, code: TrapCode) -> Done {
        self.fail(ip, trap(code))
    }

    /// Stops with `trap`, raised by the op at `ip`.
    #[cold]
    fn fail(&mut self, ip: Ip, trap: Trap) -> Done {
        self.trap = Some(trap);
        self.trap_ip = ip;
        Done::Trap
    }

    /// Consumes one unit of fuel, if metered.
    #[inline(always)]
    fn consume_fuel(&mut self) -> Result<(), TrapCode> {
        consume_fuel(&mut self.s.fuel)
    }

    /// The fuel has run out: [`TrapCode::OutOfFuel`], or, when profiling (which meters
    /// with the profiler's interval), a sample of the call stack and a refill.
    #[cold]
    #[inline(never)]
    fn fuel_out(&mut self, ip: Ip) -> Result<(), TrapCode> {
        let s = &mut *self.s;
        match &mut s.profile {
            Some(p) => {
                // The top frame is executing the op at `ip` (its saved position is stale).
                let at = |f: &Frame, top: bool| {
                    let after = if top { ip.wrapping_add(1) } else { f.ip.0 };
                    inlined_at(&s.funcs, &s.instances, f.func, after)
                };
                p.sample(&s.frames, None, at);
                s.fuel = Some(p.interval);
                Ok(())
            }
            None => Err(TrapCode::OutOfFuel),
        }
    }

    /// Calls function `target` (store id) whose frame starts at slot `base` of the current
    /// frame; `ip` is the calling instruction. On [`Done::Continue`] the callee's frame is
    /// current and `self.ip/sp/mem/len` are where to continue.
    ///
    /// # Safety
    /// `ip` points into the code of the top frame.
    #[inline]
    unsafe fn call(&mut self, ip: Ip, target: u32, base: u16, result: u16) -> Done {
        let s = &mut *self.s;
        // Borrowed in place, not copied: a copy of the 32-byte-aligned entry made the
        // function realign its stack frame on every call.
        let info = &s.calls[target as usize];
        if info.ops.is_null() {
            // SAFETY: this function's contract.
            return unsafe { self.call_first(ip, target, base, result) };
        }
        if consume_fuel(&mut s.fuel).is_err() {
            // SAFETY: this function's contract.
            return unsafe { self.call_refueled(ip, target, base, result) };
        }
        // SAFETY: this function's contract.
        let (callee_fp, _) = unsafe { leave_caller(&mut s.frames, ip, base, result) };
        if let Err(trap) = push_frame(
            &mut s.frames,
            &mut s.stack,
            self.limits,
            target,
            info,
            callee_fp,
        ) {
            return self.fail(ip, trap);
        }
        // Verified code is never empty, so `ops` is its first op.
        self.ip = info.ops;
        self.sp = Sp(s.stack.as_mut_ptr().wrapping_add(callee_fp));
        let instance = info.instance;
        if instance != self.instance_id {
            self.set_instance(instance);
        }
        Done::Continue
    }

    /// [`Cx::call`] when the fuel has run out: a trap, or the call after a refill.
    ///
    /// # Safety
    /// As for [`Cx::call`].
    #[cold]
    #[inline(never)]
    unsafe fn call_refueled(&mut self, ip: Ip, target: u32, base: u16, result: u16) -> Done {
        match self.fuel_out(ip) {
            // SAFETY: as for this function; the refill is at least one unit, so this
            // does not recur.
            Ok(()) => unsafe { self.call(ip, target, base, result) },
            Err(code) => self.trap(ip, code),
        }
    }

    /// [`Cx::call`] of a function whose call entry has no code: a host function, or a wasm
    /// function called for the first time (translated here, then called).
    ///
    /// # Safety
    /// As for [`Cx::call`].
    #[cold]
    #[inline(never)]
    unsafe fn call_first(&mut self, ip: Ip, target: u32, base: u16, result: u16) -> Done {
        match resolve(self.s, target) {
            // SAFETY: as for this function; the entry now has code, so this does not recur.
            Ok(Some(_)) => unsafe { self.call(ip, target, base, result) },
            Ok(None) => {
                // SAFETY: this function's contract.
                let (callee_fp, ret) =
                    unsafe { leave_caller(&mut self.s.frames, ip, base, result) };
                self.host = (target, callee_fp, ret);
                Done::Host
            }
            Err(trap) => self.fail(ip, trap),
        }
    }

    /// Pops the current frame. On [`Done::Continue`] the caller's frame is current and
    /// `self.ip/sp/mem/len` are where to continue.
    #[inline(always)]
    fn ret(&mut self) -> Done {
        self.ret_with(None)
    }

    /// [`Cx::ret`] with one result: it is in the callee's slot 0 already (`Return1`
    /// writes it there, the call's base); if the caller's pending call wanted it
    /// elsewhere (`Frame::ret`), it is written there too.
    #[inline(always)]
    fn ret1(&mut self, value: u64) -> Done {
        self.ret_with(Some(value))
    }

    /// [`Cx::ret`], and with a `result`, [`Cx::ret1`] (inlined with a constant argument,
    /// so each is compiled without the other's test).
    ///
    /// Performance: `ret` is read from the caller's frame record with the fields the return
    /// reads anyway, and the slot written only when it is not the base. Reading it from the
    /// callee's record (written microseconds before for a small callee) or storing the
    /// base a second time (at an address known late: a memory-ordering conflict with the
    /// caller's next read of it) each made recursive `fib` ~9% slower.
    #[inline(always)]
    fn ret_with(&mut self, result: Option<u64>) -> Done {
        self.s.frames.pop();
        if self.s.frames.len() <= self.entry_depth {
            return Done::Return;
        }
        let Some(frame) = self.s.frames.last() else {
            return Done::Return;
        };
        let (ip, fp, instance, ret) = (frame.ip.0, frame.fp as usize, frame.instance, frame.ret);
        if instance != self.instance_id {
            self.set_instance(instance);
        }
        self.ip = ip;
        let stack = self.s.stack.as_mut_ptr();
        // The caller's frame is below the callee's, inside the stack.
        self.sp = Sp(stack.wrapping_add(fp));
        if let (Some(value), true) = (result, ret != NO_RET) {
            // SAFETY: `ret` is the caller's `result` slot (`leave_caller`), which `verify`
            // proved to be at most the caller's frame size, and `push_frame` made the stack
            // hold the caller's frame plus `STACK_SLACK > 0` slots (it never shrinks).
            unsafe { *stack.add(ret as usize) = value };
        }
        Done::Continue
    }

    /// Grows the current memory by `delta` pages: the old size, or -1.
    #[cold]
    fn memory_grow(&mut self, delta: u32) -> i32 {
        let m = self.mem_id.expect("validated: memory exists");
        let result = self.s.memories[m]
            .grow(delta)
            .map_or(-1i32, |old| old as i32);
        self.refresh_memory();
        result
    }
}

/// Runs the op at `ip` and dispatches to the next ones.
macro_rules! dispatch {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident) => {{
        #[cfg(wasmi_py_tail)]
        {
            // SAFETY: `$ip` is a verified successor of the current op in the same frame's
            // code (or the entry of a frame just made current), so the handler contract
            // holds for it.
            return unsafe { ((*$ip).handler)($ip, $sp, $mem, $len, $cx) };
        }
        #[cfg(not(wasmi_py_tail))]
        {
            $cx.ip = $ip;
            $cx.sp = $sp;
            $cx.mem = $mem;
            $cx.len = $len;
            return Done::Continue;
        }
    }};
}

/// Continues where a slow path left `cx` (after [`Done::Continue`]), or stops.
macro_rules! resume {
    ($cx:ident, $done:expr) => {{
        match $done {
            Done::Continue => {
                let (ip, sp, mem, len) = ($cx.ip, $cx.sp, $cx.mem, $cx.len);
                dispatch!(ip, sp, mem, len, $cx)
            }
            done => return done,
        }
    }};
}

/// Relative jump by `offset` ops; backward jumps (loops) consume fuel when metering.
macro_rules! jump {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $offset:expr) => {{
        let offset: i32 = $offset;
        if offset < 0 {
            if $cx.consume_fuel().is_err() {
                // SAFETY: as below: a verified jump target, for which the handler
                // contract holds.
                return unsafe {
                    refuel_then_dispatch($ip.offset(offset as isize), $sp, $mem, $len, $cx)
                };
            }
        }
        // SAFETY: `verify` proved every jump target lies inside the function's code.
        let ip = unsafe { $ip.offset(offset as isize) };
        dispatch!(ip, $sp, $mem, $len, $cx)
    }};
}

/// Out of fuel before the op at `ip`: a trap, or, when profiling, a sample, a refill and
/// on to `ip`.
///
/// Performance: the handlers *return* this (a tail call, like `Cx::trap`), so their fast
/// path needs no stack frame. Calling `Cx::fuel_out` from the handler and dispatching
/// after it returned made every loop handler save six registers on entry (nbody 1.05x,
/// regex 1.04x, recursion 1.03x), although the call was off the fast path.
///
/// # Safety
/// The handler contract holds for `ip` (a verified op of the current frame's code).
#[cold]
#[inline(never)]
unsafe fn refuel_then_dispatch(ip: Ip, sp: Sp, mem: *mut u8, len: usize, cx: &mut Cx<'_>) -> Done {
    if let Err(code) = cx.fuel_out(ip) {
        return cx.trap(ip, code);
    }
    dispatch!(ip, sp, mem, len, cx)
}

macro_rules! un {
    ($sp:ident, $o:expr, $f:expr) => {{
        let o: Un = $o;
        let v = $f(Slot::from_slot($sp.get(o.src)));
        $sp.set(o.dst, Slot::into_slot(v));
    }};
}

macro_rules! bin {
    ($sp:ident, $o:expr, $f:expr) => {{
        let o: Bin = $o;
        let v = $f(
            Slot::from_slot($sp.get(o.lhs)),
            Slot::from_slot($sp.get(o.rhs)),
        );
        $sp.set(o.dst, Slot::into_slot(v));
    }};
}

/// Unary operator that may trap.
macro_rules! un_trap {
    ($ip:ident, $sp:ident, $cx:ident, $o:expr, $f:expr) => {{
        let o: Un = $o;
        match $f(Slot::from_slot($sp.get(o.src))) {
            Ok(v) => $sp.set(o.dst, Slot::into_slot(v)),
            Err(code) => return $cx.trap($ip, code),
        }
    }};
}

/// Binary operator that may trap.
macro_rules! bin_trap {
    ($ip:ident, $sp:ident, $cx:ident, $o:expr, $f:expr) => {{
        let o: Bin = $o;
        match $f(
            Slot::from_slot($sp.get(o.lhs)),
            Slot::from_slot($sp.get(o.rhs)),
        ) {
            Ok(v) => $sp.set(o.dst, Slot::into_slot(v)),
            Err(code) => return $cx.trap($ip, code),
        }
    }};
}

/// The effective address `addr + offset` of a memory access (`addr` a slot). At most
/// 2^33, so adding an access size cannot overflow.
macro_rules! ea {
    ($sp:ident, $addr:expr, $offset:expr) => {
        ($sp.get($addr) as u32 as usize) + $offset as usize
    };
}

/// The `N` bytes at `mem[ea..]`, or a trap.
macro_rules! read_mem {
    ($ip:ident, $mem:ident, $len:ident, $cx:ident, $ea:expr, $n:literal) => {{
        let ea: usize = $ea;
        if ea + $n > $len {
            return $cx.trap($ip, TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: `ea + N <= len`, and `mem..mem + len` is the current memory.
        unsafe { std::ptr::read_unaligned($mem.add(ea) as *const [u8; $n]) }
    }};
}

/// `mem[ea..ea + N] = bytes`, or a trap.
macro_rules! write_mem {
    ($ip:ident, $mem:ident, $len:ident, $cx:ident, $ea:expr, $n:literal, $bytes:expr) => {{
        let ea: usize = $ea;
        if ea + $n > $len {
            return $cx.trap($ip, TrapCode::MemoryOutOfBounds);
        }
        let bytes: [u8; $n] = $bytes;
        // SAFETY: `ea + N <= len`, and `mem..mem + len` is the current memory.
        unsafe { std::ptr::write_unaligned($mem.add(ea) as *mut [u8; $n], bytes) }
    }};
}

/// `dst = convert(mem[addr + offset .. + N])`; evaluates to the converted value.
macro_rules! load {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $o:expr, $n:literal, $conv:expr) => {{
        let o: Load = $o;
        let v = $conv(read_mem!(
            $ip,
            $mem,
            $len,
            $cx,
            ea!($sp, o.addr, o.offset),
            $n
        ));
        $sp.set(o.dst, Slot::into_slot(v));
        v
    }};
}

/// `mem[addr + offset .. + N] = bytes(value)`.
macro_rules! store {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $o:expr, $n:literal, $bytes:expr) => {{
        let o: StoreOp = $o;
        let bytes = $bytes($sp.get(o.value));
        write_mem!($ip, $mem, $len, $cx, ea!($sp, o.addr, o.offset), $n, bytes)
    }};
}

/// The address `base + index + offset` of the `...Add` accesses: an `i32.add` (32-bit,
/// wrapping) feeding a load's or store's address, the offset added without wrapping.
macro_rules! ea_add {
    ($sp:ident, $base:expr, $index:expr, $offset:expr) => {
        ($sp.get($base) as u32).wrapping_add($sp.get($index) as u32) as usize + $offset as usize
    };
}

/// [`Instr::I32LoadAdd`] and its narrower forms: `dst = convert(mem[base + index + offset
/// .. + N])`; evaluates to the converted value. The one definition of that operation for
/// every instruction containing it.
macro_rules! load_add {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $dst:expr, $base:expr, $index:expr, $offset:expr, $n:literal, $conv:expr) => {{
        let v: u32 = $conv(read_mem!(
            $ip,
            $mem,
            $len,
            $cx,
            ea_add!($sp, $base, $index, $offset),
            $n
        ));
        $sp.set($dst, u64::from(v));
        v
    }};
}

/// [`Instr::I32AddStore`]: `store32(addr + offset, lhs + rhs)`.
macro_rules! add_store {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $addr:expr, $lhs:expr, $rhs:expr, $offset:expr) => {{
        let v = ($sp.get($lhs) as u32).wrapping_add($sp.get($rhs) as u32);
        write_mem!(
            $ip,
            $mem,
            $len,
            $cx,
            ea!($sp, $addr, $offset),
            4,
            v.to_le_bytes()
        )
    }};
}

/// [`Instr::I32AddShl`]: `dst = base + (index << (shift & 31))`.
macro_rules! add_shl {
    ($sp:ident, $dst:expr, $base:expr, $index:expr, $shift:expr) => {{
        let shifted = num::i32_shl($sp.get($index) as i32, $sp.get($shift) as i32);
        $sp.set(
            $dst,
            Slot::into_slot(($sp.get($base) as i32).wrapping_add(shifted)),
        );
    }};
}

/// Little-endian conversions shared by the loads and stores and the fused instructions
/// containing them.
fn le_u32(bytes: [u8; 4]) -> u32 {
    u32::from_le_bytes(bytes)
}
fn le_u8([byte]: [u8; 1]) -> u32 {
    u32::from(byte)
}
fn le_u16(bytes: [u8; 2]) -> u32 {
    u32::from(u16::from_le_bytes(bytes))
}
fn to_le_u32(v: u64) -> [u8; 4] {
    (v as u32).to_le_bytes()
}

/// Jumps by `offset` if `cond` holds, else continues with the next op.
macro_rules! branch {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $cond:expr, $offset:expr) => {{
        if $cond {
            jump!($ip, $sp, $mem, $len, $cx, $offset);
        }
        // SAFETY: a conditional branch is never the last op of verified code.
        let ip = unsafe { $ip.add(1) };
        dispatch!(ip, $sp, $mem, $len, $cx)
    }};
}

/// Fused compare-and-branch.
macro_rules! cmp_jump {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $lhs:ident, $rhs:ident, $offset:ident, $cmp:expr) => {
        branch!(
            $ip,
            $sp,
            $mem,
            $len,
            $cx,
            $cmp(
                Slot::from_slot($sp.get($lhs)),
                Slot::from_slot($sp.get($rhs))
            ),
            $offset
        )
    };
}

/// Continues at entry `index` of the jump table at `table` (clamped to the last entry,
/// the default, `n`). The `n + 1` entries that follow a table are `Jump`s, or returns
/// after jump threading; a `Jump` entry is taken in this same dispatch (CPython's eval
/// loop runs a `br_table` per Python instruction).
macro_rules! table_entry {
    ($table:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $index:expr, $n:expr) => {{
        let index: u32 = $index;
        // SAFETY: `verify` checked the table's `n + 1` entries lie inside the code.
        let entry = unsafe { $table.add(1 + index.min($n) as usize) };
        // SAFETY: as above.
        if let Instr::Jump { offset } = unsafe { (*entry).instr } {
            jump!(entry, $sp, $mem, $len, $cx, offset);
        }
        dispatch!(entry, $sp, $mem, $len, $cx)
    }};
}

/// [`Instr::JumpToTableAnd`] and the sequences ending in it: `before` (the first
/// instruction's work) runs after the fuel check, so a refill re-runs the whole op.
macro_rules! jump_to_table_and {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $offset:expr, $before:block) => {{
        let offset: i32 = $offset;
        if offset < 0 && $cx.consume_fuel().is_err() {
            // Nothing done yet: after a refill this op runs again (and takes its unit).
            return refuel_then_dispatch($ip, $sp, $mem, $len, $cx);
        }
        $before
        // `thread_jumps` made this only for a target that is a `JumpTableAnd`; its
        // entries follow it (verified like every jump table).
        let table = $ip.offset(offset as isize);
        let Instr::JumpTableAnd { dst, lhs, rhs, len: n } = (*table).instr else {
            dispatch!(table, $sp, $mem, $len, $cx)
        };
        let v = ($sp.get(lhs) as u32) & ($sp.get(rhs) as u32);
        $sp.set(dst, u64::from(v));
        table_entry!(table, $sp, $mem, $len, $cx, v, n)
    }};
}

/// Defines a handler per instruction and [`handler_for`], which maps every instruction to
/// its handler (an exhaustive match: an instruction without a handler does not compile).
///
/// `next Name(pattern) => { body }`: the body runs, then the next op.
/// `ctl Name(pattern) => { body }`: the body decides where to go (it must return).
macro_rules! handlers {
    ([$ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident]
     $( $kind:ident $name:ident $args:tt => $body:block )*) => {
        /// The handler of `instr`.
        pub(crate) fn handler_for(instr: &Instr) -> Handler {
            match instr {
                $( Instr::$name { .. } => h::$name, )*
            }
        }

        /// The handlers, named after their instruction.
        #[allow(non_snake_case)]
        mod h {
            use super::*;
            $( handlers!(@fn $kind $name $args [$ip, $sp, $mem, $len, $cx] $body); )*
        }
    };
    (@fn next $name:ident $args:tt [$ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident] $body:block) => {
        #[allow(unused_variables, unused_mut, unused_unsafe, clippy::unnecessary_cast)]
        pub(super) unsafe fn $name($ip: Ip, $sp: Sp, $mem: *mut u8, $len: usize, $cx: &mut Cx<'_>) -> Done {
            // SAFETY: by the handler contract `ip` points at an op whose handler is this
            // one, which `handler_for` chose for exactly this instruction; slots of a
            // verified instruction lie inside the frame at `sp`; a non-terminal
            // instruction is never last in verified code, so `ip + 1` is an op.
            unsafe {
                let Instr::$name $args = (*$ip).instr else {
                    std::hint::unreachable_unchecked()
                };
                #[allow(clippy::let_unit_value)]
                let _ = $body;
                let $ip = $ip.add(1);
                dispatch!($ip, $sp, $mem, $len, $cx)
            }
        }
    };
    (@fn ctl $name:ident $args:tt [$ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident] $body:block) => {
        #[allow(unused_variables, unused_mut, unused_unsafe, clippy::unnecessary_cast)]
        pub(super) unsafe fn $name($ip: Ip, $sp: Sp, $mem: *mut u8, $len: usize, $cx: &mut Cx<'_>) -> Done {
            // SAFETY: as for `next` handlers; the body only moves `ip` to verified targets.
            unsafe {
                let Instr::$name $args = (*$ip).instr else {
                    std::hint::unreachable_unchecked()
                };
                $body
            }
        }
    };
}

handlers! {
    [ip, sp, mem, len, cx]
    next I32Eqz(o) => { un!(sp, o, |a: i32| (a == 0) as i32) }
    next I32Eq(o) => { bin!(sp, o, |a: i32, b: i32| (a == b) as i32) }
    next I32Ne(o) => { bin!(sp, o, |a: i32, b: i32| (a != b) as i32) }
    next I32LtS(o) => { bin!(sp, o, |a: i32, b: i32| (a < b) as i32) }
    next I32LtU(o) => { bin!(sp, o, |a: u32, b: u32| (a < b) as i32) }
    next I32GtS(o) => { bin!(sp, o, |a: i32, b: i32| (a > b) as i32) }
    next I32GtU(o) => { bin!(sp, o, |a: u32, b: u32| (a > b) as i32) }
    next I32LeS(o) => { bin!(sp, o, |a: i32, b: i32| (a <= b) as i32) }
    next I32LeU(o) => { bin!(sp, o, |a: u32, b: u32| (a <= b) as i32) }
    next I32GeS(o) => { bin!(sp, o, |a: i32, b: i32| (a >= b) as i32) }
    next I32GeU(o) => { bin!(sp, o, |a: u32, b: u32| (a >= b) as i32) }
    next I32Clz(o) => { un!(sp, o, |a: u32| a.leading_zeros()) }
    next I32Ctz(o) => { un!(sp, o, |a: u32| a.trailing_zeros()) }
    next I32Popcnt(o) => { un!(sp, o, |a: u32| a.count_ones()) }
    next I32Add(o) => { bin!(sp, o, i32::wrapping_add) }
    next I32Sub(o) => { bin!(sp, o, |a: i32, b: i32| a.wrapping_sub(b)) }
    next I32Mul(o) => { bin!(sp, o, |a: i32, b: i32| a.wrapping_mul(b)) }
    next I32DivS(o) => { bin_trap!(ip, sp, cx, o, num::i32_div_s) }
    next I32DivU(o) => { bin_trap!(ip, sp, cx, o, num::i32_div_u) }
    next I32RemS(o) => { bin_trap!(ip, sp, cx, o, num::i32_rem_s) }
    next I32RemU(o) => { bin_trap!(ip, sp, cx, o, num::i32_rem_u) }
    next I32And(o) => { bin!(sp, o, |a: u32, b: u32| a & b) }
    next I32Or(o) => { bin!(sp, o, |a: u32, b: u32| a | b) }
    next I32Xor(o) => { bin!(sp, o, |a: u32, b: u32| a ^ b) }
    next I32Shl(o) => { bin!(sp, o, num::i32_shl) }
    next I32ShrS(o) => { bin!(sp, o, num::i32_shr_s) }
    next I32ShrU(o) => { bin!(sp, o, num::i32_shr_u) }
    next I32Rotl(o) => { bin!(sp, o, num::i32_rotl) }
    next I32Rotr(o) => { bin!(sp, o, num::i32_rotr) }
    // ----- i64 -----
    next I64Eqz(o) => { un!(sp, o, |a: i64| (a == 0) as i32) }
    next I64Eq(o) => { bin!(sp, o, |a: i64, b: i64| (a == b) as i32) }
    next I64Ne(o) => { bin!(sp, o, |a: i64, b: i64| (a != b) as i32) }
    next I64LtS(o) => { bin!(sp, o, |a: i64, b: i64| (a < b) as i32) }
    next I64LtU(o) => { bin!(sp, o, |a: u64, b: u64| (a < b) as i32) }
    next I64GtS(o) => { bin!(sp, o, |a: i64, b: i64| (a > b) as i32) }
    next I64GtU(o) => { bin!(sp, o, |a: u64, b: u64| (a > b) as i32) }
    next I64LeS(o) => { bin!(sp, o, |a: i64, b: i64| (a <= b) as i32) }
    next I64LeU(o) => { bin!(sp, o, |a: u64, b: u64| (a <= b) as i32) }
    next I64GeS(o) => { bin!(sp, o, |a: i64, b: i64| (a >= b) as i32) }
    next I64GeU(o) => { bin!(sp, o, |a: u64, b: u64| (a >= b) as i32) }
    next I64Clz(o) => { un!(sp, o, |a: u64| u64::from(a.leading_zeros())) }
    next I64Ctz(o) => { un!(sp, o, |a: u64| u64::from(a.trailing_zeros())) }
    next I64Popcnt(o) => { un!(sp, o, |a: u64| u64::from(a.count_ones())) }
    next I64Add(o) => { bin!(sp, o, |a: i64, b: i64| a.wrapping_add(b)) }
    next I64Sub(o) => { bin!(sp, o, |a: i64, b: i64| a.wrapping_sub(b)) }
    next I64Mul(o) => { bin!(sp, o, |a: i64, b: i64| a.wrapping_mul(b)) }
    next I64DivS(o) => { bin_trap!(ip, sp, cx, o, num::i64_div_s) }
    next I64DivU(o) => { bin_trap!(ip, sp, cx, o, num::i64_div_u) }
    next I64RemS(o) => { bin_trap!(ip, sp, cx, o, num::i64_rem_s) }
    next I64RemU(o) => { bin_trap!(ip, sp, cx, o, num::i64_rem_u) }
    next I64And(o) => { bin!(sp, o, |a: u64, b: u64| a & b) }
    next I64Or(o) => { bin!(sp, o, |a: u64, b: u64| a | b) }
    next I64Xor(o) => { bin!(sp, o, |a: u64, b: u64| a ^ b) }
    next I64Shl(o) => { bin!(sp, o, num::i64_shl) }
    next I64ShrS(o) => { bin!(sp, o, num::i64_shr_s) }
    next I64ShrU(o) => { bin!(sp, o, num::i64_shr_u) }
    next I64Rotl(o) => { bin!(sp, o, num::i64_rotl) }
    next I64Rotr(o) => { bin!(sp, o, num::i64_rotr) }
    // ----- f32 -----
    next F32Eq(o) => { bin!(sp, o, |a: f32, b: f32| (a == b) as i32) }
    next F32Ne(o) => { bin!(sp, o, |a: f32, b: f32| (a != b) as i32) }
    next F32Lt(o) => { bin!(sp, o, |a: f32, b: f32| (a < b) as i32) }
    next F32Gt(o) => { bin!(sp, o, |a: f32, b: f32| (a > b) as i32) }
    next F32Le(o) => { bin!(sp, o, |a: f32, b: f32| (a <= b) as i32) }
    next F32Ge(o) => { bin!(sp, o, |a: f32, b: f32| (a >= b) as i32) }
    next F32Abs(o) => { un!(sp, o, num::f32_abs) }
    next F32Neg(o) => { un!(sp, o, num::f32_neg) }
    next F32Ceil(o) => { un!(sp, o, num::f32_ceil) }
    next F32Floor(o) => { un!(sp, o, num::f32_floor) }
    next F32Trunc(o) => { un!(sp, o, num::f32_trunc) }
    next F32Nearest(o) => { un!(sp, o, num::f32_nearest) }
    next F32Sqrt(o) => { un!(sp, o, num::f32_sqrt) }
    next F32Add(o) => { bin!(sp, o, |a: f32, b: f32| a + b) }
    next F32Sub(o) => { bin!(sp, o, |a: f32, b: f32| a - b) }
    next F32Mul(o) => { bin!(sp, o, |a: f32, b: f32| a * b) }
    next F32Div(o) => { bin!(sp, o, |a: f32, b: f32| a / b) }
    next F32Min(o) => { bin!(sp, o, num::f32_min) }
    next F32Max(o) => { bin!(sp, o, num::f32_max) }
    next F32Copysign(o) => { bin!(sp, o, num::f32_copysign) }
    // ----- f64 -----
    next F64Eq(o) => { bin!(sp, o, |a: f64, b: f64| (a == b) as i32) }
    next F64Ne(o) => { bin!(sp, o, |a: f64, b: f64| (a != b) as i32) }
    next F64Lt(o) => { bin!(sp, o, |a: f64, b: f64| (a < b) as i32) }
    next F64Gt(o) => { bin!(sp, o, |a: f64, b: f64| (a > b) as i32) }
    next F64Le(o) => { bin!(sp, o, |a: f64, b: f64| (a <= b) as i32) }
    next F64Ge(o) => { bin!(sp, o, |a: f64, b: f64| (a >= b) as i32) }
    next F64Abs(o) => { un!(sp, o, num::f64_abs) }
    next F64Neg(o) => { un!(sp, o, num::f64_neg) }
    next F64Ceil(o) => { un!(sp, o, num::f64_ceil) }
    next F64Floor(o) => { un!(sp, o, num::f64_floor) }
    next F64Trunc(o) => { un!(sp, o, num::f64_trunc) }
    next F64Nearest(o) => { un!(sp, o, num::f64_nearest) }
    next F64Sqrt(o) => { un!(sp, o, num::f64_sqrt) }
    next F64Add(o) => { bin!(sp, o, |a: f64, b: f64| a + b) }
    next F64Sub(o) => { bin!(sp, o, |a: f64, b: f64| a - b) }
    next F64Mul(o) => { bin!(sp, o, |a: f64, b: f64| a * b) }
    next F64Div(o) => { bin!(sp, o, |a: f64, b: f64| a / b) }
    next F64Min(o) => { bin!(sp, o, num::f64_min) }
    next F64Max(o) => { bin!(sp, o, num::f64_max) }
    next F64Copysign(o) => { bin!(sp, o, num::f64_copysign) }
    // ----- conversions -----
    next I32WrapI64(o) => { un!(sp, o, |a: i64| a as i32) }
    next I32TruncF32S(o) => { un_trap!(ip, sp, cx, o, num::i32_trunc_f32_s) }
    next I32TruncF32U(o) => { un_trap!(ip, sp, cx, o, num::i32_trunc_f32_u) }
    next I32TruncF64S(o) => { un_trap!(ip, sp, cx, o, num::i32_trunc_f64_s) }
    next I32TruncF64U(o) => { un_trap!(ip, sp, cx, o, num::i32_trunc_f64_u) }
    next I64ExtendI32S(o) => { un!(sp, o, |a: i32| i64::from(a)) }
    next I64ExtendI32U(o) => { un!(sp, o, |a: u32| u64::from(a)) }
    next I64TruncF32S(o) => { un_trap!(ip, sp, cx, o, num::i64_trunc_f32_s) }
    next I64TruncF32U(o) => { un_trap!(ip, sp, cx, o, num::i64_trunc_f32_u) }
    next I64TruncF64S(o) => { un_trap!(ip, sp, cx, o, num::i64_trunc_f64_s) }
    next I64TruncF64U(o) => { un_trap!(ip, sp, cx, o, num::i64_trunc_f64_u) }
    next F32ConvertI32S(o) => { un!(sp, o, |a: i32| a as f32) }
    next F32ConvertI32U(o) => { un!(sp, o, |a: u32| a as f32) }
    next F32ConvertI64S(o) => { un!(sp, o, |a: i64| a as f32) }
    next F32ConvertI64U(o) => { un!(sp, o, |a: u64| a as f32) }
    next F32DemoteF64(o) => { un!(sp, o, |a: f64| a as f32) }
    next F64ConvertI32S(o) => { un!(sp, o, |a: i32| f64::from(a)) }
    next F64ConvertI32U(o) => { un!(sp, o, |a: u32| f64::from(a)) }
    next F64ConvertI64S(o) => { un!(sp, o, |a: i64| a as f64) }
    next F64ConvertI64U(o) => { un!(sp, o, |a: u64| a as f64) }
    next F64PromoteF32(o) => { un!(sp, o, |a: f32| f64::from(a)) }
    // Reinterpretations: the slot already holds the bits.
    next I32ReinterpretF32(o) => { sp.set(o.dst, sp.get(o.src)) }
    next I64ReinterpretF64(o) => { sp.set(o.dst, sp.get(o.src)) }
    next F32ReinterpretI32(o) => { sp.set(o.dst, sp.get(o.src)) }
    next F64ReinterpretI64(o) => { sp.set(o.dst, sp.get(o.src)) }
    next I32Extend8S(o) => { un!(sp, o, |a: i32| i32::from(a as i8)) }
    next I32Extend16S(o) => { un!(sp, o, |a: i32| i32::from(a as i16)) }
    next I64Extend8S(o) => { un!(sp, o, |a: i64| i64::from(a as i8)) }
    next I64Extend16S(o) => { un!(sp, o, |a: i64| i64::from(a as i16)) }
    next I64Extend32S(o) => { un!(sp, o, |a: i64| i64::from(a as i32)) }
    next I32TruncSatF32S(o) => { un!(sp, o, |a: f32| a as i32) }
    next I32TruncSatF32U(o) => { un!(sp, o, |a: f32| a as u32) }
    next I32TruncSatF64S(o) => { un!(sp, o, |a: f64| a as i32) }
    next I32TruncSatF64U(o) => { un!(sp, o, |a: f64| a as u32) }
    next I64TruncSatF32S(o) => { un!(sp, o, |a: f32| a as i64) }
    next I64TruncSatF32U(o) => { un!(sp, o, |a: f32| a as u64) }
    next I64TruncSatF64S(o) => { un!(sp, o, |a: f64| a as i64) }
    next I64TruncSatF64U(o) => { un!(sp, o, |a: f64| a as u64) }
    // ----- memory -----
    next I32Load(o) => { load!(ip, sp, mem, len, cx, o, 4, le_u32) }
    next I64Load(o) => { load!(ip, sp, mem, len, cx, o, 8, i64::from_le_bytes) }
    next F32Load(o) => { load!(ip, sp, mem, len, cx, o, 4, u32::from_le_bytes) }
    next F64Load(o) => { load!(ip, sp, mem, len, cx, o, 8, u64::from_le_bytes) }
    next I32Load8S(o) => { load!(ip, sp, mem, len, cx, o, 1, |b: [u8; 1]| i32::from(b[0] as i8)) }
    next I32Load8U(o) => { load!(ip, sp, mem, len, cx, o, 1, le_u8) }
    next I32Load16S(o) => { load!(ip, sp, mem, len, cx, o, 2, |b| i32::from(i16::from_le_bytes(b))) }
    next I32Load16U(o) => { load!(ip, sp, mem, len, cx, o, 2, le_u16) }
    next I64Load8S(o) => { load!(ip, sp, mem, len, cx, o, 1, |b: [u8; 1]| i64::from(b[0] as i8)) }
    next I64Load8U(o) => { load!(ip, sp, mem, len, cx, o, 1, |b: [u8; 1]| u64::from(b[0])) }
    next I64Load16S(o) => { load!(ip, sp, mem, len, cx, o, 2, |b| i64::from(i16::from_le_bytes(b))) }
    next I64Load16U(o) => { load!(ip, sp, mem, len, cx, o, 2, |b| u64::from(u16::from_le_bytes(b))) }
    next I64Load32S(o) => { load!(ip, sp, mem, len, cx, o, 4, |b| i64::from(i32::from_le_bytes(b))) }
    next I64Load32U(o) => { load!(ip, sp, mem, len, cx, o, 4, |b| u64::from(u32::from_le_bytes(b))) }
    next I32Store(o) => { store!(ip, sp, mem, len, cx, o, 4, to_le_u32) }
    next F32Store(o) => { store!(ip, sp, mem, len, cx, o, 4, to_le_u32) }
    next I64Store(o) => { store!(ip, sp, mem, len, cx, o, 8, |v: u64| v.to_le_bytes()) }
    next F64Store(o) => { store!(ip, sp, mem, len, cx, o, 8, |v: u64| v.to_le_bytes()) }
    next I32Store8(o) => { store!(ip, sp, mem, len, cx, o, 1, |v: u64| [v as u8]) }
    next I64Store8(o) => { store!(ip, sp, mem, len, cx, o, 1, |v: u64| [v as u8]) }
    next I32Store16(o) => { store!(ip, sp, mem, len, cx, o, 2, |v: u64| (v as u16).to_le_bytes()) }
    next I64Store16(o) => { store!(ip, sp, mem, len, cx, o, 2, |v: u64| (v as u16).to_le_bytes()) }
    next I64Store32(o) => { store!(ip, sp, mem, len, cx, o, 4, to_le_u32) }
    // ----- memory (bulk and size) -----
    next MemorySize { dst } => {
        sp.set(dst, u64::from((len / crate::memory::PAGE_SIZE) as u32));
    }
    ctl MemoryGrow { dst, delta } => {
        let result = cx.memory_grow(sp.get(delta) as u32);
        sp.set(dst, Slot::into_slot(result));
        let (ip, mem, len) = (ip.add(1), cx.mem, cx.len);
        dispatch!(ip, sp, mem, len, cx)
    }
    next MemoryFill { dst, value, len: n } => {
        let d = sp.get(dst) as u32 as usize;
        let n = sp.get(n) as u32 as usize;
        if d + n > len {
            return cx.trap(ip, TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: `d..d + n` lies inside the memory (checked above).
        std::ptr::write_bytes(mem.add(d), sp.get(value) as u8, n);
    }
    next MemoryCopy { dst, src, len: n } => {
        let d = sp.get(dst) as u32 as usize;
        let s = sp.get(src) as u32 as usize;
        let n = sp.get(n) as u32 as usize;
        if s + n > len || d + n > len {
            return cx.trap(ip, TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: both ranges lie inside the memory (checked above); `copy` allows overlap.
        std::ptr::copy(mem.add(s), mem.add(d), n);
    }
    next MemoryInit { data, dst, src, len: n } => {
        let seg = &cx.s.datas[cx.inst().datas[data as usize] as usize];
        let bytes = &seg.bytes[seg.range.clone()];
        let d = sp.get(dst) as u32 as usize;
        let s = sp.get(src) as u32 as usize;
        let n = sp.get(n) as u32 as usize;
        match bytes.get(s..s + n) {
            Some(from) if d + n <= len => {
                // SAFETY: `d..d + n` lies inside the memory (checked), `from` is host data.
                std::ptr::copy_nonoverlapping(from.as_ptr(), mem.add(d), n);
            }
            _ => return cx.trap(ip, TrapCode::MemoryOutOfBounds),
        }
    }
    next DataDrop { data } => {
        let id = cx.inst().datas[data as usize] as usize;
        cx.s.datas[id].range = 0..0;
    }
    // ----- variables -----
    next Copy { dst, src } => {
        sp.set(dst, sp.get(src));
    }
    next Copy2 { dst0, src0, dst1, src1 } => {
        sp.set(dst0, sp.get(src0));
        sp.set(dst1, sp.get(src1));
    }
    next I32LoadAdd { dst, base, index, offset } => {
        load_add!(ip, sp, mem, len, cx, dst, base, index, offset, 4, le_u32);
    }
    next I32Load8UAdd { dst, base, index, offset } => {
        load_add!(ip, sp, mem, len, cx, dst, base, index, offset, 1, le_u8);
    }
    next I32StoreAdd { base, index, value, offset } => {
        let ea = ea_add!(sp, base, index, offset);
        write_mem!(ip, mem, len, cx, ea, 4, to_le_u32(sp.get(value)));
    }
    next I32AddStore { addr, lhs, rhs, offset } => {
        add_store!(ip, sp, mem, len, cx, addr, lhs, rhs, offset);
    }
    next I32AddShl { dst, base, index, shift } => {
        add_shl!(sp, dst, base, index, shift);
    }
    // ----- sequences: the two instructions' own operations, in order -----
    next I32StoreThenAdd(st, add) => {
        store!(ip, sp, mem, len, cx, st, 4, to_le_u32);
        bin!(sp, add, i32::wrapping_add);
    }
    next I32AddThenAdd(a, b) => {
        bin!(sp, a, i32::wrapping_add);
        bin!(sp, b, i32::wrapping_add);
    }
    next I32AddThenLoad(add, ld) => {
        bin!(sp, add, i32::wrapping_add);
        load!(ip, sp, mem, len, cx, ld, 4, le_u32);
    }
    next I32AddThenLoad16U(add, ld) => {
        bin!(sp, add, i32::wrapping_add);
        load!(ip, sp, mem, len, cx, ld, 2, le_u16);
    }
    next I32Load16UThenShrU(ld, shr) => {
        load!(ip, sp, mem, len, cx, ld, 2, le_u16);
        bin!(sp, shr, num::i32_shr_u);
    }
    next I32LoadThenLoad { dst0, addr0, dst1, addr1, offset0, offset1 } => {
        load!(ip, sp, mem, len, cx, Load { dst: dst0, addr: addr0, offset: u32::from(offset0) }, 4, le_u32);
        load!(ip, sp, mem, len, cx, Load { dst: dst1, addr: addr1, offset: u32::from(offset1) }, 4, le_u32);
    }
    next I32LoadThenStore { dst, addr0, addr1, value, offset0, offset1 } => {
        load!(ip, sp, mem, len, cx, Load { dst, addr: addr0, offset: u32::from(offset0) }, 4, le_u32);
        let st = StoreOp { addr: addr1, value, offset: u32::from(offset1) };
        store!(ip, sp, mem, len, cx, st, 4, to_le_u32);
    }
    next I32StoreThenLoad { addr0, value, dst, addr1, offset0, offset1 } => {
        let st = StoreOp { addr: addr0, value, offset: u32::from(offset0) };
        store!(ip, sp, mem, len, cx, st, 4, to_le_u32);
        load!(ip, sp, mem, len, cx, Load { dst, addr: addr1, offset: u32::from(offset1) }, 4, le_u32);
    }
    next I32StoreThenStore { addr0, value0, addr1, value1, offset0, offset1 } => {
        let st = StoreOp { addr: addr0, value: value0, offset: u32::from(offset0) };
        store!(ip, sp, mem, len, cx, st, 4, to_le_u32);
        let st = StoreOp { addr: addr1, value: value1, offset: u32::from(offset1) };
        store!(ip, sp, mem, len, cx, st, 4, to_le_u32);
    }
    next I32LoadThenAddStore { dst, addr0, addr1, lhs, rhs, offset0, offset1 } => {
        load!(ip, sp, mem, len, cx, Load { dst, addr: addr0, offset: u32::from(offset0) }, 4, le_u32);
        add_store!(ip, sp, mem, len, cx, addr1, lhs, rhs, offset1);
    }
    next I32LoadThenLoadAdd { dst0, addr0, dst1, base1, index1, offset0, offset1 } => {
        load!(ip, sp, mem, len, cx, Load { dst: dst0, addr: addr0, offset: u32::from(offset0) }, 4, le_u32);
        load_add!(ip, sp, mem, len, cx, dst1, base1, index1, offset1, 4, le_u32);
    }
    next I32LoadAddThenLoad { dst0, base0, index0, dst1, addr1, offset0, offset1 } => {
        load_add!(ip, sp, mem, len, cx, dst0, base0, index0, offset0, 4, le_u32);
        load!(ip, sp, mem, len, cx, Load { dst: dst1, addr: addr1, offset: u32::from(offset1) }, 4, le_u32);
    }
    next I32AddShlThenLoadAdd { dst0, base0, index0, shift, dst1, other, offset } => {
        add_shl!(sp, dst0, base0, index0, shift);
        load_add!(ip, sp, mem, len, cx, dst1, dst0, other, offset, 4, le_u32);
    }
    ctl JumpIfLoadAddI32Ne { dst, base, index, other, offset, jump } => {
        load_add!(ip, sp, mem, len, cx, dst, base, index, offset, 4, le_u32);
        branch!(ip, sp, mem, len, cx, sp.get(dst) as u32 != sp.get(other) as u32, jump)
    }
    next I32AddThenStore(add, st) => {
        bin!(sp, add, i32::wrapping_add);
        store!(ip, sp, mem, len, cx, st, 4, to_le_u32);
    }
    ctl I32StoreThenJumpIfNez { store, cond, offset } => {
        store!(ip, sp, mem, len, cx, store, 4, to_le_u32);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 != 0, offset)
    }
    ctl I32AndThenJumpIfEqz { and, cond, offset } => {
        bin!(sp, and, |a: u32, b: u32| a & b);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 == 0, offset)
    }
    ctl I32AndThenJumpIfNez { and, cond, offset } => {
        bin!(sp, and, |a: u32, b: u32| a & b);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 != 0, offset)
    }
    ctl I32AddThenJumpIfNez { add, cond, offset } => {
        bin!(sp, add, i32::wrapping_add);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 != 0, offset)
    }
    ctl I32Load8UThenJumpIfEqz { load, cond, offset } => {
        load!(ip, sp, mem, len, cx, load, 1, le_u8);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 == 0, offset)
    }
    ctl I32Load8UThenJumpIfNez { load, cond, offset } => {
        load!(ip, sp, mem, len, cx, load, 1, le_u8);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 != 0, offset)
    }
    ctl I32Load8UAddThenJumpIfAndEqz { dst, base, index, mask, load_offset, offset } => {
        load_add!(ip, sp, mem, len, cx, dst, base, index, load_offset, 1, le_u8);
        branch!(ip, sp, mem, len, cx, (sp.get(dst) as u32) & (sp.get(mask) as u32) == 0, offset)
    }
    ctl I32Load8UAddThenJumpIfAndNez { dst, base, index, mask, load_offset, offset } => {
        load_add!(ip, sp, mem, len, cx, dst, base, index, load_offset, 1, le_u8);
        branch!(ip, sp, mem, len, cx, (sp.get(dst) as u32) & (sp.get(mask) as u32) != 0, offset)
    }
    ctl I32AddThenJump { add, offset } => {
        bin!(sp, add, i32::wrapping_add);
        jump!(ip, sp, mem, len, cx, offset)
    }
    ctl I32Load8UAddThenJumpIfEqz { dst, base, index, cond, load_offset, offset } => {
        load_add!(ip, sp, mem, len, cx, dst, base, index, load_offset, 1, le_u8);
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 == 0, offset)
    }
    ctl JumpIfLoadI32EqElseAddStore { dst, addr, other, rhs, offset, jump } => {
        let ld = Load { dst, addr, offset: u32::from(offset) };
        let v: u32 = load!(ip, sp, mem, len, cx, ld, 4, le_u32);
        if v == sp.get(other) as u32 {
            jump!(ip, sp, mem, len, cx, jump);
        }
        add_store!(ip, sp, mem, len, cx, addr, dst, rhs, offset);
        let ip = ip.add(1);
        dispatch!(ip, sp, mem, len, cx)
    }
    ctl JumpIfLoadI32EqElseAddStoreJumpIfNez { dst, addr, other, sum, rhs, jump } => {
        let v: u32 = load!(ip, sp, mem, len, cx, Load { dst, addr, offset: 0 }, 4, le_u32);
        if v == sp.get(other) as u32 {
            jump!(ip, sp, mem, len, cx, jump);
        }
        bin!(sp, Bin { dst: sum, lhs: dst, rhs }, i32::wrapping_add);
        store!(ip, sp, mem, len, cx, StoreOp { addr, value: sum, offset: 0 }, 4, to_le_u32);
        branch!(ip, sp, mem, len, cx, sp.get(sum) as u32 != 0, jump)
    }
    ctl JumpToTableAnd { offset } => {
        jump_to_table_and!(ip, sp, mem, len, cx, offset, {})
    }
    ctl CopyThenJumpToTableAnd { dst, src, offset } => {
        jump_to_table_and!(ip, sp, mem, len, cx, offset, {
            sp.set(dst, sp.get(src));
        })
    }
    ctl I32Load16UShrUThenJumpToTableAnd { dst, addr, arg, shift, offset, jump } => {
        jump_to_table_and!(ip, sp, mem, len, cx, jump, {
            let ld = Load { dst, addr, offset: u32::from(offset) };
            load!(ip, sp, mem, len, cx, ld, 2, le_u16);
            let shr = Bin { dst: arg, lhs: dst, rhs: shift };
            bin!(sp, shr, num::i32_shr_u);
        })
    }
    ctl Copy2ThenJumpToTableAnd { dst0, src0, dst1, src1, offset } => {
        jump_to_table_and!(ip, sp, mem, len, cx, offset, {
            sp.set(dst0, sp.get(src0));
            sp.set(dst1, sp.get(src1));
        })
    }
    ctl CopyThenJump { dst, src, offset } => {
        sp.set(dst, sp.get(src));
        jump!(ip, sp, mem, len, cx, offset)
    }
    ctl CopyThenCall { dst, src, base, func, result } => {
        sp.set(dst, sp.get(src));
        let target = cx.inst().funcs[func as usize];
        resume!(cx, cx.call(ip, target, base, result))
    }
    ctl Copy2ThenCall { dst0, src0, dst1, src1, base, result, func } => {
        sp.set(dst0, sp.get(src0));
        sp.set(dst1, sp.get(src1));
        let target = cx.inst().funcs[func as usize];
        resume!(cx, cx.call(ip, target, base, result))
    }
    next Select { dst, cond, a, b } => {
        let pick = if sp.get(cond) as u32 != 0 { a } else { b };
        sp.set(dst, sp.get(pick));
    }
    // SAFETY (the global handlers): `Cx::global` returns the value of a global the
    // instance has (validation: the index exists; the code cache checks every
    // `Entity::Global` it reads), and `cx.g0` points at the current instance's global 0,
    // which verified code names only in modules that have one; both derived from
    // `s.globals.as_mut_ptr()`, which does not move while execution is in here.
    next GlobalGet { dst, global } => {
        sp.set(dst, *cx.global(global));
    }
    next GlobalSet { src, global } => {
        *cx.global(global) = sp.get(src);
    }
    next Global0Get { dst } => {
        sp.set(dst, *cx.g0);
    }
    next Global0Set { src } => {
        *cx.g0 = sp.get(src);
    }
    next Global0SubSet { tmp, dst, rhs } => {
        // In the order of the three instructions (`rhs` may be `tmp`).
        let g = *cx.g0;
        sp.set(tmp, g);
        let v = (g as u32).wrapping_sub(sp.get(rhs) as u32);
        sp.set(dst, u64::from(v));
        *cx.g0 = sp.get(dst);
    }
    next I32AddThenGlobal0Set(add, src) => {
        bin!(sp, add, |a: u32, b: u32| a.wrapping_add(b));
        *cx.g0 = sp.get(src);
    }
    // ----- tables and references -----
    next TableGet { dst, index, table } => {
        let t = &cx.s.tables[cx.inst().tables[table as usize] as usize];
        match t.elems.get(sp.get(index) as u32 as usize) {
            Some(&r) => sp.set(dst, r),
            None => return cx.trap(ip, TrapCode::TableOutOfBounds),
        }
    }
    next TableSet { index, value, table } => {
        let id = cx.inst().tables[table as usize] as usize;
        match cx.s.tables[id].elems.get_mut(sp.get(index) as u32 as usize) {
            Some(r) => *r = sp.get(value),
            None => return cx.trap(ip, TrapCode::TableOutOfBounds),
        }
    }
    next TableSize { dst, table } => {
        let t = &cx.s.tables[cx.inst().tables[table as usize] as usize];
        sp.set(dst, t.elems.len() as u64);
    }
    next TableGrow { dst, init, delta, table } => {
        let id = cx.inst().tables[table as usize] as usize;
        let result = table_grow(
            &mut cx.s.tables[id],
            sp.get(delta) as u32 as usize,
            sp.get(init),
        );
        sp.set(dst, Slot::into_slot(result));
    }
    next TableFill { index, value, len: n, table } => {
        let id = cx.inst().tables[table as usize] as usize;
        let i = sp.get(index) as u32 as usize;
        let n = sp.get(n) as u32 as usize;
        match cx.s.tables[id].elems.get_mut(i..i + n) {
            Some(range) => range.fill(sp.get(value)),
            None => return cx.trap(ip, TrapCode::TableOutOfBounds),
        }
    }
    next TableCopy { dst, src, len: n, dst_table, src_table } => {
        let d = sp.get(dst) as u32 as usize;
        let s = sp.get(src) as u32 as usize;
        let n = sp.get(n) as u32 as usize;
        let dt = cx.inst().tables[dst_table as usize] as usize;
        let st = cx.inst().tables[src_table as usize] as usize;
        if let Err(code) = table_copy(&mut cx.s.tables, (dt, d), (st, s), n) {
            return cx.trap(ip, code);
        }
    }
    next TableInit { dst, src, len: n, table, elem } => {
        let inst = cx.inst();
        let (e, t) = (inst.elems[elem as usize] as usize, inst.tables[table as usize] as usize);
        let seg = &cx.s.elems[e];
        let d = sp.get(dst) as u32 as usize;
        let s = sp.get(src) as u32 as usize;
        let n = sp.get(n) as u32 as usize;
        match (seg.get(s..s + n), cx.s.tables[t].elems.get_mut(d..d + n)) {
            (Some(from), Some(to)) => to.copy_from_slice(from),
            _ => return cx.trap(ip, TrapCode::TableOutOfBounds),
        }
    }
    next ElemDrop { elem } => {
        let id = cx.inst().elems[elem as usize] as usize;
        cx.s.elems[id] = Box::new([]);
    }
    next RefFunc { dst, func } => {
        sp.set(dst, u64::from(cx.inst().funcs[func as usize]) + 1);
    }
    next RefIsNull { dst, src } => {
        sp.set(dst, u64::from(sp.get(src) == 0));
    }
    // ----- control -----
    ctl Trap(code) => {
        cx.trap(ip, code)
    }
    ctl Jump { offset } => {
        jump!(ip, sp, mem, len, cx, offset)
    }
    ctl JumpIfNez { cond, offset } => {
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 != 0, offset)
    }
    ctl JumpIfEqz { cond, offset } => {
        branch!(ip, sp, mem, len, cx, sp.get(cond) as u32 == 0, offset)
    }
    ctl JumpIfLoadI32Eq { load, other, offset } => {
        let v: u32 = load!(ip, sp, mem, len, cx, load, 4, le_u32);
        branch!(ip, sp, mem, len, cx, v == sp.get(other) as u32, offset)
    }
    ctl JumpIfLoadI32Ne { load, other, offset } => {
        let v: u32 = load!(ip, sp, mem, len, cx, load, 4, le_u32);
        branch!(ip, sp, mem, len, cx, v != sp.get(other) as u32, offset)
    }
    ctl JumpIfLoadNez { load, offset } => {
        let v: u32 = load!(ip, sp, mem, len, cx, load, 4, le_u32);
        branch!(ip, sp, mem, len, cx, v != 0, offset)
    }
    ctl JumpIfLoadEqz { load, offset } => {
        let v: u32 = load!(ip, sp, mem, len, cx, load, 4, le_u32);
        branch!(ip, sp, mem, len, cx, v == 0, offset)
    }
    ctl JumpIfI32Eq { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a == b) }
    ctl JumpIfI32Ne { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a != b) }
    ctl JumpIfI32LtS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i32, b: i32| a < b) }
    ctl JumpIfI32LtU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a < b) }
    ctl JumpIfI32GtS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i32, b: i32| a > b) }
    ctl JumpIfI32GtU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a > b) }
    ctl JumpIfI32LeS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i32, b: i32| a <= b) }
    ctl JumpIfI32LeU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a <= b) }
    ctl JumpIfI32GeS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i32, b: i32| a >= b) }
    ctl JumpIfI32GeU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a >= b) }
    ctl JumpIfI32AndNez { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a & b != 0) }
    ctl JumpIfI32AndEqz { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u32, b: u32| a & b == 0) }
    ctl JumpIfI64Eq { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u64, b: u64| a == b) }
    ctl JumpIfI64Ne { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u64, b: u64| a != b) }
    ctl JumpIfI64LtS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i64, b: i64| a < b) }
    ctl JumpIfI64LtU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u64, b: u64| a < b) }
    ctl JumpIfI64GtS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i64, b: i64| a > b) }
    ctl JumpIfI64GtU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u64, b: u64| a > b) }
    ctl JumpIfI64LeS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i64, b: i64| a <= b) }
    ctl JumpIfI64LeU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u64, b: u64| a <= b) }
    ctl JumpIfI64GeS { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: i64, b: i64| a >= b) }
    ctl JumpIfI64GeU { lhs, rhs, offset } => { cmp_jump!(ip, sp, mem, len, cx, lhs, rhs, offset, |a: u64, b: u64| a >= b) }
    ctl JumpTable { index, len: n } => {
        table_entry!(ip, sp, mem, len, cx, sp.get(index) as u32, n)
    }
    ctl JumpTableAnd { dst, lhs, rhs, len: n } => {
        let v = (sp.get(lhs) as u32) & (sp.get(rhs) as u32);
        sp.set(dst, u64::from(v));
        table_entry!(ip, sp, mem, len, cx, v, n)
    }
    ctl Return {} => {
        resume!(cx, cx.ret())
    }
    ctl Return1 { src } => {
        // Also to the callee's slot 0, the call's base: its address is known at once, so a
        // caller reading its result there (the call's `result` is its base unless a
        // `local.set` was folded into it) does not wait for the frame record's `ret`.
        let v = sp.get(src);
        sp.set(0, v);
        resume!(cx, cx.ret1(v))
    }
    ctl ReturnMany { base, count } => {
        // SAFETY: `verify` checked `base..base + count` lies inside the frame; overlap is
        // allowed.
        std::ptr::copy(sp.0.add(base as usize), sp.0, count as usize);
        resume!(cx, cx.ret())
    }
    ctl Call { func, base, result } => {
        let target = cx.inst().funcs[func as usize];
        resume!(cx, cx.call(ip, target, base, result))
    }
    ctl CallIndirect { ty, index, base, table, result } => {
        let inst = cx.inst();
        let t = &cx.s.tables[inst.tables[table as usize] as usize];
        let Some(&entry) = t.elems.get(sp.get(index) as u32 as usize) else {
            return cx.trap(ip, TrapCode::UndefinedElement);
        };
        let Some(target) = entry.checked_sub(1).map(|f| f as u32) else {
            return cx.trap(ip, TrapCode::IndirectCallToNull);
        };
        if cx.s.calls[target as usize].ty != inst.type_ids[ty as usize] {
            return cx.trap(ip, TrapCode::BadSignature);
        }
        resume!(cx, cx.call(ip, target, base, result))
    }
}

/// `table.grow`: the old size, or -1. Tables are capped at 10M entries so no guest can make
/// the host allocate unboundedly; growing past that fails like hitting the maximum.
#[cold]
fn table_grow(t: &mut crate::store::TableEntity, delta: usize, init: u64) -> i32 {
    let old = t.elems.len();
    let max = t.ty.limits.max.unwrap_or(u32::MAX) as usize;
    match old.checked_add(delta) {
        Some(new) if new <= max && new <= 10_000_000 => {
            t.elems.resize(new, init);
            old as u32 as i32
        }
        _ => -1,
    }
}

/// `table.copy` between tables `dst.0` and `src.0` (store ids) at element `dst.1`/`src.1`.
#[cold]
fn table_copy(
    tables: &mut [crate::store::TableEntity],
    (dt, d): (usize, usize),
    (st, s): (usize, usize),
    n: usize,
) -> Result<(), TrapCode> {
    if s + n > tables[st].elems.len() || d + n > tables[dt].elems.len() {
        return Err(TrapCode::TableOutOfBounds);
    }
    if dt == st {
        tables[dt].elems.copy_within(s..s + n, d);
    } else {
        let items: Vec<u64> = tables[st].elems[s..s + n].to_vec();
        tables[dt].elems[d..d + n].copy_from_slice(&items);
    }
    Ok(())
}

/// Runs the top frame until the frame at depth `entry_depth` returns, a host function is
/// called or a trap.
#[cfg(wasmi_py_tail)]
fn execute(cx: &mut Cx<'_>) -> Done {
    let (ip, sp, mem, len) = (cx.ip, cx.sp, cx.mem, cx.len);
    // SAFETY: `Cx::new` made the top frame current: its resume point in verified code,
    // its slots, its instance's memory.
    unsafe { ((*ip).handler)(ip, sp, mem, len, cx) }
}

/// Runs the top frame until the frame at depth `entry_depth` returns, a host function is
/// called or a trap.
#[cfg(not(wasmi_py_tail))]
fn execute(cx: &mut Cx<'_>) -> Done {
    loop {
        let (ip, sp, mem, len) = (cx.ip, cx.sp, cx.mem, cx.len);
        #[cfg(feature = "op-stats")]
        cx.s.op_stats.record(ip);
        // SAFETY: `Cx::new` and every handler returning `Continue` left `cx` at a valid
        // resume point (see `Handler`).
        match unsafe { ((*ip).handler)(ip, sp, mem, len, cx) } {
            Done::Continue => {}
            done => return done,
        }
    }
}

/// Runs until the frame at depth `entry_depth` returns or a host call is needed.
fn run(s: &mut StoreInner, entry_depth: usize) -> Result<Exit, Trap> {
    if s.frames.len() <= entry_depth {
        return Ok(Exit::Returned);
    }
    let mut cx = Cx::new(s, entry_depth);
    match execute(&mut cx) {
        Done::Return => Ok(Exit::Returned),
        Done::Host => {
            let (func, base, ret) = cx.host;
            Ok(Exit::Host { func, base, ret })
        }
        Done::Trap => {
            // Backtraces read every frame's position as "after the op it is executing"
            // (the return address of a frame that called); so for the trapping op too.
            let at = cx.trap_ip;
            if let (false, Some(top)) = (at.is_null(), cx.s.frames.last_mut()) {
                top.ip = IpPtr(at.wrapping_add(1));
            }
            Err(cx.trap.take().expect("a trap with Done::Trap"))
        }
        Done::Continue => unreachable!("execute never returns Continue"),
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
        FuncKind::Wasm { .. } => {
            let s = &mut store.inner;
            let base = s.stack_top;
            let saved_top = s.stack_top;
            let entry_depth = s.frames.len();
            if let (Some(p), 0) = (&mut s.profile, entry_depth) {
                p.restart_clock();
            }
            let limits = Limits::of(s);
            let needed = base + args.len().max(results_len);
            if needed > s.stack.len() {
                grow_stack(&mut s.stack, needed, limits.max_slots)?;
            }
            for (i, a) in args.iter().enumerate() {
                s.stack[base + i] = a.to_slot();
            }
            let Some(info) = resolve(s, func.0)? else {
                unreachable!("function {} is a wasm function", func.0)
            };
            let result = push_frame(&mut s.frames, &mut s.stack, limits, func.0, &info, base)
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
            Exit::Host { func, base, ret } => call_host_from_wasm(store, func, base, ret)?,
        }
    }
}

fn call_host_from_wasm<T>(
    store: &mut Store<T>,
    func: u32,
    base: usize,
    ret: usize,
) -> Result<(), Trap> {
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
        // A frame's function has been called, so its call entry is filled in.
        s.stack_top = f.fp as usize + s.calls[f.func as usize].frame_size as usize;
    }
    let f = Arc::clone(&store.hosts[host as usize]);
    if let Some(p) = &mut s.profile {
        // Until here the time was the caller's; the host function's is charged below.
        let at = |f: &Frame, _| inlined_at(&s.funcs, &s.instances, f.func, f.ip.0);
        p.sample(&s.frames, None, at);
    }
    let outcome = f(
        Caller {
            store,
            instance: caller,
        },
        &args,
        &mut results,
    );
    let s = &mut store.inner;
    if let Some(p) = &mut s.profile {
        let at = |f: &Frame, _| inlined_at(&s.funcs, &s.instances, f.func, f.ip.0);
        p.sample(&s.frames, Some(func), at);
    }
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
    if let [_] = results[..] {
        // The caller's `result` slot (translated calls of one result may name another).
        s.stack[ret] = s.stack[base];
    }
    Ok(())
}

fn backtrace(s: &StoreInner, entry_depth: usize) -> Vec<BacktraceFrame> {
    let mut frames = Vec::new();
    for f in s.frames[entry_depth..].iter().rev() {
        // Frames only hold wasm functions (a host call pushes none).
        let (func_index, name) = s.wasm_func_name(f.func).unwrap_or((f.func, None));
        // A position inside an inlined body adds the inlined function's frame.
        if let Some(inlined) = inlined_at(&s.funcs, &s.instances, f.func, f.ip.0) {
            let (func_index, name) = s.wasm_func_name(inlined).unwrap_or((inlined, None));
            frames.push(BacktraceFrame {
                func_index,
                name: name.map(str::to_owned),
            });
        }
        frames.push(BacktraceFrame {
            func_index,
            name: name.map(str::to_owned),
        });
    }
    frames
}

/// The function (store id) whose inlined body contains the op before `after` in the code
/// of wasm function `func` (store id), if any. Frames record positions that way: one past
/// the op they are executing (see `run`).
fn inlined_at(
    funcs: &[FuncEntity],
    instances: &[InstanceEntity],
    func: u32,
    after: Ip,
) -> Option<u32> {
    let FuncKind::Wasm { instance, defined } = funcs[func as usize].kind else {
        return None;
    };
    let inst = &instances[instance as usize];
    let code = inst.module.code(defined).ok()?;
    if code.inlined.is_empty() {
        return None;
    }
    let index = ((after as usize).checked_sub(code.ops.as_ptr() as usize)?
        / std::mem::size_of::<Op>())
    .checked_sub(1)?;
    let inlined = crate::inline::inlined_at(code, index)?;
    inst.funcs.get(inlined as usize).copied()
}
