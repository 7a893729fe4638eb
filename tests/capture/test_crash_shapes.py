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
