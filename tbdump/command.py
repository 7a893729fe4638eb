"""What every command-line tool of tbdump says about itself (its name as invoked, its version, a TCP
port, a dump's name) and how it ends when its stdout cannot be written or Ctrl-C is pressed."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterator, Type

from . import __version__

if TYPE_CHECKING:  # pragma: no cover
    import argparse     # imported when used: `python -m tbdump` runs programs, it parses no options with it


def prog_name(module: str) -> str:
    """The tool's name as the person typed it: ``python -m MODULE``, or the console script's name.

    ``module`` is what ``python -m`` runs (``tbdebug``, ``tbdump.report``); it is
    also the answer when the command line says nothing better.
    """
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name in (module, module + ".__main__"):
        return f"python -m {module}"
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    for suffix in ("-script.pyw", "-script.py", ".exe"):   # how Windows launchers name it
        if script.lower().endswith(suffix):
            script = script[:-len(suffix)]
    return script if script and script not in ("-c", "__main__.py") else f"python -m {module}"


def version_line(tool: str) -> str:
    """What ``--version`` prints: ``tbdap 0.1.0``."""
    return f"{tool} {__version__}"


def add_version(parser: "argparse.ArgumentParser", tool: str) -> None:
    parser.add_argument("--version", action="version", version=version_line(tool),
                        help="print the version and exit")


def tcp_port(text: str) -> int:
    """argparse type of a ``--port``: 0-65535, else a usage error naming the value."""
    import argparse
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("%r is not a TCP port (0-65535)" % text)
    return port


def dump_name(text: str) -> str:
    """argparse type of a DUMP argument: an empty one (``"$UNSET"``) is a usage error, as
    ``python -m tbdump -o ''`` is, rather than a file named nothing, or no file at all."""
    import argparse
    if not text:
        raise argparse.ArgumentTypeError("no dump file named")
    return text


def require_stdout(prog: str) -> None:
    """End the tool with one line on stderr and status 1, as ``cat >&-`` ends, when it was started
    with stdout closed: Python's ``sys.stdout`` is then None, and its first print or flush a
    traceback (or, at a prompt, "lost sys.stdout")."""
    if sys.stdout is None:
        print("%s: cannot write to stdout: it is closed" % prog, file=sys.stderr)
        sys.exit(1)


@contextlib.contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """A reader of stdout that went away (``| head -1``) ends the tool quietly with status 1, as
    it ends ``cat``: no traceback, and, stdout pointed at devnull, no second complaint when Python
    flushes it at exit (the recipe of Python's documentation of SIGPIPE)."""
    try:
        yield
    except BrokenPipeError:
        silence_stdout()
        sys.exit(1)


@contextlib.contextmanager
def quiet_interrupt(last_line: bool = False) -> Iterator[None]:
    """Ctrl-C ends the tool as it ends any Python program, without the traceback: Python runs
    its exit handlers, then ends itself by SIGINT, which a shell shows as status 130 (and which
    stops a shell loop that runs the tool, as an exit status of 130 would not).  ``last_line``:
    the traceback's last line is said, ``KeyboardInterrupt``, as for a program interrupted."""
    try:
        yield
    except KeyboardInterrupt:
        sys.excepthook = _last_line_for_ctrl_c if last_line else _no_traceback_for_ctrl_c
        raise


def stopped_quietly(serve: Callable[[], int]) -> int:
    """A server's exit status: ``serve()``'s, or 0 when Ctrl-C stops it, also while it starts (its
    imports are a good part of start-up): Ctrl-C is how a server is meant to end, not a failure."""
    try:
        return serve()
    except KeyboardInterrupt:
        return 0


def _no_traceback_for_ctrl_c(kind: Type[BaseException], exc: BaseException, tb: Any) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)


def _last_line_for_ctrl_c(kind: Type[BaseException], exc: BaseException, tb: Any) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    import traceback
    sys.stderr.write("".join(traceback.format_exception_only(kind, exc)))


def silence_stdout() -> None:
    """Point stdout at devnull, after a write to it failed: what Python flushes at exit then
    goes nowhere instead of failing again ("Exception ignored ... BrokenPipeError")."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
