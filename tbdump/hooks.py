"""The ways a program hands its crash to tbdump: a hook, or a call in an ``except`` block."""
from __future__ import annotations

import atexit
import functools
import glob
import os
import re
import sys
import threading
import traceback
import types
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

from . import unpatched
from .budget import Budgets, Watchdog, abandon_main_capture
from .capture import type_display
from .chain import get_slot, set_slot
from .container import remove_unfinished
from .greenlets import follow_greenlets
from .heldsignals import deliver, held_to_the_end
from .ipythonshell import above_uncaught_script, follow_ipython
from .loaded import loaded
from .model import not_captured
from .native import in_main_thread, task_ident
from .placeholder import Placeholder
from .prompt import prompt_follows, prompt_running
from .redaction import Redaction
from .reduction import DUMP_REDUCERS
from .settings import Key
from .writer import (DEFAULT_FILENAME, DumpWriteError, SignalsArrived, dumped_line, not_written_line, write_dump,
                     write_minimal)


# The code of ``python -m tbdump``'s runner and of what called it, when it runs the program:
# a dump_exception() of the program leaves out those frames above its handler, as a crash's
# dump does (the runner reads them as its own).
_RUNNER_CODES: Set[types.CodeType] = set()


def run_by_runner(codes: Iterable[types.CodeType]) -> None:
    """The program is run by ``python -m tbdump``, whose frames are ``codes``."""
    _RUNNER_CODES.update(codes)


def dump_exception(exc: BaseException, filename: str = DEFAULT_FILENAME, *,
                   threads: bool = False, budgets: Optional[Budgets] = None,
                   redaction: Optional[Redaction] = None, key: Optional[Key] = None,
                   above_handler: bool = True) -> str:
    """Dump ``exc`` (and the frames above the handler) to ``filename``; returns the path.

    ``above_handler=False`` leaves out those frames: the dump's stack is the traceback's
    (a test runner's frames above a test are not the test's).
    Raises DumpWriteError when no file can be written there.  Signals that come while it
    captures reach the program once the file is written, as during any call: a Ctrl-C's
    KeyboardInterrupt, or a SIGTERM handler's SystemExit, comes out of here (a Ctrl-C or
    SIGTERM first cuts the capture short: the dump holds what it had, marked partial).
    """
    return dump_delivering(exc, filename, other_threads=threads, above_handler=above_handler,
                           **capture_options(budgets, redaction, key))


def capture_options(budgets: Optional[Budgets], redaction: Optional[Redaction], key: Optional[Key]) -> Dict[str, Any]:
    """The options every way of dumping takes, checked where the program gives them: one of
    the wrong kind (a dict of budgets) found only at the crash would cost it its dump."""
    for name, value, kind, named in (("budgets", budgets, Budgets, "tbdump.budget.Budgets"),
                                     ("redaction", redaction, Redaction, "tbdump.redaction.Redaction"),
                                     ("key", key, (bytes, str), "bytes or str")):
        if value is not None and not isinstance(value, kind):
            raise TypeError("%s= takes a %s or None, not %s" % (name, named, type(value).__name__))
    return {"budgets": budgets, "redaction": redaction, "key": key}


def dump_delivering(exc: BaseException, filename: str, **options: Any) -> str:
    """``write_dump(exc, filename, **options)`` for a program that goes on: the signals held
    meanwhile are delivered after it, and the runner's frames are left out."""
    try:
        return write_dump(exc, filename, skip_codes=_RUNNER_CODES, **options)
    except SignalsArrived as arrived:
        deliver(arrived.signals)
        return arrived.path


def left_out(kind: str, what: str) -> Any:
    """A hook of tbdump's as a dump holds it: a placeholder.  Restored, it would set tbdump up
    in the viewer that opens the dump, and it holds the signing key."""
    return Placeholder, (kind, not_captured("tbdump's own hook, not the program's"), "<tbdump's %s>" % what)


