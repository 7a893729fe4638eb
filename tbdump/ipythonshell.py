"""tbdump in an IPython session (IPython's prompt, a Jupyter kernel): the crash of a cell or of a
script IPython runs handed to tbdump, and IPython's shell kept out of dumps."""
from __future__ import annotations

import sys
import threading
import types
from typing import Any, Callable, Dict, FrozenSet, List, Optional

from .capture import is_library_file
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
# (a notebook's first cell run twice), so each crash is shown once and dumped once; and what
# reports the crashes, the latest set_excepthook's (a script %run twice calls it twice).
_installed: Dict[str, Any] = {}
# Whether a thread is inside tbdump's wrapper of the shell's showtraceback.
_showing = threading.local()


def follow_ipython(report: Callable[[BaseException, FrozenSet[types.CodeType]], Any]) -> None:
    """When this runs under IPython, call ``report(exc, ipython_codes)`` for each exception a
    cell raises from now on (not a magic's own error: _magics_own), and each one a script IPython
    runs raises (``ipython script.py``, ``%run``, ``ipython -m``, ``%run -m``), after IPython has
    shown it as it always does; ``ipython_codes`` are IPython's frames (and runpy's) above the
    cell's or the script's.
    What ``report`` raises is shown as a cell's exception."""
    shell = _shell()
    if shell is None:
        return
    # The frame that runs a cell and catches its exception (a subclass's run_code calls it).
    run_code = _codes(shell, "run_code")
    magics = _codes(shell, "run_line_magic") | _codes(shell, "run_cell_magic")
    ipy_scripts = _codes(shell, "safe_execfile_ipy")
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
        if ran and not _magics_own(tb, magics, ipy_scripts):
            _report(value, run_code)

    # BaseException: IPython takes SystemExit and the debugger's quit before its custom handler.
    shell.set_custom_exc((BaseException,), cell_crash)
    _installed.update(shell=shell, ours=shell.CustomTB, before=(before_types, before), report=report)
    _follow_scripts(shell, run_code)


def _report(value: BaseException, ipython_codes: FrozenSet[types.CodeType]) -> None:
    try:
        _installed["report"](value, ipython_codes)
    except BaseException:
        # A signal's handler, run once the dump is written (the kernel's interrupt, a Ctrl-C): its
        # exception is shown as IPython shows a cell's, for raised out of the cell's handler it
        # would make IPython unregister it, and out of a script's showtraceback end the %run.
        _installed["shows"](exception_only=True)


def _magics_own(tb: Optional[types.TracebackType], magics: FrozenSet[types.CodeType],
                ipy_scripts: FrozenSet[types.CodeType]) -> bool:
    """Whether a cell's exception is one a magic it called raised of its own, no crash of the
    program: an IPython magic's error about what it was asked (``%run nosuch.py``, ``%run -m
    nosuch``, ``%run "unclosed``, an unknown magic) that the cell called itself, raised in
    IPython's frames and those of the libraries it calls only, where %debug has nothing of the
    program's to show (another library's magic, ``%%sql``, ran the program's query, and a
    function of the program's that called the magic held the program's state: their errors are
    dumped); or the exception of an IPython script's cell (``%run script.ipy``), reported by that
    cell's run_code and raised again by %run, or of a cell of it that did not compile, which
    never ran."""
    frames = _frames(tb)
    first = next((n for n, frame in enumerate(frames) if frame.f_code in magics), None)
    if first is None:
        return False
    below = frames[first:]
    if any(frame.f_code in ipy_scripts for frame in below):
        return True
    # frames[0] runs the cell, frames[1] is the cell's, and a frame of the program's between it
    # and the magic called the magic; below[1], when there is one, is the magic itself.
    return all(map(_ipythons_or_libraries, frames[2:first] + below)) and all(map(_ipythons_or_runpys, below[:2]))


def _frames(tb: Optional[types.TracebackType]) -> List[types.FrameType]:
    frames = []
    while isinstance(tb, types.TracebackType):
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _codes(shell: Any, method: str) -> FrozenSet[types.CodeType]:
    """The code of ``method`` of the shell's class and of the classes it derives from."""
    return frozenset(code for code in (getattr(vars(kind).get(method), "__code__", None)
                                       for kind in type(shell).__mro__)
                     if isinstance(code, types.CodeType))


