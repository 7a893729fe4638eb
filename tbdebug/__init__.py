"""Open a tbdump file in a post-mortem debugger: pdb, or the one PYTHONBREAKPOINT names."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .session import debug

__all__ = ["debug"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `tbdebug` (and tbpeep, which shares its command line) starts with
    # only its entry point loaded, so Ctrl-C at start-up meets the entry point's handler.
    if name == "debug":
        from .session import debug
        return debug
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
