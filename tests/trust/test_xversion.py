"""Cross-version matrix: a dump written by each of Python 3.9-3.13 opens under each of them.

Every interpreter runs tbdump from this source tree (PYTHONPATH) in a venv
with the pinned dill and the viewers' dependencies (xversion-requirements.txt),
cached under ~/.cache/tbdump and shared with test_xversion_viewers.py.  A
missing interpreter fails the test: CI must have them all.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

from ..conftest import locked
from ..hostile.harness import REPO, base_env, write_program

VERSIONS = ["3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]
PYENV = Path(os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))) / "versions"
REQUIREMENTS = Path(__file__).with_name("xversion-requirements.txt")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "tbdump"

WRITER = '''
    import collections, dataclasses, sys
    Point = collections.namedtuple("Point", "x y")
    @dataclasses.dataclass
    class Item:
        name: str
        qty: int
    def make_adder(n):
        return lambda x: x + n
    class Batch(list):
        pass
    def crash(count):
        batch = Batch([1, 2])   # before the others: under another Python its items must not cost theirs
        plain = {"ints": [1, 2, 3], "text": "héllo", "nested": {"t": (1.5, None, True)}}
        point = Point(1, 2)
        item = Item("bolt", count)
        adder = make_adder(10)
        code = crash.__code__
        class Local:
            def __init__(self): self.v = 7
        local = Local()
        raise ValueError("bad count %d" % count)
    crash(3)
'''

# One reader process per (writer, reader): the safe layer in full, every value resolves
# (to the object or a placeholder, never an error), plain data equal, the version said.
# Across versions, what was pickled by value (code inside: the lambda, classes of
# __main__) is a placeholder by design: foreign bytecode must not run.  Instances
# of those classes come back as stand-ins holding their data.
READER = r'''
import io, json, sys, tbdump
from tbdump.report import render, Style
dump = tbdump.load(sys.argv[1])
frame = dump.frames[-1]
values = {name: dump.resolve(v) for name, v in frame.variables.items()}
render(dump, io.StringIO(), Style(False), True)
print(json.dumps({
    "written_by": dump.metadata.version_info, "note": dump.version_note,
    "exception": [dump.exception.type, dump.exception.message], "frame": frame.name,
    "names": sorted(frame.variables), "plain": values["plain"] if isinstance(values["plain"], dict) else None,
    "point": list(values["point"]) if isinstance(values["point"], tuple) else None,
    "point_args": getattr(values["point"], "_tbdump_args", None),
    "fields": [getattr(values["local"], "v", None), getattr(values["item"], "name", None),
               getattr(values["item"], "qty", None)],
    "kinds": {n: "placeholder" if isinstance(o, tbdump.Placeholder) else "object" for n, o in values.items()},
    "adder": values["adder"](1) if callable(values["adder"]) else None,
}, default=repr))
'''


def _interpreter(version: str) -> Path:
    return PYENV / version / "bin" / "python"


def _venv(version: str) -> Path:
    """A venv for ``version`` with the pinned requirements, made once and cached (under a lock:
    test workers ask for the same venvs at once)."""
    pins = REQUIREMENTS.read_bytes()
    key = hashlib.sha256(version.encode() + b" " + pins).hexdigest()[:12]
    venv = CACHE / ("xver-%s-%s" % (version, key))
    python = venv / "bin" / "python"
    with locked(CACHE / ("xver-%s.lock" % version)):
        if not (venv / ".done").exists():
            subprocess.run([str(_interpreter(version)), "-m", "venv", "--clear", str(venv)], check=True,
                           capture_output=True)
            done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                   "-r", str(REQUIREMENTS)], capture_output=True, text=True)
            assert done.returncode == 0, "cannot build the %s venv: %s" % (version, done.stderr[-1500:])
            (venv / ".done").write_bytes(pins)
    return python


def test_the_pins_are_the_locked_ones() -> None:
    """A package pinned for every Python has the version the main test venv has: what the
    viewers are tested with on 3.11 is what they are tested with on the others."""
    def pins(path: Path) -> Dict[str, str]:
        return {name.lower(): version for name, _, version in
                (line.split("#")[0].strip().partition("==") for line in path.read_text().splitlines())
                if version and ";" not in version}
    locked_pins = pins(REPO / "requirements-test.lock")
    wrong = {name: version for name, version in pins(REQUIREMENTS).items() if locked_pins.get(name) != version}
    assert not wrong, "xversion-requirements.txt differs from requirements-test.lock: %s" % wrong


def _env() -> Dict[str, str]:
    return base_env(PYTHONPATH=str(REPO))


def test_all_interpreters_are_installed() -> None:
    missing = [v for v in VERSIONS if not _interpreter(v).is_file()]
    assert not missing, "missing interpreters (install them with pyenv): %s" % missing


# Every module of the packages, imported by the oldest Python of requires-python: mypy checks
# for 3.10 at the oldest (pyproject.toml), so a 3.10-only line (a `match`, `X | Y` outside an
# annotation) would be found only where a crash or a viewer reaches it.  Left out: what needs
# a package the venv does not have (pytest for the plugin; peepshow, which refuses 3.9).
IMPORT_ALL = r'''
import importlib, pkgutil, sys
failed = []
for package in ("tbdump", "tbdap", "tbdebug", "tblsp"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if module.name != "tbdump.pytest_plugin":
            try:
                importlib.import_module(module.name)
            except Exception as exc:
                failed.append("%s: %r" % (module.name, exc))
print("\n".join(failed))
'''


def test_every_module_imports_and_compiles_under_the_oldest_python(tmp_path: Path) -> None:
    python = str(_venv(VERSIONS[0]))
    # Its bytecode goes to a scratch folder, not into the tree's __pycache__.
    env = dict(_env(), PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    done = subprocess.run([python, "-W", "error", "-c", IMPORT_ALL], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr[-2000:]
    packages = [str(REPO / name) for name in ("tbdump", "tbdap", "tbdebug", "tbpeep", "tblsp")]
    compiled = subprocess.run([python, "-W", "error", "-m", "compileall", "-q", *packages], env=env,
                              capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_every_writer_opens_under_every_reader(tmp_path: Path) -> None:
    with ThreadPoolExecutor(len(VERSIONS)) as pool:
        pythons = dict(zip(VERSIONS, pool.map(_venv, VERSIONS)))
    prog = write_program(tmp_path, WRITER)

    def write(version: str) -> Tuple[str, Path]:
        dump = tmp_path / ("dump-%s.pkl" % version)
        proc = subprocess.run([str(pythons[version]), "-m", "tbdump", "-o", str(dump), str(prog)],
                              cwd=str(tmp_path), env=_env(), capture_output=True, timeout=120)
        assert proc.returncode == 1 and dump.is_file(), (version, proc.stderr[-2000:])
        return version, dump

    with ThreadPoolExecutor(4) as pool:
        dumps = dict(pool.map(write, VERSIONS))

    def read(pair: Tuple[str, str]) -> Tuple[Tuple[str, str], object]:
        writer, reader = pair
        proc = subprocess.run([str(pythons[reader]), "-c", READER, str(dumps[writer])],
                              cwd=str(tmp_path), env=_env(), capture_output=True, timeout=120)
        if proc.returncode != 0:
            return pair, proc.stderr.decode(errors="replace")[-1500:]
        return pair, json.loads(proc.stdout)

    pairs = [(w, r) for w in VERSIONS for r in VERSIONS]
    with ThreadPoolExecutor(4) as pool:
        results = dict(pool.map(read, pairs))

    problems: List[str] = []
    for (writer, reader), got in sorted(results.items()):
        where = "written by %s, read by %s" % (writer, reader)
        if not isinstance(got, dict):
            problems.append("%s: the reader failed: %s" % (where, got))
            continue
        expect_note = writer[:4] != reader[:4]
        checks = [
            (got["written_by"][:2] == [int(p) for p in writer.split(".")[:2]], "writer version recorded"),
            ((got["note"] is not None) == expect_note, "version note %r" % got["note"]),
            (got["exception"] == ["ValueError", "bad count 3"], "exception %r" % got["exception"]),
            (got["names"] == sorted(["count", "batch", "plain", "point", "item", "adder", "code", "Local", "local"]),
             "names %r" % got["names"]),
            (got["plain"] == {"ints": [1, 2, 3], "text": "héllo", "nested": {"t": [1.5, None, True]}},
             "plain data %r" % got["plain"]),
            (got["kinds"]["plain"] == got["kinds"]["count"] == "object", "plain values %r" % got["kinds"]),
            # A class pickled by value cannot run elsewhere; its instances still hold their data.
            (got["fields"] == [7, "bolt", 3], "instances of the program's classes %r" % got["fields"]),
        ]
        if writer != reader:    # a tuple subclass's stand-in holds the values it was made of
            checks.append((got["point_args"] == [1, 2], "namedtuple's stand-in %r" % got["point_args"]))
        if writer == reader:
            checks.append((got["point"] == [1, 2], "namedtuple %r" % got["point"]))
            checks.append((got["adder"] == 11, "lambda by value %r" % got["adder"]))
            checks.append((set(got["kinds"].values()) == {"object"}, "all objects %r" % got["kinds"]))
        problems += ["%s: %s" % (where, what) for ok, what in checks if not ok]
    assert not problems, "\n".join(problems)


# Values that need redaction's persistent ids, and values that do not, in turn: each Python's
# C pickler is given them, and relieved of them (3.13 lets them go), record after record.
TURNS = '''
    import os
    def handle():
        numbers = list(range(1000))                                   # none needed yet
        url = "postgres://app:" + os.environ["VALUE"] + "@db/prod"    # a URL's password
        floats = [0.5] * 1000                                         # none needed again
        urls = ["https://u:%s@h/%d" % (os.environ["VALUE"], i) for i in range(3)]   # needed again
        raise RuntimeError("x")
    handle()
'''

TURNS_READER = r'''
import json, sys, tbdump
values = tbdump.load(sys.argv[1]).frames[-1].locals
print(json.dumps([values["numbers"] == list(range(1000)), values["url"], values["floats"] == [0.5] * 1000,
                  values["urls"]]))
'''


def test_every_python_hides_secrets_in_values_between_plain_ones(tmp_path: Path) -> None:
    canary = "CANARY" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:16]
    with ThreadPoolExecutor(len(VERSIONS)) as pool:
        pythons = dict(zip(VERSIONS, pool.map(_venv, VERSIONS)))
    prog = write_program(tmp_path, TURNS)
    env = dict(_env(), VALUE=canary)

    def dump_and_read(version: str) -> Tuple[str, object]:
        dump = tmp_path / ("dump-%s.pkl" % version)
        proc = subprocess.run([str(pythons[version]), "-m", "tbdump", "-o", str(dump), str(prog)],
                              cwd=str(tmp_path), env=env, capture_output=True, timeout=120)
        if proc.returncode != 1 or not dump.is_file():
            return version, proc.stderr.decode(errors="replace")[-1500:]
        if canary.encode() in dump.read_bytes():
            return version, "the secret is in the dump"
        read = subprocess.run([str(pythons[version]), "-c", TURNS_READER, str(dump)], cwd=str(tmp_path),
                              env=env, capture_output=True, timeout=120)
        return version, json.loads(read.stdout) if read.returncode == 0 else read.stderr.decode()[-1500:]

    with ThreadPoolExecutor(4) as pool:
        results = dict(pool.map(dump_and_read, VERSIONS))
    expected = [True, "postgres://app:<redacted>@db/prod", True, ["https://u:<redacted>@h/%d" % i for i in range(3)]]
    wrong = {version: got for version, got in results.items() if got != expected}
    assert not wrong, wrong
