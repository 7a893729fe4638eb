"""Diagnostics: the crash, its call sites and chained exceptions, on the files of a real dump."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .lsp_support import DIVIDE, Client, by_severity, col_of, crash, diagnostics, line_of, open_file, start

pytestmark = pytest.mark.asyncio


async def test_crash_line_and_call_site(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    diags = await diagnostics(client, uri)

    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.message == "ZeroDivisionError: division by zero"
    assert error.source == "tbdump"
    crash_line = line_of(prog, "# crash")
    text = prog.read_text().splitlines()[crash_line]
    assert error.range == types.Range(types.Position(crash_line, text.index("x / y")),
                                      types.Position(crash_line, text.index("x / y") + 5))

    [call] = by_severity(diags, types.DiagnosticSeverity.Information)
    assert call.message == "called from here: `div(x, y)` with x=5, y=0"
    call_line = line_of(prog, "# call")
    assert call.range.start.line == call_line
    assert call.source == "tbdump"

    # The whole stack, outermost first, on every diagnostic of it.
    for diag in (error, call):
        assert diag.related_information is not None
        assert [r.location.range.start.line for r in diag.related_information] == \
            [call_line, crash_line]
        assert all(r.location.uri == uri for r in diag.related_information)
        assert "ZeroDivisionError" in diag.related_information[-1].message


async def test_a_call_site_names_star_parameters_and_elides_past_four(client: LanguageClient,
                                                                        workspace: Path) -> None:
    """*args and **kwargs are arguments of the call as much as the named ones, in the order of
    the def; past four, an ellipsis says there are more."""
    crash(workspace, """\
        def few(a, *rest, key=1, **extra):
            return many(a, *rest)  # few

        def many(p, q, r, s, t):
            return p / 0  # crash

        few(1, 2, 3, 4, 5, key=6, more=7)  # call
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    calls = sorted((d.range.start.line, d.message) for d in by_severity(diags, types.DiagnosticSeverity.Information))
    assert calls == [
        (line_of(prog, "# few"), "called from here: `many(a, *rest)` with p=1, q=2, r=3, s=4, …"),
        (line_of(prog, "# call"), "called from here: `few(1, 2, 3, 4, 5, key=6, more=7)` with a=1, "
                                  "rest=(2, 3, 4, 5), key=6, extra={'more': 7}")], calls


