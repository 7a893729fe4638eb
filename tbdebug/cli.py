"""What the terminal viewers (tbdebug, tbpeep) share on the command line: the dump argument, --safe, one-line errors."""
import argparse
import sys
from typing import NoReturn

import tbdump


def add_dump_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dump", nargs="?", default="traceback.pkl", metavar="DUMP",
                        help="the dump file to open (default: traceback.pkl)")
    parser.add_argument("--safe", action="store_true",
                        help="open the safe layer only: nothing from the file is unpickled or run; "
                             "every value is a placeholder showing its captured preview "
                             "(also TBDUMP_SAFE=1)")


def fail(prog: str, message: str) -> NoReturn:
    """One line on stderr and exit status 2: the viewers' answer to anything a person must fix."""
    print(f"{prog}: {message}", file=sys.stderr)
    sys.exit(2)


def open_dump(prog: str, args: argparse.Namespace) -> tbdump.Dump:
    try:
        return tbdump.load(args.dump, objects=False if args.safe else None)
    except tbdump.DumpError as exc:
        fail(prog, str(exc))
