"""What a dump holds, checked on real crashing programs: chains, frames, identity, placeholders."""
from __future__ import annotations

import sys
import weakref
from pathlib import Path
from typing import Any, List, Tuple

import pytest

import tbdump
from tbdump.container import ContainerReader
from ..conftest import PYTHON, run, write


def crash(workdir: Path, source: str, *args: str, name: str = "prog.py") -> tbdump.Dump:
    write(workdir / name, source)
    proc = run([PYTHON, "-m", "tbdump", name, *args], workdir)
    assert "Traceback dumped into: traceback.pkl" in proc.stderr, proc.stderr
    return tbdump.load(workdir / "traceback.pkl")


def test_cause_context_suppress_and_notes(workdir: Path) -> None:
    dump = crash(workdir, """
        def parse(text):
            try:
                return int(text)
            except ValueError as e:
                raise KeyError(text) from e
        def load():
            try:
                parse("x")
            except KeyError:
                try:
                    {}["k"]
                except KeyError:
                    raise RuntimeError("suppressed context") from None
        try:
            load()
        except RuntimeError as err:
            err.add_note("note one") if hasattr(err, "add_note") else None
            raise TypeError("final")
    """)
    root = dump.exception
    assert (root.type, root.message, root.cause) == ("TypeError", "final", None)
    ctx = dump.exceptions[root.context]
    assert (ctx.type, ctx.message, ctx.suppress_context, ctx.cause) == (
        "RuntimeError", "suppressed context", True, None)
    hidden = dump.exceptions[ctx.context]   # the live RuntimeError's __context__, though not printed
    assert (hidden.type, hidden.message, hidden.suppress_context) == ("KeyError", "'k'", False)
    if sys.version_info >= (3, 11):
        assert ctx.notes == ["note one"]
    assert [f.name for f in root.frames] == ["<module>"]
    assert [f.name for f in ctx.frames] == ["<module>", "load"]
    text = dump.traceback_text
    # As Python prints it: the suppressed KeyError and any "direct cause" stay out.
    assert "KeyError" not in text and "direct cause" not in text
    assert text.count("During handling of the above exception") == 1
    assert text.rstrip().endswith("TypeError: final")


def test_the_exception_object_comes_back_linked_to_its_chain(workdir: Path) -> None:
    source = """
        class QuotaError(Exception):
            def __init__(self, user, used):
                super().__init__("quota exceeded for %s" % user)
                self.user, self.used = user, used
        def charge(user):
            try:
                {}[user]
            except KeyError as e:
                raise QuotaError(user, 120) from e
        charge("ada")
    """
    dump = crash(workdir, source)
    raised = dump.exception_object()
    assert type(raised).__name__ == "QuotaError" and isinstance(raised, Exception)
    assert (raised.args, raised.user, raised.used) == (("quota exceeded for ada",), "ada", 120)
    cause = dump.exception_object(dump.exception.cause)
    assert type(cause) is KeyError and cause.args == ("ada",)
    # As the live one: cause and context the KeyError object itself, the context suppressed.
    assert raised.__cause__ is cause and raised.__context__ is cause and raised.__suppress_context__
    assert dump.exception_object(0) is raised and raised.__traceback__ is None
    with pytest.raises(IndexError):
        dump.exception_object(2)
    # In safe mode nothing is unpickled: a placeholder says why, linked to the others as live.
    safe_dump = tbdump.load(workdir / "traceback.pkl", objects=False)
    safe = safe_dump.exception_object()
    assert isinstance(safe, tbdump.Placeholder) and safe.reason == "safe mode"
    assert safe.__cause__ is safe.__context__ is safe_dump.exception_object(1) and safe.__suppress_context__
    # Documented where a person at the prompt looks: help(dump).
    import pydoc
    assert "exception_object()" in pydoc.render_doc(dump, renderer=pydoc.plaintext)


@pytest.mark.parametrize("launch", [["-m", "tbdump", "prog.py"], ["prog.py", "--hook"]])
def test_an_exception_class_refusing_attributes_is_dumped_and_linked_as_live(workdir: Path, launch) -> None:
    # Error values made immutable: Python sets __cause__, __context__ and __traceback__ past
    # the class's __setattr__, so the crash and its chain are there, under the runner and the hook.
    write(workdir / "prog.py", """
        import sys, tbdump
        if "--hook" in sys.argv:
            tbdump.set_excepthook()
        class Refused(Exception):
            def __setattr__(self, name, value):
                raise AttributeError("%s is immutable" % type(self).__name__)
        def lookup(key):
            try:
                return {}[key]
            except KeyError as e:
                raise Refused("no %s" % key) from e
        lookup("ada")
    """)
    proc = run([PYTHON, *launch], workdir)
    assert proc.stderr.splitlines() == ["Refused: no ada", "Traceback dumped into: traceback.pkl"], proc.stderr
    assert proc.returncode == 1
    dump = tbdump.load(workdir / "traceback.pkl")
    raised = dump.exception_object()
    assert type(raised).__name__ == "Refused" and raised.args == ("no ada",)
    cause = dump.exception_object(dump.exception.cause)
    assert repr(cause) == "KeyError('ada')"
    assert raised.__cause__ is cause and raised.__context__ is cause and raised.__suppress_context__


# Opens the dump of viewers/programs/lazy_cause.py, whose cause comes back as a lazy proxy.
LOAD_LAZY_CAUSE = """\
import os, tbdump
dump = tbdump.load('traceback.pkl')
raised = dump.exception_object()
cause = dump.exception_object(dump.exception.cause)
print(type(raised).__name__, type(cause).__name__, raised.__cause__, raised.__context__)
print([vars(cause).get(name, 'unset') for name in ('__cause__', '__context__', '__suppress_context__')])
print('fetched' if os.path.exists('fetched') else 'nothing fetched')
"""


@pytest.mark.parametrize("proxy, links", [("lazy", "[None, None, False]"), ("writing", "['unset', 'unset', 'unset']")],
                         ids=["lazy", "writing"])
def test_a_chain_s_object_that_is_no_exception_is_linked_as_one_without_running_its_code(
        workdir: Path, proxy: str, links: str) -> None:
    # The cause's pickle (its class's __reduce__) makes a lazy proxy, whose __class__ property
    # fetches what it stands for: linking the chain asked isinstance(), which reads __class__,
    # so exception_object() raised the proxy's ConnectionError where the dump was opened.
    # "writing": the proxy's __setattr__ sets the attribute on what it stands for, fetching it
    # (lazy-object-proxy's, rpyc's): linking set the proxy's links through it.
    programs = Path(__file__).resolve().parents[1] / "viewers" / "programs"
    for name in ("lazy_cause.py", "lazyproxy.py"):
        write(workdir / name, (programs / name).read_text())
    assert "RuntimeError: report failed" in run([PYTHON, "-m", "tbdump", "lazy_cause.py", proxy], workdir).stderr
    loaded = run([PYTHON, "-c", LOAD_LAZY_CAUSE], workdir)
    # A real exception holds only exceptions: its links to the proxy stay None.  The proxy, no
    # exception, takes its own as attributes, as every object that is none does, unless its
    # class sets attributes its own way.
    assert loaded.stdout == "RuntimeError %s None None\n%s\nnothing fetched\n" % (proxy.capitalize(), links), loaded


