"""The standard library's functions a capture calls, as they were when tbdump was imported.

A crash inside a test's ``mock.patch("os.getpid")``, ``mock.patch("datetime.datetime")``
or ``mock.patch("time.monotonic", side_effect=[...])`` is still the program's: its dump is
written with what the OS and the clock say, not with the mock's MagicMock or its
StopIteration (which made no dump at all, or one without values).  Like
``container.json_dumps``, each is bound once, before the program runs.
"""
from __future__ import annotations

import builtins
import datetime
import gc
import os
import re
import sys
import threading
import time
import types
import zlib
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional

from . import native

# The process's environment: a test's monkeypatch.setattr(os, "environ", {...}) is the program's
# value, where tbdump's settings and the secrets to hide are not.
environ: Mapping[str, str] = os.environ
try:  # the C module behind os: mock.patch("os.getpid") does not reach it, even imported later
    import posix as osimpl
except ImportError:  # pragma: no cover - Windows
    import nt as osimpl  # type: ignore[no-redef]
try:  # the C module behind signal: a test's mock.patch("signal.signal") does not reach it
    import _signal as signals
except ImportError:  # pragma: no cover - a Python without it
    import signal as signals
# The options Python runs with, which it reads at exit from its own state, not from sys.flags.
flags = sys.flags
# The Python that runs, whatever a test made of sys.version_info (mock.patch.object(sys,
# "version_info", (3, 7))): the dump says which it was, and its viewers read dill's pickles as its.
version: str = sys.version
version_info = sys.version_info
implementation: str = sys.implementation.name
stdlib_names: FrozenSet[str] = getattr(sys, "stdlib_module_names", frozenset())
getpid: Callable[[], int] = osimpl.getpid
getcwd: Callable[[], str] = osimpl.getcwd
uname: Optional[Callable[[], Any]] = getattr(osimpl, "uname", None)
fromtimestamp: Callable[[float, Optional[datetime.tzinfo]], datetime.datetime] = datetime.datetime.fromtimestamp

# The clocks are read through clock_gettime where there is one: freezegun's freeze_time makes
# time.time and time.monotonic its fakes, in the time module and in every module that holds
# them, whenever tbdump was imported.  A stopped clock never ends a value's step (a repr that
# loops hung dump_exception() for good), and the dump would say the crash came at the frozen time.
_clock_gettime = getattr(time, "clock_gettime", None)
_CLOCKS = (time.time, time.monotonic)   # elsewhere, as they were at import


def wall_time() -> float:
    return _clock_gettime(time.CLOCK_REALTIME) if _clock_gettime is not None else _CLOCKS[0]()


def monotonic() -> float:
    return _clock_gettime(time.CLOCK_MONOTONIC) if _clock_gettime is not None else _CLOCKS[1]()


def now(tz: Optional[datetime.tzinfo]) -> datetime.datetime:
    return fromtimestamp(wall_time(), tz)


# Patterns made of what the dump meets (the denylist, the secrets learned) are compiled then.
compile_pattern: Callable[..., "re.Pattern[str]"] = re.compile
crc32: Callable[..., int] = zlib.crc32
compress: Callable[[bytes, int], bytes] = zlib.compress

# What a dump's writing changes and gives back (the gc's state, the recursion limit).
gc_enabled, gc_disable, gc_enable = gc.isenabled, gc.disable, gc.enable
getrecursionlimit: Callable[[], int] = sys.getrecursionlimit
setrecursionlimit: Callable[[int], None] = sys.setrecursionlimit
# The interpreter's stacks, which capture walks.
getframe: Callable[..., Any] = getattr(sys, "_getframe")
current_frames: Callable[[], Dict[int, Any]] = getattr(sys, "_current_frames")

Thread = threading.Thread
threads: Callable[[], List[threading.Thread]] = threading.enumerate
_current_thread: Callable[[], threading.Thread] = threading.current_thread
_active: Dict[int, Any] = getattr(threading, "_active", {})


def current_thread() -> threading.Thread:
    """threading.current_thread(), whatever a test made of threading.get_ident, by which it
    finds the thread: a mock's ident named the crash's thread "Dummy-1" (a _DummyThread made
    for it, whose end Python 3.13 reported at exit), and one that raised left no dump.
    threading's ident first: under gevent, a greenlet's thread is found by the greenlet's."""
    for get_ident in (threading.get_ident, native.get_ident):
        try:
            thread = _active.get(get_ident())
        except Exception:   # a test's mock that raises, or a mock's ident that is no key
            continue
        if isinstance(thread, Thread):
            return thread
    return _current_thread()


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


# fn(*args) with the __import__ of tbdump's start: the C pickler imports a class's module (to see
# that the class is found there) through the __import__ of the builtins of the frame it was
# called from, and a test's mock of builtins.__import__ that refuses the name left every value
# of that class not captured.
with_own_import: Callable[..., Any] = types.FunctionType(_call.__code__, {"__builtins__": {"__import__": builtins.__import__}})
