"""The C unpickler's loads, without one stray line of CPython's on stderr.

A BYTEARRAY8 longer than the memory left (a 3 GB bytearray opened on a smaller machine, a
damaged record's length) fails to allocate, and PyByteArray_FromStringAndSize (3.9 to 3.13)
frees its half-made object with its count of buffer exports unset, often found positive: the
deallocation then prints "SystemError: deallocated bytearray object has exported buffers"
through PyErr_Print, so sys.excepthook, in the middle of a viewer's output.  The MemoryError
is raised as usual (the value's placeholder says it).

The C unpickler makes the bytearray from its 8-byte length before it reads a byte of it, most
often from a frame it holds already: telling such a record beforehand means parsing its opcodes
in Python (0x96 is also BINPUT 150), for every record.  So a filter stands in for sys.excepthook
while records load, passing everything else on to the hook it replaced (PyErr_Print still sets
sys.last_value).  One filter at a time for the whole process, put in place by the first load
running (in any thread) and taken out by the last: readers of two dumps in two threads, each
putting back what it found, left one's filter in place.  A filter wraps for good the hook it
found, and one is made afresh where another hook came meanwhile (a module a record imports,
chaining the hook in place): a filter taking that hook as its own would call it, and it the
filter, without end.
"""
from __future__ import annotations

import sys
import threading
from typing import Any

__all__ = ["load_quietly"]

_LINE = "deallocated bytearray object has exported buffers"


class _Filter:
    def __init__(self, hook: Any) -> None:
        self.hook = hook   # for good: only hooks installed before it, so no chain comes back to it

    def __call__(self, kind: Any, value: Any, tb: Any) -> Any:
        if kind is SystemError and str(value) == _LINE:
            return None
        return self.hook(kind, value, tb)


_lock = threading.Lock()
_filter = _Filter(sys.excepthook)
_loads = 0   # running, in every thread


def load_quietly(unpickler: Any) -> Any:
    """``unpickler.load()``, with no "deallocated bytearray" line on stderr."""
    global _filter, _loads
    with _lock:
        if _loads == 0:
            if _filter.hook is not sys.excepthook:
                _filter = _Filter(sys.excepthook)
            sys.excepthook = _filter
        _loads += 1
    try:
        return unpickler.load()
    finally:
        with _lock:
            _loads -= 1
            if _loads == 0 and sys.excepthook is _filter:   # unless other code set another meanwhile
                sys.excepthook = _filter.hook
