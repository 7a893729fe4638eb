"""Dumping the crash of a gevent greenlet, which gevent's hub reports instead of any excepthook.

A greenlet that ``gevent.spawn`` started and that raises ends as a thread does: the hub
prints the traceback ("<Greenlet ...> failed with KeyError") and the program goes on.
``Hub.handle_error`` is gevent's documented place for that; it is wrapped as soon as
``gevent.hub`` exists, before or after tbdump's hook is set up.
"""
from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any, Callable, Optional, Sequence

from .loaded import loaded

# What is called for a greenlet's crash: (the exception, how gevent itself reports it).
Report = Callable[[BaseException, Callable[[], None]], None]

_report: Optional[Report] = None


def follow_greenlets(report: Report) -> None:
    """Hand every uncaught exception of a gevent greenlet to ``report``, now or once gevent is imported."""
    global _report
    _report = report
    hub = loaded("gevent.hub", "Hub", type)
    if hub is not None:
        _wrap(hub)
    elif not any(isinstance(finder, _HubFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _HubFinder())


class _HubFinder:
    """Finds nothing itself: wraps ``gevent.hub``'s loading, so its Hub is wrapped once it is made."""

    def find_spec(self, name: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None) -> Any:
        if name != "gevent.hub":
            return None
        sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not self]
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_wrap(module: types.ModuleType) -> None:
            exec_module(module)
            _wrap(getattr(module, "Hub", None))
        loader.exec_module = exec_then_wrap  # this loader loads gevent/hub.py alone
        return spec


def _wrap(cls: Any) -> None:
    """Make gevent's ``Hub`` class (None: gevent has none) report its greenlets' crashes."""
    handle_error = getattr(cls, "handle_error", None)
    if handle_error is None or getattr(handle_error, "tbdump_wrapped", False):
        return

    def dumping_handle_error(self: Any, context: Any, type: Any, value: Any, tb: Any) -> None:
        def as_gevent() -> None:
            handle_error(self, context, type, value, tb)
        greenlet = loaded("gevent.greenlet", "Greenlet")
        # Only a greenlet's own crash: errors that gevent throws to the main greenlet
        # (SYSTEM_ERROR: KeyboardInterrupt, SystemExit) crash the program, which its hook
        # dumps; NOT_ERROR (GreenletExit) is no crash; a callback's error is only logged.
        if _report is None or greenlet is None or not isinstance(context, greenlet) \
                or not isinstance(value, BaseException) \
                or isinstance(value, self.NOT_ERROR) or isinstance(value, self.SYSTEM_ERROR):
            as_gevent()
            return
        try:
            _report(value, as_gevent)
        except BaseException as err:
            # A signal's handler, run once the dump is written (a Ctrl-C's KeyboardInterrupt):
            # handle_error "must not raise", so to the main greenlet as gevent sends a system error.
            # Raised there where the main greenlet waits, without tbdump's frames that delivered it.
            self.handle_system_error(err.__class__, err.with_traceback(None))  # ``type`` is a parameter

    dumping_handle_error.tbdump_wrapped = True  # type: ignore[attr-defined]
    dumping_handle_error.__doc__ = handle_error.__doc__
    cls.handle_error = dumping_handle_error