async def test_a_form_feed_line_moves_nothing(client: LanguageClient, workspace: Path) -> None:
    """Python ends lines at \\n only: a form feed (GNU style) or U+2028 in the file is inside a line."""
    crash(workspace, """\
        def g(a):
            note = "page\u2028break"
            return len("ééé") + a + 1 / 0  # crash
        \x0c
        def h(b):
            return g(b + 1)  # call
        h(41)
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    assert not by_severity(diags, types.DiagnosticSeverity.Warning), diags   # not "differs"
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    crash_at = col_of(prog, "# crash", "1 / 0")
    assert (error.range.start, error.range.end.line, error.range.end.character) == (
        crash_at, crash_at.line, crash_at.character + 5), error.range
    calls = sorted((d.range.start.line, d.message) for d in by_severity(diags, types.DiagnosticSeverity.Information))
    assert calls == [(line_of(prog, "# call"), "called from here: `g(b + 1)` with a=42"),
                     (line_of(prog, "h(41)"), "called from here: `h(41)` with b=41")], calls


@pytest.mark.parametrize("encoding, cookie", [("latin-1", "# -*- coding: latin-1 -*-\n"),
                                              ("utf-8-sig", "")])
async def test_a_file_not_opened_is_read_as_python_reads_it(client: LanguageClient, workspace: Path,
                                                            encoding: str, cookie: str) -> None:
    """A module in latin-1 (as its coding cookie says) or starting with a UTF-8 BOM has its crash in
    the Problems panel before it is opened, at the columns the editor shows it at."""
    crash(workspace, cookie + 'ratio = lambda n: len("é") / n; ratio(0)  # crash\n', encoding=encoding)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, prog.as_uri())
    assert not by_severity(diags, types.DiagnosticSeverity.Warning), diags   # not "differs"
    # As an editor shows the file: decoded as its cookie says, the BOM hidden.
    lines = prog.read_text(encoding=encoding).split("\n")
    line = next(n for n, text in enumerate(lines) if "# crash" in text)
    shown = [(d.severity, d.range.start.line, d.range.start.character, d.range.end.character,
              d.message) for d in diags]
    raised, called = lines[line].index('len("é") / n'), lines[line].index("ratio(0)")
    assert shown == [
        (types.DiagnosticSeverity.Error, line, raised, raised + len('len("é") / n'),
         "ZeroDivisionError: division by zero"),
        (types.DiagnosticSeverity.Information, line, called, called + len("ratio(0)"),
         "called from here: `ratio(0)` with n=0")], shown


@pytest.mark.parametrize("encoding, cookie", [("utf-8", ""), ("latin-1", "# -*- coding: latin-1 -*-\n"),
                                              ("utf-8-sig", "")])
@pytest.mark.parametrize("opened", [False, True])
async def test_a_secret_the_dump_hid_from_its_copy_is_no_change_of_the_file(
        client: LanguageClient, workspace: Path, encoding: str, cookie: str, opened: bool) -> None:
    """The dump's copy of the source has a secret literal redacted, the file here has it whole:
    it is still the file that ran, in any encoding.  A latin-1 file (or one with a UTF-8 BOM)
    was hashed as the UTF-8 of its text, so it never was, and its copy's redaction was taken
    for an edit: a false "This file differs" warning."""
    crash(workspace, cookie + 'API_KEY = "sk_live_4f9a8b7c6d"  # é\nratio = lambda n: 1 / n; ratio(0)  # crash\n',
          encoding=encoding)
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = prog.as_uri()
    if opened:   # the editor's buffer: the text it decoded, as it shows it
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=prog.read_text(encoding=encoding))))
    diags = await diagnostics(client, uri)
    assert [d.severity for d in diags] == [types.DiagnosticSeverity.Error,
                                           types.DiagnosticSeverity.Information], diags   # no "differs"


@pytest.mark.parametrize("comprehension, call", [
    ("[r for r in ratios(limit)]", "called from here: `[r for r in ratios(limit)]` with limit=5"),
    ("[scaled(n) for n in range(limit)]", "called from here: `scaled(n)` with n=2")])
async def test_a_comprehension_is_no_call_of_its_own(client: LanguageClient, workspace: Path,
                                                     comprehension: str, call: str) -> None:
    """Before Python 3.12 a comprehension runs in a frame of its own, called from its function's:
    only the calls the comprehension makes are shown, with their arguments, as from 3.12 on (the
    comprehension's call beside them, without arguments, was noise, and where both were at one
    place, "called from here 2 times (recursion)")."""
    crash(workspace, f"""\
        def ratios(limit):
            for n in range(limit):
                yield 10 // (2 - n)

        def scaled(n):
            return 10 // (2 - n)

        def table(limit):
            return {comprehension}  # call

        table(5)
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    calls = [(d.range.start.line, d.message) for d in by_severity(diags, types.DiagnosticSeverity.Information)]
    assert calls == [(line_of(prog, "table(5)"), "called from here: `table(5)` with limit=5"),
                     (line_of(prog, "# call"), call)], calls


async def test_published_for_user_files_without_opening(client: LanguageClient,
                                                        workspace: Path) -> None:
    """The Problems panel lists the crash as soon as the dump loads."""
    crash(workspace, DIVIDE, args=["5", "0"])
    await start(client, workspace)
    diags = await diagnostics(client, (workspace / "prog.py").as_uri())
    assert {d.severity for d in diags} == {types.DiagnosticSeverity.Error,
                                          types.DiagnosticSeverity.Information}


async def test_a_folder_whose_name_is_not_utf8_has_its_crash_published(client: LanguageClient,
                                                                       workspace: Path) -> None:
    """A name's bytes that are not UTF-8 ("caf\\xe9", Latin-1) are escapes in its URI, as
    Neovim and pathlib write it: the crash is published there and its stack points there.
    tblsp took the folder for 'caf\\ufffd', which does not exist, and published nothing."""
    folder = Path(os.fsdecode(os.fsencode(workspace) + b"/caf\xe9"))
    crash(folder, DIVIDE, args=["5", "0"])
    await start(client, folder)
    uri = (folder / "prog.py").as_uri()
    assert "/caf%E9/prog.py" in uri
    [error] = by_severity(await diagnostics(client, uri), types.DiagnosticSeverity.Error)
    assert error.message == "ZeroDivisionError: division by zero"
    assert error.related_information is not None
    assert {r.location.uri for r in error.related_information} == {uri}


async def test_opening_a_file_does_not_publish_again(client: Client, workspace: Path) -> None:
    """The list sent when the dump loaded stands; opening the file changes nothing in it."""
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = prog.as_uri()
    await diagnostics(client, uri)
    assert client.publications[uri] == 1
    open_file(client, prog)
    await client.text_document_hover_async(types.HoverParams(   # a round trip after didOpen
        types.TextDocumentIdentifier(uri), types.Position(0, 0)))
    assert client.publications[uri] == 1
    # A change that moves the crash line is published.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=uri),
        [types.TextDocumentContentChangeWholeDocument("\n" + prog.read_text())]))
    await diagnostics(client, uri, lambda d: any(x.range.start.line == line_of(prog, "# crash") + 1 for x in d))
    assert client.publications[uri] == 2


