"""Running a crashing program with plain Python and under tbdump, and loading its dump apart.

Shared by the hostile and trust suites: every check goes through the command
line a user types, in fresh processes.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DUMPED_PREFIX = b"Traceback dumped into: "

# A sitecustomize for the plain run: records, for every frame of the uncaught
# exception, the names Python itself sees in f_locals, then prints exactly
# what Python prints (it calls the original hook).
_RECORDER = '''
import json, os, sys
def _record(t, e, tb, _orig=sys.__excepthook__, _open=open):  # bound before any test mock
    frames = []
    walk = tb
    while walk is not None:
        f = walk.tb_frame
        try:
            names = sorted(str(n) for n in dict(f.f_locals) if n != "__builtins__")
        except BaseException:
            names = None
        frames.append([f.f_code.co_name, names])
        walk = walk.tb_next
    with _open(os.environ["TBDUMP_TEST_LOCALS"], "w") as fh:
        json.dump(frames, fh)
    _orig(t, e, tb)
sys.excepthook = _record
'''


def base_env(**extra: str) -> Dict[str, str]:
    """A clean environment: no inherited TBDUMP_* settings, fixed hash seed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBDUMP_")}
    env.pop("PYTHONPATH", None)
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


# A value whose repr catches the time budget's interruption and goes on, forever: no alarm
# ends it, only tbdump's giving up on the capture (GIVE_UP_SECONDS past the budget).  An
# interruption that lands after an except, before its loop's next turn (where Python checks
# for signals), leaves that loop: the outer one takes it.  With one loop, a loaded machine
# let an alarm land there in 5 runs of 120, and capture returned a plain partial dump.
SWALLOWS_EVERY_INTERRUPTION = """
class Stubborn:
    def __repr__(self):
        while True:
            try:
                while True:
                    try:
                        sum(range(10 ** 6))
                    except BaseException:
                        pass
            except BaseException:
                pass
"""


# Runs the rest of its command line on one CPU at a real-time priority, where the main thread,
# computing, never lets another thread of its process run unless it waits: a thread of tbdump's
# (the watchdog) gets no CPU, as on a machine loaded enough.  77 where the scheduler refuses.
_REAL_TIME = """if 1:
    import os, sys
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (AttributeError, PermissionError):
        sys.exit(77)
    os.execv(sys.executable, [sys.executable] + sys.argv[1:])
"""


def real_time(argv: List[str]) -> List[str]:
    """``argv`` (a Python command line) run as _REAL_TIME says."""
    return [argv[0], "-c", _REAL_TIME] + argv[1:]


def skip_without_real_time(returncode: int) -> None:
    if returncode == 77:
        pytest.skip("no real-time scheduling here")


def write_program(directory: Path, source: str, name: str = "prog.py") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


class Run:
    """One finished process."""

    def __init__(self, proc: "subprocess.CompletedProcess[bytes]", seconds: float) -> None:
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds

    def __repr__(self) -> str:
        return "<exit %s after %.1fs; stderr tail: %r>" % (self.returncode, self.seconds, self.stderr[-2000:])


def run(argv: List[str], cwd: Path, env: Dict[str, str], timeout: float = 120) -> Run:
    import time
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return Run(proc, time.monotonic() - start)


def run_plain(prog: Path, args: List[str], env: Dict[str, str],
              python: str = PYTHON) -> Tuple[Run, Optional[list]]:
    """``python prog.py``; also the frames' local names as Python saw them."""
    hookdir = prog.parent / ".plainhook"
    hookdir.mkdir(exist_ok=True)
    (hookdir / "sitecustomize.py").write_text(_RECORDER)
    record = hookdir / "locals.json"
    env = dict(env, PYTHONPATH=str(hookdir), TBDUMP_TEST_LOCALS=str(record))
    result = run([python, str(prog)] + args, prog.parent, env)
    names = json.loads(record.read_text()) if record.exists() else None
    return result, names


