"""Opening a dump: the ``Dump`` every viewer reads, with the object layer loaded lazily.

The safe layer is read and verified at once; the object layer is unpickled
only when a viewer first asks for a real value, and only when the dump is
trusted (see ``trust_decision``).
"""
from __future__ import annotations

import functools
import json
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Union

from . import ctrlc, settings
from .chain import link_chain
from .container import ContainerReader
from .errors import CorruptDumpError, DumpError
from .fields import BadField, collector_paused
from .lazymembers import stored_globals, stored_text
from .model import ExceptionRecord, Frame, Metadata, SafeLayer, Source, Thread, Value, all_frames, brief, plural
from .objindex import read_index
from .placeholder import Placeholder, take_preview
from .previewed import give_previews
from .qualnames import qualname_in
from .tracetext import exception_line, format_chain

if TYPE_CHECKING:  # pragma: no cover
    from .objects import RecordReader

SAFE_MODE_REQUESTED = "safe mode: objects are not loaded (nothing from the file is run)"


def signature_problem(reader: ContainerReader, key: Optional[settings.Key]) -> Optional[str]:
    """Why the key does not vouch for the dump, in words every viewer says it in; None when
    no key is configured (``key``, else ``TBDUMP_KEY``) or the dump's signature verifies."""
    # Named for where the key came from: a script's key= is not TBDUMP_KEY, and a user
    # told "TBDUMP_KEY" would look for a variable that is not set.
    named, given = ("the key given", "a key is given") if key else ("TBDUMP_KEY", "TBDUMP_KEY is set")
    checking = settings.signing_key(key)
    if checking is None:
        return None
    if reader.manifest.get("hmac") is None:
        return "the dump is not signed and %s" % given
    if not reader.signature_ok(checking):
        return "the dump's signature does not verify with %s" % named
    return None


def trust_decision(objects: Optional[bool], problem: Optional[str]) -> Optional[str]:
    """None when the object layer may load, else the one-line reason it may not.

    With no key configured where the dump is opened, a dump is trusted like any
    pickle; with ``TBDUMP_KEY`` (or ``key``) set, only a dump whose signature
    verifies with it loads objects: ``problem`` is signature_problem()'s answer.
    """
    if objects is False:
        return SAFE_MODE_REQUESTED
    if objects is None and settings.flag("TBDUMP_SAFE", False):
        return SAFE_MODE_REQUESTED + " (TBDUMP_SAFE is set)"
    return None if problem is None else "safe mode: %s, so objects are not loaded" % problem


