"""A real Ctrl-C told from a value's own KeyboardInterrupt while a dump's values are restored.

Restoring runs the program's code (a ``__setstate__``, a dict key's ``__hash__``), which may raise
KeyboardInterrupt itself: that is the value's failure.  A SIGINT that comes meanwhile stops the
restoring with what the handler in place raises (KeyboardInterrupt, a program's SystemExit), as
it would anywhere else; a handler that raises nothing lets it go on.  A handler of tbdump's,
wrapping the one in place (which still runs), counts the SIGINTs whose handler raised for as long
as a ``noting()`` scope is open; ``came(mark())`` says whether one did since, ``raised()`` what.

Setting a handler is a system call, and putting the old one back another: a request that
restores many values (``Dump.resolved``: a frame's locals, a module's 200 000 globals) opens one
scope, which each value read inside it joins (``mark()``).  A scope per value cost that module's
opening a tenth of its time (4.2 s of CPU against 3.9 on a loaded machine; as much as without
noting).  Only the main thread receives signals: elsewhere nothing is noted, and a
KeyboardInterrupt is always the program's.
"""
from __future__ import annotations

import _signal
import contextlib
import threading
from types import FrameType
from typing import Any, Iterator, Optional

_count = 0   # the SIGINTs whose handler raised so far, in this process's main thread
_raised: Optional[BaseException] = None   # what the latest of them raised, while a scope is open
_noting: Any = None   # the handler that counts them, while a scope has it set


def mark() -> Optional[int]:
    """Where the count of SIGINTs stands, for ``came``; None where none is noted: outside a
    scope, in another thread than the main one, or once a value's code set a handler of its own."""
    # _signal's own getsignal: signal's wraps the handler in an enum, a cost per value read.
    if _noting is None or threading.current_thread() is not threading.main_thread() \
            or _signal.getsignal(_signal.SIGINT) is not _noting:
        return None
    return _count


def came(since: Optional[int]) -> bool:
    """Whether a SIGINT's handler raised since ``mark()`` gave ``since``: its KeyboardInterrupt,
    wherever it was raised, is then a Ctrl-C, not the program's own."""
    return since is not None and _count != since


def raised() -> BaseException:
    """What the latest SIGINT's handler raised (``came`` says one did): raised again where a
    value's own code took it for its failure."""
    return _raised if _raised is not None else KeyboardInterrupt()


@contextlib.contextmanager
def noting() -> Iterator[None]:
    """SIGINTs counted during the block, in the main thread; a scope open already is joined."""
    global _noting
    if mark() is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _signal.getsignal(_signal.SIGINT)
    if not callable(handler):   # ignored or default: no KeyboardInterrupt comes of SIGINT
        yield
        return

    def note(signum: int, frame: Optional[FrameType]) -> None:
        global _count, _raised
        try:
            handler(signum, frame)
        except BaseException as exc:
            _count, _raised = _count + 1, exc
            raise
    outer = _noting
    try:
        _signal.signal(_signal.SIGINT, note)
        _noting = note
        yield
    finally:
        _noting = outer
        if outer is None:
            _raised = None   # its frames, kept alive by its traceback, go
        # The program's own, as it was; unless a value's code (a __setstate__) set another meanwhile.
        if _signal.getsignal(_signal.SIGINT) is note:
            _signal.signal(_signal.SIGINT, handler)
