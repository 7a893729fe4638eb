"""``python -m tbdump``: run a script, module or command as ``python`` would, dumping its crash."""
from __future__ import annotations

import builtins
import contextlib
import importlib.machinery
import importlib.util
import linecache
import marshal
import os
import runpy
import shlex
import zipfile
import sys
import types
from typing import Any, Callable, Iterator, List, NoReturn, Optional, Set, Tuple

from . import unpatched
from .sources import remember_source
from .chain import get_slot, set_slot
from .command import prog_name, quiet_interrupt, version_line
from .container import MAGIC
from .hooks import (DumpTarget, deliver_at_prompt, end_uncaught, follow_processes, print_python_traceback, report_crash,
                    run_by_runner, set_thread_excepthook)
from .dillimport import release_main
from .heldsignals import held_to_the_end
from .importframes import only_import_machinery
from .prompt import inspecting
from .reexec import keep_runner
from .scriptbytes import refusal
from .writer import DEFAULT_FILENAME

# Wrapped as argparse wraps the other tools' usage, to fit 80 columns: the second line lines up
# under the first option, after "usage: {prog} ".
USAGE = """\
usage: {prog} [-o PATH] [-t] [--no-threads] [--log-dumps DIR]
{indent}(SCRIPT | -m MODULE | -c CODE) [ARGS...]

Runs SCRIPT (a file, .pyc, zip app or directory; - for stdin), -m MODULE or
-c CODE exactly as python would; an uncaught exception is dumped to PATH
(default: traceback.pkl) and reported as
    ZeroDivisionError: division by zero
    Traceback dumped into: traceback.pkl
with the exit status python would give.

  -o, --output PATH  where to write the dump
  -t, --traceback    also print Python's usual traceback
  --no-threads       leave out the stacks of the threads that did not crash
  --log-dumps DIR    also dump each exception the program logs at ERROR into DIR
                     (a server's failed request), as tbdump.DumpHandler does
  -h, --help         show this help
  --version          print tbdump's version
Options after SCRIPT (-m MODULE, -c CODE) are the program's own, --help too.
Open a dump with: python -m tbdump.report PATH | python -m tbdebug PATH |
python -m tbdap (VS Code) | python -m tbpeep PATH | python -m tblsp (an editor)
"""


class Options:
    """What the command line asked for."""

    def __init__(self) -> None:
        self.output = DEFAULT_FILENAME
        self.traceback = False
        self.other_threads = True
        self.log_dumps: Optional[str] = None
        self.kind = ""          # "script", "module" or "code"
        self.target = ""
        self.args: List[str] = []


def parse(argv: List[str]) -> Options:
    opts = Options()
    argv = list(argv)
    i = 0
    while i < len(argv):
        argv[i:i + 1] = _unjoined(argv[i])
        arg = argv[i]
        if arg in ("-h", "--help"):
            sys.stdout.write(_usage())
            raise SystemExit(0)
        if arg == "--version":
            print(version_line("tbdump"))
            raise SystemExit(0)
        if arg in ("-o", "--output") or arg.startswith("--output="):
            opts.output, i = _value(argv, i, "a path")
        elif arg == "--log-dumps" or arg.startswith("--log-dumps="):
            opts.log_dumps, i = _value(argv, i, "a directory")
        elif arg in ("-t", "--traceback"):
            opts.traceback = True
        elif arg == "--no-threads":
            opts.other_threads = False
        elif arg in ("-m", "-c"):
            if i + 1 >= len(argv):
                _usage_error("argument expected for the %s option" % arg)
            opts.kind = "module" if arg == "-m" else "code"
            opts.target = argv[i + 1]
            opts.args = argv[i + 2:]
            return opts
        elif arg == "--":
            i += 1
            break
        elif arg.startswith("-") and arg != "-":
            _usage_error("unknown option %s" % arg)
        else:
            break
        i += 1
    if i >= len(argv):
        _usage_error("nothing to run")
    opts.kind, opts.target, opts.args = "script", argv[i], argv[i + 1:]
    return opts