def _follow_scripts(shell: Any, run_code: FrozenSet[types.CodeType]) -> None:
    """Report the crash of each script IPython runs.  IPython runs it with safe_execfile (the
    file's code, exec'd by a function inside it) or safe_run_module, catches what it raises,
    shows it with the shell's showtraceback, and never calls the custom exception handler: so
    this shell's showtraceback reports what it shows of a script's frames."""
    if "follows" in _installed and vars(shell).get("showtraceback") is _installed["follows"]:
        return   # set_excepthook() called again: _installed's report is the new one
    # What shows the traceback: a wrapper the program put on the shell (rich.traceback.install()'s),
    # else the class's method, looked up at each call, as the program may replace it later on
    # (friendly-traceback does) and IPython would then show the program's.
    wrapped = vars(shell).get("showtraceback")
    runners = _script_runners(shell)

    def shows(*args: Any, **kwargs: Any) -> Any:
        if wrapped is not None:
            return wrapped(*args, **kwargs)
        return type(shell).showtraceback(shell, *args, **kwargs)

    def showtraceback(*args: Any, **kwargs: Any) -> Any:
        if getattr(_showing, "now", False):
            # Called by the one above through the program's wrapper (set_excepthook() called
            # again once rich's wrapped this one): that one reports, or the crash is dumped twice.
            return shows(*args, **kwargs)
        _showing.now = True
        try:
            shown = shows(*args, **kwargs)
        finally:
            _showing.now = False
        given = args[0] if args else kwargs.get("exc_tuple")
        # None: IPython shows the exception being handled; outside any (%tb) it shows the last one
        # again, dumped already.
        _, value, tb = given if isinstance(given, tuple) and len(given) == 3 else sys.exc_info()
        if isinstance(value, BaseException):
            above = _above_script(value, tb, runners, run_code)
            if above is not None:
                _report(value, above)
        return shown

    shell.showtraceback = showtraceback
    _installed.update(follows=showtraceback, shows=shows)


def _script_runners(shell: Any) -> FrozenSet[types.CodeType]:
    """The code of the shell's safe_execfile and safe_run_module."""
    return _codes(shell, "safe_execfile") | _codes(shell, "safe_run_module")


def above_uncaught_script(value: BaseException, tb: Optional[types.TracebackType]) -> FrozenSet[types.CodeType]:
    """The code of IPython's frames (and runpy's) above the script's own in ``tb``, when the
    exception came uncaught out of a script IPython runs to sys.excepthook: ``ipython script.py``
    lets a KeyboardInterrupt through, up from IPython's start-up."""
    shell = _shell()
    if shell is None:
        return frozenset()
    return _above_script(value, tb, _script_runners(shell), _codes(shell, "run_code")) or frozenset()


def _above_script(value: BaseException, tb: Optional[types.TracebackType], runners: FrozenSet[types.CodeType],
                  run_code: FrozenSet[types.CodeType]) -> Optional[FrozenSet[types.CodeType]]:
    """The code of the frames above the script's own in ``value``'s traceback, when a script
    IPython ran raised it; None for another exception IPython shows: a cell's (reported by
    the cell's handler), a SystemExit's (sys.exit() is no crash), and a script's that did not
    compile or that runpy did not find, which never ran (IPython shows its error as a cell's)."""
    if isinstance(value, SystemExit):
        return None
    frames = _frames(tb)
    if any(frame.f_code in run_code for frame in frames):
        return None
    last = max((n for n, frame in enumerate(frames) if frame.f_code in runners), default=None)
    if last is None:
        return None
    start = last + 1
    # What execs the script below them: a function of IPython's (inside safe_execfile from IPython
    # 8, py3compat.execfile before), runpy's for a module.
    while start < len(frames) and _ipythons_or_runpys(frames[start]):
        start += 1
    return frozenset(frame.f_code for frame in frames[:start]) if start < len(frames) else None


def _ipythons_or_runpys(frame: types.FrameType) -> bool:
    """Whether the frame is IPython's, runpy's, or its kernel's: ipykernel's magics (``%less``,
    ``%autosave``, ``%edit``) are IPython's in a notebook."""
    name = frame.f_globals.get("__name__")
    return isinstance(name, str) and name.partition(".")[0] in ("runpy", "IPython", "ipykernel")


def _ipythons_or_libraries(frame: types.FrameType) -> bool:
    """Whether the frame runs none of the program: IPython's (a checkout of it too), or a
    library's that a magic calls: the standard library's (the import machinery for
    ``%load_ext nosuch``, shlex for ``%run "unclosed``, re for ``%reset_selective [``) or
    an installed one's (traitlets for ``%precision %q``)."""
    return _ipythons_or_runpys(frame) or is_library_file(frame.f_code.co_filename)


def _show_not_compiled(shell: Any, value: BaseException) -> None:
    """What IPython shows of a cell that did not compile, which its custom handler takes too."""
    if isinstance(value, IndentationError):
        shell.showindentationerror()
    elif isinstance(value, (OverflowError, SyntaxError, ValueError, TypeError, MemoryError)):
        shell.showsyntaxerror()
    else:
        shell.showtraceback(running_compiled_code=True)
