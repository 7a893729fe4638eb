"""Writes are atomic and survive the mocks a test suite leaves behind."""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import tbdump
from ..conftest import PYTHON, env_for_child, run, write


def test_leaked_mocks_of_open_replace_and_tempfile_do_not_break_the_dump(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import builtins, os, tempfile
        import tbdump
        tbdump.set_excepthook()
        def broken(*a, **k):
            raise OSError("mocked")
        builtins.open = broken
        os.replace = broken
        os.rename = broken
        tempfile.NamedTemporaryFile = broken
        tempfile.mkstemp = broken
        value = 41
        raise RuntimeError(value + 1)
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.stderr == "RuntimeError: 42\nTraceback dumped into: traceback.pkl\n"
    assert tbdump.load(workdir / "traceback.pkl").frames[-1].locals["value"] == 41


def test_killed_writer_never_leaves_a_torn_dump(workdir: Path) -> None:
    (workdir / "traceback.pkl").write_bytes(b"")
    write(workdir / "first.py", "x = 1\nraise ValueError('first')\n")
    run([PYTHON, "-m", "tbdump", "first.py"], workdir)
    good = (workdir / "traceback.pkl").read_bytes()
    write(workdir / "big.py", """
        import sys
        big = [float(i) for i in range(6_000_000)]
        sys.stderr.write("ready\\n"); sys.stderr.flush()
        raise RuntimeError("big")
    """)
    proc = subprocess.Popen([PYTHON, "-m", "tbdump", "big.py"], cwd=workdir, env=env_for_child(),
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    assert proc.stderr.readline() == "ready\n"
    time.sleep(0.15)  # into the write of a ~60 MB object layer
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (workdir / "traceback.pkl").read_bytes() == good
    assert tbdump.load(workdir / "traceback.pkl").exception.message == "first"
