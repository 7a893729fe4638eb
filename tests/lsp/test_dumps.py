"""Which dumps are shown: bad files, new crashes, commands, discovery, moved and edited sources."""
from __future__ import annotations

import asyncio
import fnmatch
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tbdump.container import ContainerReader

from .lsp_support import (DIVIDE, ENV, Client, by_severity, cleared, col_of, crash, diagnostics,
                         hover_text, line_of, messages, open_file, set_format_version, start,
                         until)

pytestmark = pytest.mark.asyncio


def bad_dumps(directory: Path) -> dict:
    """One file per kind of bad input, each with the words its message must contain."""
    good = crash(directory / "src", DIVIDE, args=["1", "0"])
    data = good.read_bytes()
    cases = {}
    (directory / "truncated.tbdump").write_bytes(data[: len(data) // 2])
    cases["truncated.tbdump"] = "truncated"
    damaged = bytearray(data)
    reader = ContainerReader(str(good))  # the safe layer: tblsp reads nothing else
    safe = reader.manifest["members"]["safe"]
    reader.close()
    damaged[safe["offset"] + safe["size"] // 2] ^= 0xFF
    (directory / "corrupted.tbdump").write_bytes(bytes(damaged))
    cases["corrupted.tbdump"] = "corrupted"
    (directory / "foreign.tbdump").write_bytes(pickle.dumps({"not": "a dump"}))
    cases["foreign.tbdump"] = "not a tbdump file"
    shutil.copy(good, directory / "newer.tbdump")
    set_format_version(directory / "newer.tbdump", 99)
    cases["newer.tbdump"] = "newer"
    cases["missing.tbdump"] = "no such file"
    return cases


@pytest.mark.parametrize("name", ["truncated.tbdump", "corrupted.tbdump", "foreign.tbdump",
                                  "newer.tbdump", "missing.tbdump"])
async def test_bad_dump_is_one_message(client: LanguageClient, workspace: Path,
                                       name: str) -> None:
    words = bad_dumps(workspace)[name]
    await start(client, workspace, dumpFiles=[name])
    said = await until(lambda: messages(client), "a showMessage")
    assert len(said) == 1
    [message] = said
    assert "\n" not in message and "Traceback" not in message
    assert name in message and words in message.lower(), message
    assert client.messages[0].type == types.MessageType.Error
    # Still serving: a hover on the program answers null, and no diagnostics appear.
    prog = workspace / "src" / "prog.py"
    uri = open_file(client, prog)
    assert await hover_text(client, uri, col_of(prog, "# crash", "x")) is None
    assert not client.diagnostics.get(uri)


async def test_bad_dump_beside_good_one(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    (workspace / "other.tbdump").write_bytes(b"garbage")
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, workspace / "prog.py"))
    assert by_severity(diags, types.DiagnosticSeverity.Error)
    await until(lambda: [m for m in messages(client) if "other.tbdump" in m], "the message")


async def test_new_crash_refreshes(client: Client, workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    await start(client, workspace, pollInterval=0.2)
    uri = open_file(client, prog)
    await diagnostics(client, uri)
    await until(lambda: client.refreshes, "the first load's refresh request")
    client.refreshes.clear()

    # The program is changed and crashes again, elsewhere, writing a new dump in place.
    crash(workspace, DIVIDE.replace("int(sys.argv[2])", "int(sys.argv[2])  # parse"),
          args=["5", "zero"])
    open_file(client, prog)   # the editor reloads the changed file
    parse_line = line_of(prog, "# parse")
    diags = await diagnostics(client, uri, lambda ds: any(
        d.severity == types.DiagnosticSeverity.Error and d.range.start.line == parse_line
        for d in ds))
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.message.startswith("ValueError: invalid literal for int()")
    # VS Code 1.65 re-requests code lenses on request (it has no inlay hint refresh).
    await until(lambda: client.refreshes, "a refresh request")
    assert set(client.refreshes) == {types.WORKSPACE_CODE_LENS_REFRESH}
    # div() did not run this time: nothing on its lines; the module frame is the crash now.
    assert await hover_text(client, uri, col_of(prog, "# crash", "y")) is None
    text = await hover_text(client, uri, col_of(prog, "# call", "x"))
    assert text is not None and "local in \\<module\\>() · innermost frame" in text   # not an HTML tag


async def test_a_client_that_never_sends_initialized_still_sees_new_crashes(client: Client,
                                                                           workspace: Path) -> None:
    """Some clients answer `initialize` and go on without the `initialized` notification: the
    polls for a new crash were started only by it, so such an editor kept the first crash for good."""
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    client.capabilities = types.ClientCapabilities()   # pytest-lsp's initialize_session sets it, and sends `initialized`
    await client.initialize_async(types.InitializeParams(
        capabilities=client.capabilities, root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
        initialization_options={"pollInterval": 0.2}))
    await diagnostics(client, prog.as_uri())
    crash(workspace, DIVIDE.replace("int(sys.argv[2])", "int(sys.argv[2])  # parse"), args=["5", "zero"])
    diags = await diagnostics(client, prog.as_uri(), lambda ds: any(
        d.severity == types.DiagnosticSeverity.Error and d.range.start.line == line_of(prog, "# parse")
        for d in ds))
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.message.startswith("ValueError: invalid literal for int()"), error


async def test_the_open_files_diagnostics_come_before_those_of_the_stacks_other_files(
        client: Client, tmp_path: Path, workspace: Path) -> None:
    # Placing a dump on each file of a stack through 40 big modules took 10 s: the file the
    # user looks at waited for all the others, in the order of their names.
    program = tmp_path / "elsewhere"
    program.mkdir()
    for n in range(10):
        (program / ("a%d.py" % n)).write_text("def step(n):\n    __import__('a%d').step(n + 1)\n" % (n + 1)
                                             if n < 9 else "def step(n):\n    raise RuntimeError(n)\n")
    dump = crash(program, "import sys\nsys.path.insert(0, '.')\nimport a0\na0.step(0)\n", name="zz.py")
    await start(client, workspace)
    uri = open_file(client, program / "zz.py")
    await client.workspace_execute_command_async(types.ExecuteCommandParams("tbdump.openDump", [str(dump)]))
    await until(lambda: len(set(client.published)) == 11, "every file's diagnostics")
    assert client.published[0] == uri


async def test_deleted_dump_clears(client: LanguageClient, workspace: Path) -> None:
    dump = crash(workspace, DIVIDE, args=["5", "0"])
    await start(client, workspace, pollInterval=0.2)
    uri = open_file(client, workspace / "prog.py")
    await diagnostics(client, uri)
    dump.unlink()
    await until(lambda: cleared(client, uri), "diagnostics cleared")


async def test_open_and_close_dump_commands(client: LanguageClient, tmp_path: Path,
                                            workspace: Path) -> None:
    dump = crash(tmp_path / "elsewhere", DIVIDE, args=["5", "0"])
    await start(client, workspace)
    uri = open_file(client, dump.parent / "prog.py")
    got = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tbdump.openDump", [str(dump)]))
    assert got == {"dump": str(dump), "loaded": True,
                   "exception": "ZeroDivisionError: division by zero"}
    await diagnostics(client, uri)

    got = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tbdump.closeDump", [str(dump)]))
    assert got == {"dump": str(dump), "closed": True}
    await until(lambda: cleared(client, uri), "diagnostics cleared")

    got = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tbdump.openDump", [str(tmp_path / "nope.tbdump")]))
    assert got is not None and got["loaded"] is False
    await until(lambda: [m for m in messages(client) if "no such file" in m], "the message")


async def test_command_argument_errors(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    with pytest.raises(Exception, match="takes one argument: a dump file's path"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            "tbdump.openDump", [1, 2]))


async def test_dump_files_option_and_discovery(client: LanguageClient, workspace: Path) -> None:
    """Named dumps only, when named; relative names are from the workspace folder."""
    crash(workspace / "a", DIVIDE, args=["5", "0"], output=workspace / "a" / "one.tbdump")
    crash(workspace / "b", DIVIDE, args=["6", "0"])
    await start(client, workspace, dumpFiles=["a/one.tbdump"])
    a = open_file(client, workspace / "a" / "prog.py")
    b = open_file(client, workspace / "b" / "prog.py")
    await diagnostics(client, a)
    assert not client.diagnostics.get(b)


async def test_discovery_finds_dumps_in_subfolders(client: LanguageClient,
                                                   workspace: Path) -> None:
    crash(workspace / "a", DIVIDE, args=["5", "0"], output=workspace / "a" / "one.tbdump")
    crash(workspace / "b" / "c", DIVIDE, args=["6", "0"])
    crash(workspace / "node_modules" / "x", DIVIDE, args=["7", "0"])
    await start(client, workspace)
    await diagnostics(client, open_file(client, workspace / "a" / "prog.py"))
    await diagnostics(client, open_file(client, workspace / "b" / "c" / "prog.py"))
    ignored = open_file(client, workspace / "node_modules" / "x" / "prog.py")
    assert not client.diagnostics.get(ignored)


CHILD = """\
    import multiprocessing


    def work(x, y):
        return x / y  # crash


    if __name__ == '__main__':
        child = multiprocessing.Process(target=work, args=(5, 0))
        child.start()
        child.join()
    """


async def test_discovery_finds_a_child_processs_dump_named_with_its_pid(client: LanguageClient,
                                                                        workspace: Path) -> None:
    """A multiprocessing child's crash is dumped as traceback.<pid>.pkl (the parent lives on):
    found in the workspace like traceback.pkl."""
    folder = workspace / "jobs"
    folder.mkdir()
    (folder / "prog.py").write_text(textwrap.dedent(CHILD), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tbdump", "prog.py"], cwd=folder, env=ENV,
                          capture_output=True, text=True, timeout=600)
    [dump] = folder.glob("traceback.*.pkl")
    assert proc.returncode == 0 and dump.name != "traceback.pkl", proc.stderr
    await start(client, workspace)
    prog = folder / "prog.py"
    [error] = by_severity(await diagnostics(client, open_file(client, prog)), types.DiagnosticSeverity.Error)
    assert error.range.start.line == line_of(prog, "# crash")


async def test_a_crashs_file_held_empty_while_its_dump_is_written_shows_once_written(
        client: LanguageClient, tmp_path: Path, workspace: Path) -> None:
    """tbdump makes a thread's crash file empty to hold its name (traceback.<pid>-2.pkl) until
    the dump replaces it: found so, it is no bad dump to warn of, and its crash shows once there."""
    written = crash(workspace, DIVIDE, args=["5", "0"], output=tmp_path / "written.pkl")
    held = workspace / "traceback.4242-2.pkl"
    held.write_bytes(b"")
    await start(client, workspace, pollInterval=0.1)
    prog = workspace / "prog.py"
    uri = open_file(client, prog)
    # Answered once the dumps found at the start are read (a message on one is said before).
    assert await hover_text(client, uri, col_of(prog, "# crash", "x")) is None
    assert messages(client) == []
    written.replace(held)
    [error] = by_severity(await diagnostics(client, uri), types.DiagnosticSeverity.Error)
    assert error.range.start.line == line_of(prog, "# crash") and messages(client) == []


async def test_the_editors_watcher_reporting_a_crashs_file_held_empty_is_no_bad_dump(
        client: Client, tmp_path: Path, workspace: Path) -> None:
    """VS Code's watcher reports the empty file as created, then the dump that replaces it."""
    written = crash(workspace, DIVIDE, args=["5", "0"], output=tmp_path / "written.pkl")
    held = workspace / "traceback.4242-2.pkl"
    await start(client, workspace, pollInterval=0)
    uri = open_file(client, workspace / "prog.py")

    def reported(change: types.FileChangeType) -> None:
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
            [types.FileEvent(uri=held.as_uri(), type=change)]))
    held.write_bytes(b"")
    reported(types.FileChangeType.Created)
    await asyncio.sleep(0.5)   # past the settling a read waits for (0.1 s): a read of it is said by then
    written.replace(held)
    reported(types.FileChangeType.Changed)
    assert by_severity(await diagnostics(client, uri), types.DiagnosticSeverity.Error)
    assert messages(client) == []


@pytest.mark.parametrize("relative", [False, True])
async def test_path_mappings(client: LanguageClient, tmp_path: Path, workspace: Path, relative: bool) -> None:
    """A dump from another machine: its /remote paths are this checkout's files. A relative
    remote root is taken from the crashed process's working directory, as tbdap takes it."""
    dump = crash(tmp_path / "remote" / "app", DIVIDE, args=["5", "0"])
    shutil.copytree(tmp_path / "remote" / "app", workspace / "app")
    shutil.rmtree(tmp_path / "remote")
    await start(client, workspace, dumpFiles=["app/traceback.pkl"], pathMappings=[
        {"localRoot": str(workspace / "app"), "remoteRoot": "." if relative else str(dump.parent)}])
    prog = workspace / "app" / "prog.py"
    diags = await diagnostics(client, open_file(client, prog))
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.range.start.line == line_of(prog, "# crash")
    assert "x = 5" not in error.message
    assert (await hover_text(client, prog.as_uri(), col_of(prog, "# crash", "x"))) is not None
    assert not [m for m in messages(client) if "pathMappings" in m]


@pytest.mark.parametrize("editor", ["any", "tbdump's VS Code extension"])
async def test_a_dump_from_elsewhere_says_how_to_map_it(client: LanguageClient, tmp_path: Path,
                                                        workspace: Path, editor: str) -> None:
    """Without pathMappings a dump from another machine shows nothing: tblsp says why, to the
    user of any editor; in the log for our extension, whose debug session shows the dump's copy."""
    dump = crash(tmp_path / "remote" / "app", DIVIDE, args=["5", "0"])
    shutil.copytree(tmp_path / "remote" / "app", workspace / "app")
    shutil.rmtree(tmp_path / "remote")
    ours = editor != "any"
    await start(client, workspace, **({"clientCommands": ["tbdump.debugCrash"]} if ours else {}))
    [said] = await until(lambda: [m for m in (client.log_messages if ours else client.messages)
                                  if "pathMappings" in m.message], "a word about the missing source")
    assert said.type == (types.MessageType.Info if ours else types.MessageType.Warning)
    assert "\n" not in said.message and str(dump.parent / "prog.py") in said.message, said.message
    assert f'"remoteRoot": "{dump.parent}"' in said.message
    assert not [m for m in client.messages if "pathMappings" in m.message] or not ours


@pytest.mark.parametrize("interval", ["soon", 1e-9, -1])
async def test_bad_options_are_said_and_ignored(client: LanguageClient, workspace: Path,
                                                interval: object) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    await start(client, workspace, dumpFiles="traceback.pkl", pollInterval=interval)
    await until(lambda: len(messages(client)) >= 2, "two warnings")
    assert any("dumpFiles must be a list" in m for m in messages(client))
    assert any("pollInterval" in m for m in messages(client))
    await diagnostics(client, open_file(client, workspace / "prog.py"))   # discovery still works


@pytest.mark.parametrize("options, said", [
    ({"pathMappings": {"localRoot": ".", "remoteRoot": "/srv"}},
     ["initializationOptions.pathMappings must be a list; ignored"]),
    ({"pathMappings": [{"localRoot": "."}, "/srv=."]},
     ['initializationOptions.pathMappings entries must be {"localRoot": str, "remoteRoot": str}; one ignored'] * 2),
    ({"inlayHints": "no"}, ["initializationOptions.inlayHints must be true or false; ignored"]),
    (["dumpFiles"], ["initializationOptions must be an object; ignored"]),
])
async def test_each_malformed_option_is_one_warning_and_the_rest_still_works(
        client: LanguageClient, workspace: Path, options: object, said: list) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    uri = workspace.as_uri()
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri, workspace.name)], initialization_options=options))
    await until(lambda: len(messages(client)) >= len(said), "the warnings")
    assert messages(client) == ["tblsp: " + line for line in said]
    assert all(m.type == types.MessageType.Warning for m in client.messages)
    await diagnostics(client, open_file(client, workspace / "prog.py"))   # discovery still works


