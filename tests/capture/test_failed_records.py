"""A value pickle cannot restore as it was written costs only itself, not the values recorded after
it: real crashing programs under `python -m tbdump`, opened by `tbdump.load` in another process."""
from __future__ import annotations

import json
import pickletools
import struct
from pathlib import Path
from typing import Dict, List

import pytest

from tbdump.objindex import ENTRY, pack
from ..conftest import PYTHON, rewrite_members, run, write

CLASSES = """
import collections

class Node:
    # Its hash reads its name: pickle rebuilds a cycle of them holding one's edges before
    # the other's name is set.
    def __init__(self, name, tags):
        self.name, self.tags, self.edges, self.peers = name, tags, {}, set()
    def __hash__(self): return hash(self.name)
    def __eq__(self, other): return isinstance(other, Node) and other.name == self.name

class Cached:
    # Its hash is cached, and the cache is not pickled: as a key it cannot be restored.
    def __init__(self, n): self.n, self._hash = n, hash(n)
    def __hash__(self): return self._hash
    def __eq__(self, other): return isinstance(other, Cached) and other.n == self.n
    def __getstate__(self): return {"n": self.n}

class Frozen(list):
    # Made by list's own __init__; pickle restores its items by extend, which it refuses.
    def append(self, item): raise TypeError("frozen")
    def extend(self, items): raise TypeError("frozen")

class Sealed(dict):
    # Made by dict's own __init__; pickle restores its items by __setitem__, which it refuses.
    def __setitem__(self, key, value): raise TypeError("sealed")

class Reconnecting:
    # Its __reduce__'s state setter runs only where the dump is opened, and fails there.
    def __init__(self): self.host = "db"
    def __reduce__(self): return (Reconnecting, (), {"host": self.host}, None, None, reconnect)

def reconnect(obj, state): raise ConnectionError("db is gone")

class Account:
    def __init__(self, n): self.n = n
    def __reduce__(self): return (reopen, (self.n,))

def reopen(n): raise LookupError("no account %d here" % n)

class Judge:
    # Once restored, its __eq__ raises SystemExit: two of them, colliding as dict keys, end
    # the program's own code where the dump is opened, not where it ran.
    def __init__(self): self.n = 1   # a state to restore: none would not call __setstate__
    def __hash__(self): return 7
    def __eq__(self, other):
        if self.__dict__.get("restored"): raise SystemExit(5)
        return self is other
    def __setstate__(self, state): self.__dict__.update(state, restored=True)
"""

PROGRAM = CLASSES + """
def inner(head, value):
    later = [1, 2, 3]
    return 1 / 0

def outer():
    head = ["head"]
MAKE
    return inner(head, value)

def main():
    before = "kept"
    outer()

main()
"""

# What each frame's locals are asked, by `tbdump.load` in a fresh process: the values around the
# one that fails (`head` recorded before it, shared with it; `later` and `before` after it), and
# that value's frames agreeing on it.
AROUND = ["I['later']", "M['before']", "O['value'] is I['value']", "O['head'] is I['head']"]
AROUND_WERE = [[1, 2, 3], "kept", True, True]

LOADER = """
import json, sys, tbdump
dump = tbdump.load('traceback.pkl')
L = {f.name: f.locals for f in reversed(dump.frames)}   # from the crash's frame out, as viewers open
I, O, M = L['inner'], L['outer'], L['main']
v = I['value']
def lost(x): return (type(x).__name__, x.type, x.reason) if isinstance(x, tbdump.Placeholder) else None
print(json.dumps([eval(check) for check in sys.argv[1:]]))
"""

# The graph: `value` a dict keyed by a cycle of Nodes, each also a local of `outer`.
CYCLE = """
    a, b = Node("a", head), Node("b", head)
    a.edges[b] = 1; b.edges[a] = 2
    a.peers.add(b); b.peers.add(a)
    value = {a: "x"}
"""


def program(make: str) -> str:
    """The crashing program whose `outer` runs ``make`` (lines setting `value`)."""
    return PROGRAM.replace("MAKE", make.strip("\n"))


