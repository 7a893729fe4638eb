"""Locals that cannot be pickled plainly: a generator, a lambda, a lock."""
import threading


def run():
    gen = (i * i for i in range(5))
    square = lambda v: v * v  # noqa: E731
    lock = threading.Lock()
    count = 2
    return square(count) + next(gen) + undefined_name  # noqa: F821


run()