class Dump:
    """A loaded dump (what ``tbdump.load`` returns): the safe layer as plain data, real objects on demand.

    ``exception``: the exception that was raised (``.type``, ``.message``, ``.notes``,
    ``.frames``; ``.cause``, ``.context`` and ``.members`` index ``exceptions``; ``.context``
    is ``__context__`` also where ``.suppress_context`` keeps it out of the traceback).
    ``frames``: the crashing thread's stack, outermost first; each frame has ``.name``,
    ``.qualname``, ``.filename``, ``.lineno``, ``.locals`` and ``.globals`` (the real objects, loaded on
    first use) and ``.variables`` (the stored previews, which run nothing).
    ``threads``, ``sources``, ``metadata``, ``traceback_text``: the rest of the crash.
    ``exception_object()``: the exception object itself, as it was raised (``resolve``
    gives any other value's object, ``resolved`` those of a mapping of previews by name).
    ``signature_problem``: why the key configured does not vouch for the dump (unsigned, or
    its signature does not verify), else None; said also where objects are never loaded
    (safe mode, the report, tblsp), as what the dump shows is then unvouched for too.
    """

    def __init__(self, path: str, reader: ContainerReader, safe: SafeLayer,
                 safe_reason: Optional[str], signature_problem: Optional[str] = None) -> None:
        self.path = path
        self.safe = safe
        self.safe_reason = safe_reason
        self.signature_problem = signature_problem
        self._reader = reader
        self._records: Optional[RecordReader] = None
        # Closed by close(), else when the dump is collected or at exit: a dump nobody closes
        # (a script's, a viewer's) leaves no open file to warn about under -X dev.
        self._files: List[Any] = [reader]
        weakref.finalize(self, _close_all, self._files)
        self._open_lock = threading.Lock()
        self._exception_objects: Optional[List[Any]] = None
        for frame in all_frames(safe.exceptions, safe.threads):
            frame.bind(self)

    # -- the safe layer --------------------------------------------------------------
    @property
    def metadata(self) -> Metadata:
        """Where, when and by which Python the dump was written, and what budgets cut."""
        return self.safe.metadata

    @property
    def exceptions(self) -> List[ExceptionRecord]:
        """Every exception of the chain (causes, contexts, group members); [0] was raised."""
        return self.safe.exceptions

    @property
    def exception(self) -> ExceptionRecord:
        """The exception that was raised (its chain hangs off it)."""
        return self.safe.exceptions[0]

    @property
    def threads(self) -> List[Thread]:
        """Every thread's stack at the crash, the crashing thread first."""
        return self.safe.threads

    @property
    def sources(self) -> Dict[str, Source]:
        """The source files as they were at the crash, by file name."""
        return self.safe.sources

    @property
    def namespaces(self) -> Mapping[str, Mapping[str, Value]]:
        """Module globals' previews, keyed by ``Frame.globals_key`` (each module's read from
        the file when first asked for)."""
        return self.safe.namespaces

    @property
    def traceback_text(self) -> str:
        """The whole chained traceback as text, rendered from the frames and sources."""
        return format_chain(self.safe)

    @property
    def frames(self) -> List[Frame]:
        """The crashing thread's stack, outermost first; the crashing frame is last."""
        return self.safe.threads[0].frames if self.safe.threads else self.exception.frames

    def qualname_of(self, frame: Frame) -> str:
        """``frame.qualname``: as recorded, or for code of Python 3.9/3.10, which records only
        its name, found in the dump's copy of its source (the name alone where that cannot say)."""
        source = self.sources.get(frame.filename)
        if (tuple(self.metadata.version_info[:2]) >= (3, 11) or frame.recorded_qualname != frame.name
                or source is None or source.text is None):
            return frame.recorded_qualname
        return qualname_in(frame.filename, source.text, frame.name, frame.lineno) or frame.recorded_qualname

    def globals_of(self, frame: Frame) -> Mapping[str, Value]:
        """The previews of ``frame``'s module globals."""
        return self.safe.namespaces.get(frame.globals_key or "", {})

    # -- the object layer -------------------------------------------------------------
    @property
    def objects_allowed(self) -> bool:
        """Whether real objects may load; if not, ``safe_reason`` says why."""
        return self.safe_reason is None

    @property
    def version_note(self) -> Optional[str]:
        """A line saying the dump was written by another Python, when it was."""
        written = tuple(self.metadata.version_info[:2])
        if written != tuple(sys.version_info[:2]):
            return "written by Python %s, opened with Python %d.%d" % (
                ".".join(map(str, self.metadata.version_info)), *sys.version_info[:2])
        return None

    def load_objects(self) -> None:
        """Verify and open the object layer now (normally done on first use); records are
        unpickled in order as far as values are asked for."""
        with self._open_lock:  # a viewer may preload in the background meanwhile
            self._open_objects()

    def _open_objects(self) -> None:
        if self._records is not None or self.safe_reason is not None:
            return
        from .objects import RecordReader  # the unpickling machinery: only for the object layer
        try:
            index = read_index(self._reader.read("objects.idx"), self._reader.manifest.get("format"),
                               self._reader.entry("objects")["size"])
            stream, base = self._reader.open_member("objects")
        except DumpError as exc:
            self.safe_reason = "safe mode: %s" % exc
            return
        except (ValueError, RecursionError):
            self.safe_reason = "safe mode: the dump's object index is damaged"
            return
        self._records = RecordReader(stream, base, index, reopen=self._reader.reopen)
        self._files.append(self._records.stream)

    @property
    def objects_size(self) -> int:
        """Bytes of the object layer in the file (what loading all of it reads)."""
        return self._reader.member_size("objects")

    def preload(self) -> None:
        """Unpickle the whole object layer now (e.g. in a background thread of a viewer)."""
        self.load_objects()
        if self._records is not None and self._records.index:
            self._records.get(len(self._records.index) - 1)

    def restoring_read(self) -> int:
        """Bytes of the object layer restoring has read so far: the count grows while plain
        data is unpickled and stands still while a value's own code runs (a __setstate__)."""
        records = self._records
        return records.read_bytes if records is not None else 0

    def restored(self, value: Value) -> bool:
        """Whether ``resolve(value)`` answers at once, unpickling nothing (and waiting for no
        other thread's unpickling): the value has no object, or its object is restored already
        (and, an exception, so are the chain's others, which it links it to the first time)."""
        ref = self._record_of(value)
        if ref is None:
            return True
        if self._records is None or not self._records.restored(ref):
            return False
        if self._exception_objects is not None or not issubclass(type(self._records.get(ref)[0]), BaseException):
            return True
        chain = (self._record_of(r.value) for r in self.exceptions if r.value is not None)
        return all(self._records.restored(other) for other in chain if other is not None)

    def _record_of(self, value: Value) -> Optional[int]:
        """The object record ``resolve(value)`` reads, or None where it reads none."""
        if value.missing or value.redacted or self.safe_reason is not None:
            return None
        return value.ref

    def resolve(self, value: Value) -> Any:
        """The real object behind ``value``, or a Placeholder saying why there is none.

        An exception comes linked to its chain as ``exception_object`` links it (any reference
        to it: a viewer's ``__exception__``, a handler's ``exc``), where pickle left it none."""
        obj = self._unpickled(value)
        if issubclass(type(obj), BaseException) and self._exception_objects is None:
            self.exception_object()   # links the chain's objects, the very ones every reference shares
        return obj

    def resolved(self, values: Mapping[str, Value]) -> Dict[str, Any]:
        """``resolve`` of each value, by name (a frame's locals, a module's globals).  Ctrl-C is
        noted once for them all (tbdump.ctrlc), not once per value: two system calls each."""
        with ctrlc.noting():
            return {name: self.resolve(value) for name, value in values.items()}

    def _unpickled(self, value: Value) -> Any:
        reason = value.missing or (value.redacted and "redacted (%s)" % value.redacted)
        if reason:
            return Placeholder(value.type, reason, value.repr, value)
        if value.ref is None:
            return Placeholder(value.type, "not captured", value.repr, value)
        self.load_objects()
        if self._records is None:
            # Viewers say once why a dump is in safe mode; a value repeats only
            # the mode, unless the reason is a fault the user did not ask for.
            requested = (self.safe_reason or "").startswith(SAFE_MODE_REQUESTED)
            return Placeholder(value.type, "safe mode" if requested else self.safe_reason or "objects not loaded",
                               value.repr, value)
        obj, error = self._records.get(value.ref)
        if error is not None:
            return Placeholder(value.type, error, value.repr, value)
        # Walked only where stand-ins were made: an ordinary dump's values have none to give a preview.
        (give_previews if self._records.stood_in else take_preview)(obj, value)
        return obj

    def exception_object(self, index: int = 0) -> Any:
        """The real exception object of ``exceptions[index]`` (0: the one raised), unpickled
        from the object layer, or a Placeholder saying why there is none (safe mode, not
        captured).

        Pickle keeps neither ``__cause__`` nor ``__context__``: they are linked again here to
        the chain's other exception objects, with ``__suppress_context__``, as the live ones
        were (``chain.link_chain``, the rule every viewer links by; placeholders are linked
        too).  ``__traceback__`` is None: the frames are ``exceptions[index].frames``.
        """
        if self._exception_objects is None:
            found = [self._unpickled(r.value) if r.value is not None else Placeholder(r.type, "not captured")
                     for r in self.exceptions]
            link_chain(found, self.exceptions)
            self._exception_objects = found
        return self._exception_objects[index]   # past the chain: IndexError, as a list says

    def superseded(self) -> bool:
        """Whether the dump's path now holds something else than the file this dump was read
        from, as it was: a dump kept open a while (tbdap's server keeps the one it opened at
        its start) may have been cut short, or rewritten by a new crash, meanwhile.  Not when
        the file was only removed: this dump is then still the one to show."""
        return self._reader.superseded()

    def close(self) -> None:
        """Close the file (a loaded dump keeps it open to read objects as they are asked for)."""
        _close_all(self._files)

    def __repr__(self) -> str:
        return "<tbdump.Dump %s: %s, %s, %s>" % (
            brief(os.path.basename(self.path), 60), brief(exception_line(self.exception)), plural(len(self.frames), "frame"),
            "objects available" if self.objects_allowed else "safe mode")


