"""JSON: dumps and loads of a generated structure.

Builds a nested structure of dicts, lists, strings (some non-ASCII), ints, floats,
booleans and None, then serializes it (compact and indented) and parses it back several
times. Stresses the `_json` C accelerator, dict/str creation and float repr/parsing.
"""
import json


def make(n):
    seed = 42
    records = []
    for i in range(n):
        seed = (seed * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        records.append({
            "id": i,
            "name": "item-%d-%x" % (i, seed >> 40),
            "label": "caf\u00e9 \u00fcber \u2603" if i % 7 == 0 else "plain label %d" % (i % 10),
            "price": (seed % 100000) / 100.0,
            "ratio": (seed >> 20) % 1000 / 7.0,
            "tags": ["t%d" % ((seed >> k) % 50) for k in range(0, 24, 6)],
            "active": bool(seed & 1),
            "parent": None if i % 5 == 0 else i // 2,
            "dims": {"w": seed % 97, "h": seed % 89, "unit": "cm"},
        })
    return {"version": 3, "generator": "cpython-bench", "records": records}


data = make(400)
checksum = 0
for _ in range(3):
    text = json.dumps(data, sort_keys=True)
    back = json.loads(text)
    assert back == data
    pretty = json.dumps(back, indent=2, ensure_ascii=False)
    again = json.loads(pretty)
    checksum = (checksum * 31 + len(text) + len(pretty) + len(again["records"])) % 1000000007
total = sum(r["price"] for r in again["records"])
print("json", len(text), len(pretty), checksum, "%.2f" % total)
