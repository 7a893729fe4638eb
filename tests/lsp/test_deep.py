"""A huge dump (900 frames, 200 000 globals): grouped diagnostics, bounded lists."""
from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .lsp_support import (by_severity, col_of, crash, diagnostics, hover_text, line_of, open_file,
                         start)

pytestmark = pytest.mark.asyncio

DEEP = """\
    import sys

    sys.setrecursionlimit(5000)
    for i in range(200_000):
        globals()[f"g{i}"] = i


    def down(n):
        if n == 0:
            return {}["bottom"]  # crash
        return down(n - 1)  # recurse


    down(898)  # start
    """


async def test_deep_dump(client: LanguageClient, workspace: Path) -> None:
    # Capture's default 10 s budget can run out on a busy CI machine; this test is about
    # showing a huge dump, so capture gets the time to write it whole.
    crash(workspace, DEEP, env={"TBDUMP_MAX_SECONDS": "300"})
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    diags = await diagnostics(client, uri)

    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.message == "KeyError: 'bottom'"
    infos = by_severity(diags, types.DiagnosticSeverity.Information)
    calls = {d.range.start.line: d for d in infos}
    # 898 recursive call sites make one diagnostic, not 898.
    assert sorted(calls) == [line_of(prog, "# recurse"), line_of(prog, "# start")]
    assert calls[line_of(prog, "# recurse")].message == (
        "called from here 898 times (recursion): `down(n - 1)`; "
        "innermost call with n=0, outermost with n=897")
    assert calls[line_of(prog, "# start")].message == "called from here: `down(898)` with n=898"
    # The stack is linked by its ends: 10 outermost and 30 innermost frames of 900.
    related = error.related_information or []
    assert len(related) == 40
    assert related[0].message == "1/900 <module>"
    assert related[10].message == "871/900 down (after 860 frames not listed)"
    assert related[-1].message == "900/900 down: KeyError: 'bottom'"

    # How fast the hover answers is measured in benchmarks/bench_lsp.py (the "deep" dump).
    text = await hover_text(client, uri, col_of(prog, "# recurse", "n - 1"))
    assert text is not None and text.startswith("**n**: `int`") and "\n0\n" in text
    assert "(frame 899 of 900)" in text and "and 894 more" in text

    text = await hover_text(client, uri, col_of(prog, "# start", "down"))
    assert text is not None and "function" in text
