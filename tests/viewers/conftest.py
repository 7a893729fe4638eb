"""Fixtures for the terminal viewers' tests: tmux, real dumps of crashing programs, debugger venvs."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import pytest

from ..conftest import locked
from .children import REPO, child_env
from .terminal import Terminal

CACHE = Path(os.environ.get("TBDUMP_CACHE", Path.home() / ".cache" / "tbdump"))
DEBUGGERS = Path(__file__).resolve().parent / "debuggers"


def _unavailable(message: str) -> None:
    """CI must run these tests: there a missing tool fails; on a developer's machine it skips."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _installed(tool: str, why: str) -> str:
    """The tool's path, installed with apt-get (package of the same name) when missing and we
    are root (as in CI)."""
    with locked(CACHE / f"apt-{tool}.lock"):
        if shutil.which(tool) is None and os.geteuid() == 0 and shutil.which("apt-get"):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            install = ["apt-get", "install", "-y", "-q", tool]
            if subprocess.run(install, env=env, capture_output=True).returncode != 0:
                subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
                subprocess.run(install, env=env, capture_output=True)
    path = shutil.which(tool)
    if path is None:
        _unavailable(f"{tool} is needed {why} (apt-get install {tool})")
    return str(path)


@pytest.fixture(scope="session")
def tmux() -> str:
    return _installed("tmux", "to test tbdebug/tbpeep in a real terminal")


@pytest.fixture(scope="session")
def vim() -> str:
    """What peepshow's `??` runs."""
    return _installed("vim", "to test tbpeep's `??` (show source)")


def _pin(name: str) -> str:
    """tbdump's own pinned dependency, as requirements-test.txt has it."""
    for line in (REPO / "requirements-test.txt").read_text().splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.strip()
    raise LookupError(f"{name} is not pinned in requirements-test.txt")


def debugger_python(name: str) -> str:
    """The python of a venv holding the debuggers pinned in debuggers/<name>.txt, built once and cached.

    Kept out of the main test venv: pdb++ replaces pdb for every program of
    its environment, and the plain-pdb tests must keep testing plain pdb.
    """
    requirements = DEBUGGERS / f"{name}.txt"
    key = hashlib.sha256(requirements.read_bytes() + _pin("dill").encode()
                         + sys.version.encode()).hexdigest()[:12]
    venv = CACHE / f"viewers-{name}-{key}"
    python = venv / "bin" / "python"
    with locked(CACHE / f"viewers-{name}.lock"):
        if not (venv / ".done").exists():
            shutil.rmtree(venv, ignore_errors=True)
            steps = [[sys.executable, "-m", "venv", str(venv)],
                     [str(python), "-m", "pip", "install", "-q", "-r", str(requirements),
                      _pin("dill")]]
            for step in steps:
                done = subprocess.run(step, capture_output=True, text=True, timeout=900)
                if done.returncode != 0:
                    _unavailable(f"cannot build the {name} venv: {done.stderr.strip()[-500:]}")
            (venv / ".done").touch()
    return str(python)


@pytest.fixture(scope="session")
def ipdb_python() -> str:
    return debugger_python("ipdb-pudb")


@pytest.fixture(scope="session")
def pdbpp_python() -> str:
    return debugger_python("pdbpp")


PROGRAMS = Path(__file__).resolve().parent / "programs"


@pytest.fixture
def crash(tmp_path: Path) -> Callable[..., Path]:
    """Copy a program from programs/, crash it under `python -m tbdump`; the dump's path."""
    def make(program: str, *args: str, python: str = sys.executable) -> Path:
        shutil.copy(PROGRAMS / program, tmp_path / program)
        done = subprocess.run([python, "-m", "tbdump", program, *args], cwd=tmp_path,
                              env=child_env(), capture_output=True, text=True, timeout=120)
        dump = tmp_path / "traceback.pkl"
        assert dump.exists(), f"no dump written:\n{done.stdout}\n{done.stderr}"
        return dump
    return make


@pytest.fixture
def terminal(tmux: str, tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Start a command in a real terminal: terminal([argv], env={...})."""
    started: List[Terminal] = []

    def start(command: Sequence[str], env: Optional[Dict[str, str]] = None) -> Terminal:
        term = Terminal(tmux, tmp_path, command, child_env(env))
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()