def exception_summary(exc: BaseException) -> str:
    """The last line(s) Python prints for ``exc``: ``ZeroDivisionError: division by zero``, and
    its notes below (from 3.11 on Python's own; before, as 3.11 shows them: see _notes_before_311)."""
    try:
        return "".join(traceback.format_exception_only(type(exc), exc)) + _notes_before_311(exc)
    except BaseException:  # a class whose attributes raise: the line pythonrun.c prints
        try:
            text = str(exc)
        except BaseException:
            text = "<exception str() failed>"
        name = type_display(type(exc))
        return "%s: %s\n" % (name, text) if text else name + "\n"


def _notes_before_311(exc: BaseException) -> str:
    """Before 3.11 Python prints no notes, yet exceptions have them: those exceptiongroup's
    add_note() makes (which prints them), a doctest's failed example.  The lines 3.11 prints."""
    notes = getattr(exc, "__notes__", None)
    if unpatched.version_info >= (3, 11) or not isinstance(notes, (list, tuple)):
        return ""
    return "".join(line + "\n" for note in notes for line in _note_text(note).split("\n"))


def _note_text(note: Any) -> str:
    try:
        return str(note)
    except BaseException:
        return "<note str() failed>"


class DumpTarget:
    """Where a hook set up now writes a later crash: the file named relative to the
    working directory of today, though the program may change directory before it
    crashes.  It is reported by the name given while that directory stays current.

    The first crash of the process that set the hook up takes that name; any other crash,
    a later one of that process (another thread's) or one of a child process (os.fork,
    multiprocessing), gets ``traceback.<pid>.pkl``, and that pid's later ones
    ``traceback.<pid>-2.pkl``, ``-3``...: no crash overwrites another's dump and every
    "Traceback dumped into" stays true.  Those are MORE_DUMPS a run at most (see claim)."""

    def __init__(self, filename: str) -> None:
        self.given = os.fspath(filename)
        self.cwd = _cwd()
        self.pid = unpatched.getpid()
        self.since = unpatched.wall_time()
        self._first: Dict[str, object] = {}
        # The names claimed under a pid, by that pid: a forked child inherits its parent's.
        self._claimed: Dict[int, List[str]] = {}
        self._written: Dict[int, List[str]] = {}   # of those, the ones given to a dump, oldest first
        self._gone: Set[str] = set()              # dumps removed to keep a session's latest

    @classmethod
    def of(cls, filename: Union[str, "DumpTarget"]) -> "DumpTarget":
        return filename if isinstance(filename, DumpTarget) else cls(filename)

    def claim(self, latest: bool = False) -> Optional["Claim"]:
        """Where the crash reported now goes; None when MORE_DUMPS crashes of this run have
        taken a pid's name already (the first ones are kept: the root cause, not its echoes).
        ``latest``: a crash at a prompt, the session going on, made by a person one at a time:
        the oldest of this process's dumps goes instead, so the latest MORE_DUMPS are kept.

        A pid's name is made exclusively (O_EXCL), empty until the dump replaces it: of
        crashes at once, in this process or another, each gets a name of its own."""
        token = object()
        # setdefault is atomic: of two threads crashing at once, one takes the name.
        if not _in_child_process(self.pid) and self._first.setdefault("claim", token) is token:
            return Claim(self._at(self.given), self.given, self.cwd, made=False)
        pid = unpatched.getpid()
        with _claiming[0]:  # counted and made as one step: 30 threads at once take 20 names
            mine = self._claimed.setdefault(pid, [])
            written = self._written.setdefault(pid, [])
            held = self._of_this_run().union(mine) - self._gone
            while latest and len(held) >= MORE_DUMPS and written:
                oldest = written.pop(0)
                _remove(self._at(oldest))
                self._gone.add(oldest)
                held.discard(oldest)
            taken = len(held)
            while taken < MORE_DUMPS:
                name = _with_pid(self.given, pid, len(mine) + 1)
                mine.append(name)
                made = _reserve(self._at(name), self.since)
                if made is not None:
                    written.append(name)
                    return Claim(self._at(name), name, self.cwd, made)
                taken += 1  # a dump of this run holds that name (an earlier process with this pid)
        return None

    def _at(self, name: str) -> str:
        return os.path.join(self.cwd, name) if self.cwd else name

    def _of_this_run(self) -> Set[str]:
        """The names under a pid that dumps of this run hold (also the files made for dumps
        being written), wherever they came from."""
        root, ext = os.path.splitext(self.given)
        # Only a pid's names: with `-o crash` the pattern crash.* also finds the program's crash.log.
        ours = re.compile(r"%s\.\d+(-\d+)?%s\Z" % (re.escape(os.path.basename(root)), re.escape(ext)))
        found = set()
        for path in glob.glob(glob.escape(self._at(root)) + ".*" + glob.escape(ext)):
            if not ours.match(os.path.basename(path)):
                continue
            try:
                if unpatched.osimpl.stat(path).st_mtime >= self.since:
                    found.add(os.path.join(os.path.dirname(self.given), os.path.basename(path)))
            except OSError:
                pass
        return found


