//! Values as the embedding API sees them, and their untyped 64-bit slot encoding.

use crate::store::Func;
pub use wasmi_py_decode::ValType;

/// An opaque host reference (`externref`), identified by a host-chosen number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef(pub u32);

/// A WebAssembly value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Self::I32(_) => ValType::I32,
            Self::I64(_) => ValType::I64,
            Self::F32(_) => ValType::F32,
            Self::F64(_) => ValType::F64,
            Self::V128(_) => ValType::V128,
            Self::FuncRef(_) => ValType::FuncRef,
            Self::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero (or null) value of a type: what declared locals and new table slots hold.
    pub fn default_for(ty: ValType) -> Self {
        match ty {
            ValType::I32 => Self::I32(0),
            ValType::I64 => Self::I64(0),
            ValType::F32 => Self::F32(0.0),
            ValType::F64 => Self::F64(0.0),
            ValType::V128 => Self::V128(0),
            ValType::FuncRef => Self::FuncRef(None),
            ValType::ExternRef => Self::ExternRef(None),
        }
    }

    /// The slot encoding: integers zero-extended, floats as their bits, references as
    /// `index + 1` with 0 for null. V128 does not fit a slot (SIMD is not executed yet).
    pub(crate) fn to_slot(self) -> u64 {
        match self {
            Self::I32(v) => u64::from(v as u32),
            Self::I64(v) => v as u64,
            Self::F32(v) => u64::from(v.to_bits()),
            Self::F64(v) => v.to_bits(),
            Self::V128(v) => v as u64,
            Self::FuncRef(f) => f.map_or(0, |f| u64::from(f.0) + 1),
            Self::ExternRef(r) => r.map_or(0, |r| u64::from(r.0) + 1),
        }
    }

    /// Decodes a slot holding a value of type `ty`.
    pub(crate) fn from_slot(slot: u64, ty: ValType) -> Self {
        match ty {
            ValType::I32 => Self::I32(slot as u32 as i32),
            ValType::I64 => Self::I64(slot as i64),
            ValType::F32 => Self::F32(f32::from_bits(slot as u32)),
            ValType::F64 => Self::F64(f64::from_bits(slot)),
            ValType::V128 => Self::V128(u128::from(slot)),
            ValType::FuncRef => Self::FuncRef(slot.checked_sub(1).map(|i| Func(i as u32))),
            ValType::ExternRef => Self::ExternRef(slot.checked_sub(1).map(|i| ExternRef(i as u32))),
        }
    }
}
