"""Generated hostile programs: a seed makes a crashing script whose frames hold random hostile object graphs.

``program(seed)`` writes the script; ``check(seed, work)`` runs it with plain Python and
under ``python -m tbdump``, then opens the dump with ``tbdump.load``, ``python -m
tbdump.report`` and tbdap, and returns what broke the capture's promises (empty: none):
the crash printed and ended as under Python, a dump that loads with every local there
(a value, or a placeholder saying why), plain values restored equal and shared ones
shared between frames, the report and every frame's variables served whole.

Hostile methods stay harmless until the script sets ``ARMED``, right before its crash,
so the script can build its graph; ``__setstate__`` is hostile always, as it only runs
when the dump is loaded.  Values that fail only as they load (``LOADING()``: the checker's
environment sets HOSTILE_LOADING) come from a stream of their own, so that the programs of the
seeds of the first campaign keep their every line: keys whose ``__hash__`` reads state set
later (cycles of them, as pickle's classic limit), and ``__setstate__``, ``__reduce__``
callables, ``__new__``, ``__hash__``, ``__eq__``, a metaclass's ``__call__`` and
``__init_subclass__`` that raise then, beside big lists of ints (records read alone); and,
from a third stream, list and dict subclasses whose own append or ``__setitem__`` refuse
their items then.  They
cost only themselves or what holds them: every plain value and node graph loads whole,
in tbdump.load, tbdap and tbdebug.

    python -m tests.hostile.generated --print SEED          # the script of one seed
    python -m tests.hostile.generated --work DIR 0-299      # a campaign; one line a finding
    python -m tests.hostile.generated --work DIR --python ~/.cache/tbdump/xver-3.12.1-*/bin/python 0-299
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import TimeoutExpired
from typing import Any, Dict, List, NamedTuple, Tuple

from .harness import REPO, base_env, last_dump, run, run_plain, run_tbdump, write_program, without_dump_line

# What a hostile method does once armed: raise one of these, or the dunder's own wrong answer.
RAISES = ["raise ValueError('hostile')", "raise SystemExit(3)", "raise KeyboardInterrupt",
          "raise RecursionError('hostile')", "raise MemoryError", "return _recurse()"]
# Each mutation changes the graph while a walker is in it: the shared containers, or the
# instance's own __dict__ (which a walker may be iterating).
MUTATIONS = ["SHARED_LIST.append(len(SHARED_LIST))", "SHARED_DICT[len(SHARED_DICT)] = SHARED_LIST",
             "SHARED_DICT.clear()", "object.__setattr__(self, 'grown%d' % len(SHARED_LIST), []); "
             "SHARED_LIST.append(0)", "SHARED_LIST[:] = [SHARED_DICT]"]

# dunder -> (parameters, the harmless body, wrong answers)
DUNDERS: Dict[str, Tuple[str, str, List[str]]] = {
    "__repr__": ("self", "return '<%s>' % type(self).__name__", ["return 42", "return None", "return _counted()"]),
    "__str__": ("self", "return 'str'", ["return b'bytes'"]),
    "__eq__": ("self, other", "return self is other", ["return BadBool()", "return NotImplemented"]),
    "__hash__": ("self", "return 7", ["return 'h'", "return 2 ** 80"]),
    "__len__": ("self", "return 0", ["return -1", "return 2 ** 70", "return 'x'"]),
    "__iter__": ("self", "return iter(())", ["return 5", "return iter(SHARED_LIST)", "return _forever()"]),
    "__bool__": ("self", "return True", ["return 2"]),
    "__dir__": ("self", "return []", ["return 5", "return [1, 2]"]),
    "__getattr__": ("self, name", "raise AttributeError(name)", ["return 1", "return self"]),
    "__getattribute__": ("self, name", "return object.__getattribute__(self, name)",
                         ["return None", "raise AttributeError(name)"]),
    "__reduce__": ("self", "return object.__reduce_ex__(self, 2)",
                   ["return (1, 2, 3)", "return 'not_a_global'", "return (list, (), None, _forever())"]),
    "__reduce_ex__": ("self, proto", "return object.__reduce_ex__(self, proto)", ["return 5", "return (self,)"]),
    "__getstate__": ("self", "return {'v': 1}", ["return self", "return threading.Lock()", "return lambda: 1"]),
}
# Properties that stand for the instance's own attributes.
PROPERTIES: Dict[str, Tuple[str, List[str]]] = {
    "__class__": ("return type(self)", ["return int", "return 5"]),
    "__dict__": ("return {}", ["return [1, 2]", "return None"]),
}
SETSTATE = ["raise ValueError('on load')", "raise SystemExit(4)", "raise KeyboardInterrupt",
            "raise RecursionError('on load')", "raise MemoryError", "self.__dict__ = 5"]

PRELUDE = '''
import dataclasses, enum, io, socket, sys, threading, weakref
ARMED = False
SHARED_LIST = [1, 2, 3]
SHARED_DICT = {"a": 1}
KEPT = []
_COUNT = [0]
def _recurse():
    return _recurse()
def _counted():
    _COUNT[0] += 1
    return "seen %d times" % _COUNT[0]
def _forever():
    while True:
        yield SHARED_LIST
class BadBool:
    def __bool__(self):
        raise ValueError("no truth")
class Descriptor:
    def __init__(self, action):
        self.action = action
    def __get__(self, obj, owner=None):
        if ARMED and obj is not None:
            return self.action()
        return 1
def _descriptor_raises():
    raise KeyboardInterrupt
'''


# The part of every program for the values that fail only as they load.
LOAD_PRELUDE = '''
import os
STOP_LOAD = threading.Event()
def LOADING():
    return os.environ.get("HOSTILE_LOADING") == "1"
class Node:
    def __init__(self, name):
        self.edges = {}
        self.name = name
    def __hash__(self):
        return hash(self.name)
    def __eq__(self, other):
        return type(other) is Node and self.name == other.name
'''
LOAD_RAISES = ["raise ValueError('on load')", "raise SystemExit(5)", "raise KeyboardInterrupt",
               "raise RecursionError('on load')", "raise MemoryError", "raise AttributeError('on load')",
               "return _recurse()"]
BIG_ITEMS = 30000   # a list of ints of more than records.ALONE_MIN_BYTES: a record read alone


class Program(NamedTuple):
    source: str
    plain: str                            # the code that builds the plain values P0.. alone
    plain_locals: Dict[str, Dict[str, str]]   # function -> local -> plain global it holds
    shared: List[Tuple[str, str, str, str]]   # (function, local, function, local): one object
    whole: Dict[str, List[str]]               # function -> locals that load whole (node graphs)
    failing: Dict[str, List[str]]             # function -> locals holding values that fail to load


class _Gen:
    """One seed's program, built statement by statement."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.classes: List[str] = []
        self.lines: List[str] = []
        self.plain: List[str] = []
        self.plain_names: List[str] = []
        self.values: List[str] = []       # global names of hostile values V0..
        self.exceptions: List[str] = []   # the classes that are exceptions
        self.kept = 0
        self.load = _LoadFailures(random.Random("load %d" % seed), random.Random("more %d" % seed))

    def action(self, wrong: List[str]) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.rng.choice(RAISES)
        if roll < 0.75:
            return self.rng.choice(wrong)
        return self.rng.choice(MUTATIONS) + "; return " + "None"

    def hostile_class(self) -> str:
        rng = self.rng
        name = "C%d" % len(self.classes)
        body: List[str] = []
        meta = ""
        if rng.random() < 0.2:
            meta_name = "Meta%d" % len(self.classes)
            self.lines.append("class %s(type):" % meta_name)
            for dunder in rng.sample(["__repr__", "__getattr__"], rng.randint(1, 2)):
                params, harmless, wrong = DUNDERS[dunder]
                params = params.replace("self", "cls")
                act = self.action(wrong).replace("self", "cls")
                self.lines += ["    def %s(%s):" % (dunder, params), "        if ARMED:", "            " + act,
                               "        " + harmless.replace("self", "cls")]
            meta = "metaclass=%s" % meta_name
        kind = rng.choice(["plain", "plain", "slots", "dataclass", "exception"])
        bases = {"exception": "Exception", "plain": "", "slots": "", "dataclass": ""}[kind]
        if kind == "exception":
            self.exceptions.append(name)
        header = ", ".join(filter(None, [bases, meta]))
        if kind == "dataclass":
            body.append("x: int = 1")
            body.append("items: list = dataclasses.field(default_factory=lambda: [SHARED_LIST])")
        elif kind == "slots":
            body.append("__slots__ = ('a', 'b', '__weakref__')")
            body += ["def __init__(self):", "    self.a = SHARED_LIST"]
        else:
            body += ["def __init__(self):", "    self.mine = [1, 'two']", "    self.shared = SHARED_DICT"]
        dunders = rng.sample(sorted(DUNDERS), rng.randint(1, 4))
        if "__eq__" in dunders and "__hash__" not in dunders:
            body.append("__hash__ = object.__hash__")   # hashable still: it can be a dict key
        for dunder in dunders:
            if kind == "slots" and dunder == "__getstate__":
                continue
            params, harmless, wrong = DUNDERS[dunder]
            body += ["def %s(%s):" % (dunder, params), "    if ARMED:", "        " + self.action(wrong),
                     "    " + harmless]
        if kind != "slots" and rng.random() < 0.3:
            prop = rng.choice(sorted(PROPERTIES))
            harmless, wrong = PROPERTIES[prop]
            body += ["@property", "def %s(self):" % prop, "    if ARMED:", "        " + self.action(wrong),
                     "    " + harmless]
        if rng.random() < 0.3:
            body += ["def __setstate__(self, state):", "    " + rng.choice(SETSTATE)]
        if rng.random() < 0.3:
            body.append("attr = Descriptor(%s)" % rng.choice(
                ["_descriptor_raises", "_recurse", "_counted", "lambda: SHARED_DICT.clear()"]))
        if kind == "dataclass":
            self.lines.append("@dataclasses.dataclass(eq=False)")
        self.lines.append("class %s(%s):" % (name, header) if header else "class %s:" % name)
        self.lines += ["    " + line for line in body]
        self.classes.append(name)
        return name

    def plain_value(self, depth: int = 0) -> str:
        """A literal of plain data, or a reference to an earlier plain value (sharing)."""
        rng = self.rng
        if self.plain_names and rng.random() < 0.2:
            return rng.choice(self.plain_names)
        if depth > 2 or rng.random() < 0.3:
            return rng.choice(["1", "-7", "2 ** 70", "3.5", "'text'", "'\\u2603'", "b'\\x00\\xff'", "None",
                               "True", "''"])
        shape = rng.choice(["list", "dict", "tuple", "set"])
        items = [self.plain_value(depth + 1) for _ in range(rng.randint(0, 4))]
        if shape == "list":
            return "[%s]" % ", ".join(items)
        if shape == "tuple":
            return "(%s)" % "".join(i + ", " for i in items)
        if shape == "set":
            return "{%s}" % ", ".join(["'k%d'" % n for n in range(len(items))] + ["0"])
        return "{%s}" % ", ".join("'k%d': %s" % (n, i) for n, i in enumerate(items))

    def add_plain(self) -> str:
        name = "P%d" % len(self.plain_names)
        self.plain.append("%s = %s" % (name, self.plain_value()))
        if self.rng.random() < 0.3:   # a cycle through a list or dict
            self.plain.append("%s = [%s]; %s.append(%s)" % (name, name, name, name))
        self.plain_names.append(name)
        return name

    def hostile_value(self, depth: int = 0) -> str:
        rng = self.rng
        roll = rng.random()
        if depth < 2 and roll < 0.35:
            items = [self.hostile_value(depth + 1) for _ in range(rng.randint(1, 3))]
            shape = rng.choice(["list", "tuple", "dict", "keyed", "set"])
            if shape == "list":
                return "[%s]" % ", ".join(items)
            if shape == "tuple":
                return "(%s,)" % ", ".join(items)
            if shape == "keyed":    # an instance as a dict key
                return "{%s(): %s}" % (rng.choice(self.classes), items[0])
            if shape == "set":
                return "{%s()}" % rng.choice(self.classes)
            return "{%s}" % ", ".join("'h%d': %s" % (n, i) for n, i in enumerate(items))
        if roll < 0.65:
            return "%s()" % rng.choice(self.classes)
        if self.values and roll < 0.75:
            return rng.choice(self.values)
        others = [
            lambda: rng.choice(self.classes),                      # a class, its metaclass's dunders
            lambda: rng.choice(["SHARED_LIST", "SHARED_DICT", "threading.Lock()", "threading.RLock()",
                                "threading.Event()", "open('data.txt', 'w')", "socket.socketpair()[0]",
                                "io.BytesIO(b'abc')", "Color.RED", "Color.GREEN", "sys._getframe()"]),
            lambda: "weakref.ref(%s)" % rng.choice(self.classes),
            lambda: "weakref.proxy(KEPT[%d])" % self.keep(),
            lambda: "weakref.WeakValueDictionary({1: KEPT[%d]})" % self.keep(),
            lambda: "(lambda held=%s: held)" % (rng.choice(self.values) if self.values else "1"),
            lambda: "(x for x in [%s()])" % rng.choice(self.classes),
        ]
        return rng.choice(others)()

    def keep(self) -> int:
        """An instance kept alive in KEPT, for weak references to it; its index."""
        self.lines.append("KEPT.append(%s())" % self.rng.choice(self.classes))
        self.kept += 1
        return self.kept - 1

    def add_value(self) -> str:
        name = "V%d" % len(self.values)
        self.lines.append("%s = %s" % (name, self.hostile_value()))
        if self.rng.random() < 0.2 and self.lines[-1].split(" = ", 1)[1].startswith("["):
            self.lines.append("%s.append(%s)" % (name, name))   # a cycle through hostile values
        self.values.append(name)
        return name

    def build(self) -> Program:
        rng = self.rng
        self.lines.append(PRELUDE.strip("\n"))
        for _ in range(rng.randint(2, 5)):
            self.hostile_class()
        self.lines += ["class Color(enum.Enum):", "    RED = 1", "    GREEN = %s()" % rng.choice(self.classes),
                       "SHARED_CLASSES = [%s]" % ", ".join(self.classes)]
        for _ in range(rng.randint(2, 4)):
            self.add_plain()
        self.lines += self.plain
        for _ in range(rng.randint(3, 8)):
            self.add_value()
        self.plain.append("BIG = list(range(%d))" % BIG_ITEMS)
        self.lines.append(self.plain[-1])
        self.lines += self.load.globals()
        depth = rng.randint(2, 5)
        plain_locals: Dict[str, Dict[str, str]] = {}
        holders: Dict[str, List[Tuple[str, str]]] = {}   # global -> (function, local) holding it
        functions = ["f%d" % n for n in range(depth)]
        bodies: Dict[str, List[str]] = {}
        for fn in functions:
            body = []
            for n in range(rng.randint(1, 4)):
                local = "%s_%d" % (fn, n)
                if rng.random() < 0.35:
                    held = rng.choice(self.plain_names)
                    plain_locals.setdefault(fn, {})[local] = held
                else:
                    held = rng.choice(self.values)
                holders.setdefault(held, []).append((fn, local))
                body.append("%s = %s" % (local, held))
            if rng.random() < 0.3:
                body.append("inline = %s" % self.hostile_value())
            body += self.load.locals(fn, plain_locals, holders)
            bodies[fn] = body
        threads = self.threads(bodies[functions[-1]]) + self.load.thread()
        crash = self.crash()
        for i, fn in enumerate(functions):
            self.lines.append("def %s():" % fn)
            self.lines += ["    " + line for line in bodies[fn]]
            if i + 1 < len(functions):
                self.lines.append("    %s()" % functions[i + 1])
            else:
                self.lines += ["    " + line for line in threads + crash]
        self.lines.append("%s()" % functions[0])
        shared = [(a[0], a[1], b[0], b[1]) for held in holders.values() for a, b in zip(held, held[1:])]
        return Program("\n".join(self.lines) + "\n", "\n".join(self.plain) + "\n", plain_locals, shared,
                       self.load.whole, self.load.failing)

    def threads(self, innermost: List[str]) -> List[str]:
        """Threads that wait holding hostile values, and one that crashes with them once armed."""
        rng = self.rng
        out: List[str] = []
        if rng.random() < 0.5:
            self.lines += ["STOP = threading.Event()", "def waiter(held):",
                           "    mine = %s" % self.hostile_value(), "    STOP.wait(60)"]
            out.append("threading.Thread(target=waiter, args=(%s,), daemon=True).start()" % rng.choice(self.values))
        out.append("global ARMED")
        out.append("ARMED = True")
        if rng.random() < 0.3:
            self.lines += ["def crasher(held):", "    also = %s" % rng.choice(self.values),
                           "    raise LookupError('in a thread')"]
            out.append("t = threading.Thread(target=crasher, args=(%s,)); t.start(); t.join()"
                       % rng.choice(self.values))
        return out

    def crash(self) -> List[str]:
        rng = self.rng
        value = rng.choice(self.values)
        choices = ["raise ValueError('crashed')", "raise KeyError('k')", "raise KeyboardInterrupt",
                   "e = RuntimeError('with payload'); e.payload = %s; raise e" % value,
                   "raise TypeError(%s)" % value,
                   "try:\n        {}['missing']\n    except KeyError as inner:\n        raise ValueError('chained') from inner"]
        if self.exceptions:
            choices.append("raise %s()" % rng.choice(self.exceptions))
        return [rng.choice(choices)]


