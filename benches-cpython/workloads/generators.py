"""Generators: a pipeline of chained generators and generator expressions.

Numbers flow through several stages of generators (filter, map, sliding window, pairing,
`yield from` flattening, itertools), so most of the time goes to creating, resuming and
finishing generator frames. Stresses RESUME/YIELD_VALUE, `yield from`, and the
generator-expression machinery.
"""
import itertools


def numbers(n):
    x = 1
    for _ in range(n):
        x = (x * 48271) % 2147483647
        yield x


def only_odd(items):
    for x in items:
        if x & 1:
            yield x


def scaled(items, k):
    for x in items:
        yield (x * k) % 1000003


def windows(items, size):
    window = []
    for x in items:
        window.append(x)
        if len(window) == size:
            yield tuple(window)
            del window[0]


def flatten(groups):
    for group in groups:
        yield from group


def pairs(items):
    it = iter(items)
    for a in it:
        b = next(it, 0)
        yield a, b


def pipeline(n):
    stage = numbers(n)
    stage = only_odd(stage)
    stage = scaled(stage, 7919)
    stage = windows(stage, 3)
    stage = flatten(stage)
    stage = pairs(stage)
    stage = (a ^ b for a, b in stage if a != b)
    return sum(itertools.islice(stage, 0, None, 2)) % 1000000007


checksum = 0
for n in (15000, 20000):
    checksum = (checksum * 1000003 + pipeline(n)) % 1000000007
squares = sum(x * x for x in (y for y in range(30000) if y % 3))
print("generators", checksum, squares)