def _unjoined(arg: str) -> List[str]:
    """Short options joined as python and getopt read them: ``-mjson.tool``, ``-c'1/0'``,
    ``-ocrash.pkl``, ``-t`` before another (``-tc CODE``) are ``-m json.tool``...  Anything else,
    an unknown option among them, stays as it is."""
    if len(arg) < 3 or arg[0] != "-" or arg[1] == "-":
        return [arg]
    flags: List[str] = []
    for n, letter in enumerate(arg[1:], 1):
        if letter in "omc":
            return flags + ["-" + letter] + ([arg[n + 1:]] if arg[n + 1:] else [])
        if letter not in "th":
            return [arg]
        flags.append("-" + letter)
    return flags


def _value(argv: List[str], i: int, what: str) -> Tuple[str, int]:
    """The value of the option at ``argv[i]`` (``--opt=VALUE`` or ``--opt VALUE``), and the index
    of the last argument it took."""
    option, equals, value = argv[i].partition("=")
    if not equals:
        if i + 1 >= len(argv):
            _usage_error("%s needs %s" % (option, what))
        value, i = argv[i + 1], i + 1
    if not value:   # -o "$UNSET": caught now, not when the crash finds nowhere to go
        _usage_error("%s needs %s" % (option, what))
    return value, i


def _usage() -> str:
    prog = prog_name("tbdump")
    return USAGE.format(prog=prog, indent=" " * len("usage: %s " % prog))


def _usage_error(message: str) -> NoReturn:
    """The message, then the usage's lines up to the description, as argparse gives both."""
    sys.stderr.write("tbdump: %s\n%s" % (message, _usage().partition("\n\n")[0] + "\n"))
    raise SystemExit(2)


