//! The module IR and the section decoder that builds it.
//!
//! Decoding is one pass over the sections. Everything but function bodies is decoded eagerly
//! into owned vectors; a body is recorded as a byte range and decoded when it is validated or
//! translated (see [`Module::body`]). That keeps decoding cost proportional to the module's
//! header, not its code: CPython's module has 8,396 functions and 3.5 MB of code, most of
//! which a given run never calls, and the interpreter translates lazily on first call.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::operators::{read_ref_type, read_val_type, Operator, OperatorsReader};
use crate::reader::Reader;
use crate::types::{
    ExternKind, Features, FuncType, GlobalType, Limits, MemoryType, RefType, TableType, ValType,
};

/// What an import provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportDesc {
    /// A function of the given type index.
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
}

impl ImportDesc {
    /// The kind of entity imported.
    pub fn kind(&self) -> ExternKind {
        match self {
            Self::Func(_) => ExternKind::Func,
            Self::Table(_) => ExternKind::Table,
            Self::Memory(_) => ExternKind::Memory,
            Self::Global(_) => ExternKind::Global,
        }
    }
}

/// One import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub desc: ImportDesc,
    /// Offset of the import entry (for errors).
    pub offset: usize,
}

/// One export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    pub index: u32,
    pub offset: usize,
}

/// A constant expression (global initialiser, segment offset, element item), kept as the
/// bytes of its instructions up to and including the final `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstExpr {
    pub range: Range<usize>,
}

/// A defined global.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub ty: GlobalType,
    pub init: ConstExpr,
}

/// Where an element segment goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declarative,
}

/// The items of an element segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementItems {
    /// Function indices (the compact encodings).
    Functions(Vec<u32>),
    /// Constant expressions of the segment's reference type.
    Exprs(Vec<ConstExpr>),
}

/// An element segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementSegment {
    pub ty: RefType,
    pub mode: ElementMode,
    pub items: ElementItems,
    pub offset: usize,
}

/// Where a data segment goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

/// A data segment; its bytes are `module.bytes()[data]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    pub mode: DataMode,
    pub data: Range<usize>,
    pub offset: usize,
}

/// A custom section: its name and the range of its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomSection {
    pub name: String,
    pub data: Range<usize>,
}

/// Names from the `name` custom section (decoded leniently: a broken name section is
/// ignored, as the spec asks, and never makes a module fail to load).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub module: Option<String>,
    /// `(function index, name)`, sorted by index.
    pub functions: Vec<(u32, String)>,
}

impl Names {
    /// The name of function `index`, if the name section gives one.
    pub fn function(&self, index: u32) -> Option<&str> {
        self.functions
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .map(|i| self.functions[i].1.as_str())
    }
}

/// A decoded (not yet validated) module.
#[derive(Debug, Clone)]
pub struct Module {
    bytes: Arc<[u8]>,
    pub features: Features,
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    /// Type index of every function: imported ones first, then defined ones.
    pub functions: Vec<u32>,
    pub num_imported_functions: u32,
    /// All tables, imported first.
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    /// All memories, imported first.
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    /// Types of all globals, imported first.
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Initialisers of the defined globals (index `i` is global `num_imported_globals + i`).
    pub global_inits: Vec<ConstExpr>,
    pub exports: Vec<Export>,
    pub start: Option<(u32, usize)>,
    pub elements: Vec<ElementSegment>,
    pub data_count: Option<u32>,
    /// Byte ranges of the defined functions' bodies (locals + code, without the size).
    pub bodies: Vec<Range<usize>>,
    pub data: Vec<DataSegment>,
    pub customs: Vec<CustomSection>,
    /// Decoded from the `name` section on first use ([`Module::names`]).
    names: OnceLock<Names>,
}

/// A function body, ready to be decoded.
#[derive(Debug, Clone)]
pub struct FunctionBody<'a> {
    reader: Reader<'a>,
    features: Features,
}

/// Most locals a function may declare (an implementation limit, the same as wasmparser's,
/// so that no input can make the validator or interpreter reserve unbounded frame space).
pub const MAX_LOCALS: u32 = 50_000;

impl<'a> FunctionBody<'a> {
    /// Absolute offset of the body's first byte.
    pub fn offset(&self) -> usize {
        self.reader.offset()
    }

