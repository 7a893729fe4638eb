"""Nothing lost: the values real programs hold, from the standard library and numpy, come
back from a dump as the program held them, or as a placeholder that says why not.

One program holds every case as a local of the coroutine that crashes, under
``python -m tbdump``.  After the dump is written, the program itself asks each live
value its probe (an expression over ``v``, the value, and ``L``, the frame's locals);
a fresh process loads the dump and asks the restored values the same.  The answers,
the type, and the safe layer's preview (type name and repr, as debugpy shows them)
must agree.  (tests/dap/test_live_vs_replay.py shows the same values to debugpy and tbdap.)
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Dict, NamedTuple, Optional

import pytest

from ..conftest import PYTHON, run, write


class Case(NamedTuple):
    setup: str                    # statements that bind the local named as the case
    probe: str                    # what is asked of the live and of the restored value
    missing: Optional[str] = None  # a placeholder is expected: what its reason says
    repr_is_state: bool = True    # whether the value's repr at exit is the one it had at the crash
    lock_inside: bool = False     # restored on a lock's stand-in, which its repr shows


CASES: Dict[str, Case] = {
    # numpy
    "a_float": Case("a_float = np.arange(6, dtype=np.float64).reshape(2, 3) / 3", "(v.dtype.str, v.shape, v.tolist())"),
    "a_int": Case("a_int = np.arange(5, dtype=np.int32)", "(v.dtype.str, v.tolist())"),
    "a_bool": Case("a_bool = np.array([True, False])", "(v.dtype.str, v.tolist())"),
    "a_object": Case("a_object = np.array([1, 'x', None, {'k': [1]}], dtype=object)", "(v.dtype.str, v.tolist())"),
    "a_struct": Case("a_struct = np.array([(1, 2.5), (3, 4.5)], dtype=[('i', 'i4'), ('f', 'f8')])",
                     "(v.dtype.descr, v.tolist(), v['f'].tolist())"),
    "a_0d": Case("a_0d = np.array(3.5)", "(v.shape, v.item())"),
    "a_view": Case("a_view = np.arange(20)[::3]", "(v.shape, v.tolist())"),
    "a_fortran": Case("a_fortran = np.asfortranarray(np.arange(6).reshape(2, 3))",
                      "(v.flags.f_contiguous, v.tolist())"),
    "a_memmap": Case("a_memmap = np.memmap('mm.dat', dtype='int16', mode='w+', shape=(4,))\na_memmap[:] = [1, 2, 3, 4]",
                     "(v.dtype.str, v.tolist())"),
    "a_masked": Case("a_masked = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0], fill_value=-1)",
                     "(v.mask.tolist(), v.filled().tolist(), int(v.fill_value))"),
    # numbers
    "dec": Case("dec = decimal.Decimal('1.10')", "(v, v.as_tuple())"),
    "frac": Case("frac = fractions.Fraction(3, 7)", "(v, v.denominator)"),
    "cplx": Case("cplx = 1 + 2j", "(v, v.imag)"),
    # enums
    "color": Case("color = Color.GREEN", "(v.name, v.value, [m.name for m in type(v)])"),
    "number": Case("number = Number.ONE", "(v + 1, isinstance(v, int))"),
    "perm": Case("perm = Perm.R | Perm.W", "(v.value, type(v).R in v)"),
    "mode": Case("mode = Mode.FAST", "(v == 'fast', str(v), format(v))"),
    # re
    "pattern": Case("pattern = re.compile(r'(a)(b)?', re.I)", "(v.pattern, v.flags, v.match('ab').span())"),
    "match": Case("match = pattern.search('xxAb')",
                  "(v.groups(), v.span(), v.pos, v.endpos, v.re is L['pattern'], v.lastindex)"),
    "match_later": Case("match_later = list(re.finditer(r'\\d', 'a1b2'))[1]", "(v.group(), v.span(), v.pos)"),
    "match_full": Case("match_full = re.fullmatch('a|ab', 'ab')", "(v.group(), v.span())"),
    "match_at": Case("match_at = re.compile('^b|c').search('abc', 1, 3)", "(v.group(), v.pos, v.endpos)"),
    # functools, collections
    "part": Case("part = functools.partial(int, base=2)", "(v('101'), v.keywords)"),
    "dq": Case("dq = collections.deque([1, 2, 3], maxlen=5)", "(list(v), v.maxlen)"),
    "od": Case("od = collections.OrderedDict([('b', 1), ('a', 2)])", "list(v.items())"),
    "dd_lambda": Case("dd_lambda = collections.defaultdict(lambda: 7, {'k': 1})", "(v['new'], sorted(v.items()))"),
    "dd_function": Case("dd_function = collections.defaultdict(zero, {'k': 1})",
                        "(v['new'], v.default_factory.__name__)"),
    "counter": Case("counter = collections.Counter('abracadabra')", "v.most_common(2)"),
    "chain_map": Case("chain_map = collections.ChainMap({'a': 1}, {'b': 2})", "(v['b'], len(v.maps))"),
    "point": Case("point = Point(1, 2)", "(v, v._fields, type(v).__name__)"),
    # dataclasses
    "frozen": Case("frozen = Frozen(1)", "(v, failure(lambda: setattr(v, 'a', 2)))"),
    "slotted": Case("slotted = Slotted()", "(v, type(v).__slots__)"),
    "init_var": Case("init_var = WithInitVar(5)", "(v.a, [f.name for f in dataclasses.fields(v)])"),
    # typing
    "type_var": Case("type_var = T", "(type(v).__name__, v.__name__, v.__constraints__, v.__module__)"),
    "bound_var": Case("bound_var = typing.TypeVar('B', bound=int, covariant=True)",
                      "(type(v).__name__, v.__bound__, v.__covariant__)"),
    "param_spec": Case("param_spec = P", "(type(v).__name__, v.__name__, v.args.__origin__ is v)"),
    "type_var_tuple": Case("type_var_tuple = Ts", "(type(v).__name__, v.__name__)"),
    "list_int": Case("list_int = typing.List[int]", "(v.__origin__, v.__args__)"),
    "protocol": Case("protocol = Proto", "(v.__name__, v._is_protocol)"),
    "generic": Case("generic = Shelf[int](5)", "(type(v).__name__, v.item, type(v).__parameters__, type(v)[str])"),
    # paths, times, ids, addresses
    "path": Case("path = pathlib.Path('/tmp/some/file.txt')", "(v, v.parts)"),
    "pure_path": Case("pure_path = pathlib.PurePosixPath('a/b')", "(v, v.parts)"),
    "when": Case("when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo('Europe/Paris'))",
                 "(v, v.utcoffset(), v.tzinfo.key)"),
    "uid": Case("uid = uuid.UUID('12345678-1234-5678-1234-567812345678')", "(v, v.version)"),
    "ip": Case("ip = ipaddress.ip_address('10.0.0.1')", "(v, v.is_private)"),
    "net": Case("net = ipaddress.ip_network('10.0.0.0/24')", "(v, v.num_addresses)"),
    "iface": Case("iface = ipaddress.ip_interface('10.0.0.1/24')", "(v, v.network)"),
    # buffers and builtin oddities
    "arr": Case("arr = array.array('d', [1.5, 2.5])", "(v.typecode, v.tolist())"),
    "buf": Case("buf = bytearray(b'xyz')", "v"),
    "mv_whole": Case("mv_whole = memoryview(buf)", "(v.obj is L['buf'], v.readonly, v.tolist())"),
    "mv_slice": Case("mv_slice = memoryview(buf)[1:]", "(v.tobytes(), v.readonly, v.obj is L['buf'])"),
    "mv_copy": Case("mv_copy = memoryview(b'abab')[2:]", "(v.tobytes(), v.format, v.shape, v.readonly)"),
    "mv_cast": Case("mv_cast = memoryview(b'abcd').cast('H')[::-1]", "(v.tolist(), v.format, v.shape, v.readonly)"),
    "mv_2d": Case("mv_2d = memoryview(np.arange(6, dtype=np.int16).reshape(2, 3))", "(v.tolist(), v.format, v.shape)"),
    "mv_released": Case("mv_released = memoryview(b'x')\nmv_released.release()", "failure(lambda: v[0])"),
    "rng": Case("rng = range(1, 10, 2)", "(v, list(v))"),
    "sl": Case("sl = slice(1, None, 2)", "(v, v.indices(10))"),
    "ell": Case("ell = Ellipsis", "v is Ellipsis"),
    "notimpl": Case("notimpl = NotImplemented", "v is NotImplemented"),
    # weak references
    "target": Case("target = Target()", "v.name"),
    "wref": Case("wref = weakref.ref(target)", "v() is L['target']"),
    "wproxy": Case("wproxy = weakref.proxy(target)",
                   "(type(v) is weakref.ProxyType, v.name, any(r is v for r in weakref.getweakrefs(L['target'])))"),
    "wvalues": Case("wvalues = weakref.WeakValueDictionary({'t': target})", "(list(v.keys()), v['t'] is L['target'])"),
    # state of generators of numbers and of iterators
    "rand": Case("rand = random.Random(42)\nrand.random()", "v.random()"),
    "counting": Case("counting = itertools.count(5)\nnext(counting)", "list(itertools.islice(v, 3))"),
    "cycling": Case("cycling = itertools.cycle('ab')\nnext(cycling)", "list(itertools.islice(v, 3))"),
    "chained": Case("chained = itertools.chain([1, 2], [3])\nnext(chained)", "list(v)"),
    "grouped": Case("grouped = itertools.groupby('aabbb')\nnext(grouped)", "[(k, list(g)) for k, g in v]"),
    "mapped": Case("mapped = map(str, [1, 2, 3])\nnext(mapped)", "list(v)"),
    "filtered": Case("filtered = filter(None, [0, 1, 2])", "list(v)"),
    "zipped": Case("zipped = zip([1, 2], 'ab')", "list(v)"),
    "listed": Case("listed = iter([1, 2, 3])\nnext(listed)", "list(v)"),
    "keys": Case("keys = {'a': 1}.keys()", "list(v)"),
    "items": Case("items = {'a': 1}.items()", "list(v)"),
    "values": Case("values = {'a': 1}.values()", "list(v)"),
    # logging, threading, queues, asyncio, processes
    "logger": Case("logger = logging.getLogger('app.db')\nlogger.setLevel(logging.DEBUG)\n"
                   "logger.addHandler(logging.NullHandler())\nlogger.propagate = False",
                   "(v.name, v.level, v.propagate, [type(h).__name__ for h in v.handlers], v.getEffectiveLevel())"),
    "root_logger": Case("root_logger = logging.getLogger()\nroot_logger.setLevel(logging.INFO)",
                        "(v.level, v.handlers, L['logger'].parent is v)"),
    "handler": Case("handler = logging.NullHandler(logging.ERROR)", "(type(v).__name__, v.level)"),
    "record": Case("record = logging.LogRecord('app', logging.INFO, 'p.py', 1, 'hi %s', ('x',), None)",
                   "(v.getMessage(), v.levelname)"),
    "event": Case("event = threading.Event()\nevent.set()", "v.is_set()"),
    "condition": Case("condition = threading.Condition()", "(v.acquire(False), v.release())", lock_inside=True),
    "worker": Case("worker = threading.Thread(target=time.sleep, args=(0.5,), name='sleeper', daemon=True)\n"
                   "worker.start()", "(v.name, v.daemon, v.ident is not None)", repr_is_state=False),
    "jobs": Case("jobs = queue.Queue()\njobs.put(1)", "(v.qsize(), v.get_nowait())"),
    "done": Case("done = loop.create_future()\ndone.set_result(5)", "(v.done(), v.result())"),
    "failed": Case("failed = loop.create_future()\nfailed.set_exception(KeyError('k'))",
                   "(v.done(), repr(v.exception()))"),
    "cancelled": Case("cancelled = loop.create_future()\ncancelled.cancel('enough')",
                      "(v.cancelled(), failure(v.result))"),
    "pending": Case("pending = loop.create_future()", "(v.done(), v.get_loop() is L['loop'])"),
    "flag": Case("flag = asyncio.Event()\nflag.set()", "v.is_set()"),
    "task": Case("task = asyncio.ensure_future(asyncio.sleep(100))", "", "cannot pickle '_asyncio.Task'",
                 repr_is_state=False),
    "process": Case("process = subprocess.Popen(['true'])\nprocess.wait()", "(v.args, v.returncode)"),
    # files, in memory or not
    "named_tmp": Case("named_tmp = tempfile.NamedTemporaryFile(dir='.')", "(type(v).__name__, v.delete)",
                      repr_is_state=False),
    "text_io": Case("text_io = io.StringIO('hello')\ntext_io.seek(2)", "(v.tell(), v.read())", repr_is_state=False),
    "bytes_io": Case("bytes_io = io.BytesIO(b'hello')\nbytes_io.seek(3)", "(v.tell(), v.read())", repr_is_state=False),
    "zip_memory": Case("zip_memory = zipfile.ZipFile(io.BytesIO(ZIPPED))", "(v.namelist(), v.read('a.txt'))",
                       repr_is_state=False),
    "message": Case("message = email.message.EmailMessage()\nmessage['Subject'] = 'hi'\nmessage.set_content('body')",
                    "(v['Subject'], v.get_content())", repr_is_state=False),
    "element": Case("element = ET.Element('root', k='v')\nET.SubElement(element, 'child').text = 't'",
                    "(v.tag, v.attrib, [c.text for c in v])", repr_is_state=False),
    "options": Case("options = argparse.Namespace(x=1, y='z')", "vars(v)"),
    "simple": Case("simple = types.SimpleNamespace(x=1)", "vars(v)"),
    "proxy_map": Case("proxy_map = types.MappingProxyType({'a': 1})", "dict(v)"),
    # what cannot be restored honestly
    "gen": Case("gen = (i for i in range(3))\nnext(gen)", "", "generator objects cannot be restored",
                repr_is_state=False),
    "conn": Case("conn = sqlite3.connect(':memory:')", "", "cannot pickle 'sqlite3.Connection'"),
    "cursor": Case("cursor = conn.cursor()", "", "cannot pickle 'sqlite3.Cursor'"),
    "digest": Case("digest = hashlib.sha256(b'abc')", "", "cannot pickle '_hashlib.HASH'", repr_is_state=False),
    "rows": Case("rows = csv.reader(io.StringIO('a,b\\n'))", "", "cannot pickle '_csv.reader'", repr_is_state=False),
    "context_var": Case("context_var = contextvars.ContextVar('cv', default=1)\nreset = context_var.set(9)", "",
                        "cannot pickle '_contextvars.ContextVar'", repr_is_state=False),
    # classes of the program, identity and cycles
    "both": Case("both = Both()", "(v.s, v.d)", repr_is_state=False),
    "never_equal": Case("never_equal = [NeverEqual()] * 2", "(v[0] is v[1], v[0] == v[0])", repr_is_state=False),
    "itself": Case("itself = [1]\nitself.append(itself)", "(v[1] is v, v)"),
    "pair": Case("pair = Target()\npair.other = Target()\npair.other.other = pair", "v.other.other is v",
                 repr_is_state=False),
}

PROGRAM = """
import argparse, array, asyncio, collections, contextvars, csv, dataclasses, datetime, decimal, email.message
import enum, fractions, functools, hashlib, io, ipaddress, itertools, json, logging, pathlib, queue, random, re
import sqlite3, subprocess, sys, tempfile, threading, time, types, typing, uuid, weakref, zipfile, zoneinfo
import atexit
import xml.etree.ElementTree as ET
import numpy as np

