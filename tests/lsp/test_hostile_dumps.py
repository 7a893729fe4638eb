"""tblsp on crafted dumps: a file a dump names cannot hang the server, fill its memory or have
its content shown, and no string of a dump becomes live Markdown in a hover.

Each case is a real dump with its safe layer edited (tests/crafted.py); every
request waits at most WAIT seconds, so a server that hangs fails the test.
"""
from __future__ import annotations

import asyncio
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, List

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from ..conftest import rewrite_safe_layer
from ..crafted import Safe, name_file
from .lsp_support import (DIVIDE, WAIT, ask_about, by_severity, capped_server, col_of, crash, diagnostics,
                          hover_text, line_of, messages, open_file, start)

pytestmark = pytest.mark.asyncio


def live_markdown(markdown: str) -> List[str]:
    """The links, images, autolinks and HTML a CommonMark renderer makes of ``markdown``.

    Fenced code blocks, code spans (a backtick run closed by a run of the same
    length) and backslash escapes are taken out first, as the renderer takes them.
    """
    text = re.sub(r"^(`{3,}).*?^\1`*$", "", markdown, flags=re.M | re.S)
    kept, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        if text[i] == "`":
            run = "`" * (len(text) - i - len(text[i:].lstrip("`")))
            close = re.compile(f"(?<!`){run}(?!`)").search(text, i + len(run))
            i = close.end() if close else i + len(run)
            continue
        kept.append(text[i])
        i += 1
    return re.findall(r"!?\[[^\]]*\]\([^)]*\)|<[A-Za-z/!?][^>]*>", "".join(kept))


BEACON = "![pixel](https://attacker.invalid/beacon.png?who=dev)"
LINK = "[**Click to fix**](https://attacker.invalid/)"


async def test_no_string_of_a_dump_becomes_live_markdown_in_a_hover(
        client: LanguageClient, workspace: Path, tmp_path: Path) -> None:
    def edit(safe: Safe) -> None:
        inner = safe["frames"][safe["exceptions"][0]["frames"][-1]]
        inner["vars"]["x"]["t"] = f"int` {BEACON} {LINK} `"   # the type line's code span
        inner["qualname"] = f"div {BEACON} <img src=x> *"     # the italic "where" line
        inner["vars"]["x"]["r"] = f"5\n\n{BEACON}"            # the value, and its children
    dump = rewrite_safe_layer(crash(workspace, DIVIDE, args=["5", "0"]), tmp_path / "md.pkl", edit)
    await start(client, workspace, dumpFiles=[str(dump)])
    prog = workspace / "prog.py"
    text = await asyncio.wait_for(hover_text(client, open_file(client, prog),
                                             col_of(prog, "# crash", "x")), WAIT)
    assert text is not None and "attacker.invalid" in text
    assert live_markdown(text) == [], text


@pytest.mark.parametrize("named", ["fifo", "/dev/zero", "/dev/stdin"])
async def test_a_named_file_that_is_not_a_regular_file_is_never_read(
        workspace: Path, tmp_path: Path, named: str) -> None:
    # A FIFO or /dev/stdin (the server's own LSP input) blocked the server for good:
    # not even `shutdown` was answered; /dev/zero was read until memory ran out.
    if named == "fifo":
        named = str(tmp_path / "fifo")
        os.mkfifo(named)
    dump = rewrite_safe_layer(crash(workspace, DIVIDE, args=["5", "0"]), tmp_path / "named.pkl",
                              lambda safe: name_file(safe, named, sha256="0" * 64))
    async with capped_server() as client:
        await asyncio.wait_for(start(client, workspace, dumpFiles=[str(dump)], pollInterval=0), WAIT)
        # Answered once the dump is shown, which reads the files it names.
        hovered = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(Path(named).as_uri()), types.Position(4, 11))), WAIT)
        assert hovered is None


async def test_a_file_the_dump_has_no_copy_of_is_not_quoted(
        client: LanguageClient, workspace: Path, tmp_path: Path) -> None:
    # tblsp reads the files a dump names to place the crash on them (its purpose),
    # but it shows only text from the dump: a dump naming some other local file
    # must not get that file's lines into the editor's Problems panel.
    secret = tmp_path / "notes.txt"
    secret.write_text("".join(f"TOP SECRET line {n} " * 4 + "\n" for n in range(1, 21)))
    dump = rewrite_safe_layer(crash(workspace, DIVIDE, args=["5", "0"]), tmp_path / "named.pkl",
                              lambda safe: name_file(safe, str(secret), text=None, sha256=None))
    await start(client, workspace, dumpFiles=[str(dump)])
    diags = await diagnostics(client, secret.as_uri(), lambda d: len(d) >= 2)
    [called] = by_severity(diags, types.DiagnosticSeverity.Information)
    assert called.message == "called from here"    # no `text of the call`
    assert not [d for d in diags if "SECRET" in d.message], diags