class _LoadFailures:
    """A program's values that fail only as the dump loads, from their own random stream."""

    def __init__(self, rng: random.Random, more: random.Random) -> None:
        self.rng = rng
        self.more = more   # for what came later, so that earlier seeds keep their programs
        self.refusing: List[str] = []     # globals X0..: a refusing container beside plain values
        self.names: List[str] = []        # globals L0..: a failing value, alone or held
        self.graphs: List[str] = []       # globals G0..: node graphs, which load whole
        self.whole: Dict[str, List[str]] = {}
        self.failing: Dict[str, List[str]] = {}

    def failing_class(self, number: int) -> List[str]:
        """Class ``LC<number>`` and what it needs: its instances fail to load one way."""
        rng, name = self.rng, "LC%d" % number
        act = rng.choice(LOAD_RAISES)
        way = rng.choice(["setstate", "reduce", "new", "hash", "eq", "meta_call", "init_subclass"])
        if way == "setstate":
            return ["class %s:" % name, "    def __init__(self):", "        self.v = [1]",
                    "    def __setstate__(self, state):", "        if LOADING():", "            " + act,
                    "        self.__dict__.update(state)"]
        if way == "reduce":
            return ["def _rebuild%d(v):" % number, "    if LOADING():", "        " + act,
                    "    return %s()" % name, "class %s:" % name, "    def __reduce__(self):",
                    "        return (_rebuild%d, (1,))" % number]
        if way == "new":
            return ["class %s:" % name, "    def __new__(cls, *args):", "        if LOADING():",
                    "            " + act, "        return object.__new__(cls)"]
        if way in ("hash", "eq"):
            # Two of them in a dict or set collide, so that __eq__ runs as well as __hash__.
            hash_body, eq_body = ["return 7"], ["return self is other"]
            (hash_body if way == "hash" else eq_body)[:0] = ["if LOADING():", "    " + act]
            return ["class %s:" % name, "    def __hash__(self):"] + ["        " + line for line in hash_body] + \
                ["    def __eq__(self, other):"] + ["        " + line for line in eq_body]
        if way == "meta_call":
            return ["class LMeta%d(type):" % number, "    def __call__(cls, *args, **kwargs):",
                    "        if LOADING():", "            " + act, "        return super().__call__(*args, **kwargs)",
                    "class %s(metaclass=LMeta%d):" % (name, number), "    def __reduce__(self):",
                    "        return (type(self), ())"]
        return ["class LBase%d:" % number, "    def __init_subclass__(cls, **kwargs):", "        if LOADING():",
                "            " + act, "        super().__init_subclass__(**kwargs)",
                "class %s(LBase%d):" % (name, number), "    pass"]

    def refusing_class(self, number: int) -> List[str]:
        """Class ``LX<number>``, a container whose own methods refuse its items as they load, or
        one whose descriptor's ``__set_name__`` raises then (from the stream of later additions)."""
        more, name = self.more, "LX%d" % number
        act = more.choice(LOAD_RAISES)
        way = more.choice(["append", "setitem", "set_name"])
        if way == "append":   # pickle fills a list subclass by its own append and extend
            return ["class %s(list):" % name, "    def __init__(self):", "        super().__init__([1, 2])",
                    "    def append(self, item):", "        if LOADING():", "            " + act,
                    "        super().append(item)", "    extend = append"]
        if way == "setitem":   # and a dict subclass by its own __setitem__
            return ["class %s(dict):" % name, "    def __init__(self):", "        super().__init__(k=BIG)",
                    "    def __setitem__(self, key, value):", "        if LOADING():", "            " + act,
                    "        super().__setitem__(key, value)"]
        # set_name: run as the class is rebuilt
        return ["class LXField%d:" % number, "    def __set_name__(self, owner, name):", "        if LOADING():",
                "            " + act, "class %s:" % name, "    field = LXField%d()" % number]

    def failing_value(self, classes: int) -> str:
        """A value holding instances of the failing classes: alone, in containers, as keys."""
        rng = self.rng
        one = "LC%d()" % rng.randrange(classes)
        return rng.choice([
            one, "[%s, 'after', BIG]" % one, "{'k': %s, 'big': BIG}" % one, "{%s: 1, %s: 2}" % (one, one),
            "{%s, %s}" % (one, one), "(BIG, %s)" % one, "[[%s], {'n': %s}]" % (one, one),
            "{Node('x'): %s}" % one,
        ])

    def graph(self, name: str) -> List[str]:
        """A cycle of nodes whose __hash__ reads the name their state sets after their edges."""
        rng = self.rng
        nodes = ["%s_n%d" % (name, n) for n in range(rng.randint(2, 3))]
        lines = ["%s = Node(%r)" % (node, node) for node in nodes]
        lines += ["%s.edges[%s] = %d" % (a, b, n) for n, (a, b) in enumerate(zip(nodes, nodes[1:] + nodes[:1]))]
        holder = rng.choice(["{%s: 'x'}" % nodes[0], "{%s}" % ", ".join(nodes), "[{%s: [%s]}]" % (nodes[0], nodes[-1]),
                             "(%s,)" % nodes[-1], "{'nodes': {%s: %s}}" % (nodes[-1], nodes[0])])
        return lines + ["%s = %s" % (name, holder)]

    def globals(self) -> List[str]:
        rng = self.rng
        classes = rng.randint(1, 3)
        lines = [LOAD_PRELUDE.strip("\n")]
        for number in range(classes):
            lines += self.failing_class(number)
        for number in range(rng.randint(1, 3)):
            self.graphs.append("G%d" % number)
            lines += self.graph(self.graphs[-1])
        for number in range(rng.randint(1, 3)):
            self.names.append("L%d" % number)
            lines.append("%s = %s" % (self.names[-1], self.failing_value(classes)))
        if rng.random() < 0.5:   # a failing value and a graph in one: the graph goes with it
            lines.append("L%d = [%s, %s]" % (len(self.names), rng.choice(self.names), rng.choice(self.graphs)))
            self.names.append("L%d" % len(self.names))
        for number in range(self.more.randint(0, 2)):
            lines += self.refusing_class(number)
            self.refusing.append("X%d" % number)
            lines.append("X%d = [LX%d(), 'after', BIG]" % (number, number))
        return lines

    def locals(self, fn: str, plain_locals: Dict[str, Dict[str, str]],
               holders: Dict[str, List[Tuple[str, str]]]) -> List[str]:
        """Locals of ``fn``: failing values, node graphs and the big list, a plain value after them."""
        rng = self.rng
        body: List[str] = []
        for n in range(rng.randint(1, 3)):
            local = "%s_l%d" % (fn, n)
            roll = rng.random()
            if roll < 0.5:
                held = rng.choice(self.names)
                self.failing.setdefault(fn, []).append(local)
            elif roll < 0.8:
                held = rng.choice(self.graphs)
                self.whole.setdefault(fn, []).append(local)
            else:
                held = "BIG"
                plain_locals.setdefault(fn, {})[local] = held
            holders.setdefault(held, []).append((fn, local))
            body.append("%s = %s" % (local, held))
        if self.refusing and self.more.random() < 0.6:
            held, local = self.more.choice(self.refusing), "%s_x" % fn
            self.failing.setdefault(fn, []).append(local)
            holders.setdefault(held, []).append((fn, local))
            body.append("%s = %s" % (local, held))
        return body

    def thread(self) -> List[str]:
        """A thread of the crash holding a failing value and a graph, waiting at the crash."""
        if self.rng.random() < 0.5:
            return []
        return ["threading.Thread(target=lambda held=(%s, %s, BIG): STOP_LOAD.wait(60), daemon=True).start()"
                % (self.rng.choice(self.names), self.rng.choice(self.graphs))]


