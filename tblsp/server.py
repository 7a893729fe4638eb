"""The language server: answers LSP from the loaded dumps and keeps them current.

Line and column conversion between the engine (1-based lines, character columns) and
the client's negotiated position encoding happens here and nowhere else.
Every text sent to the editor goes through ``printable`` here too: a dump's strings
(messages, reprs, names) may hold escape sequences, and terminal editors (Neovim, Helix,
Vim) show hovers and diagnostics on the terminal.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union, cast

from lsprotocol import types
from pygls.exceptions import (FeatureRequestError, JsonRpcInvalidParams, JsonRpcInvalidRequest,
                              JsonRpcServerNotInitialized)
from pygls.io_ import run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument

import tbdump
from tbdump.localsource import decode_source, read_local
from tbdump.termtext import printable

from . import __version__, dumpfiles, render, uris
from . import options as opts
from .answers import Crashes, Finding, Severity, Span
from .index import LoadedDump, file_key

log = logging.getLogger(__name__)

SOURCE = "tbdump"
OPEN_COMMAND = "tbdump.openDump"
CLOSE_COMMAND = "tbdump.closeDump"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
}
_SETTLE = 0.1     # seconds a changed dump must stay unchanged before it is read
# Without the editor's file watcher the polls look only at the folders' top level; a walk
# of the workspace (bounded as dumpfiles bounds it) finds a crash deeper down. Walks are
# _WALK_POLLS polls apart at the least, and _WALK_PAUSE times what the last one took: a
# large tree costs the server no more than 1% of its time.
_WALK_POLLS = 10
_WALK_PAUSE = 100
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> List[str]:
    """Lines as Python and LSP count them (\\n, \\r\\n, \\r; not str.splitlines's \\f etc.)."""
    return _LINE.findall(text)


class _Protocol(LanguageServerProtocol):
    """LSP's rules for messages before ``initialize`` and after ``shutdown``, which pygls
    leaves to servers: before, a request gets ServerNotInitialized (not a handler's crash)
    and a notification other than ``exit`` is dropped; after, a request gets InvalidRequest
    (pygls drops it, and the client would wait for its answer forever)."""

    initialize_seen = False

    def handle_message(self, message: Any) -> None:
        if self._shutdown and getattr(message, "method", None) not in (None, types.EXIT) \
                and getattr(message, "id", None) is not None:
            error = JsonRpcInvalidRequest(f"the server is shut down: {message.method} refused")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)

    def _run_generator(self, future: Any, *, gen: Any, result_future: Any) -> None:
        # A handler still waiting when the server stops (shutdown cancels it; exit or the end
        # of stdin cancels every task) ends quietly: pygls would let its CancelledError out
        # into asyncio's log, a traceback in the editor's server log at every quit.
        if future is not None and future.cancelled():
            gen.close()
            result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        if method_name == types.INITIALIZE:
            self.initialize_seen = True
        elif not self.initialize_seen:
            error = JsonRpcServerNotInitialized("the server is not initialized: send initialize first")
            self._send_response(msg_id, None, error.to_response_error())
            return
        super()._handle_request(msg_id, method_name, params)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if self.initialize_seen or method_name == types.EXIT:
            super()._handle_notification(method_name, params)


_BETWEEN_PUBLISHES = 0.02   # seconds: the diagnostics of files not open go out one at a time