    /// Decodes the local declarations as `(count, type)` runs and returns a reader positioned
    /// at the first instruction.
    pub fn read_locals(&self) -> Result<(Vec<(u32, ValType)>, OperatorsReader<'a>)> {
        let mut r = self.reader.clone();
        let groups = r.read_count(2)?;
        let mut locals = Vec::with_capacity(groups as usize);
        let mut total: u64 = 0;
        for _ in 0..groups {
            let at = r.offset();
            let count = r.read_var_u32()?;
            total += u64::from(count);
            if total > u64::from(MAX_LOCALS) {
                return Err(Error::malformed(
                    at,
                    format!("too many locals: more than {MAX_LOCALS} declared"),
                ));
            }
            let ty = read_val_type(&mut r, &self.features)?;
            if count > 0 {
                locals.push((count, ty));
            }
        }
        Ok((locals, OperatorsReader::new(r, self.features)))
    }
}

/// Section ids in the order the binary format requires them (custom sections aside).
const SECTION_ORDER: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];

fn section_rank(id: u8) -> usize {
    SECTION_ORDER
        .iter()
        .position(|&s| s == id)
        .unwrap_or(usize::MAX)
}

fn section_name(id: u8) -> &'static str {
    match id {
        0 => "custom",
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        _ => "unknown",
    }
}

impl Module {
    /// Decodes a module binary. Function bodies are not decoded here: validation does that.
    pub fn decode(bytes: &[u8], features: Features) -> Result<Self> {
        Self::decode_shared(Arc::from(bytes), features)
    }

    /// Like [`decode`](Self::decode), keeping a shared buffer instead of copying it.
    pub fn decode_shared(bytes: Arc<[u8]>, features: Features) -> Result<Self> {
        let mut module = Module {
            bytes: Arc::clone(&bytes),
            features,
            types: Vec::new(),
            imports: Vec::new(),
            functions: Vec::new(),
            num_imported_functions: 0,
            tables: Vec::new(),
            num_imported_tables: 0,
            memories: Vec::new(),
            num_imported_memories: 0,
            globals: Vec::new(),
            num_imported_globals: 0,
            global_inits: Vec::new(),
            exports: Vec::new(),
            start: None,
            elements: Vec::new(),
            data_count: None,
            bodies: Vec::new(),
            data: Vec::new(),
            customs: Vec::new(),
            names: OnceLock::new(),
        };
        let mut d = Decoder {
            features,
            module: &mut module,
            declared_functions: None,
        };
        d.decode(&bytes)?;
        Ok(module)
    }

    /// The names the module's `name` section gives (its last one that decodes; none if
    /// there is none or none decodes).
    ///
    /// Performance: decoded on first use (a backtrace, a profile), not with the module:
    /// python.wasm's 182 KB name section (8,900 function names, each an allocation) took
    /// 0.55-0.60 ms, half of decoding the module, in every start-up.
    pub fn names(&self) -> &Names {
        self.names.get_or_init(|| {
            self.customs
                .iter()
                .rev()
                .filter(|c| c.name == "name")
                .find_map(|c| decode_names(&self.bytes[c.data.clone()], c.data.start).ok())
                .unwrap_or_default()
        })
    }

    /// The module's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The shared buffer holding the module's bytes.
    pub fn shared_bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// Number of functions defined (not imported).
    pub fn num_defined_functions(&self) -> u32 {
        self.bodies.len() as u32
    }

    /// The signature of function `index` (imported or defined), if it exists.
    pub fn func_type(&self, index: u32) -> Option<&FuncType> {
        let ty = *self.functions.get(index as usize)?;
        self.types.get(ty as usize)
    }

    /// The body of defined function `defined_index` (0 = first non-imported function).
    pub fn body(&self, defined_index: u32) -> Option<FunctionBody<'_>> {
        let range = self.bodies.get(defined_index as usize)?.clone();
        let start = range.start;
        Some(FunctionBody {
            reader: Reader::new(&self.bytes[range], start),
            features: self.features,
        })
    }

    /// A reader over a constant expression's instructions.
    pub fn const_expr_reader(&self, expr: &ConstExpr) -> OperatorsReader<'_> {
        OperatorsReader::new(
            Reader::new(&self.bytes[expr.range.clone()], expr.range.start),
            self.features,
        )
    }

    /// The bytes of a data segment.
    pub fn data_bytes(&self, segment: &DataSegment) -> &[u8] {
        &self.bytes[segment.data.clone()]
    }
}

struct Decoder<'m> {
    features: Features,
    module: &'m mut Module,
    /// Count from the function section, checked against the code section.
    declared_functions: Option<(u32, usize)>,
}

