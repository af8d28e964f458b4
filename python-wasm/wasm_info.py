#!/usr/bin/env python3
"""List the imports and exports (with signatures) of a WebAssembly binary.

Used by python-wasm/build.sh to check python.wasm and to write the export and
import lists into the cache manifest; also handy by hand:

    python3 python-wasm/wasm_info.py python.wasm            # human-readable
    python3 python-wasm/wasm_info.py --json python.wasm     # JSON
    python3 python-wasm/wasm_info.py python.wasm \\
        --require-export Py_Initialize --allow-import-module wasi_snapshot_preview1 \\
        --exact-imports wasmi_py_socket=sock_open,sock_connect

With --require-export / --allow-import-module / --exact-imports it exits 1
if an export is missing, an import comes from a module not allowed, or the
imports of a module are not exactly the given set. Standard library only
(any Python >= 3.8); a small, self-contained parser of the binary format
(sections 1-12, the "name" custom section for function names).
"""

import argparse
import json
import sys

VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
            0x70: "funcref", 0x6F: "externref"}
KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table",
                 5: "memory", 6: "global", 7: "export", 8: "start", 9: "element",
                 10: "code", 11: "data", 12: "datacount", 13: "tag"}


class Reader:
    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self):
        if self.pos >= self.end:
            raise ValueError("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def u32(self):
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result
            if shift > 35:
                raise ValueError("LEB128 too long")

    def bytes(self, n):
        if self.pos + n > self.end:
            raise ValueError("unexpected end of data")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def name(self):
        return self.bytes(self.u32()).decode("utf-8")

    def valtype(self):
        b = self.byte()
        return VALTYPES.get(b, "0x%02x" % b)

    def limits(self):
        flags = self.byte()
        lo = self.u32()
        hi = self.u32() if flags & 1 else None
        return {"min": lo, "max": hi, "shared": bool(flags & 2)}


def fmt_sig(sig):
    params, results = sig
    return "(%s) -> (%s)" % (" ".join(params), " ".join(results))


def parse(data):
    if data[:4] != b"\0asm":
        raise ValueError("not a wasm binary (bad magic)")
    version = int.from_bytes(data[4:8], "little")
    r = Reader(data, 8)
    types, imports, exports, func_type_idx = [], [], [], []
    tables, memories, sections, func_names = [], [], [], {}
    n_imported_funcs = 0
    globals_count = data_segments = elem_segments = 0
    start = None
    while r.pos < r.end:
        sid = r.byte()
        size = r.u32()
        body_start = r.pos
        s = Reader(data, body_start, body_start + size)
        entry = {"id": sid, "name": SECTION_NAMES.get(sid, "unknown"), "size": size}
        if sid == 0:
            cname = s.name()
            entry["name"] = "custom:" + cname
            if cname == "name":
                while s.pos < s.end:
                    sub = s.byte()
                    sub_size = s.u32()
                    sub_end = s.pos + sub_size
                    if sub == 1:
                        for _ in range(s.u32()):
                            idx = s.u32()
                            func_names[idx] = s.name()
                    s.pos = sub_end
        elif sid == 1:
            for _ in range(s.u32()):
                form = s.byte()
                if form != 0x60:
                    raise ValueError("unsupported type form 0x%02x" % form)
                params = [s.valtype() for _ in range(s.u32())]
                results = [s.valtype() for _ in range(s.u32())]
                types.append((params, results))
        elif sid == 2:
            for _ in range(s.u32()):
                mod, field, kind = s.name(), s.name(), s.byte()
                imp = {"module": mod, "name": field, "kind": KINDS.get(kind, kind)}
                if kind == 0:
                    tidx = s.u32()
                    imp["type_index"] = tidx
                    imp["signature"] = fmt_sig(types[tidx])
                    func_type_idx.append(tidx)
                    n_imported_funcs += 1
                elif kind == 1:
                    imp["elem"] = s.valtype()
                    imp["limits"] = s.limits()
                elif kind == 2:
                    imp["limits"] = s.limits()
                elif kind == 3:
                    imp["type"] = s.valtype()
                    imp["mutable"] = bool(s.byte())
                elif kind == 4:
                    s.byte()
                    imp["type_index"] = s.u32()
                imports.append(imp)
        elif sid == 3:
            for _ in range(s.u32()):
                func_type_idx.append(s.u32())
        elif sid == 4:
            for _ in range(s.u32()):
                elem = s.valtype()
                tables.append({"elem": elem, "limits": s.limits()})
        elif sid == 5:
            for _ in range(s.u32()):
                memories.append(s.limits())
        elif sid == 6:
            globals_count = s.u32()
        elif sid == 7:
            for _ in range(s.u32()):
                exports.append({"name": s.name(), "kind": KINDS.get(s.byte(), "?"),
                                "index": s.u32()})
        elif sid == 8:
            start = s.u32()
        elif sid == 9:
            elem_segments = s.u32()
        elif sid == 11:
            data_segments = s.u32()
        sections.append(entry)
        r.pos = body_start + size
    for exp in exports:
        if exp["kind"] == "func" and exp["index"] < len(func_type_idx):
            exp["signature"] = fmt_sig(types[func_type_idx[exp["index"]]])
            fname = func_names.get(exp["index"])
            if fname is not None and fname != exp["name"]:
                exp["function_name"] = fname
    return {
        "version": version,
        "size": len(data),
        "types": len(types),
        "imported_functions": n_imported_funcs,
        "defined_functions": len(func_type_idx) - n_imported_funcs,
        "tables": tables,
        "memories": memories,
        "globals": globals_count,
        "element_segments": elem_segments,
        "data_segments": data_segments,
        "start": start,
        "sections": sections,
        "imports": imports,
        "exports": exports,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wasm")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--require-export", action="append", default=[], metavar="NAME")
    ap.add_argument("--allow-import-module", action="append", default=[], metavar="MOD")
    ap.add_argument("--exact-imports", action="append", default=[], metavar="MOD=NAME,...",
                    help="the imports from MOD must be exactly these names")
    args = ap.parse_args(argv)
    with open(args.wasm, "rb") as f:
        info = parse(f.read())
    problems = []
    names = {e["name"] for e in info["exports"]}
    for req in args.require_export:
        if req not in names:
            problems.append("missing export: %s" % req)
    if args.allow_import_module:
        allowed = set(args.allow_import_module)
        for imp in info["imports"]:
            if imp["module"] not in allowed:
                problems.append("import from unexpected module: %s.%s"
                                % (imp["module"], imp["name"]))
    for spec in args.exact_imports:
        mod, _, names = spec.partition("=")
        want = set(filter(None, names.split(",")))
        have = {i["name"] for i in info["imports"] if i["module"] == mod}
        for n in sorted(want - have):
            problems.append("expected import not present: %s.%s" % (mod, n))
        for n in sorted(have - want):
            problems.append("unexpected import: %s.%s" % (mod, n))
    if args.json:
        info["problems"] = problems
        json.dump(info, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print("%s: %d bytes, %d defined functions, %d imports, %d exports"
              % (args.wasm, info["size"], info["defined_functions"],
                 len(info["imports"]), len(info["exports"])))
        for t in info["tables"]:
            print("table %s %s" % (t["elem"], t["limits"]))
        for m in info["memories"]:
            print("memory %s" % m)
        for sec in info["sections"]:
            print("section %-24s %10d bytes" % (sec["name"], sec["size"]))
        for imp in info["imports"]:
            print("import %s.%s %s %s" % (imp["module"], imp["name"], imp["kind"],
                                          imp.get("signature", "")))
        for exp in info["exports"]:
            print("export %s %s %s" % (exp["name"], exp["kind"], exp.get("signature", "")))
    for p in problems:
        print("wasm_info: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
