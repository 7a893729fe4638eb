"""What code run in the replay writes to sys.stdout and sys.stderr, sent to the client's debug console."""
from __future__ import annotations

import codecs
import contextlib
import io
import sys
import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple

from tbdump.settings import said_afresh


# Seconds a line without its end is held, from its first piece, before what it has is sent: the
# pieces of one `print(a, b)` go out together, and `print("x", end="")` before a long call shows
# while it runs.
PARTIAL_WAIT = 0.05


class Console:
    """What is written to sys.stdout and sys.stderr, sent a line at a time as written (a loop that
    prints shows as it runs, as under debugpy), a line not ended yet PARTIAL_WAIT after its first
    piece or when ``send`` is called (before each answer), in the order written, stderr as stderr (VS Code
    colours it). Sent as written, no line end added, as debugpy sends it: VS Code runs a line's
    pieces on. Written to from any thread: the background restoring of values runs the
    program's code too."""

    def __init__(self, output: Callable[[str, str], None]) -> None:
        self._output = output
        self._runs: List[Tuple[str, List[str]]] = []   # (category, parts), not sent yet
        self._lock = threading.RLock()
        self._waiting: Optional[threading.Timer] = None   # sends a partial line when writing pauses

    def write(self, category: str, text: str) -> None:
        with self._lock:
            if not self._runs or self._runs[-1][0] != category:
                self._runs.append((category, []))
            self._runs[-1][1].append(text)
            if "\n" in text:
                self.send(whole_lines=True)
            if self._runs and self._waiting is None:
                self._waiting = threading.Timer(PARTIAL_WAIT, self._send_partial)
                self._waiting.daemon = True
                self._waiting.start()

    def _send_partial(self) -> None:
        with self._lock:
            self._waiting = None
            self.send()

    def send(self, whole_lines: bool = False) -> None:
        """Sends what was written; with ``whole_lines``, the last line waits for its end, or for
        PARTIAL_WAIT to pass."""
        with self._lock:
            rest: List[Tuple[str, List[str]]] = []
            if whole_lines and self._runs:
                category, parts = self._runs[-1]
                text = "".join(parts)
                cut = text.rfind("\n") + 1
                self._runs[-1] = (category, [text[:cut]])
                if cut < len(text):
                    rest = [(category, [text[cut:]])]
            runs, self._runs = self._runs, rest
            for category, parts in runs:
                text = "".join(parts)
                if text:
                    self._output(category, text)


class Written(io.TextIOBase):
    """sys.stdout or sys.stderr, writing to the console under its category (and keeping nothing:
    a session's program output would otherwise pile up for as long as the session lasts)."""

    # What the debug console takes (any text: it goes as JSON), as debugpy's streams say; code that
    # asks (click, rich) read io.TextIOBase's None.
    encoding = "utf-8"
    errors = "strict"
    # As a program's sys.stdout, a pipe's under debugpy, reads them (its name too, set below).
    mode = "w"
    line_buffering = False

    def __init__(self, console: Console, category: str, fd: Optional[int] = None) -> None:
        super().__init__()
        self._console = console
        self._category = category
        self._fd = fd
        self.name = "<%s>" % category
        # What a module may set up at its top, run when a value of its class is restored or when the
        # console imports it: `io.TextIOWrapper(sys.stdout.buffer, ...)`, `sys.stdout.reconfigure(...)`.
        self.buffer = _WrittenBytes(self)

    def fileno(self) -> int:
        """The descriptor the stream stands in for, where there is one: a library that hands it to C
        (faulthandler.enable() as it is imported) works as it did, its C output on the adapter's own
        stream, never the protocol's (over stdio fd 1 is stderr too)."""
        if self._fd is None:
            raise io.UnsupportedOperation("fileno")
        return self._fd

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as sys.stdout refuses it
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._console.write(self._category, text)
        return len(text)

    def reconfigure(self, *, encoding: Optional[str] = None, errors: Optional[str] = None,
                    newline: Optional[str] = None, line_buffering: Optional[bool] = None,
                    write_through: Optional[bool] = None) -> None:
        """Takes what a program's sys.stdout takes (`sys.stdout.reconfigure(encoding="utf-8")`, a
        common first line of a module), changing nothing: the console takes any text as written."""


class _WrittenBytes(io.RawIOBase):
    """``buffer`` of a console's stream: the bytes written there are read as UTF-8, as debugpy reads
    what a program writes to its descriptors, and shown as the stream's text."""

    def __init__(self, text: Written) -> None:
        super().__init__()
        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.name = text.name
        self.mode = "wb"

    def fileno(self) -> int:
        return self._text.fileno()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with memoryview(data) as view:   # as a file takes bytes, bytearray or memoryview
            text = self._decoder.decode(view.tobytes())
            size = view.nbytes
        if text:
            self._text.write(text)
        return size


@contextlib.contextmanager
def program_streams(output: Callable[[str, str], None]) -> Iterator[Console]:
    """sys.stdout and sys.stderr write to the console, yielded, while a client is served.

    What the program's code prints or warns while a value is restored or shown (a __setstate__,
    a __repr__), and a ``tbdump: ignoring TBDUMP_...`` line about a setting read for the replay,
    then show in the debug console, where debugpy shows a program's output, not on the adapter's
    stderr, which VS Code keeps in its Output panel. tbdap's own diagnostics stay on stderr
    (messaging.log). Each client's console is told of such a setting, not only the first
    client's of a server: the line is said once per process otherwise.
    """
    console = Console(output)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (written_over(stream, console, category)
                              for category, stream in (("stdout", saved[0]), ("stderr", saved[1])))
    try:
        with said_afresh():
            yield console
    finally:
        sys.stdout, sys.stderr = saved
        console.send()


def written_over(stream: Any, console: Console, category: str) -> Written:
    """A stream writing to ``console`` in place of ``stream``, with its descriptor where it has one."""
    return Written(console, category, _fd(stream))


def _fd(stream: Any) -> Optional[int]:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
