"""Inline values, inlay hints, code lenses and commands, from a real dump."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from ..dap.dapclient import DapClient
from .lsp_support import (DIVIDE, by_severity, col_of, crash, diagnostics, hover_text, line_of,
                          open_file, start, until)

pytestmark = pytest.mark.asyncio


def whole(prog: Path) -> types.Range:
    return types.Range(types.Position(0, 0), types.Position(len(prog.read_text().splitlines()), 0))


async def divide(client: LanguageClient, workspace: Path, **options: Any) -> Path:
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    await start(client, workspace, **options)
    await diagnostics(client, open_file(client, prog))
    return prog


async def test_inline_values(client: LanguageClient, workspace: Path) -> None:
    prog = await divide(client, workspace)
    values = await client.text_document_inline_value_async(types.InlineValueParams(
        types.TextDocumentIdentifier(prog.as_uri()), whole(prog),
        types.InlineValueContext(frame_id=0, stopped_location=whole(prog))))
    assert values is not None
    got = {(v.range.start.line, v.text) for v in values if isinstance(v, types.InlineValueText)}
    crash_line, call_line = line_of(prog, "# crash"), line_of(prog, "# call")
    assert {(crash_line, "x = 5"), (crash_line, "y = 0"), (call_line, "x = 5"),
            (call_line, "y = 0"), (line_of(prog, "def div"), "x = 5")} <= got
    # Modules and functions are code, not data: no `sys = <module ...>` beside the import.
    assert not [t for _, t in got if t.startswith(("sys =", "div ="))]
    # Each value sits on its name.
    text = prog.read_text().splitlines()[crash_line]
    ranges = sorted((v.range.start.character, v.range.end.character) for v in values
                    if v.range.start.line == crash_line)
    assert ranges == [(text.index("x / y"), text.index("x / y") + 1),
                      (text.index("x / y") + 4, text.index("x / y") + 5)]


async def test_inline_values_leave_out_every_kind_of_function(client: LanguageClient, workspace: Path) -> None:
    """A method of a class taken from its __dict__ is code too, as the Variables view groups it."""
    crash(workspace, """\
        def boom(make, keys):
            return make(dict, keys) / 0  # crash


        boom(dict.__dict__["fromkeys"], "ab")
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    await diagnostics(client, open_file(client, prog))
    values = await client.text_document_inline_value_async(types.InlineValueParams(
        types.TextDocumentIdentifier(prog.as_uri()), whole(prog),
        types.InlineValueContext(frame_id=0, stopped_location=whole(prog))))
    got = [v.text for v in values or () if isinstance(v, types.InlineValueText)
           and v.range.start.line == line_of(prog, "# crash")]
    assert got == ["keys = 'ab'"]


async def test_inline_values_only_in_range(client: LanguageClient, workspace: Path) -> None:
    prog = await divide(client, workspace)
    crash_line = line_of(prog, "# crash")
    only = types.Range(types.Position(crash_line, 0), types.Position(crash_line, 99))
    values = await client.text_document_inline_value_async(types.InlineValueParams(
        types.TextDocumentIdentifier(prog.as_uri()), only,
        types.InlineValueContext(frame_id=0, stopped_location=only)))
    assert values and {v.range.start.line for v in values} == {crash_line}


async def test_inlay_hints_at_line_ends(client: LanguageClient, workspace: Path) -> None:
    prog = await divide(client, workspace)
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(prog.as_uri()), whole(prog)))
    assert hints is not None
    lines = prog.read_text().splitlines()
    crash_line = line_of(prog, "# crash")
    [hint] = [h for h in hints if h.position.line == crash_line]
    assert hint.label == "x = 5, y = 0"
    assert hint.position.character == len(lines[crash_line])


async def test_two_dumps_of_a_file_show_both_sets_of_values(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    crash(workspace, DIVIDE, args=["8", "0"], output=workspace / "second.tbdump")
    prog = workspace / "prog.py"
    await start(client, workspace)
    await diagnostics(client, open_file(client, prog))
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(prog.as_uri()), whole(prog)))
    assert hints is not None
    crash_line = line_of(prog, "# crash")
    assert sorted(h.label for h in hints if h.position.line == crash_line) == [
        "x = 5, y = 0  [traceback.pkl]", "x = 8, y = 0  [second.tbdump]"]


