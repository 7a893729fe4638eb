"""DAP messaging: sequence numbers, request dispatch to `<command>_request` methods, error responses."""
from __future__ import annotations

import _thread
import contextlib
import queue
import sys
import threading
import traceback
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Type, TypeVar, overload

from .framing import BadMessage, BrokenStream, Framing, Unencodable

T = TypeVar("T")


class RequestError(Exception):
    """A request that cannot be answered; its text is one sentence for the user.

    ``show_user`` makes VS Code pop it up as a notification: right for a launch
    or a step that failed, wrong for a hover or watch that fails (the view shows
    those inline, and a watch would pop up again at every refresh), as debugpy does.
    """

    def __init__(self, message: str, error_id: int = 1, show_user: bool = False) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.show_user = show_user


def log(text: str) -> None:
    """A diagnostic line for whoever reads the adapter's stderr (never stdout: it carries DAP; nor
    sys.stderr, which shows the replay's output in the client's console while it is served)."""
    print("tbdap: " + text, file=sys.__stderr__, flush=True)


@overload
def argument(args: Dict[str, Any], name: str, kind: Type[T], default: T) -> T: ...


@overload
def argument(args: Dict[str, Any], name: str, kind: Type[T], default: None = None) -> Optional[T]: ...


def argument(args: Dict[str, Any], name: str, kind: Type[T], default: Optional[T] = None) -> Optional[T]:
    """One request argument, checked at the edge so handlers can trust it."""
    if name not in args or args[name] is None:
        return default
    value = args[name]
    # bool is an int to Python but not to a DAP client.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RequestError("The %r argument must be %s, not %r." % (name, _kind_name(kind), value))
    return value


def position(args: Dict[str, Any], name: str, needed: bool = False) -> int:
    """A start, a count or a column: an integer, 0 when absent (unless ``needed``), never negative."""
    value = required(args, name, int) if needed else argument(args, name, int, 0)
    if value < 0:
        raise RequestError("The %r argument must be 0 or more, not %d." % (name, value))
    return value


