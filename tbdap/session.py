"""The DAP request handlers of one replay session; the loaded Dump knows nothing of DAP."""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, ContextManager, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from tbdump import preview
from tbdump.budget import Budgets
from tbdump.chain import walk
from tbdump.dumpfile import Dump, load
from tbdump.errors import DumpError
from tbdump.frameless import location_columns, syntax_location
from tbdump.model import CUTS_SHOWN, Child, ExceptionRecord, Frame, SyntaxDetail, Value, not_captured
from tbdump.pathmap import PathMapping
from tbdump.settings import say_once
from tbdump.termtext import printable
from tbdump.framelines import source_line

from .capabilities import CAPABILITIES
from .evaluate import Evaluator, FrameContext, ModuleGlobals, is_missing
from .messaging import Connection, RequestError, argument, page, position, required, utf16_length
from .sources import SourceMap, parse_path_mappings
from .stack import NO_FRAMES, StackEntry, Stacks, ThreadStack, display_columns
from .variables import Objects, Row, Unavailable, VariableTree, ViewClock, scope_rows

# One sentence for continue, every step and pause alike: VS Code shows an identical notification
# once however often it comes, so F5, F10, F11 and Shift+F11 pressed in turn leave one toast, not one
# per command (what it must say comes first: a toast shows about 70 characters of it).
NOT_RUNNING = ("A crash dump replay cannot continue, step or pause: the program is not running. "
               "Inspect frames, variables and the debug console; stop the session when done.")

NO_RESTART_FRAME = ("A crash dump replay cannot restart a frame: the program is not running, and its frames "
                    "stay as the crash left them.")

# debugpy's description of an exception whose message is empty: the exception widget says it,
# where it would say nothing.
NO_DESCRIPTION = "exception: no description"

# The parts of a Variable that a setVariable response carries (the schema's SetVariableResponse).
SET_VARIABLE_KEYS = ("value", "type", "variablesReference", "indexedVariables", "namedVariables")

# exceptionInfo's innerException holds so many of the chained exceptions and group members, so
# deep, at most: a chain or a group of thousands would be one deeply nested message (the whole
# chain is in details.stackTrace and the call stack).
INNER_EXCEPTIONS = 100
INNER_DEPTH = 10

# Object layers up to this size are unpickled whole in the background; bigger
# ones value by value as they are opened.
PRELOAD_LIMIT = 32 << 20

# Lines tbdap says in the console go out together, in output events of about this many
# characters: a dump listing 100 000 cuts (or sources) costs a client a few events, not 100 000.
OUTPUT_CHUNK = 16 << 10


class Coordinates:
    """The one place where lines and columns change base (and columns become UTF-16 units)."""

    def __init__(self) -> None:
        self.lines_at_1 = True
        self.columns_at_1 = True

    def line(self, line: int) -> int:
        """A 1-based line (as Python counts) for the client."""
        return line if self.lines_at_1 else line - 1

    def column(self, col: int, line_text: str) -> int:
        """A 0-based character offset in ``line_text`` for the client (UTF-16 units)."""
        units = utf16_length(line_text[:col])
        return units + 1 if self.columns_at_1 else units

    def line_in(self, line: int) -> int:
        """A client line back to a 0-based index."""
        return line - 1 if self.lines_at_1 else line

    def column_in(self, column: int, line_text: str) -> int:
        """A client column (UTF-16 units) back to a 0-based character offset in ``line_text``."""
        units = column - 1 if self.columns_at_1 else column
        offset = 0
        while offset < len(line_text) and units > 0:
            units -= 2 if ord(line_text[offset]) > 0xFFFF else 1
            offset += 1
        return offset


def _first(entries: List[StackEntry]) -> Optional[StackEntry]:
    return entries[0] if entries else None