EDITED_ABOVE = "# a comment added after the crash\n\n"


async def test_edited_source_is_mapped(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    prog.write_text(EDITED_ABOVE + prog.read_text())
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    [warning] = by_severity(diags, types.DiagnosticSeverity.Warning)
    assert warning.range.start.line == 0
    assert "differs from the source captured in traceback.pkl" in warning.message
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.range.start.line == line_of(prog, "# crash")
    text = await hover_text(client, prog.as_uri(), col_of(prog, "# crash", "y"))
    assert text is not None and "\n0\n" in text


async def test_a_module_changed_while_the_program_ran_is_said_to_be_so(client: LanguageClient,
                                                                       workspace: Path) -> None:
    """The dump's copy is the file at the crash, which the program rewrote after importing it:
    its lines may not be the code that ran, and the file says so where the crash is shown."""
    (workspace / "mod.py").write_text("def f(x):\n    return x + 'b'  # crash\n")
    crash(workspace, """\
        import time, mod
        time.sleep(0.01)
        with open(mod.__file__, 'w') as fh:
            fh.write('# rewritten while the program ran\\ndef f(x):\\n    return x + 1\\n')
        mod.f(1)
        """)
    mod = workspace / "mod.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, mod))
    [warning] = by_severity(diags, types.DiagnosticSeverity.Warning)
    assert warning.range.start.line == 0
    assert warning.message.startswith("The source captured in traceback.pkl (crash at ")
    assert warning.message.endswith("after the program started: these lines may not be the code that ran.")
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    assert error.range.start.line == 1   # where the dump says, on the lines it holds


async def test_removed_crash_line_is_dropped(client: LanguageClient, workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    prog.write_text(prog.read_text().replace("return x / y  # crash", "return x // y if y else 0"))
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    [warning] = by_severity(diags, types.DiagnosticSeverity.Warning)
    assert "1 could not be placed" in warning.message
    assert not by_severity(diags, types.DiagnosticSeverity.Error)
    assert len(by_severity(diags, types.DiagnosticSeverity.Information)) == 1


async def test_unsaved_edits_move_the_diagnostics(client: LanguageClient,
                                                  workspace: Path) -> None:
    crash(workspace, DIVIDE, args=["5", "0"])
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    await diagnostics(client, uri)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=uri),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text=EDITED_ABOVE)]))
    crash_line = line_of(prog, "# crash") + 2
    await diagnostics(client, uri, lambda ds: any(
        d.severity == types.DiagnosticSeverity.Error and d.range.start.line == crash_line
        for d in ds))
    # Closed unsaved, the buffer is gone: the diagnostics go back on the file as it is on disk.
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await diagnostics(client, uri, lambda ds: any(
        d.severity == types.DiagnosticSeverity.Error and d.range.start.line == crash_line - 2
        for d in ds))


