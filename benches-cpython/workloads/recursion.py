"""Recursion: naive Fibonacci, Ackermann-style and tree recursion.

Deep and wide pure-Python call trees: fib(n) by the double recursion, building and
folding a binary tree of tuples, and a recursive permutation counter. Stresses
Python-to-Python calls (frame push/pop in the eval loop), int arithmetic and comparisons.
"""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def tree(depth):
    if depth == 0:
        return None
    return (tree(depth - 1), depth, tree(depth - 1))


def fold(node):
    if node is None:
        return 1
    left, value, right = node
    return (fold(left) * 3 + value + fold(right)) % 1000003


def count_queens(n, row=0, cols=0, d1=0, d2=0):
    if row == n:
        return 1
    total = 0
    for c in range(n):
        if not (cols >> c) & 1 and not (d1 >> (row + c)) & 1 and not (d2 >> (row - c + n)) & 1:
            total += count_queens(n, row + 1, cols | 1 << c, d1 | 1 << (row + c), d2 | 1 << (row - c + n))
    return total


print("recursion", fib(25), fold(tree(15)), count_queens(8))
