"""What the program has imported, read without trusting ``sys.modules``: it holds whatever the
program put there."""
from __future__ import annotations

import sys
from typing import Any, Optional


def loaded(module: str, name: str, kind: type = object) -> Optional[Any]:
    """``sys.modules[module].<name>`` when it is a ``kind``; None when the module is not
    imported, is blocked (``None``), or its entry gives no such attribute.

    getattr's default covers a module, which raises AttributeError; the entry may be a lazy
    importer's proxy that raises ImportError instead (of a package that is not installed),
    or any object whose attribute raises anything.
    """
    try:
        value = getattr(sys.modules.get(module), name, None)
    except Exception:
        return None
    return value if isinstance(value, kind) else None
