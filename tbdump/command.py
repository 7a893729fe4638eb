"""What every command-line tool of tbdump says about itself: its name as invoked, its version, a TCP port, a dump's name."""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

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
