"""Crash shapes of real programs (interrupts, threads, pipes) run as a user runs them."""
from __future__ import annotations

import signal
from pathlib import Path

import tbdump
from ..conftest import PYTHON, run, write


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
