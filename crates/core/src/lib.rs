//! # wasmi-py-core
//!
//! The interpreter core of wasmi-py: translation of validated WebAssembly into register
//! bytecode ([`instr`], `translate`), the interpreter (`exec`, threaded handlers), instantiation, and the
//! embedding API ([`Engine`], [`Module`], [`Store`], [`Linker`], [`Instance`], [`Func`],
//! [`Memory`], [`Table`], [`Global`]). See `docs/ARCHITECTURE.md` for how a module flows
//! from bytes to a trap.
#![recursion_limit = "1024"]

mod cache;
mod exec;
mod file;
mod inline;
mod instantiate;
pub mod instr;
pub mod memory;
pub mod num;
#[cfg(feature = "op-stats")]
mod op_stats;
mod profile;
mod store;
mod translate;
pub mod trap;
mod value;

pub use cache::CodeCacheStats;
pub use file::ModuleFile;
pub use profile::{FunctionTime, Profile};
pub use store::{
    Caller, Config, Engine, Error, Extern, Func, Global, HostFn, Inline, Instance, Linker, Memory,
    Module, Store, Table,
};
pub use translate::{translate, CompiledFunc};
pub use trap::{BacktraceFrame, Trap, TrapCode, TrapReason};
pub use value::{ExternRef, Val, ValType};
/// Whether this build counts dispatches (the `op-stats` feature, `scripts/op-stats.sh`): a
/// store of such a build writes its report when it is dropped, so an embedder that skips
/// dropping at exit (the CLI does) must drop it after all.
pub const OP_STATS: bool = cfg!(feature = "op-stats");
/// The decoder (module IR: imports, exports, names, …) for embedders that inspect modules.
pub use wasmi_py_decode as decode;
pub use wasmi_py_decode::{Features, FuncType, GlobalType, Limits, MemoryType, RefType, TableType};
