"""tbdump in an IPython session (IPython's prompt, a Jupyter kernel): IPython's shell kept out of dumps."""
from __future__ import annotations

from typing import Any, Callable, Dict

from .loaded import loaded


def _shell() -> Any:
    """The running IPython shell, or None; IPython is only looked at, never imported."""
    get_ipython = loaded("IPython", "get_ipython")
    try:
        return get_ipython() if callable(get_ipython) else None
    except Exception:   # a get_ipython of the program's own that fails: no dump may fail for it
        return None


class IPythonSession(Exception):
    """Why IPython's shell or kernel is a placeholder in a dump, as the dump says it."""


def _left_out(session: Any) -> Any:
    raise IPythonSession("IPython's own, which runs the cells: the session, not the program's state")


def shell_left_out() -> Dict[type, Callable[[Any], Any]]:
    """How a dump holds IPython's shell and its Jupyter kernel, when they run: as placeholders.
    Every cell's names reach the shell (get_ipython, exit, quit) and the kernel's threads hold
    the kernel: pickled, they made a dump of a two-line cell 2 MB (now 0.5 MB), and one object of
    theirs that failed to load where the dump was opened (a dateutil time zone) cost every
    variable of the notebook its value."""
    shell = _shell()
    if shell is None:
        return {}
    return dict.fromkeys({type(shell), type(getattr(shell, "kernel", shell))}, _left_out)
