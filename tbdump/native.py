"""The operating system's own threads and locks, which gevent and eventlet replace with greenlets.

After ``monkey.patch_all()`` a ``threading.Thread`` is a greenlet: it runs only when the
running greenlet waits, never while capture computes, so a watchdog made of one would
never fire.  Capture's helpers are made of what ``_thread`` was before the patching.
"""
from __future__ import annotations

import _thread
import os
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from .loaded import loaded


def _original_thread_functions() -> Dict[str, Any]:
    # get_native_id is missing on a few platforms (see in_main_thread).
    names = [name for name in ("start_new_thread", "allocate_lock", "RLock", "get_ident", "get_native_id")
             if hasattr(_thread, name)]
    get_original = loaded("gevent.monkey", "get_original")
    if get_original is not None:  # answers _thread's own functions where nothing was patched
        return dict(zip(names, get_original("_thread", names)))
    original = loaded("eventlet.patcher", "original")
    if original is not None:
        module = original("_thread")
        return {name: getattr(module, name) for name in names}
    # Not patched yet (python -m tbdump imports this before the program runs): keep them.
    return {name: getattr(_thread, name) for name in names}


_ORIGINAL = _original_thread_functions()
allocate_lock: Callable[[], Any] = _ORIGINAL["allocate_lock"]
RLock: Callable[[], Any] = _ORIGINAL["RLock"]
get_ident: Callable[[], int] = _ORIGINAL["get_ident"]
_start_new_thread: Callable[..., int] = _ORIGINAL["start_new_thread"]
_get_native_id: Optional[Callable[[], int]] = _ORIGINAL.get("get_native_id")


def in_main_thread() -> bool:
    """Whether this is the main OS thread, where signal handlers run: under gevent every
    greenlet runs there, a patched ``threading.Thread``'s too, though ``threading`` says
    it is another thread."""
    main = _main_thread()
    if get_ident() == main.ident:
        return True
    # gevent gives the main thread its main greenlet's ident: the OS's id of the thread tells.
    # After a fork threading keeps the parent's there (a gunicorn worker patches after its
    # fork), so the thread that forked, the child's main one, is noted at the fork.
    return _get_native_id is not None and _get_native_id() in (main.native_id, _forked_main[0])


_main_thread: Callable[[], threading.Thread] = threading.main_thread   # a test may mock threading's
_forked_main: List[Optional[int]] = [None]


def _note_forked_main() -> None:
    _forked_main[0] = _get_native_id() if _get_native_id is not None else None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_forked_main)


def start_thread(target: Callable[[], None]) -> int:
    """Run ``target`` in a new OS thread (a daemon: it never holds the program's exit up); its ident."""
    return _start_new_thread(target, ())


def current_greenlet() -> Optional[Any]:
    """The running greenlet where the greenlet module is in use (gevent, eventlet), else None."""
    getcurrent = loaded("greenlet", "getcurrent")
    return getcurrent() if getcurrent is not None else None


def task_ident() -> Tuple[int, int]:
    """What runs here, as one capture's own: its OS thread (get_ident) and the greenlet running in
    it where greenlets are in use, for under gevent or eventlet the crashes of the greenlets of one
    thread each have a capture of their own (0 where none is)."""
    current = current_greenlet()
    return get_ident(), 0 if current is None else id(current)


def is_hub(current: Any) -> bool:
    """Whether ``current`` is the event loop's greenlet of gevent or eventlet: the one a greenlet
    that waits (a patched ``time.sleep``) hands the thread to."""
    hub = loaded("gevent.hub", "Hub", type)
    if hub is not None and isinstance(current, hub):
        return True
    # The thread's hub of eventlet's if it has one: get_hub() would make one, here in a signal handler.
    loop = getattr(loaded("eventlet.hubs", "_threadlocal"), "hub", None)
    return loop is not None and getattr(loop, "greenlet", None) is current