def test_an_exception_is_at_hand_only_with_its_chain(workdir: Path) -> None:
    """dump.restored(value) says whether dump.resolve(value) answers at once (a viewer resolves
    in the background what it does not): an exception is handed out linked to its chain, so it
    is at hand only once the chain's other exceptions are restored too."""
    dump = crash(workdir, """
        def fetch(host):
            conn = [host, 5432]
            raise ConnectionError("%s is gone" % host)
        def load(host):
            try:
                fetch(host)
            except ConnectionError as exc:
                raise RuntimeError("cannot load from %s" % host) from exc
        load("db.internal")
    """)
    raised, cause = dump.exception.value, dump.exceptions[dump.exception.cause].value
    assert raised is not None and cause is not None and raised.ref is not None and cause.ref is not None
    # The object layer holds the raised error before the cause's frames, the cause after them.
    conn = dump.exceptions[dump.exception.cause].frames[-1].variables["conn"]
    assert conn.ref is not None and raised.ref < conn.ref < cause.ref
    assert dump.resolve(conn) == ["db.internal", 5432]
    assert not dump.restored(raised)   # restored itself, but not its cause
    assert repr(dump.resolve(raised).__cause__) == "ConnectionError('db.internal is gone')"
    assert dump.restored(raised) and dump.restored(cause)


def test_a_weak_proxy_whose_referent_died_on_restoring_reads_again(workdir: Path) -> None:
    # The refused dict's record ends the memo the proxy's referent lived in: once the module's
    # KEPT is restored (from a fresh memo), the proxy is dead, and reading the frame's locals
    # again raised ReferenceError (isinstance() read its __class__ to tell an exception).
    source = (Path(__file__).resolve().parents[1] / "dap" / "programs" / "dead_proxy.py").read_text()
    write(workdir / "prog.py", source)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    dump = tbdump.load(workdir / "traceback.pkl")
    assert type(dump.frames[-1].locals["proxy"]) is weakref.ProxyType
    assert type(dump.frames[0].locals["KEPT"][0]).__name__ == "Kept"
    assert type(dump.frames[-1].locals["proxy"]) is weakref.ProxyType


def test_a_value_answering_none_for_every_name_says_why_it_is_not_captured(workdir: Path) -> None:
    # Its reason said "TypeError: issubclass() arg 1 must be a class": the capture asked
    # isinstance(value, os._Environ), whose ABC check read the value's __class__, None.
    dump = crash(workdir, """
        class Refuses:
            def __getattribute__(self, name):
                return None
        def work():
            refused = Refuses()
            kept = [1, 2]
            raise ValueError("crashed")
        work()
    """)
    refused = dump.frames[-1].locals["refused"]
    assert type(refused) is tbdump.Placeholder and refused.type == "Refuses"
    assert refused.reason == "not captured: PicklingError: its __reduce_ex__ is None, not a method"
    assert dump.frames[-1].locals["kept"] == [1, 2]


def test_explicit_cause_chain(workdir: Path) -> None:
    dump = crash(workdir, """
        def inner():
            raise ValueError("low")
        def outer():
            try:
                inner()
            except ValueError as e:
                raise RuntimeError("high") from e
        outer()
    """)
    cause = dump.exceptions[dump.exception.cause]
    assert (cause.type, cause.message) == ("ValueError", "low")
    assert [f.name for f in cause.frames] == ["outer", "inner"]
    assert "The above exception was the direct cause" in dump.traceback_text


def test_long_and_cyclic_chains(workdir: Path) -> None:
    dump = crash(workdir, """
        err = None
        for i in range(1000):
            try:
                raise ValueError(i) from err
            except ValueError as e:
                err = e
        a, b = KeyError("a"), KeyError("b")
        a.__context__, b.__context__ = b, a
        err.__context__ = a   # the chain ends in a cycle
        raise RuntimeError("end") from err
    """)
    seen, index = 0, dump.exception.cause
    while index is not None:
        seen += 1
        index = dump.exceptions[index].cause
    assert seen == 1000
    # Each exception of the cycle is held once, linked to the other as the live ones are.
    a = dump.exceptions[dump.exception.cause].context
    assert a is not None and dump.exceptions[a].message == "'a'"
    b = dump.exceptions[a].context
    assert b is not None and dump.exceptions[b].message == "'b'" and dump.exceptions[b].context == a
    assert [e.type for e in dump.exceptions].count("KeyError") == 2


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is 3.11+")
def test_exception_groups_recursive(workdir: Path) -> None:
    dump = crash(workdir, """
        def fail(n):
            raise ValueError(n)
        errors = []
        for n in range(2):
            try:
                fail(n)
            except ValueError as e:
                errors.append(e)
        raise ExceptionGroup("outer", [ExceptionGroup("inner", errors), TypeError("t")])
    """)
    root = dump.exception
    assert root.is_group and root.type == "ExceptionGroup"
    members = [dump.exceptions[m] for m in root.members]
    assert [m.type for m in members] == ["ExceptionGroup", "TypeError"]
    inner = [dump.exceptions[m] for m in members[0].members]
    assert [(e.message, e.frames[-1].name) for e in inner] == [("0", "fail"), ("1", "fail")]


def test_frames_positions_cells_and_globals(workdir: Path) -> None:
    dump = crash(workdir, """
        import os
        LIMIT = 3
        class Box:
            def __init__(self):
                self.items = [1, 2]
            def check(self, n):
                factor = 10
                def scaled():
                    return n * factor / (n - n)
                return scaled()
        Box().check(LIMIT)
    """)
    frames = dump.frames
    assert [f.name for f in frames] == ["<module>", "check", "scaled"]
    check, scaled = frames[1], frames[2]
    assert set(check.variables) >= {"self", "n", "factor", "scaled"}
    assert scaled.locals == {"n": 3, "factor": 10}
    if sys.version_info >= (3, 11):
        assert check.qualname == "Box.check" and scaled.qualname == "Box.check.<locals>.scaled"
        line = dump.sources[scaled.filename].text.splitlines()[scaled.lineno - 1]
        pos = scaled.position
        assert pos is not None and pos.lineno == scaled.lineno == 9
        assert line[pos.col:pos.end_col] == "n * factor / (n - n)"
    g = dump.globals_of(check)
    assert "__builtins__" not in g and g["LIMIT"].repr == "3"
    assert g["os"].type == "module" and check.globals["os"] is __import__("os")
    assert check.locals["self"].items == [1, 2]
    assert type(check.locals["self"]).__name__ == "Box"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="positions are 3.11's")
