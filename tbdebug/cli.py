"""What the terminal viewers (tbdebug, tbpeep) share on the command line: the dump argument, --safe, one-line errors."""
import argparse
import io
import sys
from typing import List, NoReturn, Optional, TextIO

import tbdump
from tbdump.command import dump_name
from tbdump.model import CUTS_SHOWN
from tbdump.termtext import printable


def add_dump_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dump", nargs="?", default="traceback.pkl", type=dump_name, metavar="DUMP",
                        help="the dump file to open (default: traceback.pkl)")
    parser.add_argument("--safe", action="store_true",
                        help="open the safe layer only: nothing from the file is unpickled or run; "
                             "every value is a placeholder showing its captured preview "
                             "(also TBDUMP_SAFE=1)")


def prepare_terminal() -> None:
    """Whatever a dump holds prints, and whatever is typed is read, in any terminal encoding.

    On output, a character the encoding lacks shows as an escape. Lone surrogates and
    control characters are escaped by ``say`` and (in pdb) by tbdebug's session; this
    covers the rest, such as CJK text on a Latin-1 terminal, which would otherwise end
    the viewer with a UnicodeEncodeError. On input, bytes the encoding cannot decode
    (``p données`` typed under PYTHONIOENCODING=ascii) become surrogates, as Python
    reads them in the C locale, so the prompt answers them with one line where the
    strict decoder ended the viewer in a UnicodeDecodeError traceback.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    if isinstance(sys.stdin, io.TextIOWrapper) and sys.stdin.errors == "strict":
        sys.stdin.reconfigure(errors="surrogateescape")


def say(prog: str, text: str, file: Optional[TextIO] = None) -> None:
    """One line of the viewer's own, ``prog: text``; the dump's strings in it cannot act on the terminal."""
    print(f"{prog}: {printable(text)}", file=sys.stdout if file is None else file)


def fail(prog: str, message: str) -> NoReturn:
    """One line on stderr and exit status 2: the viewers' answer to anything a person must fix."""
    say(prog, message, sys.stderr)
    sys.exit(2)


def open_dump(prog: str, args: argparse.Namespace) -> tbdump.Dump:
    try:
        return tbdump.load(args.dump, objects=False if args.safe else None)
    except tbdump.DumpError as exc:
        fail(prog, str(exc))


def dump_notes(dump: tbdump.Dump) -> List[str]:
    """What a terminal viewer says of the dump on opening: what its capture did not finish,
    what its format version means here, why its objects do not load."""
    return (dump.metadata.cut_notes(CUTS_SHOWN) + [note for note in [dump.version_note] if note]
            + _safe_mode_notes(dump))


def _safe_mode_notes(dump: tbdump.Dump) -> List[str]:
    """What a viewer says first of a dump whose objects do not load: why, and that every value
    it shows is a placeholder (none when they load); then why the key does not vouch for the
    dump, where --safe is the reason given: the previews shown are not vouched for either."""
    if dump.objects_allowed:
        return []
    notes = [f"{dump.safe_reason}; values are placeholders showing their previews"]
    if dump.signature_problem and dump.signature_problem not in (dump.safe_reason or ""):
        notes.append(dump.signature_problem)
    return notes
