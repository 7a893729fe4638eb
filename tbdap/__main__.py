"""`python -m tbdap`: serve DAP on stdio (how editors spawn it) or, with --port, on TCP."""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, List, Optional

from tbdump.command import stopped_quietly

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    from tbdump.dumpfile import Dump

    from .messaging import Connection
    from .session import Session


def main(argv: Optional[List[str]] = None) -> int:
    return stopped_quietly(lambda: _main(argv))


def _main(argv: Optional[List[str]]) -> int:
    # Imported here, not above: Ctrl-C while they load (a good part of start-up) is then quiet too.
    import argparse

    from tbdump.command import add_version, dump_name, prog_name, quiet_broken_pipe, require_stdout, tcp_port

    parser = argparse.ArgumentParser(
        prog=prog_name("tbdap"), description="Debug Adapter Protocol server replaying a tbdump dump "
        "as if the program were paused at its exception.")
    parser.add_argument("dump", nargs="?", type=dump_name, metavar="DUMP",
                        help="the dump to serve (with --port; over stdio it comes in the launch request)")
    parser.add_argument("--port", type=tcp_port, help="listen on this TCP port (0: pick a free one) instead of stdio")
    parser.add_argument("--host", help="address to listen on with --port (default 127.0.0.1)")
    parser.add_argument("--safe", action="store_true", help="safe mode: never unpickle objects from the dump")
    add_version(parser, "tbdap")
    args = parser.parse_args(argv)
    if args.port is None and args.host is not None:
        # Served over stdio, the address would be ignored: a client told to connect there would wait.
        parser.error("--host needs --port")
    args.host = "127.0.0.1" if args.host is None else args.host
    # Over stdio stdout is the protocol's; with --port it says where tbdap serves.
    require_stdout("tbdap")
    with quiet_broken_pipe():
        return _serve(args, parser)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tbdump.dumpfile import load
    from tbdump.errors import DumpError, system_words
    from tbdump.listening import READS_ANY_DUMP, CannotListen
    from tbdump.settings import said_afresh

    from .server import serve_stdio, serve_tcp
    from .session import Session

    if args.port is None:
        if args.dump is not None:
            parser.error("DUMP is given in the launch request over stdio; to serve a file, add --port N")
        serve_stdio(lambda conn: Session(conn, safe=args.safe))
        return 0

    path = None if args.dump is None else os.path.abspath(args.dump)
    preloaded: List[Optional[Dump]] = [None]
    said: List[str] = []
    if path is not None:
        try:
            with said_afresh() as said:
                preloaded[0] = load(path, objects=False if args.safe else None)
        except DumpError as exc:
            return _fail(str(exc))
        except OSError as exc:
            return _fail("cannot open %s: %s" % (path, system_words(exc)))

    def session(conn: Connection) -> Session:
        # The first client gets the dump opened at startup; later ones a fresh replay.
        dump, preloaded[0] = preloaded[0], None
        if dump is not None and dump.superseded():
            # Cut short or rewritten since the start: the launch reads the file as it is now,
            # as for any later client (the start's copy said "replaced while it was open").
            # A file removed since is still served as it was opened.
            dump.close()
            dump = None
        return Session(conn, dump_file=path, preloaded=dump, safe=args.safe, preloaded_said=said)

    try:
        # Without a DUMP, each client's launch names the file: any this account can read.
        reads = "read this dump" if path else READS_ANY_DUMP
        serve_tcp(session, args.host, args.port, path or "the dump named in each launch request",
                  reads + " (and, unless it is opened in safe mode, run code through evaluate)")
    except CannotListen as exc:
        return _fail(str(exc))
    return 0


def _fail(message: str) -> int:
    """One line on stderr, the status to exit with; a file's name may hold control characters,
    shown as escapes as tbdebug shows them."""
    from tbdump.termtext import printable
    print("tbdap: %s" % printable(message), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