CASES = {
    # Whole and as it was, every value recorded after it too.
    "a cycle of objects whose hash reads their state": (CYCLE, ["[n.name for n in v]", "[(n.name, n.tags is I['head']) for n in v]", "list(v)[0].edges[O['b']]",
      "O['b'].edges[O['a']]", "[p.name for p in O['a'].peers]", "[p.name for p in O['b'].peers]",
      "list(v)[0] is O['a']", "v[O['a']]"],
        [["a"], [["a", True]], 1, 2, ["b"], ["a"], True, "x"]),
    "a dict key whose hash fails for good": (
        """
    value = {Cached(1): "one", "k": head}
""", ["[lost(k) for k in v][0][:2]", "'_hash' in lost(list(v)[0])[2]", "list(v.values())[0]",
      "v['k'] is I['head']"],
        [["Placeholder", "__main__.Cached"], True, "one", True]),
    "a set member whose hash fails for good": (
        """
    value = ({Cached(2), 5}, head)
""", ["sorted(lost(x)[1] if lost(x) else repr(x) for x in v[0])", "v[1] is I['head']"],
        [["5", "__main__.Cached"], True]),
    "a frozenset member whose hash fails for good": (
        """
    value = [frozenset({Cached(3), 6}), head]
""", ["lost(v[0])[:2]", "v[1] is I['head']"], [["Placeholder", "frozenset"], True]),
    "a list whose class refuses its items": (
        """
    value = [Frozen([1, 2]), head]
""", ["lost(v[0])[1:]", "v[1] is I['head']"], [["__main__.Frozen", "not restored: TypeError: frozen"], True]),
    "a dict whose class refuses its items": (
        """
    value = [Sealed(k=1), head]
""", ["lost(v[0])[1:]", "v[1] is I['head']"], [["__main__.Sealed", "not restored: TypeError: sealed"], True]),
    "a state setter that fails, in a list": (
        """
    value = [head, Reconnecting(), 3]
""", ["v[0] is I['head']", "lost(v[1])[1:]", "v[2]"],
        [True, ["__main__.Reconnecting", "not restored: ConnectionError: db is gone"], 3]),
    "a reduce callable that fails, in a list": (
        """
    value = [head, Account(7), 3]
""", ["v[0] is I['head']", "lost(v[1])[1:]", "v[2]"],
        [True, ["__main__.Account", "not restored: LookupError: no account 7 here"], 3]),
    "dict keys whose __eq__ raises SystemExit": (
        """
    value = {Judge(): 1, Judge(): 2, "k": head}
""", ["[lost(k)[1:] if lost(k) else type(k).__name__ for k in v]", "v['k'] is I['head']"],
        [["Judge", ["__main__.Judge", "not restored: SystemExit: 5"], "str"], True]),
    # `head` is read by itself when asked for first, and handed over when the value refers to it.
    "a value that fails after a large list read by itself": (
        """
    head = list(range(30000))
    value = {Cached(4): head}
""", ["list(v.values())[0] is I['head']", "I['head'][-2:]"], [True, [29998, 29999]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_that_fails_to_load_costs_only_itself(workdir: Path, case: str) -> None:
    """A record whose unpickling raised took every record after it up to the next fresh one
    ("not restored: it shares objects with a value that failed to load"): the frames' other
    locals, the outer frames', `before`, a plain string. Now it is read again: an insertion
    whose key cannot be hashed yet waits for the rest of the value (the cycle comes back whole),
    and what fails for good is a placeholder where it stood, the value's other parts intact."""
    make, checks, were = CASES[case]
    write(workdir / "prog.py", program(make))
    crashed = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr
    loaded = run([PYTHON, "-c", LOADER, *AROUND, *checks], workdir)
    assert loaded.returncode == 0, loaded.stderr
    answers: List[object] = json.loads(loaded.stdout)
    assert answers == AROUND_WERE + were


def test_values_that_fail_in_every_frame_are_each_read_again_once(workdir: Path) -> None:
    """A value that fails to load in each of 300 frames: each failure counted the memo keys of
    every record back to the dump's start, reading the object layer about 150 times over (8 s
    for 1200 such frames, growing with their square).  Now the count goes on from the last
    failure's, and restoring reads each record at most a few times."""
    write(workdir / "prog.py", CLASSES + """
import sys
sys.setrecursionlimit(2000)

def down(n):
    value = {Cached(n): n}
    pad = list(range(50))
    if n == 0:
        raise RuntimeError("bottom")
    down(n - 1)

down(300)
""")
    crashed = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr
    loader = """
import json, tbdump
dump = tbdump.load('traceback.pkl')
values = [f.locals['value'] for f in dump.frames if f.name == 'down']
print(json.dumps([len(values), sorted({type(k).__name__ for v in values for k in v}),
                  sorted(v for d in values for v in d.values()) == list(range(301)),
                  dump.restoring_read() / dump.objects_size]))
"""
    loaded = run([PYTHON, "-c", loader], workdir)
    assert loaded.returncode == 0, loaded.stderr
    count, key_types, values_kept, read_over = json.loads(loaded.stdout)
    assert [count, key_types, values_kept] == [301, ["Placeholder"], True]
    assert read_over < 3, "the object layer was read %.1f times over" % read_over


def test_a_bytearray_too_long_for_memory_is_said_once(workdir: Path) -> None:
    """A bytearray record longer than the memory left (damaged here: a length of 2**62; a 3 GB
    bytearray opened on a smaller machine alike) is a placeholder saying MemoryError.  CPython
    frees the bytearray it failed to allocate with its count of exports unset, and often
    printed "SystemError: deallocated bytearray object has exported buffers" in the middle of
    tbdebug's session (not every time: the count is whatever memory held; a hundred such records
    make it show)."""
    write(workdir / "prog.py", "def blobs():\n%s    raise RuntimeError('blobs')\n\nblobs()\n" % "".join(
        "    b%d = bytearray(b'blob %d')\n" % (n, n) for n in range(100)))
    crashed = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr

    def too_long(members: Dict[str, bytes]) -> None:
        # Each bytearray's record made fresh, so that each is read, each failing by itself.
        objects, index = members["objects"], list(ENTRY.iter_unpack(members["objects.idx"]))
        records = [bytearray(objects[at:at + length]) for at, length, _, _ in index]
        for n, record in enumerate(records):
            for op, _, at in pickletools.genops(bytes(record)):
                if op.name == "BYTEARRAY8":
                    record[at + 1:at + 9] = struct.pack("<Q", 2 ** 62)
                    index[n] = index[n][:2] + (1, 0)
        members["objects"] = b"".join(records)
        members["objects.idx"] = pack(index)
    rewrite_members(workdir / "traceback.pkl", workdir / "damaged.pkl", too_long)
    opened = run([PYTHON, "-m", "tbdebug", "damaged.pkl"], workdir, stdin="p b0\np b99\nq\n")
    assert opened.returncode == 0 and opened.stderr == "", opened.stderr[-2000:]
    assert opened.stdout.count("not restored: MemoryError") == 2, opened.stdout


HOOKED = """
import sys, threading

class Order:
    def __init__(self, n): self.n = n

class Gated(Order):
    # Restored where the dump is opened, it waits there for the loader's turn (GATES, set by it).
    def __setstate__(self, state):
        self.__dict__.update(state)
        entered, leave = GATES[threading.current_thread().name]
        entered.set(); leave.wait()

GATES = {}
_previous = sys.excepthook

def _log_uncaught(kind, value, tb):   # the program's own hook, chaining the one before it
    sys.stderr.write("logged: %s\\n" % kind.__name__)
    _previous(kind, value, tb)

if "chain" in sys.argv: sys.excepthook = _log_uncaught
"""


def _hooked_dump(workdir: Path) -> None:
    write(workdir / "orders.py", HOOKED)
    write(workdir / "prog.py", """
        import orders
        def main():
            first, second, gated = orders.Order(1), orders.Order(2), orders.Gated(3)
            raise RuntimeError("crash")
        main()
    """)
    crashed = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr


def test_a_hook_chained_by_a_module_a_record_imports_still_reports_the_loaders_crash(workdir: Path) -> None:
    """A module that the dump's values import where it is opened chains sys.excepthook as it is
    imported, in the middle of the reading; the loading program's own uncaught exception later
    goes through that hook and Python's, once (it went round between the hook and the reader's
    stand-in for it, a RecursionError in place of the traceback)."""
    _hooked_dump(workdir)
    write(workdir / "look.py", """
        import sys, tbdump
        sys.argv.append("chain")   # orders.py chains the hook when a record imports it
        locals_ = tbdump.load("traceback.pkl").frames[-1].locals
        print(locals_["first"].n, locals_["second"].n)
        raise ValueError("the loader's own bug")
    """)
    looked = run([PYTHON, "look.py"], workdir)
    assert looked.stdout == "1 2\n", looked.stderr[-2000:]
    assert looked.stderr.startswith("logged: ValueError\nTraceback (most recent call last):\n"), looked.stderr[-2000:]
    assert looked.stderr.count("Traceback") == 1 and looked.stderr.endswith("ValueError: the loader's own bug\n")


def test_loading_two_dumps_in_two_threads_leaves_the_programs_excepthook_in_place(workdir: Path) -> None:
    """Two threads each open a dump and restore a value at once, the first finishing first: the
    program's sys.excepthook is its own again after (one thread put back the other's stand-in)."""
    _hooked_dump(workdir)
    write(workdir / "look.py", """
        import sys, threading, tbdump
        import orders
        def own(kind, value, tb): print("own hook:", value)
        sys.excepthook = own
        orders.GATES.update(first=(threading.Event(), threading.Event()), second=(threading.Event(), threading.Event()))
        def restore(): tbdump.load("traceback.pkl").frames[-1].locals["gated"]
        first = threading.Thread(target=restore, name="first")
        second = threading.Thread(target=restore, name="second")
        first.start(); orders.GATES["first"][0].wait()
        second.start(); orders.GATES["second"][0].wait()
        orders.GATES["first"][1].set(); first.join()
        orders.GATES["second"][1].set(); second.join()
        print(sys.excepthook is own)
        raise ValueError("after the loads")
    """)
    looked = run([PYTHON, "look.py"], workdir)
    assert looked.stdout == "True\nown hook: after the loads\n", (looked.stdout, looked.stderr[-2000:])