def utf16_length(text: str) -> int:
    """``text``'s length as DAP counts columns and offsets: in UTF-16 units, a character beyond
    the Basic Multilingual Plane (an emoji) two."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def page(items: List[T], start: int, count: int) -> List[T]:
    """The part of ``items`` a DAP start/count asks for: a count of 0 (or none) runs to the end."""
    return items[start:start + count] if count else items[start:]


def required(args: Dict[str, Any], name: str, kind: Type[T]) -> T:
    """An argument the request cannot do without."""
    value = argument(args, name, kind)
    if value is None:
        raise RequestError("The request needs the %r argument." % name)
    return value


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "a list",
            dict: "an object"}.get(kind, kind.__name__)


# Requests that end the session: arriving while evaluated code runs, they interrupt it.
_ENDING = frozenset(("disconnect", "terminate"))
# Requests that only read (or run code in the console) and may be cut short by a `cancel`:
# one not yet begun is answered "cancelled" unrun, one running has its program code ended.
# The others (launch, setVariable ...) change the session and always run to their end.
CANCELLABLE = frozenset(("threads", "stackTrace", "scopes", "variables", "evaluate", "completions",
                         "source", "exceptionInfo", "modules", "loadedSources"))
# The spec's answer for a cancelled request: success false, message "cancelled".
_CANCELLED = (4, "cancelled", False)
# What a client may send before 'initialize' has succeeded: that, and a way to leave.
_BEFORE_INITIALIZE = frozenset(("initialize", "disconnect"))


class Connection:
    """One client: reads requests, calls the handler's methods, writes responses and events.

    Requests are read by a thread of their own, so that one that ends the session
    can interrupt code evaluated in the REPL that never returns (``while True``):
    the handler thread must be the main thread, which the interruption reaches.
    A `cancel` is seen there too, as it arrives, while the request it names runs.
    """

    def __init__(self, framing: Framing) -> None:
        self._framing = framing
        self._seq = 0
        self._send_lock = threading.Lock()
        self._after_response: List[Callable[[], None]] = []
        self._before_answer: Callable[[], None] = lambda: None
        self.closing = False
        self._lock = threading.Lock()
        self._in_user_code = False
        self._interrupting = False
        self._initialized = False
        self.requests = 0  # requests handled so far; the number of the one being handled
        self._running: Optional[Tuple[int, str]] = None  # seq and command of the request being handled
        self._cancelled: Set[int] = set()  # seqs a `cancel` named, until they are answered

    @contextlib.contextmanager
    def user_code(self) -> Iterator[None]:
        """Marks code of the user's running (an evaluation) as interruptible."""
        with self._lock:
            self._in_user_code = True
        try:
            yield
        finally:
            with self._lock:
                self._in_user_code = False

    @property
    def cancelled(self) -> bool:
        """Whether the client cancelled the request being handled: its program code stops."""
        running = self._running
        return running is not None and running[1] in CANCELLABLE and running[0] in self._cancelled

    def send_output(self, category: str, text: str, as_written: bool = False) -> None:
        """``text`` in the client's console; a line end is added where it lacks one (VS Code would
        run the next output on), unless it is the program's output ``as_written``, which debugpy
        sends as the program wrote it: its line goes on in the next output. Nothing once the
        client has gone: the program's code may write from anywhere (a thread, a logging handler
        a console line set up, the next client's session), and the lost connection is the
        reader's to notice."""
        try:
            self.send_event("output", {"category": category,
                                       "output": text if as_written or text.endswith("\n") else text + "\n"})
        except OSError:
            pass

    def send_event(self, event: str, body: Optional[Dict[str, Any]] = None) -> None:
        message: Dict[str, Any] = {"seq": 0, "type": "event", "event": event}
        if body is not None:
            message["body"] = body
        self._write(message)

    def after_response(self, action: Callable[[], None]) -> None:
        """Runs ``action`` (typically sending an event) once the current response is written."""
        self._after_response.append(action)

    def serve(self, handler: Any, before_answer: Callable[[], None] = lambda: None) -> None:
        """Answers requests until the client disconnects or the stream breaks; ``before_answer``
        runs before each response is written."""
        self._before_answer = before_answer
        incoming: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        threading.Thread(target=self._read_all, args=(incoming,), name="tbdap-reader", daemon=True).start()
        while not self.closing:
            try:
                kind, item = incoming.get()
                if kind == "message":
                    self._handle(handler, item)
                elif kind == "bad":
                    self._report_bad_input(item)
                elif kind == "broken":
                    self._report_bad_input("%s; closing the connection." % item)
                    return
                else:
                    if kind == "lost":
                        log("connection lost: %s" % item)
                    return
            except KeyboardInterrupt:
                if not self._interrupting:
                    raise
                # The interruption meant for evaluated code came as it ended: it is spent.
            self._interrupting = False

    def _read_all(self, incoming: "queue.Queue[Tuple[str, Any]]") -> None:
        while True:
            try:
                message = self._framing.read()
            except BadMessage as exc:
                incoming.put(("bad", str(exc)))
                continue
            except BrokenStream as exc:
                self._ended(incoming, ("broken", str(exc)))
                return
            except (OSError, ValueError) as exc:  # ValueError: the stream was closed under us
                self._ended(incoming, ("lost", exc))
                return
            if message is None:
                self._ended(incoming, ("end", None))
                return
            if message.get("type") == "request" and message.get("command") in _ENDING:
                self._interrupt_user_code()
            elif message.get("type") == "request" and message.get("command") == "cancel":
                self._cancel(message.get("arguments"))
            incoming.put(("message", message))

    def _ended(self, incoming: "queue.Queue[Tuple[str, Any]]", item: Tuple[str, Any]) -> None:
        # A client that goes away without a disconnect (closed editor, killed socket) ends
        # the session too: code still running in the REPL (`while True`) would otherwise
        # keep the adapter spinning forever, and a server from ever serving the next client.
        self._interrupt_user_code()
        incoming.put(item)

    def _cancel(self, args: Any) -> None:
        """Marks the request a `cancel` names; the one running now is cut short at once
        (the `cancel` itself is answered in its turn, by the handler)."""
        target = args.get("requestId") if isinstance(args, dict) else None
        if not isinstance(target, int) or isinstance(target, bool):
            return  # the handler says what is wrong with the arguments
        with self._lock:
            self._cancelled.add(target)
            if self.cancelled:
                self._interrupt_locked()

    def _interrupt_user_code(self) -> None:
        with self._lock:
            self._interrupt_locked()

    def _interrupt_locked(self) -> None:
        if self._in_user_code and not self._interrupting:
            self._interrupting = True
            _thread.interrupt_main()  # a KeyboardInterrupt in the evaluated code

    def _handle(self, handler: Any, message: Dict[str, Any]) -> None:
        if message.get("type") != "request":
            if message.get("type") not in ("response", "event"):
                self._report_bad_input("ignored a message that is not a request: %.200s" % (message,))
            return
        seq = message.get("seq")
        command = message.get("command")
        if not isinstance(seq, int) or not isinstance(command, str):
            self._report_bad_input("ignored a request without an integer 'seq' and a 'command'")
            return
        args = message.get("arguments")
        if args is None:
            args = {}
        self._after_response = []
        self.requests += 1
        with self._lock:
            self._running = (seq, command)
        try:
            body, error = self._dispatch(handler, command, args)
        finally:
            with self._lock:
                if self.cancelled:
                    # Cut short or not begun: what it holds is not what was asked, and the client
                    # has moved on.
                    body, error = None, _CANCELLED
                self._running = None
                self._cancelled.discard(seq)
        self._before_answer()
        if error is not None:
            self._respond(seq, command, False, error=error)
            return
        self._respond(seq, command, True, body=body)
        self._initialized = self._initialized or command == "initialize"
        actions, self._after_response = self._after_response, []
        for action in actions:
            try:
                action()
            except OSError:
                raise  # the client is gone: the caller ends the connection
            except Exception:  # a bug in tbdap: the response is out, and the session goes on
                log("internal error after answering %r:\n%s" % (command, traceback.format_exc()))

    def _dispatch(self, handler: Any, command: str, args: Any) -> Tuple[Optional[Dict[str, Any]], Optional[tuple]]:
        """(body, None) of a request answered, or (None, (error id, text, showUser))."""
        try:
            if not isinstance(args, dict):
                raise RequestError("The arguments of %r must be an object." % command)
            method = getattr(handler, command + "_request", None)
            if method is None:
                raise RequestError("tbdap does not support the %r request." % command, error_id=2)
            self._check_order(command)
            if self.cancelled:
                return None, _CANCELLED  # cancelled while it waited: nothing to run
            return method(args), None
        except RequestError as exc:
            return None, (exc.error_id, str(exc), exc.show_user)
        except KeyboardInterrupt:
            if not (self._interrupting and self.cancelled):
                raise
            # The interruption meant for the cancelled evaluation came as it ended.
            return None, _CANCELLED
        except Exception as exc:  # a bug in tbdap: say so in one line, keep the traceback on stderr
            log("internal error while handling %r:\n%s" % (command, traceback.format_exc()))
            text = "Internal error in tbdap while handling %r: %s: %s (details on the adapter's stderr)." % (
                command, type(exc).__name__, exc)
            return None, (99, text, True)

    def _check_order(self, command: str) -> None:
        """The protocol's order: 'initialize' first, and once (debugpy refuses both the same way)."""
        if command == "initialize" and self._initialized:
            raise RequestError("The session is already initialized: 'initialize' is sent once, first.")
        if not self._initialized and command not in _BEFORE_INITIALIZE:
            raise RequestError("The session is not initialized yet: send 'initialize' before %r." % command)

    def _respond(self, request_seq: int, command: str, success: bool,
                 body: Optional[Dict[str, Any]] = None, error: Optional[tuple] = None) -> None:
        message: Dict[str, Any] = {"seq": 0, "type": "response",
                                   "request_seq": request_seq, "success": success, "command": command}
        if error is not None:
            error_id, text, show_user = error
            message["message"] = text
            body = {"error": {"id": error_id, "format": text, "showUser": show_user}}
        if body is not None:
            message["body"] = body
        self._write(message)

    def _write(self, message: Dict[str, Any]) -> None:
        """Sends a message; one with no JSON form is a bug in tbdap, logged and never fatal.

        Such a response becomes an error response, so the client is not left
        waiting; such an event is dropped.
        """
        try:
            # Numbered as written: the program's code restoring a value in the background prints
            # from its own thread, and each message has a seq of its own, rising in the order sent.
            with self._send_lock:
                self._seq += 1
                message["seq"] = self._seq
                self._framing.write(message)
        except Unencodable as exc:
            what = message.get("command") or message.get("event")
            log("internal error: could not encode the %s %r: %s" % (message.get("type"), what, exc))
            if message.get("type") == "response" and message.get("success"):
                self._respond(message["request_seq"], message["command"], False, error=(
                    99, "Internal error in tbdap: its answer to %r could not be encoded (%s)."
                    % (message["command"], exc), True))

    def _report_bad_input(self, text: str) -> None:
        log(text)
        self.send_output("stderr", "tbdap: %s" % text)