class TbLanguageServer(LanguageServer):
    """The server's state: options, loaded dumps, what is watched and what was published."""

    def __init__(self) -> None:
        super().__init__("tblsp", __version__, protocol_cls=_Protocol)
        self.options = opts.Options()
        self.crashes = Crashes(self.lines_of)
        self.folders: List[str] = []
        self.explicit: Set[str] = set()        # dumps named by options or tbdump.openDump
        self.closed: Set[str] = set()          # closed with tbdump.closeDump
        self.seen: Dict[str, Optional[dumpfiles.Stamp]] = {}   # dump path -> stamp last read
        self.published: Dict[str, List[types.Diagnostic]] = {}  # URI -> what it shows from us
        self.loading: Dict[str, "asyncio.Future[None]"] = {}
        self.generation: Dict[str, int] = {}   # reads started per dump; the latest one counts
        self.shut_down = False                 # asked to shut down before exit (LSP: status 0)
        self.watched = False                   # the editor's file watcher reports new dumps
        self.next_walk = 0.0                   # time.monotonic() of the next walk for new dumps
        self._disk: Dict[str, Tuple[Optional[dumpfiles.Stamp], List[str]]] = {}
        self.publishing: Optional["asyncio.Future[None]"] = None   # the files not open, after the others

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A message the server could not handle: one line to the user (the log has the rest)."""
        if source is FeatureRequestError:
            return      # the request's error response already says it
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        self.tell(f"could not handle a message from the editor: {first}")

    def serve_tcp(self, listener: socket.socket) -> None:
        """pygls's start_tcp, on a socket listening already: pygls binds its own and says
        the port it got (--port 0) only in its log, where neither a person nor an editor looks."""
        self._stop_event = stop_event = threading.Event()
        exits: List[SystemExit] = []

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            try:
                await run_async(stop_event=stop_event, reader=reader, protocol=self.protocol, logger=log,
                                error_handler=self.report_server_error)
            except SystemExit as stop:
                # The client's `exit`: pygls calls sys.exit() inside this connection's task,
                # which asyncio may also log as the task's crash, a traceback on stderr.
                exits.append(stop)
            self.shutdown()     # one client, as pygls serves it: its exit ends tblsp

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, sock=listener)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except asyncio.CancelledError:
            pass    # shutdown() closed the server
        if exits:
            raise exits[0]

    # -- documents and positions ----------------------------------------------------

    def _open_doc(self, path: str) -> Optional[TextDocument]:
        key = file_key(path)
        for uri, doc in self.workspace.text_documents.items():
            local = uris.path_of(uri)
            if local is not None and file_key(local) == key:
                return cast(TextDocument, doc)
        return None

    def lines_of(self, path: str) -> Optional[Sequence[str]]:
        """A file's current lines: the editor's buffer when open, else the file on disk.

        The path comes from a dump: on disk only a regular file no larger than a
        captured source is read, without blocking (a FIFO or /dev/stdin would hang
        the server, /dev/zero would fill its memory); anything else has no lines.
        """
        doc = self._open_doc(path)
        if doc is not None:
            return split_lines(doc.source)
        st = dumpfiles.stamp(path)
        if st is None:
            return None
        cached = self._disk.get(path)
        if cached is not None and cached[0] == st:
            return cached[1]
        data = read_local(path)
        if data is None:
            return None
        lines = split_lines(decode_source(data))
        self._disk[path] = (st, lines)
        return lines

    def uri_of(self, path: str) -> str:
        doc = self._open_doc(path)
        return doc.uri if doc is not None else uris.uri_of(path)

    def to_range(self, span: Span) -> types.Range:
        lines = self.lines_of(span.path) or []
        chars = types.Range(types.Position(span.line - 1, span.col),
                            types.Position(span.end_line - 1, span.end_col))
        return self.workspace.position_codec.range_to_client_units(lines, chars)

    def from_position(self, lines: Sequence[str], position: types.Position) -> Tuple[int, int]:
        """A client position as (1-based line, character column)."""
        pos = self.workspace.position_codec.position_from_client_units(
            lines, types.Position(position.line, position.character))
        return pos.line + 1, pos.character

    # -- diagnostics ---------------------------------------------------------------------

    def diagnostic(self, finding: Finding) -> types.Diagnostic:
        related = [types.DiagnosticRelatedInformation(
            location=types.Location(uri=self.uri_of(span.path), range=self.to_range(span)),
            message=printable(message))
            for span, message in finding.related]
        message = finding.message
        if len(self.crashes.dumps) > 1:
            message += f" [{self.crashes.name(finding.dump)}]"
        return types.Diagnostic(
            range=self.to_range(finding.span), message=printable(message),
            severity=_SEVERITY[finding.severity], code=printable(finding.code), source=SOURCE,
            related_information=related or None, data={"dump": finding.dump})

    def publish(self, uri: str) -> None:
        path = uris.path_of(uri)
        findings = self.crashes.findings(path) if path is not None else []
        diagnostics = [self.diagnostic(f) for f in findings]
        # Opening a file right after the dumps loaded would otherwise send the same list
        # twice; editors redraw the Problems panel on each.
        if diagnostics == self.published.get(uri, []):
            return
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))
        if diagnostics:
            self.published[uri] = diagnostics
        else:
            del self.published[uri]

    def refresh(self) -> None:
        """Republish everything and ask the client to re-request lenses, hints and values.

        The files open in the editor first; the others one at a time after, answering requests
        between them: placing a dump through 40 modules of thousands of lines on each took 10 s,
        the open file's diagnostics and every hover waiting behind.
        """
        opened = set(self.workspace.text_documents)
        for uri in sorted(opened):
            self.publish(uri)
        rest = set(self.published) | {self.uri_of(p) for p in self.crashes.files() if os.path.exists(p)}
        if self.publishing is not None:
            self.publishing.cancel()   # its files not yet published are in this round's
        if rest - opened:
            self.publishing = asyncio.ensure_future(self._publish_each(sorted(rest - opened)))
        caps = self.client_capabilities.workspace
        if caps is None:
            return
        if caps.code_lens is not None and caps.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)
        if caps.inlay_hint is not None and caps.inlay_hint.refresh_support:
            self.workspace_inlay_hint_refresh(None)
        if caps.inline_value is not None and caps.inline_value.refresh_support:
            self.workspace_inline_value_refresh(None)

    async def _publish_each(self, uris: List[str]) -> None:
        for uri in uris:
            # A request that came meanwhile is answered first: it takes a few turns of the loop.
            await asyncio.sleep(_BETWEEN_PUBLISHES)
            self.publish(uri)

    # -- dumps ------------------------------------------------------------------------------

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"tblsp: {printable(message)}"))

    def load(self, path: str) -> "asyncio.Future[None]":
        """Read a dump (again) in a worker thread; the future is done when it is shown."""
        self.generation[path] = self.generation.get(path, 0) + 1
        future = asyncio.ensure_future(self._load(path, self.generation[path]))
        self.loading[path] = future
        return future

    async def _load(self, path: str, generation: int) -> None:
        self.seen[path] = dumpfiles.stamp(path)
        loop = asyncio.get_running_loop()
        try:
            loaded = await loop.run_in_executor(
                None, LoadedDump, path, self.options.path_mappings)
        except tbdump.DumpError as exc:   # its message names the file and what is wrong
            loaded, problem = None, str(exc)
        except Exception as exc:   # a bug, not a bad file: say so in one line, log the rest
            log.exception("loading %s", path)
            loaded, problem = None, f"cannot open {path}: internal error " \
                                    f"{type(exc).__name__}: {exc}"
        if generation != self.generation[path]:
            return      # a newer read of the same file started meanwhile; it decides
        if loaded is None:
            self.crashes.remove(path)
            self.tell(problem)
        else:
            self.crashes.add(loaded)
            if loaded.dump.signature_problem:   # what it shows is not vouched for, as tbdebug says
                self.tell(f"{path}: {loaded.dump.signature_problem}", types.MessageType.Warning)
            self._say_if_elsewhere(loaded)
        self.refresh()

    def _say_if_elsewhere(self, loaded: LoadedDump) -> None:
        """A dump from another machine or a moved checkout would show nothing, silently:
        say where its program was and what maps it here."""
        files = sorted(i.local for i in loaded.files.values() if not i.library)
        if not files or any(os.path.isfile(f) for f in files):
            return
        more = f" (and {len(files) - 1} more files)" if len(files) > 1 else ""
        where = loaded.dump.metadata.cwd or os.path.dirname(files[0])
        text = (f"{loaded.path}: the crash ran in {files[0]}{more}, which is not on this "
                f"machine, so nothing can be shown on the source; map its folder here with "
                f'initializationOptions.pathMappings [{{"localRoot": ..., "remoteRoot": "{where}"}}]')
        if self.options.client_commands:
            # Our VS Code extension (it runs our commands): its debug session shows the
            # dump's copy of the source, and its user has no initializationOptions to set.
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Info,
                                                           message=f"tblsp: {printable(text)}"))
        else:
            self.tell(text, types.MessageType.Warning)

    async def ready(self) -> None:
        """Wait for the dumps being read, so a request sees them."""
        pending = [f for f in self.loading.values() if not f.done()]
        if pending:
            await asyncio.wait(pending)

    def wanted(self) -> List[str]:
        """The dumps to show: named ones, and those found in the workspace when none is named."""
        paths = set(self.explicit)
        if not self.options.dump_files:
            paths |= set(dumpfiles.discover(self.folders, deep=False))
            paths |= {p for p in self.seen if dumpfiles.is_dump(p)}
        return sorted(paths - self.closed)

    async def check(self, path: str) -> None:
        """Reload a dump whose file changed, once it has settled; drop one that is gone."""
        now = dumpfiles.stamp(path)
        if now == self.seen.get(path, ()):
            return
        if now is None:
            self.seen[path] = None
            if path in self.crashes.dumps:
                self.crashes.remove(path)
                self.refresh()
            return
        if dumpfiles.being_written(now):
            return      # read once written, as the stamp then differs from the one seen
        await asyncio.sleep(_SETTLE)
        if dumpfiles.stamp(path) == now:
            await self.load(path)

    async def watch(self) -> None:
        self.next_walk = time.monotonic() + _WALK_POLLS * self.options.poll_interval
        while True:
            await asyncio.sleep(self.options.poll_interval)
            try:
                for path in self.wanted():
                    await self.check(path)
                if not self.watched and not self.options.dump_files \
                        and time.monotonic() >= self.next_walk:
                    await self.walk()
            except Exception:   # a bug must not stop the watching for good
                log.exception("checking the dump files")

    async def walk(self) -> None:
        """Load the dumps written deep in the workspace folders since they were last walked."""
        started = time.monotonic()
        found = await asyncio.get_running_loop().run_in_executor(
            None, dumpfiles.discover, list(self.folders))
        took = time.monotonic() - started
        self.next_walk = time.monotonic() + max(_WALK_POLLS * self.options.poll_interval,
                                                _WALK_PAUSE * took)
        for path in found:
            # A folder removed during the walk takes its dumps with it.
            if path not in self.seen and path not in self.closed and _under(path, self.folders):
                await self.check(path)

    def workspace_folders(self) -> List[str]:
        return [p for p in (uris.path_of(f.uri) for f in self.workspace.folders.values()) if p]

    def resolve(self, path: str) -> str:
        """A dump path from the user: relative ones are taken from the first workspace folder."""
        path = os.path.expanduser(path)
        if not os.path.isabs(path) and self.folders:
            path = os.path.join(self.folders[0], path)
        return os.path.abspath(path)


server = TbLanguageServer()


@server.feature(types.INITIALIZE)
def initialize(ls: TbLanguageServer, params: types.InitializeParams) -> None:
    ls.options, problems = opts.parse(params.initialization_options)
    ls.folders = ls.workspace_folders()
    if not ls.folders and ls.workspace.root_path:
        ls.folders = [ls.workspace.root_path]
    for command, handler in ((opts.DEBUG_COMMAND, debug_crash),
                             (opts.REPORT_COMMAND, show_report)):
        # A client that runs these itself (the VS Code extension) must not see them
        # advertised, or its language client registers them a second time.
        if command not in ls.options.client_commands:
            ls.command(command)(handler)
    for problem in problems:
        ls.tell(problem, types.MessageType.Warning)
    ls.explicit = {ls.resolve(p) for p in ls.options.dump_files}
    found = [] if ls.options.dump_files else dumpfiles.discover(ls.folders)
    for path in sorted(ls.explicit) + found:
        ls.load(path)
    # Here, not on `initialized`, which some clients never send: their dumps are watched too.
    # Polling sends the client nothing before its first round, well after this answer.
    if ls.options.poll_interval > 0:
        asyncio.ensure_future(ls.watch())


@server.feature(types.INITIALIZED)
async def initialized(ls: TbLanguageServer, params: types.InitializedParams) -> None:
    # Registering the editor's file watcher is a request to the client: only once it said it
    # is ready for them. Without it the polls still find new dumps.
    caps = ls.client_capabilities.workspace
    if caps is None or caps.did_change_watched_files is None \
            or not caps.did_change_watched_files.dynamic_registration:
        return
    # The editor's own file watcher also sees new dumps deep in the workspace.
    try:
        await ls.client_register_capability_async(types.RegistrationParams([types.Registration(
            id="tblsp-dumps", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                [types.FileSystemWatcher(glob_pattern=dumpfiles.WATCH_GLOB)]))]))
    except Exception as exc:   # polling still notices changes; the editor said no
        log.info("client refused the dump file watcher: %s", exc)
    else:
        ls.watched = True


@server.feature(types.SHUTDOWN)
def shutdown(ls: TbLanguageServer, params: None) -> None:
    ls.shut_down = True


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def watched_files_changed(ls: TbLanguageServer,
                                params: types.DidChangeWatchedFilesParams) -> None:
    for event in params.changes:
        path = uris.path_of(event.uri)
        if path is not None and dumpfiles.is_dump(path) and path not in ls.closed \
                and (not ls.options.dump_files or path in ls.explicit):
            await ls.check(path)


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def folders_changed(ls: TbLanguageServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    # tblsp advertises folder change notifications (pygls does for it): a folder added
    # while the editor runs shows its crashes, a removed one's found dumps go away.
    before, ls.folders = ls.folders, ls.workspace_folders()
    if ls.options.dump_files:
        return      # the user named the dumps; folders do not change which
    gone = [f for f in before if f not in ls.folders]
    dropped = [p for p in set(ls.seen) | set(ls.crashes.dumps)
               if p not in ls.explicit and _under(p, gone) and not _under(p, ls.folders)]
    for path in dropped:
        ls.seen.pop(path, None)
        ls.crashes.remove(path)
    if dropped:
        ls.refresh()
    added = [f for f in ls.folders if f not in before]
    for path in dumpfiles.discover(added):
        if path not in ls.seen and path not in ls.closed:
            ls.load(path)


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(os.path.commonpath([path, f]) == f for f in folders)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: TbLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    path = uris.path_of(params.text_document.uri)
    if path is not None and not ls.options.dump_files:
        # An editor started on a single file has no workspace: look beside the file.
        for dump in dumpfiles.discover([os.path.dirname(path)], deep=False):
            if dump not in ls.seen and dump not in ls.closed:
                ls.load(dump)
    await ls.ready()
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_change_or_close(ls: TbLanguageServer,
                        params: Union[types.DidChangeTextDocumentParams, types.DidCloseTextDocumentParams]) -> None:
    # The diagnostics again, placed on the text as it is now: the edited buffer's, or, once it is
    # closed, the file's on disk, which may differ from the buffer.
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: TbLanguageServer, params: types.HoverParams) -> Optional[types.Hover]:
    await ls.ready()
    path = uris.path_of(params.text_document.uri)
    lines = ls.lines_of(path) if path is not None else None
    if path is None or lines is None or params.position.line >= len(lines):
        return None
    line, col = ls.from_position(lines, params.position)
    hover_caps = ls.client_capabilities.text_document
    formats = hover_caps.hover.content_format if hover_caps and hover_caps.hover else None
    markdown = not formats or types.MarkupKind.Markdown in formats
    answer = ls.crashes.hover(path, line, col, render.MARKDOWN if markdown else render.PLAIN_TEXT)
    if answer is None:
        return None
    text, span = answer
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.Hover(contents=types.MarkupContent(kind=kind, value=printable(text)),
                       range=ls.to_range(span))


@server.feature(types.TEXT_DOCUMENT_INLINE_VALUE)
async def inline_value(ls: TbLanguageServer,
                       params: types.InlineValueParams) -> List[types.InlineValue]:
    await ls.ready()
    path = uris.path_of(params.text_document.uri)
    if path is None:
        return []
    values = ls.crashes.values(path, params.range.start.line + 1, params.range.end.line + 1)
    return [types.InlineValueText(range=ls.to_range(v.span), text=_tagged(v.text, v.dump)) for v in values]


def _tagged(text: str, dump: str) -> str:
    return printable(f"{text}  [{dump}]" if dump else text)


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions())
async def inlay_hint(ls: TbLanguageServer,
                     params: types.InlayHintParams) -> List[types.InlayHint]:
    await ls.ready()
    path = uris.path_of(params.text_document.uri)
    if path is None or not ls.options.inlay_hints:
        return []
    lines = ls.lines_of(path) or []
    by_line: Dict[Tuple[int, str], List[str]] = {}
    for value in ls.crashes.values(path, params.range.start.line + 1,
                                   params.range.end.line + 1):
        by_line.setdefault((value.span.line, value.dump), []).append(value.text)
    hints = []
    for (line, dump), texts in sorted(by_line.items()):
        end = len(lines[line - 1].rstrip("\r\n"))
        position = ls.to_range(Span(path, line, end, line, end)).start
        hints.append(types.InlayHint(position=position, label=_tagged(", ".join(texts), dump),
                                     padding_left=True, tooltip="captured by tbdump"))
    return hints


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
async def code_lens(ls: TbLanguageServer, params: types.CodeLensParams) -> List[types.CodeLens]:
    await ls.ready()
    path = uris.path_of(params.text_document.uri)
    if path is None:
        return []
    lenses = []
    for lens in ls.crashes.lenses(path):
        where = ls.to_range(lens.span)
        for title, command in (("Debug this crash", opts.DEBUG_COMMAND),
                               ("Show in terminal", opts.REPORT_COMMAND)):
            lenses.append(types.CodeLens(range=where, command=types.Command(
                title=title, command=command, tooltip=printable(lens.title), arguments=[lens.dump])))
    return lenses


def _path_argument(ls: TbLanguageServer, command: str, args: Sequence[Any]) -> str:
    if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
        raise JsonRpcInvalidParams(message=f"{command} takes one argument: a dump file's path")
    return ls.resolve(args[0])


@server.command(OPEN_COMMAND)
async def open_dump(ls: TbLanguageServer, *args: Any) -> Dict[str, Any]:
    path = _path_argument(ls, OPEN_COMMAND, args)
    ls.explicit.add(path)
    ls.closed.discard(path)
    await ls.load(path)
    loaded = ls.crashes.dumps.get(path)
    if loaded is None:
        return {"dump": path, "loaded": False}
    return {"dump": path, "loaded": True,
            "exception": loaded.stacks[0].head if loaded.stacks else None}


@server.command(CLOSE_COMMAND)
def close_dump(ls: TbLanguageServer, *args: Any) -> Dict[str, Any]:
    path = _path_argument(ls, CLOSE_COMMAND, args)
    ls.explicit.discard(path)
    ls.closed.add(path)
    was_open = path in ls.crashes.dumps
    ls.crashes.remove(path)
    ls.refresh()
    return {"dump": path, "closed": was_open}


def debug_crash(ls: TbLanguageServer, *args: Any) -> Dict[str, Any]:
    """For editors without the VS Code extension: how to debug the dump, to run by hand."""
    path = _path_argument(ls, opts.DEBUG_COMMAND, args)
    argv = [sys.executable, "-m", "tbdebug", path]
    ls.tell("to debug this crash, run in a terminal: " + _shell(argv), types.MessageType.Info)
    # A DAP client (nvim-dap, Emacs dape) spawns the adapter and sends the dump in `launch`.
    return {"dump": path, "command": argv,
            "dap": {"adapter": [sys.executable, "-m", "tbdap"], "launch": {"dumpFile": path}}}


def show_report(ls: TbLanguageServer, *args: Any) -> Dict[str, Any]:
    path = _path_argument(ls, opts.REPORT_COMMAND, args)
    argv = [sys.executable, "-m", "tbdump.report", path]
    ls.tell("to see the report, run in a terminal: " + _shell(argv), types.MessageType.Info)
    return {"dump": path, "command": argv}


def _shell(argv: Sequence[str]) -> str:
    import shlex
    return " ".join(shlex.quote(a) for a in argv)