impl Decoder<'_> {
    fn decode(&mut self, bytes: &[u8]) -> Result<()> {
        let mut r = Reader::new(bytes, 0);
        if r.remaining() < 4 || r.read_array::<4>()? != *b"\0asm" {
            return Err(Error::malformed(0, "magic header not detected"));
        }
        let version = r
            .read_array::<4>()
            .map_err(|_| Error::malformed(4, "unexpected end: no binary version"))?;
        if version != [1, 0, 0, 0] {
            return Err(Error::malformed(4, "unknown binary version"));
        }
        let mut last_rank: Option<usize> = None;
        let mut code_seen = false;
        let mut data_seen = false;
        while !r.is_empty() {
            let id_at = r.offset();
            let id = r.read_u8()?;
            if id > 12 {
                return Err(Error::malformed(
                    id_at,
                    format!("malformed section id {id}"),
                ));
            }
            if id == 12 && !self.features.bulk_memory {
                return Err(Error::malformed(
                    id_at,
                    "malformed section id 12: the data count section needs bulk_memory",
                ));
            }
            let size_at = r.offset();
            let size = r.read_var_u32()? as usize;
            if size > r.remaining() {
                return Err(Error::malformed(
                    size_at,
                    format!(
                        "unexpected end: {} section claims {size} bytes, {} left (length out of bounds)",
                        section_name(id),
                        r.remaining()
                    ),
                ));
            }
            let mut s = r.sub_reader(size)?;
            if id != 0 {
                let rank = section_rank(id);
                if last_rank.is_some_and(|last| rank <= last) {
                    return Err(Error::malformed(
                        id_at,
                        format!(
                            "unexpected content after last section: {} section out of order or repeated",
                            section_name(id)
                        ),
                    ));
                }
                last_rank = Some(rank);
            }
            match id {
                0 => self.custom_section(&mut s)?,
                1 => self.type_section(&mut s)?,
                2 => self.import_section(&mut s)?,
                3 => self.function_section(&mut s)?,
                4 => self.table_section(&mut s)?,
                5 => self.memory_section(&mut s)?,
                6 => self.global_section(&mut s)?,
                7 => self.export_section(&mut s)?,
                8 => {
                    let at = s.offset();
                    self.module.start = Some((s.read_var_u32()?, at));
                }
                9 => self.element_section(&mut s)?,
                10 => {
                    code_seen = true;
                    self.code_section(&mut s)?;
                }
                11 => {
                    data_seen = true;
                    self.data_section(&mut s)?;
                }
                12 => {
                    self.module.data_count = Some(s.read_var_u32()?);
                }
                _ => unreachable!("section ids above 12 were rejected"),
            }
            if !s.is_empty() {
                return Err(Error::malformed(
                    s.offset(),
                    format!(
                        "section size mismatch: {} section has {} unread bytes",
                        section_name(id),
                        s.remaining()
                    ),
                ));
            }
        }
        let declared = self.declared_functions.map_or(0, |(n, _)| n);
        if !code_seen && declared > 0 {
            let at = self.declared_functions.map_or(0, |(_, at)| at);
            return Err(Error::malformed(
                at,
                "function and code section have inconsistent lengths",
            ));
        }
        if let Some(count) = self.module.data_count {
            if !data_seen && count > 0 {
                return Err(Error::malformed(
                    bytes.len(),
                    "data count and data section have inconsistent lengths",
                ));
            }
        }
        Ok(())
    }

    fn custom_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let name = s.read_name()?.to_owned();
        let start = s.offset();
        let payload = s.read_bytes(s.remaining())?;
        // A `name` section is decoded when its names are first asked for (`Module::names`),
        // and a malformed one is ignored then, never an error (spec, appendix "Custom
        // Sections": implementations should not fail on them).
        self.module.customs.push(CustomSection {
            name,
            data: start..start + payload.len(),
        });
        Ok(())
    }

    fn type_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(3)?;
        self.module.types.reserve(count as usize);
        for _ in 0..count {
            let at = s.offset();
            let form = s.read_u8()?;
            if form != 0x60 {
                return Err(Error::malformed(
                    at,
                    format!("integer representation too long: malformed function type form 0x{form:02x}, 0x60 expected"),
                ));
            }
            let params = self.val_types(s)?;
            let results = self.val_types(s)?;
            self.module.types.push(FuncType::new(params, results));
        }
        Ok(())
    }

    fn val_types(&self, s: &mut Reader<'_>) -> Result<Vec<ValType>> {
        let n = s.read_count(1)?;
        (0..n).map(|_| read_val_type(s, &self.features)).collect()
    }

    fn limits(&self, s: &mut Reader<'_>) -> Result<Limits> {
        let at = s.offset();
        let flags = s.read_u8()?;
        let min = s.read_var_u32()?;
        let max = match flags {
            0x00 => None,
            0x01 => Some(s.read_var_u32()?),
            _ => {
                return Err(Error::malformed(
                    at,
                    format!("integer too large: malformed limits flags 0x{flags:02x}"),
                ))
            }
        };
        Ok(Limits { min, max })
    }

    fn table_type(&self, s: &mut Reader<'_>) -> Result<TableType> {
        let element = read_ref_type(s, &self.features)?;
        Ok(TableType {
            element,
            limits: self.limits(s)?,
        })
    }

    fn global_type(&self, s: &mut Reader<'_>) -> Result<GlobalType> {
        let content = read_val_type(s, &self.features)?;
        let at = s.offset();
        let mutable = match s.read_u8()? {
            0 => false,
            1 => true,
            b => {
                return Err(Error::malformed(
                    at,
                    format!("malformed mutability 0x{b:02x}"),
                ))
            }
        };
        Ok(GlobalType { content, mutable })
    }

    fn import_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(4)?;
        for _ in 0..count {
            let offset = s.offset();
            let module = s.read_name()?.to_owned();
            let name = s.read_name()?.to_owned();
            let at = s.offset();
            let desc = match s.read_u8()? {
                0x00 => {
                    let ty = s.read_var_u32()?;
                    self.module.functions.push(ty);
                    self.module.num_imported_functions += 1;
                    ImportDesc::Func(ty)
                }
                0x01 => {
                    let t = self.table_type(s)?;
                    self.module.tables.push(t);
                    self.module.num_imported_tables += 1;
                    ImportDesc::Table(t)
                }
                0x02 => {
                    let m = MemoryType {
                        limits: self.limits(s)?,
                    };
                    self.module.memories.push(m);
                    self.module.num_imported_memories += 1;
                    ImportDesc::Memory(m)
                }
                0x03 => {
                    let g = self.global_type(s)?;
                    self.module.globals.push(g);
                    self.module.num_imported_globals += 1;
                    ImportDesc::Global(g)
                }
                b => {
                    return Err(Error::malformed(
                        at,
                        format!("malformed import kind 0x{b:02x}"),
                    ))
                }
            };
            self.module.imports.push(Import {
                module,
                name,
                desc,
                offset,
            });
        }
        Ok(())
    }

    fn function_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let at = s.offset();
        let count = s.read_count(1)?;
        self.declared_functions = Some((count, at));
        self.module.functions.reserve(count as usize);
        for _ in 0..count {
            let ty = s.read_var_u32()?;
            self.module.functions.push(ty);
        }
        Ok(())
    }

    fn table_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(2)?;
        for _ in 0..count {
            let t = self.table_type(s)?;
            self.module.tables.push(t);
        }
        Ok(())
    }

    fn memory_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(2)?;
        for _ in 0..count {
            let limits = self.limits(s)?;
            self.module.memories.push(MemoryType { limits });
        }
        Ok(())
    }

    fn global_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(3)?;
        for _ in 0..count {
            let ty = self.global_type(s)?;
            let init = self.const_expr(s)?;
            self.module.globals.push(ty);
            self.module.global_inits.push(init);
        }
        Ok(())
    }

    fn export_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(3)?;
        self.module.exports.reserve(count as usize);
        for _ in 0..count {
            let offset = s.offset();
            let name = s.read_name()?.to_owned();
            let at = s.offset();
            let kind = match s.read_u8()? {
                0x00 => ExternKind::Func,
                0x01 => ExternKind::Table,
                0x02 => ExternKind::Memory,
                0x03 => ExternKind::Global,
                b => {
                    return Err(Error::malformed(
                        at,
                        format!("malformed export kind 0x{b:02x}"),
                    ))
                }
            };
            let index = s.read_var_u32()?;
            self.module.exports.push(Export {
                name,
                kind,
                index,
                offset,
            });
        }
        Ok(())
    }

    /// Reads instructions up to and including the `end` that closes a constant expression.
    /// Which instructions are allowed is the validator's business; here they only have to
    /// decode.
    fn const_expr(&self, s: &mut Reader<'_>) -> Result<ConstExpr> {
        let start = s.offset();
        let mut ops = OperatorsReader::new(s.clone(), self.features);
        loop {
            if ops.is_empty() {
                return Err(Error::malformed(
                    ops.offset(),
                    "unexpected end of section or function: constant expression has no end",
                ));
            }
            if let Operator::End {} = ops.read()? {
                break;
            }
        }
        let len = ops.offset() - start;
        s.read_bytes(len)?;
        Ok(ConstExpr {
            range: start..start + len,
        })
    }

    fn element_kind(&self, s: &mut Reader<'_>) -> Result<RefType> {
        let at = s.offset();
        match s.read_u8()? {
            0x00 => Ok(RefType::FuncRef),
            b => Err(Error::malformed(
                at,
                format!("malformed element kind 0x{b:02x}"),
            )),
        }
    }

    fn func_indices(&self, s: &mut Reader<'_>) -> Result<ElementItems> {
        let n = s.read_count(1)?;
        let items = (0..n).map(|_| s.read_var_u32()).collect::<Result<_>>()?;
        Ok(ElementItems::Functions(items))
    }

    fn expr_items(&self, s: &mut Reader<'_>) -> Result<ElementItems> {
        let n = s.read_count(1)?;
        let items = (0..n).map(|_| self.const_expr(s)).collect::<Result<_>>()?;
        Ok(ElementItems::Exprs(items))
    }

    fn element_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let count = s.read_count(2)?;
        for _ in 0..count {
            let offset = s.offset();
            // The 2.0 encoding is read in every mode: for the segments 1.0 can express it is a
            // superset of 1.0's (flag 0 = table 0), and the `wast` encoder emits the explicit-
            // table form (flag 2) even for 1.0 modules. Passive and declarative segments are
            // rejected by the validator when bulk memory is off (as wasmparser does).
            let flags = s.read_var_u32()?;
            let (ty, mode, items) = match flags {
                0 => {
                    let off = self.const_expr(s)?;
                    let items = self.func_indices(s)?;
                    (
                        RefType::FuncRef,
                        ElementMode::Active {
                            table: 0,
                            offset: off,
                        },
                        items,
                    )
                }
                1 => {
                    let ty = self.element_kind(s)?;
                    (ty, ElementMode::Passive, self.func_indices(s)?)
                }
                2 => {
                    let table = s.read_var_u32()?;
                    let off = self.const_expr(s)?;
                    let ty = self.element_kind(s)?;
                    (
                        ty,
                        ElementMode::Active { table, offset: off },
                        self.func_indices(s)?,
                    )
                }
                3 => {
                    let ty = self.element_kind(s)?;
                    (ty, ElementMode::Declarative, self.func_indices(s)?)
                }
                4 => {
                    let off = self.const_expr(s)?;
                    let items = self.expr_items(s)?;
                    (
                        RefType::FuncRef,
                        ElementMode::Active {
                            table: 0,
                            offset: off,
                        },
                        items,
                    )
                }
                5 => {
                    let ty = read_ref_type(s, &self.features)?;
                    (ty, ElementMode::Passive, self.expr_items(s)?)
                }
                6 => {
                    let table = s.read_var_u32()?;
                    let off = self.const_expr(s)?;
                    let ty = read_ref_type(s, &self.features)?;
                    (
                        ty,
                        ElementMode::Active { table, offset: off },
                        self.expr_items(s)?,
                    )
                }
                7 => {
                    let ty = read_ref_type(s, &self.features)?;
                    (ty, ElementMode::Declarative, self.expr_items(s)?)
                }
                _ => {
                    return Err(Error::malformed(
                        offset,
                        format!("malformed elements segment kind {flags}"),
                    ))
                }
            };
            self.module.elements.push(ElementSegment {
                ty,
                mode,
                items,
                offset,
            });
        }
        Ok(())
    }

    fn code_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let at = s.offset();
        let count = s.read_count(2)?;
        let declared = self.declared_functions.map_or(0, |(n, _)| n);
        if count != declared {
            return Err(Error::malformed(
                at,
                format!("function and code section have inconsistent lengths: {declared} functions declared, {count} bodies"),
            ));
        }
        self.module.bodies.reserve(count as usize);
        for _ in 0..count {
            let size = s.read_var_u32()? as usize;
            let start = s.offset();
            if size > s.remaining() {
                return Err(Error::malformed(
                    start,
                    format!(
                        "unexpected end: function body of {size} bytes, {} left",
                        s.remaining()
                    ),
                ));
            }
            s.read_bytes(size)?;
            self.module.bodies.push(start..start + size);
        }
        Ok(())
    }

    fn data_section(&mut self, s: &mut Reader<'_>) -> Result<()> {
        let at = s.offset();
        let count = s.read_count(2)?;
        if let Some(expected) = self.module.data_count {
            if expected != count {
                return Err(Error::malformed(
                    at,
                    format!("data count and data section have inconsistent lengths: data count says {expected}, data section has {count}"),
                ));
            }
        }
        for _ in 0..count {
            let offset = s.offset();
            let flags = s.read_var_u32()?;
            let mode = match flags {
                0 => DataMode::Active {
                    memory: 0,
                    offset: self.const_expr(s)?,
                },
                // As for elements: 2.0's encoding in every mode, passive gated in validation.
                1 => DataMode::Passive,
                2 => {
                    let memory = s.read_var_u32()?;
                    DataMode::Active {
                        memory,
                        offset: self.const_expr(s)?,
                    }
                }
                _ => {
                    return Err(Error::malformed(
                        offset,
                        format!("malformed data segment kind {flags}"),
                    ))
                }
            };
            let len = s.read_var_u32()? as usize;
            let start = s.offset();
            s.read_bytes(len)?;
            self.module.data.push(DataSegment {
                mode,
                data: start..start + len,
                offset,
            });
        }
        Ok(())
    }
}

