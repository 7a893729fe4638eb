"""Start a post-mortem debugging session over a loaded dump's stand-in frames."""
import ast
import bdb
import contextlib
import os
import sys
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, TextIO, Tuple, Type, cast

import tbdump
from tbdump.chain import CAUSE, CONTEXT, MEMBER, links_of, walk
from tbdump.frameless import NEVER_RAISED, location_name, syntax_location
from tbdump.lazymembers import unread_globals
from tbdump.localsource import install_sources
from tbdump.model import plural
from tbdump.placeholder import captured_class, is_placeholder
from tbdump.standins import (StandinException, StandinTraceback, crashed_main, exception_frames,
                             locate_class, standin_exceptions)
from tbdump.termtext import printable
from tbdump.tracetext import exception_line

from .cli import say
from .exceptions import ExceptionsCommand
from .hook import Debugger, find_debugger


PROG = "tbdebug"


class SessionError(Exception):
    """The requested exception cannot be debugged; str() is one line."""


class NoFrames(SessionError):
    """The chosen exception has no frames for a debugger to open; ``listing`` is the source
    around the line a SyntaxError points at (none for an exception never raised)."""

    def __init__(self, message: str, listing: List[str]) -> None:
        super().__init__(message)
        self.listing = listing


# Lines of source shown on each side of a SyntaxError's line, as pdb's `list` shows them.
LISTING_CONTEXT = 5


def _no_frames(dump: tbdump.Dump, exception: int) -> NoFrames:
    record = dump.exceptions[exception]
    detail = syntax_location(record)
    if detail is None or detail.lineno is None:
        return NoFrames(f"exception #{exception} was never raised: it has no frames to debug", [])
    source = dump.sources.get(detail.filename or "")
    lines = source.lines if source is not None and source.text is not None else []
    first = max(detail.lineno - LISTING_CONTEXT, 1)
    # pdb's `list` format; ">>" marks the line an exception points at, as in its post-mortem.
    listing = [f"{n:>3} {'>>' if n == detail.lineno else '  '}\t{lines[n - 1].rstrip()}"
               for n in range(first, min(detail.lineno + LISTING_CONTEXT, len(lines)) + 1)]
    return NoFrames(f"{detail.filename} did not compile, so none of its code ran: there is no frame "
                    f"to debug ({location_name(record, detail)}, line {detail.lineno})", listing)


def describe_chain(dump: tbdump.Dump, chosen: int = 0) -> List[str]:
    """One line per exception of the dump, numbered as ``--exception`` takes them; of a long
    chain or a big group, the first ones, the last two and ``chosen``, with a line for each gap."""
    links = {link.linked: _RELATIONS[link.relation].format(link.parent) for link in walk(dump.exceptions)}
    # Off the traceback, what links to what all the same: a context Python did not print
    # (`raise ... from None` in its handler), and the causes, contexts and members below it.
    for parent, record in enumerate(dump.exceptions):
        if record.suppress_context and record.context is not None:
            links.setdefault(record.context, _SUPPRESSED.format(parent))
        for link in links_of(dump.exceptions, parent):
            links.setdefault(link.linked, _RELATIONS[link.relation].format(parent))
    count = len(dump.exceptions)
    shown = range(count) if count <= LISTED else sorted({*range(LISTED - 3), count - 2, count - 1, chosen})
    lines = []
    last = -1
    for index in shown:
        if index > last + 1:
            lines.append(f"... {plural(index - last - 1, 'more exception')}: #{last + 1} to #{index - 1}")
        last = index
        record = dump.exceptions[index]
        how = "raised" if index == 0 else links.get(index, "chained")
        frames = len(exception_frames(dump, index))
        where = plural(frames, "frame") if frames else NEVER_RAISED
        lines.append(f"#{index} {exception_line(record)}  ({how}; {where})")
    return lines


# Exceptions listed at start-up, at most (Python's traceback prints 15 of a group's members):
# a group of 5 000 listed whole would scroll the traceback away.
LISTED = 15


_RELATIONS = {CAUSE: "the direct cause of #{}", CONTEXT: "being handled when #{} happened",
              MEMBER: "in exception group #{}"}
_SUPPRESSED = "being handled when #{} happened; suppressed: not in the traceback"


