"""Locals that cannot be pickled plainly: a generator, a lambda, a lock; and a plain object
whose class shares its name with tbdump's stand-in for missing values."""
import threading


class Placeholder:
    reason = "the user's own"

    def __repr__(self):
        return "Placeholder(mine)"


def run():
    gen = (i * i for i in range(5))
    square = lambda v: v * v  # noqa: E731
    lock = threading.Lock()
    count = 2
    mine = Placeholder()
    return square(count) + next(gen) + undefined_name  # noqa: F821


run()
