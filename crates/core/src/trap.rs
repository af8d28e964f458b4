//! Traps: the ways execution of WebAssembly code can stop abnormally.

use std::fmt;

/// Why execution trapped. The `Display` text is the spec test suite's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable,
    /// A load, store or bulk memory access outside linear memory.
    MemoryOutOfBounds,
    /// A table access outside the table.
    TableOutOfBounds,
    /// `call_indirect` with an index outside the table.
    UndefinedElement,
    /// `call_indirect` to a null table entry.
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    BadSignature,
    /// Signed division or conversion overflow (`i32.div_s(MIN, -1)`, …).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Float-to-int conversion of NaN.
    BadConversionToInteger,
    /// The call stack (frames or value slots) is exhausted.
    StackOverflow,
    /// An element segment entry was used after `elem.drop`/uninitialised.
    UninitializedElement,
    /// The execution step bound (fuel) ran out.
    OutOfFuel,
}

impl TrapCode {
    /// Every trap code, each at the index `code as usize` (the code cache stores traps as
    /// that index).
    pub(crate) const ALL: [Self; 12] = [
        Self::Unreachable,
        Self::MemoryOutOfBounds,
        Self::TableOutOfBounds,
        Self::UndefinedElement,
        Self::IndirectCallToNull,
        Self::BadSignature,
        Self::IntegerOverflow,
        Self::IntegerDivisionByZero,
        Self::BadConversionToInteger,
        Self::StackOverflow,
        Self::UninitializedElement,
        Self::OutOfFuel,
    ];

    /// The spec suite's message for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::MemoryOutOfBounds => "out of bounds memory access",
            Self::TableOutOfBounds => "out of bounds table access",
            Self::UndefinedElement => "undefined element",
            Self::IndirectCallToNull => "uninitialized element",
            Self::BadSignature => "indirect call type mismatch",
            Self::IntegerOverflow => "integer overflow",
            Self::IntegerDivisionByZero => "integer divide by zero",
            Self::BadConversionToInteger => "invalid conversion to integer",
            Self::StackOverflow => "call stack exhausted",
            Self::UninitializedElement => "uninitialized element",
            Self::OutOfFuel => "all fuel consumed",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TrapCode {}

/// A trap with where it happened: the code (or a host error, or a WASI-style exit request)
/// and the wasm call stack at that moment, innermost frame first.
#[derive(Debug)]
pub struct Trap {
    reason: TrapReason,
    backtrace: Vec<BacktraceFrame>,
}

/// What ended execution.
#[derive(Debug)]
pub enum TrapReason {
    /// A WebAssembly trap.
    Code(TrapCode),
    /// A host function asked to end the whole run with this exit status (WASI `proc_exit`).
    Exit(i32),
    /// A host function failed.
    Host(Box<dyn std::error::Error + Send + Sync>),
}

/// One frame of a trap's wasm backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktraceFrame {
    /// Function index in its module.
    pub func_index: u32,
    /// Name from the module's `name` section, if any.
    pub name: Option<String>,
}

impl Trap {
    /// A WebAssembly trap.
    #[cold]
    pub fn new(code: TrapCode) -> Self {
        Self {
            reason: TrapReason::Code(code),
            backtrace: Vec::new(),
        }
    }

    /// A request from a host function to end the run with `status`.
    #[cold]
    pub fn exit(status: i32) -> Self {
        Self {
            reason: TrapReason::Exit(status),
            backtrace: Vec::new(),
        }
    }

    /// A host function's error.
    #[cold]
    pub fn host(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            reason: TrapReason::Host(error.into()),
            backtrace: Vec::new(),
        }
    }

    /// What ended execution.
    pub fn reason(&self) -> &TrapReason {
        &self.reason
    }

    /// The trap code, for WebAssembly traps.
    pub fn code(&self) -> Option<TrapCode> {
        match self.reason {
            TrapReason::Code(code) => Some(code),
            _ => None,
        }
    }

    /// The exit status, for exit requests.
    pub fn exit_status(&self) -> Option<i32> {
        match self.reason {
            TrapReason::Exit(status) => Some(status),
            _ => None,
        }
    }

    /// The wasm call stack when the trap happened, innermost first (empty if unknown).
    pub fn backtrace(&self) -> &[BacktraceFrame] {
        &self.backtrace
    }

    pub(crate) fn with_backtrace(mut self, backtrace: Vec<BacktraceFrame>) -> Self {
        if self.backtrace.is_empty() {
            self.backtrace = backtrace;
        }
        self
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Self {
        Self::new(code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            TrapReason::Code(code) => write!(f, "wasm trap: {code}")?,
            TrapReason::Exit(status) => write!(f, "exit with status {status}")?,
            TrapReason::Host(e) => write!(f, "host error: {e}")?,
        }
        if !self.backtrace.is_empty() {
            write!(f, "\nwasm backtrace:")?;
            for (i, frame) in self.backtrace.iter().enumerate() {
                match &frame.name {
                    Some(name) => write!(f, "\n  {i:>3}: func[{}] {name}", frame.func_index)?,
                    None => write!(f, "\n  {i:>3}: func[{}]", frame.func_index)?,
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}
