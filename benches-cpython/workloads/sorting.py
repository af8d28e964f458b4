"""Sorting and heaps: list.sort with key functions, sorted on tuples, heapq merges.

Sorts generated records (tuples and small objects) by several keys, including a Python
lambda key and a class with __lt__, and merges sorted runs with heapq. Stresses the
timsort comparison path calling back into Python, tuple comparison and the heap module.
"""
import heapq


class Version:
    __slots__ = ("major", "minor", "patch")

    def __init__(self, major, minor, patch):
        self.major, self.minor, self.patch = major, minor, patch

    def __lt__(self, other):
        if self.major != other.major:
            return self.major < other.major
        if self.minor != other.minor:
            return self.minor < other.minor
        return self.patch < other.patch


seed = 99
records = []
for i in range(6000):
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    records.append((seed % 1000, "k%05d" % (seed % 50000), (seed >> 8) % 3571 / 3.0, i))

checksum = 0
by_first = sorted(records)
checksum += by_first[0][3] + by_first[-1][3]
by_name = sorted(records, key=lambda r: r[1])
checksum += by_name[100][3]
by_float = sorted(records, key=lambda r: (-r[2], r[3]))
checksum += by_float[7][3]
versions = [Version(r[0] % 7, r[0] % 13, r[3] % 31) for r in records[:3000]]
versions.sort()
checksum += sum(v.patch for v in versions[:50])
runs = [sorted(r[0] for r in records[k::8]) for k in range(8)]
merged = list(heapq.merge(*runs))
checksum += merged[len(merged) // 2]
heap = []
for r in records:
    heapq.heappush(heap, (r[2], r[3]))
smallest = [heapq.heappop(heap)[1] for _ in range(1000)]
checksum += sum(smallest) % 100003
checksum += sum(x for x, _ in heapq.nlargest(20, ((r[0], r[3]) for r in records)))
print("sorting", len(records), checksum)
