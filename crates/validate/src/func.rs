//! Type checking of one function body (the algorithm of the spec's validation appendix).

use wasmi_py_decode::{BlockType, Error, MemArg, Module, Operator, Result, ValType};

use crate::{ref_val_type, ModuleValidator};

/// An operand type, or `None` for the unknown type of unreachable code.
type MaybeType = Option<ValType>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Function,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: FrameKind,
    ty: BlockType,
    /// Operand stack height at entry (below the block's parameters).
    height: usize,
    unreachable: bool,
}

/// Validates a function body one instruction at a time.
#[derive(Debug)]
pub struct FuncValidator<'a> {
    refs: &'a ModuleValidator,
    module: &'a Module,
    func_type: u32,
    /// Parameters then declared locals, run-length encoded: `(first index after run, type)`.
    locals: Vec<(u32, ValType)>,
    num_locals: u32,
    operands: Vec<MaybeType>,
    frames: Vec<Frame>,
}

/// The value type named by an operator-table type token.
macro_rules! val_type {
    (i32) => {
        ValType::I32
    };
    (i64) => {
        ValType::I64
    };
    (f32) => {
        ValType::F32
    };
    (f64) => {
        ValType::F64
    };
    (v128) => {
        ValType::V128
    };
}

/// Validation of one table row's typing class. The row's immediates arrive bound to their
/// field names (after the `;`), so e.g. a load rule can name its `memarg`.
macro_rules! check_typing {
    ($v:ident, $op:ident, $at:ident, $mnem:literal, special (); $($f:ident),*) => {{
        $( let _ = $f; )*
        $v.special($op, $at)
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, sig ($($in:ident)* -> $($out:ident)*); $($f:ident),*) => {{
        $( let _ = $f; )*
        $v.pop_all(&[$(val_type!($in)),*], $at, $mnem)?;
        $( $v.push(val_type!($out)); )*
        Ok(())
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, load ($t:ident $align:literal); $memarg:ident) => {{
        $v.check_memarg($memarg, $align, $at)?;
        $v.pop_expect(ValType::I32, $at, $mnem)?;
        $v.push(val_type!($t));
        Ok(())
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, store ($t:ident $align:literal); $memarg:ident) => {{
        $v.check_memarg($memarg, $align, $at)?;
        $v.pop_all(&[ValType::I32, val_type!($t)], $at, $mnem)?;
        Ok(())
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, load_lane ($align:literal $lanes:literal); $memarg:ident, $lane:ident) => {{
        $v.check_memarg($memarg, $align, $at)?;
        $v.check_lane(*$lane, $lanes, $at)?;
        $v.pop_all(&[ValType::I32, ValType::V128], $at, $mnem)?;
        $v.push(ValType::V128);
        Ok(())
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, store_lane ($align:literal $lanes:literal); $memarg:ident, $lane:ident) => {{
        $v.check_memarg($memarg, $align, $at)?;
        $v.check_lane(*$lane, $lanes, $at)?;
        $v.pop_all(&[ValType::I32, ValType::V128], $at, $mnem)?;
        Ok(())
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, extract ($lanes:literal $t:ident); $lane:ident) => {{
        $v.check_lane(*$lane, $lanes, $at)?;
        $v.pop_expect(ValType::V128, $at, $mnem)?;
        $v.push(val_type!($t));
        Ok(())
    }};
    ($v:ident, $op:ident, $at:ident, $mnem:literal, replace ($lanes:literal $t:ident); $lane:ident) => {{
        $v.check_lane(*$lane, $lanes, $at)?;
        $v.pop_all(&[ValType::V128, val_type!($t)], $at, $mnem)?;
        $v.push(ValType::V128);
        Ok(())
    }};
}

macro_rules! define_dispatch {
    ($( $feat:ident [$($enc:tt)+] $name:ident { $($field:ident : $ty:ty $(as $rd:ident)?),* } $mnem:literal $kind:ident $args:tt ;)*) => {
        impl FuncValidator<'_> {
            /// Types one instruction, dispatching on its typing class from the table.
            fn dispatch(&mut self, op: &Operator<'_>, at: usize) -> Result<()> {
                match op {
                    $( Operator::$name { $($field),* } => check_typing!(self, op, at, $mnem, $kind $args; $($field),*), )*
                }
            }
        }
    };
}
wasmi_py_decode::for_each_operator!(define_dispatch);

impl<'a> FuncValidator<'a> {
    /// Starts validating function `func_index` (an index in the module's function space) whose
    /// declared locals are `locals` (`(count, type)` runs, as
    /// [`FunctionBody::read_locals`](wasmi_py_decode::FunctionBody::read_locals) returns them).
    pub fn new(
        refs: &'a ModuleValidator,
        module: &'a Module,
        func_index: u32,
        locals: &[(u32, ValType)],
    ) -> Result<Self> {
        let m = module;
        let func_type = *m
            .functions
            .get(func_index as usize)
            .ok_or_else(|| Error::invalid(0, format!("unknown function {func_index}")))?;
        let ty = m
            .types
            .get(func_type as usize)
            .ok_or_else(|| Error::invalid(0, format!("unknown type {func_type}")))?;
        let mut runs = Vec::with_capacity(ty.params().len() + locals.len());
        let mut next: u32 = 0;
        for &p in ty.params() {
            next += 1;
            runs.push((next, p));
        }
        for &(count, t) in locals {
            // read_locals caps the total at MAX_LOCALS, so this cannot overflow.
            next = next.saturating_add(count);
            runs.push((next, t));
        }
        let mut v = FuncValidator {
            refs,
            module,
            func_type,
            locals: runs,
            num_locals: next,
            operands: Vec::with_capacity(16),
            frames: Vec::with_capacity(8),
        };
        v.frames.push(Frame {
            kind: FrameKind::Function,
            ty: BlockType::Func(func_type),
            height: 0,
            unreachable: false,
        });
        Ok(v)
    }

    /// True once the function's final `end` has been validated.
    pub fn is_finished(&self) -> bool {
        self.frames.is_empty()
    }

    /// Current operand stack height (the translator uses it to place temporaries).
    pub fn operand_height(&self) -> usize {
        self.operands.len()
    }

    /// Number of enclosing control frames (0 once finished).
    pub fn control_depth(&self) -> usize {
        self.frames.len()
    }

    /// The type of local `index`, if it exists.
    pub fn local_type(&self, index: u32) -> Option<ValType> {
        if index >= self.num_locals {
            return None;
        }
        let i = self.locals.partition_point(|&(end, _)| end <= index);
        self.locals.get(i).map(|&(_, t)| t)
    }

    /// Validates one instruction found at byte offset `at`.
    pub fn op(&mut self, op: &Operator<'_>, at: usize) -> Result<()> {
        if self.frames.is_empty() {
            return Err(Error::malformed(
                at,
                "section size mismatch: operators remaining after end of function",
            ));
        }
        self.dispatch(op, at)
    }

    // ----- operand stack -------------------------------------------------------------------

    #[inline]
    fn push(&mut self, t: ValType) {
        self.operands.push(Some(t));
    }

    #[inline]
    fn push_maybe(&mut self, t: MaybeType) {
        self.operands.push(t);
    }

    fn top_frame(&self) -> &Frame {
        // Callers only run while a frame is open (checked in `op`).
        &self.frames[self.frames.len() - 1]
    }

    #[inline]
    fn pop_any(&mut self, at: usize, what: &str) -> Result<MaybeType> {
        let frame = self.top_frame();
        if self.operands.len() == frame.height {
            if frame.unreachable {
                return Ok(None);
            }
            return Err(Error::invalid(
                at,
                format!("type mismatch: {what} expects an operand but the stack is empty"),
            ));
        }
        Ok(self.operands.pop().flatten())
    }

    #[inline]
    fn pop_expect(&mut self, expected: ValType, at: usize, what: &str) -> Result<MaybeType> {
        let actual = self.pop_any(at, what)?;
        match actual {
            Some(t) if t != expected => Err(type_mismatch(at, what, expected, t)),
            // The unknown type stays unknown: br_table re-pushes what it popped.
            _ => Ok(actual),
        }
    }

    /// Pops `types` (the last one first).
    fn pop_all(&mut self, types: &[ValType], at: usize, what: &str) -> Result<()> {
        for &t in types.iter().rev() {
            self.pop_expect(t, at, what)?;
        }
        Ok(())
    }

    fn push_all(&mut self, types: &[ValType]) {
        self.operands.extend(types.iter().map(|&t| Some(t)));
    }

    fn mark_unreachable(&mut self) {
        let frame = self.frames.last_mut().expect("an open frame");
        self.operands.truncate(frame.height);
        frame.unreachable = true;
    }

    // ----- types of blocks -----------------------------------------------------------------

    fn block_params(&self, ty: BlockType) -> &'a [ValType] {
        match ty {
            BlockType::Func(i) => self.module.types[i as usize].params(),
            _ => &[],
        }
    }

    fn block_results(&self, ty: BlockType) -> &'a [ValType] {
        match ty {
            BlockType::Empty => &[],
            BlockType::Value(t) => value_slice(t),
            BlockType::Func(i) => self.module.types[i as usize].results(),
        }
    }

    fn check_block_type(&self, ty: BlockType, at: usize) -> Result<()> {
        match ty {
            BlockType::Func(i) if i as usize >= self.module.types.len() => {
                Err(Error::invalid(at, format!("unknown type {i}")))
            }
            _ => Ok(()),
        }
    }

    /// Types a branch to the frame at `relative_depth` carries.
    fn label_types(&self, relative_depth: u32, at: usize) -> Result<&'a [ValType]> {
        let depth = relative_depth as usize;
        if depth >= self.frames.len() {
            return Err(Error::invalid(
                at,
                format!("unknown label {relative_depth}"),
            ));
        }
        let frame = self.frames[self.frames.len() - 1 - depth];
        Ok(if frame.kind == FrameKind::Loop {
            self.block_params(frame.ty)
        } else {
            self.block_results(frame.ty)
        })
    }

    fn push_frame(&mut self, kind: FrameKind, ty: BlockType) {
        let params = self.block_params(ty);
        self.frames.push(Frame {
            kind,
            ty,
            height: self.operands.len(),
            unreachable: false,
        });
        self.push_all(params);
    }

    /// Pops the current frame after checking its results are exactly on the stack.
    fn pop_frame(&mut self, at: usize, what: &str) -> Result<Frame> {
        let frame = *self.top_frame();
        self.pop_all(self.block_results(frame.ty), at, what)?;
        if self.operands.len() != frame.height {
            return Err(Error::invalid(
                at,
                format!(
                    "type mismatch: {} values left on the stack at {what}",
                    self.operands.len() - frame.height
                ),
            ));
        }
        self.frames.pop();
        Ok(frame)
    }

    // ----- immediates ------------------------------------------------------------------------

    fn check_memory(&self, memory: u32, at: usize) -> Result<()> {
        if (memory as usize) < self.module.memories.len() {
            Ok(())
        } else {
            Err(Error::invalid(at, format!("unknown memory {memory}")))
        }
    }

    fn check_memarg(&self, memarg: &MemArg, max_align: u32, at: usize) -> Result<()> {
        self.check_memory(memarg.memory, at)?;
        if memarg.align > max_align {
            return Err(Error::invalid(
                at,
                format!(
                    "alignment must not be larger than natural (2^{} > {} bytes)",
                    memarg.align,
                    1u32 << max_align
                ),
            ));
        }
        Ok(())
    }

    fn check_lane(&self, lane: u8, lanes: u8, at: usize) -> Result<()> {
        if lane >= lanes {
            return Err(Error::invalid(
                at,
                format!("invalid lane index {lane} (only {lanes} lanes)"),
            ));
        }
        Ok(())
    }

    fn check_table(&self, table: u32, at: usize) -> Result<ValType> {
        self.module
            .tables
            .get(table as usize)
            .map(|t| ref_val_type(t.element))
            .ok_or_else(|| Error::invalid(at, format!("unknown table {table}")))
    }

    fn check_elem(&self, elem: u32, at: usize) -> Result<ValType> {
        self.module
            .elements
            .get(elem as usize)
            .map(|e| e.ty.val_type())
            .ok_or_else(|| Error::invalid(at, format!("unknown elem segment {elem}")))
    }

    fn check_data(&self, data: u32, at: usize) -> Result<()> {
        let Some(count) = self.module.data_count else {
            return Err(Error::malformed(
                at,
                "data count section required for memory.init and data.drop",
            ));
        };
        if data >= count {
            return Err(Error::invalid(at, format!("unknown data segment {data}")));
        }
        Ok(())
    }

    fn function_type(
        &self,
        function_index: u32,
        at: usize,
    ) -> Result<&'a wasmi_py_decode::FuncType> {
        self.module
            .func_type(function_index)
            .ok_or_else(|| Error::invalid(at, format!("unknown function {function_index}")))
    }

    // ----- instructions with hand-written typing --------------------------------------------

    fn special(&mut self, op: &Operator<'_>, at: usize) -> Result<()> {
        let what = op.mnemonic();
        match op {
            Operator::Unreachable {} => self.mark_unreachable(),
            Operator::Block { ty } | Operator::Loop { ty } => {
                self.check_block_type(*ty, at)?;
                self.pop_all(self.block_params(*ty), at, what)?;
                let kind = if matches!(op, Operator::Loop { .. }) {
                    FrameKind::Loop
                } else {
                    FrameKind::Block
                };
                self.push_frame(kind, *ty);
            }
            Operator::If { ty } => {
                self.check_block_type(*ty, at)?;
                self.pop_expect(ValType::I32, at, what)?;
                self.pop_all(self.block_params(*ty), at, what)?;
                self.push_frame(FrameKind::If, *ty);
            }
            Operator::Else {} => {
                if self.top_frame().kind != FrameKind::If {
                    return Err(Error::malformed(at, "else without a matching if"));
                }
                let frame = self.pop_frame(at, what)?;
                self.push_frame(FrameKind::Else, frame.ty);
            }
            Operator::End {} => {
                let frame = self.pop_frame(at, what)?;
                if frame.kind == FrameKind::If
                    && self.block_params(frame.ty) != self.block_results(frame.ty)
                {
                    return Err(Error::invalid(
                        at,
                        "type mismatch: if without else must have matching parameter and result types",
                    ));
                }
                if frame.kind != FrameKind::Function {
                    self.push_all(self.block_results(frame.ty));
                }
            }
            Operator::Br { relative_depth } => {
                let types = self.label_types(*relative_depth, at)?;
                self.pop_all(types, at, what)?;
                self.mark_unreachable();
            }
            Operator::BrIf { relative_depth } => {
                self.pop_expect(ValType::I32, at, what)?;
                let types = self.label_types(*relative_depth, at)?;
                self.pop_all(types, at, what)?;
                self.push_all(types);
            }
            Operator::BrTable { targets } => {
                self.pop_expect(ValType::I32, at, what)?;
                let default = self.label_types(targets.default(), at)?;
                for depth in targets.targets() {
                    let types = self.label_types(depth, at)?;
                    if types.len() != default.len() {
                        return Err(Error::invalid(
                            at,
                            format!(
                                "type mismatch: br_table target {depth} carries {} values, the default {}",
                                types.len(),
                                default.len()
                            ),
                        ));
                    }
                    // Each target is checked against the stack and what was popped is pushed
                    // back (unknown stays unknown), as in the spec's validation algorithm.
                    let mut popped = Vec::with_capacity(types.len());
                    for &t in types.iter().rev() {
                        popped.push(self.pop_expect(t, at, what)?);
                    }
                    for t in popped.into_iter().rev() {
                        self.push_maybe(t);
                    }
                }
                self.pop_all(default, at, what)?;
                self.mark_unreachable();
            }
            Operator::Return {} => {
                let results = self.block_results(BlockType::Func(self.func_type));
                self.pop_all(results, at, what)?;
                self.mark_unreachable();
            }
            Operator::Call { function_index } => {
                let ty = self.function_type(*function_index, at)?;
                self.pop_all(ty.params(), at, what)?;
                self.push_all(ty.results());
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let elem = self.check_table(*table_index, at)?;
                if elem != ValType::FuncRef {
                    return Err(Error::invalid(
                        at,
                        format!("type mismatch: call_indirect through a table of {elem}"),
                    ));
                }
                let ty = self
                    .module
                    .types
                    .get(*type_index as usize)
                    .ok_or_else(|| Error::invalid(at, format!("unknown type {type_index}")))?;
                self.pop_expect(ValType::I32, at, what)?;
                self.pop_all(ty.params(), at, what)?;
                self.push_all(ty.results());
            }
            Operator::Drop {} => {
                self.pop_any(at, what)?;
            }
            Operator::Select {} => {
                self.pop_expect(ValType::I32, at, what)?;
                let a = self.pop_any(at, what)?;
                let b = self.pop_any(at, what)?;
                if a.is_some_and(ValType::is_ref) || b.is_some_and(ValType::is_ref) {
                    return Err(Error::invalid(
                        at,
                        "type mismatch: select without a type needs numeric or vector operands",
                    ));
                }
                match (a, b) {
                    (Some(x), Some(y)) if x != y => return Err(type_mismatch(at, what, x, y)),
                    _ => self.push_maybe(a.or(b)),
                }
            }
            Operator::TypedSelect { ty } => {
                let Some(t) = ty.single() else {
                    return Err(Error::invalid(
                        at,
                        format!(
                            "invalid result arity: typed select lists {} types, 1 expected",
                            ty.len()
                        ),
                    ));
                };
                self.pop_expect(ValType::I32, at, what)?;
                self.pop_expect(t, at, what)?;
                self.pop_expect(t, at, what)?;
                self.push(t);
            }
            Operator::LocalGet { local_index } => {
                let t = self.local(*local_index, at)?;
                self.push(t);
            }
            Operator::LocalSet { local_index } => {
                let t = self.local(*local_index, at)?;
                self.pop_expect(t, at, what)?;
            }
            Operator::LocalTee { local_index } => {
                let t = self.local(*local_index, at)?;
                self.pop_expect(t, at, what)?;
                self.push(t);
            }
            Operator::GlobalGet { global_index } => {
                let g = self.global(*global_index, at)?;
                self.push(g.content);
            }
            Operator::GlobalSet { global_index } => {
                let g = self.global(*global_index, at)?;
                if !g.mutable {
                    return Err(Error::invalid(
                        at,
                        format!("global is immutable: cannot global.set global {global_index}"),
                    ));
                }
                self.pop_expect(g.content, at, what)?;
            }
            Operator::TableGet { table } => {
                let t = self.check_table(*table, at)?;
                self.pop_expect(ValType::I32, at, what)?;
                self.push(t);
            }
            Operator::TableSet { table } => {
                let t = self.check_table(*table, at)?;
                self.pop_all(&[ValType::I32, t], at, what)?;
            }
            Operator::TableSize { table } => {
                self.check_table(*table, at)?;
                self.push(ValType::I32);
            }
            Operator::TableGrow { table } => {
                let t = self.check_table(*table, at)?;
                self.pop_all(&[t, ValType::I32], at, what)?;
                self.push(ValType::I32);
            }
            Operator::TableFill { table } => {
                let t = self.check_table(*table, at)?;
                self.pop_all(&[ValType::I32, t, ValType::I32], at, what)?;
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let dst = self.check_table(*dst_table, at)?;
                let src = self.check_table(*src_table, at)?;
                if dst != src {
                    return Err(type_mismatch(at, what, dst, src));
                }
                self.pop_all(&[ValType::I32, ValType::I32, ValType::I32], at, what)?;
            }
            Operator::TableInit { elem_index, table } => {
                let dst = self.check_table(*table, at)?;
                let src = self.check_elem(*elem_index, at)?;
                if dst != src {
                    return Err(type_mismatch(at, what, dst, src));
                }
                self.pop_all(&[ValType::I32, ValType::I32, ValType::I32], at, what)?;
            }
            Operator::ElemDrop { elem_index } => {
                self.check_elem(*elem_index, at)?;
            }
            Operator::MemorySize { mem } => {
                self.check_memory(*mem, at)?;
                self.push(ValType::I32);
            }
            Operator::MemoryGrow { mem } => {
                self.check_memory(*mem, at)?;
                self.pop_expect(ValType::I32, at, what)?;
                self.push(ValType::I32);
            }
            Operator::MemoryInit { data_index, mem } => {
                self.check_memory(*mem, at)?;
                self.check_data(*data_index, at)?;
                self.pop_all(&[ValType::I32, ValType::I32, ValType::I32], at, what)?;
            }
            Operator::DataDrop { data_index } => {
                self.check_data(*data_index, at)?;
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                self.check_memory(*dst_mem, at)?;
                self.check_memory(*src_mem, at)?;
                self.pop_all(&[ValType::I32, ValType::I32, ValType::I32], at, what)?;
            }
            Operator::MemoryFill { mem } => {
                self.check_memory(*mem, at)?;
                self.pop_all(&[ValType::I32, ValType::I32, ValType::I32], at, what)?;
            }
            Operator::RefNull { ty } => self.push(ty.val_type()),
            Operator::RefIsNull {} => {
                let t = self.pop_any(at, what)?;
                if let Some(t) = t {
                    if !t.is_ref() {
                        return Err(Error::invalid(
                            at,
                            format!("type mismatch: ref.is_null expects a reference, found {t}"),
                        ));
                    }
                }
                self.push(ValType::I32);
            }
            Operator::RefFunc { function_index } => {
                self.function_type(*function_index, at)?;
                if !self.refs.is_declared_ref(*function_index) {
                    return Err(Error::invalid(
                        at,
                        format!("undeclared function reference {function_index}: ref.func needs the function in an element segment, export or global"),
                    ));
                }
                self.push(ValType::FuncRef);
            }
            Operator::I8x16Shuffle { lanes } => {
                if let Some(&bad) = lanes.iter().find(|&&l| l >= 32) {
                    return Err(Error::invalid(
                        at,
                        format!("invalid lane index {bad} in i8x16.shuffle (lanes are 0..32)"),
                    ));
                }
                self.pop_all(&[ValType::V128, ValType::V128], at, what)?;
                self.push(ValType::V128);
            }
            other => unreachable!("{} is typed by the operator table", other.mnemonic()),
        }
        Ok(())
    }

    fn local(&self, index: u32, at: usize) -> Result<ValType> {
        self.local_type(index)
            .ok_or_else(|| Error::invalid(at, format!("unknown local {index}")))
    }

    fn global(&self, index: u32, at: usize) -> Result<wasmi_py_decode::GlobalType> {
        self.module
            .globals
            .get(index as usize)
            .copied()
            .ok_or_else(|| Error::invalid(at, format!("unknown global {index}")))
    }
}

fn value_slice(t: ValType) -> &'static [ValType] {
    match t {
        ValType::I32 => &[ValType::I32],
        ValType::I64 => &[ValType::I64],
        ValType::F32 => &[ValType::F32],
        ValType::F64 => &[ValType::F64],
        ValType::V128 => &[ValType::V128],
        ValType::FuncRef => &[ValType::FuncRef],
        ValType::ExternRef => &[ValType::ExternRef],
    }
}

#[cold]
fn type_mismatch(at: usize, what: &str, expected: ValType, found: ValType) -> Error {
    Error::invalid(
        at,
        format!("type mismatch: {what} expects {expected}, found {found}"),
    )
}
