"""Process state the crashing program controls, which capture reads besides the frames' values:
whatever the program did to it, the dump is complete and the crash's output and status are Python's."""
from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

import pytest

import tbdump
from ..conftest import FREEZE_TIME, PYTHON, run, write

# A distribution (site-packages/lib) whose version the dump looks for: the crash goes
# through it.
LIBRARY = """
import os, sys
os.makedirs("site-packages/lib", exist_ok=True)
with open("site-packages/lib/__init__.py", "w") as f:
    f.write("def call(f):\\n    return f()\\n")
sys.path.insert(0, os.path.abspath("site-packages"))
import lib
call = lib.call
"""

# The crash every test breaks some state before: its frame's values must be in the dump.
CRASH = """
def work(n, call):
    label = "kept"
    return call(lambda: 1 / (n - n))
work(3, call)
"""

HOOK = "import tbdump; tbdump.set_excepthook()\n"


def crash_with(workdir: Path, setup: str, how: str = "runner", env: Optional[Dict[str, str]] = None,
               cut: int = 0) -> tbdump.Dump:
    """Run ``setup`` then a crash, under ``python -m tbdump``, set_excepthook, or with a
    dump_exception() that imports tbdump then ("call"); the dump, once the crash ended as
    Python ends it and said where its dump is; ``cut``: how many values alone it must say it
    left out (the dump is then partial, by those alone)."""
    crash = CRASH if how != "call" else \
        "try:\n" + textwrap.indent(CRASH, "    ") + "except ZeroDivisionError as e:\n" \
        "    import tbdump\n    tbdump.dump_exception(e)\n    raise\n"
    write(workdir / "prog.py", (HOOK if how == "hook" else "") + LIBRARY + textwrap.dedent(setup) + crash)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"] if how == "runner" else [PYTHON, "prog.py"], workdir, env)
    assert proc.returncode == 1, proc.stderr
    said = "" if how == "call" else "Traceback dumped into: traceback.pkl\n"
    assert proc.stderr.endswith("ZeroDivisionError: division by zero\n" + said), proc.stderr
    dump = tbdump.load(workdir / "traceback.pkl")
    assert (dump.metadata.partial, len(dump.metadata.cut)) == (cut > 0, cut), dump.metadata.cut
    work = [frame for frame in dump.frames if frame.name == "work"]
    assert [frame.variables["label"].repr for frame in work] == ["'kept'"]
    return dump


# A lazy importer's stand-in in sys.modules (lazy_loader, apipkg, a package's module
# __getattr__) raises ImportError, not AttributeError, for a package that is not installed.
LAZY = """
import sys, types
class Lazy(types.ModuleType):
    def __getattr__(self, name):
        raise ImportError("%s is not installed" % self.__name__)
"""


@pytest.mark.parametrize("module", ["numpy", "logging", "asyncio.base_events", "greenlet",
                                    "multiprocessing.process", "lib"])
def test_a_lazy_importers_stand_in_in_sys_modules_costs_no_value(workdir: Path, module: str) -> None:
    # Read as modules whose missing attributes raise AttributeError, these made the capture
    # fail (a partial dump, no values) or, for multiprocessing.process, no dump at all and
    # tbdump's own traceback.
    crash_with(workdir, LAZY + "sys.modules[%r] = Lazy(%r)\n" % (module, module))


@pytest.mark.parametrize("mocked, how", [
    ("mock.patch('os.getpid', return_value=mock.MagicMock())", "runner"),
    ("mock.patch('os.getpid', return_value='pid')", "hook"),
    ("mock.patch('os.getpid', return_value=mock.MagicMock())", "call"),
    ("mock.patch('os.getcwd', return_value=mock.MagicMock())", "runner"),
    ("mock.patch('os.uname', side_effect=OSError('mocked'))", "runner"),
    ("mock.patch('datetime.datetime')", "hook"),
    ("mock.patch('time.monotonic', side_effect=[1.0])", "runner"),
    ("mock.patch('zlib.compress', side_effect=RuntimeError('mocked'))", "runner"),
    ("mock.patch.object(sys, 'flags', mock.MagicMock())", "runner"),
    ("mock.patch('threading.Thread')", "runner"),
])
def test_a_crash_inside_a_tests_mock_of_the_standard_library_is_dumped_as_it_is(
        workdir: Path, mocked: str, how: str) -> None:
    # A test's mock, still active when its code crashes: the dump's metadata held its
    # MagicMock (no dump: not JSON), its StopIteration or OSError failed the capture
    # (a partial dump, or "cannot write traceback.pkl: mocked"), and a pid that is no
    # number ended the crash in tbdump's own traceback; a mocked sys.flags said "python -i",
    # and the crash ended with status 0.
    dump = crash_with(workdir, """
        import datetime, os, sys, threading, time, zlib
        from unittest import mock
        pid, cwd = os.getpid(), os.getcwd()
        %s.start()
        time.monotonic()  # a side_effect's only value is used up
    """ % mocked, how)
    program = dump.frames[0].variables   # the module's: what the OS said before the mock
    assert (dump.metadata.pid, dump.metadata.cwd) == (int(program["pid"].repr), ast.literal_eval(program["cwd"].repr))


