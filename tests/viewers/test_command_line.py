"""What the terminal viewers (tbdebug, tbpeep) say about themselves: their version, and their name as started."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import tbdump

from .children import console_script, run

VIEWERS = ["tbdebug", "tbpeep"]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_version(viewer: str) -> None:
    done = run([sys.executable, "-m", viewer, "--version"], Path.cwd())
    assert done.returncode == 0 and done.stdout == f"{viewer} {tbdump.__version__}\n"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_usage_errors_name_the_program_as_it_was_started(viewer: str, tmp_path: Path) -> None:
    """`python -m tbdebug` when run so, `tbdebug` when run as the console script pip installs."""
    for command, name in (([sys.executable, "-m", viewer], f"python -m {viewer}"),
                          ([sys.executable, str(console_script(tmp_path, viewer))], viewer)):
        done = run([*command, "--bogus"], tmp_path)
        assert done.returncode == 2
        assert done.stderr.startswith(f"usage: {name} ")
        assert done.stderr.splitlines()[-1] == f"{name}: error: unrecognized arguments: --bogus"


@pytest.mark.parametrize("viewer", [*VIEWERS, "tbdump.report"])
def test_an_empty_dump_name_is_a_usage_error(viewer: str, tmp_path: Path) -> None:
    """`tbdebug "$UNSET"` said "tbdebug: : no such file"."""
    done = run([sys.executable, "-m", viewer, ""], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"usage: python -m {viewer} ")
    assert done.stderr.splitlines()[-1] == f"python -m {viewer}: error: argument DUMP: no dump file named"
