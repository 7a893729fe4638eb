"""``python -m tbdump`` reaches the copy of the program that a reloader runs: Django's ``runserver``
serves from a child it starts with the program's own command line, ``python manage.py ...``.

The child's command line is made by one function of the reloader's module: once that module is
imported, the function puts ``-m tbdump`` and the runner's options before the program, so each
child the reloader starts, after each change, runs under tbdump as the first did.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, List, Optional, Sequence

# The reloader's module -> its function that returns the child's command line.
CHILD_COMMAND_LINES = {"django.utils.autoreload": "get_child_arguments"}


def keep_runner(options: Sequence[str]) -> None:
    """Run the reloaders' children under ``python -m tbdump OPTIONS`` from now on."""
    sys.meta_path.insert(0, _Reloaders(list(options)))


def under_runner(args: List[Any], options: Sequence[str]) -> List[Any]:
    """``args``, ``[python, -W.., -X.., program...]``, with ``-m tbdump OPTIONS`` after the
    interpreter's own options; a command line that does not start with this python (Django's
    ``.exe`` entry point on Windows) as it is."""
    if not args or str(args[0]) != sys.executable:
        return args
    start = 1
    while start < len(args) and str(args[start]).startswith(("-W", "-X")):
        start += 1
    return [*args[:start], "-m", "tbdump", *options, *args[start:]]


class _Reloaders(importlib.abc.MetaPathFinder):
    """Finds a reloader's module as the finders after it do, and wraps its function once the
    module has run."""

    def __init__(self, options: List[str]) -> None:
        self.options = options

    def find_spec(self, fullname: str, path: Optional[Sequence[str]],
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        function = CHILD_COMMAND_LINES.get(fullname)
        if function is None:
            return None
        spec = next((found for found in (_find(finder, fullname, path, target) for finder in sys.meta_path
                                         if finder is not self) if found is not None), None)
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if run is None:
            return spec
        options = self.options

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            made = getattr(module, function)

            def command_line(*args: Any, **kwargs: Any) -> List[Any]:
                return under_runner(made(*args, **kwargs), options)
            setattr(module, function, command_line)
        loader.exec_module = exec_module  # type: ignore[union-attr]  # this module's own loader
        return spec


def _find(finder: Any, fullname: str, path: Optional[Sequence[str]],
          target: Optional[types.ModuleType]) -> Optional[importlib.machinery.ModuleSpec]:
    find = getattr(finder, "find_spec", None)
    return find(fullname, path, target) if find is not None else None