class Claim:
    """A crash's file: ``path`` to write, and the name the message gives it (``shown()``).
    ``made``: an empty file was made to hold the name, which goes if no dump replaces it."""

    def __init__(self, path: str, name: str, cwd: Optional[str], made: bool) -> None:
        self.path, self._name, self._cwd, self._made = path, name, cwd, made
        if made:
            _HELD[path] = unpatched.getpid()

    def shown(self) -> str:
        return self._name if _cwd() == self._cwd else self.path

    def done(self) -> None:
        """The crash is reported: its dump is in place, or the empty file made for it is
        removed."""
        _HELD.pop(self.path, None)
        if self._made:
            _remove(self.path, if_empty=True)


# Beside the first crash's: a thread that fails again and again, or a worker that a supervisor
# restarts each time it crashes, must not fill the disk.
MORE_DUMPS = 20
# The empty files made for crashes still being reported, with the pid reporting each: a process
# that ends meanwhile (its daemon threads stopped, the watchdog's os._exit) removes them.
_HELD: Dict[str, int] = {}


def _remove(path: str, if_empty: bool = False) -> None:
    try:
        if not if_empty or unpatched.osimpl.stat(path).st_size == 0:
            unpatched.osimpl.unlink(path)
    except OSError:
        pass


def remove_held() -> None:
    """Remove this process's files made for crashes whose dumps are not in place."""
    for path, pid in list(_HELD.items()):
        if pid == unpatched.getpid():
            _remove(path, if_empty=True)


def _with_pid(name: str, pid: int, number: int) -> str:
    """``traceback.<pid>.pkl`` for a pid's first crash, ``traceback.<pid>-<number>.pkl`` after."""
    root, ext = os.path.splitext(name)
    return "%s.%d%s%s" % (root, pid, "" if number == 1 else "-%d" % number, ext)


def _reserve(path: str, since: float) -> Optional[bool]:
    """Take ``path`` for a crash's dump: True when made now (empty, this crash's alone), False
    when taken as it is (an earlier run's dump, replaced as ``traceback.pkl`` is; a folder of
    the path missing, which the dump's writer makes; or no file can be made there, which the
    writer says), None when a dump of this run holds it."""
    try:
        unpatched.osimpl.close(unpatched.osimpl.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600))
    except FileExistsError:
        try:
            return None if unpatched.osimpl.stat(path).st_mtime >= since else False
        except OSError:  # a dangling symlink: written through, as the writer does
            return False
    except OSError:
        return False
    return True


# One per process: a child forked while a thread of its parent claimed must not wait for it.
_claiming = [threading.Lock()]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _claiming.__setitem__(0, threading.Lock()))
# Before the interpreter stops its daemon threads, which may wait to dump a crash.
atexit.register(remove_held)


def _in_child_process(pid: int) -> bool:
    """Whether this is a child of process ``pid``, which set the hook up."""
    if unpatched.getpid() != pid:
        return True
    # A spawned child that set its hook up itself (importing the program's main module again).
    parent_process = loaded("multiprocessing.process", "parent_process")
    return parent_process is not None and parent_process() is not None


def _file_id(path: str) -> Optional[Tuple[int, int]]:
    """The file at ``path`` (device, inode), None when there is none: a dump renamed into place is
    another file."""
    try:
        found = unpatched.osimpl.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _cwd() -> Optional[str]:
    try:
        return unpatched.getcwd()
    except OSError:  # the directory was removed: relative paths name nothing
        return None


