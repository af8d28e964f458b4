//! `cd fuzz && cargo test`: the `execute_diff` oracle (src/exec_oracle.rs) without
//! libFuzzer.
//!
//! - `seeded_modules`: [`SEEDS`] fuzz inputs from a fixed pseudo-random generator, so the
//!   same modules every run. Fails on any divergence, and if too few modules got compared
//!   (a harness that silently compares nothing is worse than none).
//! - `regressions`: replays every input under `fuzz/regressions/execute_diff/`. An input
//!   whose bug is not fixed yet fails here: that is intended, it is the bug's open ticket.

use std::path::Path;

use wasmi_py_fuzz::exec_oracle::{check_input, seeded_input, Verdict};

/// How many seeded inputs `seeded_modules` runs.
const SEEDS: u64 = 200;

#[test]
fn seeded_modules() {
    let (mut compared, mut trapped_at_start, mut inconclusive, mut none, mut calls, mut traps) =
        (0, 0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for seed in 0..SEEDS {
        match check_input(&seeded_input(seed)) {
            Ok(Verdict::NoModule) => none += 1,
            Ok(Verdict::Agree {
                instantiated: true,
                calls: n,
                traps: t,
            }) => {
                compared += 1;
                calls += n;
                traps += t;
            }
            Ok(Verdict::Agree { .. }) => trapped_at_start += 1,
            Ok(Verdict::Inconclusive { calls: n, .. }) => {
                inconclusive += 1;
                calls += n;
            }
            Err(d) => failures.push(format!("seed {seed}: {d}")),
        }
    }
    eprintln!(
        "{SEEDS} inputs: {compared} modules compared, {trapped_at_start} trapped at \
         instantiation in both, {inconclusive} inconclusive, {none} without a module; \
         {calls} calls ({traps} trapped)"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= SEEDS as usize / 2 && calls >= SEEDS as usize,
        "too little was compared: {compared} modules, {calls} calls"
    );
}

#[test]
fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions/execute_diff");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut failures = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if let Err(d) = check_input(&data) {
            failures.push(format!("{}: {d}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
