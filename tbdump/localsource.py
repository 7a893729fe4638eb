"""The one rule every viewer follows for a local file that a dump names.

The filenames in a dump are whatever its writer put there: ``/etc/passwd``,
``../../.ssh/id_rsa``, a FIFO, ``/dev/zero``, ``/dev/stdin``.  A viewer shows a
local file only when it is the file that ran: a regular file whose SHA-256 is
the one the dump recorded.  Otherwise it shows the dump's own copy, or nothing,
and says why.  Checking a file never blocks (opening a FIFO would wait for a
writer), never opens anything but a regular file, and stops at the capture's
own size limit: a larger file was never captured, so it cannot match.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import linecache
import os
import stat
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List, Optional

from .errors import system_words
from .model import Source, all_frames
from .pathmap import is_pseudo_file

if TYPE_CHECKING:
    from .dumpfile import Dump

__all__ = ["MAX_SOURCE_BYTES", "MAX_HASHED_BYTES", "DIFFERS", "LocalFile", "check_local", "read_local", "decode_source",
           "no_copy_reason", "source_bytes", "source_note", "no_source_note", "install_sources"]

# The largest source a capture keeps (sources.py keeps no text of a larger one).
MAX_SOURCE_BYTES = 4 << 20
# The largest file a capture keeps the SHA-256 of (a generated module of 20 MB): a viewer
# then shows the local file when it is the one that ran; of a larger one, nothing.
MAX_HASHED_BYTES = 64 << 20

# Why a local file is not shown, as the notes say it: "the local file is not used (...)".
MISSING = "missing here"
# A zip app's ``app.pyz/__main__.py``: its lines are the dump's copy, never a member read here.
IN_ARCHIVE = "in an archive here, not a file of its own"
NOT_REGULAR = "not a regular file here"
TOO_LARGE = "larger here than any source a dump records (%d bytes)" % MAX_HASHED_BYTES
UNCHECKED = "not checked: the dump records no SHA-256 of the file that ran"
DIFFERS = "differs from the file that ran"

_CHUNK = 1 << 16
# Never wait (a FIFO without a writer), never take a terminal as ours.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_BINARY", 0))


def decode_source(data: bytes) -> str:
    """A source file's text as Python reads it, and as an editor shows it: in the encoding its
    coding cookie names (latin-1 read as UTF-8 matched none of the dump's lines), without
    a UTF-8 BOM (an editor hides it, and it would move line 1's columns by one)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):   # a cookie naming no codec, or a BOM it contradicts
        return data.decode("utf-8", errors="replace")


def source_bytes(text: str) -> List[bytes]:
    """What a file that ``decode_source`` read as ``text`` held: the text in the encoding its
    coding cookie names, and, in UTF-8, with the BOM decoding dropped too.  A viewer that has
    only the text (an editor's buffer) hashes these to tell whether it is the file that ran."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8", "surrogatepass")).readline)
    except (SyntaxError, LookupError):   # decode_source read such a file as UTF-8
        encoding = "utf-8"
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding   # a BOM the text kept stays one
    try:
        data = text.encode(encoding)
    except (UnicodeError, LookupError):   # not what any file of that encoding decodes to
        return []
    return [data, codecs.BOM_UTF8 + data] if encoding == "utf-8" else [data]


def _read(path: str, sink: Callable[[bytes], object], limit: int = MAX_HASHED_BYTES) -> Optional[str]:
    """Feed a regular file's bytes to ``sink`` in chunks; None when all were fed, else why not
    (a file over ``limit`` bytes is not read)."""
    try:
        # stat before open: opening a device can act by itself (a tape rewinds, a
        # watchdog arms), opening a FIFO waits for a writer.
        info = os.stat(path)
    except NotADirectoryError:
        return IN_ARCHIVE
    except (OSError, ValueError):   # ValueError: a NUL in the name
        return MISSING
    if not stat.S_ISREG(info.st_mode):
        return NOT_REGULAR
    if info.st_size > limit:
        return TOO_LARGE
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError) as exc:
        return "not readable here (%s)" % (system_words(exc) if isinstance(exc, OSError) else exc)
    try:
        # What was opened is checked again: the name may have been replaced since stat.
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return NOT_REGULAR
        total = 0
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                return None
            total += len(chunk)
            if total > limit:   # it grew since stat
                return TOO_LARGE
            sink(chunk)
    except OSError as exc:
        return "not readable here (%s)" % system_words(exc)
    finally:
        os.close(fd)


def read_local(path: str) -> Optional[bytes]:
    """A local file's bytes when it is a regular file no larger than any captured source; else None."""
    parts: List[bytes] = []
    return b"".join(parts) if _read(path, parts.append, MAX_SOURCE_BYTES) is None else None


@dataclass
class LocalFile:
    """Whether a viewer may show the local file for a filename of the dump."""

    path: str                  # the local path (after any path mapping)
    matches: bool              # it is the file that ran: its SHA-256 is the dump's
    problem: Optional[str]     # when it does not: why, as the notes put it in parentheses


def check_local(path: str, source: Optional[Source]) -> LocalFile:
    """The rule: the local file counts only when its SHA-256 equals the one the dump recorded.

    Without a recorded SHA-256 (no ``sources`` entry, or ``sha256`` null) there
    is nothing to compare with, and the file is not even opened.
    """
    digest = source.sha256 if source is not None else None
    if digest is None:
        return LocalFile(path, False, UNCHECKED if os.path.lexists(path) else MISSING)
    hasher = hashlib.sha256()   # streamed: the file is never held whole
    problem = _read(path, hasher.update)
    if problem is None and hasher.hexdigest() != digest:
        problem = DIFFERS
    return LocalFile(path, problem is None, problem)


def no_copy_reason(source: Optional[Source]) -> str:
    """Why the dump holds no copy of a source, as every viewer says it."""
    return source.reason if source is not None and source.reason else "none was captured"


def source_note(filename: str, source: Optional[Source], local: LocalFile) -> Optional[str]:
    """Why a viewer shows the dump's copy of ``filename``, or no source, rather than the local
    file, as every viewer says it; None when it shows the local file, and for a name that is no
    file ("<string>", "<stdin>", "<frozen runpy>"): no local file stands for it, so its copy is
    all there is, and Python shows no lines for one without either."""
    if local.matches or is_pseudo_file(filename):
        return None
    if source is not None and source.text is not None:
        return f"{filename}: the local file{_mapped(filename, local)} is not used ({local.problem}); showing the dump's copy"
    return no_source_note(filename, source, local)


def no_source_note(filename: str, source: Optional[Source], local: LocalFile) -> str:
    """Why a viewer shows no source for ``filename``, as every viewer says it."""
    return (f"{filename}: no source to show: the dump holds no copy ({no_copy_reason(source)}) "
            f"and the local file{_mapped(filename, local)} is not used ({local.problem})")


def _mapped(filename: str, local: LocalFile) -> str:
    """The local file's path, when a path mapping made it another than the dump's name."""
    return f" {local.path}" if local.path != filename else ""


def _canonic(filename: str) -> str:
    """The key bdb/pdb look files up by (``Bdb.canonic``)."""
    if filename.startswith("<") and filename.endswith(">"):
        return filename
    return os.path.normcase(os.path.abspath(filename))


def install_sources(dump: "Dump") -> List[str]:
    """Make ``linecache`` serve, for every file the dump names, the code that ran and nothing else.

    A local file that is the file that ran is left to linecache as usual; any
    other is replaced by the dump's copy, or by no lines at all when the dump has
    none: linecache would otherwise read whatever the name holds here (and
    search ``sys.path`` for a relative one).  Returns one line per file the user
    should know about, for the viewer to show.
    """
    notes = []
    names = dict.fromkeys(f.filename for f in all_frames(dump.exceptions, dump.threads))
    names.update(dict.fromkeys(dump.sources))
    for filename in names:
        source = dump.sources.get(filename)
        if source is not None and source.note:
            notes.append(f"{filename}: {source.note}")
        local = check_local(filename, source)
        if local.matches:
            continue
        text = source.text if source is not None else None
        # Numbered as Python numbers them (a form feed stays inside its line), as the
        # traceback and every other viewer number them.
        lines = [line + "\n" for line in source.lines] if source is not None and text is not None else []
        note = source_note(filename, source, local)
        if note:
            notes.append(note)
        # mtime None: linecache.checkcache() keeps such entries, as it does
        # for sources that came from a module's loader.
        entry = (len(text or ""), None, lines, filename)
        linecache.cache[filename] = entry
        linecache.cache[_canonic(filename)] = entry
    return notes
