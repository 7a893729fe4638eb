"""Writes are atomic and survive the mocks a test suite leaves behind."""
from __future__ import annotations

import os
import signal
import stat
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
    deadline = time.monotonic() + 30
    while not list(workdir.glob(".traceback.pkl.*.tmp")):  # into the write of a ~60 MB object layer
        assert proc.poll() is None and time.monotonic() < deadline, "the dump was never being written"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (workdir / "traceback.pkl").read_bytes() == good
    assert tbdump.load(workdir / "traceback.pkl").exception.message == "first"

    # Nothing can be done at a SIGKILL: its temporary file stays, named for its writer, until a
    # later dump of that name finds the writer gone and the file an hour old (a writer elsewhere,
    # whose pid means nothing here, is never that slow).
    leftover, = workdir.glob(".traceback.pkl.%d.*.tmp" % proc.pid)
    an_hour_ago = time.time() - 3601
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    live = workdir / (".traceback.pkl.%d.0123abcd.tmp" % os.getpid())   # this test's: a writer still alive
    live.write_bytes(b"")
    os.utime(live, (an_hour_ago, an_hour_ago))
    young = workdir / ".traceback.pkl.999999999.0123abcd.tmp"   # no such process, but written just now
    young.write_bytes(b"")
    run([PYTHON, "-m", "tbdump", "first.py"], workdir)
    assert sorted(p.name for p in workdir.glob(".*.tmp")) == sorted([live.name, young.name])
    assert tbdump.load(workdir / "traceback.pkl").exception.message == "first"


def test_dump_goes_through_a_symlink_and_never_replaces_a_special_file(workdir: Path) -> None:
    write(workdir / "prog.py", "x = 1\nraise ValueError('boom')\n")
    (workdir / "dumps").mkdir()
    (workdir / "latest.pkl").symlink_to(workdir / "dumps" / "today.pkl")   # dangling until written
    proc = run([PYTHON, "-m", "tbdump", "-o", "latest.pkl", "prog.py"], workdir)
    assert proc.stderr == "ValueError: boom\nTraceback dumped into: latest.pkl\n", proc
    assert (workdir / "latest.pkl").is_symlink()
    assert tbdump.load(workdir / "dumps" / "today.pkl").exception.message == "boom"

    os.mkfifo(workdir / "pipe")       # as /dev/null would be: renaming over it would replace it
    (workdir / "folder").mkdir()
    plain = run([PYTHON, "prog.py"], workdir)
    for target in ("pipe", "folder"):
        proc = run([PYTHON, "-m", "tbdump", "-o", target, "prog.py"], workdir)
        assert proc.returncode == 1, proc
        # No dump: Python's report stands, then why.
        assert proc.stderr == plain.stderr + "tbdump: cannot write %s: not a regular file\n" % target, proc
    assert stat.S_ISFIFO((workdir / "pipe").stat().st_mode) and (workdir / "folder").is_dir()
    assert not list(workdir.glob(".*.tmp"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_dump_is_readable_by_its_owner_alone_unless_told_otherwise(workdir: Path) -> None:
    write(workdir / "prog.py", "password_hint = 'the cat'\nraise ValueError('boom')\n")
    (workdir / "traceback.pkl").write_bytes(b"an older file anyone could read")
    (workdir / "traceback.pkl").chmod(0o644)
    # The program's memory is in the file: like a core dump, it is 600 under any umask,
    # replacing a readable file or not.
    crash = ["/bin/sh", "-c", 'umask "$1"; shift; exec "$@"', "sh"]
    proc = run(crash + ["000", PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.stderr == "ValueError: boom\nTraceback dumped into: traceback.pkl\n", proc
    assert _mode(workdir / "traceback.pkl") == 0o600
    assert tbdump.load(workdir / "traceback.pkl").exception.message == "boom"

    # A machine whose dumps a group reads says so, and gets exactly that, whatever the umask.
    proc = run(crash + ["077", PYTHON, "-m", "tbdump", "-o", "shared.pkl", "prog.py"], workdir,
               {"TBDUMP_FILE_MODE": "640"})
    assert proc.stderr == "ValueError: boom\nTraceback dumped into: shared.pkl\n", proc
    assert _mode(workdir / "shared.pkl") == 0o640

    # A bad value is said once, and the crash still gets its dump, private.
    proc = run([PYTHON, "-m", "tbdump", "-o", "typo.pkl", "prog.py"], workdir, {"TBDUMP_FILE_MODE": "rw-r--r--"})
    assert proc.stderr == ("tbdump: ignoring TBDUMP_FILE_MODE='rw-r--r--': expected permissions in octal,"
                           " such as 600 or 644; 600 is used\n"
                           "ValueError: boom\n"
                           "Traceback dumped into: typo.pkl\n"), proc
    assert _mode(workdir / "typo.pkl") == 0o600
