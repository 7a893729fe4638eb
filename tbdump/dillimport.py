"""dill, imported only when a dump needs it, and kept from holding a crashed script's ``__main__``."""
from __future__ import annotations

import os
import sys
import types
from typing import Any


def import_dill() -> Any:
    """dill, imported on demand (most dumps never need it), safely under leaked mocks.

    Importing dill asks tempfile for its directory; with ``os.unlink`` mocked,
    tempfile's probe would leave up to ten thousand files behind.  A directory
    given in advance skips the probe.
    """
    if "dill" in sys.modules:
        return sys.modules["dill"]
    import tempfile
    preset = tempfile.tempdir
    if preset is None:
        tempfile.tempdir = os.environ.get("TMPDIR") or "/tmp"
    try:
        import dill
    finally:
        tempfile.tempdir = preset
    return dill


def release_main(main: types.ModuleType) -> None:
    """Point dill's idea of ``__main__`` back at ``main`` (the interpreter's own).

    dill binds ``sys.modules['__main__']`` when first imported.  Imported during
    the crash of a script that ``python -m tbdump`` runs, that is the script's
    module, which dill would then keep alive past the point where Python frees it
    at exit, changing the order in which ``__del__`` methods run at shutdown.
    """
    for name in ("dill._dill", "dill.session"):  # each keeps its own reference
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "_main_module"):
            module._main_module = main  # type: ignore[attr-defined]