class Replay:
    """Everything a session derives from one opened dump."""

    def __init__(self, dump: Dump, mappings: List[PathMapping], just_my_code: bool, uri_paths: bool,
                 output: Callable[[str, str], None], user_code: Callable[[], ContextManager[None]],
                 request_number: Callable[[], int], cancelled: Callable[[], bool]) -> None:
        self.dump = dump
        self.just_my_code = just_my_code
        self.stacks = Stacks(dump.threads, dump.frames, dump.exceptions)
        self.sources = SourceMap(dump.sources, mappings, dump.metadata.cwd, uri_paths)
        # The program's code that showing a value runs gets capture's budgets (TBDUMP_VALUE_SECONDS a
        # value, TBDUMP_MAX_SECONDS a request): a __len__ that never returns must not hang the view,
        # nor a __setstate__ that never returns the restoring of a value.
        budgets = Budgets.from_env()
        self.objects = Objects(dump.objects_allowed, dump.safe_reason, dump.resolve, dump.restored,
                               dump.restoring_read, budgets.max_seconds)
        self.clock = ViewClock(budgets, request_number, cancelled)
        self.tree = VariableTree(self.objects, self.clock)
        self.evaluator = Evaluator(self.objects, output, self.clock, user_code)
        self.contexts: Dict[int, FrameContext] = {}
        self.module_globals: Dict[str, ModuleGlobals] = {}  # by the frames' globals_key
        # debugpy shows `__exception__` in the frame it stops in: the innermost one
        # it shows, which under justMyCode is the innermost user frame.
        raised = [e for e in self.stacks.crashing.entries if e.frame is not None and e.exception == 0]
        mine = [e for e in raised if e.frame is not None and not e.frame.library]
        self.exception_entry = _first((mine if just_my_code else []) or raised)
        # The frame VS Code opens, justMyCode or not: the innermost of the program's own (it skips
        # subtle frames), or, where there is none, the one that raised, kept plain.
        self.opened_entry = _first(mine or raised)
        self.library_files = {e.frame.filename for e in self.stacks.entries.values()
                              if e.frame is not None and e.frame.library}
        self.told_sources: Set[str] = set()  # files already reported as not taken from disk
        self._preloading: Optional[threading.Thread] = None

    def preload_objects(self) -> None:
        """Start unpickling the object layer in the background, once: by the time the
        user opens a value its object is there (stackTrace never waits for it)."""
        if self._preloading is None and self.dump.objects_allowed:
            self._preloading = threading.Thread(target=self._preload, name="tbdap-preload", daemon=True)
            self._preloading.start()

    def _preload(self) -> None:
        try:
            if self.dump.objects_size <= PRELOAD_LIMIT:
                self.dump.preload()
            else:
                # A big object layer is only verified and opened: its values are read as
                # they are opened, so the server holds what the user looks at, not all of it.
                self.dump.load_objects()
        except Exception:  # a value that fails is a placeholder when asked for; nothing to say here
            pass

    def subtle(self, entry: StackEntry) -> bool:
        """A library frame, shown de-emphasized as debugpy shows every frame outside the program
        (justMyCode or not); never the frame VS Code is to open.

        VS Code opens the first frame it does not de-emphasize and puts the exception widget
        there: with every frame de-emphasized (a thread running only library code, which
        debugpy would not even stop in) it would open no editor and select no frame at all.
        """
        return bool(entry.frame is not None and entry.frame.library and entry is not self.opened_entry)

    def deemphasized(self, filename: str) -> bool:
        """A library file's source under justMyCode, but not the one the replay stops in.

        VS Code keeps one Source per path, with the hint it last received for it, and shows
        the exception widget only in a frame whose Source is not de-emphasized: the hint must
        be the same in every frame of a file, or the stop frame's is lost to its neighbours'.
        """
        stop = self.exception_entry.frame if self.exception_entry is not None else None
        return (self.just_my_code and filename in self.library_files
                and (stop is None or filename != stop.filename))

    def context(self, entry: StackEntry) -> FrameContext:
        assert entry.frame is not None
        if entry.id not in self.contexts:
            key = entry.frame.globals_key
            shared = self.module_globals.setdefault(key, ModuleGlobals()) if key else None
            ctx = FrameContext(entry.frame, self.dump.globals_of(entry.frame), self.objects, shared)
            if entry is self.exception_entry:  # a local there, as in debugpy: shown and evaluated
                ctx.locals_values["__exception__"] = exception_tuple(self.dump.exceptions[0])
            self.contexts[entry.id] = ctx
        return self.contexts[entry.id]

    def line_text(self, frame: Frame) -> str:
        return source_line(self.dump.safe, frame) or ""


