"""Entry point: `python -m tblsp` / `tblsp` — LSP over stdio, or TCP with --tcp."""
from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import List, Optional

from . import __version__, gencache


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tblsp", description="Language server that shows a tbdump crash dump on the source.")
    parser.add_argument("--stdio", action="store_true",
                        help="serve on stdin/stdout (the default; accepted because LSP clients pass it)")
    parser.add_argument("--tcp", action="store_true", help="serve on a TCP port instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="address for --tcp (default: loopback)")
    parser.add_argument("--port", type=int, default=2087, help="port for --tcp (default: 2087)")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="on stderr")
    parser.add_argument("--version", action="version", version=f"tblsp {__version__}")
    args = parser.parse_args(argv)
    # stdout belongs to the protocol; logs go to stderr, which editors keep as the server log.
    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="tblsp %(levelname)s %(name)s: %(message)s")
    # Importing pygls and lsprotocol makes ~100 000 objects, none of them garbage: the
    # collector would trace them all again and again while they are made (some 50 ms),
    # so it is off meanwhile, and what is there then is kept out of its later rounds.
    gc.disable()
    try:
        # The code attrs and cattrs generate comes from a cache from now on (gencache.py).
        cache = gencache.install()
        from .server import server   # after argument errors, which need no LSP machinery
        if cache is not None:
            cache.save()    # now, not only at exit: an editor may kill the server
    finally:
        gc.freeze()
        gc.enable()
    try:
        if args.tcp:
            server.start_tcp(args.host, args.port)
        else:
            server.start_io()
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"tblsp: cannot serve on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0 if server.shut_down else 1  # LSP: an exit without a shutdown before it is status 1


if __name__ == "__main__":
    sys.exit(main())
