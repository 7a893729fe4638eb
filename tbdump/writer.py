"""Writing a dump file: capture into the container, atomically, never failing the crash."""
from __future__ import annotations

import _queue
import contextlib
import functools
import os
import threading
import types
import warnings
from typing import Any, Dict, Iterable, List, Optional

from . import unpatched
from .budget import Budgets, CaptureThread, Clock, lock_wait, others_cut_short
from .capture import capture, minimal
from .container import Checksum, ContainerWriter, new_checksum
from .errors import system_words
from .ipythonshell import shell_left_out
from .model import EncodedMember, SafeLayer
from .records import RecordSink, RecordWriter
from .redaction import Redaction
from .reduction import reduced_in_dumps
from .saferepr import describe_exception
from .settings import Key, file_mode, flag, report_own_error, signing_key
from .spool import json_bytes

DEFAULT_FILENAME = "traceback.pkl"


class DumpWriteError(Exception):
    """The dump could not be written at all (e.g. the folder is not writable)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__("cannot write %s: %s" % (path, reason))
        self.path = path
        self.reason = reason


# What tbdump says of each dump, one line whichever way it came (a hook, a log handler, pytest),
# and what the docs and people's scripts look for.
def dumped_line(path: str, note: str = "") -> str:
    """``Traceback dumped into: PATH``, with `` (NOTE)`` after it when there is more to say
    (a partial dump's why)."""
    return "Traceback dumped into: %s%s" % (path, " (%s)" % note if note else "")


def not_written_line(path: str, reason: str) -> str:
    """``tbdump: cannot write PATH: REASON``, a DumpWriteError's ``reason``."""
    return "tbdump: cannot write %s: %s" % (path, reason)


class _HashingSink(RecordSink):
    """RecordSink that checksums what reaches the file, so a 200 MB member is not read back.

    From the first big buffer (an array) on, the checksum is taken in a thread of its
    own, fed the buffers in order, a few megabytes at a time: it hashes while this
    thread writes, and then while it goes on capturing, so neither waits for the other
    before the member ends.  An OS thread: under gevent a threading.Thread is a
    greenlet, run only at the join.
    """

    OVERLAP = 4 << 20

    def __init__(self, raw: Any, limit: int, signed: bool) -> None:
        super().__init__(raw, limit)
        self.hash: Optional[Checksum] = new_checksum(signed)
        # _queue's, in C, waits on an OS lock: queue.SimpleQueue may be a greenlet's.
        self._feed: Optional["_queue.SimpleQueue[Optional[List[Any]]]"] = None
        self._hasher: Optional[CaptureThread] = None
        self._batch: List[Any] = []   # buffers written, not yet handed to the hashing thread
        self._batched = 0

    def _emit(self, data: Any) -> None:
        if self.hash is None:
            super()._emit(data)
            return
        n = memoryview(data).nbytes
        if self._feed is None:
            if n < self.OVERLAP:
                super()._emit(data)
                self.hash.update(data)
                return
            self._feed = _queue.SimpleQueue()
            self._hasher = CaptureThread(functools.partial(_hash_fed, self._feed, self.hash))
        self._batch.append(data)
        self._batched += n
        if self._batched >= self.OVERLAP:  # handed over before the write: both run at once
            self._feed.put(self._batch)
            self._batch, self._batched = [], 0
        super()._emit(data)

    def _rewound(self) -> None:
        self.end_hashing()
        self.hash = None  # bytes were taken back: hash the member from the file instead

    def end_hashing(self) -> None:
        """Let the hashing thread finish what was written, and end it."""
        if self._feed is not None and self._hasher is not None:
            self._feed.put(self._batch)
            self._feed.put(None)
            self._hasher.join()
            self._feed = self._hasher = None
            self._batch, self._batched = [], 0

    def digest(self) -> Optional[str]:
        """The member's checksum once everything is in the file (None: compute it from the file)."""
        self.flush()
        self.end_hashing()
        return None if self.hash is None else self.hash.hexdigest()


def _hash_fed(feed: "_queue.SimpleQueue[Optional[List[Any]]]", checksum: Checksum) -> None:
    """Update ``checksum`` with the buffers ``feed`` gives, in order, until it gives None."""
    batch = feed.get()
    while batch is not None:
        for data in batch:
            checksum.update(data)
        batch = data = None  # holds nothing of the program while it waits
        batch = feed.get()


class SignalsArrived(BaseException):
    """Signals came while the dump was written and were held from the program (``signals``);
    raised once the dump at ``path`` is whole, for the caller to deliver them or not.
    ``stopped_by``: the signal that cut capture short (Ctrl-C, SIGTERM), the dump then
    holding what was captured before it, marked partial."""

    def __init__(self, path: str, signals: List[int], stopped_by: Optional[str]) -> None:
        super().__init__()
        self.path = path
        self.signals = signals
        self.stopped_by = stopped_by


def write_dump(exc: BaseException, filename: str = DEFAULT_FILENAME, *,
               budgets: Optional[Budgets] = None, redaction: Optional[Redaction] = None,
               key: Optional[Key] = None, skip_codes: Iterable[types.CodeType] = (),
               above_handler: bool = True, thread: Optional[threading.Thread] = None,
               other_threads: bool = True, log: Optional[Dict[str, str]] = None, ends_process: bool = False) -> str:
    """Write ``exc`` and everything around it to ``filename``; returns the path written.
    ``log``: the logger, level and message of the log record that carried ``exc``.
    ``ends_process``: the crash of the main thread that ends the process, which the dumps
    of other threads' crashes under way make way for.

    Raises DumpWriteError only when no file can be written at all; any failure of
    capture itself falls back to a minimal dump that still opens.  Raises
    SignalsArrived after writing the dump when signals came while it was written.
    """
    budgets = budgets or Budgets.from_env()
    redaction = redaction or Redaction.from_env()
    key = signing_key(key)
    # Read with the others, for a bad value to be said at every crash: report_own_error reads
    # it only when tbdump errs, and a user who set it for that day would learn of it too late.
    flag("TBDUMP_DEBUG", False)
    path = os.fspath(filename)
    # One dump at a time: two threads crashing at once would each save and restore
    # the recursion limit and the warning filters around the other's capture, leaving
    # the program with the raised limit, or with every warning silenced.  A capture is
    # bounded by its time budget; one that is not (stuck in a thread) is waited for no
    # longer than that.
    # The crash that ends the process does not wait out another thread's dump (a value that
    # blocks, a big one): that dump is cut short, as a Ctrl-C cuts one, and written as partial.
    lock = _ONE_DUMP
    held = lock.acquire(blocking=False)
    if not held:
        with others_cut_short("the main thread crashed") if ends_process else contextlib.nullcontext():
            held = lock.acquire(timeout=lock_wait(budgets.max_seconds + 5))
    try:
        with reduced_in_dumps(shell_left_out()):
            return _write_settled(exc, path, budgets, redaction, key, skip_codes, above_handler, thread,
                                  other_threads, log)
    finally:
        if held:
            lock.release()


def _write_settled(exc: BaseException, path: str, budgets: Budgets, redaction: Redaction,
                   key: Optional[bytes], skip_codes: Iterable[types.CodeType], above_handler: bool,
                   thread: Optional[threading.Thread], other_threads: bool, log: Optional[Dict[str, str]]) -> str:
    """write_dump with the interpreter settled for capture (recursion limit, gc, warnings)."""
    old_limit = unpatched.getrecursionlimit()
    # Capture may start deep in a stack or under a lowered limit; give it room.
    unpatched.setrecursionlimit(max(old_limit, _depth() + 3000))
    # Capture makes thousands of short-lived objects among the program's many: a
    # full collection then would trace them all (50 ms of a 100 ms capture).
    collecting = unpatched.gc_enabled()
    unpatched.gc_disable()
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # dill warns on stderr; the crash output stays Python's
                return _write(exc, path, budgets, redaction, key, skip_codes, above_handler, thread,
                              other_threads, log)
        except (DumpWriteError, SignalsArrived):
            raise
        except BaseException as err:  # a bug or a hostile object got through: keep the crash
            report_own_error()
            return write_minimal(exc, path, describe_exception(err), key, redaction, log)
    finally:
        unpatched.setrecursionlimit(old_limit)
        if collecting:
            unpatched.gc_enable()


_ONE_DUMP = threading.RLock()  # reentrant: a value's repr may itself dump_exception


def _new_lock() -> None:
    global _ONE_DUMP
    _ONE_DUMP = threading.RLock()


if hasattr(os, "register_at_fork"):  # a child forked during another thread's dump must not wait for it
    os.register_at_fork(after_in_child=_new_lock)


def _write(exc: BaseException, path: str, budgets: Budgets, redaction: Redaction,
           key: Optional[bytes], skip_codes: Iterable[types.CodeType], above_handler: bool,
           thread: Optional[threading.Thread], other_threads: bool, log: Optional[Dict[str, str]]) -> str:
    clock = Clock(budgets)
    # From before the temporary file exists until it is renamed into place: a signal in between
    # (SIGTERM's default action, a Ctrl-C while the safe layer is written) would leave the file
    # behind, or lose a dump that was whole.
    clock.start()
    try:
        stopped_by = _write_timed(exc, path, budgets, redaction, key, skip_codes, above_handler, thread,
                                  other_threads, log, clock)
    except BaseException:
        if clock.abandoned:  # its temporary file removed: no fallback over the watchdog's dump
            raise DumpWriteError(path, "capture given up on") from None
        raise
    finally:
        clock.stop()
    if clock.arrived:
        raise SignalsArrived(path, clock.arrived, stopped_by)
    return path


def _write_timed(exc: BaseException, path: str, budgets: Budgets, redaction: Redaction,
                 key: Optional[bytes], skip_codes: Iterable[types.CodeType], above_handler: bool,
                 thread: Optional[threading.Thread], other_threads: bool, log: Optional[Dict[str, str]],
                 clock: Clock) -> Optional[str]:
    """_write on its started clock; the signal that cut capture short, if one did."""
    container = _open(path, key is not None)
    sink: Optional[_HashingSink] = None
    try:
        offset = container.begin_member()
        sink = _HashingSink(container.file, budgets.max_bytes, container.signed)
        records = RecordWriter(sink, redaction, clock)
        layer, cap = capture(exc, records, budgets, redaction, clock, skip_codes=skip_codes,
                             above_handler=above_handler, thread=thread, other_threads=other_threads, log=log)
        stopped_by = clock.stopped_by  # one that comes later finds the dump whole
        container.end_member("objects", offset, sink.digest())
        layer.metadata.cut += cap.cut
        layer.metadata.partial = clock.expired or bool(cap.cut)
        _finish(container, path, layer, bytes(records.index), key)
    except BaseException:
        try:
            if sink is not None:
                sink.end_hashing()
        finally:
            container.abort()
        raise
    return stopped_by


def write_minimal(exc: BaseException, filename: str, why: str, key: Optional[Key] = None,
                  redaction: Optional[Redaction] = None, log: Optional[Dict[str, str]] = None) -> str:
    """The last-resort dump: the exception and its lines (and ``log``, as write_dump's), no
    values; ``why`` says what failed.  Raises DumpWriteError when even it cannot be written (a
    full disk, a file size limit)."""
    path = os.fspath(filename)
    key = signing_key(key)
    container = _open(path, key is not None)
    try:
        container.add("objects", b"", compress=False)
        return _finish(container, path, minimal(exc, why, redaction or Redaction.from_env(), log), b"", key)
    except OSError as err:
        container.abort()
        raise DumpWriteError(path, _why_not(path, err)) from None
    except BaseException:
        container.abort()
        raise


def _finish(container: ContainerWriter, path: str, layer: SafeLayer, index: bytes,
            key: Optional[bytes]) -> str:
    """Write the (packed) object index and safe layer after the objects, then sign and rename
    into place."""
    container.add("objects.idx", index)
    layer.metadata.signed = key is not None
    for name, tree in layer.members():
        if isinstance(tree, EncodedMember):
            container.add_encoded(name, tree.payload, "zlib")
        else:
            container.add(name, json_bytes(tree))
        del tree  # not held while the next member is made
    container.finish(key, {"tbdump": layer.metadata.tbdump_version})
    return path


def _open(path: str, signed: bool) -> ContainerWriter:
    try:
        return ContainerWriter(path, signed, file_mode())
    except OSError as exc:
        raise DumpWriteError(path, _why_not(path, exc)) from None


def _why_not(path: str, exc: OSError) -> str:
    """Why no file could be made at ``path``, in words: a relative path in a working directory
    that was removed (a program that deleted its temporary cwd) says so, not ENOENT."""
    if not os.path.isabs(path):
        try:
            os.getcwd()
        except OSError:
            return "the working directory, which the path is relative to, was removed"
    return system_words(exc)


def _depth() -> int:
    f: Any = unpatched.getframe()
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n
