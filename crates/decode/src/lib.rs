//! # wasmi-py-decode
//!
//! The WebAssembly binary decoder of wasmi-py: module bytes to [`Module`], with every error
//! carrying the byte offset it was found at. It decodes the whole of WebAssembly 2.0 (MVP,
//! mutable globals, sign extension, saturating conversions, multi-value, bulk memory,
//! reference types) and fixed-width SIMD, each switchable through [`Features`].
//!
//! The instruction set is described once, in [`for_each_operator!`]; the [`Operator`] enum and
//! its decoder here, the validator and the interpreter's translator are expansions of it.
//!
//! Decoding never panics and never allocates more than the input can justify: every vector
//! count is checked against the bytes left before anything is reserved.

#[macro_use]
mod table;
mod error;
mod module;
pub mod operators;
mod reader;
mod types;

pub use error::{Error, ErrorKind, Result};
pub use module::{
    ConstExpr, CustomSection, DataMode, DataSegment, ElementItems, ElementMode, ElementSegment,
    Export, FunctionBody, Global, Import, ImportDesc, Module, Names, MAX_LOCALS,
};
pub use operators::{
    BrTable, Ieee32, Ieee64, MemArg, Operator, OperatorsReader, SelectTypes, V128,
};
pub use reader::Reader;
pub use types::{
    BlockType, ExternKind, Features, FuncType, GlobalType, Limits, MemoryType, RefType, TableType,
    ValType,
};
