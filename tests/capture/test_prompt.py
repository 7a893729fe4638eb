"""Crashes at Python's own interactive prompt, fed on stdin (``python -i``, which reads its lines as
a terminal's, prompts and all) and after ``python -i``'s program: each crash is dumped and the
session goes on to the next line.  A Ctrl-C or SIGTERM that comes while a crash is dumped cuts the
dump short, then has its effect: it was dropped, the session going on as if it never came."""
from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import List

import pytest

import tbdump
from ..conftest import PYTHON, env_for_child, run, write
from ..hostile.harness import real_time, skip_without_real_time
from .test_ipython import GAVE_UP, PRESSED, STUBBORN

# A crash whose dump reads ``pressed``, whose repr then sends the process its signal.
CRASH = """
from pressed import Pressed

def work(signum):
    pressed = Pressed(signum)
    return 1 / 0
"""

SET_UP = "import signal, tbdump; from crash import work; tbdump.set_excepthook()"

# The three ways a prompt follows a crash: a line typed at it, ``python -i``'s program (the prompt
# opens after its crash), and that program run by ``python -m tbdump`` under -i.
WAYS = {
    "typed at the prompt": ([], [SET_UP, "work(signal.%s)"]),
    "python -i prog.py": (["prog.py"], []),
    "python -i -m tbdump prog.py": (["-m", "tbdump", "prog.py"], []),
}


def _python_i(workdir: Path, args: List[str], lines: List[str]) -> subprocess.CompletedProcess:
    write(workdir / "pressed.py", PRESSED)
    write(workdir / "crash.py", CRASH)
    return run([PYTHON, "-q", "-i", *args], workdir, stdin="\n".join(lines) + "\n")


def _prompt(workdir: Path, way: str, signame: str, lines: List[str]) -> subprocess.CompletedProcess:
    args, typed = WAYS[way]
    hook = "" if "tbdump" in args else "tbdump.set_excepthook()\n"
    write(workdir / "prog.py", "import signal, tbdump\nfrom crash import work\n%swork(signal.%s)\n" % (hook, signame))
    return _python_i(workdir, args, [line % signame if "%s" in line else line for line in typed] + lines)


def _dumped(stderr: str) -> List[str]:
    return re.findall(r"Traceback dumped into: (\S+) \(partial: capture interrupted by [\w-]+\)\n", stderr)


@pytest.mark.parametrize("way", list(WAYS))
def test_a_ctrl_c_while_a_crash_is_dumped_shows_keyboardinterrupt_and_the_session_goes_on(
        workdir: Path, way: str) -> None:
    """The interrupt held for the dump was dropped: the prompt came back as if no Ctrl-C had come.
    Raised out of sys.excepthook, it would read "Error in sys.excepthook" with tbdump's frames."""
    proc = _prompt(workdir, way, "SIGINT", ["print('alive')", "work(signal.SIGINT)", "print('alive again')"])
    assert proc.returncode == 0 and proc.stdout == "alive\nalive again\n", proc
    interrupted = ("ZeroDivisionError: division by zero\n"
                   "Traceback dumped into: %s (partial: capture interrupted by Ctrl-C)\nKeyboardInterrupt\n")
    names = _dumped(proc.stderr)
    # The runner dumps its program's crash; lines typed after it are dumped under set_excepthook().
    assert names[0] == "traceback.pkl" and len(names) == (1 if "tbdump" in WAYS[way][0] else 2), proc.stderr
    assert all(re.fullmatch(r"traceback\.\d+\.pkl", name) for name in names[1:]), proc.stderr
    for name in names:
        assert proc.stderr.count(interrupted % name) == 1, proc.stderr
        dump = tbdump.load(workdir / name)
        assert dump.metadata.partial and dump.exception.type == "ZeroDivisionError"
        assert dump.frames[-1].name == "work"
    assert "Error in sys.excepthook" not in proc.stderr and "tbdump" not in proc.stderr.replace(
        "Traceback dumped", ""), proc.stderr


@pytest.mark.parametrize("way", list(WAYS))
def test_a_sigterm_while_a_crash_is_dumped_ends_the_session_once_the_dump_is_written(
        workdir: Path, way: str) -> None:
    """A closed terminal's or a supervisor's SIGTERM was held for the dump, then dropped: the
    session went on as if it never came, and needed a second one (or SIGKILL) to end."""
    proc = _prompt(workdir, way, "SIGTERM", ["print('alive')"])
    assert proc.returncode == -signal.SIGTERM and proc.stdout == "", proc
    assert _dumped(proc.stderr) == ["traceback.pkl"], proc.stderr
    assert proc.stderr.rstrip().endswith("Traceback dumped into: traceback.pkl (partial: capture interrupted "
                                         "by SIGTERM)"), proc.stderr
    assert tbdump.load(workdir / "traceback.pkl").metadata.partial