def test_positions_count_characters_on_every_line_of_a_file_beyond_ascii(workdir: Path) -> None:
    """co_positions count UTF-8 bytes; a frame's position counts the characters of its line, on a
    line beyond ASCII and on an ASCII line of a file that has such lines (guards what worked)."""
    dump = crash(workdir, """
        # Ünïcödé only here and on the lines that crash: the file is not ASCII
        def inner(d):
            return d["ключ"] + d["missing"]
        def outer():
            étiquette = {"ключ": 1}; return inner(étiquette)
        pad = 0; outer()
    """)
    lines = dump.sources[dump.frames[0].filename].text.splitlines()
    marked = [lines[f.lineno - 1][f.position.col:f.position.end_col] for f in dump.frames if f.position]
    assert marked == ["outer()", "inner(étiquette)", 'd["missing"]']


@pytest.mark.skipif(sys.version_info < (3, 11), reason="positions are 3.11's")
def test_a_position_past_the_end_of_a_line_rewritten_since_ends_at_the_line_end(workdir: Path) -> None:
    """A module rewritten on disk after it was imported: its crashing line's columns, of the code that
    ran, reach past the shorter line the dump keeps; they stop at its end (guards what worked)."""
    write(workdir / "helper.py", """
        def fail(values):
            return values["a key that is not there, on a long line"]
    """)
    dump = crash(workdir, """
        import helper
        with open(helper.__file__, "w") as out:
            out.write("def fail(values):\\n    return 0\\n")
        helper.fail({})
    """)
    inner = dump.frames[-1]
    line = dump.sources[inner.filename].text.splitlines()[inner.lineno - 1]
    assert line == "    return 0" and inner.position is not None
    assert (inner.position.col, inner.position.end_col) == (11, len(line))


def test_a_value_whose_repr_raises_anything_is_previewed_as_such_and_still_comes_back(workdir: Path) -> None:
    """A broken __repr__ costs its preview alone, whatever it raises (SystemExit and Ctrl-C's
    KeyboardInterrupt too): the value itself is captured."""
    dump = crash(workdir, """
        class Broken:
            def __init__(self, error):
                self.error = error
            def __repr__(self):
                raise self.error
        def work():
            value = Broken(ValueError("no repr"))
            exits = Broken(SystemExit(4))
            stops = Broken(KeyboardInterrupt())
            raise RuntimeError("stop")
        work()
    """)
    frame = dump.frames[-1]
    shown = {name: (v.repr, v.missing) for name, v in frame.variables.items()}
    assert shown == {"value": ("<repr failed: ValueError: no repr>", None),
                     "exits": ("<repr failed: SystemExit: 4>", None),
                     "stops": ("<repr failed: KeyboardInterrupt>", None)}
    assert {name: type(value.error).__name__ for name, value in frame.locals.items()} == {
        "value": "ValueError", "exits": "SystemExit", "stops": "KeyboardInterrupt"}
    assert not dump.metadata.partial, dump.metadata.cut
    report = run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], workdir).stdout
    assert "    exits = <repr failed: SystemExit: 4> (Broken)\n" in report, report


def test_identity_across_frames(workdir: Path) -> None:
    dump = crash(workdir, """
        def leaf(shared, other):
            raise RuntimeError("x")
        def top():
            shared = {"k": [1, 2, 3]}
            leaf(shared, shared["k"])
        top()
    """)
    top, leaf = dump.frames[-2], dump.frames[-1]
    assert top.locals["shared"] is leaf.locals["shared"]
    assert leaf.locals["other"] is leaf.locals["shared"]["k"]


