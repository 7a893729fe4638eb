"""`python -m tbpeep [--safe] DUMP`: explore a dump file in peepshow."""
from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from tbdump.command import quiet_broken_pipe, quiet_interrupt, require_stdout

from .loader import PEEPSHOW

if TYPE_CHECKING:  # pragma: no cover
    import argparse

PROG = "tbpeep"

DESCRIPTION = """\
Explore a tbdump file in peepshow's interactive explorer.  It starts on the
crash: the raised exception's frames, outermost first.  Press Enter to list
them, type a frame's number to open it, Enter again to list its variables, a
number to open one; `..` goes back, `?` explains where you are, `h` lists
peepshow's commands, `q` (or Ctrl-D) leaves.  The starting object also has
.exception, .chain (every exception of the chain) and .dump (the tbdump.Dump).
`!`/`$` expressions see the variables of the frame that raised, as peep() called
there would, and `_` (where you are), `crash` and `dump`.

peepshow is optional: pip install {peepshow} (tbdump's extra `peep`; the
`tbdump` on PyPI is another project).  Some of its commands run external
programs: `??` needs vim, `MANual` needs man, and the screen is cleared with
clear (an escape sequence is used when it is missing).
""".format(peepshow=PEEPSHOW)

# What peepshow runs, and what a person loses without it.
TOOLS = {"vim": "`??` (show source) needs it", "man": "`MANual` needs it",
         "clear": "the screen is cleared with an escape sequence instead"}


def _clear_screen() -> None:
    sys.stdout.write("\x1b[H\x1b[2J\x1b[3J")
    sys.stdout.flush()


def check_tools() -> List[str]:
    """One note per external program peepshow uses that is not on PATH; stands in for clear."""
    notes = []
    for tool, loss in TOOLS.items():
        if shutil.which(tool) is None:
            notes.append(f"{tool} is not installed: {loss}")
    if shutil.which("clear") is None:
        from peepshow.utils import terminal
        terminal.clear = _clear_screen  # peepshow calls it through the module
    return notes


def size_the_terminal() -> None:
    """peepshow lays its pages out by shutil.get_terminal_size() and divides by the columns.  A
    terminal that reports no size (a serial console, a pty nobody sized) gives 0 columns there
    before Python 3.11, which falls back to 80x24 since: on 3.9 and 3.10 every listing ended in
    'integer division or modulo by zero'.  Older Pythons get 3.11's fallback."""
    if sys.version_info >= (3, 11):
        return
    reported = shutil.get_terminal_size

    def get_terminal_size(fallback: Tuple[int, int] = (80, 24)) -> os.terminal_size:
        columns, lines = reported(fallback)
        return os.terminal_size((columns or fallback[0], lines or fallback[1]))
    shutil.get_terminal_size = get_terminal_size


def _interruptible(execute: Callable[..., None]) -> Callable[..., None]:
    """peepshow's command runner, where Ctrl-C stops the command (a slow expression, a long
    listing) and gives the prompt back; peepshow lets it end the process with a traceback."""
    def run(*args: Any) -> None:
        try:
            execute(*args)
        except KeyboardInterrupt:
            from peepshow.utils.terminal import print_error
            print()
            print_error("Interrupted.")
    return run


def _guarded(probe: Callable[[Any], Any], otherwise: Any) -> Callable[[Any], Any]:
    """One of peepshow's probes of the object shown, which its prompt asks: isinstance() reads the
    object's __class__, a restored lazy proxy's property, which may raise (its server not there,
    where the dump is opened).  Then ``otherwise``, peepshow's answer for an object of no type it
    knows, not a traceback that ends tbpeep; its other probes (TYPE, REPR ...) say N/A alike."""
    def probe_or_not(obj: Any) -> Any:
        try:
            return probe(obj)
        except Exception:
            return otherwise
    return probe_or_not


def main(argv: Optional[List[str]] = None) -> int:
    # From the start: the modules imported below are a good part of start-up, Ctrl-C among them included.
    with quiet_interrupt():
        import argparse

        from tbdebug.cli import add_dump_arguments
        from tbdump.command import add_version, prog_name

        parser = argparse.ArgumentParser(prog=prog_name(PROG), description=DESCRIPTION,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        add_dump_arguments(parser)
        add_version(parser, PROG)
        args = parser.parse_args(argv)
        require_stdout(PROG)
        with quiet_broken_pipe():
            return _explore(args)


def _explore(args: argparse.Namespace) -> int:
    from tbdebug.cli import dump_notes, fail, open_dump, prepare_terminal, say
    from tbdump.localsource import install_sources

    from .loader import PeepshowMissing, import_peepshow

    prepare_terminal()
    try:
        import_peepshow()
    except PeepshowMissing as exc:
        fail(PROG, str(exc))
    dump = open_dump(PROG, args)
    notes = check_tools() + install_sources(dump) + dump_notes(dump)
    for note in notes:
        say(PROG, note, sys.stderr)
    if notes and sys.stdin.isatty():
        try:
            input(f"{PROG}: press Enter to open peepshow ")
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: leave, as at peepshow's prompt
            print()
            return 0

    from peepshow.cmds.cmds import Commands
    from peepshow.core import peep as explorer
    from peepshow.core.env import Env
    from peepshow.core.trans import Given

    from .source import show_source
    from .view import crash_view

    size_the_terminal()
    explorer.execute_command = _interruptible(explorer.execute_command)
    explorer.is_of_builtin_type = _guarded(explorer.is_of_builtin_type, (False, None, ""))
    explorer.get_default_action = _guarded(explorer.get_default_action, "d")
    Commands.cmd_source = show_source(dump, Commands.cmd_source)
    crash = crash_view(dump)
    # `!expr` and `$expr` see what they see in peep() called in the frame that raised:
    # its globals, covered by its locals; then tbpeep's own names, as peepshow's `_` covers
    # the program's.
    scope: Dict[str, Any] = {}
    if crash:
        raised = crash[-1].frame
        scope = {**raised.f_globals, **raised.f_locals}
    explorer.peep(Given(crash, "crash"), Env(scope, {"crash": crash, "dump": dump}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