def _open_with_hook(hook: Debugger, dump: tbdump.Dump, exception: StandinException,
                    traceback: Optional[StandinTraceback]) -> None:
    """Call a hook that has no post-mortem entry as breakpoint() would.

    Its prompt then opens here, where ``dump``, ``exception`` and
    ``traceback`` are in reach, as in the seed's helper-script flow.
    """
    try:
        hook.hook()
    except (bdb.BdbQuit, _restart()):
        raise   # leaving the debugger: as for any other
    except Exception as exc:   # not a debugger (PYTHONBREAKPOINT=json.dumps): one line, as when it fails to import
        raise SessionError(f'$PYTHONBREAKPOINT "{hook.name}" fails when breakpoint() calls it: '
                           f'{type(exc).__name__}: {exc}') from None


def choose(dump: tbdump.Dump, exception: int) -> Tuple[StandinException, List[str]]:
    """The stand-in of exception #N, ready to debug, and the notes about the sources it shows."""
    if not 0 <= exception < len(dump.exceptions):
        raise SessionError(f"there is no exception #{exception}: this dump has "
                           f"{len(dump.exceptions)} (#0-#{len(dump.exceptions) - 1})")
    notes = install_sources(dump)
    chosen = standin_exceptions(dump)[exception]
    if chosen.__traceback__ is None:
        raise _no_frames(dump, exception)
    return chosen, notes


class _Escaping:
    """A text stream that writes everything through ``printable`` and is otherwise the stream
    it wraps: ``fileno()`` and ``isatty()`` answer as before, so ``input()`` still uses
    readline on a terminal (line editing, history, completion)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _escaped_output() -> Iterator[None]:
    """Everything printed meanwhile on stdout and stderr shows control characters as escapes.

    pdb prints the dump's strings (file and function names, source lines,
    variable names, what a value's ``repr`` returns, an ``interact`` traceback)
    from many places, and prints values built only when asked; escaping at the
    one place all of it leaves by covers every one, where escaping each string
    as it enters pdb would miss what is computed later, and would change the
    names pdb looks files and frames up by.
    """
    saved = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _Escaping(sys.stdout))
    sys.stderr = cast(TextIO, _Escaping(sys.stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def open_debugger(debugger: Debugger, dump: tbdump.Dump, chosen: StandinException,
                  commands: Sequence[str] = ()) -> None:
    """Start the debugger post-mortem on the chosen exception, at its crashing frame; plain pdb
    runs ``commands`` first, after its start-up files, as ``python -m pdb -c`` runs them.

    Plain pdb's output is escaped (``_escaped_output``); other debuggers draw
    with escape sequences of their own (ipdb's and pdb++'s colours, pudb's
    screen), which escaping would break, so what they print is theirs to render.
    """
    try:
        with _escaped_output() if debugger.plain_pdb else contextlib.nullcontext():
            if debugger.post_mortem is None:
                _open_with_hook(debugger, dump, chosen, chosen.__traceback__)
            elif debugger.plain_pdb:
                _pdb_post_mortem(chosen, dump, commands)
            elif debugger.takes_exc_info:
                debugger.post_mortem(chosen.__traceback__, type(chosen), chosen)
            else:
                debugger.post_mortem(chosen.__traceback__)
    except bdb.BdbQuit:
        pass  # some debuggers leave post-mortem by raising it; quitting is not an error
    except _restart() as restart:
        # pdb's `restart`/`run` raise it for `python -m pdb` to run the program again;
        # anywhere else it would end the viewer in a traceback.
        say(PROG, f"{_typed(_raised_by(restart), 'restart')}: a dump cannot be restarted; "
                  "the program is not running")


class _NoRestart(Exception):
    """Caught in place of pdb's Restart when no pdb was imported: nothing raises it."""


def _raised_by(restart: BaseException) -> Any:
    """The debugger whose command raised ``restart``: the ``self`` of pdb's ``do_run``, the
    innermost frame, in pdb and in the debuggers built on it (ipdb, pdb++)."""
    tb = restart.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_locals.get("self") if tb is not None else None


def _typed(session: Any, otherwise: str) -> str:
    """The command the user typed last, as the debugger recorded it (an alias expanded): `run`
    and `restart` are one command in pdb, and the user is told of the one typed."""
    lastcmd = getattr(session, "lastcmd", "")
    return lastcmd.split(maxsplit=1)[0] if isinstance(lastcmd, str) and lastcmd.strip() else otherwise


def _restart() -> Type[BaseException]:
    restart = getattr(sys.modules.get("pdb"), "Restart", None)
    return restart if isinstance(restart, type) and issubclass(restart, BaseException) else _NoRestart


