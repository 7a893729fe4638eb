"""tbdump in an IPython session (IPython's prompt, a Jupyter kernel): the crash of a cell handed to
tbdump, and IPython's shell kept out of dumps."""
from __future__ import annotations

import types
from typing import Any, Callable, Dict, FrozenSet, Optional

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


# IPython's custom exception handler before tbdump's, kept across set_excepthook() called again
# (a notebook's first cell run twice), so each crash is shown once and dumped once.
_installed: Dict[str, Any] = {}


def follow_cells(report: Callable[[BaseException, FrozenSet[types.CodeType]], Any]) -> None:
    """When this runs under IPython, call ``report(exc, ipython_codes)`` for each exception a
    cell raises from now on, after IPython has shown it as it always does; ``ipython_codes``
    are IPython's frames above the cell.  What ``report`` raises is shown as a cell's exception."""
    shell = _shell()
    if shell is None:
        return
    # The frame that runs a cell and catches its exception (a subclass's run_code calls it).
    run_code = frozenset(code for code in (getattr(vars(kind).get("run_code"), "__code__", None)
                                           for kind in type(shell).__mro__)
                         if isinstance(code, types.CodeType))
    if shell.CustomTB is _installed.get("ours") and shell is _installed.get("shell"):
        before_types, before = _installed["before"]
    else:
        before_types, before = shell.custom_exceptions, shell.CustomTB

    def cell_crash(ipython: Any, etype: type, value: BaseException, tb: Optional[types.TracebackType],
                   tb_offset: Optional[int] = None) -> None:
        ran = tb is not None and tb.tb_frame.f_code in run_code
        if isinstance(value, before_types):
            before(etype, value, tb, tb_offset=tb_offset)
        elif ran:
            ipython.showtraceback(running_compiled_code=True)
        else:
            _show_not_compiled(ipython, value)
        if ran:
            try:
                report(value, run_code)
            except BaseException:
                # A signal's handler, run once the dump is written (the kernel's interrupt, a
                # Ctrl-C): its exception is shown as IPython shows a cell's, for raised out of
                # here it would make IPython unregister this handler.
                ipython.showtraceback(exception_only=True)

    # BaseException: IPython takes SystemExit and the debugger's quit before its custom handler.
    shell.set_custom_exc((BaseException,), cell_crash)
    _installed.update(shell=shell, ours=shell.CustomTB, before=(before_types, before))


def _show_not_compiled(shell: Any, value: BaseException) -> None:
    """What IPython shows of a cell that did not compile, which its custom handler takes too."""
    if isinstance(value, IndentationError):
        shell.showindentationerror()
    elif isinstance(value, (OverflowError, SyntaxError, ValueError, TypeError, MemoryError)):
        shell.showsyntaxerror()
    else:
        shell.showtraceback(running_compiled_code=True)