def test_an_object_in_many_frames_is_previewed_once(workdir: Path) -> None:
    # A thread's ``self`` is in threading's three bootstrap frames, in every thread's stack.
    write(workdir / "prog.py", """
        import atexit
        asked = []
        atexit.register(lambda: print(len(asked)))
        class Session:
            def __repr__(self):
                asked.append(1)
                return "Session()"
        def inner(session):
            raise RuntimeError("x")
        def middle(session):
            inner(session)
        def outer():
            session = Session()
            middle(session)
        outer()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.stdout == "1\n", proc.stderr
    dump = tbdump.load(workdir / "traceback.pkl")
    sessions = [f.variables["session"] for f in dump.frames[-3:]]
    assert [v.repr for v in sessions] == ["Session()"] * 3
    assert len({v.ref for v in sessions}) == 1
    assert dump.frames[-1].locals["session"] is dump.frames[-3].locals["session"]


def test_a_big_plain_value_loads_by_itself_and_identity_still_holds(workdir: Path) -> None:
    crash(workdir, """
        def leaf(blob, numbers, seen):
            raise RuntimeError("x")
        def top():
            blob = bytes(60_000_000)                  # 60 MB, recorded before the list
            numbers = list(range(200_000))            # 8 MB in memory
            seen = {"again": numbers}                 # the list met again: a reference
            leaf(blob, numbers, seen["again"])
        top()
    """)
    # In a fresh process: reading the list first must not read the 40 MB blob before it.
    proc = run([PYTHON, "-c", """if 1:
        import tracemalloc, tbdump
        dump = tbdump.load("traceback.pkl")
        top, leaf = dump.frames[-2], dump.frames[-1]
        tracemalloc.start()
        numbers = dump.resolve(leaf.variables["numbers"])  # one value, as a viewer asks
        print(tracemalloc.get_traced_memory()[1] // 1_000_000)
        tracemalloc.stop()
        print(len(numbers), numbers[-1], len(top.locals["blob"]))
        print(numbers is top.locals["numbers"] is top.locals["seen"]["again"] is leaf.locals["seen"])
    """], workdir)
    peak_mb, sizes, same = proc.stdout.split("\n")[:3]
    assert int(peak_mb) < 30, "reading the list read the blob too: %s MB" % peak_mb
    assert sizes == "200000 199999 60000000"
    assert same == "True", "the list read by itself is the one the other values refer to"


def test_unpicklable_parts_become_placeholders_at_the_finest_level(workdir: Path) -> None:
    dump = crash(workdir, """
        import threading, socket
        class Service:
            def __init__(self):
                self.lock = threading.Lock()
                self.name = "svc"
                self.sock = socket.socket()
        def gen():
            yield 1
        svc = Service()
        g = gen()
        fn = lambda v: v + 1
        raise RuntimeError(fn(1))
    """)
    loc = dump.frames[-1].locals
    svc = loc["svc"]
    assert type(svc).__name__ == "Service" and svc.name == "svc"
    assert isinstance(svc.lock, tbdump.Placeholder) and "lock" in svc.lock.type
    assert isinstance(svc.sock, tbdump.Placeholder) and "cannot pickle" in svc.sock.reason
    assert isinstance(loc["g"], tbdump.Placeholder) and loc["g"].type == "generator"
    assert loc["fn"](41) == 42
    assert dump.frames[-1].variables["g"].repr.startswith("<generator object gen")


def test_objects_built_on_locks_keep_working(workdir: Path) -> None:
    """No lock can be pickled; a stand-in takes its place so that what is built on one
    (a Future, a Queue, a Condition) still answers its methods in a viewer."""
    dump = crash(workdir, """
        import concurrent.futures, queue, threading
        future = concurrent.futures.Future()
        future.set_result(42)
        jobs = queue.Queue()
        jobs.put("a")
        jobs.put("b")
        held = threading.Lock()
        held.acquire()
        ready = threading.Condition(threading.RLock())
        raise RuntimeError("stop")
    """)
    loc = dump.frames[-1].locals
    assert loc["future"].result() == 42 and "state=finished returned int" in repr(loc["future"])
    assert loc["jobs"].qsize() == 2 and loc["jobs"].get() == "a"
    assert isinstance(loc["held"], tbdump.Placeholder) and loc["held"].locked()
    assert not loc["jobs"].mutex.locked()
    with loc["ready"]:
        assert loc["ready"].notify_all() is None


def test_lazy_loading_and_safe_mode(workdir: Path) -> None:
    marker = workdir / "unpickled.marker"
    dump = crash(workdir, f"""
        import pathlib
        class Trap:
            def __reduce__(self):
                return (pathlib.Path.touch, (pathlib.Path({str(marker)!r}),))
        trap = Trap()
        raise RuntimeError("boom")
    """)
    assert dump.frames[-1].variables["trap"].type == "Trap"
    assert not marker.exists(), "tbdump.load must not unpickle before a value is asked for"
    safe = tbdump.load(workdir / "traceback.pkl", objects=False)
    value = safe.frames[-1].locals["trap"]
    assert isinstance(value, tbdump.Placeholder) and "safe mode" in value.reason
    assert not marker.exists()
    dump.frames[-1].locals
    assert marker.exists(), "asking for a value loads the object layer"


def test_values_that_cannot_be_restored_here_become_placeholders(workdir: Path) -> None:
    (workdir / "helper_mod.py").write_text("class Remote:\n    def __init__(self):\n        self.v = 1\n")
    dump_dir = workdir / "app"
    dump_dir.mkdir()
    write(dump_dir / "prog.py", """
        import sys
        sys.path.insert(0, '..')
        import helper_mod
        class Fragile:
            def __init__(self):
                self.data = 1
            def __setstate__(self, state):
                raise ValueError("state changed")
        remote = helper_mod.Remote()
        fragile = Fragile()
        plain = [1, 2, 3]
        raise RuntimeError("x")
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], dump_dir)
    (workdir / "helper_mod.py").unlink()  # the module is not importable where the dump is opened
    proc = run([PYTHON, "-c", """
import tbdump
d = tbdump.load('traceback.pkl')
loc = d.frames[-1].locals
print(type(loc['remote']).__name__, loc['remote'].v)
print(type(loc['fragile']).__name__, loc['fragile'].reason)
print(loc['plain'])
"""], dump_dir)
    lines = proc.stdout.splitlines()
    assert lines[0] == "Remote 1", proc.stderr
    assert lines[1].startswith("Placeholder not restored: ValueError: state changed")
    assert lines[2] == "[1, 2, 3]"