def _run(opts: Options, script: Optional[bytes]) -> None:
    if opts.kind == "script":
        sys.argv = [opts.target] + opts.args
        if opts.target == "-":  # python - : the program comes from stdin, named as python names it
            _set_path0("")
            _run_file("<stdin>", script or b"")
            return
        path = os.path.abspath(opts.target)
        _set_path0(os.path.dirname(os.path.realpath(path)))  # a symlinked script imports beside its real file
        if script is not None:
            _run_file(path, script)
        else:  # a directory or zip with __main__.py
            runpy.run_path(path, run_name="__main__")
    elif opts.kind == "module":
        sys.argv = [opts.target] + opts.args  # run_module sets argv[0] to the module's file
        _set_path0(os.getcwd())
        runpy.run_module(opts.target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c"] + opts.args
        _set_path0("")
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        remember_source("<string>", opts.target)   # a command that does not compile too
        with _before_the_program():
            code = compile(opts.target, "<string>", "exec")
        if sys.version_info >= (3, 13):  # python -c shows the command's lines in tracebacks since 3.13
            linecache.cache["<string>"] = (len(opts.target), None, opts.target.splitlines(True), "<string>")
        exec(code, main.__dict__)


def _set_path0(entry: str) -> None:
    """Put first on sys.path what python puts there for the program: where ``python -m
    tbdump`` had it put the working directory.  Under -P, PYTHONSAFEPATH or -I python puts
    nothing there, and sys.path[0] is the first of the program's own entries."""
    if not (getattr(sys.flags, "safe_path", False) or sys.flags.isolated):
        sys.path[0] = entry


class _NotRunnable(Exception):
    """Python refuses the script before running any of it; str() is python's words."""


def _run_file(path: str, data: bytes) -> None:
    """Run a script as ``python script.py`` does: __file__ absolute, argv untouched; source,
    or the bytecode of a .pyc."""
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    main.__cached__ = None  # type: ignore[attr-defined]  # what python gives a script's __main__
    main.__annotations__ = {}
    with _before_the_program():
        if path.endswith(".pyc") or data[:2] == importlib.util.MAGIC_NUMBER[:2]:  # python's own test
            if data[:4] != importlib.util.MAGIC_NUMBER:
                raise _NotRunnable("Bad magic number in .pyc file")
            code = marshal.loads(data[16:])  # past the header: magic, flags, source mtime and size (or hash)
            main.__loader__ = importlib.machinery.SourcelessFileLoader("__main__", path)
        else:
            if path != "<stdin>":   # python gives a program read from stdin no loader of a file
                main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
            # The program may change or remove its file while it runs: the dump keeps what ran.
            remember_source(path, data)
            refused = refusal(path, data)
            if refused is not None:
                raise refused
            code = compile(data, path, "exec", dont_inherit=True)
        sys.modules["__main__"] = main
        _lift_recursion_limit()
    exec(code, main.__dict__)


class _NotStarted(Exception):
    """Ctrl-C was pressed before the program's first line ran."""


@contextlib.contextmanager
def _before_the_program() -> Iterator[None]:
    """Meanwhile a Ctrl-C is no crash of the program, which has run no line: as while it is read
    (main), python's last line and status, and no dump (one would replace the last crash's)."""
    try:
        yield
    except KeyboardInterrupt:
        raise _NotStarted() from None


def _runner_codes() -> Set[types.CodeType]:
    """Code of tbdump's runner and of runpy, and of the frames that called the runner
    (``python -m tbdump``'s own ``__main__``): frames never shown to the user."""
    codes = set()
    for module in (sys.modules[__name__], runpy):
        for obj in vars(module).values():
            if isinstance(obj, types.FunctionType):
                codes.add(obj.__code__)
    caller: Optional[types.FrameType] = sys._getframe(1)
    while caller is not None:
        codes.add(caller.f_code)
        caller = caller.f_back
    return codes


def _launcher_error(exc: BaseException) -> bool:
    """Whether runpy itself refused the target (no such module, no __main__ in a
    directory), before any of the user's code ran."""
    tb = get_slot(exc, "__traceback__")
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return issubclass(type(exc), ImportError) and tb is not None and tb.tb_frame.f_globals.get("__name__") == "runpy"


def _strip(exc: BaseException, skip: Set[types.CodeType]) -> None:
    """The crash from the program's first frame on, as python reports a script's.  A module,
    directory or zip app that does not compile (a SyntaxError) raises in importlib's or
    zipimport's frames, which ran none of the program: the crash then has no frame, as a
    script's has, and opens at the program's file and line (the SyntaxError's).  Read and set
    as the interpreter does, past the class's own __getattribute__: one that answered None
    for every name had the crash dumped without a frame."""
    tb = get_slot(exc, "__traceback__")
    while tb is not None and tb.tb_frame.f_code in skip:
        tb = tb.tb_next
    if only_import_machinery(tb):
        tb = None
    # An exception class may refuse attributes: the crash is reported and dumped all the same.
    set_slot(exc, "__traceback__", tb)


def _read_script(opts: Options) -> Optional[bytes]:
    """The script's bytes, read once before it runs, as python reads them (a pipe, as
    ``<(...)`` or ``cat x | ... /dev/stdin`` give, can be read only once); None for what
    runpy runs: a directory or a zip with __main__.py.  A file python cannot open ends
    the run with python's words and status."""
    if opts.kind != "script":
        return None
    path = "<stdin>" if opts.target == "-" else os.path.abspath(opts.target)
    try:
        if opts.target == "-":
            return sys.stdin.buffer.read() if sys.stdin is not None else b""
        if os.path.isdir(path) or (os.path.isfile(path) and zipfile.is_zipfile(path)):
            return None
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        hint = ""
        if opts.target == "report":   # `tbdump report DUMP`, meant as `python -m tbdump.report DUMP`
            hint = "; to show a dump: " + shlex.join(["python", "-m", "tbdump.report", *opts.args])
        sys.stderr.write("tbdump: can't open file %r: [Errno %s] %s%s\n" % (path, exc.errno, exc.strerror, hint))
        raise SystemExit(2)


def _refuse_to_overwrite(opts: Options, script: Optional[bytes]) -> None:
    """Refuse, in one line, a run whose crash would write over the file the person meant to
    keep: a dump named as the program (its SyntaxError would be dumped over it), or the
    program named as the dump's file."""
    if script is not None and script.startswith(MAGIC):
        sys.stderr.write("tbdump: %s is a dump, not a program; to open it: python -m tbdebug %s\n"
                         % (opts.target, shlex.quote(opts.target)))
        raise SystemExit(2)
    try:
        same = opts.kind == "script" and os.path.samefile(opts.output, opts.target)
    except OSError:  # either is not there (yet): nothing to overwrite
        same = False
    if same:
        sys.stderr.write("tbdump: -o %s is the program itself; its dump would overwrite it\n" % opts.output)
        raise SystemExit(2)


def _refuse_ipython(opts: Options, script: Optional[bytes]) -> None:
    """Refuse, in one line, to run IPython (``-m IPython``, the ``ipython`` command): it catches
    and shows every crash of what it runs itself, so none would reach the runner and be dumped;
    the hook set in the session dumps them.  A script of the program's own named ``ipython``
    that is not IPython's command (which names IPython to start it) runs."""
    ipython = (opts.target in ("IPython", "IPython.__main__") if opts.kind == "module"
               else opts.kind == "script" and os.path.basename(opts.target) in ("ipython", "ipython3")
               and script is not None and b"ipython" in script.lower())
    if ipython:
        sys.stderr.write("tbdump: IPython shows the crashes of what it runs itself, and python -m tbdump would "
                         "dump none; put `import tbdump; tbdump.set_excepthook()` first in the script or the "
                         "session and run ipython as usual\n")
        raise SystemExit(2)


def main(argv: Optional[List[str]] = None) -> None:
    give_back: Callable[[], None] = _nothing
    # Ctrl-C before the program runs is not the program's crash: no dump, no traceback of tbdump's.
    with quiet_interrupt(last_line=True):
        opts = parse(sys.argv[1:] if argv is None else argv)
        script = _read_script(opts)
        _refuse_ipython(opts, script)
        _refuse_to_overwrite(opts, script)
        interpreter_main = sys.modules["__main__"]
        target = DumpTarget(opts.output)  # before the program can change directory
        # A thread's crash shows the main thread's stack from the program's own frames, as a crash
        # there does, and so does a dump the program writes itself (dump_exception).
        skip = _runner_codes()
        run_by_runner(skip)
        set_thread_excepthook(target, replace=not opts.traceback, other_threads=opts.other_threads,
                              skip_codes=skip)
        # From the working directory of today, for a spawned child too: the program may change it.
        log_dumps = None if opts.log_dumps is None else os.path.abspath(opts.log_dumps)
        if log_dumps is not None:
            from .loghandler import dump_logged
            dump_logged(log_dumps)
        follow_processes(target, replace=not opts.traceback, silent=False, other_threads=opts.other_threads,
                         skip_codes=skip, log_dumps=log_dumps)
        keep_runner(_options_again(opts, log_dumps))
    try:
        _run(opts, script)
    except _NotStarted:
        with quiet_interrupt(last_line=True):
            raise KeyboardInterrupt from None
    except SystemExit as stop:
        if not unpatched.flags.inspect:
            # Python ends on it.  A PYTHONINSPECT the program set is read as python ends, after
            # a module (-m), whose prompt then opens, not after a script or a command (-c), which
            # a SystemExit ends at once: the prompt must not read it.
            if opts.kind != "module":
                os.unsetenv("PYTHONINSPECT")
            raise
        # python -i prints it from the program's frames, keeps it in sys.last_exc, and opens its prompt.
        _strip(stop, skip)
        sys.excepthook(type(stop), stop, get_slot(stop, "__traceback__"))
        _remember_last(stop)
        raised_on: Optional[BaseException] = stop
    except BaseException as exc:
        # Of its real class, as Python matches an except clause: isinstance() reads __class__,
        # which an exception's own property answers, raising what it likes (SystemExit too).
        if issubclass(type(exc), _NotRunnable) or _launcher_error(exc):
            # python says this in one line, runs nothing and dumps nothing: so does tbdump.
            sys.stderr.write("tbdump: %s\n" % exc)
            raise SystemExit(1)
        _strip(exc, skip)
        exit_code: object = 1
        hook = sys.excepthook
        program_hook = hook is not sys.__excepthook__ and not getattr(hook, "tbdump_hook", False)
        if program_hook:
            # The program's own (a logger, Sentry): python would call it.  One of
            # tbdump's would dump a second time: the runner's dump is that dump.
            exit_code = _program_excepthook(exc)
        if not inspecting():  # the crash ends the process: the program's handlers wait for its end
            give_back = held_to_the_end()
        if opts.traceback and not program_hook:
            print_python_traceback(exc)
        end = end_uncaught(exc)
        report_crash(exc, target, skip_codes=skip, summary=not opts.traceback and exit_code == 1, end=end,
                     other_threads=opts.other_threads, goes_on=deliver_at_prompt if inspecting() else None,
                     # Python's report of the crash: the program's hook has made it already.
                     python_report=(lambda: None) if program_hook else None)
        release_main(interpreter_main)
        _remember_last(exc)
        # Under -i or PYTHONINSPECT (unpatched.flags.inspect) python prints the SystemExit that
        # would end it with status 1: with no prompt to open, the crash itself is raised on.
        raised_on = exc if issubclass(type(exc), KeyboardInterrupt) or unpatched.flags.inspect else None
    else:
        return
    if inspecting():
        give_back()
        return   # python -i opens its prompt after any crash, the crash in sys.last_exc
    # Outside the except block, so the crash is held only where Python holds
    # it (sys.last_*) and objects die at exit in the order they would.
    if raised_on is not None:
        # Python ends an uncaught KeyboardInterrupt itself: atexit functions and
        # finalization run, then it kills itself with SIGINT.  Raised on, the
        # interrupt ends the same way; it was reported already, so nothing prints.
        sys.excepthook = _reported
    ending = SystemExit(exit_code) if raised_on is None else raised_on
    give_back()  # the last step before Python's ending, where the program's handlers run
    raise ending


def _options_again(opts: Options, log_dumps: Optional[str]) -> List[str]:
    """The runner's options for a copy of the program that a reloader starts (tbdump.reexec), in
    the working directory of today as this one started."""
    return ([] if opts.output == DEFAULT_FILENAME else ["-o", opts.output]) + \
        (["-t"] if opts.traceback else []) + ([] if opts.other_threads else ["--no-threads"]) + \
        ([] if log_dumps is None else ["--log-dumps", log_dumps])


def _nothing() -> None:
    """No signals to give back: the program ended without a crash, or goes on to python -i's prompt."""


def _reported(exc_type: Any, exc: Any, tb: Any) -> None:
    """The excepthook for a crash the runner has dumped and reported already."""


def _program_excepthook(exc: BaseException) -> object:
    """Call the ``sys.excepthook`` the program installed, and say its failure as python does;
    the exit status: 1, or the code of a SystemExit the hook raised (python then exits so)."""
    try:
        sys.excepthook(type(exc), exc, get_slot(exc, "__traceback__"))
    except SystemExit as stop:
        return stop.code
    except BaseException as err:
        # As python prints it: from the hook's frame on, not chained to the crash.
        set_slot(err, "__traceback__", err.__traceback__.tb_next if err.__traceback__ else None)
        set_slot(err, "__suppress_context__", True)
        sys.stderr.write("Error in sys.excepthook:\n")
        print_python_traceback(err)
        sys.stderr.write("\nOriginal exception was:\n")
        print_python_traceback(exc)
    return 1


def _remember_last(exc: BaseException) -> None:
    """What Python's own handling of an uncaught exception leaves in sys."""
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, get_slot(exc, "__traceback__")
    if unpatched.version_info >= (3, 12):   # the program's sys.version_info may be a test's mock
        setattr(sys, "last_exc", exc)   # mypy cannot narrow to 3.12 by unpatched's


def _lift_recursion_limit() -> None:
    """Give the user's code as many frames as under plain python: the runner's own don't count."""
    # Before 3.12 the limit also counts each entry into the eval loop: the two
    # exec() calls between python and the script (runpy's and ours).
    depth = 2 if sys.version_info < (3, 12) else 0
    frame: Optional[types.FrameType] = sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    sys.setrecursionlimit(sys.getrecursionlimit() + depth)


