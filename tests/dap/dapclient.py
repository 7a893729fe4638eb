"""A small DAP client for the tests: frames messages, matches responses, validates everything received.

Every message the adapter sends is checked against the official schema
(`<repo>/../shared/dap/debugAdapterProtocol.json`): a response to command X
against `XResponse` (`ErrorResponse` when it failed), an event Y against
`YEvent`.  Violations are collected and fail the test when the client closes.
"""
from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, IO, List, Optional, Sequence

import jsonschema

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO.parent / "shared" / "dap" / "debugAdapterProtocol.json"
DEFAULT_TIMEOUT = 20.0

_schema: Optional[Dict[str, Any]] = None


def schema() -> Dict[str, Any]:
    global _schema
    if _schema is None:
        _schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return _schema


def schema_errors(message: Dict[str, Any]) -> List[str]:
    """What is wrong with one message the adapter sent, per the DAP schema (empty: valid)."""
    doc = schema()
    kind = message.get("type")
    if kind == "response":
        command = str(message.get("command", ""))
        name = command[:1].upper() + command[1:] + "Response"
        if not message.get("success", True):
            name = "ErrorResponse"
        elif name not in doc["definitions"]:
            name = "Response"
    elif kind == "event":
        event = str(message.get("event", ""))
        name = event[:1].upper() + event[1:] + "Event"
        if name not in doc["definitions"]:
            name = "Event"
    else:
        name = "ProtocolMessage"
    sub = {"$ref": "#/definitions/" + name, "definitions": doc["definitions"]}
    validator = jsonschema.Draft4Validator(sub)
    return [f"{name}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(message)]


def frame(message: Dict[str, Any]) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class DapError(AssertionError):
    """A request the test expected to succeed failed."""


class DapClient:
    """One connection to an adapter: requests, responses, events."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes], name: str = "adapter",
                 proc: Optional[subprocess.Popen] = None, sock: Optional[socket.socket] = None):
        self.reader = reader
        self.writer = writer
        self.name = name
        self.proc = proc
        self.sock = sock
        self.seq = 0
        self.received: List[Dict[str, Any]] = []
        self.violations: List[str] = []
        self.closed = threading.Event()
        self._stderr_chunks: List[bytes] = []
        self._responses: Dict[int, "queue.Queue[Dict[str, Any]]"] = {}
        self._events: List[Dict[str, Any]] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read_loop, daemon=True)
        self._thread.start()

    # -- construction -------------------------------------------------------

    @classmethod
    def spawn(cls, args: Sequence[str], env: Optional[Dict[str, str]] = None,
              cwd: Optional[str] = None, name: str = "adapter",
              preexec_fn: Optional[Callable[[], None]] = None) -> "DapClient":
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), full_env.get("PYTHONPATH")]))
        full_env.update(env or {})
        proc = subprocess.Popen(list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=full_env, cwd=cwd, preexec_fn=preexec_fn)
        assert proc.stdin is not None and proc.stdout is not None
        client = cls(proc.stdout, proc.stdin, name=name, proc=proc)
        threading.Thread(target=client._drain_stderr, daemon=True).start()
        return client

    @classmethod
    def tbdap(cls, *extra: str, env: Optional[Dict[str, str]] = None,
              cwd: Optional[str] = None, preexec_fn: Optional[Callable[[], None]] = None) -> "DapClient":
        return cls.spawn([sys.executable, "-m", "tbdap", *extra], env=env, cwd=cwd, name="tbdap",
                         preexec_fn=preexec_fn)

    @classmethod
    def connect(cls, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> "DapClient":
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        return cls(sock.makefile("rb"), sock.makefile("wb"), name=f"{host}:{port}", sock=sock)

    def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        stderr: Any = self.proc.stderr
        for chunk in iter(lambda: stderr.read1(65536), b""):
            self._stderr_chunks.append(chunk)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr_chunks).decode("utf-8", "replace")

    # -- wire ---------------------------------------------------------------

    def _read_message(self) -> Optional[Dict[str, Any]]:
        length = None
        while True:
            line = self.reader.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                if length is None:
                    self.violations.append("a header block without Content-Length")
                    continue
                break
            key, _, value = line.decode("ascii").partition(":")
            if key.strip().lower() == "content-length":
                length = int(value.strip())
        body = b""
        while len(body) < length:
            chunk = self.reader.read(length - len(body))
            if not chunk:
                return None
            body += chunk
        return json.loads(body.decode("utf-8"))

    def _read_loop(self) -> None:
        try:
            while True:
                try:
                    message = self._read_message()
                except ConnectionResetError:
                    # The connection ended abruptly: an answer reached a client that had gone
                    # (vanish()), or the adapter closed with our bytes unread. Not a message.
                    return
                except (ValueError, OSError) as exc:
                    self.violations.append(f"unreadable output from {self.name}: {exc!r}")
                    return
                if message is None:
                    return
                self.violations.extend(schema_errors(message))
                with self._cond:
                    self.received.append(message)
                    if message.get("type") == "response":
                        self._responses.setdefault(message["request_seq"], queue.Queue()).put(message)
                    elif message.get("type") == "event":
                        self._events.append(message)
                    elif message.get("type") == "request":
                        self._answer_reverse_request(message)
                    self._cond.notify_all()
        finally:
            self.closed.set()
            with self._cond:
                self._cond.notify_all()

    def _answer_reverse_request(self, message: Dict[str, Any]) -> None:
        # debugpy may ask the client to run things in a terminal; we never do.
        self.send_raw(frame({"seq": self._next_seq(), "type": "response",
                             "request_seq": message["seq"], "command": message["command"],
                             "success": False, "message": "not supported by the test client"}))

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        self.writer.flush()

    # -- requests and events --------------------------------------------------

    def send(self, command: str, arguments: Optional[Dict[str, Any]] = None) -> int:
        seq = self._next_seq()
        message: Dict[str, Any] = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self._responses.setdefault(seq, queue.Queue())
        self.send_raw(frame(message))
        return seq

    def response(self, seq: int, timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Any]:
        q = self._responses.setdefault(seq, queue.Queue())
        deadline = time.monotonic() + timeout
        while True:
            try:
                return q.get(timeout=0.05)
            except queue.Empty:
                if self.closed.is_set() and q.empty():
                    raise DapError(f"{self.name} closed without answering request {seq}\n{self.stderr}")
                if time.monotonic() > deadline:
                    raise DapError(f"{self.name} did not answer request {seq} in {timeout}s\n{self.stderr}")

    def request(self, command: str, arguments: Optional[Dict[str, Any]] = None,
                timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Any]:
        """The whole response (success or not)."""
        return self.response(self.send(command, arguments), timeout)

    def ok(self, command: str, arguments: Optional[Dict[str, Any]] = None,
           timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Any]:
        """The body of a response that must succeed."""
        response = self.request(command, arguments, timeout)
        if not response.get("success"):
            raise DapError(f"{command} failed: {response.get('message')} {response.get('body')}")
        return response.get("body") or {}

    def fail(self, command: str, arguments: Optional[Dict[str, Any]] = None) -> str:
        """The user-facing error text of a response that must fail."""
        response = self.request(command, arguments)
        if response.get("success"):
            raise DapError(f"{command} unexpectedly succeeded: {response.get('body')}")
        error = (response.get("body") or {}).get("error")
        return error["format"] if error else response.get("message", "")

    def events(self, name: str) -> List[Dict[str, Any]]:
        with self._cond:
            return [e for e in self._events if e.get("event") == name]

    def wait_event(self, name: str, timeout: float = DEFAULT_TIMEOUT, index: int = 0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self._events if e.get("event") == name]
                if len(found) > index:
                    return found[index]
                if self.closed.is_set():
                    raise DapError(f"{self.name} closed before event {name!r}\n{self.stderr}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DapError(f"no {name!r} event from {self.name} in {timeout}s\n{self.stderr}")
                self._cond.wait(left)

    def output_text(self) -> str:
        return "".join(e["body"].get("output", "") for e in self.events("output"))

    # -- sequences ------------------------------------------------------------

    def initialize(self, **extra: Any) -> Dict[str, Any]:
        args = {"clientID": "tests", "adapterID": "python", "linesStartAt1": True,
                "columnsStartAt1": True, "pathFormat": "path", "supportsVariableType": True,
                "supportsVariablePaging": True, "supportsRunInTerminalRequest": False}
        args.update(extra)
        return self.ok("initialize", args)

    def start(self, command: str, arguments: Dict[str, Any],
              filters: Sequence[str] = ("uncaught",)) -> Dict[str, Any]:
        """launch/attach as VS Code does: the request, then configuration, then the `stopped` event."""
        seq = self.send(command, arguments)
        self.wait_event("initialized")
        self.ok("setExceptionBreakpoints", {"filters": list(filters)})
        self.ok("configurationDone")
        response = self.response(seq)
        if not response.get("success"):
            raise DapError(f"{command} failed: {response.get('message')} {response.get('body')}")
        return self.wait_event("stopped")

    def close(self, timeout: float = 10.0) -> None:
        """Disconnects if still connected, ends the process, and fails on schema violations."""
        try:
            if not self.closed.is_set():
                try:
                    self.request("disconnect", {"terminateDebuggee": True}, timeout=timeout)
                except (DapError, OSError, ValueError):
                    pass
        finally:
            self.shutdown(timeout)
        self._check_violations()

    def vanish(self, timeout: float = 10.0) -> None:
        """Goes away without a disconnect, as an editor that is closed or crashes; fails on schema
        violations in what the adapter sent until then, as close() does."""
        self.shutdown(timeout)
        self._check_violations()

    def _check_violations(self) -> None:
        if self.violations:
            raise AssertionError(f"{self.name} sent messages the DAP schema rejects:\n"
                                 + "\n".join(self.violations[:20]))

    def shutdown(self, timeout: float = 10.0) -> None:
        for stream in (self.writer,):
            try:
                stream.close()
            except OSError:
                pass
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.closed.wait(timeout)
