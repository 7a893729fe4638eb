"""`python -m tbdebug [--safe] [--exception N] [-c COMMAND] DUMP`: post-mortem debugging of a dump file."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, List, Optional

from tbdump.command import quiet_broken_pipe, quiet_interrupt, require_stdout

if TYPE_CHECKING:  # pragma: no cover
    import argparse

DESCRIPTION = """\
Open a tbdump file in a post-mortem debugger, at the frame that raised, as if
the crashed program were still paused there.  The debugger is the one
breakpoint() would start: pdb, or whatever PYTHONBREAKPOINT names
(ipdb.set_trace, pudb.set_trace, ...; pdbpp replaces pdb when installed).
PYTHONBREAKPOINT=0 disables it, as it disables breakpoint().  A debugger module
without a post_mortem() is started as breakpoint() would start it, with `dump`,
`exception` and `traceback` in reach.
"""

EPILOG = """\
inside pdb:
  where/up/down/list/longlist/source/args/p/pp/display/whatis/interact and plain
  expressions work over the captured frames and values; sources come from the
  dump (the local file is used when it is identical).  Values that were not
  captured, were redacted, or are not loaded (--safe, TBDUMP_SAFE=1, a
  TBDUMP_KEY the dump's signature does not verify with) are placeholders that
  show their captured preview.  Nothing can be stepped, resumed, jumped or
  restarted: the program is not running; next/step/continue/until/return end
  the session saying so; a breakpoint stops only what `debug EXPR` runs.
  Control characters in what the dump holds are shown as escapes (\\x1b), so
  a dump cannot act on the terminal.

chained exceptions:
  the exceptions of the chain are numbered as listed at start-up, #0 being
  the one raised (of more than 15: the first ones, the last two and the one
  opened); --exception N opens another.  pdb's `exceptions` command (Python
  3.13's, on every Python) also lists the chain and `exceptions N` switches
  to one: as for pdb.post_mortem(exc), the exception opened and those it was
  raised from, numbered by pdb from the earliest (0).

exit status: 0 after the debugger quits, 2 when the dump cannot be opened or
the debugger cannot be started, 1 when stdout cannot be written (closed, or
its reader gone); Ctrl-C outside the debugger's prompt (while the dump is
read) ends it as it ends Python, without a traceback (status 130).
"""


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    import argparse

    from tbdump.command import add_version, prog_name

    from .cli import add_dump_arguments
    from .session import PROG

    parser = argparse.ArgumentParser(
        prog=prog_name(PROG), description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dump_arguments(parser)
    parser.add_argument("-e", "--exception", type=int, default=0, metavar="N",
                        help="open exception #N of the chain instead of the one raised (#0)")
    parser.add_argument("-c", "--command", action="append", default=[], metavar="COMMAND",
                        help="a pdb command to run first, as `python -m pdb -c` runs it: after "
                             "~/.pdbrc and ./.pdbrc, in the order given; repeat it for more "
                             "(-c 'p x' -c q prints x and leaves, for a script)")
    add_version(parser, PROG)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    # From the start: the modules imported below are a good part of start-up, Ctrl-C among them included.
    with quiet_interrupt():
        args = parse_args(argv)
        require_stdout("tbdebug")
        with quiet_broken_pipe():
            return _debug(args)


def _debug(args: argparse.Namespace) -> int:
    from tbdump.termtext import printable

    from .cli import dump_notes, fail, open_dump, prepare_terminal, say
    from .hook import HookError, find_debugger
    from .session import PROG, NoFrames, SessionError, choose, describe_chain, open_debugger

    prepare_terminal()
    dump = open_dump(PROG, args)
    try:
        debugger = find_debugger()
    except HookError as exc:
        fail(PROG, str(exc))
    if debugger is None:
        say(PROG, "PYTHONBREAKPOINT=0 disables the debugger; nothing opened", sys.stderr)
        return 0
    if args.command and not debugger.plain_pdb:
        fail(PROG, f"-c runs pdb's commands: PYTHONBREAKPOINT names {debugger.name}, "
                   "whose post-mortem takes no commands")
    try:
        chosen, notes = choose(dump, args.exception)
    except NoFrames as exc:
        # What there is to see all the same: the exception as Python printed it, and the
        # lines of source a SyntaxError points at.
        print(printable("\n".join([dump.traceback_text.rstrip("\n")] + exc.listing)))
        fail(PROG, str(exc))
    except SessionError as exc:
        fail(PROG, str(exc))
    print(printable(dump.traceback_text.rstrip("\n")))
    meta = dump.metadata
    notes[:0] = [f"{args.dump}: {meta.command} crashed at {meta.time} on "
                 f"{meta.hostname} (pid {meta.pid}, Python "
                 f"{'.'.join(map(str, meta.version_info))})"]
    notes += dump_notes(dump)
    if len(dump.exceptions) > 1:
        notes.append(f"opening exception #{args.exception} of {len(dump.exceptions)}; "
                     "--exception N opens another:")
        notes.extend("  " + line for line in describe_chain(dump, args.exception))
    if debugger.post_mortem is None:
        notes.append(f"{debugger.name} has no post_mortem(); it opens the way breakpoint() "
                     "would, with `dump`, `exception` and `traceback` in reach")
    for note in notes:
        say(PROG, note)
    sys.stdout.flush()
    try:
        open_debugger(debugger, dump, chosen, args.command)
    except SessionError as exc:
        fail(PROG, str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
