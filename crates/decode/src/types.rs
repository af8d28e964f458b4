//! The type vocabulary of WebAssembly 2.0 and the enabled-proposal set.

use std::fmt;

/// The WebAssembly proposals a decoder/validator accepts beyond the 1.0 MVP.
///
/// [`Features::default`] is WebAssembly 2.0 with fixed-width SIMD: everything the
/// CPython-for-WASI build and the 2.0 spec suite need. [`Features::mvp`] is WebAssembly 1.0 as
/// the 2019 W3C Recommendation defines it (the MVP plus mutable-global import/export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Features {
    /// Importing and exporting mutable globals.
    pub mutable_global: bool,
    /// `i32.extend8_s` and friends.
    pub sign_ext: bool,
    /// Non-trapping (saturating) float-to-int conversions, `0xfc 0..=7`.
    pub saturating_float_to_int: bool,
    /// Multiple results, block parameters, type-indexed block types.
    pub multi_value: bool,
    /// `memory.copy/fill/init`, `data.drop`, `table.init/copy`, `elem.drop`, passive segments.
    pub bulk_memory: bool,
    /// `externref`, `ref.*`, `table.*`, several tables, typed `select`.
    pub reference_types: bool,
    /// Fixed-width 128-bit SIMD.
    pub simd: bool,
    /// Several memories (not part of 2.0; the SIMD suite has one file that needs it).
    pub multi_memory: bool,
}

impl Features {
    /// WebAssembly 1.0: the MVP with mutable-global import/export (part of the 1.0
    /// Recommendation) and none of the later proposals.
    pub const fn mvp() -> Self {
        Self {
            mutable_global: true,
            sign_ext: false,
            saturating_float_to_int: false,
            multi_value: false,
            bulk_memory: false,
            reference_types: false,
            simd: false,
            multi_memory: false,
        }
    }

    /// WebAssembly 2.0: the MVP plus every proposal merged into 2.0, SIMD included.
    pub const fn wasm2() -> Self {
        Self {
            mutable_global: true,
            sign_ext: true,
            saturating_float_to_int: true,
            multi_value: true,
            bulk_memory: true,
            reference_types: true,
            simd: true,
            multi_memory: false,
        }
    }
}

impl Default for Features {
    fn default() -> Self {
        Self::wasm2()
    }
}

/// A value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

impl ValType {
    /// Decodes a value-type byte, or `None` if `byte` is not one.
    pub fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0x7f => Self::I32,
            0x7e => Self::I64,
            0x7d => Self::F32,
            0x7c => Self::F64,
            0x7b => Self::V128,
            0x70 => Self::FuncRef,
            0x6f => Self::ExternRef,
            _ => return None,
        })
    }

    /// True for `funcref` and `externref`.
    pub fn is_ref(self) -> bool {
        matches!(self, Self::FuncRef | Self::ExternRef)
    }

    /// The text-format name.
    pub fn name(self) -> &'static str {
        match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::V128 => "v128",
            Self::FuncRef => "funcref",
            Self::ExternRef => "externref",
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reference type: the element type of tables and the type of `ref.null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefType {
    FuncRef,
    ExternRef,
}

impl RefType {
    /// The same type as a value type.
    pub fn val_type(self) -> ValType {
        match self {
            Self::FuncRef => ValType::FuncRef,
            Self::ExternRef => ValType::ExternRef,
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.val_type().fmt(f)
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameters followed by results, in one allocation.
    params_results: Box<[ValType]>,
    num_params: usize,
}

impl FuncType {
    /// A signature from its parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        let mut all: Vec<ValType> = params.into_iter().collect();
        let num_params = all.len();
        all.extend(results);
        Self {
            params_results: all.into_boxed_slice(),
            num_params,
        }
    }

    /// Parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params_results[..self.num_params]
    }

    /// Result types.
    pub fn results(&self) -> &[ValType] {
        &self.params_results[self.num_params..]
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |tys: &[ValType]| tys.iter().map(|t| t.name()).collect::<Vec<_>>().join(" ");
        write!(f, "[{}] -> [{}]", list(self.params()), list(self.results()))
    }
}

/// Size limits of a table (in elements) or a memory (in 64 KiB pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    pub min: u32,
    pub max: Option<u32>,
}

/// A table's element type and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableType {
    pub element: RefType,
    pub limits: Limits,
}

/// A linear memory's limits, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub limits: Limits,
}

/// A global's value type and mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

/// What kind of entity an import or export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
}

impl fmt::Display for ExternKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Func => "function",
            Self::Table => "table",
            Self::Memory => "memory",
            Self::Global => "global",
        })
    }
}

/// The type of a block, loop or if.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockType {
    /// `[] -> []`
    Empty,
    /// `[] -> [t]`
    Value(ValType),
    /// A function type from the type section (multi-value).
    Func(u32),
}