@pytest.mark.parametrize("setup", [
    "from unittest import mock\nmock.patch('threading.current_thread').start()\n",
    "import threading\nthreading._active[12345] = None\n",
    """
    import threading
    class Worker(threading.Thread):
        @property
        def name(self):
            raise RuntimeError("no name yet")
        @name.setter
        def name(self, value):
            pass
    Worker(target=threading.Event().wait, daemon=True).start()
    """,
    "import threading\nthreading.current_thread()._name = 5\n",
])
def test_threads_the_program_mocked_or_misnamed_cost_no_value(workdir: Path, setup: str) -> None:
    # The threads' names and flags are read besides the frames: a mocked current_thread()
    # gave MagicMocks (no dump), a None in threading._active or a name property that raises
    # failed the capture (partial), a name that is no text made no dump.
    dump = crash_with(workdir, setup)
    assert all(isinstance(thread.name, str) for thread in dump.threads)


@pytest.mark.parametrize("environ", ["{'HOME': '/home/ada', 'PORT': 8080}", "None"])
def test_an_environment_the_program_replaced_is_not_what_tbdump_reads(workdir: Path, environ: str) -> None:
    # monkeypatch.setattr(os, "environ", {...}): tbdump's settings and the environment's
    # secrets were read from the program's value, whose 8080 made no dump ("object of type
    # 'int' has no len()") and whose None ended the crash in tbdump's own traceback.  The
    # process's environment is what a secret there was learned from.
    dump = crash_with(workdir, "import os\nleaked = os.environ['API_TOKEN']\nos.environ = %s\n" % environ,
                      env={"API_TOKEN": "tok-5f2a9c41e7"})
    assert "tok-5f2a9c41e7" not in dump.frames[0].variables["leaked"].repr


def test_a_module_name_that_is_no_plain_text_costs_no_value(workdir: Path) -> None:
    # A frame's module is named by its globals' __name__, which was str()-ed: a str subclass
    # whose __str__ raises failed the capture (partial).
    dump = crash_with(workdir, """
        class Name(str):
            def __str__(self):
                raise RuntimeError("not now")
        __name__ = Name("app")
    """)
    assert {frame.module for frame in dump.frames if frame.name == "work"} == {"app"}


@pytest.mark.parametrize("mocked", ["signal.signal", "signal.setitimer"])
def test_a_crash_inside_a_tests_mock_of_signal_keeps_its_dump_and_its_process(workdir: Path, mocked: str) -> None:
    # The capture's clock is a SIGALRM timer: under a mocked signal.signal its handler was
    # never set, and the first tick of a capture longer than one killed the process
    # ("Alarm clock", status 142, no dump, no traceback); a mocked setitimer's MagicMock
    # failed the capture (partial).
    crash_with(workdir, """
        import time
        from unittest import mock
        class Slow:
            def __repr__(self):
                time.sleep(0.2)   # the capture outlasts a tick of its clock
                return "Slow()"
        slow = Slow()
        mock.patch(%r).start()
    """ % mocked)


def test_a_clock_frozen_as_freezegun_freezes_it_still_ends_a_values_step(workdir: Path) -> None:
    # freeze_time makes its fake of time.monotonic every module's attribute that was the real
    # one, tbdump's too: a repr that loops was never cut, and dump_exception() hung for good
    # (under python -m tbdump, the watchdog wrote only the minimal dump 15 s later).
    dump = crash_with(workdir, FREEZE_TIME + textwrap.dedent("""
        class Hang:
            def __repr__(self):
                while True:
                    pass
        hang = Hang()
        freeze_time()
    """), "call", cut=1)
    assert "not captured" in dump.frames[0].variables["hang"].missing
    assert not dump.metadata.time.startswith("2020-01-01")   # the frozen time


