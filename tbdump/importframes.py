"""Which frames are Python's import machinery's: importlib's and zipimport's, frozen or not."""
from __future__ import annotations

import importlib
import os
from types import TracebackType
from typing import Optional

# co_filename prefixes: importlib.util is a file before 3.11, frozen from then on.
IMPORT_MACHINERY = (os.path.dirname(os.path.abspath(importlib.__file__ or "")) + os.sep,
                    "<frozen importlib.", "<frozen zipimport>")


def only_import_machinery(tb: Optional[TracebackType]) -> bool:
    """Whether every frame of ``tb`` (one at least) is the import machinery's: it compiled or
    found a module, and none of the module's own code ran."""
    if tb is None:
        return False
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(IMPORT_MACHINERY):
            return False
        tb = tb.tb_next
    return True
