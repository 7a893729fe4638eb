"""Diagnostics of a crash whose exception has no frames: a program that does not compile."""
from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .lsp_support import crash, diagnostics, line_of, open_file, start

pytestmark = pytest.mark.asyncio

BROKEN = """\
import os


def total(items):
    return items +* 2  # broken
"""


@pytest.mark.parametrize("opened", [True, False], ids=["open", "not-open"])
async def test_a_program_that_does_not_compile_has_its_error_on_the_syntax_errors_line(
        client: LanguageClient, workspace: Path, opened: bool) -> None:
    crash(workspace, BROKEN)
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = prog.as_uri()
    if opened:
        open_file(client, prog)
    [error] = await diagnostics(client, uri)
    assert error.severity == types.DiagnosticSeverity.Error and error.message.startswith("SyntaxError: invalid syntax")
    line = line_of(prog, "# broken")
    caret = prog.read_text().splitlines()[line].index("*")   # where Python's ^ points
    assert error.range.start == types.Position(line, caret)