CHAINED = """\
    def parse(text):
        return int(text)  # inner


    def load(text):
        try:
            return parse(text)
        except ValueError as exc:
            raise RuntimeError("config is bad") from exc  # outer


    load("x")
    """

CONTEXT = """\
    def cleanup():
        raise OSError("disk gone")  # during


    try:
        {}["missing"]  # first
    except KeyError:
        cleanup()  # handler
    """

GROUP = """\
    def fail(n):
        raise ValueError(f"bad {n}")  # member


    def run():
        errors = []
        for n in range(2):
            try:
                fail(n)
            except ValueError as exc:
                errors.append(exc)
        raise ExceptionGroup("two failures", errors)  # group


    run()
    """


async def test_direct_cause_is_marked(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, CHAINED)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    errors = {d.range.start.line: d for d in by_severity(diags, types.DiagnosticSeverity.Error)}
    outer, inner = errors[line_of(prog, "# outer")], errors[line_of(prog, "# inner")]
    assert outer.message == "RuntimeError: config is bad"
    assert inner.message.splitlines()[0] == \
        "ValueError: invalid literal for int() with base 10: 'x'"
    assert "the direct cause of RuntimeError: config is bad" in inner.message
    # The cause's call site carries the same mark; its stack is linked on its own.
    calls = [d for d in by_severity(diags, types.DiagnosticSeverity.Information)
             if "direct cause" in d.message]
    assert calls and calls[0].range.start.line == line_of(prog, "return parse(text)")
    assert inner.related_information is not None
    assert [r.location.range.start.line for r in inner.related_information][-1] == \
        line_of(prog, "# inner")


async def test_context_is_marked(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, CONTEXT)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    errors = {d.range.start.line: d for d in by_severity(diags, types.DiagnosticSeverity.Error)}
    assert errors[line_of(prog, "# during")].message == "OSError: disk gone"
    first = errors[line_of(prog, "# first")]
    assert first.message.startswith("KeyError: 'missing'")
    assert "being handled when OSError: disk gone occurred" in first.message


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are Python 3.11+")
async def test_group_members_are_marked(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, GROUP)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    errors = by_severity(diags, types.DiagnosticSeverity.Error)
    group = [d for d in errors if d.range.start.line == line_of(prog, "# group")]
    assert group and group[0].message.startswith("ExceptionGroup: two failures")
    members = sorted(d.message for d in errors if d.range.start.line == line_of(prog, "# member"))
    assert [m.splitlines()[0] for m in members] == ["ValueError: bad 0", "ValueError: bad 1"]
    assert "sub-exception 1 of ExceptionGroup: two failures" in members[0]
    assert "sub-exception 2 of ExceptionGroup: two failures" in members[1]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are Python 3.11+")
async def test_a_group_of_a_thousand_shows_fifteen_members_at_a_line_and_says_how_many_more(
        client: LanguageClient, workspace: Path) -> None:
    # As Python's traceback prints 15 of a group's members: 2 000 diagnostics on two lines were noise.
    crash(workspace, GROUP.replace("range(2)", "range(1000)"))
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    members = [d.message.splitlines()[0] for d in by_severity(diags, types.DiagnosticSeverity.Error)
               if d.range.start.line == line_of(prog, "# member")]
    assert members == ["ValueError: bad %d" % n for n in range(15)] + [
        "… and 985 more exceptions raised here, not listed"]
    calls = [d.message.splitlines()[0] for d in by_severity(diags, types.DiagnosticSeverity.Information)
             if d.range.start.line == line_of(prog, "  fail(n)")]
    assert calls == ["called from here: `fail(n)` with n=%d" % n for n in range(15)] + [
        "… and 985 more calls from here, not listed"]
