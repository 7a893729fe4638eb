"""Helpers for tblsp's end-to-end tests: real crashing programs, real dumps, LSP round trips."""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Sequence

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from ..crafted import memory_cap

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
# The dumps' trust settings of the machine running the tests must not change what they see.
ENV.pop("TBDUMP_KEY", None)
ENV.pop("TBDUMP_SAFE", None)
# tblsp's code cache for this test run, not the user's (its own tests pick their folders).
ENV["TBLSP_CACHE_DIR"] = tempfile.mkdtemp(prefix="tblsp-cache-")
atexit.register(shutil.rmtree, ENV["TBLSP_CACHE_DIR"], True)
SERVER = [sys.executable, "-m", "tblsp"]
WAIT = 20.0     # seconds: generous for a loaded CI machine; a hang still fails


def crash(directory: Path, source: str, name: str = "prog.py", args: Sequence[str] = (),
          output: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
          python: str = sys.executable, encoding: str = "utf-8") -> Path:
    """Write `source` as a program in `directory`, crash it under `python -m tbdump`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(source), encoding=encoding)
    cmd = [python, "-m", "tbdump"] + (["-o", str(output)] if output else [])
    proc = subprocess.run(cmd + [name, *args], cwd=directory, env={**ENV, **(env or {})},
                          capture_output=True, text=True, timeout=600)
    dump = output or directory / "traceback.pkl"
    assert proc.returncode != 0 and dump.exists(), proc.stderr
    return dump


def line_of(path: Path, marker: str) -> int:
    """The 0-based (LSP) line of the line holding `marker` (lines end at \\n only, as in the
    programs the tests write: str.splitlines would also end one at a form feed)."""
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
        if marker in line:
            return n
    raise AssertionError(f"{marker!r} not in {path}")


def col_of(path: Path, marker: str, text: str) -> types.Position:
    """The position of `text` on the line holding `marker` (ASCII lines)."""
    line = line_of(path, marker)
    return types.Position(line, path.read_text(encoding="utf-8").split("\n")[line].index(text))


def set_format_version(dump: Path, version: int) -> None:
    """Rewrite a dump's manifest as a tbdump of another format version would have written it."""
    data = dump.read_bytes()
    length, end = struct.unpack("<Q8s", data[-16:])
    manifest = json.loads(data[-16 - length:-16])
    manifest["format"] = version
    body = json.dumps(manifest, sort_keys=True).encode()
    dump.write_bytes(data[:-16 - length] + body + struct.pack("<Q8s", len(body), end))


class Client(LanguageClient):
    """pytest-lsp's client, also keeping the refresh requests the server sends."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.refreshes: List[str] = []
        self.registrations: List[types.Registration] = []
        self.publications: Dict[str, int] = {}  # URI -> publishDiagnostics received
        self.published: List[str] = []          # the URI of each publishDiagnostics, in order


def make_client() -> Client:
    client = Client()
    register_lsp_features(client)
    for method in (types.WORKSPACE_CODE_LENS_REFRESH, types.WORKSPACE_INLAY_HINT_REFRESH,
                   types.WORKSPACE_INLINE_VALUE_REFRESH):
        def refreshed(ls: Client, params: Any, method: str = method) -> None:
            ls.refreshes.append(method)
        client.feature(method)(refreshed)

    features = client.protocol.fm.features
    keep = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def published(params: types.PublishDiagnosticsParams) -> None:  # pygls bound keep to client
        client.publications[params.uri] = client.publications.get(params.uri, 0) + 1
        client.published.append(params.uri)
        keep(params)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = published

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(ls: Client, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)
    return client


@contextlib.asynccontextmanager
async def served(command: Sequence[str] = SERVER, env: Optional[Dict[str, str]] = None,
                 preexec_fn: Optional[Callable[[], None]] = None) -> AsyncIterator[Client]:
    """A client of its own, and the server ``command`` starts (``python -m tblsp``).

    When the block ends the server must shut down and exit with status 0, having logged no
    traceback; if the block fails first, it is killed (a hung server would keep pytest-lsp
    waiting forever).
    """
    client = make_client()
    await client.start_io(command[0], *command[1:], env=ENV if env is None else env, preexec_fn=preexec_fn)
    server: Any = client._server
    try:
        yield client
        await asyncio.wait_for(client.shutdown_async(None), WAIT)
        client.exit(None)
        assert await asyncio.wait_for(server.wait(), WAIT) == 0
        errors = (await server.stderr.read()).decode("utf-8", "replace")
        assert "Traceback" not in errors, errors[-3000:]
    finally:
        if server.returncode is None:
            server.kill()
        await client.stop()


def capped_server() -> "contextlib.AbstractAsyncContextManager[Client]":
    """``served()``, the server under the hostile tests' memory cap."""
    return served(preexec_fn=memory_cap())


async def ask_about(client: LanguageClient, uri: str, lines: int) -> None:
    """Inlay hints, inline values and code lenses over the first ``lines`` lines of a file:
    what an editor asks as it shows it, each answered within WAIT."""
    doc = types.TextDocumentIdentifier(uri)
    whole = types.Range(types.Position(0, 0), types.Position(lines, 0))
    for request in (client.text_document_inlay_hint_async(types.InlayHintParams(doc, whole)),
                    client.text_document_inline_value_async(types.InlineValueParams(
                        doc, whole, types.InlineValueContext(frame_id=0, stopped_location=whole))),
                    client.text_document_code_lens_async(types.CodeLensParams(doc))):
        await asyncio.wait_for(request, WAIT)


async def start(client: LanguageClient, root: Path, caps: str = "visual-studio-code",
                **options: object) -> types.InitializeResult:
    """Initialize the server for a workspace folder, as the named editor would."""
    uri = root.as_uri()
    return await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(caps), root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri, root.name)],
        initialization_options=options or None))


def open_file(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=path.read_text(encoding="utf-8"))))
    return uri


async def until(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll `check` until it returns something truthy; fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def diagnostics(client: LanguageClient, uri: str,
                      accept: Callable[[List[types.Diagnostic]], bool] = bool
                      ) -> List[types.Diagnostic]:
    """The diagnostics published for `uri`, once they satisfy `accept`."""
    def check() -> Optional[List[types.Diagnostic]]:
        got = client.diagnostics.get(uri)
        return list(got) if got is not None and accept(list(got)) else None
    return await until(check, f"diagnostics for {uri}")


async def hover_text(client: LanguageClient, uri: str, pos: types.Position) -> Optional[str]:
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), pos))
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


def cleared(client: LanguageClient, uri: str) -> bool:
    """True once an empty diagnostics list was published for `uri`."""
    return uri in client.diagnostics and len(client.diagnostics[uri]) == 0


def by_severity(diags: List[types.Diagnostic],
                severity: types.DiagnosticSeverity) -> List[types.Diagnostic]:
    return [d for d in diags if d.severity == severity]


def messages(client: LanguageClient) -> List[str]:
    return [m.message for m in client.messages]


DIVIDE = """\
    import sys


    def div(x, y):
        return x / y  # crash


    if __name__ == '__main__':
        x = int(sys.argv[1])
        y = int(sys.argv[2])
        print(div(x, y))  # call
    """
