"""A crash holding, beside plain values, one whose own code is slow once where the dump is opened,
so a test presses Ctrl-C inside that code: on its first run there it says "slow" on stderr and
takes a minute, or until the opener's SIGINT handler makes a file "handled".  What that code
is, argv[1]:

- "setstate": `held`'s Stubborn's __setstate__, run as the dump's values are first read (the
  tbdump function that runs it makes any exception of it that value's placeholder);
- "hash": `held`'s dict key's __hash__, which raises where the dump is opened, so its record
  fails to load and is read again, tolerantly (tbdump/recovery.py): its first slow run is
  in that second reading;
- "shared-setstate", "shared-hash": the same, in a frame whose `held` is not the dump's first
  value: it holds `shared`, restored before it (so its record refers to that one's), as `after`
  does; and first a dict of its own, which `after` holds too (so its record refers to `held`'s).

Its runs are counted in a file of the folder the dump is opened in."""
import os
import sys
import time

BORN_IN = os.getpid()
WHERE = sys.argv[1]


def slow_on(run):
    """Counts a run of the value's code where the dump is opened; the ``run``-th is slow, until a
    SIGINT handler that raises nothing says it ran (a file "handled")."""
    with open("runs", "a") as runs:
        runs.write("x")
    with open("runs") as runs:
        if len(runs.read()) == run:
            sys.stderr.write("slow\n")
            sys.stderr.flush()
            for _ in range(600):
                if os.path.exists("handled"):
                    break
                time.sleep(0.1)


class Stubborn:
    def __init__(self):
        self.n = 1

    def __setstate__(self, state):
        slow_on(1)
        self.__dict__.update(state)


class Key:
    def __hash__(self):
        if os.getpid() == BORN_IN:
            return 1
        slow_on(2)   # the first run fails the record's first reading: the second is in the next
        raise ValueError("no hash where the dump is opened")


def work(held):
    before = ["kept", 1]
    after = {"n": 2}
    return 1 / 0


def work_on(shared, held):
    after = [shared, held[0]]
    return 1 / 0


if WHERE.startswith("shared-"):
    shared = {"n": 0}
    work_on(shared, [{"made": "in held"}, Stubborn() if WHERE == "shared-setstate" else {Key(): "value"},
                     "beside it", shared])
work([Stubborn() if WHERE == "setstate" else {Key(): "value"}, "beside it"])