class Session:
    """Answers one client's requests about one dump (handlers are `<command>_request`)."""

    def __init__(self, connection: Connection, dump_file: Optional[str] = None,
                 preloaded: Optional[Dump] = None, safe: bool = False, preloaded_said: Sequence[str] = ()) -> None:
        self.conn = connection
        self.default_dump_file = dump_file
        self.preloaded = preloaded
        self.preloaded_said = preloaded_said   # the settings lines loading it said, before any console
        self.default_safe = safe
        self.coords = Coordinates()
        self.uri_paths = False  # the client's pathFormat is "uri": Source and Module paths are file URIs
        self.replay: Optional[Replay] = None
        self.configured = False
        self.stopped_sent = False
        self.told_changes = False
        self.terminated = False
        self._scopes: Dict[int, Tuple[FrameContext, str, StackEntry]] = {}
        # Each frame's scope rows (by frame id and scope kind), as built at a count of the replay's
        # changes: a module's 640 000 globals are sorted and grouped once, not for each page of them.
        self._scope_built: Dict[Tuple[int, str], Tuple[int, List[Row]]] = {}
        self._ref_context: Dict[int, FrameContext] = {}
        # The rows each variablesReference listed, by name, since it last stood for another row
        # (a hover asked again): setVariable finds its target there, without listing a
        # million-item container again.
        self._listed: Dict[int, Tuple[Row, Dict[str, Row]]] = {}

    def close(self) -> None:
        """Closes the session's dump once its client is gone: its file now, not when the
        collector gets to it (a server would hold one more file open for each client)."""
        for dump in (self.preloaded, self.replay.dump if self.replay is not None else None):
            if dump is not None:
                dump.close()
        self.preloaded = self.replay = None

    # -- helpers --------------------------------------------------------------

    def output(self, category: str, text: str) -> None:
        self.conn.send_output(category, text)

    def written(self, category: str, text: str) -> None:
        """What the program's code run for this session writes, sent as written."""
        self.conn.send_output(category, text, as_written=True)

    def tell(self, category: str, text: str) -> None:
        """Say something of tbdap's own, holding the dump's text: its control characters
        as escapes, so a crafted dump cannot colour, hide or rewrite the console's lines
        (VS Code's debug console acts on ANSI sequences)."""
        self.output(category, printable(text))

    def tell_lines(self, category: str, lines: List[str]) -> None:
        """``tell`` many lines in as few output events as OUTPUT_CHUNK allows."""
        chunk: List[str] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) > OUTPUT_CHUNK:
                self.tell(category, "\n".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line) + 1
        if chunk:
            self.tell(category, "\n".join(chunk))

    def _replay(self) -> Replay:
        if self.replay is None:
            raise RequestError("No dump is open yet: send 'launch' with a \"dumpFile\" "
                               "(or 'attach' to a running tbdap server) first.")
        return self.replay

    def _entry(self, args: Dict[str, Any]) -> StackEntry:
        """The frame a request's optional 'frameId' names (the innermost one when absent)."""
        replay = self._replay()
        frame_id = argument(args, "frameId", int)
        if frame_id is None:
            # The innermost frame, or what stands where there is none (it says why).
            entries = replay.stacks.crashing.entries
            entry = next((e for e in entries if e.frame is not None), entries[0])
        else:
            entry = self._frame(frame_id)
        if entry.syntax is not None:
            raise RequestError("%s: the file did not compile, so no code of it ran: there are no "
                               "variables to evaluate." % entry.syntax.filename)
        if entry.frame is None and entry.label == NO_FRAMES:
            raise RequestError("The exception was never raised: this dump has no frames, so no "
                               "variables to evaluate.")
        if entry.frame is None:
            raise RequestError("%r is a label in the call stack, not a frame: select a frame." % entry.label)
        return entry

    def _frame(self, frame_id: int) -> StackEntry:
        """The entry of the call stack a request's 'frameId' names."""
        entry = self._replay().stacks.entries.get(frame_id)
        if entry is None:
            raise RequestError("There is no frame with id %d in this replay." % frame_id)
        return entry

    def _row(self, ref: int, in_frame: bool = False) -> Row:
        """The row a request's 'variablesReference' names; ``in_frame``: only one listed in a
        frame's context (where an assignment to it runs)."""
        row = self._replay().tree.row(ref)
        if row is None or (in_frame and ref not in self._ref_context):
            raise RequestError("There is no variablesReference %d in this replay." % ref)
        return row

    # -- lifecycle ------------------------------------------------------------

    def initialize_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        # All read before any is set: a refused initialize leaves the session as it was.
        lines_at_1 = argument(args, "linesStartAt1", bool, True)
        columns_at_1 = argument(args, "columnsStartAt1", bool, True)
        path_format = argument(args, "pathFormat", str, "path")
        self.coords.lines_at_1, self.coords.columns_at_1 = lines_at_1, columns_at_1
        self.uri_paths = path_format == "uri"
        return dict(CAPABILITIES)

    def launch_request(self, args: Dict[str, Any]) -> None:
        self._open(args, "launch")

    def attach_request(self, args: Dict[str, Any]) -> None:
        self._open(args, "attach")

    def _open(self, args: Dict[str, Any], command: str) -> None:
        try:
            self._open_dump(args, command)
        except RequestError as exc:
            exc.show_user = True  # no session starts: the user must be told why
            raise

    def _open_dump(self, args: Dict[str, Any], command: str) -> None:
        if self.replay is not None:
            raise RequestError("A dump is already open in this session.")
        path = argument(args, "dumpFile", str)
        if path is None:
            path = self.default_dump_file
        if path is None:
            program = args.get("program")
            # A Python launch configuration reused as is (nvim-dap, dap-mode templates) names a
            # program to run: say that tbdap runs nothing and which key it reads.
            hint = (" \"program\" (%s) is not read: tbdap runs no program, it opens the dump a crash wrote."
                    % program if isinstance(program, str) else "")
            raise RequestError("'%s' needs a \"dumpFile\": the path of the dump to open.%s" % (command, hint))
        cwd = argument(args, "cwd", str)
        if cwd and not os.path.isabs(os.path.expanduser(path)):
            path = os.path.join(cwd, path)
        path = os.path.abspath(os.path.expanduser(path))
        # A client may ask for safe mode, never lift the one the server was started in.
        safe = self.default_safe or bool(argument(args, "safe", bool, False))
        just_my_code = argument(args, "justMyCode", bool, True)
        # Checked before loading: in server mode a refused launch must not use up the dump
        # opened at startup, which the retry would then load again.
        mappings = parse_path_mappings(args.get("pathMappings"))
        dump = self._load(path, safe)
        self.replay = Replay(dump, mappings, just_my_code, self.uri_paths, self.written, self.conn.user_code,
                             lambda: self.conn.requests, lambda: self.conn.cancelled)
        self.conn.after_response(self._opened)

    def _load(self, path: str, safe: bool) -> Dump:
        preloaded, self.preloaded = self.preloaded, None
        if preloaded is not None and preloaded.path == path and (preloaded.objects_allowed or safe) is not safe:
            for text in self.preloaded_said:   # to this console, as loading it here would have said them
                say_once(text)
            return preloaded
        try:
            return load(path, objects=False if safe else None)
        except DumpError as exc:   # every error opening or reading the file, in the system's words
            raise RequestError(str(exc)) from None

    def _opened(self) -> None:
        replay = self._replay()
        dump = replay.dump
        meta = dump.metadata
        exc = dump.exception
        self.tell("console", "tbdump replay of %s\n  %s: %s\n  captured %s on %s (pid %s, Python %s)" % (
            dump.path, exc.type, exc.message, meta.time, meta.hostname, meta.pid,
            ".".join(map(str, meta.version_info))))
        if dump.safe_reason:
            self.tell("important", "  " + dump.safe_reason)
            # Safe mode asked for is the reason given: the key's doubt holds for the previews too.
            if dump.signature_problem and dump.signature_problem not in dump.safe_reason:
                self.tell("important", "  " + dump.signature_problem)
        notes = ["  " + n for n in [dump.version_note] if n]
        notes += ["  " + note for note in meta.cut_notes(CUTS_SHOWN)]
        self.tell_lines("console", notes)
        self.conn.send_event("initialized")
        self._maybe_stop()

    def configurationDone_request(self, args: Dict[str, Any]) -> None:
        self.configured = True
        self.conn.after_response(self._maybe_stop)

    def _maybe_stop(self) -> None:
        if self.replay is None or not self.configured or self.stopped_sent:
            return
        self.stopped_sent = True
        exc = self.replay.dump.exception
        self.conn.send_event("stopped", {
            "reason": "exception", "description": "Paused on exception", "text": exc.type_name,
            "threadId": self.replay.stacks.crashing.id, "allThreadsStopped": True,
            "preserveFocusHint": False})

    def setExceptionBreakpoints_request(self, args: Dict[str, Any]) -> None:
        required(args, "filters", list)  # read nowhere: the replay is already stopped at its one exception

    def setBreakpoints_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        required(args, "source", dict)
        return _never_hit(argument(args, "breakpoints", list, []))

    def setFunctionBreakpoints_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        return _never_hit(required(args, "breakpoints", list))

    def cancel_request(self, args: Dict[str, Any]) -> None:
        # The connection acted on it as it arrived (tbdap sends no progress to cancel); a request
        # that has already been answered, or that is not cancellable, is left as it was.
        argument(args, "requestId", int)
        argument(args, "progressId", str)

    def disconnect_request(self, args: Dict[str, Any]) -> None:
        self.conn.closing = True

    def terminate_request(self, args: Dict[str, Any]) -> None:
        # Once: a second Stop (or terminate) finds the session already ending.
        if not self.terminated:
            self.terminated = True
            self.conn.after_response(lambda: self.conn.send_event("terminated"))

    def _cannot(self, why: str = NOT_RUNNING) -> None:
        self._replay()
        # showUser: "Debug: Step Over" run from the command palette says it only then (VS Code
        # 1.139); F10 and the toolbar's buttons show a failed command as a warning anyway.
        raise RequestError(why, error_id=3, show_user=True)

    def continue_request(self, args: Dict[str, Any]) -> None:
        self._cannot()

    # Every step and pause alike. stepBack, reverseContinue and goto are not advertised, so VS Code
    # offers none of them; a client that sends them anyway hears why they cannot be, not that
    # tbdap lacks them.
    next_request = stepIn_request = stepOut_request = pause_request = continue_request
    stepBack_request = reverseContinue_request = goto_request = continue_request

    def restartFrame_request(self, args: Dict[str, Any]) -> None:
        self._cannot(NO_RESTART_FRAME)

    # -- threads and stacks -----------------------------------------------------

    def threads_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        return {"threads": [{"id": t.id, "name": t.name} for t in self._replay().stacks.threads]}

    def _thread(self, args: Dict[str, Any]) -> ThreadStack:
        """The thread a request's 'threadId' names."""
        thread_id = required(args, "threadId", int)
        thread = self._replay().stacks.thread(thread_id)
        if thread is None:
            raise RequestError("There is no thread with id %d in this dump." % thread_id)
        return thread

    def stackTrace_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        thread = self._thread(args)
        chosen = page(thread.entries, position(args, "startFrame"), position(args, "levels"))
        frames = [self._stack_frame(replay, e) for e in chosen]
        self._tell_source_problems(replay)
        return {"stackFrames": frames, "totalFrames": len(thread.entries)}

    def _stack_frame(self, replay: Replay, entry: StackEntry) -> Dict[str, Any]:
        if entry.syntax is not None:
            return self._syntax_frame(replay, entry, entry.syntax)
        if entry.frame is None:
            return {"id": entry.id, "name": entry.label, "line": 0, "column": 0, "presentationHint": "label"}
        frame = entry.frame
        line_text = replay.line_text(frame)
        col, end_col = display_columns(line_text, frame.lineno, frame.position)
        out: Dict[str, Any] = {
            "id": entry.id, "name": frame.name, "line": self.coords.line(frame.lineno),
            "column": self.coords.column(col, line_text),
            "source": replay.sources.dap_source(frame.filename, replay.deemphasized(frame.filename))}
        if end_col is not None:
            out["endColumn"] = self.coords.column(end_col, line_text)
        if replay.subtle(entry):
            out["presentationHint"] = "subtle"
        return out

    def _syntax_frame(self, replay: Replay, entry: StackEntry, detail: SyntaxDetail) -> Dict[str, Any]:
        """The line a SyntaxError without frames points at, as a frame: VS Code opens it and puts
        the exception widget there, as the terminal's link to a SyntaxError opens the file there."""
        assert detail.filename is not None and detail.lineno is not None   # syntax_location's
        line_text = detail.text or ""
        col, end_col = location_columns(detail)
        out: Dict[str, Any] = {
            "id": entry.id, "name": entry.label, "line": self.coords.line(detail.lineno),
            "column": self.coords.column(col, line_text),
            "source": replay.sources.dap_source(detail.filename, False)}
        if detail.end_lineno is not None and detail.end_lineno >= detail.lineno:
            out["endLine"] = self.coords.line(detail.end_lineno)
        if end_col is not None:
            out["endColumn"] = self.coords.column(end_col, line_text)
        return out

    def _tell_source_problems(self, replay: Replay) -> None:
        fresh = [p for p in replay.sources.problems() if p.remote not in replay.told_sources]
        if not fresh:
            return
        replay.told_sources.update(p.remote for p in fresh)
        lines = ["  %s" % p.told for p in fresh if p.told]
        if lines:
            self.tell_lines("console", ["Sources not taken from this machine:"] + lines)
        noted = ["  %s: %s" % (p.remote, p.note) for p in fresh if p.note]
        if noted:
            self.tell_lines("console", ["Sources that may not be the code that ran:"] + noted)

    def source_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        source = argument(args, "source", dict, {})
        # The Source's own reference wins over the request's (the spec's older form).
        reference = argument(source, "sourceReference", int) or argument(args, "sourceReference", int, 0)
        path = argument(source, "path", str)
        if not reference and path is None:
            raise RequestError("The request needs the 'sourceReference' argument (or a 'source' with one).")
        return {"content": replay.sources.text(reference, path), "mimeType": "text/x-python"}

    def exceptionInfo_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        thread = self._thread(args)
        if thread is not replay.stacks.crashing:
            raise RequestError("Thread %d did not raise the exception: it was running when the crash was dumped."
                               % thread.id)
        exc = replay.dump.exception
        details = _details(exc)
        details["stackTrace"] = replay.dump.traceback_text
        located = syntax_location(exc)
        if exc.frames:
            details["source"] = exc.frames[-1].filename
        elif located is not None:
            details["source"] = located.filename
        _nest_inner_exceptions(details, replay.dump.exceptions)
        return {"exceptionId": exc.type_name, "description": exc.message or NO_DESCRIPTION,
                "breakMode": "unhandled", "details": details}

    # -- variables --------------------------------------------------------------

    def scopes_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        entry = self._frame(required(args, "frameId", int))
        if entry.frame is None:
            return {"scopes": []}
        ctx = replay.context(entry)
        replay.preload_objects()
        scopes = []
        for name, kind in (("Locals", "locals"), ("Globals", "globals")):
            row = Row(name, Value(type="", repr=""), children=[])
            ref = replay.tree.handle(row, slot=("scope", entry.id, kind))
            self._scopes[ref] = (ctx, kind, entry)
            self._ref_context[ref] = ctx
            scope = {"name": name, "variablesReference": ref, "expensive": False}
            if kind == "locals":
                scope["presentationHint"] = "locals"
            scopes.append(scope)
        return {"scopes": scopes}

    def _scope_rows(self, ctx: FrameContext, kind: str, entry: StackEntry) -> List[Row]:
        """A scope's rows, built again only after the replay changed (a setVariable, a
        setExpression, a console input): a change to a module's globals shows in every frame
        of the module, which share them."""
        changes = self._replay().objects.changes
        built = self._scope_built.get((entry.id, kind))
        if built is None or built[0] != changes:
            built = changes, self._build_scope_rows(ctx, kind)
            self._scope_built[entry.id, kind] = built
        return built[1]

    def _build_scope_rows(self, ctx: FrameContext, kind: str) -> List[Row]:
        replay = self._replay()
        values = ctx.locals_values if kind == "locals" else ctx.globals_values
        items: Iterable[Tuple[str, Value, Optional[Callable[[], Any]]]]
        if replay.objects.changed:
            # A module frame's locals are its globals, which hold __builtins__ for evaluating.
            live = {k: v for k, v in ctx.namespace(kind == "locals").items()
                    if k != "__builtins__" or "__builtins__" in values}
            items = [(name, values[name] if is_missing(obj) and name in values else replay.clock.describe(obj),
                      _context_getter(ctx, kind, name)) for name, obj in live.items()]
        else:
            items = ((name, value, _context_getter(ctx, kind, name)) for name, value in values.items())
        return scope_rows(items)

    def variables_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        ref = required(args, "variablesReference", int)
        flt = argument(args, "filter", str)
        if flt not in (None, "indexed", "named"):
            raise RequestError("The 'filter' argument must be \"indexed\" or \"named\", not %r." % flt)
        start = position(args, "start")
        count = position(args, "count")
        fmt = argument(args, "format", dict, {})
        row = self._row(ref)
        if ref in self._scopes:
            row.children = self._scope_rows(*self._scopes[ref])
        kids = replay.tree.children(row, flt, start, count)
        ctx = self._ref_context.get(ref)
        listed = self._listed.get(ref)
        if listed is None or listed[0] is not row:
            listed = self._listed[ref] = row, {}
        listed[1].update((kid.name, kid) for kid in kids)
        out = []
        for kid in kids:
            variable = replay.tree.variable(kid, ref, hex_ints=bool(fmt.get("hex")))
            if variable["variablesReference"] and ctx is not None:
                self._ref_context[variable["variablesReference"]] = ctx
            out.append(variable)
        return {"variables": out}

    def setVariable_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        ref = required(args, "variablesReference", int)
        name = required(args, "name", str)
        value = required(args, "value", str)
        parent = self._row(ref, in_frame=True)
        ctx = self._ref_context[ref]
        a_global = False
        if ref in self._scopes:
            target, a_global = name, self._scopes[ref][1] == "globals"
        else:
            listed = self._listed.get(ref)
            shown = listed[1] if listed is not None and listed[0] is parent else {}
            match = shown.get(name) if name in shown else next(
                (r for r in replay.tree.children(parent) if r.name == name), None)
            if match is None:
                raise RequestError("There is no variable named %r under variablesReference %d." % (name, ref))
            if match.read_only:
                raise RequestError("%s cannot be assigned to: it is computed from the value." % name)
            if not match.evaluate_name:
                raise RequestError("%s cannot be assigned to: it has no expression that reaches it." % name)
            target = match.evaluate_name
        return self._assigned(replay, replay.evaluator.assign(target, value, ctx, a_global), args,
                              SET_VARIABLE_KEYS)

    def setExpression_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        expression = required(args, "expression", str)
        value = required(args, "value", str)
        ctx = replay.context(self._entry(args))
        # Its answer also says how to show the value (a str is a rawString), as debugpy's does.
        return self._assigned(replay, replay.evaluator.assign(expression, value, ctx), args,
                              SET_VARIABLE_KEYS + ("presentationHint",))

    def _assigned(self, replay: Replay, row: Row, args: Dict[str, Any], keys: Tuple[str, ...]) -> Dict[str, Any]:
        if not self.told_changes:
            self.told_changes = True
            self.output("console", "Changed in this replay only: the dump file stays as it was.")
        fmt = argument(args, "format", dict, {})
        variable = replay.tree.variable(row, 0, hex_ints=bool(fmt.get("hex")))
        return {k: variable[k] for k in keys if k in variable}

    # -- evaluation -------------------------------------------------------------

    def evaluate_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        expression = required(args, "expression", str)
        context = argument(args, "context", str, "hover")
        fmt = argument(args, "format", dict, {})
        entry = self._entry(args)
        ctx = replay.context(entry)
        row = replay.evaluator.evaluate(expression, ctx, context)
        if context == "clipboard" and row.has_obj:
            obj = row.obj
            try:
                text = replay.clock.run(lambda: repr(obj), "repr()")
            except Unavailable as exc:
                raise RequestError("%s." % exc) from None
            row.value = Value(type=row.value.type, repr=text, qualtype=row.value.qualtype,
                              expandable=row.value.expandable)
        # A hover or watch asked again keeps its reference; a console output gets its own.
        slot = None if context == "repl" else ("evaluate", entry.id, context, expression)
        variable = replay.tree.variable(row, 0, hex_ints=bool(fmt.get("hex")), slot=slot)
        if variable["variablesReference"]:
            self._ref_context[variable["variablesReference"]] = ctx
        out = {"result": variable["value"], "type": variable["type"],
               "variablesReference": variable["variablesReference"]}
        for key in ("indexedVariables", "namedVariables", "presentationHint"):
            if key in variable:
                out[key] = variable[key]
        return out

    def completions_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        text = required(args, "text", str)
        # `column` counts in the line `line` names (the first when absent), as a multi-line
        # console input or an editor other than VS Code sends it.
        lines = text.split("\n")
        # An absent line reads as 0, which is the first line at either base.
        index = min(max(self.coords.line_in(position(args, "line")), 0), len(lines) - 1)
        column = self.coords.column_in(position(args, "column", needed=True), lines[index])
        ctx = replay.context(self._entry(args))
        return {"targets": replay.evaluator.completions(lines[index][:column], ctx)}

    # -- the rest of the dump ---------------------------------------------------

    def modules_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        seen: Dict[str, Dict[str, Any]] = {}
        for entry in replay.stacks.entries.values():
            frame = entry.frame
            if frame is not None and frame.module not in seen:
                seen[frame.module] = {"id": frame.module, "name": frame.module,
                                      "path": replay.sources.client_path(frame.filename),
                                      "isUserCode": not frame.library}
        packages = replay.dump.metadata.packages or {}
        for name, module in seen.items():
            version = packages.get(name.partition(".")[0])
            if version:
                module["version"] = version
        modules = sorted(seen.values(), key=lambda m: m["name"])
        return {"modules": page(modules, position(args, "startModule"), position(args, "moduleCount")),
                "totalModules": len(modules)}

    def loadedSources_request(self, args: Dict[str, Any]) -> Dict[str, Any]:
        replay = self._replay()
        return {"sources": replay.sources.loaded_sources(replay.deemphasized)}


