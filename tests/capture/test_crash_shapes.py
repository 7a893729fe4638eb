"""Crash shapes of real programs (interrupts, threads, pipes) run as a user runs them."""
from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

import tbdump
from ..conftest import PYTHON, env_for_child, run, write


def test_an_uncaught_keyboard_interrupt_runs_atexit_functions_before_sigint_ends_it(workdir: Path) -> None:
    write(workdir / "intr.py", """
        import atexit
        atexit.register(print, 'atexit ran')
        def f():
            raise KeyboardInterrupt
        f()
    """)
    plain = run([PYTHON, "intr.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "intr.py"], workdir)
    assert plain.stdout == "atexit ran\n" and plain.returncode == -signal.SIGINT
    assert (proc.returncode, proc.stdout) == (plain.returncode, plain.stdout)
    assert proc.stderr == "KeyboardInterrupt\nTraceback dumped into: traceback.pkl\n"
    assert [f.name for f in tbdump.load(workdir / "traceback.pkl").frames] == ["<module>", "f"]


def test_a_thread_crash_under_the_runner_shows_the_main_thread_from_the_programs_frames(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import threading
        def work():
            raise ValueError('in thread')
        def main():
            t = threading.Thread(target=work, name='worker')
            t.start(); t.join()
        main()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (0, "ValueError: in thread\nTraceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    main = [t for t in dump.threads if t.name == "MainThread"][0]
    assert [(f.name, Path(f.filename).name) for f in main.frames[:2]] == [("<module>", "prog.py"), ("main", "prog.py")]


def test_two_threads_dumping_at_once_leave_the_program_as_it_was_and_each_other_out(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import sys, threading, warnings
        from tbdump import dump_exception
        both = threading.Barrier(2)
        def work(n):
            rows = [{'row': i} for i in range(20000)]   # a capture that takes a while
            try:
                raise ValueError('worker %d' % n)
            except ValueError as exc:
                both.wait()
                dump_exception(exc, 'w%d.pkl' % n, threads=True)
        before = sys.getrecursionlimit(), list(warnings.filters)
        workers = [threading.Thread(target=work, args=(n,), name='w%d' % n) for n in range(2)]
        for t in workers: t.start()
        for t in workers: t.join()
        print((sys.getrecursionlimit(), list(warnings.filters)) == before)
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "True\n", "")
    package = str(Path(tbdump.__file__).parent)
    for n in range(2):
        dump = tbdump.load(workdir / ("w%d.pkl" % n))
        assert dump.exception.message == "worker %d" % n
        for thread in dump.threads:
            # The other worker, when still there, is shown as far as its handler: no tbdump inside.
            assert not [f for f in thread.frames if f.filename.startswith(package)], thread
            if thread.name.startswith("w"):
                assert thread.frames[-1].name == "work"


def test_the_report_piped_into_a_reader_that_quits_stops_quietly(workdir: Path) -> None:
    write(workdir / "prog.py", "def f(x):\n    return 1 / x\nf(0)\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    read_end, write_end = os.pipe()
    os.close(read_end)   # `| head -1` gone before the report writes: every write is a broken pipe
    try:
        proc = subprocess.run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], cwd=workdir, env=env_for_child(),
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (1, "")


def test_a_report_that_cannot_be_written_is_one_line(workdir: Path) -> None:
    """`python -m tbdump.report traceback.pkl > report.txt` on a full disk (/dev/full, which
    answers every write so): one line saying why, in the system's words as a clause as every
    tool's line about a file says them ("DUMP: permission denied"), not an OSError's traceback."""
    write(workdir / "prog.py", "def f(x):\n    return 1 / x\nf(0)\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], cwd=workdir, env=env_for_child(),
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (1, "tbdump.report: cannot write the report: no space left on device\n")


# A value whose repr presses Ctrl-C: a real SIGINT, arriving exactly while its dump is written.
CTRL_C_IN_CAPTURE = """
import os, signal
class Pressed:
    def __repr__(self):
        os.kill(os.getpid(), signal.SIGINT)
        return 'Pressed()'
def work(n):
    first = Pressed()
    rows = list(range(n))
    return 1 / 0
"""


def test_ctrl_c_while_the_crash_is_dumped_cuts_the_dump_short_and_the_crash_ends_as_python_ends_it(
        workdir: Path) -> None:
    write(workdir / "prog.py", CTRL_C_IN_CAPTURE + "work(100000)\n")
    plain = run([PYTHON, "prog.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == plain.returncode == 1
    assert proc.stderr == ("ZeroDivisionError: division by zero\n"
                           "Traceback dumped into: traceback.pkl (partial: capture interrupted by Ctrl-C)\n")
    assert sorted(p.name for p in workdir.iterdir()) == ["prog.py", "traceback.pkl"]   # no temp file
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.metadata.partial and "capture interrupted (Ctrl-C)" in dump.metadata.cut[0]
    assert [f.name for f in dump.frames] == ["<module>", "work"]
    assert dump.frames[-1].variables["rows"].missing == "not captured: capture interrupted (Ctrl-C)"


def test_ctrl_c_during_dump_exception_reaches_the_program_after_the_dump_is_written(workdir: Path) -> None:
    write(workdir / "prog.py", CTRL_C_IN_CAPTURE + """
from tbdump import dump_exception
try:
    work(10)
except ZeroDivisionError as exc:
    try:
        dump_exception(exc, 'crash.pkl')
    except KeyboardInterrupt as stop:
        print('interrupted:', type(stop).__name__)
""")
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "interrupted: KeyboardInterrupt\n", "")
    dump = tbdump.load(workdir / "crash.pkl")
    assert dump.exception.type == "ZeroDivisionError" and dump.metadata.partial


@pytest.mark.parametrize("broken", ["learn", "exceptions"])   # a bug tbdump gets past, in two places
def test_tbdump_debug_is_an_on_off_setting_like_the_others(workdir: Path, broken: str) -> None:
    """TBDUMP_DEBUG prints the traceback of an error inside tbdump that capture got past; its
    off values (0/false/no/off, as the README's Configuration says of every on/off setting)
    leave the crash's output exactly as without it."""
    write(workdir / "prog.py", f"""
        import tbdump.capture
        def bug(*args, **kwargs):
            raise RuntimeError("a bug inside tbdump")
        tbdump.capture.Capture.{broken} = bug   # stands for a bug a hostile value finds
        1 / 0
    """)
    crash = "ZeroDivisionError: division by zero\nTraceback dumped into: traceback.pkl\n"
    for off in ("", "0", "off", "False"):
        proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_DEBUG": off})
        assert (proc.returncode, proc.stderr) == (1, crash), off
        assert tbdump.load(workdir / "traceback.pkl").exception.type == "ZeroDivisionError"
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_DEBUG": "1"})
    assert proc.returncode == 1 and proc.stderr.endswith(crash)
    assert proc.stderr.startswith("Traceback (most recent call last):\n")
    assert "RuntimeError: a bug inside tbdump\n" in proc.stderr
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_DEBUG": "maybe"})
    assert proc.stderr == ("tbdump: ignoring TBDUMP_DEBUG='maybe': expected 1/true/yes/on or "
                           "0/false/no/off; the default (off) is used\n" + crash)


def test_an_exception_class_whose_attributes_raise_is_named_as_python_names_it(workdir: Path) -> None:
    write(workdir / "meta.py", """
        class Meta(type):
            def __getattribute__(cls, n): raise RuntimeError("no attribute " + n)
        class Broken(Exception, metaclass=Meta):
            pass
        def f():
            raise Broken("raised")
        f()
    """)
    plain = run([PYTHON, "meta.py"], workdir)
    assert plain.stderr.endswith("\n<unknown>.Broken: raised\n")
    proc = run([PYTHON, "-m", "tbdump", "meta.py"], workdir)
    assert (proc.returncode, proc.stderr) == (1, "<unknown>.Broken: raised\nTraceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    assert not dump.metadata.partial, dump.metadata.cut
    assert (dump.exception.type, dump.exception.type_name) == ("<unknown>.Broken", "Broken")
    assert [f.name for f in dump.frames] == ["<module>", "f"]


def test_ctrl_c_while_the_exceptions_str_runs_is_said_as_an_interruption_not_a_time_out(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import os, signal
        class Boom(Exception):
            def __str__(self):
                os.kill(os.getpid(), signal.SIGINT)
                return 'boom'
        class Note:
            def __str__(self):
                os.kill(os.getpid(), signal.SIGINT)
                return 'note'
        def work():
            error = Boom()
            error.__notes__ = [Note()]
            raise error
        work()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == 1 and proc.stderr.endswith("(partial: capture interrupted by Ctrl-C)\n"), proc
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.exception.message == "<exception str() interrupted (Ctrl-C)>"
    assert dump.metadata.partial
    assert dump.metadata.cut[0] == "message of Boom: not captured: capture interrupted (Ctrl-C) while calling str()"
    assert not [line for line in dump.metadata.cut + dump.exception.notes if "time" in line], dump.metadata.cut


def test_an_exception_whose_getattr_raises_system_exit_is_dumped_with_its_frames(workdir: Path) -> None:
    # Capture looks up __notes__ as Python does, which runs __getattr__ (no note was added): the
    # SystemExit out of it left a dump of the lines alone ("capture failed"), no local in it.
    # Python's own printing fails on it too, so only the dump is compared.
    write(workdir / "prog.py", """
        class Boom(Exception):
            def __getattr__(self, name):
                raise SystemExit(3)
        def work():
            kept = [1, 2]
            raise Boom()
        work()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == 1 and proc.stderr.endswith("Traceback dumped into: traceback.pkl\n"), proc
    dump = tbdump.load(workdir / "traceback.pkl")
    assert not dump.metadata.partial, dump.metadata.cut
    assert (dump.frames[-1].name, dump.frames[-1].locals) == ("work", {"kept": [1, 2]})


def test_an_exceptions_str_cut_by_the_time_budget_is_listed_among_the_cuts(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import time
        calls = []
        class Slow(Exception):
            def __str__(self):
                calls.append(1)
                if len(calls) == 1:   # the dump's call; Python's own printing then gets an answer
                    time.sleep(30)
                return 'slow'
        raise Slow()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_VALUE_SECONDS": "0.3"})
    assert (proc.returncode, proc.stderr) == (1, "Slow: slow\nTraceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.exception.message == "<exception str() timed out>"
    assert dump.metadata.partial
    assert dump.metadata.cut == ["message of Slow: not captured: time budget exceeded while calling str()"]


# A multiprocessing child that crashes, then its parent: Python prints the child's traceback from
# Process._bootstrap, which never calls sys.excepthook, and the parent goes on to its own crash.
# The child's error is a ValueError, or one whose class refuses attributes (immutable error values).
CHILD_THEN_PARENT = """
import multiprocessing, sys
{hook}
class Refused(Exception):
    def __setattr__(self, name, value):
        raise AttributeError('immutable')
def work(n):
    doubled = n * 2
    raise {error}('in child %d' % n)
def parent(code):
    raise RuntimeError('child ended with %s' % code)
if __name__ == '__main__':
    multiprocessing.set_start_method(sys.argv[1])
    p = multiprocessing.Process(target=work, args=(3,))
    p.start(); p.join()
    print('child', p.pid, p.exitcode)
    parent(p.exitcode)
"""


@pytest.mark.parametrize("method, error", [("fork", "ValueError"), ("spawn", "ValueError"),
                                           ("forkserver", "ValueError"), ("fork", "Refused")])
@pytest.mark.parametrize("way", ["runner", "hook"])
def test_a_multiprocessing_childs_crash_is_dumped_under_its_pid_beside_the_parents(
        workdir: Path, method: str, error: str, way: str) -> None:
    hook = "import tbdump; tbdump.set_excepthook()" if way == "hook" else ""
    write(workdir / "prog.py", CHILD_THEN_PARENT.format(hook=hook, error=error))
    proc = run([PYTHON, "prog.py", method] if way == "hook" else [PYTHON, "-m", "tbdump", "prog.py", method],
               workdir)
    child, pid, code = proc.stdout.split()
    assert (proc.returncode, child, code) == (1, "child", "1"), proc
    assert proc.stderr == ("Process Process-1:\n%s: in child 3\nTraceback dumped into: traceback.%s.pkl\n"
                           "RuntimeError: child ended with 1\nTraceback dumped into: traceback.pkl\n" % (error, pid))
    dump = tbdump.load(workdir / ("traceback.%s.pkl" % pid))
    assert dump.metadata.pid == int(pid)
    # The frames Python's printout shows, from _bootstrap on: none of tbdump's, none of the parent's.
    assert [f.name for f in dump.frames] == ["_bootstrap", "run", "work"]
    assert dump.frames[-1].locals == {"n": 3, "doubled": 6}
    assert tbdump.load(workdir / "traceback.pkl").exception.message == "child ended with 1"


def test_a_process_object_in_a_dump_holds_neither_tbdumps_set_up_nor_its_key(workdir: Path) -> None:
    # A started Process carries how its child is to dump (for spawn): restored from a dump, that
    # set tbdump's hooks up in the viewer, and the dump held the signing key.
    write(workdir / "prog.py", """
        import multiprocessing, tbdump
        def work():
            pass
        def parent(proc):
            raise RuntimeError('after the child')
        if __name__ == '__main__':
            tbdump.set_excepthook(key=b'the-signing-key')
            p = multiprocessing.Process(target=work)
            p.start(); p.join()
            parent(p)
    """)
    assert run([PYTHON, "prog.py"], workdir).stderr.endswith("Traceback dumped into: traceback.pkl\n")
    assert b"the-signing-key" not in (workdir / "traceback.pkl").read_bytes()
    viewer = run([PYTHON, "-c", """if True:
        import multiprocessing.process, sys, threading, tbdump
        hooks = threading.excepthook, sys.excepthook, multiprocessing.process.BaseProcess.start
        proc = tbdump.load('traceback.pkl', key=b'the-signing-key').frames[-1].locals['proc']
        print(proc.exitcode, proc._tbdump_following)
        print(hooks == (threading.excepthook, sys.excepthook, multiprocessing.process.BaseProcess.start))
    """], workdir)
    assert viewer.stdout == ("0 <_Following: not captured: tbdump's own hook, not the program's "
                             "<tbdump's following of multiprocessing children>>\nTrue\n"), viewer.stderr


def test_a_multiprocessing_childs_traceback_is_pythons_own_under_the_traceback_option(workdir: Path) -> None:
    write(workdir / "prog.py", CHILD_THEN_PARENT.format(hook="", error="ValueError"))
    plain = run([PYTHON, "prog.py", "spawn"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "-t", "prog.py", "spawn"], workdir)
    pid = proc.stdout.split()[1]
    child_part = plain.stderr[:plain.stderr.index("Traceback", plain.stderr.index("ValueError"))]
    assert child_part.startswith("Process Process-1:\nTraceback (most recent call last):\n")
    assert proc.stderr.startswith(child_part + "Traceback dumped into: traceback.%s.pkl\n" % pid)
    assert proc.returncode == plain.returncode == 1


@pytest.mark.parametrize("way, name", [("runner", "traceback.pkl"), ("hook", "traceback.pkl"),
                                       ("runner", "crash.tbdump")])
def test_a_forked_childs_crash_does_not_take_the_parents_dump_file(workdir: Path, way: str, name: str) -> None:
    write(workdir / "prog.py", """
        import os, sys
        if sys.argv[1] == 'hook':
            import tbdump; tbdump.set_excepthook()
        def child():
            raise ValueError('in the child')
        pid = os.fork()
        if pid == 0:
            child()
        _, status = os.waitpid(pid, 0)
        print(pid, os.waitstatus_to_exitcode(status))
        raise RuntimeError('in the parent')
    """)
    proc = run([PYTHON, "prog.py", way] if way == "hook" else [PYTHON, "-m", "tbdump", "-o", name, "prog.py", way],
               workdir)
    pid, code = proc.stdout.split()
    root, ext = os.path.splitext(name)
    child = "%s.%s%s" % (root, pid, ext)   # found by tblsp's *.tbdump too
    assert (proc.returncode, code) == (1, "1")
    assert proc.stderr == ("ValueError: in the child\nTraceback dumped into: %s\n"
                           "RuntimeError: in the parent\nTraceback dumped into: %s\n" % (child, name))
    assert tbdump.load(workdir / child).exception.message == "in the child"
    assert tbdump.load(workdir / name).exception.message == "in the parent"


def test_a_memory_error_with_no_memory_left_is_reported_in_one_line(workdir: Path) -> None:
    """A real out-of-memory (an address-space limit): no thread can start and little can be
    allocated, so capture may fail; the crash still ends as Python ends it, said in one line."""
    write(workdir / "prog.py", """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (400 * 2**20, 400 * 2**20))
        def grow():
            chunks = []
            while True:
                chunks.append(bytearray(2**20))
        grow()
    """)
    plain = run([PYTHON, "prog.py"], workdir)
    assert plain.returncode == 1 and plain.stderr.endswith("\nMemoryError\n")
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == 1
    # Which allocation fails first (a value's, zlib's) is the machine's to decide; without a
    # dump, Python's report stands.
    assert proc.stderr == "MemoryError\nTraceback dumped into: traceback.pkl\n" or re.fullmatch(
        re.escape(plain.stderr) + r"tbdump: failed to dump traceback \(MemoryError(: [^\n]+)?\)\n", proc.stderr), \
        proc.stderr


def test_set_excepthook_leaves_child_processes_to_python_when_asked(workdir: Path) -> None:
    write(workdir / "prog.py", CHILD_THEN_PARENT.format(hook="import tbdump; tbdump.set_excepthook(processes=False)",
                                                       error="ValueError"))
    proc = run([PYTHON, "prog.py", "fork"], workdir)
    assert proc.stderr.startswith("Process Process-1:\nTraceback (most recent call last):\n")
    assert proc.stderr.endswith("ValueError: in child 3\nRuntimeError: child ended with 1\n"
                                "Traceback dumped into: traceback.pkl\n")
    assert sorted(p.name for p in workdir.iterdir()) == ["prog.py", "traceback.pkl"]


@pytest.mark.parametrize("shape", ["__del__", "weakref callback", "atexit", "asyncio task never awaited"])
def test_errors_python_reports_and_goes_past_are_left_as_python_leaves_them(workdir: Path, shape: str) -> None:
    """sys.unraisablehook's "Exception ignored in", atexit's, the event loop's "Task exception was
    never retrieved": the program goes on, prints what it printed and ends as it ended; no dump."""
    body = {
        "__del__": "class C:\n    def __del__(self): boom()\nc = C(); del c",
        "weakref callback": "import weakref\nclass C: pass\nc = C(); r = weakref.ref(c, boom); del c",
        "atexit": "import atexit\natexit.register(boom)",
        "asyncio task never awaited": (
            "import asyncio, gc\nasync def task(): boom()\nasync def main():\n"
            "    t = asyncio.ensure_future(task()); await asyncio.sleep(0.01); del t; gc.collect()\n"
            "asyncio.run(main())"),
    }[shape]
    program = "{hook}\ndef boom(*args):\n    raise ValueError('ignored')\n" + body + "\nprint('went on')\n"
    write(workdir / "plain.py", program.format(hook="# the same lines, without tbdump"))
    write(workdir / "hooked.py", program.format(hook="import tbdump; tbdump.set_excepthook()"))
    plain = run([PYTHON, "plain.py"], workdir)
    assert "ValueError: ignored" in plain.stderr
    at = re.compile(r" at 0x[0-9a-f]+|(plain|hooked)\.py")
    for way in ([PYTHON, "-m", "tbdump", "plain.py"], [PYTHON, "hooked.py"]):
        proc = run(way, workdir)
        assert (proc.returncode, proc.stdout) == (plain.returncode, plain.stdout) == (0, "went on\n")
        assert at.sub("", proc.stderr) == at.sub("", plain.stderr), way
        assert sorted(p.name for p in workdir.iterdir()) == ["hooked.py", "plain.py"]


def test_a_process_pool_workers_exception_is_dumped_with_the_workers_traceback_as_its_cause(
        workdir: Path) -> None:
    write(workdir / "prog.py", """
        from concurrent.futures import ProcessPoolExecutor
        def work(n):
            raise ValueError('in worker %d' % n)
        if __name__ == '__main__':
            with ProcessPoolExecutor(1) as pool:
                pool.submit(work, 3).result()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (1, "ValueError: in worker 3\nTraceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    cause = dump.exceptions[dump.exception.cause]
    assert cause.type == "concurrent.futures.process._RemoteTraceback"
    assert "line 3, in work\n    raise ValueError('in worker %d' % n)\nValueError: in worker 3\n" in cause.message
    assert "The above exception was the direct cause of the following exception:" in dump.traceback_text


def test_a_pool_worker_that_fails_to_start_is_left_to_python(workdir: Path) -> None:
    """Pool replaces a worker whose initializer raised, forever if it always raises: one dump
    per worker would fill the disk.  Tasks' exceptions reach the parent, which is dumped."""
    write(workdir / "prog.py", """
        import multiprocessing, os, sys
        def init():
            if not os.path.exists('failed once'):
                open('failed once', 'w').close()
                raise RuntimeError('initializer')
        def square(n):
            return n * n
        if __name__ == '__main__':
            multiprocessing.set_start_method('fork')
            with multiprocessing.Pool(1, initializer=init) as pool:
                # chunksize given: Python's own divides by the pool's size, which is 0 for a
                # moment while the failed worker is replaced (ZeroDivisionError, now and then).
                print(pool.map(square, [1, 2], chunksize=1))
    """)
    plain = run([PYTHON, "prog.py"], workdir)
    os.remove(workdir / "failed once")
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert (proc.returncode, proc.stdout) == (plain.returncode, plain.stdout) == (0, "[1, 4]\n")
    assert proc.stderr == plain.stderr and "RuntimeError: initializer" in plain.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["failed once", "prog.py"]


def test_a_child_restarted_after_each_crash_dumps_a_bounded_number_of_times(workdir: Path) -> None:
    """A supervisor that forks a new worker each time one crashes: 20 child dumps a run, then
    each later crash says it was not dumped; a dump left by an earlier run does not count."""
    write(workdir / "prog.py", """
        import os
        def serve():
            raise ValueError('worker failed')
        for _ in range(22):
            pid = os.fork()
            if pid == 0:
                serve()
            os.waitpid(pid, 0)
        print('supervisor done')
    """)
    (workdir / "traceback.1.pkl").write_bytes(b"from an earlier run")
    os.utime(workdir / "traceback.1.pkl", (0, 0))
    plain = run([PYTHON, "prog.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert (proc.returncode, proc.stdout) == (0, "supervisor done\n")
    dumped = [line for line in proc.stderr.splitlines() if line.startswith("Traceback dumped into: traceback.")]
    assert len(dumped) == 20 and len(list(workdir.glob("traceback.*.pkl"))) == 21
    # Not dumped: Python's report of the child's crash stands, then why.
    python_said = plain.stderr[:len(plain.stderr) // 22]
    assert python_said.startswith("Traceback (most recent call last):\n")
    assert proc.stderr.endswith(2 * (python_said + "tbdump: not dumped: 20 crashes of this "
                                                   "run have dumped into traceback.*.pkl already\n"))


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_a_threads_crash_after_the_programs_does_not_overwrite_its_dump(workdir: Path, way: str) -> None:
    """The crash that ended the program keeps traceback.pkl; a thread that crashes while the
    program shuts down goes to traceback.<pid>.pkl: both dumps are where the output says."""
    write(workdir / "prog.py", """
        import os, sys, threading
        if sys.argv[1] == 'hook':
            import tbdump; tbdump.set_excepthook()
        def work():
            threading.main_thread().join()   # returns as the interpreter shuts down
            raise ValueError('thread at shutdown')
        threading.Thread(target=work).start()
        print(os.getpid())
        raise RuntimeError('the program')
    """)
    proc = run([PYTHON, "prog.py", way] if way == "hook" else [PYTHON, "-m", "tbdump", "prog.py", way], workdir)
    pid = proc.stdout.strip()
    assert proc.returncode == 1
    assert proc.stderr == ("RuntimeError: the program\nTraceback dumped into: traceback.pkl\n"
                           "ValueError: thread at shutdown\nTraceback dumped into: traceback.%s.pkl\n" % pid)
    assert tbdump.load(workdir / "traceback.pkl").exception.message == "the program"
    assert tbdump.load(workdir / ("traceback.%s.pkl" % pid)).exception.message == "thread at shutdown"


THREADS_AT_ONCE = """
    import os, sys, threading
    if sys.argv[1] == 'hook':
        import tbdump; tbdump.set_excepthook()
    start = threading.Barrier({threads})
    def work(n):
        data = list(range(n))
        start.wait()
        raise ValueError('thread %d' % n)
    threads = [threading.Thread(target=work, args=(n,), name='worker-%d' % n) for n in range({threads})]
    for t in threads: t.start()
    for t in threads: t.join()
    print(os.getpid())
"""


def said_dumped(stderr: str, error: str = "ValueError") -> List[Tuple[str, str]]:
    """(the crash's message, the file its "Traceback dumped into" names) for each crash said."""
    return re.findall(r"^%s: (.*)\nTraceback dumped into: (.*)$" % error, stderr, re.M)


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_threads_crashing_at_once_are_each_dumped_into_a_file_of_their_own(workdir: Path, way: str) -> None:
    """The first takes traceback.pkl, the others traceback.<pid>.pkl, traceback.<pid>-2.pkl...:
    each file holds the crash its line says, none overwritten by another thread's."""
    write(workdir / "prog.py", THREADS_AT_ONCE.format(threads=12))
    proc = run([PYTHON, "prog.py", way] if way == "hook" else [PYTHON, "-m", "tbdump", "prog.py", way], workdir)
    pid = proc.stdout.strip()
    said = said_dumped(proc.stderr)
    assert proc.returncode == 0 and len(said) == 12, proc.stderr
    assert sorted(message for message, _ in said) == sorted("thread %d" % n for n in range(12))
    names = [name for _, name in said]
    assert sorted(names) == sorted(["traceback.pkl", "traceback.%s.pkl" % pid] +
                                   ["traceback.%s-%d.pkl" % (pid, n) for n in range(2, 12)])
    assert sorted(p.name for p in workdir.glob("traceback*")) == sorted(names)
    for message, name in said:
        dump = tbdump.load(workdir / name)
        n = int(message.split()[1])
        assert dump.exception.message == message and dump.frames[-1].locals["data"] == list(range(n))
        assert dump.threads[0].crashed and dump.threads[0].name == "worker-%d" % n


def test_a_childs_threads_crashing_at_once_are_each_dumped_under_its_pid(workdir: Path) -> None:
    """A multiprocessing child whose threads crash, then itself: every crash its own file."""
    write(workdir / "prog.py", """
        import multiprocessing, os, sys, threading
        def work(n, start):
            start.wait()
            raise ValueError('thread %d' % n)
        def child():
            start = threading.Barrier(4)
            threads = [threading.Thread(target=work, args=(n, start)) for n in range(4)]
            for t in threads: t.start()
            for t in threads: t.join()
            raise RuntimeError('child %d' % os.getpid())
        if __name__ == '__main__':
            multiprocessing.set_start_method(sys.argv[1])
            p = multiprocessing.Process(target=child)
            p.start(); p.join()
            print(p.pid)
    """)
    for method in ("fork", "spawn"):
        for old in workdir.glob("traceback*"):
            old.unlink()
        proc = run([PYTHON, "-m", "tbdump", "prog.py", method], workdir)
        pid = proc.stdout.strip()
        said = said_dumped(proc.stderr) + said_dumped(proc.stderr, "RuntimeError")
        assert proc.returncode == 0 and len(said) == 5, proc.stderr
        assert sorted(name for _, name in said) == sorted(
            ["traceback.%s.pkl" % pid] + ["traceback.%s-%d.pkl" % (pid, n) for n in range(2, 6)])
        assert said[-1][0] == "child %s" % pid and len(list(workdir.glob("traceback*"))) == 5
        assert all(tbdump.load(workdir / name).exception.message == message for message, name in said)


def test_daemon_threads_stopped_as_their_crashes_wait_to_be_dumped_leave_no_empty_file(workdir: Path) -> None:
    """A crash's numbered file is made empty as it is claimed; the program ends while its daemon
    threads wait for the first crash's dump to be written: no empty file stays at their names."""
    write(workdir / "prog.py", """
        import os, threading, time
        start = threading.Barrier(9)
        def work(n):
            rows = [{'row': i} for i in range(20000)]   # a capture that takes a while
            start.wait()
            raise ValueError('thread %d' % n)
        for n in range(8):
            threading.Thread(target=work, args=(n,), daemon=True).start()
        start.wait()
        while not os.path.exists('traceback.pkl'):
            time.sleep(0.01)
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    dumps = {p.name: tbdump.load(p).exception.message for p in workdir.glob("traceback*")}
    # A thread stopped between its dump and its line leaves a dump that no line names.
    assert proc.returncode == 0 and "traceback.pkl" in dumps, proc.stderr
    assert all(dumps[name] == message for message, name in said_dumped(proc.stderr))


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_the_main_threads_crash_cuts_short_a_threads_dump_stuck_in_a_value_and_is_dumped_whole(
        workdir: Path, way: str) -> None:
    """A thread's dump holds the dump lock while a value's __reduce__ blocks (for good here, its
    budgets of a minute): the main thread's crash, which ends the program, waited for it as long as
    its own watchdog allowed, then fell back to a minimal dump.  Now the thread's capture is cut
    short, as a Ctrl-C cuts one, and written as partial; then the main thread's crash is dumped whole."""
    write(workdir / "prog.py", """
        import os, sys, threading
        if sys.argv[1] == 'hook':
            import tbdump; tbdump.set_excepthook()
        reducing = threading.Event()
        class Stuck:
            def __reduce__(self):
                reducing.set()
                threading.Event().wait()
        def work():
            stuck = Stuck()
            raise KeyError('in a thread')
        threading.Thread(target=work).start()
        reducing.wait()
        print(os.getpid(), flush=True)
        def main():
            kept = [1, 2, 3]
            1 / 0
        main()
    """)
    budgets = {"TBDUMP_MAX_SECONDS": "60", "TBDUMP_VALUE_SECONDS": "60"}
    # A hang bound, not a speed limit: before, the main thread's crash waited 65 s.
    proc = run([PYTHON, "prog.py", way] if way == "hook" else [PYTHON, "-m", "tbdump", "prog.py", way], workdir,
               budgets, timeout=40)
    pid = proc.stdout.strip()
    assert proc.returncode == 1, proc
    said = said_dumped(proc.stderr, "KeyError") + said_dumped(proc.stderr, "ZeroDivisionError")
    assert said == [("'in a thread'", "traceback.pkl"), ("division by zero", "traceback.%s.pkl" % pid)], proc.stderr
    main = tbdump.load(workdir / ("traceback.%s.pkl" % pid))
    assert (main.exception.message, main.frames[-1].locals["kept"], main.metadata.partial) == (
        "division by zero", [1, 2, 3], False)
    thread = tbdump.load(workdir / "traceback.pkl")
    assert thread.exception.message == "'in a thread'" and thread.metadata.partial
    stuck = thread.frames[-1].variables["stuck"]
    assert stuck.missing == "not captured: capture interrupted (the main thread crashed) while pickling it", stuck
    assert sorted(p.name for p in workdir.iterdir()) == sorted(["prog.py", "traceback.pkl", "traceback.%s.pkl" % pid])


def test_the_main_threads_crash_cuts_short_a_threads_dump_pickling_a_big_list(workdir: Path) -> None:
    """Plain data pickles in C, where no tick of the thread's capture lands: a thread's dump of a big
    list went on to its end while the main thread's crash, which ends the program, waited for it
    (a list of a gigabyte kept it past its watchdog, its dump then minimal).  The list's record
    is cut short as a Ctrl-C cuts one, at its next write."""
    write(workdir / "prog.py", """
        import glob, os, threading
        def work():
            big = [i % 200 for i in range(5000000)]
            raise KeyError('in a thread')
        threading.Thread(target=work).start()
        def written():
            return sum(os.path.getsize(f) for f in glob.glob('.traceback.pkl.*.tmp'))
        while written() < 1 << 20:   # the big list's record is under way
            pass
        print(os.getpid(), flush=True)
        def main():
            kept = [1, 2, 3]
            1 / 0
        main()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    pid = proc.stdout.strip()
    assert proc.returncode == 1, proc
    said = said_dumped(proc.stderr, "KeyError") + said_dumped(proc.stderr, "ZeroDivisionError")
    assert said == [("'in a thread'", "traceback.pkl"), ("division by zero", "traceback.%s.pkl" % pid)], proc.stderr
    main = tbdump.load(workdir / ("traceback.%s.pkl" % pid))
    assert (main.frames[-1].locals["kept"], main.metadata.partial) == ([1, 2, 3], False)
    thread = tbdump.load(workdir / "traceback.pkl")
    big = thread.frames[-1].variables["big"]
    assert big.missing == "not captured: capture interrupted (the main thread crashed) while pickling it", big
    assert sorted(p.name for p in workdir.iterdir()) == sorted(["prog.py", "traceback.pkl", "traceback.%s.pkl" % pid])


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_threads_crashing_at_once_beyond_the_runs_bound_say_they_were_not_dumped(workdir: Path, way: str) -> None:
    """A thread crashing again and again must not fill the disk: beside traceback.pkl, 20 crashes
    of a run are dumped, the first ones; each later one is said with Python's traceback."""
    write(workdir / "prog.py", THREADS_AT_ONCE.format(threads=30))
    proc = run([PYTHON, "prog.py", way] if way == "hook" else [PYTHON, "-m", "tbdump", "prog.py", way], workdir)
    said = said_dumped(proc.stderr)
    assert proc.returncode == 0 and len(said) == 21, proc.stderr
    assert sorted(p.name for p in workdir.glob("traceback*")) == sorted(name for _, name in said)
    assert all(tbdump.load(workdir / name).exception.message == message for message, name in said)
    not_dumped = "tbdump: not dumped: 20 crashes of this run have dumped into traceback.*.pkl already\n"
    assert proc.stderr.count(not_dumped) == 9
    assert proc.stderr.count("Exception in thread worker-") == 9


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_a_recursion_error_at_the_real_limit_is_dumped_with_every_frame_python_shows(
        workdir: Path, way: str) -> None:
    program = """
        {hook}
        import sys, traceback
        def down(n):
            return down(n + 1)
        if sys.argv[1] == 'count':
            try:
                down(0)
            except RecursionError as exc:
                print(len(traceback.extract_tb(exc.__traceback__)))
        else:
            down(0)
    """
    write(workdir / "plain.py", program.format(hook="# the same lines, without tbdump"))
    write(workdir / "hooked.py", program.format(hook="import tbdump; tbdump.set_excepthook()"))
    frames = int(run([PYTHON, "plain.py", "count"], workdir).stdout)
    assert frames > 900
    plain = run([PYTHON, "plain.py", "crash"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "plain.py", "crash"] if way == "runner" else [PYTHON, "hooked.py", "crash"],
               workdir)
    assert plain.returncode == proc.returncode == 1
    assert proc.stderr == "RecursionError: maximum recursion depth exceeded\nTraceback dumped into: traceback.pkl\n"
    dump = tbdump.load(workdir / "traceback.pkl")
    assert len(dump.frames) == frames and not dump.metadata.partial
    assert dump.frames[-1].locals == {"n": frames - 2}


def test_an_exception_raised_by_a_signal_handler_is_dumped_with_the_handler_innermost(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import os, signal, time
        def on_usr1(signum, frame):
            raise RuntimeError('from the handler')
        def main():
            signal.signal(signal.SIGUSR1, on_usr1)
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(5)
        main()
    """)
    plain = run([PYTHON, "prog.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert plain.returncode == proc.returncode == 1
    assert proc.stderr == "RuntimeError: from the handler\nTraceback dumped into: traceback.pkl\n"
    dump = tbdump.load(workdir / "traceback.pkl")
    assert [f.name for f in dump.frames] == ["<module>", "main", "on_usr1"]
    assert dump.frames[-1].locals["signum"] == signal.SIGUSR1


def test_files_the_program_writes_beside_a_dump_named_without_a_suffix_do_not_count_as_dumps(workdir: Path) -> None:
    """With `-o crash` the run's dumps are crash, crash.<pid>, crash.<pid>-2...: the bound counted
    every crash.* written meanwhile, so a program that writes its crash.log, crash.1.csv... had its
    threads' crashes said "not dumped"."""
    write(workdir / "prog.py", """
        import threading
        for n in range(25):
            open('crash.%d.csv' % n, 'w').close()
        open('crash.log', 'w').close()
        def work():
            raise ValueError('thread')
        for name in ('first', 'second'):
            thread = threading.Thread(target=work, name=name)
            thread.start()
            thread.join()
    """)
    proc = run([PYTHON, "-m", "tbdump", "-o", "crash", "prog.py"], workdir)
    said = said_dumped(proc.stderr)
    assert proc.returncode == 0 and "not dumped" not in proc.stderr, proc.stderr
    assert [name.split(".")[0] for _, name in said] == ["crash", "crash"] and len(set(name for _, name in said)) == 2
    assert all(tbdump.load(workdir / name).exception.message == message for message, name in said)
