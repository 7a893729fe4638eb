"""The standard library's functions a capture calls, as they were when tbdump was imported.

A crash inside a test's ``mock.patch("os.getpid")``, ``mock.patch("datetime.datetime")``
or ``mock.patch("time.monotonic", side_effect=[...])`` is still the program's: its dump is
written with what the OS and the clock say, not with the mock's MagicMock or its
StopIteration (which made no dump at all, or one without values).  Like
``container.json_dumps``, each is bound once, before the program runs.
"""
from __future__ import annotations

import datetime
import os
import sys
import threading
import time
import zlib
from typing import Any, Callable, List, Mapping, Optional

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
getpid: Callable[[], int] = osimpl.getpid
getcwd: Callable[[], str] = osimpl.getcwd
uname: Optional[Callable[[], Any]] = getattr(osimpl, "uname", None)
now: Callable[[Optional[datetime.tzinfo]], datetime.datetime] = datetime.datetime.now
fromtimestamp: Callable[[float, Optional[datetime.tzinfo]], datetime.datetime] = datetime.datetime.fromtimestamp
wall_time: Callable[[], float] = time.time
monotonic: Callable[[], float] = time.monotonic
Thread = threading.Thread
current_thread: Callable[[], threading.Thread] = threading.current_thread
threads: Callable[[], List[threading.Thread]] = threading.enumerate
crc32: Callable[..., int] = zlib.crc32
compress: Callable[[bytes, int], bytes] = zlib.compress