def acting(text: str) -> str:
    """What of ``text`` a terminal would act on or an editor would draw reordered or unseen:
    controls but tab and newline, lone surrogates, format characters (bidi overrides and
    isolates, zero-width ones: "Trojan Source"), line and paragraph separators."""
    return "".join(c for c in text if c not in "\t\n"
                   and unicodedata.category(c) in ("Cc", "Cs", "Cf", "Zl", "Zp"))


async def test_control_and_format_characters_reach_the_editor_as_escapes(
        client: LanguageClient, workspace: Path) -> None:
    """Terminal editors draw hovers and diagnostics on the terminal: a dump's escape
    sequences (a repr, an exception message) arrive spelt out (\\x1b), not live; and no
    editor may draw a bidi override that reorders what the developer reads (\\u202e)."""
    crash(workspace, """\
        class Shady:
            def __repr__(self):
                return "\\x1b]0;pwned\\x07\\x1b[2J bill\\u202e\\u2066fdp.exe\\u2069"

        Evil = type("Evil\\u202eRorre", (Exception,), {})   # the diagnostics' code

        def boom(obj):
            seen = obj  # use
            raise Evil("bad \\x1b[31mred\\r \\u2067admin\\u2069\\u200b\\ufeff\\u2028x\\u2029")  # crash

        boom(Shady())
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    diags = await diagnostics(client, uri)
    texts = [d.message for d in diags] + [str(d.code) for d in diags] + [
        r.message for d in diags for r in d.related_information or []]
    texts.append(await hover_text(client, uri, col_of(prog, "# use", "obj")) or "")
    whole = types.Range(types.Position(0, 0), types.Position(line_of(prog, "boom(Shady") + 1, 0))
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(uri), whole)) or []
    texts += [h.label for h in hints if isinstance(h.label, str)]
    values = await client.text_document_inline_value_async(types.InlineValueParams(
        types.TextDocumentIdentifier(uri), whole,
        types.InlineValueContext(frame_id=0, stopped_location=whole))) or []
    texts += [v.text for v in values if isinstance(v, types.InlineValueText)]
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        types.TextDocumentIdentifier(uri)))
    texts += [lens.command.tooltip or "" for lens in lenses or [] if lens.command]
    assert [t for t in texts if acting(t)] == []
    joined = "\n".join(texts)
    assert "bad \\x1b[31mred\\r \\u2067admin\\u2069\\u200b\\ufeff\\u2028x\\u2029" in joined, joined
    assert "\\x1b]0;pwned\\x07" in joined and "bill\\u202e\\u2066fdp.exe\\u2069" in joined, joined
    assert "Evil\\u202eRorre" in [d.code for d in diags], diags


def _every_frame(**fields: Any) -> Any:
    """An edit setting ``fields`` in every frame of a dump (``pos=None`` removes the position)."""
    def edit(safe: Safe) -> None:
        for frame in safe["frames"]:
            frame.update(fields)
            if frame.get("pos", 0) is None:
                del frame["pos"]
    return edit


# Numbers a dump may hold (a C int, as Python's own), none of them a place in the file.
FAR_PLACES = {
    "line 0": _every_frame(line=0, pos=None),
    "line -3": _every_frame(line=-3, pos=None),
    "line 2**31 - 1": _every_frame(line=2 ** 31 - 1, pos=None),
    "position from line -5": _every_frame(pos=[-5, -2, 4, 9]),
    "negative columns": _every_frame(pos=[5, 5, -5, -1]),
    "position to line 2**31 - 1": _every_frame(pos=[1, 2 ** 31 - 1, 0, 1]),
}


@pytest.mark.parametrize("case", sorted(FAR_PLACES))
async def test_lines_and_columns_outside_the_file_are_answered(workspace: Path, tmp_path: Path,
                                                               case: str) -> None:
    # Each was an internal error of every request placing the crash (an LSP position is never
    # negative), or a loop to line 2**31 that blocked the server for good.
    dump = rewrite_safe_layer(crash(workspace, DIVIDE, args=["5", "0"]), tmp_path / "far.pkl",
                              FAR_PLACES[case])
    async with capped_server() as client:
        await asyncio.wait_for(start(client, workspace, dumpFiles=[str(dump)]), WAIT)
        prog = workspace / "prog.py"
        uri = open_file(client, prog)
        await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), col_of(prog, "# crash", "x"))), WAIT)
        await ask_about(client, uri, line_of(prog, "# call") + 1)
        assert messages(client) == [], messages(client)