def test_classes_the_program_gave_extension_codes_are_restored(workdir: Path) -> None:
    # copyreg.add_extension made pickle write those classes as numbers that only the crashed
    # process knew: no viewer restored such a value ("unregistered extension code"), nor the
    # values that share records with it.
    dump = crash_with(workdir, """
        import collections, copyreg
        copyreg.add_extension("collections", "OrderedDict", 0x7ff0)
        ordered = collections.OrderedDict(a=1)
        plain = {"b": [2]}
    """, "call")
    program = dump.frames[0].locals
    assert (program["ordered"], program["plain"]) == ({"a": 1}, {"b": [2]})
    assert type(program["ordered"]).__name__ == "OrderedDict"


def test_the_programs_own_pickles_keep_their_extension_codes_while_a_dump_is_written(workdir: Path) -> None:
    # The dump's pickles name such classes (the test above) without emptying copyreg's registry
    # while it is written, as it was: a thread of the program pickling meanwhile wrote the class
    # by name, not by the code the program gave it.  The value's repr lasts until that thread
    # has made 100 pickles; each is compared with the one made before the crash.
    crash_with(workdir, """
        import collections, copyreg, pickle, sys, threading, time
        copyreg.add_extension("collections", "OrderedDict", 0x7ff0)
        coded = pickle.dumps(collections.OrderedDict, 2)
        wrong, made, done = [], [0], threading.Event()
        def pickle_on():
            while not done.is_set():
                if pickle.dumps(collections.OrderedDict, 2) != coded:
                    wrong.append(made[0])
                made[0] += 1
        class Meanwhile:
            def __repr__(self):
                start = made[0]
                while made[0] < start + 100:
                    time.sleep(0.001)
                return "Meanwhile()"
        meanwhile = Meanwhile()
        def report(*exc_info):
            done.set()
            with open("wrong.txt", "w") as f:
                f.write(repr(wrong))
            sys.__excepthook__(*exc_info)
        sys.excepthook = report
        threading.Thread(target=pickle_on).start()
    """, "call")
    assert (workdir / "wrong.txt").read_text() == "[]"


