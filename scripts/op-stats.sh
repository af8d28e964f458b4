#!/usr/bin/env bash
# Counts the bytecode instructions and adjacent instruction pairs the interpreter
# dispatches while CPython runs a script: the data superinstructions are chosen from
# (crates/core/src/op_stats.rs). A measurement of dispatches, not of time (counting makes
# CPython ~10x slower).
#
#   bash scripts/op-stats.sh SCRIPT.py [REPORT]     (default report: op-stats.txt)
#
# Builds wasmi-py with the `op-stats` feature into target/op-stats (the normal build is
# left alone) and runs the script with a fresh, empty code cache, so the counts are those
# of code translated in this run, translated as `wasmi-py run` translates it (a module
# with a code cache inlines small callees: `Inline::WithCodeCache`), and with
# PYTHONHASHSEED=0: with random string hashes the
# counts of one script vary by ~1% from run to run. Needs python.wasm (python-wasm/build.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
script="${1:?usage: op-stats.sh SCRIPT.py [REPORT]}"
report="$(realpath -m "${2:-op-stats.txt}")"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p wasmi-py \
    --features wasmi-py-core/op-stats --target-dir "$root/target/op-stats"
# python.wasm where `wasmi-py run` finds it, before the code cache is pointed elsewhere.
home="${WASMI_PY_HOME:-${WASMI_PY_CACHE:-$HOME/.cache/wasmi-py}/python-wasm/current}"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
WASMI_PY_CACHE="$cache" WASMI_PY_OP_STATS="$report" "$root/target/op-stats/release/wasmi-py" \
    run --python-home "$home" --env PYTHONHASHSEED=0 "$script" >/dev/null
head -n 25 "$report"
echo "... (all of it in $report)"