class Color(enum.Enum):
    RED = 1
    GREEN = 2
class Number(enum.IntEnum):
    ONE = 1
class Perm(enum.Flag):
    R = 4
    W = 2
class Mode(enum.StrEnum):
    FAST = "fast"
Point = collections.namedtuple("Point", "x y")
@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: list = dataclasses.field(default_factory=list)
@dataclasses.dataclass(slots=True)
class Slotted:
    a: int = 3
    b: str = "x"
@dataclasses.dataclass
class WithInitVar:
    a: int
    scale: dataclasses.InitVar[int] = 2
    def __post_init__(self, scale):
        self.a *= scale
T = typing.TypeVar("T", int, str)
P = typing.ParamSpec("P")
Ts = typing.TypeVarTuple("Ts")
class Proto(typing.Protocol):
    def size(self) -> int: ...
class Shelf(typing.Generic[T]):
    def __init__(self, item):
        self.item = item
class Both:
    __slots__ = ("s", "__dict__")
    def __init__(self):
        self.s, self.d = 1, 2
class NeverEqual:
    def __eq__(self, other):
        return False
    __hash__ = object.__hash__
class Target:
    name = "target"
def zero():
    return 0
def failure(call):
    try:
        call()
    except BaseException as exc:
        return type(exc).__name__
    return None
