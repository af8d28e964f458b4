"""String building and methods: formatting, join/split, slicing, encode/decode.

Renders a table of records with f-strings, %-formatting and str.format, splits it back
into fields, manipulates the fields with str methods (strip, upper, replace, partition,
find, zfill), builds strings incrementally, and round-trips through UTF-8. Stresses
unicode object creation, the formatting mini-language and str method calls.
"""

NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Niklaus", "Frances",
         "John", "Ken", "Dennis", "Margaret", "Tony", "Leslie", "Radia", "Sophie"]

rows = []
for i in range(2000):
    name = NAMES[i % len(NAMES)]
    rows.append(f"{i:05d}|{name:<10}|{i * 37 % 1000:>6.2f}|" + "%s-%04x" % (name.lower(), i)
                + "|{:^12}|{}".format("x" * (i % 9), "é" * (i % 3)))
table = "\n".join(rows)

checksum = 0
for line in table.split("\n"):
    fields = line.split("|")
    ident, name, amount, tag, pad, accent = fields
    checksum += int(ident) + len(name.strip()) + int(float(amount))
    head, _, tail = tag.partition("-")
    checksum += len(head.upper()) + int(tail, 16) % 97 + pad.find("x") + len(accent)
    checksum += len(line.replace("|", " :: ").title())
    checksum += sum(1 for c in name if c in "aeiou")
    checksum %= 1000000007

buf = []
for i in range(4000):
    s = str(i).zfill(6)
    buf.append(s[::-1] + s[2:4] * 2)
joined = "".join(buf)
encoded = joined.encode("utf-8") + table.encode("utf-8")
checksum += len(encoded) + len(encoded.decode("utf-8").casefold().split("e"))
words = table.lower().split()
checksum += len(" ".join(sorted(set(words[:500]))))
print("strings", len(table), checksum % 1000000007)
