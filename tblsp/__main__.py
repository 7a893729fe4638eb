"""Entry point: `python -m tblsp` / `tblsp` — LSP over stdio, or TCP with --tcp."""
from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, List, Optional

from tbdump.command import stopped_quietly

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    from .server import TbLanguageServer
    from .stdio import InterruptibleStdin

# The extra `lsp` of pyproject.toml, installed by its own name: the `tbdump` on PyPI is
# another project, so `pip install 'tbdump[lsp]'` would install that one.
PYGLS = "pygls>=2,<3"
LSP_PACKAGES = ("pygls", "lsprotocol", "cattrs", "attrs")   # what importing the server needs


class Unavailable(Exception):
    """pygls (or what it needs) cannot be imported; str() is one line saying what to do."""


def main(argv: Optional[List[str]] = None) -> int:
    return stopped_quietly(lambda: _main(argv))


def _main(argv: Optional[List[str]]) -> int:
    # Imported here, not above: Ctrl-C while they load (a good part of start-up) is then quiet too.
    import argparse
    import logging

    from tbdump.command import add_version, prog_name, quiet_broken_pipe, require_stdout, tcp_port

    from .stdio import InterruptibleStdin

    parser = argparse.ArgumentParser(
        prog=prog_name("tblsp"), description="Language server that shows a tbdump crash dump on the source.")
    parser.add_argument("--stdio", action="store_true",
                        help="serve on stdin/stdout (the default; accepted because LSP clients pass it)")
    parser.add_argument("--tcp", action="store_true", help="serve on a TCP port instead of stdio")
    parser.add_argument("--host", help="address for --tcp (default: loopback)")
    parser.add_argument("--port", type=tcp_port, help="port for --tcp (default: 2087)")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="how much to log on stderr, the editor's server log (default: WARNING)")
    add_version(parser, "tblsp")
    args = parser.parse_args(argv)
    if not args.tcp and (args.host is not None or args.port is not None):
        # Served over stdio, a port would be ignored: the editor told to connect there would wait.
        parser.error("--host and --port need --tcp")
    args.host = "127.0.0.1" if args.host is None else args.host
    args.port = 2087 if args.port is None else args.port
    require_stdout("tblsp")   # over stdio the protocol's; with --tcp it says where tblsp serves
    # stdout belongs to the protocol; logs go to stderr, which editors keep as the server log.
    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="tblsp %(levelname)s %(name)s: %(message)s")
    stdin = InterruptibleStdin()
    stdin.install()     # from the start: Ctrl-C while pygls loads ends tblsp quietly too
    with quiet_broken_pipe():
        return _serve(args, stdin)


def _serve(args: argparse.Namespace, stdin: InterruptibleStdin) -> int:
    from tbdump.listening import READS_ANY_DUMP, CannotListen, announce, listen

    try:
        server = _import_server()
    except Unavailable as exc:
        print(f"tblsp: {exc}", file=sys.stderr)
        return 2
    if args.tcp:
        try:
            listener = listen(args.host, args.port)
        except CannotListen as exc:
            print(f"tblsp: {exc}", file=sys.stderr)
            return 2
        with listener:
            announce("tblsp", "crash dumps to LSP clients", listener, args.host, READS_ANY_DUMP)
            server.serve_tcp(listener)
    else:
        server.start_io(stdin.stream)
    # LSP: an exit without a shutdown before it is status 1. After Ctrl-C pygls returns as after
    # an exit (it catches KeyboardInterrupt), and Ctrl-C ends the server quietly.
    return 0 if server.shut_down or stdin.interrupted else 1


def _import_server() -> "TbLanguageServer":
    """The server, imported after argument errors, which need no LSP machinery."""
    # Importing pygls and lsprotocol makes ~100 000 objects, none of them garbage: the
    # collector would trace them all again and again while they are made (some 50 ms),
    # so it is off meanwhile, and what is there then is kept out of its later rounds.
    gc.disable()
    try:
        from . import gencache

        # The code attrs and cattrs generate comes from a cache from now on (gencache.py).
        cache = gencache.install()
        try:
            from .server import server
        except ImportError as exc:
            if (exc.name or "").partition(".")[0] not in LSP_PACKAGES:
                raise   # not a missing package: a bug of ours, to be seen whole
            raise Unavailable(_missing(exc)) from None
        if cache is not None:
            cache.save()    # now, not only at exit: an editor may kill the server
    finally:
        gc.freeze()
        gc.enable()
    return server


def _missing(exc: ImportError) -> str:
    import importlib.metadata
    try:
        installed = importlib.metadata.version("pygls")
    except importlib.metadata.PackageNotFoundError:
        return f"pygls is not installed; install it with: pip install '{PYGLS}'"
    # Another version, or a dependency of it missing or broken: what failed says which.
    return f"pygls {installed} cannot be imported ({exc}); tblsp needs {PYGLS} and what it " \
           f"depends on: pip install --force-reinstall '{PYGLS}'"


if __name__ == "__main__":
    sys.exit(main())