def _replay_pdb(dump: tbdump.Dump, commands: Sequence[str]) -> Any:
    """pdb's Pdb, answering for a placeholder what it answered for the value it stands for."""
    import pdb   # the standard library's: plain_pdb is checked against it

    class ReplayPdb(pdb.Pdb, ExceptionsCommand):
        _ahead: Tuple[Any, ...] = ()

        def _getval(self, arg: str) -> Any:
            if self._ahead:
                (value,), self._ahead = self._ahead, ()
                return value
            return super()._getval(arg)

        def error(self, msg: str) -> None:
            # A name of a module whose globals the dump could not read is only "not defined" to
            # Python: say the globals are missing, as the dump's report and tbdap do.
            # str(): pdb hands some errors over as the exception itself (`ll` without source: an OSError).
            missing = unread_globals(str(msg), getattr(self.curframe, "f_globals", None) or {})
            if missing is not None:
                msg = "%s (this module's globals are not in the dump: %s)" % (msg, missing)
            super().error(msg)

        def _unless_placeholder(self, arg: str, command: Any, answer: Any) -> None:
            """Evaluate ``arg`` once, as pdb does; ``answer`` a placeholder (True: answered), or leave
            the value to pdb's own ``command``, which is handed it rather than evaluating again."""
            if not arg:
                command(arg)   # pdb's own usage line
                return
            try:
                value = self._getval(arg)
            except Exception:   # pdb has printed why, as for its own commands
                return
            if is_placeholder(value) and answer(value):
                return
            self._handed(command, arg, value)

        def _handed(self, command: Any, arg: str, value: Any) -> None:
            """pdb's ``command`` on ``arg``, handed ``value`` as what evaluating it gives: the
            program's code that ``arg`` calls ran once already."""
            self._ahead = (value,)
            try:
                command(arg)
            finally:
                self._ahead = ()

        def do_p(self, arg: str) -> None:
            self._type_call(arg, super().do_p)

        def do_pp(self, arg: str) -> None:
            self._type_call(arg, super().do_pp)

        def _type_call(self, arg: str, command: Any) -> None:
            """``p type(x)``: for a placeholder, the class the value had, as ``whatis`` names it
            (only that call is answered so: ``type(x).__name__`` is the placeholder's class)."""
            inner = _type_call_argument(arg)
            if inner is None or self._type_is_rebound():
                command(arg)
                return
            try:
                value = self._getval(inner)   # once, as `type(...)` would evaluate it
            except Exception:   # pdb has printed why, as it would have for the whole call
                return
            name = captured_class(value) if is_placeholder(value) else None
            self._handed(command, arg, _ClassText(name) if name is not None else type(value))

        def _type_is_rebound(self) -> bool:
            """Whether ``type`` names something else than the builtin in the current frame."""
            frame = self.curframe
            spaces = (getattr(self, "curframe_locals", None) or {}, getattr(frame, "f_globals", None) or {})
            return any("type" in space for space in spaces)

        def do_break(self, arg: str, temporary: Any = False) -> None:   # tbreak's too
            before = len(bdb.Breakpoint.bpbynumber)
            super().do_break(arg, temporary)
            if len(bdb.Breakpoint.bpbynumber) > before:
                # Set, as pdb sets it, for `debug`; a person expecting `continue` to reach it
                # would end the post-mortem instead.
                self.message(f"{PROG}: the program is not running: a breakpoint stops only "
                             "what `debug` runs")

        do_b = do_break

        def do_debug(self, arg: str) -> None:
            # The code `debug` runs has the crash frame's namespaces, where its pdb keeps books
            # that would outlast it: `__return__` (`where` then shows the crashed call as
            # returned, `div()->None`), `__exception__`, and (3.12+) the convenience variables,
            # which it clears as it ends ($_frame, $_exception, $name: NameError).
            with _books_kept([self.curframe_locals, *(frame.f_globals for frame, _ in self.stack)]):
                try:
                    super().do_debug(arg)
                finally:
                    # pdb ends `debug` by tracing again, as over a running program; a post-mortem
                    # traces nothing, and tracing would stop the session in the next Python code
                    # called (cmd.py's postcmd, _books_kept's exit), off the dump's frames, where
                    # `quit` raises BdbQuit out of the prompt.
                    sys.settrace(None)

        def do_whatis(self, arg: str) -> None:
            # pdb names type(value): for a placeholder, tbdump's class, not the one the value had.
            def captured(value: tbdump.Placeholder) -> bool:
                name = captured_class(value)
                if name is not None:
                    self.message(name)
                return name is not None

            def whatis(arg: str) -> None:
                handed = self._ahead   # (value,), or () with no argument (pdb's usage line)
                try:
                    pdb.Pdb.do_whatis(self, arg)
                except Exception:
                    # pdb asks `value.__class__ is type` outside any try: a lazy proxy whose
                    # __class__ property raises (what it stands for is on a server not here) ended
                    # the session in that traceback, as it ends pdb's own.  Its answer for a value
                    # that is no class, which asks nothing of the value.
                    self.message(str(type(handed[0])))
            self._unless_placeholder(arg, whatis, captured)

        def do_source(self, arg: str) -> None:
            # inspect's answer for a placeholder, "module, class, method, function, ... was
            # expected, got Placeholder", does not say that the object is not in the dump.
            def missing(value: tbdump.Placeholder) -> bool:
                self.error(f"source code not available: {arg} is a placeholder for the value: {value!r}")
                return True

            def source(arg: str) -> None:
                locate_class(self._ahead[0] if self._ahead else None)   # 3.13's inspect needs it
                pdb.Pdb.do_source(self, arg)
            with crashed_main(dump):
                self._unless_placeholder(arg, source, missing)

    for name, command in vars(ReplayPdb).items():
        if name.startswith("do_") and command.__doc__ is None:
            command.__doc__ = getattr(pdb.Pdb, name).__doc__   # pdb's `help` for its command
    session = ReplayPdb(readrc=False)
    session.rcLines = _rc_lines() + list(commands)   # as pdb's main() extends them with -c's
    return session


