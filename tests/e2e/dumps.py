"""Test programs and their dumps: copy a program, crash it under `python -m tbdump`, find marked lines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..conftest import env_for_child

PROGRAMS = Path(__file__).resolve().parent / "programs"


def make_dump(program: Path, cwd: Path, *args: str, dump_name: str = "traceback.pkl") -> Path:
    """Runs `python -m tbdump program` in cwd, as a user would; returns the dump it wrote.

    The tbdump of this tree writes it, as this tree's tbdap reads it (the interpreter's own
    install may be another clone's, whose format this tree cannot read).
    """
    result = subprocess.run(
        [sys.executable, "-m", "tbdump", str(program), *args],
        cwd=cwd, env=env_for_child(), capture_output=True, text=True, timeout=120,
    )
    dump = cwd / "traceback.pkl"
    assert dump.exists(), (
        f"python -m tbdump {program.name} wrote no dump (exit {result.returncode}):\n"
        f"{result.stdout}\n{result.stderr}"
    )
    if dump_name != "traceback.pkl":
        dump = dump.rename(cwd / dump_name)
    return dump


def copy_program(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copy(PROGRAMS / name, target)
    return target


def marked_line(program: Path, mark: str) -> int:
    """The 1-based line number of the `# MARK: mark` comment."""
    for number, line in enumerate(program.read_text().splitlines(), start=1):
        if f"# MARK: {mark}" in line:
            return number
    raise AssertionError(f"no '# MARK: {mark}' in {program}")
