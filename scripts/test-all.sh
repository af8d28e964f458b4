#!/usr/bin/env bash
# Runs every test of wasmi-py. This is the README's test command and what CI runs.
#
# 1. python.wasm, built or taken from the cache (the CPython tests need it).
# 2. `cargo test --workspace --release`: unit tests next to the code, integration tests per
#    crate (spec suite through the library, differential checks against wasmparser,
#    wasm-smith modules, fuzz regression inputs, WASI and its sandbox, CPython 3.12 from
#    PyPI through `wasmi-py run`, CPython 3.13 through its C API).
# 3. A quick subset of CPython's own Lib/test under wasmi-py, counts compared with the
#    native build python of the same source (python-wasm/peer_tests.py).
# 4. The spec-suite runner's own report, which fails on any failed directive.
# 5. The same spec suites and the core's tests on the portable dispatch backend (handlers
#    returning to a loop; release builds otherwise chain handlers by tail calls). The core's
#    tests there also count dispatches (the `op-stats` feature, scripts/op-stats.sh), so
#    that feature builds and its report is tested.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# python.wasm: built once (~10 minutes on a fresh machine, needs root on Debian 12) and
# cached outside the repo keyed by the recipe's hash; instant afterwards.
step "python.wasm (python-wasm/build.sh, cached)"
WASMI_PY_HOME=$(bash python-wasm/build.sh | tail -n 1)
export WASMI_PY_HOME

step "cargo test --workspace --release"
cargo test --workspace --release

step "CPython's own Lib/test under wasmi-py vs native (quick subset; all: python-wasm/peer_tests.py)"
python3 python-wasm/peer_tests.py --quick --wasmi-py target/release/wasmi-py

step "spec suites: wasm-v1 wasm-v2 proposals/simd regressions"
cargo run --release -q -p spec-tests

step "portable dispatch backend: core tests and spec suites"
cargo test --release -q -p wasmi-py-core --features portable-dispatch,op-stats
cargo run --release -q -p spec-tests --features wasmi-py-core/portable-dispatch
