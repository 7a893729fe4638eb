"""tbdump: dump a Python crash into one file, and debug it later anywhere.

The public surface: ``set_excepthook``, ``dump_exception`` and ``load``; what
``load`` returns (``Dump``) and raises (``DumpError``); the ``Placeholder``
that stands for a value a dump does not hold.
"""
__version__ = "0.1.0"

from .dumpfile import Dump, load  # noqa: E402
from .errors import DumpError  # noqa: E402
from .hooks import dump_exception, set_excepthook  # noqa: E402
from .placeholder import Placeholder  # noqa: E402
from .writer import DumpWriteError  # noqa: E402

__all__ = ["set_excepthook", "dump_exception", "load", "Dump", "DumpError", "DumpWriteError",
           "Placeholder", "__version__"]