def test_what_pickle_or_dill_keep_comes_back(workdir: Path) -> None:
    """Values plain pickle or dill restore come back from a dump too, in a fresh process:
    a copyreg reducer (every compiled pattern), a buffer's content, a __main__ lru_cache
    function, and the types only dill saves; an object's __getattr__ does not stop its state."""
    write(workdir / "prog.py", """
        import copyreg, functools, io, re, socket, tempfile, types, weakref
        class Reg:
            def __init__(self, v):
                self.v = v
            def __reduce_ex__(self, protocol):
                raise TypeError("use copyreg")
        copyreg.pickle(Reg, lambda r: (Reg, (r.v,)))
        @functools.lru_cache(maxsize=8)
        def cached(n):
            return n * 2
        class Node:
            pass
        node = Node()
        class Impostor:
            __module__ = "json"
            def __reduce__(self):
                return "dumps"   # a global of that name, but another object
        class Box:
            @property
            def size(self):
                return 3
        def victim():
            pattern = re.compile(r"(\\w+) (\\d+)", re.I)
            reg = Reg(42)
            text = io.StringIO()
            text.write("hello world")
            text.seek(2)
            data = io.BytesIO(b"abc")
            proxy = types.MappingProxyType({"a": 1})
            prop = Box.__dict__["size"]
            ref = weakref.ref(node)
            dead = weakref.ref(Node())
            cache = weakref.WeakValueDictionary({"n": node})
            keys = {"k": 1}.keys()
            tmp = tempfile.NamedTemporaryFile(dir=".")
            sock = socket.socket()
            fn = cached
            impostor = {"kept": 1, "bad": Impostor()}
            raise RuntimeError("stop")
        victim()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    proc = run([PYTHON, "-c", """
import tbdump
frame = tbdump.load('traceback.pkl').frames[-1]
loc = frame.locals
print(loc['pattern'].match('Hello 42').groups(), bool(loc['pattern'].flags & 2))
print(loc['reg'].v, loc['text'].getvalue(), loc['text'].tell(), loc['data'].getvalue())
print(type(loc['proxy']).__name__, loc['proxy']['a'], type(loc['prop']).__name__, loc['prop'].fget(None))
print(loc['ref']() is frame.globals['node'] is loc['cache']['n'], loc['dead']() is None, list(loc['keys']), loc['fn'](3), type(loc['fn']).__name__)
print(type(loc['tmp']).__name__, type(loc['tmp'].file).__name__, loc['tmp'].name.endswith(frame.variables['tmp'].repr[-1:] or ''))
print(frame.variables['sock'].missing, loc['impostor']['kept'], loc['impostor']['bad'].reason)
print(type(loc['sock']).__name__, frame.variables['sock'].repr.startswith('<socket.socket'))
import gc, os
name = loc['tmp'].name
open(name, 'w').close()
del loc, frame
gc.collect()
print(os.path.exists(name))
"""], workdir)
    lines = proc.stdout.splitlines()
    assert lines[:4] == ["('Hello', '42') True", "42 hello world 2 b'abc'", "mappingproxy 1 property 3",
                         "True True ['k'] 6 _lru_cache_wrapper"], proc.stderr
    assert lines[4].startswith("_TemporaryFileWrapper Placeholder"), proc.stderr
    # What could not be pickled says so where the safe layer shows it, not only once loaded.
    assert lines[5].startswith("not captured: ") and "socket" in lines[5], lines
    # One value pickle refuses costs only itself, not the dict around it.
    assert lines[5].endswith(" 1 not captured: PicklingError: its __reduce__ names json.dumps, "
                             "which is another object"), lines
    assert lines[6] == "Placeholder True"
    # Collecting it here deletes nothing: a file of its name here is not the program's.
    assert lines[7] == "True", lines


def test_a_class_of_the_script_that_holds_its_own_instances_comes_back(workdir: Path) -> None:
    """A singleton or a registry: dill could only name the class in __main__ from inside
    itself, where no other process finds it, so the class and its instances lost their methods."""
    write(workdir / "prog.py", """
        import abc
        class Single:
            _instance = None
            @classmethod
            def get(cls):
                if cls._instance is None:
                    cls._instance = cls()
                return cls._instance
            def ping(self):
                return "pong"
        class Plugin(abc.ABC):
            registry = []
            __slots__ = ("name",)
            def __init__(self, name):
                self.name = name
                Plugin.registry.append(self)
            def hello(self):
                return "hi " + self.name
        def make():
            class Local:
                pass
            return Local
        def serve():
            single = Single.get()
            plugin = Plugin("a")
            local = make()
            raise RuntimeError("stop")
        serve()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    proc = run([PYTHON, "-c", """
import tbdump
loc = tbdump.load('traceback.pkl').frames[-1].locals
single, plugin = loc['single'], loc['plugin']
print(single.ping(), type(single).get().ping(), type(type(single)._instance).__name__)
print(plugin.hello(), [p.hello() for p in type(plugin).registry], type(plugin).__slots__)
print(loc['local'].__qualname__, loc['local'].__module__)
"""], workdir)
    assert proc.stdout.splitlines() == ["pong pong Single", "hi a ['hi a'] ('name',)",
                                        "make.<locals>.Local __main__"], proc.stderr


def test_a_class_of_the_script_that_defines_its_instances_class_comes_back(workdir: Path) -> None:
    """A lazy object's class says what it stands for with a ``__class__`` property (as Django's
    SimpleLazyObject and wrapt's proxies do), another says ``__class__ = Account``.  Restoring
    such a class set that attribute on it, which changes the class's own class: "not restored:
    dill could not rebuild it (TypeError: __class__ must be set to a class, not 'property'
    object)", and every instance and function of the script holding it lost.  The property's
    code names its class and holds it (super()'s cell): the class is still made once, its base's
    __init_subclass__ not run again (the registry names it once, as in the crash), and the
    property runs where the dump is opened only when asked."""
    write(workdir / "prog.py", """
        import os

        class Registry:
            made = []
            def __init_subclass__(cls, **kwargs):
                super().__init_subclass__(**kwargs)
                Registry.made.append(cls.__name__)

        class Account(Registry):
            def __init__(self, owner):
                self.owner = owner

        def fetch():
            return Account("ann")

        class LazyUser(Registry):
            def __init__(self, factory):
                self._factory, self._wrapped = factory, None
            @property
            def __class__(self):
                with open("asked", "a") as f:
                    f.write("%d\\n" % os.getpid())
                if self._wrapped is None:
                    self._wrapped = self._factory()
                return LazyUser if self._wrapped is self else type(self._wrapped)
            def greet(self):
                return "hi " + super().__getattribute__("_wrapped").owner

        class Badge:
            __class__ = Account

        def serve():
            user = LazyUser(fetch)
            user.__class__
            badge = Badge()
            raise RuntimeError("stop")

        serve()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    proc = run([PYTHON, "-c", """
import os, tbdump
def asked():
    with open('asked') as f:
        return f.read().split().count(str(os.getpid()))
loc = tbdump.load('traceback.pkl').frames[-1].locals
user, badge = loc['user'], loc['badge']
print(type(user).__name__, user.greet(), type(user).__mro__[1].made.count('LazyUser'), asked())
print(user.__class__.__name__, asked(), isinstance(user, type(user._wrapped)))
print(type(badge).__name__, badge.__class__.__name__, badge.__class__('bob').owner)
"""], workdir)
    assert proc.stdout.splitlines() == ["LazyUser hi ann 1 0", "Account 1 True", "Badge Account bob"], proc.stderr


def test_capture_asks_a_lazy_object_its_class_at_most_twice(workdir: Path) -> None:
    """A lazy object's ``__class__`` property (rpyc's netrefs make a network round trip for it)
    names the class of what it stands for.  Capture asked it fifty times and more for each one
    (isinstance of every kind a preview or a repr tells apart asks it again for each class): now
    at most twice, a local's, an item's, an attribute's (its type, and dir() or the repr around
    it, which read it themselves).  What it shows is still debugpy's: the class it says, and a
    lazy dict its items."""
    write(workdir / "prog.py", """
        class Account:
            def __init__(self, owner):
                self.owner = owner

        class Lazy:
            def __init__(self, name, wrapped):
                self.__dict__.update(_name=name, _wrapped=wrapped)
            @property
            def __class__(self):
                with open("asked", "a") as f:
                    f.write(self._name + "\\n")
                return type(self._wrapped)
            def __getattr__(self, name):
                return getattr(self._wrapped, name)

        class Request:
            def __init__(self, user):
                self.user = user

        def serve():
            user = Lazy("local", Account("ann"))
            held = [Lazy("item", Account("bob"))]
            request = Request(Lazy("attribute", Account("cy")))
            record = Lazy("record", {"id": 7})
            open("asked", "w").close()
            raise PermissionError("stop")

        serve()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert "Traceback dumped into" in proc.stderr, proc.stderr
    asked = (workdir / "asked").read_text().split()
    counts = {name: asked.count(name) for name in ("local", "item", "attribute", "record")}
    assert all(1 <= n <= 2 for n in counts.values()), counts
    shown = tbdump.load(workdir / "traceback.pkl", objects=False).frames[-1].variables
    assert (shown["user"].type, shown["held"].children[0].value.type,
            shown["request"].child(".user").type) == ("Account", "Account", "Account")
    assert shown["record"].type == "dict" and shown["record"].child("['id']").repr == "7"


