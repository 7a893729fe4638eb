"""tbdump: dump a Python crash into one file, and debug it later anywhere.

The public surface: ``set_excepthook``, ``dump_exception``, ``DumpHandler`` (a logging
handler) and ``load``; what ``load`` returns (``Dump``) and raises (``DumpError``); the
``Placeholder`` that stands for a value a dump does not hold.  Names are imported on first
use, so a viewer that only loads dumps never imports the capture machinery.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_HOMES = {
    "load": "dumpfile", "Dump": "dumpfile", "DumpError": "errors",
    "set_excepthook": "hooks", "dump_exception": "hooks", "Placeholder": "placeholder",
    "DumpWriteError": "writer", "DumpHandler": "loghandler",
}

if TYPE_CHECKING:  # pragma: no cover
    from .dumpfile import Dump, load
    from .errors import DumpError
    from .hooks import dump_exception, set_excepthook
    from .loghandler import DumpHandler
    from .placeholder import Placeholder
    from .writer import DumpWriteError

__all__ = ["set_excepthook", "dump_exception", "DumpHandler", "load", "Dump", "DumpError", "DumpWriteError",
           "Placeholder", "__version__"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError("module 'tbdump' has no attribute %r" % name)
    value = getattr(importlib.import_module("." + home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_HOMES))