def report_crash(exc: BaseException, filename: Union[str, DumpTarget], *, skip_codes: Iterable[types.CodeType] = (),
                 thread: Optional[threading.Thread] = None, summary: bool = True,
                 silent: bool = False, budgets: Optional[Budgets] = None,
                 redaction: Optional[Redaction] = None, key: Optional[Key] = None,
                 end: Optional[Callable[[], None]] = None, other_threads: bool = True,
                 python_report: Optional[Callable[[], None]] = None, above_handler: bool = True,
                 goes_on: Optional[Callable[[List[int]], None]] = None, latest: bool = False) -> Optional[str]:
    """Dump ``exc`` and say so on stderr as the seed README shows; raises nothing of its own.

    ``summary=False`` leaves out the exception line (when a traceback was printed);
    ``other_threads=False`` the stacks of the threads that did not crash;
    ``above_handler=False`` the frames that called the one catching ``exc``.
    ``python_report``: what Python prints for this crash, which the exception line stands
    in for; printed in its stead when no dump is written (by default Python's traceback,
    under "Exception in thread ..." for a thread's crash), so no crash goes unreported.
    ``end``: how the process ends after this report (an uncaught exception in the
    main thread).  Capture there is interrupted by an alarm, which user code can
    swallow in a loop; if capture is still running GIVE_UP_SECONDS past its time
    budget, a minimal dump is written instead and ``end`` is called from another
    thread, so the program ends as it would have rather than hang.
    Without ``end`` the program goes on (a thread's crash, captured in its own OS thread, which
    leaves a hung value behind): the signals held while the dump was written are delivered after the report,
    and what the program's handlers raise then (a Ctrl-C's KeyboardInterrupt) is all this ever
    raises.
    ``goes_on``: the program goes on after this crash of the main thread (Python's prompt
    follows, IPython's next cell, gevent's other greenlets): how the held signals are delivered
    then (deliver_at_prompt, or deliver, which raises what they raise), and a capture that hangs
    is given up on with its minimal dump but ends nothing: the program goes on if the code that
    holds the thread ever lets go, and the signals held from then on reach the program (unless
    that thread is stuck in C code, which runs no signal handler: ``end`` ends it then).
    ``latest``: a person makes these crashes one at a time (a line typed at a prompt, an
    IPython cell): past the bound the session's latest dumps are kept (see DumpTarget.claim).
    """
    target = DumpTarget.of(filename)

    def say(message: str, dumped: bool = True) -> None:
        if silent:
            return
        if summary and not dumped:
            (python_report or functools.partial(_python_report, exc, thread))()
            stderr_write(message)
        else:
            stderr_write((exception_summary(exc) if summary else "") + message)

    claim = target.claim(latest=latest)
    if claim is None:
        root, ext = os.path.splitext(target.given)
        say("tbdump: not dumped: %d crashes of this run have dumped into %s.*%s already\n"
            % (MORE_DUMPS, root, ext), dumped=False)
        return None
    where, shown = claim.path, claim.shown

    def dumped(why: str = "") -> str:
        return dumped_line(shown(), why) + "\n"

    held: List[int] = []
    given_up: List[Optional[str]] = []  # the watchdog's dump (None: not written), once it gave up
    watchdog: Optional[Watchdog] = None
    if end is not None:
        before = _file_id(where)
        capturing = task_ident()

        def give_up() -> None:
            # The stuck capture's half-written file first: from then on no dump of it can take
            # the name, so whether one took it already is settled.  Its thread's alone: another
            # thread's dump may be under way, which the program going on (a prompt) still gets.
            remove_unfinished(capturing)
            written: Optional[str] = where
            if _file_id(where) != before:
                # The capture finished as its time ran out, its whole dump in place: it stands.
                # What holds the main thread past it (a gc callback) may never let go: it is given
                # up on all the same.
                say(dumped())
            else:
                why = "capture was still running %g s after its time budget (code in a value " \
                      "kept it from being interrupted)" % GIVE_UP_SECONDS
                try:
                    written = write_minimal(exc, where, why, key, redaction)
                    say(dumped(why))
                except BaseException as err:
                    written = None
                    # Its empty file goes now: at a prompt the session goes on, and the stuck code
                    # may never let go of the main thread (the session then ended by SIGTERM or SIGHUP).
                    claim.done()
                    say(_not_dumped(err, shown))
            given_up.append(written)
            # At a prompt the session goes on if the code holding the main thread ever lets go.
            if not (goes_on and abandon_main_capture(capturing, GIVE_UP_SECONDS)):
                remove_held()  # the names other threads' crashes wait to dump into
                remove_unfinished()  # and the files of those being written, which end with it
                end()
        try:
            watchdog = Watchdog((budgets or Budgets.from_env()).max_seconds + GIVE_UP_SECONDS, give_up)
        except BaseException:
            # Out of memory (a MemoryError's crash) or of threads: capture goes on without
            # its watchdog rather than lose the dump.
            watchdog = None
    try:
        path: Optional[str] = write_dump(exc, where, skip_codes=skip_codes, thread=thread,
                                         budgets=budgets, redaction=redaction, key=key,
                                         other_threads=other_threads, above_handler=above_handler,
                                         ends_process=end is not None and goes_on is None)
        message = dumped()
    except SignalsArrived as arrived:
        # Where the process ends, the crash ends it as it would have: a Ctrl-C or SIGTERM
        # only cut its dump short.
        path, held = arrived.path, arrived.signals
        message = dumped("partial: capture interrupted by %s" % arrived.stopped_by if arrived.stopped_by else "")
    except BaseException as err:  # never let the dump change the crash
        path, message = None, _not_dumped(err, shown)
    finally:
        try:
            if watchdog is not None:
                # Gone before the program ends: a daemon thread left holding the exception
                # would keep its frames' objects alive through shutdown (no __del__ runs).
                watchdog.finish()
        finally:
            # Settled whatever comes now: a Ctrl-C once capture no longer holds it raises its
            # KeyboardInterrupt here, and left a crash whose dump failed its empty name till exit.
            claim.done()
    if not given_up:  # else said by the watchdog, the signals held since delivered as capture was abandoned
        say(message, dumped=path is not None)
    if end is None:
        deliver(held)
    elif goes_on is not None:
        goes_on(held)
    return given_up[0] if given_up else path


