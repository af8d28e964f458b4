#!/usr/bin/env bash
# Sets up and runs the main job: builds python.wasm if it is not cached yet
# (python-wasm/build.sh, ~10 minutes once, needs root on Debian 12), builds wasmi-py, and
# runs examples/demo.py in CPython inside wasmi-py with a scratch directory mapped in.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> python.wasm (cached build, see python-wasm/README.md)" >&2
PYTHON_HOME=$(bash python-wasm/build.sh | tail -n 1)

echo "==> cargo build --release -p wasmi-py" >&2
cargo build --release -q -p wasmi-py

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "==> wasmi-py run --dir $out examples/demo.py $out" >&2
./target/release/wasmi-py run --python-home "$PYTHON_HOME" --dir "$out" examples/demo.py "$out"
echo "==> on the host: $out/hello-from-wasm.txt says: $(cat "$out/hello-from-wasm.txt")" >&2
