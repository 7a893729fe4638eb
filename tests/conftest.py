"""Shared helpers for tests that run real programs in subprocesses."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PYTHON = sys.executable


def pytest_configure(config: pytest.Config) -> None:
    # The tests press Ctrl-C in their programs as a terminal does.  A run started in the
    # background by a shell script (`make test &`, a job without job control) has SIGINT
    # ignored, which every child inherits: Python then sets no KeyboardInterrupt handler, and a
    # test's SIGINT did nothing (a gevent program's capture ran on to its budget, or hung).
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def env_for_child(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment a child Python gets: this tree importable, no user secrets or keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBDUMP_")}
    # No empty entry: Python reads one as the working directory, which no child would have first.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PATH"] = str(Path(PYTHON).parent) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONBREAKPOINT", None)
    env.update(extra or {})
    return env


def run(args: List[str], cwd: Path, env: Optional[Dict[str, str]] = None, timeout: float = 60,
        stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=str(cwd), env=env_for_child(env), capture_output=True, text=True,
                          timeout=timeout, input=stdin)


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


def texts_inline(safe: Dict[str, Any], read: Callable[[str], bytes]) -> Dict[str, Any]:
    """``safe`` with each source's text in its ``text``, where a writer may also keep it, and not
    in the member that held it: what a test edits."""
    for source in safe["sources"].values():
        member = source.pop("member", None)
        if member is not None:
            source["text"] = json.loads(read(member))
    return safe


# Program source: what freezegun's freeze_time does to the clocks (checked by hand with freezegun
# 1.5.5 and time-machine 3.5.1; emulated, not a dependency): its fakes of time.monotonic and
# time.time become every module's attribute that was the real one, tbdump's too.
FREEZE_TIME = """
def freeze_time():
    import sys, time
    real = (time.monotonic, time.time)
    frozen = {id(real[0]): lambda: 1000.0, id(real[1]): lambda: 1577836800.0}
    for module in list(sys.modules.values()):
        for name, value in list(vars(module).items()):
            if id(value) in frozen and value in real:
                setattr(module, name, frozen[id(value)])
"""


def rewrite_members(dump: Path, out: Path, change: Callable[[Dict[str, bytes]], None]) -> Path:
    """A copy of ``dump`` whose members (name -> bytes) ``change`` edits, written with valid
    checksums: what another machine, or someone crafting a file, could have written."""
    from tbdump.container import ContainerReader, ContainerWriter
    reader = ContainerReader(str(dump))
    try:
        members = {name: reader.read(name) for name in reader.manifest["members"]}
    finally:
        reader.close()
    change(members)
    writer = ContainerWriter(str(out), signed=False, mode=0o644)
    for name, data in members.items():
        writer.add(name, data, compress=name != "objects")
    writer.finish(None, {})
    return out


def rewrite_safe_layer(dump: Path, out: Path, change: Callable[[Dict[str, Any]], None]) -> Path:
    """A copy of ``dump`` whose safe layer ``change`` edits (the sources' texts in it)."""
    def edit(members: Dict[str, bytes]) -> None:
        safe = texts_inline(json.loads(members["safe"]), members.__getitem__)
        change(safe)
        members["safe"] = json.dumps(safe).encode()
    return rewrite_members(dump, out, edit)


def globals_unreadable(dump: Path, out: Path) -> Path:
    """A copy of ``dump`` whose modules' globals members are not JSON: found damaged only when
    a viewer first reads them."""
    def damage(members: Dict[str, bytes]) -> None:
        for name in members:
            if name.startswith("globals."):
                members[name] = b"{not json"
    return rewrite_members(dump, out, damage)


BIGLOBALS = REPO / "tests" / "dap" / "programs" / "biglobals.py"


def biglobals_dump(folder: Path) -> Path:
    """The dump of programs/biglobals.py (its stack through 40 modules of 3 000 globals), run
    from a copy in ``folder``, where it writes its modules."""
    program = Path(shutil.copy(BIGLOBALS, folder))
    proc = run([PYTHON, "-m", "tbdump", program.name], folder, env={"TBDUMP_MAX_SECONDS": "600"}, timeout=600)
    assert proc.stderr == "RuntimeError: deep in module 39\nTraceback dumped into: traceback.pkl\n", proc
    return folder / "traceback.pkl"


def globals_entries_damaged(dump: Path, out: Path) -> List[int]:
    """A copy of ``dump`` whose object index entries of every module global's record cannot be
    followed (what a reader of them would find); the numbers of those records, in order."""
    from tbdump.objindex import ENTRY, pack
    refs: List[int] = []

    def edit(members: Dict[str, bytes]) -> None:
        refs.extend(sorted(value["ref"] for name in json.loads(members["safe"])["globals"].values()
                           for value in json.loads(members[name]).values() if "ref" in value))
        index = list(ENTRY.iter_unpack(members["objects.idx"]))
        for ref in refs:
            index[ref] = (2 ** 64 - 1, 2 ** 64 - 1, 1, 1)
        members["objects.idx"] = pack(index)
    rewrite_members(dump, out, edit)
    return refs


@contextmanager
def locked(lock: Path) -> Iterator[None]:
    """Serialise a slow one-time setup (a cached venv, a build) across pytest-xdist workers and
    concurrent runs: an exclusive flock on the file ``lock``, its folder made if missing."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


CACHE = Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "tbdump"


def cached_venv(requirements: Path, name: str) -> Path:
    """The python of a venv with ``requirements`` installed, made once per pins and interpreter
    under ~/.cache/tbdump (under a lock: test workers ask for it at once); tbdump is not in it,
    a test puts this tree on PYTHONPATH.  Raises RuntimeError with pip's words when it cannot
    be made (offline)."""
    pins = requirements.read_bytes()
    key = hashlib.sha256(sys.version.encode() + b" " + pins).hexdigest()[:12]
    venv = CACHE / ("%s-%s" % (name, key))
    python = venv / "bin" / "python"
    with locked(CACHE / ("%s.lock" % name)):
        if not (venv / ".done").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
            done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                   "-r", str(requirements)], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError("cannot build the %s venv: %s" % (name, done.stderr[-1500:]))
            (venv / ".done").write_bytes(pins)
    return python


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