def test_a_sigterm_handlers_exit_while_a_typed_lines_crash_is_dumped_ends_the_session_with_its_status(
        workdir: Path) -> None:
    """A program's SIGTERM handler that calls sys.exit(): its SystemExit ends the prompt, as the same
    sys.exit() typed there does, with its status."""
    handler = "_ = signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))"
    proc = _python_i(workdir, [], ["import signal, sys", handler, SET_UP, "work(signal.SIGTERM)", "print('alive')"])
    assert proc.returncode == 3 and proc.stdout == "", proc
    assert _dumped(proc.stderr) == ["traceback.pkl"] and "Error in sys.excepthook" not in proc.stderr, proc.stderr


# How a program ends, each with `x` set, which a prompt opened after it would print.
ENDINGS = {
    "a crash": "x = 41\n1 / 0\n",
    "sys.exit(3)": "import sys\nx = 41\nsys.exit(3)\n",
    "a Ctrl-C": "x = 41\nraise KeyboardInterrupt\n",
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_pythoninspect_with_stdin_piped_opens_no_prompt_and_ends_as_python_does(workdir: Path, ending: str) -> None:
    """PYTHONINSPECT=1 and stdin piped (`echo 'print(x)' | ...`): python opens no prompt (only -i or
    a terminal on stdin does) and ends with status 1 (it prints a sys.exit rather than ending on
    it), SIGINT's for a Ctrl-C; tbdump ended with status 0, as if the prompt had run."""
    write(workdir / "prog.py", ENDINGS[ending])
    python = run([PYTHON, "prog.py"], workdir, env={"PYTHONINSPECT": "1"}, stdin="print(x)\n")
    dumped = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"PYTHONINSPECT": "1"}, stdin="print(x)\n")
    assert python.returncode in (1, -signal.SIGINT) and python.stdout == ""
    assert (dumped.returncode, dumped.stdout) == (python.returncode, python.stdout)
    assert python.stderr.splitlines()[-1] in dumped.stderr.splitlines(), dumped.stderr


@pytest.mark.parametrize("way", [["prog.py"], ["-m", "prog"], ["-c", "import prog"]], ids=" ".join)
def test_a_sys_exit_after_the_program_set_pythoninspect_ends_as_in_python(workdir: Path, way: List[str]) -> None:
    """A program that sets PYTHONINSPECT itself: python reads the variable only as it ends, so a
    sys.exit is no crash to print; it ends a script or a command at once, and a module (-m) goes
    on to the prompt.  tbdump printed it (`SystemExit: 3`) and opened the prompt after each.  At
    a terminal, where the prompt reads the line waiting there."""
    write(workdir / "prog.py", "import os, sys\nos.environ['PYTHONINSPECT'] = '1'\nsys.exit(3)\n")
    ended = []
    for args in (way, ["-m", "tbdump", *way]):
        main, child = pty.openpty()
        os.write(main, b"raise SystemExit(7)\n")
        try:
            done = subprocess.run([PYTHON, *args], cwd=str(workdir), env=env_for_child(), stdin=child,
                                  capture_output=True, text=True, timeout=60)
        finally:
            os.close(main)
            os.close(child)
        ended.append((done.returncode, done.stderr))
    assert ended[1] == ended[0]
    assert ended[0] == ((7, ">>> ") if way[0] == "-m" else (3, ""))