def program(seed: int) -> Program:
    return _Gen(seed).build()


# Loads the dump in a fresh process as a user would and reports, as JSON, what it saw.
CHECKER = r'''
import json, sys, tbdump
path, plain_code, plain_locals, shared, whole = (sys.argv[1], sys.argv[2], json.loads(sys.argv[3]),
                                                json.loads(sys.argv[4]), json.loads(sys.argv[5]))
expected = {}
exec(plain_code, expected)

def same(a, b, seen):
    if (id(a), id(b)) in seen:
        return True
    seen.add((id(a), id(b)))
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, seen) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], seen) for k in a)
    return a == b

def lost_part(obj, seen):
    """A placeholder in a node graph as restored, or None."""
    if id(obj) in seen:
        return None
    seen.add(id(obj))
    if issubclass(type(obj), tbdump.Placeholder):
        return obj
    if type(obj) is dict:
        parts = [*obj, *obj.values()]
    elif type(obj) in (list, tuple, set):
        parts = list(obj)
    elif type(obj).__name__ == "Node":
        parts = [obj.__dict__.get("name"), obj.__dict__.get("edges")]
    else:
        return None
    return next((lost for lost in (lost_part(part, seen) for part in parts) if lost is not None), None)

def cut(obj):
    """Whether ``obj`` is a placeholder of the capture's (its time budget, on a loaded machine)."""
    return issubclass(type(obj), tbdump.Placeholder) and "not captured" in obj.reason

problems = []
def resolve(frame, name):
    try:
        return dump.resolve(frame.variables[name])
    except BaseException as exc:
        problems.append("%s.%s: resolving it raised %r" % (frame.name, name, exc))
        return tbdump.Placeholder("?", "raised")
ATOMS = (int, float, str, bytes, bool, type(None))   # Python itself may share or copy these
dump = tbdump.load(path)
frames = {f.name: f for f in dump.exception.frames if not f.above_handler}
for thread in dump.threads:
    for frame in thread.frames:
        for name in frame.variables:
            obj = resolve(frame, name)
            if issubclass(type(obj), tbdump.Placeholder) and not obj.reason:
                problems.append("%s.%s: a placeholder with no reason" % (frame.name, name))
for fn, names in plain_locals.items():
    for local, held in names.items():
        frame = frames.get(fn)
        if frame is None or local not in frame.variables:
            continue   # said by the names check
        got = resolve(frame, local)
        if cut(got):
            continue
        if not same(got, expected[held], set()):
            problems.append("%s.%s: plain value %s restored as %r" % (fn, local, held, got))
for fn, names in whole.items():
    for local in names:
        if fn in frames and local in frames[fn].variables:
            lost = lost_part(resolve(frames[fn], local), set())
            if lost is not None and not cut(lost):
                problems.append("%s.%s: a node graph restored with %r" % (fn, local, lost))
for fa, la, fb, lb in shared:
    if fa not in frames or fb not in frames:
        continue
    a, b = resolve(frames[fa], la), resolve(frames[fb], lb)
    # A placeholder on either side says why that one is not the object (a record that shares the
    # memo of one that failed is lost, and said so); Python itself may share or copy atoms.
    if issubclass(type(a), tbdump.Placeholder) or issubclass(type(b), tbdump.Placeholder) or type(a) in ATOMS \
            or type(a) is tuple and not a:
        continue
    if a is not b:
        problems.append("%s.%s and %s.%s: one object in the program, %s and %s in the dump"
                        % (fa, la, fb, lb, type(a).__name__, type(b).__name__))
json.dump({"problems": problems, "frames": [[f.name, sorted(f.variables)] for f in dump.exception.frames
                                            if not f.above_handler]}, sys.stdout)
'''


