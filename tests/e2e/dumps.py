"""Test programs and their dumps: copy a program, crash it under `python -m tbdump`, find marked lines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent / "programs"


def make_dump(program: Path, cwd: Path, *args: str, dump_name: str = "traceback.pkl") -> Path:
    """Runs `python -m tbdump program` in cwd, as a user would; returns the dump it wrote."""
    result = subprocess.run(
        [sys.executable, "-m", "tbdump", str(program), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
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