def _close_all(files: List[Any]) -> None:
    while files:
        files.pop().close()


# What ``load`` takes, as ``open`` does: a path as text or bytes, or an os.PathLike (pathlib.Path).
DumpPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def load(path: DumpPath = "traceback.pkl", objects: Optional[bool] = None,
         key: Optional[settings.Key] = None) -> Dump:
    """Open a dump file.

    ``path`` is a str, bytes or os.PathLike (pathlib.Path); ``Dump.path`` is it as text.
    ``objects=False`` opens the safe layer only and runs nothing from the file;
    ``None`` loads objects lazily when the dump is trusted (see README, "Trust").
    Raises DumpError with one clear sentence for any file that is not a good dump,
    TypeError for an argument that is not a path at all.
    """
    try:
        path = os.fsdecode(path)   # bytes as the file system encodes names: Dump.path and messages are text
    except TypeError:
        raise TypeError("tbdump.load() takes the dump's path (str, bytes or os.PathLike), not %s"
                        % type(path).__name__) from None
    if "\0" in path:
        raise DumpError("%r: not a file name (it holds a NUL character)" % path)
    reader = ContainerReader(path)
    try:
        damaged = "%s: the dump's safe layer is damaged" % path
        try:
            with collector_paused():
                safe = SafeLayer.from_json(json.loads(reader.read("safe")), functools.partial(stored_globals, reader.read),
                                           functools.partial(stored_text, reader.read))
        except DumpError:
            raise
        except BadField as exc:   # the model checks every field as it reads it, and names a bad one
            raise CorruptDumpError("%s (%s)" % (damaged, exc)) from None
        except ValueError:   # not JSON: not UTF-8, cut short, a number of 5000 digits
            raise CorruptDumpError("%s (not JSON)" % damaged) from None
        except RecursionError:  # json and from_json recurse: a crafted file can nest past the stack
            raise CorruptDumpError("%s (nested too deeply)" % damaged) from None
        problem = signature_problem(reader, key)
        return Dump(path, reader, safe, trust_decision(objects, problem), problem)
    except BaseException:
        reader.close()
        raise