def _dap_problems(dump: Path, cwd: Path, env: Dict[str, str], python: str) -> List[str]:
    """Every frame of every thread in tbdap, its scopes and their variables one level down."""
    sys.path.insert(0, str(REPO))
    from tests.dap.dapclient import DapClient, DapError
    problems: List[str] = []
    client = DapClient.spawn([python, "-m", "tbdap"], env=env, cwd=str(cwd), name="tbdap")
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(dump)})
        for thread in client.ok("threads")["threads"]:
            for frame in client.ok("stackTrace", {"threadId": thread["id"]})["stackFrames"]:
                if frame.get("presentationHint") == "label":
                    continue
                for scope in client.ok("scopes", {"frameId": frame["id"]})["scopes"]:
                    for var in client.ok("variables", {"variablesReference": scope["variablesReference"]},
                                         timeout=60)["variables"]:
                        if var.get("variablesReference"):
                            client.ok("variables", {"variablesReference": var["variablesReference"]}, timeout=60)
    except DapError as exc:
        problems.append("tbdap: %s" % str(exc)[:2000])
    finally:
        try:
            client.close()
        except AssertionError as exc:
            problems.append("tbdap: %s" % str(exc)[:2000])
    return problems


def check(seed: int, work: Path, dap: bool = True, python: str = sys.executable) -> List[str]:
    """What the seed's program broke of the capture's promises (empty: nothing), every process
    of it run by ``python`` (an interpreter with tbdump's dependencies)."""
    prog = program(seed)
    env = base_env()
    plain_dir, dump_dir = work / "plain", work / "tbdump"
    for d in (plain_dir, dump_dir):
        d.mkdir(parents=True, exist_ok=True)
    try:
        plain, expected_frames = run_plain(write_program(plain_dir, prog.source), [], env, python)
        script = write_program(dump_dir, prog.source)
        dumped = run_tbdump(script, [], env, python=python)
    except TimeoutExpired as exc:
        return ["hang: %s" % exc]
    problems: List[str] = []
    if dumped.returncode != plain.returncode:
        problems.append("exit status %s, Python's %s" % (dumped.returncode, plain.returncode))
    plain_err = _unplaced(plain.stderr.replace(str(plain_dir).encode(), str(dump_dir).encode()))
    if DUMPED_LINE not in dumped.stderr:
        return problems + ["no dump written: %r" % dumped.stderr[-2000:]]
    if _unplaced(without_dump_line(dumped.stderr)) != plain_err:
        problems.append("stderr differs:\n--- python\n%s\n--- tbdump\n%s" % (
            plain_err.decode(errors="replace")[-1500:], dumped.stderr.decode(errors="replace")[-1500:]))
    if dumped.stdout != plain.stdout:
        problems.append("stdout differs: %r / %r" % (plain.stdout[-500:], dumped.stdout[-500:]))
    dump = last_dump(dumped.stderr, dump_dir)
    child_env = dict(env, PYTHONPATH=str(REPO), HOSTILE_LOADING="1")
    try:
        loaded = run([python, "-c", CHECKER, str(dump), prog.plain, json.dumps(prog.plain_locals),
                      json.dumps(prog.shared), json.dumps(prog.whole)], dump_dir, child_env, timeout=120)
        report = run([python, "-m", "tbdump.report", "--globals", str(dump)], dump_dir, child_env,
                     timeout=120)
    except TimeoutExpired as exc:
        return problems + ["hang opening the dump: %s" % exc]
    if loaded.returncode != 0:
        return problems + ["tbdump.load failed: %r" % loaded.stderr[-3000:]]
    seen = json.loads(loaded.stdout)
    problems += seen["problems"]
    if expected_frames is None:
        problems.append("Python recorded no frames: %r" % plain.stderr[-1000:])
    else:
        got = [name for name, _ in seen["frames"]]
        if got != [name for name, _ in expected_frames]:
            problems.append("frames %s, Python's %s" % (got, [name for name, _ in expected_frames]))
        for (name, names), (_, vars_) in zip(expected_frames, seen["frames"]):
            # A thread's warning (the ResourceWarning of a socket the waiter drops) makes the module's
            # __warningregistry__ whenever that thread runs: before the crash or after, run by run.
            missing = sorted(set(names or ()) - set(vars_) - {"__warningregistry__"})
            if missing:
                problems.append("frame %s lacks locals %s" % (name, missing))
    if report.returncode != 0 or report.stderr:
        problems.append("report: exit %s, stderr %r" % (report.returncode, report.stderr[-2000:]))
    if dap:
        problems += _dap_problems(dump, dump_dir, child_env, python)
    if expected_frames is not None:
        problems += _tbdebug_problems(dump, dump_dir, child_env, [name for name, _ in expected_frames], prog,
                                      python)
    return problems