async def test_two_dumps_of_the_same_name_are_told_apart(client: LanguageClient,
                                                         workspace: Path) -> None:
    """Both dumps are traceback.pkl, in folders of their own: every text that says which
    dump a value or a crash is from names it with the folder that tells them apart."""
    for folder, x in (("a", "5"), ("b", "8")):
        (workspace / folder).mkdir()
        crash(workspace, DIVIDE, args=[x, "0"], output=workspace / folder / "traceback.pkl")
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    diags = await diagnostics(client, uri, lambda ds: len(
        by_severity(ds, types.DiagnosticSeverity.Error)) == 2)
    assert sorted(d.message for d in by_severity(diags, types.DiagnosticSeverity.Error)) == [
        "ZeroDivisionError: division by zero [a/traceback.pkl]",
        "ZeroDivisionError: division by zero [b/traceback.pkl]"]
    crash_line = line_of(prog, "# crash")
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(uri), whole(prog)))
    assert sorted(h.label for h in hints or [] if h.position.line == crash_line) == [
        "x = 5, y = 0  [a/traceback.pkl]", "x = 8, y = 0  [b/traceback.pkl]"]
    text = await hover_text(client, uri, col_of(prog, "# crash", "x"))
    assert text is not None
    wheres = [line for line in text.splitlines() if "innermost frame" in line]
    assert sorted(wheres) == ["*local in div() · innermost frame · a/traceback.pkl*",
                              "*local in div() · innermost frame · b/traceback.pkl*"], text


async def test_inlay_hints_can_be_turned_off(client: LanguageClient, workspace: Path) -> None:
    prog = await divide(client, workspace, inlayHints=False)
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(prog.as_uri()), whole(prog)))
    assert not hints


async def test_code_lenses_on_the_crash_line(client: LanguageClient, workspace: Path) -> None:
    prog = await divide(client, workspace)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        types.TextDocumentIdentifier(prog.as_uri())))
    assert lenses is not None
    dump = str(workspace / "traceback.pkl")
    assert [(lens.range.start.line, lens.command.title, lens.command.command,
             list(lens.command.arguments or [])) for lens in lenses if lens.command] == [
        (line_of(prog, "# crash"), "Debug this crash", "tbdump.debugCrash", [dump]),
        (line_of(prog, "# crash"), "Show in terminal", "tbdump.showReport", [dump]),
    ]


async def test_lens_commands_answer_other_editors(client: LanguageClient,
                                                  workspace: Path) -> None:
    """Editors without the VS Code extension run the lens through the server: what it
    returns works as given."""
    crash(workspace, DIVIDE, args=["5", "0"])
    result = await start(client, workspace)
    commands = result.capabilities.execute_command_provider
    assert commands is not None
    assert {"tbdump.openDump", "tbdump.closeDump", "tbdump.debugCrash",
            "tbdump.showReport"} <= set(commands.commands)
    dump = str(workspace / "traceback.pkl")
    got = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tbdump.showReport", [dump]))
    assert got is not None and got["dump"] == dump
    report = subprocess.run(got["command"], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0 and "ZeroDivisionError: division by zero" in report.stdout, report
    got = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tbdump.debugCrash", [dump]))
    assert got is not None
    pdb = subprocess.run(got["command"], input="p x, y\nq\n", capture_output=True, text=True, timeout=60)
    assert pdb.returncode == 0 and "(5, 0)" in pdb.stdout, pdb
    adapter = DapClient.spawn(got["dap"]["adapter"], name="tbdap")
    try:
        adapter.initialize()
        adapter.start("launch", got["dap"]["launch"])
        thread = adapter.ok("threads")["threads"][0]["id"]
        top = adapter.ok("stackTrace", {"threadId": thread})["stackFrames"][0]
        assert top["name"] == "div" and top["source"]["path"].endswith("prog.py"), top
    finally:
        adapter.close()
    await until(lambda: [m for m in client.messages if "tbdebug" in m.message],
                "the command line shown to the user")


async def test_client_commands_are_not_advertised(client: LanguageClient,
                                                  workspace: Path) -> None:
    """The VS Code extension runs the lens commands itself; advertising them would clash."""
    result = await start(client, workspace,
                         clientCommands=["tbdump.debugCrash", "tbdump.showReport"])
    commands = result.capabilities.execute_command_provider
    assert commands is not None
    assert sorted(commands.commands) == ["tbdump.closeDump", "tbdump.openDump"]


async def test_capabilities(client: LanguageClient, workspace: Path) -> None:
    caps = (await start(client, workspace)).capabilities
    assert caps.hover_provider and caps.inline_value_provider and caps.inlay_hint_provider
    assert caps.code_lens_provider is not None
    assert caps.position_encoding == types.PositionEncodingKind.Utf16
