"""Signals and timers from outside while a dump is written (a container's stop, a closed terminal,
the program's own handlers and alarms), in real crashing programs."""
from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Optional

import pytest

import tbdump
from ..conftest import PYTHON, env_for_child, run, write
from ..viewers.test_interrupts import HOLD_IMPORT

# A value whose repr sends the program a signal: it arrives exactly while the dump is written.
SIGNAL_IN_CAPTURE = """
import os, signal, sys, time
class Pressed:
    def __init__(self, *signums):
        self.signums = signums
    def __repr__(self):
        for signum in self.signums:
            os.kill(os.getpid(), signum)
        return 'Pressed()'
def work(n, *signums):
    first = Pressed(*signums)
    rows = list(range(n))
    return 1 / 0
"""


def _files(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name, handler", [("SIGTERM", None), ("SIGTERM", "lambda *a: sys.exit(0)"),
                                           ("SIGHUP", None)])
def test_a_stop_signal_while_a_crash_is_dumped_cuts_the_dump_short_and_the_crash_ends_as_python_ends_it(
        workdir: Path, name: str, handler: Optional[str]) -> None:
    # A container's stop (SIGTERM) or a closed terminal (SIGHUP) during a big crash's dump: by
    # default either kills the process in mid-write, which left a temporary file and no dump.
    install = "signal.signal(signal.%s, %s)\n" % (name, handler) if handler else ""
    write(workdir / "prog.py", SIGNAL_IN_CAPTURE + install + "work(100000, signal.%s)\n" % name)
    plain = run([PYTHON, "prog.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == plain.returncode == 1, proc
    assert proc.stderr == ("ZeroDivisionError: division by zero\n"
                           "Traceback dumped into: traceback.pkl (partial: capture interrupted by %s)\n" % name)
    assert _files(workdir) == ["prog.py", "traceback.pkl"]   # nothing leaked
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.metadata.partial and "capture interrupted (%s)" % name in dump.metadata.cut[0]
    assert dump.frames[-1].variables["rows"].missing == "not captured: capture interrupted (%s)" % name


DUMP_THEN_GO_ON = """
from tbdump import dump_exception
try:
    work(100000, signal.SIGTERM)
except ZeroDivisionError as exc:
    try:
        dump_exception(exc, 'crash.pkl')
    except SystemExit as stop:
        print('SystemExit', stop.code, 'after the dump:', os.path.exists('crash.pkl'))
        raise
    print('went on')
"""


def test_sigterm_during_dump_exception_ends_the_program_once_its_dump_is_written(workdir: Path) -> None:
    write(workdir / "prog.py", SIGNAL_IN_CAPTURE + DUMP_THEN_GO_ON)
    proc = run([PYTHON, "prog.py"], workdir)
    # Killed by SIGTERM, as Python is by its default action: the program does not go on.
    assert (proc.returncode, proc.stdout, proc.stderr) == (-signal.SIGTERM, "", ""), proc
    assert _files(workdir) == ["crash.pkl", "prog.py"]
    dump = tbdump.load(workdir / "crash.pkl")
    assert dump.exception.type == "ZeroDivisionError" and dump.metadata.partial


def test_a_sigterm_handlers_exit_during_dump_exception_reaches_the_program(workdir: Path) -> None:
    # The common `signal.signal(SIGTERM, lambda *a: sys.exit(3))`: its SystemExit landed in a
    # value's repr, was taken for that value's failure, and the program went on, never stopping.
    write(workdir / "prog.py", SIGNAL_IN_CAPTURE + "signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n"
          + DUMP_THEN_GO_ON)
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "SystemExit 3 after the dump: True\n", ""), proc
    assert _files(workdir) == ["crash.pkl", "prog.py"]
    assert tbdump.load(workdir / "crash.pkl").metadata.partial


def test_the_programs_signal_handlers_run_after_the_dump_and_what_they_raise_reaches_the_program(
        workdir: Path) -> None:
    write(workdir / "prog.py", SIGNAL_IN_CAPTURE + """
from tbdump import dump_exception
class Reload(Exception):
    pass
ran = []
def on_usr1(signum, frame):
    ran.append(('usr1', os.path.exists('crash.pkl')))
    raise Reload()
def on_child(signum, frame):
    ran.append(('child', os.path.exists('crash.pkl')))
samples = []
def on_prof(signum, frame):   # a sampling profiler's
    samples.append(frame)
handlers = {signal.SIGUSR1: on_usr1, signal.SIGCHLD: on_child, signal.SIGPROF: on_prof}
for signum, handler in handlers.items():
    signal.signal(signum, handler)
signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
try:
    work(10, signal.SIGCHLD, signal.SIGUSR1)
except ZeroDivisionError as exc:
    try:
        dump_exception(exc, 'crash.pkl')
    except Reload:
        print('Reload out of dump_exception')
print(sorted(ran))
print('handlers back:', all(signal.getsignal(s) is h for s, h in handlers.items()))
print('profiler on:', signal.getitimer(signal.ITIMER_PROF)[1] == 0.001)
signal.setitimer(signal.ITIMER_PROF, 0)   # off before Python's exit gives SIGPROF its default: death
""")
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (0, ""), proc
    # Each handler ran once the dump was written; the one that raised, out of dump_exception.
    assert proc.stdout == ("Reload out of dump_exception\n"
                           "[('child', True), ('usr1', True)]\n"
                           "handlers back: True\n"
                           "profiler on: True\n")
    dump = tbdump.load(workdir / "crash.pkl")
    assert not dump.metadata.partial   # neither asks the program to stop: the dump is whole
    assert dump.frames[-1].variables["first"].repr == "Pressed()"


ASYNCIO_HANDLERS = SIGNAL_IN_CAPTURE + """
import asyncio, tbdump
calls = []
async def main():
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGUSR1, signal.SIGALRM):
        loop.add_signal_handler(signum, calls.append, signal.Signals(signum).name)
    try:
        work(10, signal.SIGUSR1, signal.SIGTERM)
    except ZeroDivisionError as exc:
        if sys.argv[1] == 'dump':
            tbdump.dump_exception(exc, 'crash.pkl')
        else:
            repr(exc.__traceback__.tb_next.tb_frame.f_locals['first'])   # the signals alone
    for _ in range(10):   # the loop's turns: it reads its wakeup fd, then calls the handlers
        await asyncio.sleep(0)
    print(sorted(calls))
asyncio.run(main())
"""


def test_an_asyncio_loops_signal_handlers_run_once_for_each_signal_that_came_during_a_dump(workdir: Path) -> None:
    """asyncio runs the handlers of loop.add_signal_handler for each signal number written to its
    wakeup fd (signal.set_wakeup_fd): a signal held for the dump was written there as it came and
    again as delivered after the dump, so its handler ran twice (a second SIGTERM is a forced stop
    to many servers), and the clock's ticks ran the loop's SIGALRM handler, though no alarm rang."""
    write(workdir / "prog.py", ASYNCIO_HANDLERS)
    plain = run([PYTHON, "prog.py", "plain"], workdir)
    dumped = run([PYTHON, "prog.py", "dump"], workdir)
    assert (plain.returncode, plain.stdout) == (0, "['SIGTERM', 'SIGUSR1']\n"), plain
    assert (dumped.returncode, dumped.stdout, dumped.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    # The SIGTERM cut the dump short, as without an event loop.
    dump = tbdump.load(workdir / "crash.pkl")
    assert dump.exception.type == "ZeroDivisionError" and dump.metadata.partial
    assert dump.frames[-1].variables["first"].missing == "not captured: capture interrupted (SIGTERM) while describing it"


def test_the_programs_alarm_goes_on_through_a_dump_and_one_due_meanwhile_rings_after_it(workdir: Path) -> None:
    write(workdir / "prog.py", """
import os, signal, time
from tbdump import dump_exception
class Slow:
    def __repr__(self):
        time.sleep(0.5)
        return 'Slow()'
def work():
    value = Slow()
    return 1 / 0
rang = []
signal.signal(signal.SIGALRM, lambda signum, frame: rang.append(os.path.exists('late.pkl')))

signal.alarm(100)   # a watchdog that ends a stuck program
before = signal.getitimer(signal.ITIMER_REAL)[0]
try:
    work()
except ZeroDivisionError as exc:
    dump_exception(exc, 'first.pkl')
left = signal.getitimer(signal.ITIMER_REAL)[0]
# It went on through the dump, where the value's repr slept half a second.
print('went on:', 0.5 <= before - left < 100)

signal.setitimer(signal.ITIMER_REAL, 0.2, 30)   # due while the dump is written, then every 30 s
try:
    work()
except ZeroDivisionError as exc:
    dump_exception(exc, 'late.pkl')
print('rang after the dump:', rang)
left, interval = signal.getitimer(signal.ITIMER_REAL)
print('next period:', interval == 30 and 20 < left < 30)
""")
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (0, ""), proc
    assert proc.stdout == "went on: True\nrang after the dump: [True]\nnext period: True\n"
    assert tbdump.load(workdir / "late.pkl").frames[-1].variables["value"].repr == "Slow()"


@pytest.mark.parametrize("way", ["runner", "hook", "child"])
def test_a_raising_signal_handler_never_runs_inside_tbdumps_report_of_a_crash_that_ends_the_program(
        workdir: Path, way: str) -> None:
    """Python runs no signal handler between an uncaught exception and its traceback printed: the
    program ends on its crash.  The program's handlers, handed back as the dump was written, ran in
    tbdump's report (the watchdog's join, the runner's last lines): what one raised came out as a
    raw traceback through tbdump, or as "failed to dump traceback", the dump's line lost (an alarm
    every 2 ms did so in most runs).  Here a thread of the program's signals it from when the dump
    is in place until the handler has run once."""
    write(workdir / "prog.py", """
        import glob, multiprocessing, os, signal, sys, threading
        if sys.argv[1] == 'hook':
            import tbdump; tbdump.set_excepthook()
        rang = []
        def ring(*args):
            rang.append(1)
            raise RuntimeError('the signal came')
        def signal_once_dumped():
            while not glob.glob('traceback*.pkl'):
                pass
            while not rang:
                os.kill(os.getpid(), signal.SIGUSR1)
                for spin in range(1000):
                    pass
        def work():
            signal.signal(signal.SIGUSR1, ring)
            threading.Thread(target=signal_once_dumped, daemon=True).start()
            rows = list(range(100))
            1 / 0
        if __name__ == '__main__':
            if sys.argv[1] != 'child':
                work()
            child = multiprocessing.get_context('fork').Process(target=work)
            child.start(); child.join()
    """)
    runner = [] if way == "hook" else ["-m", "tbdump"]
    said = ("Process ForkProcess-1:\n" if way == "child" else "") + "ZeroDivisionError: division by zero\n"
    package = str(Path(tbdump.__file__).parent)
    for attempt in range(4):
        for dump in workdir.glob("traceback*.pkl"):
            dump.unlink()
        proc = run([PYTHON] + runner + ["prog.py", way], workdir)
        assert proc.returncode == (0 if way == "child" else 1), proc
        assert re.match(re.escape(said) + r"Traceback dumped into: (\S+)\n", proc.stderr), proc.stderr
        # What Python itself may say after that, the handler run as it ends (threading's
        # shutdown: "Exception ignored in"), goes through none of tbdump's frames.
        assert package not in proc.stderr, proc.stderr
        dump = tbdump.load(workdir / proc.stderr.split("Traceback dumped into: ")[1].split("\n")[0])
        assert dump.frames[-1].locals["rows"] == list(range(100))


@pytest.mark.parametrize("way", [[], ["-m", "tbdump"]], ids=["hook", "runner"])
def test_a_program_that_calls_the_hook_itself_and_goes_on_gets_the_signals_that_came_meanwhile(
        workdir: Path, way: list) -> None:
    """A program may call sys.excepthook itself and go on (a Qt application's slot, a logger):
    the hook held the program's handlers to the end of its report, as for a crash that ends the
    program, and dropped what came meanwhile, so a SIGUSR1 sent as the report is said never ran
    its handler.  Here the program's own stderr sends it as tbdump says where the dump is."""
    write(workdir / "prog.py", """
        import io, os, signal, sys
        import tbdump
        tbdump.set_excepthook()
        came = []
        signal.signal(signal.SIGUSR1, lambda *args: came.append('SIGUSR1'))
        class Console(io.StringIO):  # the application's log view
            def write(self, text):
                if 'dumped into' in text:
                    os.kill(os.getpid(), signal.SIGUSR1)
                return super().write(text)
        sys.stderr = console = Console()
        try:
            {}['missing']
        except KeyError:
            sys.excepthook(*sys.exc_info())
        sys.stderr = sys.__stderr__
        print('reported:', 'dumped into' in console.getvalue(), 'came:', came)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for spin in range(10 ** 6):
                pass
        except KeyboardInterrupt:
            print('Ctrl-C after it: KeyboardInterrupt')
    """)
    proc = run([PYTHON] + way + ["prog.py"], workdir)
    assert (proc.returncode, proc.stdout) == (
        0, "reported: True came: ['SIGUSR1']\nCtrl-C after it: KeyboardInterrupt\n"), proc


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_as_the_dump_is_renamed_into_place_keeps_the_whole_dump(workdir: Path, name: str) -> None:
    # After capture, while the hashes and the safe layer were written, the program's handlers were
    # back already: SIGTERM killed it there (a temporary file, no dump), a Ctrl-C lost a whole dump
    # ("tbdump: failed to dump traceback (KeyboardInterrupt)").  An audit hook sends it at the rename.
    write(workdir / "prog.py", """
        import os, signal, sys
        def hook(event, args):
            if event == "os.rename" and str(args[1]).endswith("traceback.pkl"):
                os.kill(os.getpid(), signal.%s)
        sys.addaudithook(hook)
        def work():
            rows = list(range(10))
            return 1 / 0
        work()
    """ % name)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (1, "ZeroDivisionError: division by zero\n"
                                                 "Traceback dumped into: traceback.pkl\n"), proc
    assert _files(workdir) == ["prog.py", "traceback.pkl"]
    dump = tbdump.load(workdir / "traceback.pkl")
    assert not dump.metadata.partial and dump.frames[-1].locals["rows"] == list(range(10))


@pytest.mark.parametrize("module, options", [("tbdump.writer", []), ("tbdump.loghandler", ["--log-dumps", "logged"])])
def test_ctrl_c_while_the_runner_starts_ends_as_python_ends_on_ctrl_c_without_tbdumps_traceback(
        workdir: Path, module: str, options: list) -> None:
    # tbdump's modules load for a good part of its start-up (the runner's import, then its set-up in
    # main()): a Ctrl-C there ended in a KeyboardInterrupt traceback through runpy and tbdump.  The
    # module named is held as it is imported, so the signal lands there.
    write(workdir / "sitecustomize.py", HOLD_IMPORT)
    write(workdir / "prog.py", "print('the program ran')\n")
    env = env_for_child({"HOLD_IMPORT": module})
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), env["PYTHONPATH"]])
    proc = subprocess.Popen([PYTHON, "-m", "tbdump", *options, "prog.py"], cwd=str(workdir), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    ready = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert ready == "importing %s\n" % module, (ready, err)
    # Python's end on Ctrl-C (a shell's status 130), its last line alone; nothing ran, nothing dumped.
    assert (proc.returncode, out, err) == (-signal.SIGINT, "", "KeyboardInterrupt\n")
    assert _files(workdir) == ["prog.py", "sitecustomize.py"]


# Holds the compiling of the program (the source with HOLD_COMPILE in it), saying so on stderr,
# until Ctrl-C: the signal then lands as tbdump compiles the program, before its first line runs.
HOLD_COMPILE = """
    import os
    import sys
    import time

    def hold(event, args):
        source = args[0] if event == "compile" else None
        text = source.decode() if isinstance(source, bytes) else source
        if isinstance(text, str) and os.environ["HOLD_COMPILE"] in text:
            sys.stderr.write("compiling\\n")
            sys.stderr.flush()
            time.sleep(60)

    sys.addaudithook(hold)
"""


@pytest.mark.parametrize("way", [["prog.py"], ["-c", "print('the program ran')  # held"]], ids=["script", "-c"])
def test_ctrl_c_while_the_program_compiles_ends_as_python_ends_on_ctrl_c_without_a_dump(
        workdir: Path, way: list) -> None:
    # A large program takes seconds to compile: a Ctrl-C then was dumped as the program's crash,
    # with tbdump's frames (or none), over the last crash's dump.  The program has run no line:
    # python ends on it with its last line alone, as before the program is read.
    write(workdir / "sitecustomize.py", HOLD_COMPILE)
    write(workdir / "prog.py", "print('the program ran')  # held\n")
    env = env_for_child({"HOLD_COMPILE": "# held"})
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), env["PYTHONPATH"]])
    proc = subprocess.Popen([PYTHON, "-m", "tbdump", *way], cwd=str(workdir), env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    ready = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert ready == "compiling\n", (ready, err)
    assert (proc.returncode, out, err) == (-signal.SIGINT, "", "KeyboardInterrupt\n")
    assert _files(workdir) == ["prog.py", "sitecustomize.py"]
