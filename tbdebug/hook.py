"""Find the debugger PYTHONBREAKPOINT names, exactly as sys.breakpointhook() does, and its post-mortem entry."""
import importlib
import inspect
import os
import sys
import sysconfig
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Optional

DEFAULT_HOOK = "pdb.set_trace"


class HookError(Exception):
    """PYTHONBREAKPOINT names something that cannot be imported; str() is one line."""


@dataclass
class Debugger:
    """The debugger breakpoint() would start, and how to start it post-mortem instead."""

    name: str                                  # as PYTHONBREAKPOINT says, or the default
    hook: Callable[[], Any]                    # what breakpoint() would call
    post_mortem: Optional[Callable[..., Any]]  # the hook's module's post_mortem(), if it has one
    takes_exc_info: bool                       # post_mortem(tb, e_type, e_value), as pudb's
    plain_pdb: bool = False                    # the standard library's pdb: it writes no escapes of its own


def _in_stdlib(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    return path is not None and (os.path.dirname(os.path.realpath(path))
                                 == os.path.realpath(sysconfig.get_paths()["stdlib"]))


def find_debugger() -> Optional[Debugger]:
    """The debugger to open, or None when PYTHONBREAKPOINT=0 disables breakpoint()."""
    # Read as CPython's sys.breakpointhook() reads it: unset or empty means
    # pdb, "0" disables, a dotless name is looked up in builtins, -E ignores it.
    name = "" if sys.flags.ignore_environment else os.environ.get("PYTHONBREAKPOINT", "")
    if name == "0":
        return None
    name = name or DEFAULT_HOOK
    modulepath, dot, attrname = name.rpartition(".")
    if not dot:
        modulepath = "builtins"
    try:
        module = importlib.import_module(modulepath)
        hook = getattr(module, attrname)
    except (ImportError, AttributeError):
        # Not Python's "Ignoring unimportable ...": breakpoint() goes on without a debugger,
        # where tbdebug, whose one job is to open it, ends.
        raise HookError(f'$PYTHONBREAKPOINT "{name}" cannot be imported: nothing opened') from None
    except Exception as exc:  # the debugger's own import failed: still one line for a person
        raise HookError(f'$PYTHONBREAKPOINT "{name}" fails to import: '
                        f'{type(exc).__name__}: {exc}') from None
    post_mortem = getattr(module, "post_mortem", None)
    if not callable(post_mortem):
        post_mortem = None
    try:
        parameters = inspect.signature(post_mortem).parameters if post_mortem else {}
    except (TypeError, ValueError):
        parameters = {}
    plain_pdb = module.__name__ == "pdb" and _in_stdlib(module)   # not pdb++, which replaces it
    return Debugger(name=name, hook=hook, post_mortem=post_mortem,
                    takes_exc_info="e_type" in parameters and "e_value" in parameters,
                    plain_pdb=plain_pdb)