def deliver_at_prompt(signums: List[int]) -> None:
    """Deliver the signals held while a crash was dumped, Python's prompt to follow: SIGTERM's
    default action ends the session as it would have.  What a handler raises (a Ctrl-C's
    KeyboardInterrupt) is said as the prompt ends a line's traceback, for raised out of
    sys.excepthook it would be "Error in sys.excepthook" and a traceback through tbdump; a
    SystemExit (a SIGTERM handler's sys.exit()) is raised on where the prompt runs, which it
    ends as a typed sys.exit() does, and said before ``python -i`` opens its prompt, as Python
    says a program's."""
    try:
        deliver(signums)
    except BaseException as err:
        if isinstance(err, SystemExit) and prompt_running():
            raise
        stderr_write(exception_summary(err))


GIVE_UP_SECONDS = 5.0


def _not_dumped(err: BaseException, shown: Callable[[], str]) -> str:
    """Why a crash has no dump, its file named as ``shown()`` names it."""
    if type(err) is DumpWriteError:   # tbdump's own: its reason, in the writer's words
        return not_written_line(shown(), err.reason) + "\n"
    try:
        text = str(err)
    except BaseException:
        text = ""
    # A bare "MemoryError" as Python names it, not "MemoryError: ".
    what = "%s: %s" % (type(err).__name__, text) if text else type(err).__name__
    return "tbdump: failed to dump traceback (%s)\n" % what


def going_on(exc: BaseException) -> Dict[str, Any]:
    """report_crash's options for a crash the program goes on from, captured in the main OS thread
    (an IPython cell's, a gevent greenlet's): a capture that hangs there is given up on, and what
    the signals held for it raise (the kernel's interrupt) comes out of report_crash."""
    return {"end": end_uncaught(exc), "goes_on": deliver}