# What pdb writes into the namespaces of the frames it stops in.
_CONVENIENCE = "__pdb_convenience_variables"
_BOOKS = ("__return__", "__exception__", _CONVENIENCE)


@contextlib.contextmanager
def _books_kept(namespaces: Iterable[Any]) -> Iterator[None]:
    """Each namespace's _BOOKS as they were before, after whatever pdb wrote there meanwhile
    (its convenience variables copied: pdb changes that dict in place)."""
    unique = {id(space): cast(Dict[str, Any], space) for space in namespaces}.values()
    kept = [(space, {name: dict(space[name]) if name == _CONVENIENCE else space[name]
                     for name in _BOOKS if name in space}) for space in unique]
    try:
        yield
    finally:
        for space, books in kept:
            for name in _BOOKS:
                space.pop(name, None)
            space.update(books)


def _rc_lines() -> List[str]:
    """The lines of pdb's start-up files, read as Pdb() reads them (~/.pdbrc, then ./.pdbrc),
    except that one it cannot decode is named in one line and left out: pdb would end in a
    UnicodeDecodeError traceback."""
    lines: List[str] = []
    for path in (os.path.expanduser("~/.pdbrc"), ".pdbrc"):
        try:
            with open(path, encoding="utf-8" if sys.version_info >= (3, 11) else None) as rc:
                lines.extend(rc)
        except OSError:
            pass
        except UnicodeDecodeError as exc:
            say(PROG, f"{path}: not read: it is not {exc.encoding} text (byte {exc.start}: {exc.reason})")
    return lines


class _ClassText:
    """Prints as ``type()`` of a value prints (``<class 'socket.socket'>``), for a class that
    is not here to print itself: the one a placeholder's value had."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def _type_call_argument(arg: str) -> Optional[str]:
    """The source of X when ``arg`` is exactly ``type(X)`` (one argument, no keywords), else None."""
    try:
        node = ast.parse(arg.strip(), mode="eval").body
    except (SyntaxError, ValueError):   # also text Python cannot compile: pdb says why
        return None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type"
            and len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], ast.Starred)):
        return ast.unparse(node.args[0])
    return None


def _pdb_post_mortem(exception: StandinException, dump: tbdump.Dump, commands: Sequence[str]) -> None:
    """What 3.13's pdb.post_mortem(exception) does, on every Python version (its `exceptions`
    command too), keeping the Pdb to ask how it ended.

    ``next``, ``step``, ``continue``, ``until`` and ``return`` end pdb's
    post-mortem without quitting (in ``python -m pdb`` they run the program
    again); a dump has no program to run on, and its user is told so.
    """
    session = _replay_pdb(dump, commands)
    session.reset()
    session.post_mortem_of(exception)
    if not session.quitting:
        say(PROG, f"{_typed(session, 'that command')}: the program is not running, so it cannot go on; "
                  "the post-mortem has ended")


def debug(dump: tbdump.Dump, exception: int = 0) -> None:
    """Open the debugger on exception #N of the dump (0: the one raised) at its crashing frame.

    The debugger is the one PYTHONBREAKPOINT names; with PYTHONBREAKPOINT=0
    nothing is opened, as breakpoint() would do.  For the seed's helper-script
    flow: ``dump = tbdump.load(...)``, then ``tbdebug.debug(dump)``.
    """
    debugger = find_debugger()
    if debugger is not None:
        open_debugger(debugger, dump, choose(dump, exception)[0])