_zip = io.BytesIO()
with zipfile.ZipFile(_zip, "w") as _z:
    _z.writestr("a.txt", "A")
ZIPPED = _zip.getvalue()
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
PROBES = json.loads(%(probes)r)

def shown_name(v):
    try:  # as debugpy's get_type names it: the class the value says it is of (a weak proxy's target's)
        return v.__class__.__name__
    except BaseException:
        return type(v).__name__

def answers(frame_locals):
    from tbdump.saferepr import safe_repr   # debugpy's rules (tests/dap compare them to debugpy)
    out = {}
    for name, (probe, repr_is_state) in PROBES.items():
        v = frame_locals[name]
        shown = ADDRESS.sub("0x?", safe_repr(v)) if repr_is_state else None  # before a probe moves it
        try:
            said = repr(eval(probe, globals(), {"v": v, "L": frame_locals})) if probe else ""
        except BaseException as exc:
            said = "raised %%r" %% exc
        out[name] = {"type": "%%s.%%s" %% (type(v).__module__, type(v).__qualname__), "probe": said,
                     "name": shown_name(v), "repr": shown}
    return out

async def crash():
    loop = asyncio.get_running_loop()
%(setup)s
    held = locals()
    atexit.register(lambda: json.dump(answers(held), open("live.json", "w")))
    await asyncio.sleep(0)
    raise RuntimeError("stop")

