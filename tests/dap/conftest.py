"""Fixtures for the tbdap tests: dumps made by really crashing the programs, and DAP clients."""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from .dapclient import REPO, DapClient

PROGRAMS = Path(__file__).resolve().parent / "programs"


def make_dump(program: Path, out: Path, python_flags: Sequence[str] = ()) -> Path:
    """Runs ``program`` until it crashes, as a user would, and returns its dump."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, *python_flags, "-m", "tbdump", "-o", str(out), str(program)]
    subprocess.run(cmd, env=env, cwd=str(program.parent), capture_output=True, timeout=120)
    assert out.exists(), "no dump written for %s" % program
    return out


@pytest.fixture(scope="session")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """dumps("nested") -> the dump of programs/nested.py, made once per test session."""
    made: Dict[str, Path] = {}
    folder = tmp_path_factory.mktemp("dumps")

    def get(name: str) -> Path:
        if name not in made:
            made[name] = make_dump(PROGRAMS / (name + ".py"), folder / (name + ".pkl"))
        return made[name]
    return get


@pytest.fixture
def clients() -> Iterator[List[DapClient]]:
    """Clients a test opens; all are closed after it, failing it on any schema violation."""
    opened: List[DapClient] = []
    yield opened
    for client in opened:
        client.close()


@pytest.fixture
def tbdap(clients: List[DapClient]) -> Callable[..., DapClient]:
    def spawn(*args: str, **kwargs: object) -> DapClient:
        client = DapClient.tbdap(*args, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client
    return spawn


@pytest.fixture
def replay(tbdap: Callable[..., DapClient], dumps: Callable[[str], Path]) -> Callable[..., DapClient]:
    """replay("nested", **launch options) -> a client stopped at the dump's exception."""
    def start(name: str, **options: object) -> DapClient:
        client = tbdap()
        client.initialize()
        client.start("launch", dict({"dumpFile": str(dumps(name))}, **options))
        return client
    return start


@contextlib.contextmanager
def serving(dump: Path, env: Optional[Dict[str, str]] = None) -> Iterator[int]:
    """A `python -m tbdap --port 0 DUMP` server while the block runs (``env`` added to its
    environment); yields its port."""
    with server_process(dump, env) as (port, _):
        yield port


@contextlib.contextmanager
def server_process(dump: Path, env: Optional[Dict[str, str]] = None) -> Iterator[Tuple[int, subprocess.Popen]]:
    """``serving``, yielding the server's process too (what it holds is read from /proc)."""
    proc = subprocess.Popen([sys.executable, "-m", "tbdap", "--port", "0", str(dump)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(REPO), **(env or {})})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, line
        yield int(match.group(1)), proc
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def server(dumps: Callable[[str], Path]) -> Iterator[int]:
    """A server of the nested dump; yields its port."""
    with serving(dumps("nested")) as port:
        yield port