def test_a_function_of_the_script_holding_a_lazy_object_comes_back(workdir: Path) -> None:
    """A function of the script is pickled with the globals it uses, among them a lazy user
    whose ``__class__`` names what it stands for.  pickle refuses to make an object whose
    ``__class__`` is not its class ("args[0] from __newobj__ args has the wrong class"): the
    function was "not captured", and so was a class holding an instance of itself."""
    write(workdir / "prog.py", """
        class User:
            name = "ann"

        class LazyUser:
            def __init__(self, factory):
                self._factory = factory
            @property
            def __class__(self):
                return User

        class Badge:
            __class__ = User

        Badge.DEFAULT = Badge()
        current_user = LazyUser(User)

        def handler():
            return [Badge, current_user._factory.name] + 1

        def serve(view):
            view()

        serve(handler)
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    proc = run([PYTHON, "-c", """
import tbdump
view = tbdump.load('traceback.pkl').frames[-2].locals['view']
user = view.__globals__['current_user']
print(view.__name__, type(user).__name__, user.__class__.__name__, user._factory.name)
badge = view.__globals__['Badge'].DEFAULT
print(type(badge).__name__, badge.__class__.__name__)
"""], workdir)
    assert proc.stdout.splitlines() == ["handler LazyUser User ann", "Badge User"], proc.stderr


def test_enums_and_exceptions_of_the_program_come_back_and_so_does_all_after_them(workdir: Path) -> None:
    # dill cannot rebuild an Enum class of __main__ on 3.11+, and an exception class with its own
    # __init__ arguments cannot be rebuilt as cls(*args): each used to take the values after it along.
    write(workdir / "prog.py", """
        import enum

        class Color(enum.Enum):
            RED = 1
            GREEN = 2
            VERDE = 2

        class Mode(str, enum.Enum):
            FAST = "fast"

        class Perm(enum.IntFlag):
            R = 4
            W = 2

        class HttpError(Exception):
            def __init__(self, status, body):
                super().__init__("HTTP %d" % status)
                self.status, self.body = status, body

        def handle(color, mode, perm):
            after = {"still": "here"}
            raise HttpError(404, {"detail": "nope"})

        handle(Color.GREEN, Mode.FAST, Perm.R | Perm.W)
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    proc = run([PYTHON, "-c", """
import tbdump
d = tbdump.load('traceback.pkl')
loc, glob = d.frames[-1].locals, d.frames[-1].globals
print(loc['color'], loc['color'] is glob['Color'].VERDE, [m.name for m in glob['Color']])
print(repr(loc['mode']), loc['mode'] == 'fast', int(loc['perm']))
err = d.resolve(d.exception.value)
print(loc['after'], type(err).__name__, err.args, err.status, err.body)
"""], workdir)
    lines = proc.stdout.splitlines()
    assert lines[0] == "Color.GREEN True ['RED', 'GREEN']", proc.stderr
    assert lines[1] == "<Mode.FAST: 'fast'> True 6", proc.stderr
    assert lines[2] == "{'still': 'here'} HttpError ('HTTP 404',) 404 {'detail': 'nope'}", proc.stderr


def test_sources_and_metadata(workdir: Path) -> None:
    dump = crash(workdir, "import json\njson.loads('{')\n", "arg1")
    src = dump.sources[dump.frames[0].filename]
    assert src.text == "import json\njson.loads('{')\n" and src.sha256
    meta = dump.metadata
    assert meta.argv == ["prog.py", "arg1"] and meta.version_info[:2] == list(sys.version_info[:2])
    assert meta.implementation == "CPython" and meta.pid > 0 and meta.time.endswith("+00:00")
    assert meta.cwd == str(workdir) and meta.executable and meta.tbdump_version == tbdump.__version__
    assert [f.library for f in dump.frames][:1] == [False] and dump.frames[-1].library
    assert dump.exception.type == "json.decoder.JSONDecodeError"


def test_texts_beyond_ascii_and_a_lone_surrogate_come_back_as_they_were(workdir: Path) -> None:
    # The safe layer's JSON holds texts as UTF-8; a lone surrogate (a file name's undecodable
    # byte) has no UTF-8 form, and its member is written escaped instead.
    dump = crash(workdir, """
        # café 雪
        def open_city(city):
            raise ValueError("no file \\udcff.csv for " + city)
        open_city("Zürich 雪")
    """)
    assert dump.exception.message == "no file \udcff.csv for Zürich 雪"
    assert dump.frames[-1].variables["city"].repr == "'Zürich 雪'"
    assert "# café 雪\n" in dump.sources[dump.frames[-1].filename].text
    assert dump.frames[-1].locals["city"] == "Zürich 雪"


@pytest.mark.parametrize("argv, shown", [
    ("[pathlib.Path('prog.py'), b'--token=abc123', 3, 2.5, object(), Word('plain')]",
     ["prog.py", "--token=<redacted>", "3", "2.5", "<object>", "plain"]),
    ("None", []),
])
def test_an_argv_or_executable_the_program_changed_to_non_texts_is_still_a_dump(
        workdir: Path, argv: str, shown: List[str]) -> None:
    # The metadata holds texts: a Path or bytes in sys.argv, or None for sys.executable, made
    # no dump at all ("failed to dump traceback (TypeError: ...)").
    dump = crash(workdir, """
        import pathlib, sys
        class Word(str):
            def __str__(self):
                raise RuntimeError("the program's own __str__ is not called")
        sys.argv = %s
        sys.executable = None
        raise ValueError("boom")
    """ % argv)
    assert (dump.exception.type, dump.metadata.argv, dump.metadata.executable) == ("ValueError", shown, "")


def test_metadata_names_the_versions_of_library_distributions(workdir: Path) -> None:
    import dill
    # json (stdlib) calls dill (a distribution) back, which fails.
    dump = crash(workdir, "import dill, json\njson.loads('{\"a\": 1}', object_hook=dill.loads)\n")
    assert {f.module.partition(".")[0] for f in dump.frames if f.library} == {"json", "dill"}
    assert dump.metadata.packages.get("dill") == dill.__version__
    assert "json" not in dump.metadata.packages  # stdlib: the Python version says it


def test_a_sys_path_entry_imports_skip_does_not_cost_the_capture(workdir: Path) -> None:
    # A bytes entry made the search for distributions' versions fail, and with it the whole
    # capture: a dump of the exception and its lines only.
    import dill
    dump = crash(workdir, """
        import pathlib, sys
        sys.path[:0] = [pathlib.Path("."), b".", None]
        import dill
        dill.loads(b"x")
    """)
    assert not dump.metadata.partial, dump.metadata.cut
    assert dump.metadata.packages.get("dill") == dill.__version__


def test_loading_has_no_side_effects(workdir: Path) -> None:
    out = workdir / "out.txt"
    dump_path = workdir / "traceback.pkl"
    crash(workdir, f"""
        log = open({str(out)!r}, "w")
        log.write("precious")
        log.flush()
        reader = open({str(out)!r}, "rb")
        raise RuntimeError("x")
    """)
    out.write_text("precious")
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in workdir.iterdir())
    proc = run([PYTHON, "-c", f"import tbdump; d = tbdump.load({str(dump_path)!r}); print(d.frames[-1].locals)"],
               workdir / "..")
    assert proc.returncode == 0, proc.stderr
    assert "not captured" in proc.stdout
    after = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in workdir.iterdir())
    assert before == after and out.read_text() == "precious"


