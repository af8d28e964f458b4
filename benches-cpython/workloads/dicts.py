"""Dicts and sets: word counting, inverted index, set algebra, dict comprehensions.

Generates a corpus of pseudo-words, counts them, builds an inverted index (word ->
set of document ids), intersects and unions sets, and merges/updates dicts. Stresses
dict lookup/insert/resize with str and int keys, set operations and comprehensions.
"""

SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "qi", "ba"]


def corpus(docs, words_per_doc):
    seed = 7
    out = []
    for _ in range(docs):
        doc = []
        for _ in range(words_per_doc):
            seed = (seed * 1664525 + 1013904223) & 0xFFFFFFFF
            doc.append(SYLLABLES[seed % 12] + SYLLABLES[(seed >> 8) % 12]
                       + ("" if seed & 0x30000 else SYLLABLES[(seed >> 20) % 12]))
        out.append(doc)
    return out


docs = corpus(300, 80)
counts = {}
index = {}
for doc_id, doc in enumerate(docs):
    for word in doc:
        counts[word] = counts.get(word, 0) + 1
        if word in index:
            index[word].add(doc_id)
        else:
            index[word] = {doc_id}

checksum = len(counts) * 1000 + max(counts.values())
words = sorted(index)
for i in range(len(words) - 1):
    a, b = index[words[i]], index[words[i + 1]]
    checksum += len(a & b) + len(a | b) - len(a ^ b) + len(a - b)
by_len = {}
for word, n in counts.items():
    by_len.setdefault(len(word), []).append(n)
checksum += sum(k * sum(v) for k, v in by_len.items())
inverse = {n: w for w, n in counts.items()}
checksum += len(inverse)
merged = {}
for doc in docs[:120]:
    local = {w: len(w) for w in doc}
    merged.update(local)
    merged |= {k: v + 1 for k, v in local.items() if k in counts}
checksum += sum(merged.values())
ids = {i: i * i for i in range(20000)}
checksum += sum(ids[i] for i in range(0, 20000, 7)) % 1000003
ints = set(range(0, 30000, 3)) ^ set(range(0, 30000, 5))
checksum += len(ints)
print("dicts", len(counts), checksum)
