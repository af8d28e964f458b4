//! `spec-tests [--verbose] [--strict-messages] [--filter SUBSTR] [SUITE...]`
//!
//! Runs the WebAssembly spec test suites against wasmi-py and prints one line per suite,
//! `SUITE: N passed, N failed, N skipped`, then `total: …`. Exits 1 if anything failed,
//! 2 on bad arguments. Without suites, runs `wasm-v1 wasm-v2 proposals/simd`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use spec_tests::{Counters, Note, Options, Runner, Suite, SuiteReport};

const USAGE: &str = "\
usage: spec-tests [--verbose] [--strict-messages] [--filter SUBSTR] [SUITE...]

  SUITE              wasm-v1, wasm-v2, wasm-v3, wasm-latest or proposals/NAME
                     (default: wasm-v1 wasm-v2 proposals/simd)
  -v, --verbose      name every failure (file:line:col) and print the message counters
  --strict-messages  a rejection with the wrong message or phase is a failure
  --filter SUBSTR    only run files whose name contains SUBSTR
  --list             print the available suites";

fn main() -> ExitCode {
    let mut options = Options::default();
    let mut verbose = false;
    let mut suites = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--strict-messages" => options.strict_messages = true,
            "--filter" => match args.next() {
                Some(filter) => options.filter = Some(filter),
                None => return usage_error("--filter needs an argument"),
            },
            "--list" => {
                for name in Suite::all_names() {
                    println!("{name}");
                }
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                if let Some(filter) = arg.strip_prefix("--filter=") {
                    options.filter = Some(filter.to_string());
                } else if arg.starts_with('-') {
                    return usage_error(&format!("unknown option {arg}"));
                } else if let Some(suite) = Suite::from_name(&arg) {
                    suites.push(suite);
                } else {
                    return usage_error(&format!(
                        "unknown suite {arg} (available: {})",
                        Suite::all_names().join(", ")
                    ));
                }
            }
        }
    }
    if suites.is_empty() {
        suites = Suite::defaults();
    }

    let mut runner = Runner::new(options);
    let mut total = SuiteReport::default();
    for suite in &suites {
        let report = runner.run_suite(suite);
        if verbose {
            for failure in &report.failures {
                println!("  FAIL {}: {}", failure.at, failure.reason);
            }
        }
        println!(
            "{}: {} passed, {} failed, {} skipped",
            report.suite, report.passed, report.failed, report.skipped
        );
        total.passed += report.passed;
        total.failed += report.failed;
        total.skipped += report.skipped;
        total.counters += report.counters;
        total.notes.extend(report.notes);
    }
    if verbose {
        print_notes(&total.counters, &total.notes);
    }
    println!(
        "total: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("spec-tests: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

/// The counters, then the mismatches grouped by expected message (with one example each).
fn print_notes(counters: &Counters, notes: &[(spec_tests::Record, Note)]) {
    println!(
        "notes: text_rejected_by_wast: {}, message mismatches: {}, phase mismatches: {}",
        counters.text_rejected_by_wast, counters.message_mismatch, counters.phase_mismatch
    );
    // Which directives `wast` rejected the text of (normally only `assert_malformed`).
    let mut by_directive: BTreeMap<&str, usize> = BTreeMap::new();
    for (at, note) in notes {
        if let Note::TextRejectedByWast { .. } = note {
            *by_directive.entry(at.directive).or_default() += 1;
        }
    }
    if !by_directive.is_empty() {
        let parts: Vec<String> = by_directive
            .iter()
            .map(|(directive, n)| format!("{directive}: {n}"))
            .collect();
        println!("  text_rejected_by_wast by directive: {}", parts.join(", "));
    }
    let mut groups: BTreeMap<(&str, &str), (usize, String)> = BTreeMap::new();
    for (at, note) in notes {
        let (kind, expected, actual) = match note {
            Note::TextRejectedByWast { .. } => continue,
            Note::MessageMismatch { expected, actual } => ("message", expected, actual),
            Note::PhaseMismatch {
                expected_message,
                actual,
                ..
            } => ("phase", expected_message, actual),
        };
        groups
            .entry((kind, expected))
            .or_insert_with(|| (0, format!("{at}: {actual}")))
            .0 += 1;
    }
    for ((kind, expected), (count, example)) in &groups {
        println!("  {kind} mismatch x{count}: expected \"{expected}\", e.g. {example}");
    }
}