def test_a_sessions_crashes_past_the_bound_keep_the_latest_dumps(workdir: Path) -> None:
    """A process's later crashes are bounded (MORE_DUMPS, 20), the first ones kept: a thread
    crashing in a loop must not fill the disk.  At a prompt a person makes each crash, and the one
    just made is the one to debug: the 22nd and 23rd lines said "not dumped" and the session's
    last crashes had no dump.  The oldest of the numbered dumps goes instead, and every name said
    still holds the crash it was said for, or is gone."""
    lines = ["import tbdump; tbdump.set_excepthook()"] + ["raise ValueError(%d)" % n for n in range(23)]
    proc = run([PYTHON, "-q", "-i"], workdir, stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0 and "not dumped" not in proc.stderr, proc.stderr
    said = re.findall(r"Traceback dumped into: (\S+)\n", proc.stderr)
    assert len(said) == 23 and said[0] == "traceback.pkl"
    kept = sorted(p.name for p in workdir.iterdir())
    assert kept == sorted([said[0]] + said[-20:]), (kept, said)
    for n, name in enumerate(said):
        if name in kept:
            assert tbdump.load(workdir / name).exception.message == str(n), name


def _stuck_prompt(workdir: Path, signame: str, scheduling: str) -> subprocess.CompletedProcess:
    """Under plain scheduling, or on one CPU at a real-time priority (where the watchdog, starved of
    the GIL by the stuck code, never gave up: the test hit its hang bound)."""
    write(workdir / "stubborn.py", STUBBORN)
    lines = ["import signal, tbdump; from stubborn import stuck; tbdump.set_excepthook()", "x = 42",
             "stuck(signal.%s)" % signame, "print('alive', x)"]
    argv = [PYTHON, "-q", "-i"]
    # A hang bound, not a speed limit: the watchdog gives up 6 s after the crash.
    proc = run(real_time(argv) if scheduling == "real-time" else argv, workdir, {"TBDUMP_MAX_SECONDS": "1"},
               stdin="\n".join(lines) + "\n", timeout=25)
    skip_without_real_time(proc.returncode)
    return proc


SCHEDULING = pytest.mark.parametrize("scheduling", ["shared", "real-time"])


@SCHEDULING
def test_a_capture_that_hangs_at_the_prompt_is_given_up_on_and_the_session_goes_on_once_the_code_lets_go(
        workdir: Path, scheduling: str) -> None:
    """The watchdog ended the process after the minimal dump, as for a program's last crash: the
    session, its names and all, was lost.  Now the prompt comes back once the stuck code lets go
    of the thread, here at the Ctrl-C that capture no longer holds."""
    proc = _stuck_prompt(workdir, "SIGINT", scheduling)
    assert proc.returncode == 0 and proc.stdout == "alive 42\n", proc
    assert proc.stderr.count("Traceback dumped into") == 1 and GAVE_UP in proc.stderr, proc.stderr
    assert "Error in sys.excepthook" not in proc.stderr
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.exception.type == "ZeroDivisionError" and dump.metadata.partial
    assert sorted(p.name for p in workdir.iterdir()) == ["stubborn.py", "traceback.pkl"]


@SCHEDULING
def test_a_sigterm_ends_a_prompt_whose_capture_was_given_up_on(workdir: Path, scheduling: str) -> None:
    """Stuck for good, the session ends as any other would: by SIGTERM (a closed terminal's SIGHUP
    alike), which capture no longer holds, and no temporary file is left."""
    proc = _stuck_prompt(workdir, "SIGTERM", scheduling)
    assert proc.returncode == -signal.SIGTERM and proc.stdout == "", proc
    assert proc.stderr.count("Traceback dumped into") == 1 and GAVE_UP in proc.stderr, proc.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["stubborn.py", "traceback.pkl"]


# A value whose repr fills the disk (no file may grow past 100 bytes from then on) and swallows
# every interruption of capture, for good.
DISK_FULL = """
import resource

class FillsTheDisk:
    def __repr__(self):
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, resource.RLIM_INFINITY))
        while True:
            try:
                while True:
                    try:
                        sum(range(10 ** 5))
                    except BaseException:
                        pass
            except BaseException:
                pass

def stuck():
    full = FillsTheDisk()
    return 1 / 0
"""


def test_a_prompt_given_up_on_with_the_disk_full_leaves_no_empty_dump(workdir: Path) -> None:
    """A later crash's name is made empty before its dump is written.  Its capture stuck for good
    and the watchdog's minimal dump refused by a full disk, the session went on (Python's prompt),
    and the empty file waited for the stuck code to let go: the session ended meanwhile (SIGTERM,
    a closed terminal's SIGHUP alike) left an empty traceback.<pid>.pkl, which no viewer opens."""
    write(workdir / "filling.py", DISK_FULL)
    lines = ["import tbdump; from filling import stuck; tbdump.set_excepthook()", "1 / 0", "stuck()"]
    proc = subprocess.Popen([PYTHON, "-q", "-i"], cwd=str(workdir), env=env_for_child({"TBDUMP_MAX_SECONDS": "1"}),
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.close()
    # A hang bound, not a speed limit: the watchdog gives up 6 s after the crash.
    bound = threading.Timer(25, proc.kill)
    bound.start()
    said = ""
    try:
        while "\ntbdump: " not in said and proc.poll() is None:   # the watchdog's word
            said += proc.stderr.readline()
        proc.send_signal(signal.SIGTERM)   # the watchdog gave up: capture holds it no longer
        said += proc.stderr.read()
        proc.wait()
    finally:
        bound.cancel()
    assert proc.returncode == -signal.SIGTERM, said
    assert said.count("Traceback dumped into") == 1, said
    assert re.search(r"tbdump: cannot write traceback\.\d+\.pkl: file too large\n", said), said
    assert sorted(p.name for p in workdir.iterdir()) == ["filling.py", "traceback.pkl"]



# The main thread's crash, whose capture a value holds past its budget (5 s: the watchdog gives
# up at 10), as STUBBORN's, which lets go at a Ctrl-C once the watchdog's dump is there where
# given SIGINT.  Meanwhile a thread dumps its own exception with a budget of 3.5 s: it waits for
# the dump in the main thread as long as its budget and 5 s (8.5 s), then writes its own, which a
# value whose repr takes 10 s makes last its 3.5 s, past the give-up.
STUCK_WHILE_A_THREAD_DUMPS = """
import threading, time, tbdump
from tbdump.budget import Budgets
from stubborn import Stubborn

stuck_now = threading.Event()

class StuckNow(Stubborn):
    def __repr__(self):
        stuck_now.set()
        return super().__repr__()

class Slow:
    def __repr__(self):
        time.sleep(10)
        return "slow"

def work():
    kept = [1, 2, 3]
    slow = Slow()
    stuck_now.wait()
    try:
        raise ValueError("in a thread")
    except ValueError as exc:
        tbdump.dump_exception(exc, "thread.pkl", budgets=Budgets.from_env(max_seconds=3.5, value_seconds=60))
    print("thread dumped", flush=True)

thread = threading.Thread(target=work)

def crash(signum):
    stubborn = StuckNow(signum)
    return 1 / 0
"""


def test_a_capture_given_up_at_the_prompt_leaves_another_threads_dump_whole(workdir: Path) -> None:
    """The watchdog's give-up removed every temporary dump file of the process, a thread's being
    written too: the session went on, and the thread's dump, its file gone from under it, fell
    back to a minimal one (its values lost).  Now it removes the given-up capture's own alone."""
    write(workdir / "stubborn.py", STUBBORN)
    write(workdir / "stuckdump.py", STUCK_WHILE_A_THREAD_DUMPS)
    lines = ["import signal, tbdump, stuckdump; tbdump.set_excepthook()", "stuckdump.thread.start()",
             "stuckdump.crash(signal.SIGINT)", "stuckdump.thread.join(); print('alive')"]
    # A hang bound, not a speed limit: the give-up comes 10 s after the crash, the thread's dump 2 s later.
    proc = run([PYTHON, "-q", "-i"], workdir, {"TBDUMP_MAX_SECONDS": "5"}, stdin="\n".join(lines) + "\n", timeout=60)
    assert proc.returncode == 0 and proc.stdout == "thread dumped\nalive\n", proc
    assert proc.stderr.count("Traceback dumped into") == 1 and GAVE_UP in proc.stderr, proc.stderr
    dump = tbdump.load(workdir / "thread.pkl")
    assert (dump.exception.message, dump.frames[-1].locals["kept"]) == ("in a thread", [1, 2, 3]), dump.metadata.cut
    assert sorted(p.name for p in workdir.iterdir()) == ["stubborn.py", "stuckdump.py", "thread.pkl", "traceback.pkl"]


def test_a_program_ended_by_the_give_up_leaves_no_half_written_dump_of_another_thread(workdir: Path) -> None:
    """Where the give-up ends the program (no prompt follows), the thread's dump being written ends
    with it, and its temporary file goes too, as the stuck capture's."""
    write(workdir / "stubborn.py", STUBBORN)
    write(workdir / "stuckdump.py", STUCK_WHILE_A_THREAD_DUMPS)
    write(workdir / "prog.py", "import stuckdump\nstuckdump.thread.start()\nstuckdump.crash(None)\n")
    # A hang bound, not a speed limit: the watchdog gives up 10 s after the crash.
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, {"TBDUMP_MAX_SECONDS": "5"}, timeout=60)
    assert proc.returncode == 1 and proc.stdout == "", proc
    assert proc.stderr == ("ZeroDivisionError: division by zero\n%s (code in a value kept it from being "
                           "interrupted))\n" % GAVE_UP)
    assert sorted(p.name for p in workdir.iterdir()) == ["prog.py", "stubborn.py", "stuckdump.py", "traceback.pkl"]
