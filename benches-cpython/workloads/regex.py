"""Strings and regular expressions on generated text.

Builds a few hundred lines of log-like text from a deterministic generator, then runs
several compiled patterns over it (findall, finditer with groups, sub with a callback,
split) and a few str methods. Stresses the `_sre` engine (C code in the guest) and
string allocation.
"""
import re

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega").split()
LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")


def lines(n):
    seed = 12345
    for i in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        words = " ".join(WORDS[(seed >> k) % len(WORDS)] for k in (3, 7, 11, 15, 19))
        yield ("2024-%02d-%02d %02d:%02d:%02d [%s] user%d@host%d.example.org: %s (code=%d, took %d.%03ds)"
               % (1 + seed % 12, 1 + seed % 28, seed % 24, seed % 60, (seed >> 5) % 60,
                  LEVELS[seed % 4], seed % 997, seed % 13, words, seed % 500, seed % 7, seed % 1000))


TEXT = "\n".join(lines(1200))

DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")
EMAIL = re.compile(r"\b([a-z]+\d*)@([a-z0-9.]+)\.(org|com|net)\b")
LEVEL = re.compile(r"\[(INFO|WARN|ERROR|DEBUG)\]")
CODE = re.compile(r"code=(\d+), took (\d+)\.(\d+)s")
VOWELS = re.compile(r"[aeiou]{2,}")
WORD = re.compile(r"\b\w+a\b")

checksum = 0
for _ in range(2):
    months = [int(m.group(2)) for m in DATE.finditer(TEXT)]
    checksum += sum(months)
    hosts = EMAIL.findall(TEXT)
    checksum += len({h for _, h, _ in hosts})
    levels = {}
    for level in LEVEL.findall(TEXT):
        levels[level] = levels.get(level, 0) + 1
    checksum += levels.get("ERROR", 0) * 3 + levels.get("WARN", 0)
    millis = sum(int(a) * 1000 + int(b) for _, a, b in CODE.findall(TEXT))
    checksum += millis % 100003
    shouted = VOWELS.sub(lambda m: m.group(0).upper(), TEXT)
    checksum += sum(1 for c in shouted if c.isupper()) % 100003
    checksum += len(WORD.findall(TEXT))
    parts = re.split(r"[\s,:()\[\]]+", TEXT)
    checksum += len(parts) + sum(len(p) for p in parts if p.startswith("user"))
    checksum += TEXT.count("alpha") + len(TEXT.replace("example", "ex").split("\n"))

print("regex", len(TEXT), checksum)