def test_set_excepthook_takes_redaction_and_budgets_from_code(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import os
        import tbdump
        from tbdump.budget import Budgets
        from tbdump.redaction import Redaction
        tbdump.set_excepthook(redaction=Redaction.from_env(add=["account_no"]),
                              budgets=Budgets.from_env(preview_items=3))
        def charge(account_no, items):
            raise RuntimeError("declined")
        charge(os.environ["ACCOUNT"], list(range(10)))
    """)
    run([PYTHON, "prog.py"], workdir, env={"ACCOUNT": "DE00-1234"})  # a secret comes from outside
    frame = tbdump.load(workdir / "traceback.pkl").frames[-1]
    assert frame.variables["account_no"].redacted == "name matches 'accountno'"
    reader = ContainerReader(str(workdir / "traceback.pkl"))
    assert all(b"DE00-1234" not in reader.read(name) for name in reader.manifest["members"])
    reader.close()
    items = frame.variables["items"]
    assert len(items.children or []) == 3 and items.more == 7
    assert frame.locals["items"] == list(range(10))



def test_previews_hold_what_the_documented_budgets_say(workdir: Path) -> None:
    """README's Configuration: TBDUMP_PREVIEW_DEPTH / _ITEMS / _INNER_ITEMS / TBDUMP_MAX_STRING
    default to 2 / 20 / 10 / 4096 (what tblsp's hovers and every safe-mode view show), and each
    variable changes its own; the object layer keeps the whole value."""
    source = """
        items = list(range(200))
        rows = [list(range(50)), [list(range(50))]]
        text = "ab" * 5000
        class Long:
            def __repr__(self):
                return "<" + "x" * 9998 + ">"
        long = Long()
        raise ValueError("previews")
    """
    for env, (top, inner, depth, characters) in [
            ({}, (20, 10, 2, 4096)),
            ({"TBDUMP_PREVIEW_ITEMS": "5", "TBDUMP_PREVIEW_INNER_ITEMS": "3", "TBDUMP_PREVIEW_DEPTH": "3",
              "TBDUMP_MAX_STRING": "100"}, (5, 3, 3, 100))]:
        write(workdir / "prog.py", source)
        run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env=env)
        dump = tbdump.load(workdir / "traceback.pkl")
        values = dump.frames[-1].variables
        assert values["items"].more == 200 - top, env
        first, nested = (child.value for child in values["rows"].children[:2])
        assert first.more == 50 - inner, env
        below = nested.children[0].value          # the third level: previewed only from depth 3
        assert (below.children is not None) == (depth >= 3), env
        # A string's preview, and any repr's: its two ends, "..." between (and a string's quotes).
        for name, start, end in (("text", "'abab", "abab'"), ("long", "<xx", "xx>")):
            shown = values[name].repr
            assert characters <= len(shown) <= characters + 3, (env, name, len(shown))
            assert shown.startswith(start) and "..." in shown and shown.endswith(end), (env, name)
        assert dump.frames[-1].locals["text"] == "ab" * 5000


def test_the_program_s_other_threads_keep_their_sys_stdout_during_capture(workdir: Path) -> None:
    """dill read the globals of each function it pickles from dis output printed into a
    StringIO it set as sys.stdout: what the program's other threads printed meanwhile
    went there, and was lost."""
    write(workdir / "prog.py", """
        import atexit, sys, threading
        sys.setswitchinterval(1e-6)   # switch threads often: a swap of any length is seen
        original, seen, done = sys.stdout, [], threading.Event()
        def watch():
            while not done.is_set():
                if sys.stdout is not original:
                    seen.append(type(sys.stdout).__name__)
        threading.Thread(target=watch, daemon=True).start()
        exec("\\n".join("def f%d(x):\\n    return len(str(x)) + sum(range(x))" % i for i in range(40)))
        def crash():
            functions = [globals()["f%d" % i] for i in range(40)]   # __main__'s: pickled by dill
            raise RuntimeError("stop")
        atexit.register(lambda: (done.set(), print("replaced by %s" % set(seen) if seen else "kept",
                                                   file=sys.stderr)))
        crash()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.stderr.splitlines()[-1] == "kept", proc.stderr
    functions = tbdump.load(workdir / "traceback.pkl").frames[-1].locals["functions"]
    assert [f(3) for f in functions[:2]] == [4, 4]



def test_a_script_function_comes_back_with_every_global_its_code_names(workdir: Path) -> None:
    """The globals a __main__ function's code names, read from its code units: with
    hundreds of globals about (an index past 255 takes EXTENDED_ARG), a nested function's
    too, the function pickled by value runs after loading as it ran in the program."""
    write(workdir / "prog.py", """
        exec("\\n".join("g%d = %d" % (i, i) for i in range(400)))
        def use():
            global counter
            counter = g399 + g0
            def inner():
                return g398
            return counter + inner()
        def crash():
            fn = use
            raise RuntimeError("stop")
        crash()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    proc = run([PYTHON, "-c", "import tbdump; print(tbdump.load('traceback.pkl').frames[-1].locals['fn']())"],
               workdir)
    assert proc.stdout == "797\n", proc.stderr


def test_instances_of_one_class_each_show_their_own_attributes(workdir: Path) -> None:
    """An object's attribute names are put in order once per dir() listing: two instances of
    a class with different attributes each list theirs, in debugpy's order, and objects whose
    __dir__ gives more than exact strings still show theirs."""
    dump = crash(workdir, """
        class Name(str):
            pass
        class Point:
            def __init__(self, x, y):
                self.y, self.x = y, x
            def norm(self):
                return 0
        class Subclassed:
            def __init__(self):
                self.b, self._a = 1, 2
            def __dir__(self):
                return [Name("b"), "_a", "__class__"]
        class Unsortable:
            def __init__(self):
                self.b, self._a = 1, 2
            def __dir__(self):
                return ["b", 3]
        def main():
            first, second = Point(1, 2), Point(3, 4)
            second.z, second._hidden = 5, 6
            subclassed, unsortable = Subclassed(), Unsortable()
            raise RuntimeError("stop")
        main()
    """)
    variables = dump.frames[-1].variables
    def names(name: str) -> List[str]:
        return [child.name for child in variables[name].children or ()]
    assert names("first") == ["x", "y"] and names("second") == ["x", "y", "z", "_hidden"]
    assert [(variables[name].groups or {}).get("function") for name in ("first", "second")] == [1, 1]
    assert names("subclassed") == ["b", "_a"] and variables["subclassed"].groups == {"special": 1}
    assert names("unsortable") == ["b", "_a"]   # dir() cannot sort it: the instance's own names


def test_time_budget_holds_for_a_crash_in_a_thread(workdir: Path) -> None:
    """No alarm reaches other threads: a blocking __repr__ is left behind, not waited for."""
    write(workdir / "prog.py", """
        import threading, tbdump
        tbdump.set_excepthook(filename="thread.pkl")
        class Slow:
            def __repr__(self):
                threading.Event().wait()   # for ever: waited for, the program would never end
                return "slow"
        def work():
            slow = Slow(); n = 3
            raise ValueError("in a thread")
        t = threading.Thread(target=work); t.start(); t.join()
        print("main goes on")
    """)
    proc = run([PYTHON, "prog.py"], workdir, env={"TBDUMP_MAX_SECONDS": "3"}, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "main goes on\n"), proc.stderr
    dump = tbdump.load(workdir / "thread.pkl")
    frame = dump.frames[-1]
    assert frame.variables["slow"].missing == "not captured: time budget exceeded while describing it"
    assert frame.variables["n"].repr == "3" and dump.metadata.partial


def _holder_in_a_threads_crash(workdir: Path, sleeps: List[float], value_seconds: float) -> Tuple[int, Any]:
    """A thread crashes holding an object whose attributes a, b, ... have a __repr__ that
    sleeps as long as ``sleeps`` says: how many times a __repr__ was asked, and the dump."""
    write(workdir / "prog.py", """
        import sys, threading, time, tbdump
        tbdump.set_excepthook(filename="thread.pkl")
        asked = []
        class Sleepy:
            def __init__(self, seconds):
                self.seconds = seconds
            def __repr__(self):
                asked.append(1)
                time.sleep(self.seconds)
                return "awake"
        class Holder:
            def __init__(self):
                self.name = "kept"
                for attr, seconds in zip("abcd", map(float, sys.argv[1:])):
                    setattr(self, attr, Sleepy(seconds))
        def work():
            holder = Holder()
            raise ValueError("in a thread")
        t = threading.Thread(target=work); t.start(); t.join()
        print(len(asked))
    """)
    proc = run([PYTHON, "prog.py", *map(str, sleeps)], workdir, env={"TBDUMP_VALUE_SECONDS": str(value_seconds)},
               timeout=60)
    assert proc.stderr.endswith("Traceback dumped into: thread.pkl\n"), proc.stderr
    return int(proc.stdout), tbdump.load(workdir / "thread.pkl")


def test_a_blocking_attribute_in_a_threads_crash_is_asked_once_and_cut_alone(workdir: Path) -> None:
    """A value's preview is taken in one go by capture's helper thread; given up on in its
    slow part, it is taken again step by step without asking that part again."""
    asked, dump = _holder_in_a_threads_crash(workdir, [30], value_seconds=0.5)
    assert asked == 1
    children = {c.name: c.value for c in dump.frames[-1].variables["holder"].children}
    assert children["name"].repr == "'kept'"
    assert children["a"].missing == "not captured: time budget exceeded while describing it"


def test_a_value_whose_parts_each_take_most_of_the_budget_is_captured_whole_in_a_threads_crash(
        workdir: Path) -> None:
    """Each step of a value's preview keeps its own time: the four reprs together outlast
    TBDUMP_VALUE_SECONDS, none alone does, and none is asked twice."""
    asked, dump = _holder_in_a_threads_crash(workdir, [0.3] * 4, value_seconds=0.8)
    assert asked == 4
    assert not dump.metadata.partial, dump.metadata.cut
    holder = dump.frames[-1].variables["holder"]
    assert [(c.name, c.value.repr) for c in holder.children] == [(n, "awake") for n in "abcd"] + [("name", "'kept'")]


def test_a_threads_crash_leaves_the_programs_switch_interval_as_it_was(workdir: Path) -> None:
    """Capture in a thread hands the GIL round faster while it runs, then gives the program's
    interval back to the microsecond (0.000115 s, read and set again as it is, becomes 114 us)."""
    write(workdir / "prog.py", """
        import sys, threading, tbdump
        tbdump.set_excepthook(filename="thread.pkl")
        sys.setswitchinterval(0.000115)
        before = sys.getswitchinterval()
        def work():
            items = [object() for _ in range(3)]
            raise ValueError("in a thread")
        t = threading.Thread(target=work); t.start(); t.join()
        print(sys.getswitchinterval() == before)
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.stdout == "True\n", proc
    assert (workdir / "thread.pkl").is_file()


def test_what_a_developer_sees_typing_the_dump_s_parts_at_a_prompt(workdir: Path) -> None:
    """The helper script's ``breakpoint()`` after ``tbdump.load``: each part of the dump,
    typed at the prompt, is one short line saying what it is, not every field nested."""
    write(workdir / "prog.py", """
        catalogue = {"items": list(range(5000)), "blurb": "x" * 5000}
        def price(item, count):
            total = item / count
        def order():
            try:
                price(10, 0)
            except ZeroDivisionError as e:
                e.add_note("while pricing")
                raise ValueError("bad order \\x1b[2J " * 20) from e
        order()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    session = run([PYTHON, "-c", "import tbdump\n"
                   "dump = tbdump.load('traceback.pkl')\n"
                   "cause = dump.exceptions[dump.exception.cause]\n"
                   "for part in ('dump', 'dump.exception', 'dump.exceptions', 'dump.frames', 'cause.frames[-1]',\n"
                   "             \"cause.frames[-1].variables['count']\", \"dump.frames[0].variables['catalogue']\",\n"
                   "             'dump.threads', 'dump.metadata', 'dump.sources'):\n"
                   "    print(part, '=>', repr(eval(part)))\n"], workdir)
    assert session.returncode == 0, session.stderr
    seen = dict(line.split(" => ", 1) for line in session.stdout.splitlines())
    assert all(len(text) < 300 for text in seen.values()), seen
    prog = str(workdir / "prog.py")
    assert seen["cause.frames[-1]"] == "<Frame file %s, line 3 in price, 2 variables>" % prog
    assert seen["cause.frames[-1].variables['count']"] == "<Value int: 0>"
    assert seen["dump.frames[0].variables['catalogue']"].startswith("<Value dict: {'items': [0, 1, 2")
    assert seen["dump.exception"].startswith("<ExceptionRecord ValueError: bad order \\x1b[2J bad order")
    assert seen["dump.exception"].endswith("..., 2 frames, cause exceptions[1]>")
    assert "<ExceptionRecord ZeroDivisionError: division by zero, 2 frames, 1 note>" in seen["dump.exceptions"]
    assert seen["dump.threads"].startswith("[<Thread MainThread (id ") and seen["dump.threads"].endswith(
        "), crashed, 2 frames>]")
    assert seen["dump.metadata"].startswith("<Metadata CPython %d.%d." % sys.version_info[:2])
    assert seen["dump.sources"] == "{%r: <Source %s, 10 lines>}" % (prog, prog)
    assert seen["dump"].startswith("<tbdump.Dump traceback.pkl: ValueError: bad order")
    assert seen["dump"].endswith(", 2 frames, objects available>")
    assert "\x1b" not in session.stdout   # the message's escape is shown, not sent to the terminal
