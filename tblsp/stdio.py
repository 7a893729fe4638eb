"""The server's stdin, read by pygls's worker thread, and Ctrl-C that ends that read so the server can stop.

pygls reads stdin in a worker thread and, when it stops, waits for that thread.
A read blocked on a terminal (or on an editor's open, idle pipe) never returns by
itself, so a Ctrl-C used to hang the server, and a second one to abort it at exit
("Fatal Python error: _enter_buffered_busy").  Here stdin is read through
``select`` on a second descriptor too: Ctrl-C writes to that one, every read from
then on (the blocked one included) is end of file, and KeyboardInterrupt unwinds
the main thread as it would anywhere else.
"""
from __future__ import annotations

import io
import os
import select
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, BinaryIO, Optional

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed import WriteableBuffer


class _WakeableInput(io.RawIOBase):
    """File descriptor ``fd`` for reading, whose reads ``end()`` turns into end of file, from any thread."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._wake_read, self._wake_write = os.pipe()

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: WriteableBuffer) -> int:
        ready, _, _ = select.select([self._fd, self._wake_read], [], [])
        if self._wake_read in ready:
            return 0
        return os.readv(self._fd, [buffer])

    def end(self) -> None:
        os.write(self._wake_write, b"\0")


class InterruptibleStdin:
    """What tblsp hands pygls as stdin, and the SIGINT handler that ends it (`install`)."""

    def __init__(self) -> None:
        self.raw: Optional[_WakeableInput] = _WakeableInput(0) if os.name == "posix" else None
        # Windows has no select() on pipes; there pygls reads sys.stdin as it always did.
        self.stream: BinaryIO = io.BufferedReader(self.raw) if self.raw is not None else sys.stdin.buffer
        self.interrupted = False

    def install(self) -> None:
        """From now on Ctrl-C (SIGINT) ends stdin and raises KeyboardInterrupt in the main thread."""
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: Optional[FrameType]) -> None:
        self.interrupted = True
        if self.raw is not None:
            self.raw.end()
        raise KeyboardInterrupt