if __name__ == "__main__":
    asyncio.run(crash())
"""

LOADER = """
import json, runpy
import tbdump
program = runpy.run_path("prog.py", run_name="not_main")   # the probes' helpers, not the crash
dump = tbdump.load("traceback.pkl")
frame = dump.frames[-1]
loaded = program["answers"](frame.locals)
for name, value in frame.variables.items():
    if name in loaded:
        loaded[name].update(preview_type=value.type, preview_repr=program["ADDRESS"].sub("0x?", value.repr),
                            missing=value.missing)
        restored = frame.locals[name]
        loaded[name]["reason"] = getattr(restored, "reason", None) if isinstance(restored, tbdump.Placeholder) else None
json.dump({"values": loaded, "cut": dump.metadata.cut}, open("loaded.json", "w"))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """What the live program and the restored dump answered, case by case."""
    workdir = tmp_path_factory.mktemp("fidelity")
    setup = "\n".join(textwrap.indent(case.setup, "    ") for case in CASES.values())
    probes = json.dumps({name: (case.probe, case.repr_is_state) for name, case in CASES.items()})
    write(workdir / "prog.py", PROGRAM % {"setup": setup, "probes": probes})
    crashed = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, timeout=120)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr
    loaded = run([PYTHON, "-c", LOADER], workdir, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    loaded_answers = json.loads((workdir / "loaded.json").read_text())
    assert not loaded_answers["cut"], "the capture was cut short: %s" % loaded_answers["cut"]
    return {"live": json.loads((workdir / "live.json").read_text()), "loaded": loaded_answers["values"]}


@pytest.mark.parametrize("name", list(CASES))
def test_a_value_comes_back_as_the_program_held_it(answers: Dict[str, Any], name: str) -> None:
    case = CASES[name]
    live, loaded = answers["live"][name], answers["loaded"][name]
    # What the safe layer shows, as debugpy shows the live value: type name and repr.
    assert loaded["preview_type"] == live["name"]
    if case.repr_is_state:
        assert loaded["preview_repr"] == live["repr"]
    if case.missing is not None:
        assert loaded["type"] == "tbdump.placeholder.Placeholder"
        assert case.missing in loaded["reason"] and loaded["reason"] == loaded["missing"]
        return
    assert loaded["missing"] is None and loaded["reason"] is None
    assert loaded["type"] == live["type"]
    assert loaded["probe"] == live["probe"]
    if case.repr_is_state and not case.lock_inside:
        assert loaded["repr"] == live["repr"]


def test_a_zip_file_on_disk_comes_back_closed_with_its_listing(tmp_path: Path) -> None:
    """Its file is not in the dump: rather than open on a placeholder, which it would write
    its central directory to when collected, it is closed, as what it can still do says."""
    write(tmp_path / "prog.py", """
        import zipfile
        with zipfile.ZipFile("old.zip", "w") as z:
            z.writestr("a.txt", "A")
        reading = zipfile.ZipFile("old.zip")
        writing = zipfile.ZipFile("new.zip", "w")
        writing.writestr("b.txt", "B")
        raise RuntimeError("stop")
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], tmp_path)
    proc = run([PYTHON, "-c", """if 1:
        import gc, tbdump
        frame = tbdump.load("traceback.pkl").frames[-1]
        print(frame.variables["reading"].repr, frame.variables["writing"].repr)
        for name in ("reading", "writing"):
            archive = frame.locals[name]
            try:
                archive.read(archive.namelist()[0])
            except ValueError as exc:
                print(repr(archive), archive.namelist(), exc)
        del archive, frame
        gc.collect()
    """], tmp_path)
    assert proc.stdout.splitlines() == [
        "<zipfile.ZipFile filename='old.zip' mode='r'> <zipfile.ZipFile filename='new.zip' mode='w'>",
        "<zipfile.ZipFile [closed]> ['a.txt'] Attempt to use ZIP archive that was already closed",
        "<zipfile.ZipFile [closed]> ['b.txt'] Attempt to use ZIP archive that was already closed"], proc.stderr
    assert proc.stderr == "", "collecting it wrote to a placeholder"


def test_a_process_that_was_running_is_not_adopted_by_the_viewer(tmp_path: Path) -> None:
    """Collected, a restored Popen still running at the crash used to warn that it still runs
    and be put among this process's children to wait for: a pid of another machine."""
    write(tmp_path / "prog.py", """
        import subprocess
        child = subprocess.Popen(["sleep", "2"])
        raise RuntimeError("stop")
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], tmp_path)
    proc = run([PYTHON, "-W", "always::ResourceWarning", "-c", """if 1:
        import gc, tbdump
        dump = tbdump.load("traceback.pkl")
        frame = dump.frames[-1]
        child = frame.locals["child"]
        print(child.args, child.returncode, frame.variables["child"].repr)
        dump.close()
        del child, frame, dump
        gc.collect()
    """], tmp_path)
    assert proc.stdout == "['sleep', '2'] None <Popen: returncode: None args: ['sleep', '2']>\n", proc.stderr
    assert proc.stderr == ""


def test_an_object_another_thread_keeps_changing_is_captured_and_keeps_its_links(tmp_path: Path) -> None:
    """The program's other threads run on while the crash is dumped: an object whose
    attributes one of them adds and deletes (a Thread deletes its target as it ends) failed
    to pickle, became a placeholder, and the values after it lost the objects they share."""
    write(tmp_path / "prog.py", """
        import sys, threading
        sys.setswitchinterval(1e-6)   # switch threads as often as Python can
        class Box:
            pass
        box = Box()
        for n in range(20000):
            setattr(box, "k%d" % n, n)
        def churn():
            n = 0
            while True:
                setattr(box, "extra%d" % (n % 100), n)
                if n % 100 == 99:
                    for i in range(100):
                        delattr(box, "extra%d" % i)
                n += 1
        threading.Thread(target=churn, daemon=True).start()
        def crash(box, shared):
            after = {"shared": shared}
            raise RuntimeError("stop")
        shared = box.shared = [1, 2]
        crash(box, shared)
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], tmp_path)
    proc = run([PYTHON, "-c", """if 1:
        import tbdump
        frame = tbdump.load("traceback.pkl").frames[-1]
        box, after = frame.locals["box"], frame.locals["after"]
        print(frame.variables["box"].missing, type(box).__name__, box.k19999, after["shared"] is box.shared)
    """], tmp_path)
    assert proc.stdout == "None Box 19999 True\n", proc.stderr
