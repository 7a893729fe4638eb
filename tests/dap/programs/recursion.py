"""A recursion that runs out of stack, handled by code that fails on a line with wide characters."""


def down(n):
    return down(n + 1)


def report(depth):
    prices = {"ключ": 1}
    label = "😀"; return prices["ключ"] / depth


try:
    down(0)
except RecursionError:
    report(0)
