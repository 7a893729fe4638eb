"""tblsp never unpickles: a dump whose object layer would run code runs nothing when shown."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .lsp_support import ENV, col_of, crash, diagnostics, hover_text, open_file, start

pytestmark = pytest.mark.asyncio

BOOBY_TRAP = """\
    import pathlib

    MARKER = pathlib.Path(__file__).resolve().with_name("unpickled.marker")


    class Trap:
        # Writing a dump pickles this harmlessly; unpickling it creates MARKER.
        def __reduce__(self):
            return (pathlib.Path.touch, (MARKER,))


    def handle(trap, items):
        return items[3]  # crash


    handle(Trap(), [Trap()])
    """


async def test_showing_a_dump_unpickles_nothing(client: LanguageClient, workspace: Path) -> None:
    dump = crash(workspace, BOOBY_TRAP)
    prog, marker = workspace / "prog.py", workspace / "unpickled.marker"
    assert not marker.exists()
    await start(client, workspace, dumpFiles=[str(dump)])
    uri = open_file(client, prog)
    await diagnostics(client, uri)
    # Every feature that shows values: hover, inline values, inlay hints, lenses, openDump.
    text = await hover_text(client, uri, col_of(prog, "# crash", "items"))
    assert text is not None and "Trap" in text
    assert await hover_text(client, uri, col_of(prog, "def handle", "trap")) is not None
    everything = types.Range(types.Position(0, 0), types.Position(99, 0))
    assert await client.text_document_inline_value_async(types.InlineValueParams(
        types.TextDocumentIdentifier(uri), everything,
        types.InlineValueContext(frame_id=0, stopped_location=everything)))
    assert await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(uri), everything))
    assert await client.text_document_code_lens_async(types.CodeLensParams(
        types.TextDocumentIdentifier(uri)))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tbdump.openDump", [str(dump)]))
    assert not marker.exists(), "tblsp unpickled the object layer"

    # The trap is real: loading the objects (what tblsp must never do) springs it.
    subprocess.run([sys.executable, "-c", (
        "import sys, tbdump\n"
        "d = tbdump.load(sys.argv[1])\n"
        "d.resolve(d.frames[-1].variables['trap'])\n"), str(dump)], env=ENV, check=True)
    assert marker.exists()