/// Decodes the module and function names of a `name` section payload.
fn decode_names(payload: &[u8], origin: usize) -> Result<Names> {
    let mut names = Names::default();
    let mut r = Reader::new(payload, origin);
    while !r.is_empty() {
        let id = r.read_u8()?;
        let size = r.read_var_u32()? as usize;
        let mut sub = r.sub_reader(size)?;
        match id {
            0 => names.module = Some(sub.read_name()?.to_owned()),
            1 => {
                let n = sub.read_count(2)?;
                names.functions.reserve(n as usize);
                for _ in 0..n {
                    let index = sub.read_var_u32()?;
                    let name = sub.read_name()?.to_owned();
                    names.functions.push((index, name));
                }
                names.functions.sort_by_key(|(i, _)| *i);
                names.functions.dedup_by_key(|(i, _)| *i);
            }
            _ => {}
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Custom sections: `(name, payload)`.
    type Customs<'a> = &'a [(&'a str, &'a [u8])];

    /// A module with one function `() -> ()` followed by the given custom sections.
    fn module_with_customs(customs: Customs<'_>) -> Vec<u8> {
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // type section
        bytes.extend_from_slice(&[3, 2, 1, 0]); // function section
        bytes.extend_from_slice(&[10, 4, 1, 2, 0, 0x0b]); // code section
        for (name, payload) in customs {
            let mut content = vec![name.len() as u8];
            content.extend_from_slice(name.as_bytes());
            content.extend_from_slice(payload);
            bytes.push(0);
            bytes.push(content.len() as u8);
            bytes.extend_from_slice(&content);
        }
        bytes
    }

    /// A `name` section payload naming function 0.
    fn names_function_0(name: &str) -> Vec<u8> {
        let mut sub = vec![1, 0, name.len() as u8];
        sub.extend_from_slice(name.as_bytes());
        let mut payload = vec![1, sub.len() as u8];
        payload.extend_from_slice(&sub);
        payload
    }

    #[test]
    fn names_come_from_the_last_name_section_that_decodes() {
        let f = names_function_0("f");
        let g = names_function_0("g");
        // A function-names subsection claiming more bytes than there are.
        let broken: &[u8] = &[1, 10, 1];
        let cases: [(Customs<'_>, Option<&str>); 5] = [
            (&[("name", &f)], Some("f")),
            (&[("name", &f), ("name", &g)], Some("g")),
            (&[("name", &f), ("name", broken)], Some("f")),
            (&[("name", broken), ("other", &g)], None),
            (&[], None),
        ];
        for (customs, expected) in cases {
            let bytes = module_with_customs(customs);
            let module = Module::decode(&bytes, Features::wasm2())
                .expect("a broken name section is no error");
            assert_eq!(module.names().function(0), expected, "{customs:?}");
            assert_eq!(module.customs.len(), customs.len());
        }
    }
}
