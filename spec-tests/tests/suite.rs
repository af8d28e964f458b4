//! The spec suites wasmi-py claims to pass, as a `cargo test`: zero failures allowed.
//!
//! Same as `cargo run --release -p spec-tests` with no arguments; run that with `--verbose`
//! to see the failures with their reasons.

use spec_tests::{Options, Runner, Suite};

#[test]
fn default_suites_have_no_failures() {
    let mut runner = Runner::new(Options::default());
    let mut failures = Vec::new();
    for suite in Suite::defaults() {
        let report = runner.run_suite(&suite);
        println!(
            "{}: {} passed, {} failed, {} skipped",
            report.suite, report.passed, report.failed, report.skipped
        );
        // Guard against a suite silently shrinking to nothing (e.g. a packaging change):
        // the official ones have thousands of directives, our regression suite at least one
        // per file.
        let minimum = if report.suite == "regressions" {
            suite.files().len()
        } else {
            1000
        };
        assert!(
            report.passed > minimum,
            "{}: only {} directives passed",
            report.suite,
            report.passed
        );
        failures.extend(report.failures);
    }
    if !failures.is_empty() {
        for failure in failures.iter().take(50) {
            eprintln!("FAIL {}: {}", failure.at, failure.reason);
        }
        panic!(
            "{} spec directives failed (first 50 above; `cargo run --release -p spec-tests -- --verbose` lists all)",
            failures.len()
        );
    }
}