async def test_utf16_columns(client: LanguageClient, workspace: Path) -> None:
    """Columns count UTF-16 code units, as LSP clients do, not Python characters."""
    crash(workspace, """\
        def boom(d):
            label = "😀😀"; return d["😀"] + missing  # crash
        boom({"😀": 1})
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, prog))
    [error] = by_severity(diags, types.DiagnosticSeverity.Error)
    line = prog.read_text(encoding="utf-8").splitlines()[line_of(prog, "# crash")]
    chars = line.index("missing")
    assert error.range.start.character == len(line[:chars].encode("utf-16-le")) // 2
    assert error.range.start.character == chars + 3   # three astral characters before it
    assert error.message == "NameError: name 'missing' is not defined"


async def test_editor_file_events_load_new_dumps(client: Client, workspace: Path) -> None:
    """With polling off, the editor's watcher (registered by the server) reports new crashes."""
    await start(client, workspace, pollInterval=0)
    await until(lambda: client.registrations, "the file watcher registration")
    [registration] = client.registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert registration.register_options is not None
    glob = registration.register_options["watchers"][0]["globPattern"]
    assert glob.startswith("**/{") and glob.endswith("}")
    names = glob[4:-1].split(",")   # the editor matches any of them in any folder
    for name in ("traceback.pkl", "traceback.4242.pkl", "crash.tbdump", "crash.4242.tbdump"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in names), name
    for name in ("model.pkl", "traceback.pkl.bak", "prog.py"):
        assert not any(fnmatch.fnmatch(name, pattern) for pattern in names), name

    deep = workspace / "a" / "b" / "c" / "d" / "e" / "f"
    dump = crash(deep, DIVIDE, args=["5", "0"])
    uri = open_file(client, deep / "prog.py")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(uri=dump.as_uri(), type=types.FileChangeType.Created)]))
    await diagnostics(client, uri)
    dump.unlink()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(uri=dump.as_uri(), type=types.FileChangeType.Deleted)]))
    await until(lambda: cleared(client, uri), "diagnostics cleared")