def _details(exc: ExceptionRecord) -> Dict[str, Any]:
    return {"message": exc.message, "typeName": exc.type_name, "fullTypeName": exc.type}


def _nest_inner_exceptions(details: Dict[str, Any], exceptions: List[ExceptionRecord]) -> None:
    """Each exception's innerException: its cause (or context), then its members if it is a group,
    as the traceback shows them; INNER_EXCEPTIONS of them at most, INNER_DEPTH deep."""
    nodes = {0: (details, 0)}
    for link in walk(exceptions):  # parents before their children
        parent = nodes.get(link.parent)
        if len(nodes) > INNER_EXCEPTIONS:
            break
        if parent is None or parent[1] >= INNER_DEPTH:
            continue
        node = _details(exceptions[link.linked])
        parent[0].setdefault("innerException", []).append(node)
        nodes[link.linked] = (node, parent[1] + 1)


def _never_hit(wanted: List[Any]) -> Dict[str, Any]:
    return {"breakpoints": [{"verified": False, "message": "A replay does not run, so breakpoints never hit."}
                            for _ in wanted]}


def _context_getter(ctx: FrameContext, kind: str, name: str) -> Callable[[], Any]:
    def get() -> Any:
        return ctx.real(kind == "locals", name)  # that value only, not the whole frame (or as changed)
    return get


def exception_tuple(record: ExceptionRecord) -> Value:
    """debugpy's `__exception__`: (type, value, traceback) of the exception raised in this frame."""
    exc_value = record.value or Value(type=record.type_name, repr="%s(%r)" % (record.type_name, record.message))
    cls = Value(type="type", repr="<class '%s'>" % (exc_value.qualtype or record.type))
    tb = Value(type="traceback", repr="<traceback object>",
               missing=not_captured("the traceback is shown as the call stack"))
    children = [Child("0", cls, "[0]"), Child("1", exc_value, "[1]"), Child("2", tb, "[2]"),
                Child("len()", preview.describe(3))]
    return Value(type="tuple", repr="(%s, %s, %s)" % (cls.repr, exc_value.repr, tb.repr),
                 length=3, children=children, expandable=True)
