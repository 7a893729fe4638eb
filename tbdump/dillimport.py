"""dill, imported only when a dump needs it, and kept from holding a crashed script's ``__main__``."""
from __future__ import annotations

import dis
import sys
import types
import warnings
from typing import Any, Iterable, List, Set

from . import unpatched


def import_dill() -> Any:
    """dill, imported on demand (most dumps never need it), safely under leaked mocks.

    Importing dill asks tempfile for its directory; with ``os.unlink`` mocked,
    tempfile's probe would leave up to ten thousand files behind.  A directory
    given in advance skips the probe.
    """
    dill: Any = sys.modules.get("dill")
    if dill is None:
        import tempfile
        preset = tempfile.tempdir
        if preset is None:
            tempfile.tempdir = unpatched.environ.get("TMPDIR") or "/tmp"
        try:
            with warnings.catch_warnings():
                # dill's own code warns as it is imported (an EncodingWarning under -X
                # warn_default_encoding): under -W error it would not import at all.
                warnings.simplefilter("ignore")
                import dill as imported
        finally:
            tempfile.tempdir = preset
        dill = imported
    if dill.detect.nestedglobals is not _nested_globals:
        dill.detect.nestedglobals = _nested_globals
    return dill


def _nested_globals(func: Any, recurse: bool = True) -> List[str]:
    """dill.detect.nestedglobals (the globals a function's code names, nested code too),
    read from its instructions.  dill reads them from ``dis.dis`` printed into a StringIO
    it sets as ``sys.stdout`` meanwhile, so what the crashed program's other threads
    printed then was lost."""
    code = sys.modules["dill.detect"].code(func)   # of a function, method or frame
    names: Set[str] = set()
    stack = [code] if isinstance(code, types.CodeType) else []
    while stack:
        code = stack.pop()
        names.update(_global_names(code))
        stack.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return list(names)


def _global_names(code: types.CodeType) -> Iterable[str]:
    """The names that ``code``'s own instructions load, store or delete as globals."""
    if sys.version_info < (3, 11):
        return (ins.argval for ins in dis.get_instructions(code)
                if "_GLOBAL" in ins.opname and isinstance(ins.argval, str))
    # Read from the code units themselves, as dis does (EXTENDED_ARG; LOAD_GLOBAL's name
    # index shifted by one), without making an Instruction, its text and its position for
    # each of them: twenty times fewer instructions, and a dump of a script's functions
    # reads thousands (dis.get_instructions was 3% of the benchmark's web dump).
    raw, names = code.co_code, code.co_names
    found = []
    extended = 0
    for offset in range(0, len(raw), 2):
        op = raw[offset]
        arg = raw[offset + 1] | extended
        extended = arg << 8 if op == _EXTENDED_ARG else 0
        if op in _GLOBAL_OPS:
            found.append(names[arg >> 1 if op == _LOAD_GLOBAL else arg])
    return found


# Every opcode dis names "..._GLOBAL...", as the loop above reads them (3.11+: the inline
# cache entries after an instruction are zeros, op 0, which none of these is).
_GLOBAL_OPS = frozenset(op for name, op in dis.opmap.items() if "_GLOBAL" in name)
_LOAD_GLOBAL = dis.opmap["LOAD_GLOBAL"]
_EXTENDED_ARG = dis.EXTENDED_ARG


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