def _tbdebug_problems(dump: Path, cwd: Path, env: Dict[str, str], frames: List[str], prog: Program,
                      python: str) -> List[str]:
    """tbdebug prints every value that fails to load and every node graph, frame by frame up
    from the crash's, and ends when told."""
    commands: List[str] = []
    printed: List[str] = []
    for fn in reversed(frames):
        for local in prog.failing.get(fn, []) + prog.whole.get(fn, []):
            commands.append("p %s" % local)
            printed.append(local)
        commands.append("up")
    try:
        proc = subprocess.run([python, "-m", "tbdebug", str(dump)], cwd=str(cwd), env=env,
                              input="\n".join(commands + ["q"]).encode() + b"\n", capture_output=True, timeout=120)
    except TimeoutExpired as exc:
        return ["tbdebug hangs: %s" % exc]
    out = proc.stdout.decode(errors="replace")
    problems = []
    # Before its first prompt tbdebug prints the crash's traceback; after it, none is its own.
    if proc.returncode != 0 or proc.stderr or "Traceback (most recent call last)" in out.partition("(Pdb) ")[2]:
        problems.append("tbdebug: exit %s, stderr %r, out %r" % (proc.returncode, proc.stderr[-1500:], out[-1500:]))
    unknown = [local for local in printed if "NameError: name '%s'" % local in out]
    if unknown:
        problems.append("tbdebug: no locals %s" % unknown)
    return problems


