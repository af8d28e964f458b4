"""wasmi-py demo: CPython 3.13 running inside wasmi-py's sandboxed WebAssembly interpreter.

Usage: wasmi-py run --dir OUTDIR examples/demo.py OUTDIR
"""
import hashlib
import json
import os
import platform
import sys
import zlib

print(f"Python {platform.python_version()} on {sys.platform} ({platform.machine()}), "
      f"inside wasmi-py")

# A computation: the first primes, a hash and a compression ratio.
primes = [n for n in range(2, 60) if all(n % d for d in range(2, int(n ** 0.5) + 1))]
print("primes below 60:", primes)
payload = json.dumps({"primes": primes}).encode()
print("sha256:", hashlib.sha256(payload).hexdigest()[:16],
      f"zlib: {len(payload)} -> {len(zlib.compress(payload))} bytes")

# A file written to the directory the host mapped in.
out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
path = os.path.join(out_dir, "hello-from-wasm.txt")
with open(path, "w") as f:
    f.write("written by CPython in wasmi-py\n")
print("wrote", path, "->", sorted(os.listdir(out_dir)))

# The sandbox: nothing outside the mapped directories is visible.
try:
    open("/etc/passwd")
except OSError as e:
    print("sandboxed: open('/etc/passwd') ->", type(e).__name__)
