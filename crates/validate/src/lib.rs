//! # wasmi-py-validate
//!
//! Validation of WebAssembly 2.0 (+ fixed-width SIMD) modules decoded by `wasmi-py-decode`:
//! the module-level rules ([`ModuleValidator::new`]) and the type checking of each function
//! body ([`ModuleValidator::validate_function`], or op by op with a [`FuncValidator`], which
//! is what the interpreter's translator drives so that it validates and translates a body in
//! one pass, on first call).
//!
//! The function validator is the algorithm of the spec's validation appendix: an operand
//! stack of possibly-unknown types and a stack of control frames. Instructions whose typing is
//! a fixed signature are typed straight from the operator table; only context-dependent ones
//! (control flow, locals, globals, calls, tables, references) have hand-written rules.

mod func;

pub use func::FuncValidator;
pub use wasmi_py_decode::{Error, ErrorKind, Features, Module, Result};

use wasmi_py_decode::{
    ConstExpr, DataMode, ElementItems, ElementMode, ExternKind, GlobalType, ImportDesc, Limits,
    Operator, RefType, ValType,
};

/// Largest memory, in 64 KiB pages, of a 32-bit memory (4 GiB).
pub const MAX_MEMORY_PAGES: u32 = 65_536;

/// Validates the whole module: module-level rules and every function body.
pub fn validate(module: &Module) -> Result<()> {
    let validator = ModuleValidator::new(module)?;
    for index in 0..module.num_defined_functions() {
        validator.validate_function(module, index)?;
    }
    Ok(())
}

/// What validating function bodies needs to know beyond the module itself, once the
/// module-level rules have been checked. It does not borrow the module, so an embedder can
/// keep it next to the module and validate bodies one at a time, in any order (lazily, on
/// first call); every method takes the same module it was made from.
#[derive(Debug, Clone)]
pub struct ModuleValidator {
    /// `C.refs` of the spec: functions that `ref.func` may name inside function bodies.
    declared_refs: Vec<bool>,
}

/// The module-level checks, which borrow the module while they run.
struct ModuleChecker<'m> {
    module: &'m Module,
    declared_refs: Vec<bool>,
}

impl ModuleValidator {
    /// Checks everything outside function bodies.
    pub fn new(module: &Module) -> Result<Self> {
        let mut v = ModuleChecker {
            module,
            declared_refs: vec![false; module.functions.len()],
        };
        v.check_types()?;
        v.check_imports()?;
        v.check_functions()?;
        v.check_tables_and_memories()?;
        v.check_globals()?;
        v.check_exports()?;
        v.check_start()?;
        v.check_elements()?;
        v.check_data()?;
        Ok(ModuleValidator {
            declared_refs: v.declared_refs,
        })
    }

