"""The sources of the files a crash's stacks run in, as the dump keeps them: the bytes that ran
where the runner kept them, else the file, a zip app's member or linecache's lines, each with
its SHA-256 and a note when it may not be the code that ran, or why none is kept."""
from __future__ import annotations

import _io
import datetime
import hashlib
import importlib.machinery
import linecache
import os
from typing import Any, Dict, List, Optional, Union

from . import unpatched
from .archived import read_archived
from .budget import Clock
from .localsource import MAX_HASHED_BYTES, MAX_SOURCE_BYTES, decode_source
from .model import Source, char_index, not_captured, source_lines
from .saferepr import describe_exception

__all__ = ["Sources", "remember_source"]

# Source that no file holds as it ran: the command of `python -m tbdump -c` (text), and
# the bytes of the script the runner read and ran, which the program may change or remove.
_REMEMBERED: Dict[str, Union[str, bytes]] = {}

# When tbdump came into the program (at its start, for the runner and set_excepthook): a
# source file changed on disk since then may hold other lines than the code that ran.
_STARTED = unpatched.wall_time()


def remember_source(filename: str, source: Union[str, bytes]) -> None:
    """Keep ``source`` as the source of code compiled under ``filename``, for every dump:
    text where no file holds it; the bytes that ran in preference to the file."""
    _REMEMBERED[filename] = source


class Sources:
    """The source of every file a capture met, read once each; the clock bounds hashing a
    file too large to keep."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.held: Dict[str, Source] = {}
        self._columns: Dict[str, _Columns] = {}

    def keep(self, filename: str, module_globals: Any, held_only: bool = False) -> None:
        """Keeps ``filename``'s source, or why none is kept.  ``held_only`` (a SyntaxError's file,
        no frame's): only a file, a zip member, what the runner remembered or linecache holds,
        and nothing at all for another name (a relative one on sys.path would find another
        file of that name)."""
        if filename in self.held:
            return
        text: Optional[str] = None
        digest: Optional[str] = None
        reason: Optional[str] = None
        note: Optional[str] = None
        try:
            data = _REMEMBERED.get(filename)
            if isinstance(data, bytes):
                pass
            elif os.path.isfile(filename):
                with _open_binary(filename) as fh:
                    data = fh.read(MAX_SOURCE_BYTES + 1)
                    note = _changed_since_start(os.fstat(fh.fileno()).st_mtime)
                    if len(data) > MAX_SOURCE_BYTES:
                        digest = self._digest(fh, data)
            elif (archived := read_archived(filename, MAX_SOURCE_BYTES)) is not None:
                data = archived.data
                note = _changed_since_start(archived.mtime)
            elif held_only and filename not in _REMEMBERED and not _is_cached(filename):
                return
            else:
                data = None
                lines = _registered_lines(filename)
                if lines:
                    text = "".join(lines)
                elif filename in _REMEMBERED:
                    text = str(_REMEMBERED[filename])
                else:
                    reason = _why_no_source(module_globals)
            if data is None:
                pass
            elif len(data) > MAX_SOURCE_BYTES:
                reason, note = not_captured("source larger than %d bytes" % MAX_SOURCE_BYTES), None
            else:
                digest = hashlib.sha256(data).hexdigest()
                text = decode_source(data)
        except Exception as exc:
            reason = not_captured(describe_exception(exc))
        self.held[filename] = Source(filename, text, digest, reason, note)

    def _digest(self, fh: Any, start: bytes) -> Optional[str]:
        """The SHA-256 of a file too large to keep, ``start`` read already: a viewer shows the
        local file when it is that one.  None past MAX_HASHED_BYTES or the time budget."""
        hasher = hashlib.sha256(start)
        size = len(start)
        while not self.clock.expired:
            chunk = fh.read(1 << 20)
            if not chunk:
                return hasher.hexdigest()
            size += len(chunk)
            if size > MAX_HASHED_BYTES:
                return None
            hasher.update(chunk)
        return None

    def char_col(self, filename: str, lineno: int, byte_col: int) -> int:
        """co_positions columns are UTF-8 byte offsets; viewers want characters (of the line
        kept for ``filename``, the offset itself where none is)."""
        columns = self._columns.get(filename)
        if columns is None:
            src = self.held.get(filename)
            columns = self._columns[filename] = _Columns(src.text if src is not None else None)
        return columns.char_col(lineno, byte_col)


class _Columns:
    """What a source's byte columns need of its lines: each line's length, and the text of the
    lines that are not ASCII, where a byte is not a character.  Not the Source's lines, which
    the capture would hold to its end: 10 MB of a 23 MB peak for a stack through 40 modules
    of 3 000 lines, where their lengths take 1 MB."""

    def __init__(self, text: Optional[str]) -> None:
        lines = source_lines(text) if text is not None else []
        self._lengths = list(map(len, lines))  # 8 bytes a line: lengths below 256 are shared ints
        self._wide = {} if text is None or text.isascii() else {
            n: line for n, line in enumerate(lines, 1) if not line.isascii()}

    def char_col(self, lineno: int, byte_col: int) -> int:
        if not 1 <= lineno <= len(self._lengths):
            return byte_col
        line = self._wide.get(lineno)
        # An ASCII line's bytes are its characters, up to its end (char_index's bound).
        return char_index(line, byte_col) if line is not None else min(byte_col, self._lengths[lineno - 1])


def _changed_since_start(mtime: float) -> Optional[str]:
    """The note for a file last changed at ``mtime``: None unless it changed after the program
    started, when the module may have been imported from other lines than it holds now (a
    time still to come is a clock's skew, not a change)."""
    if not _STARTED < mtime <= unpatched.wall_time():
        return None
    return "the file changed on disk at %s, after the program started: these lines may not be " \
           "the code that ran" % unpatched.fromtimestamp(mtime, datetime.timezone.utc).isoformat()


def _registered_lines(filename: str) -> List[str]:
    """The lines linecache holds or finds for code no file holds: IPython's and Jupyter's cells,
    doctest's examples (it patches getlines), a relative name found on sys.path.  Never from
    a module's loader (the program's code, which may block or fail): a zip's member is read
    apart, with zipfile."""
    return [] if _is_lazy(filename) else linecache.getlines(filename)


def _is_cached(filename: str) -> bool:
    """Whether linecache holds lines for ``filename`` (not a loader's get_source to call)."""
    return filename in linecache.cache and not _is_lazy(filename)


def _is_lazy(filename: str) -> bool:
    """Whether linecache holds, for ``filename``, a module loader's get_source to call."""
    entry = linecache.cache.get(filename)
    return entry is not None and len(entry) == 1


def _why_no_source(module_globals: Any) -> str:
    """Why a frame's file has no source: a module shipped as bytecode only (.pyc, no .py) says so."""
    loader = dict.get(module_globals, "__loader__") if isinstance(module_globals, dict) else None
    if isinstance(loader, importlib.machinery.SourcelessFileLoader):
        return "no source: the module ran from bytecode only (%s)" % loader.path
    return "no source available"


def _open_binary(filename: str) -> _io.FileIO:
    """A file opened by the C FileIO itself: a failing test's mock of open() or io.open must
    not stop its dump from keeping the source."""
    return _io.FileIO(filename, "r")