DUMPED_LINE = b"Traceback dumped into: "


def _unplaced(text: bytes) -> bytes:
    """``text`` without the addresses of default reprs (``<C1 object at 0x7f...>``), which differ
    between any two runs, nor those and the reference count Python prints of an exception it
    failed to print (``object address  : 0x7f...``, then "lost sys.stderr")."""
    text = re.sub(rb"(object (?:address|refcount|type) *: )\S+", rb"\1?", text)
    return re.sub(rb" at 0x[0-9a-f]+", b" at 0x?", text)


def _seeds(spec: str) -> List[int]:
    out: List[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out += range(int(first), int(last or first) + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("seeds", help="seeds: 7, 0-99, 1,5,9-12")
    parser.add_argument("--print", action="store_true", help="print the seeds' scripts, run nothing")
    parser.add_argument("--work", type=Path, help="scratch directory (kept for failures)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter of the programs and the viewers (another version's, with "
                             "tbdump's dependencies: the venvs of tests/trust/test_xversion.py)")
    args = parser.parse_args()
    seeds = _seeds(args.seeds)
    if args.print:
        for seed in seeds:
            print("# seed %d\n%s" % (seed, program(seed).source))
        return
    assert args.work, "--work DIR"

    def one(seed: int) -> None:
        work = args.work / str(seed)
        try:
            problems = check(seed, work, python=args.python)
        except Exception as exc:   # the checker's own assertion: a finding too, the campaign goes on
            problems = ["the check broke: %r" % exc]
        if not problems:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps({"seed": seed, "problems": problems}), flush=True)

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, seeds))


if __name__ == "__main__":
    main()