def end_uncaught(exc: BaseException) -> Callable[[], None]:
    """How the watchdog ends the process after ``exc`` went uncaught in the main thread and its
    capture hung: status 1, or 130 after a KeyboardInterrupt (output flushed first).  Python
    would die of SIGINT there; the watchdog's thread cannot make it (only the main thread may
    restore SIGINT's default action, and it is the one stuck), so it exits with the status a
    shell gives a process SIGINT ended."""
    def end() -> None:
        _flush_std()
        os._exit(130 if issubclass(type(exc), KeyboardInterrupt) else 1)
    return end


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _python_report(exc: BaseException, thread: Optional[threading.Thread]) -> None:
    """What Python prints for ``exc`` uncaught, in ``thread`` (threading's default hook) or
    in the main thread (or a multiprocessing child, which prints the same)."""
    if thread is not None:
        stderr_write("Exception in thread %s:\n" % thread.name)
    print_python_traceback(exc)


def print_python_traceback(exc: BaseException) -> None:
    """Exactly what Python prints for an uncaught exception."""
    try:
        sys.__excepthook__(type(exc), exc, get_slot(exc, "__traceback__"))
    except BaseException:
        pass


def stderr_write(text: str) -> None:
    """Say ``text`` on sys.stderr; where the program broke that (closed it, or set one that
    raises), on file descriptor 2, where Python then writes its own "lost sys.stderr".  A
    stderr of None (pythonw, a daemon) hears nothing, as from Python."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(text)
    except BaseException:
        try:
            os.write(2, text.encode(sys.getfilesystemencoding(), "backslashreplace"))
        except BaseException:
            pass
        return
    try:
        stream.flush()
    except BaseException:  # a stream of the program's with no flush(): what it took is said
        pass


def set_excepthook(filename: str = DEFAULT_FILENAME, replace: bool = True, silent: bool = False,
                   threads: bool = True, *, processes: bool = True, budgets: Optional[Budgets] = None,
                   redaction: Optional[Redaction] = None, key: Optional[Key] = None) -> None:
    """Dump every uncaught exception (main thread, ``threading`` threads and, with
    ``processes``, ``multiprocessing`` children) to ``filename``; a child process's
    crash, or a later one of this process, to ``filename`` with its pid before the
    suffix (see DumpTarget).

    ``replace=False`` also runs the hooks installed before (which print Python's
    traceback); ``silent=True`` prints nothing; ``budgets``, ``redaction`` and
    ``key`` are as for ``dump_exception``.

    Under IPython (its prompt, a Jupyter kernel), which shows a cell's exception itself and
    never calls sys.excepthook, each cell's crash is dumped too, after IPython's traceback, and
    so is the crash of a script IPython runs (``ipython script.py``, ``%run``).
    """
    options = capture_options(budgets, redaction, key)
    previous = sys.excepthook
    target = DumpTarget(filename)

    def excepthook(exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        if exc is None:
            exc = exc_type()
        if not replace:
            previous(exc_type, exc, tb)
        # The stack is the traceback, as Python's hook prints it: what calls a hook holds no
        # frame of the program's, but the REPL's own (Python code from 3.13 on).
        at_prompt = prompt_follows()
        # Else the crash ends the process, unless the program called the hook itself and goes on.
        give_back = (lambda: None) if at_prompt or _main_code_runs() else held_to_the_end()
        report_crash(exc, target, summary=replace, silent=silent, end=end_uncaught(exc), above_handler=False,
                     skip_codes=above_uncaught_script(exc, tb), goes_on=deliver_at_prompt if at_prompt else None,
                     latest=at_prompt, **options)
        give_back()

    hook = Hook(excepthook, "sys.excepthook")
    hook.tbdump_hook = True  # python -m tbdump dumps in its stead
    sys.excepthook = hook

    def cell_crash(exc: BaseException, ipython_codes: Iterable[types.CodeType]) -> None:
        # A cell's or a script's crash, after IPython's own traceback, whatever ``replace``: a
        # cell's output is all a notebook keeps of its crash.  The session goes on, and what the
        # signals held for the dump raise (the kernel's interrupt) IPython shows as a cell's exception.
        report_crash(exc, target, summary=False, silent=silent, skip_codes=ipython_codes, above_handler=False,
                     latest=True, **going_on(exc), **options)
    follow_ipython(Hook(cell_crash, "report of a crash IPython shows"))
    if threads:
        set_thread_excepthook(target, replace, silent, **options)
    if processes:
        follow_processes(target, replace, silent, **options)


def set_thread_excepthook(filename: Union[str, DumpTarget] = DEFAULT_FILENAME, replace: bool = True,
                          silent: bool = False, **options: Any) -> None:
    """Dump uncaught exceptions of ``threading`` threads, and of gevent's greenlets; see
    ``set_excepthook``."""
    previous = threading.excepthook
    target = DumpTarget.of(filename)

    def thread_excepthook(args: Any) -> None:
        if args.exc_type is SystemExit:
            return
        if not replace:
            previous(args)
        exc = args.exc_value if args.exc_value is not None else args.exc_type()
        # Under gevent or eventlet a thread is a greenlet of the main OS thread, as capture then.
        hangs = going_on(exc) if in_main_thread() else {}
        report_crash(exc, target, thread=args.thread, summary=replace, silent=silent, **hangs, **options)

    def greenlet_crash(exc: BaseException, as_gevent: Callable[[], None]) -> None:
        # A gevent greenlet's crash is a thread's: its "... failed with ..." report is
        # Python's "Exception in thread", which replace leaves out.  Yet its capture runs in the
        # main thread, where a value may hang it: given up on, the program goes on as at a prompt.
        if not replace:
            as_gevent()
        report_crash(exc, target, summary=replace, silent=silent, python_report=as_gevent, **going_on(exc),
                     **options)

    threading.excepthook = Hook(thread_excepthook, "threading.excepthook")
    follow_greenlets(Hook(greenlet_crash, "report of a gevent greenlet's crash"))


def _main_code_runs() -> bool:
    """Whether the program's main module still runs below this call: a program that calls
    sys.excepthook itself (a Qt application's slot, a logger) goes on after it, and Python
    calls it for an uncaught exception once that code is gone."""
    frame = unpatched.getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            return True
        frame = frame.f_back
    return False


class Hook:
    """A hook tbdump installs: calls ``handle``; in a dump, a placeholder (``left_out``).

    Every Thread holds the ``threading.excepthook`` of its start (in its
    ``_invoke_excepthook`` closure), so any dump holding threads holds the hook.  As a
    closure it was pickled by value with everything it names, once per thread: a
    server's 300 threads took the whole time budget.
    """

    tbdump_hook = False

    def __init__(self, handle: Callable[..., Any], what: str) -> None:
        self._handle = handle
        self._what = what

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._handle(*args, **kwargs)

    def __repr__(self) -> str:
        return "<tbdump's %s>" % self._what


class _Following:
    """How the multiprocessing children of this process dump their crash, as the hook
    set up here would: ``Process._bootstrap`` catches a child's exception and prints it
    itself, so no excepthook ever sees it."""

    def __init__(self, target: DumpTarget, replace: bool, silent: bool, other_threads: bool,
                 skip_codes: Iterable[types.CodeType], options: Dict[str, Any], log_dumps: Optional[str]) -> None:
        self.target, self.replace, self.silent = target, replace, silent
        self.other_threads, self.skip_codes, self.options = other_threads, skip_codes, options
        self.log_dumps = log_dumps

    def __reduce__(self) -> Any:
        # Pickled with the Process object that a spawn or forkserver child unpickles before it
        # runs: the child follows its own children too.  Code objects stay behind (they are
        # the parent's runner frames, which a spawned child does not have).
        return _arrive, (self.target, self.replace, self.silent, self.other_threads, self.options, self.log_dumps)

    def wrap(self, process: Any) -> None:
        """Make ``process.run`` dump what it raises, then end as ``_bootstrap`` ends it: status 1."""
        target = getattr(process, "_target", None)
        if getattr(target, "__module__", None) == "multiprocessing.pool" and \
                getattr(target, "__name__", None) == "worker":
            # A Pool worker hands its tasks' exceptions to the parent (dumped there); what ends
            # the worker itself is Ctrl-C or a failing initializer, which Pool answers with a new
            # worker, forever: a dump each would fill the disk.
            return
        run = process.run

        def run_dumped() -> None:
            try:
                run()
            except SystemExit:
                raise
            except BaseException as exc:
                give_back = held_to_the_end()  # the crash ends the process
                self.report(process, exc, unpatched.getframe(1))
                ending = SystemExit(1)  # what _bootstrap makes of any other exception
                give_back()
                raise ending from None

        process.run = run_dumped

    def report(self, process: Any, exc: BaseException, bootstrap: types.FrameType) -> None:
        # The traceback as _bootstrap prints it: from its ``self.run()``, without run_dumped
        # (set as a raise sets it: the exception's class may refuse attributes).
        tb = exc.__traceback__
        set_slot(exc, "__traceback__", types.TracebackType(tb.tb_next if tb else None, bootstrap,
                                                           bootstrap.f_lasti, bootstrap.f_lineno))
        if not self.silent:
            stderr_write("Process %s:\n" % process.name)
            if not self.replace:
                try:
                    traceback.print_exception(type(exc), exc, exc.__traceback__)
                except BaseException:
                    pass
        report_crash(exc, self.target, summary=self.replace, silent=self.silent, end=_end_child,
                     other_threads=self.other_threads, skip_codes=self.skip_codes, **self.options)


def _end_child() -> None:
    _flush_std()
    os._exit(1)


_following: Optional[_Following] = None
_unfollowed: Dict[str, Any] = {}  # BaseProcess's own start and _bootstrap, once patched


def follow_processes(target: DumpTarget, replace: bool, silent: bool, other_threads: bool = True,
                     skip_codes: Iterable[types.CodeType] = (), log_dumps: Optional[str] = None,
                     **options: Any) -> None:
    """Dump the crash of every ``multiprocessing`` child started from now on into
    ``target`` with the child's pid in its name (fork, spawn and forkserver alike).
    ``log_dumps``: the directory where a spawned child dumps what it logs, as
    ``--log-dumps`` set up here (a forked one inherits that set-up)."""
    global _following
    from multiprocessing import process
    # The frames above the child's _bootstrap are multiprocessing's and, after a fork, the parent's.
    skip = set(skip_codes) | {_bootstrap_followed.__code__}
    _following = _Following(target, replace, silent, other_threads, skip, options, log_dumps)
    if not _unfollowed:  # patched once; the settings are read at each child's start
        base = process.BaseProcess
        _unfollowed.update(start=base.start, bootstrap=getattr(base, "_bootstrap"))
        base.start = _start_followed  # type: ignore[method-assign]
        setattr(base, "_bootstrap", _bootstrap_followed)  # private: not in typeshed


def _start_followed(self: Any) -> None:
    self._tbdump_following = _following  # travels to a spawned child with the Process object
    _unfollowed["start"](self)


def _bootstrap_followed(self: Any, *args: Any, **kwargs: Any) -> Any:
    # In the child: a forked one inherits this patch, a spawned one made it unpickling.
    if _following is not None:
        _following.wrap(self)
    return _unfollowed["bootstrap"](self, *args, **kwargs)


# A dump holds tbdump's hooks as placeholders.  A Process object among a crash's values holds
# its _Following, which a spawned child's pickling of it carries whole (its __reduce__).
DUMP_REDUCERS[Hook] = lambda hook: left_out("function", hook._what)
DUMP_REDUCERS[_Following] = lambda following: left_out("_Following", "following of multiprocessing children")


def _arrive(target: DumpTarget, replace: bool, silent: bool, other_threads: bool,
            options: Dict[str, Any], log_dumps: Optional[str] = None) -> None:
    """In a spawned child: follow as the parent did, its threads, its own children and, under
    ``--log-dumps``, what it logs (uvicorn's ``--workers`` are spawned)."""
    set_thread_excepthook(target, replace, silent, other_threads=other_threads, **options)
    if log_dumps is not None:
        from .loghandler import dump_logged   # which imports this module
        dump_logged(log_dumps)
    follow_processes(target, replace, silent, other_threads, log_dumps=log_dumps, **options)
