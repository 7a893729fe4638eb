"""Text from a dump made safe to print on a terminal: what could act on it is shown as an escape.

A dump is written by whoever crashed (or crafted it): its messages, names, paths
and source lines may hold escape sequences that clear the screen, retitle the
window, write the clipboard (OSC 52) or overwrite a line (``\\r``).  Printed
through ``printable`` they show as text instead, in the notation Python's
``repr`` uses (``\\x1b``), as tbpeep shows them through peepshow.
"""
from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls but \t and \n, DEL, C1 controls (a terminal may take \x9b as ESC [),
# and surrogates: in a str they are always lone, and no encoder can print one.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: "re.Match[str]") -> str:
    return repr(match.group())[1:-1]     # repr's own spelling: \x1b, \r, \ud800


def printable(text: str) -> str:
    """``text`` with every control character (but tab and newline), DEL and lone surrogate
    written as a visible escape, spelt as ``repr`` spells it (``\\x1b``, ``\\r``,
    ``\\ud800``); the rest unchanged.

    Applying it twice changes nothing more, so a viewer may escape a line it
    builds and the stream it writes to may escape again.
    """
    return _UNSAFE.sub(_escape, text)