def run_tbdump(prog: Path, args: List[str], env: Dict[str, str], dump: str = "traceback.pkl",
               python: str = PYTHON, traceback: bool = True, timeout: float = 120) -> Run:
    """``python -m tbdump [-t] -o DUMP prog.py ARGS`` with tbdump from this source tree."""
    env = dict(env, PYTHONPATH=str(REPO))
    argv = [python, "-m", "tbdump", "-o", dump] + (["--traceback"] if traceback else [])
    return run(argv + [str(prog)] + args, prog.parent, env, timeout)


# tbdump's line, one per dumped crash; after Python's report, which need not end its last line
# (an exception's __notes__ of None is printed so).
_DUMPED_LINE = re.compile(re.escape(DUMPED_PREFIX) + rb"([^\n]*)\n?")


def without_dump_line(stderr: bytes) -> bytes:
    """stderr minus the "Traceback dumped into: ..." lines tbdump adds (one per dumped crash)."""
    kept, found = _DUMPED_LINE.subn(b"", stderr)
    assert found, "expected a %r line in %r" % (DUMPED_PREFIX, stderr[-3000:])
    return kept


def last_dump(stderr: bytes, cwd: Path) -> Path:
    """The dump of the crash that ended the program: the last "Traceback dumped into" line's
    (a crash before it, in a thread, keeps its own file)."""
    lines = _DUMPED_LINE.findall(stderr)
    assert lines, "expected a %r line in %r" % (DUMPED_PREFIX, stderr[-3000:])
    return cwd / os.fsdecode(lines[-1]).split(" (")[0]


def snapshot(directory: Path) -> Dict[str, Tuple[int, int]]:
    """Every file under ``directory`` with its size and mtime (ns)."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            out[os.path.relpath(p, directory)] = (st.st_size, st.st_mtime_ns)
    return out


# Loads a dump in a fresh process the way a user would, resolves every value
# of every frame (which loads the object layer), and reports what it saw.
LOADER = r'''
import json, sys, tbdump
path, objects = sys.argv[1], sys.argv[2]
dump = tbdump.load(path, objects=None if objects == "default" else False)
out = {"frames": [], "partial": dump.metadata.partial, "cut": dump.metadata.cut,
       "exception": dump.exception.type, "message": dump.exception.message,
       "version_note": dump.version_note}
for frame in dump.exception.frames:
    names = sorted(frame.variables)
    resolved = {}
    for name, value in frame.variables.items():
        obj = dump.resolve(value)
        # Asked of its type: isinstance() reads a value's __class__, which raises for the programs'
        # liars and a dead weak proxy restored, as it raised live.
        resolved[name] = [type(obj).__name__, issubclass(type(obj), tbdump.Placeholder)]
    out["frames"].append({"name": frame.name, "above": frame.above_handler, "vars": names,
                          "resolved": resolved})
for ns in dump.namespaces.values():
    for value in ns.values():
        dump.resolve(value)
out["objects_allowed"], out["safe_reason"] = dump.objects_allowed, dump.safe_reason  # after loading
json.dump(out, sys.stdout)
'''


def load_fresh(dump: Path, cwd: Path, env: Dict[str, str], objects: str = "default",
               python: str = PYTHON) -> Tuple[Run, Optional[dict]]:
    env = dict(env, PYTHONPATH=str(REPO))
    result = run([python, "-c", LOADER, str(dump), objects], cwd, env)
    try:
        report = json.loads(result.stdout) if result.returncode == 0 else None
    except ValueError:
        report = None
    return result, report


def members(dump: Path) -> Iterator[Tuple[str, bytes]]:
    """Every member of a dump, decompressed, as the container lists them."""
    sys.path.insert(0, str(REPO))
    try:
        from tbdump.container import ContainerReader
    finally:
        sys.path.remove(str(REPO))
    reader = ContainerReader(str(dump))
    try:
        for name, info in reader.manifest["members"].items():
            view, encoding = reader.raw(name)
            data = bytes(view)
            yield name, zlib.decompress(data) if encoding == "zlib" else data
    finally:
        reader.close()