@pytest.mark.parametrize("how", ["runner", "hook"])
def test_a_stderr_without_flush_says_where_the_dump_is_once(workdir: Path, how: str) -> None:
    # A program's stand-in for sys.stderr with write() alone (a tee, a stream to a logger):
    # "Traceback dumped into" was written to it, then again to file descriptor 2, as if the
    # write had failed, because flush() did.
    program = """
import sys
class Tee:
    def write(self, text):
        sys.__stderr__.write(text)
sys.stderr = Tee()
1 / 0
"""
    write(workdir / "plain.py", program)
    write(workdir / "prog.py", (HOOK if how == "hook" else "") + program)
    python = run([PYTHON, "plain.py"], workdir)   # ends in 120: it cannot flush that stderr at exit
    proc = run([PYTHON, "-m", "tbdump", "prog.py"] if how == "runner" else [PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stderr.count("Traceback dumped into: traceback.pkl")) == \
        (python.returncode, 1), proc.stderr


@pytest.mark.parametrize("effect", ["return_value=1", "side_effect=RuntimeError('mocked')"])
def test_a_mock_of_threading_get_ident_still_names_the_crashs_own_thread(workdir: Path, effect: str) -> None:
    # threading.current_thread() finds the thread by threading.get_ident(): under a test's mock
    # the crash was dumped as thread "Dummy-1" of ident 1 (a _DummyThread made for it, whose
    # end Python 3.13 reports at exit), or not at all.  The mock is stopped before the program
    # ends: left on with return_value=1, Python 3.9-3.12 itself hangs at exit, tbdump or not.
    dump = crash_with(workdir, """
        import sys, threading
        from unittest import mock
        ident, name = threading.get_ident(), threading.current_thread().name
        def stop_then_report(*exc_info):
            mock.patch.stopall()
            sys.__excepthook__(*exc_info)
        sys.excepthook = stop_then_report
        mock.patch("threading.get_ident", %s).start()
    """ % effect, "call")
    program = dump.frames[0].variables
    assert [(t.ident, t.name) for t in dump.threads if t.crashed] == \
        [(int(program["ident"].repr), ast.literal_eval(program["name"].repr))]


@pytest.mark.parametrize("mocked", [
    "gc.disable", "gc.enable", "gc.isenabled", "sys.getrecursionlimit", "sys.setrecursionlimit",
    "sys._getframe", "sys._current_frames", "threading.main_thread", "re.compile",
    # These already worked: the dump does not call them, or not through what a mock reaches.
    "json.dumps", "time.time", "socket.gethostname", "platform.platform", "importlib.metadata.version",
    "linecache.getlines", "inspect.getmodule", "traceback.format_exception",
])
def test_a_crash_inside_a_tests_mock_that_raises_is_dumped_as_it_is(workdir: Path, mocked: str) -> None:
    # What the dump's writing calls, mocked to raise: it was set or given back around the
    # capture (gc, the recursion limit), or read for it (the stacks, the main thread, the
    # pattern of leftover files), and the crash had no dump ("tbdump: failed to dump
    # traceback (RuntimeError: mocked)"), or one without values.
    # Redaction's patterns of the denylist and of the secrets it learns are compiled then too.
    crash_with(workdir, """
        import %s
        from unittest import mock
        mock.patch(%r, side_effect=RuntimeError("mocked")).start()
    """ % (mocked.rpartition(".")[0], mocked))


@pytest.mark.parametrize("replaced", [
    "mock.patch.object(sys, 'version_info', (3, 7, 0)).start()",
    "mock.patch.object(sys, 'version_info', None).start()",
    "mock.patch.object(sys, 'version', mock.MagicMock()).start()",
    "mock.patch.object(sys, 'implementation', mock.MagicMock()).start()",
    "sys.stdlib_module_names = None",
    "sys.path = None",
])
def test_the_python_a_test_made_of_sys_is_not_what_the_dump_says_ran(workdir: Path, replaced: str) -> None:
    # The dump said the mock's Python ran the program (3.7, which its viewers would have read
    # dill's pickles as), or had no dump (a MagicMock is no JSON), or ended the crash in
    # tbdump's own traceback (version_info None, under python -m tbdump); a sys.path or
    # stdlib_module_names of None failed the capture.
    dump = crash_with(workdir, "import sys\nfrom unittest import mock\n%s\n" % replaced)
    assert (dump.metadata.python, dump.metadata.version_info, dump.metadata.implementation) == \
        (sys.version, list(sys.version_info[:3]), {"cpython": "CPython", "pypy": "PyPy"}[sys.implementation.name])


def test_a_crash_inside_a_tests_mock_of_import_is_dumped_as_it_is(workdir: Path) -> None:
    # A mock of builtins.__import__ that refuses names: capture's own late imports (threading's
    # in finding the main thread) made a dump without values, and the pickler's import of a
    # class's module (which it makes to see the class is there) left its values not captured.
    dump = crash_with(workdir, """
        import builtins, collections
        from unittest import mock
        ordered = collections.OrderedDict(a=1)
        imported = builtins.__import__
        def refuse(name, *args, **kwargs):
            if name not in ("unittest", "unittest.mock"):
                raise ImportError("mocked import of %s" % name)
            return imported(name, *args, **kwargs)
        mock.patch("builtins.__import__", side_effect=refuse).start()
    """)
    ordered = dump.frames[0].locals["ordered"]
    assert (type(ordered).__name__, ordered) == ("OrderedDict", {"a": 1})


@pytest.mark.parametrize("setup", [
    "import sys\nsys.stdout.close()\n",
    # Another thread adds and removes modules while the capture reads them; others end meanwhile.
    """
    import sys, threading, types
    def churn():
        for i in range(200000):
            sys.modules["churned_%d" % (i % 100)] = types.ModuleType("churned")
            sys.modules.pop("churned_%d" % ((i + 50) % 100), None)
    threading.Thread(target=churn, daemon=True).start()
    go = threading.Event()
    for _ in range(20):
        threading.Thread(target=go.wait).start()
    class Meanwhile:
        def __repr__(self):
            go.set()
            return "Meanwhile()"
    meanwhile = Meanwhile()
    """,
])
def test_streams_modules_and_threads_that_change_under_the_capture_cost_no_value(workdir: Path, setup: str) -> None:
    # These already worked: a closed stdout, sys.modules changed by another thread while the
    # capture reads it, threads that end while it lists them.
    crash_with(workdir, setup)


def test_a_stderr_whose_write_raises_keeps_pythons_status_and_the_dump(workdir: Path) -> None:
    # This already worked: Python, finding no stderr to report on, ends in 120; the dump is
    # written, and where it is said once, on file descriptor 2.
    program = """
import sys
class Broken:
    def write(self, text):
        raise OSError("stderr is gone")
    def flush(self):
        raise OSError("stderr is gone")
label = "kept"
sys.stderr = Broken()
1 / 0
"""
    write(workdir / "plain.py", program)
    write(workdir / "prog.py", program)
    python = run([PYTHON, "plain.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert (proc.returncode, proc.stderr.count("Traceback dumped into: traceback.pkl")) == \
        (python.returncode, 1), proc.stderr
    assert tbdump.load(workdir / "traceback.pkl").frames[0].variables["label"].repr == "'kept'"
