#!/usr/bin/env bash
# Runs every test of wasmi-py. This is the README's test command and what CI runs.
#
# 1. `cargo test --workspace --release`: unit tests next to the code, integration tests per
#    crate (spec suite through the library, differential checks against wasmparser,
#    wasm-smith modules, fuzz regression inputs).
# 2. The spec-suite runner's own report, which fails on any failed directive.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo test --workspace --release"
cargo test --workspace --release

step "spec suites: wasm-v1 wasm-v2 proposals/simd regressions"
cargo run --release -q -p spec-tests