async def test_new_dumps_deep_in_the_workspace_without_the_editors_watcher(
        client: Client, workspace: Path) -> None:
    """Neovim registers no file watcher for servers: the polls walk the workspace again
    now and then, so a crash written in a subfolder shows without a restart."""
    await start(client, workspace, "neovim", pollInterval=0.1)
    deep = workspace / "a" / "b"
    crash(deep, DIVIDE, args=["5", "0"])
    # The file is not opened: tblsp would look beside it and find the dump that way.
    diags = await diagnostics(client, (deep / "prog.py").as_uri())
    assert by_severity(diags, types.DiagnosticSeverity.Error)
    assert client.registrations == []


async def test_dump_beside_an_opened_file(client: LanguageClient, tmp_path: Path,
                                          workspace: Path) -> None:
    """An editor opened on one file, outside any workspace folder, still finds its dump."""
    crash(tmp_path / "loose", DIVIDE, args=["5", "0"])
    await start(client, workspace)
    diags = await diagnostics(client, open_file(client, tmp_path / "loose" / "prog.py"))
    assert by_severity(diags, types.DiagnosticSeverity.Error)


async def test_workspace_folders_added_and_removed(client: LanguageClient, tmp_path: Path) -> None:
    """A folder added while the editor runs shows its crash; a removed one's goes away."""
    first, second = tmp_path / "first", tmp_path / "second"
    crash(first, DIVIDE, args=["5", "0"])
    await start(client, first)
    first_uri = (first / "prog.py").as_uri()
    await diagnostics(client, first_uri)
    crash(second, DIVIDE, args=["7", "0"])
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
        types.WorkspaceFoldersChangeEvent(
            added=[types.WorkspaceFolder(second.as_uri(), second.name)], removed=[])))
    diags = await diagnostics(client, (second / "prog.py").as_uri())
    assert any("x=7, y=0" in d.message for d in diags)
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
        types.WorkspaceFoldersChangeEvent(
            added=[], removed=[types.WorkspaceFolder(first.as_uri(), first.name)])))
    await until(lambda: cleared(client, first_uri), "the removed folder's diagnostics cleared")
