//! # wasmi-py-core
//!
//! The interpreter core of wasmi-py (see `docs/ARCHITECTURE.md`).
#![recursion_limit = "1024"]

pub mod instr;
pub mod trap;