    /// True if `ref.func function_index` is allowed in function bodies.
    pub fn is_declared_ref(&self, function_index: u32) -> bool {
        self.declared_refs
            .get(function_index as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Validates the body of defined function `defined_index` (0 = first non-imported).
    pub fn validate_function(&self, module: &Module, defined_index: u32) -> Result<()> {
        let func_index = module.num_imported_functions + defined_index;
        let body = module.body(defined_index).ok_or_else(|| {
            Error::invalid(0, format!("unknown function {func_index}: no such body"))
        })?;
        let (locals, mut ops) = body.read_locals()?;
        let mut v = FuncValidator::new(self, module, func_index, &locals)?;
        while !v.is_finished() {
            if ops.is_empty() {
                return Err(Error::malformed(
                    ops.offset(),
                    "unexpected end of section or function: END opcode expected",
                ));
            }
            let (op, at) = ops.read_with_offset()?;
            v.op(&op, at)?;
        }
        if !ops.is_empty() {
            return Err(Error::malformed(
                ops.offset(),
                "section size mismatch: operators remaining after end of function",
            ));
        }
        Ok(())
    }
}

impl ModuleChecker<'_> {
    fn check_types(&self) -> Result<()> {
        if self.module.features.multi_value {
            return Ok(());
        }
        for ty in &self.module.types {
            if ty.results().len() > 1 {
                return Err(Error::invalid(
                    0,
                    format!("invalid result arity: {ty} has several results (needs multi_value)"),
                ));
            }
        }
        Ok(())
    }

    fn check_type_index(&self, index: u32, at: usize) -> Result<()> {
        if (index as usize) < self.module.types.len() {
            Ok(())
        } else {
            Err(Error::invalid(at, format!("unknown type {index}")))
        }
    }

    fn check_imports(&self) -> Result<()> {
        for import in &self.module.imports {
            match &import.desc {
                ImportDesc::Func(ty) => self.check_type_index(*ty, import.offset)?,
                ImportDesc::Table(t) => check_limits(&t.limits, u32::MAX, "table", import.offset)?,
                ImportDesc::Memory(m) => check_memory_limits(&m.limits, import.offset)?,
                ImportDesc::Global(g) => {
                    if g.mutable && !self.module.features.mutable_global {
                        return Err(Error::invalid(
                            import.offset,
                            "mutable global cannot be imported without the mutable_global feature",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_functions(&self) -> Result<()> {
        let defined = &self.module.functions[self.module.num_imported_functions as usize..];
        for &ty in defined {
            self.check_type_index(ty, 0)?;
        }
        Ok(())
    }

    fn check_tables_and_memories(&self) -> Result<()> {
        let f = &self.module.features;
        if self.module.tables.len() > 1 && !f.reference_types {
            return Err(Error::invalid(
                0,
                "multiple tables need the reference_types feature",
            ));
        }
        if self.module.memories.len() > 1 && !f.multi_memory {
            return Err(Error::invalid(0, "multiple memories are not supported"));
        }
        for t in &self.module.tables[self.module.num_imported_tables as usize..] {
            check_limits(&t.limits, u32::MAX, "table", 0)?;
        }
        for m in &self.module.memories[self.module.num_imported_memories as usize..] {
            check_memory_limits(&m.limits, 0)?;
        }
        Ok(())
    }

    fn check_globals(&mut self) -> Result<()> {
        let imported = self.module.num_imported_globals as usize;
        for (i, init) in self.module.global_inits.iter().enumerate() {
            let ty = self.module.globals[imported + i];
            // A global's initialiser sees only the globals before it.
            self.check_const_expr(init, ty.content, imported + i)?;
        }
        Ok(())
    }

    fn check_exports(&mut self) -> Result<()> {
        let m = self.module;
        let mut names: Vec<&str> = m.exports.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            let at = m
                .exports
                .iter()
                .rev()
                .find(|e| e.name == w[0])
                .map_or(0, |e| e.offset);
            return Err(Error::invalid(
                at,
                format!("duplicate export name {:?}", w[0]),
            ));
        }
        for e in &m.exports {
            let (len, what) = match e.kind {
                ExternKind::Func => (m.functions.len(), "function"),
                ExternKind::Table => (m.tables.len(), "table"),
                ExternKind::Memory => (m.memories.len(), "memory"),
                ExternKind::Global => (m.globals.len(), "global"),
            };
            if e.index as usize >= len {
                return Err(Error::invalid(
                    e.offset,
                    format!("unknown {what} {}", e.index),
                ));
            }
            match e.kind {
                ExternKind::Func => self.declared_refs[e.index as usize] = true,
                ExternKind::Global
                    if m.globals[e.index as usize].mutable && !m.features.mutable_global =>
                {
                    return Err(Error::invalid(
                        e.offset,
                        "mutable global cannot be exported without the mutable_global feature",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check_start(&self) -> Result<()> {
        let Some((index, at)) = self.module.start else {
            return Ok(());
        };
        let ty = self
            .module
            .func_type(index)
            .ok_or_else(|| Error::invalid(at, format!("unknown function {index}")))?;
        if !ty.params().is_empty() || !ty.results().is_empty() {
            return Err(Error::invalid(
                at,
                format!("start function must have type [] -> [], function {index} has {ty}"),
            ));
        }
        Ok(())
    }

    fn check_elements(&mut self) -> Result<()> {
        let m = self.module;
        let all_globals = m.globals.len();
        for seg in &m.elements {
            if !matches!(seg.mode, ElementMode::Active { .. }) && !m.features.bulk_memory {
                return Err(Error::invalid(
                    seg.offset,
                    "passive and declarative element segments need the bulk_memory feature",
                ));
            }
            if let ElementMode::Active { table, offset } = &seg.mode {
                let t = m
                    .tables
                    .get(*table as usize)
                    .ok_or_else(|| Error::invalid(seg.offset, format!("unknown table {table}")))?;
                self.check_const_expr(offset, ValType::I32, all_globals)?;
                if t.element != seg.ty {
                    return Err(Error::invalid(
                        seg.offset,
                        format!(
                            "type mismatch: {} segment for a table of {}",
                            seg.ty, t.element
                        ),
                    ));
                }
            }
            match &seg.items {
                ElementItems::Functions(indices) => {
                    for &f in indices {
                        if f as usize >= m.functions.len() {
                            return Err(Error::invalid(
                                seg.offset,
                                format!("unknown function {f}"),
                            ));
                        }
                        self.declared_refs[f as usize] = true;
                    }
                }
                ElementItems::Exprs(exprs) => {
                    if !m.features.reference_types {
                        return Err(Error::invalid(
                            seg.offset,
                            "element segments of expressions need the reference_types feature",
                        ));
                    }
                    for e in exprs {
                        self.check_const_expr(e, seg.ty.val_type(), all_globals)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_data(&mut self) -> Result<()> {
        let m = self.module;
        for seg in &m.data {
            if seg.mode == DataMode::Passive && !m.features.bulk_memory {
                return Err(Error::invalid(
                    seg.offset,
                    "passive data segments need the bulk_memory feature",
                ));
            }
            if let DataMode::Active { memory, offset } = &seg.mode {
                if *memory as usize >= m.memories.len() {
                    return Err(Error::invalid(
                        seg.offset,
                        format!("unknown memory {memory}"),
                    ));
                }
                self.check_const_expr(offset, ValType::I32, m.globals.len())?;
            }
        }
        Ok(())
    }

    /// A constant expression of type `expected` that may read globals `0..visible_globals`
    /// (of which only imported, immutable ones are constant in WebAssembly 2.0).
    fn check_const_expr(
        &mut self,
        expr: &ConstExpr,
        expected: ValType,
        visible_globals: usize,
    ) -> Result<()> {
        let m = self.module;
        let mut ops = m.const_expr_reader(expr);
        let mut stack: Vec<ValType> = Vec::new();
        loop {
            let (op, at) = ops.read_with_offset()?;
            let ty = match op {
                Operator::End {} => break,
                Operator::I32Const { .. } => ValType::I32,
                Operator::I64Const { .. } => ValType::I64,
                Operator::F32Const { .. } => ValType::F32,
                Operator::F64Const { .. } => ValType::F64,
                Operator::V128Const { .. } => ValType::V128,
                Operator::RefNull { ty } => ty.val_type(),
                Operator::RefFunc { function_index } => {
                    if function_index as usize >= m.functions.len() {
                        return Err(Error::invalid(
                            at,
                            format!("unknown function {function_index}"),
                        ));
                    }
                    self.declared_refs[function_index as usize] = true;
                    ValType::FuncRef
                }
                Operator::GlobalGet { global_index } => {
                    let index = global_index as usize;
                    if index >= visible_globals {
                        return Err(Error::invalid(at, format!("unknown global {global_index}")));
                    }
                    if global_index >= m.num_imported_globals {
                        return Err(Error::invalid(
                            at,
                            format!("unknown global {global_index}: constant expressions may only read imported globals"),
                        ));
                    }
                    let GlobalType { content, mutable } = m.globals[index];
                    if mutable {
                        return Err(Error::invalid(
                            at,
                            format!(
                                "constant expression required: global {global_index} is mutable"
                            ),
                        ));
                    }
                    content
                }
                other => {
                    return Err(Error::invalid(
                        at,
                        format!(
                            "constant expression required: {} is not constant",
                            other.mnemonic()
                        ),
                    ))
                }
            };
            stack.push(ty);
        }
        if stack.as_slice() != [expected] {
            let found: Vec<&str> = stack.iter().map(|t| t.name()).collect();
            return Err(Error::invalid(
                expr.range.start,
                format!(
                    "type mismatch: constant expression must produce [{expected}], produces [{}]",
                    found.join(" ")
                ),
            ));
        }
        Ok(())
    }
}

fn check_limits(limits: &Limits, bound: u32, what: &str, at: usize) -> Result<()> {
    if let Some(max) = limits.max {
        if max < limits.min {
            return Err(Error::invalid(
                at,
                format!(
                    "size minimum must not be greater than maximum ({what} min {} > max {max})",
                    limits.min
                ),
            ));
        }
    }
    if limits.min > bound || limits.max.is_some_and(|m| m > bound) {
        return Err(Error::invalid(
            at,
            format!("{what} size must be at most {bound}"),
        ));
    }
    Ok(())
}

fn check_memory_limits(limits: &Limits, at: usize) -> Result<()> {
    if limits.min > MAX_MEMORY_PAGES || limits.max.is_some_and(|m| m > MAX_MEMORY_PAGES) {
        return Err(Error::invalid(
            at,
            "memory size must be at most 65536 pages (4GiB)",
        ));
    }
    check_limits(limits, MAX_MEMORY_PAGES, "memory", at)
}

/// The value type of a table's elements.
pub(crate) fn ref_val_type(r: RefType) -> ValType {
    r.val_type()
}

#[cfg(test)]
mod tests;
