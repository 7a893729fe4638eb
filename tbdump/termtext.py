"""Text from a dump made safe to print on a terminal: what could act on it is shown as an escape.

A dump is written by whoever crashed (or crafted it): its messages, names, paths
and source lines may hold escape sequences that clear the screen, retitle the
window, write the clipboard (OSC 52) or overwrite a line (``\\r``), and
invisible format characters that reorder what is drawn around them (U+202E
RIGHT-TO-LEFT OVERRIDE: "Trojan Source", CVE-2021-42574).  Printed through
``printable`` they show as text instead, in the notation Python's ``repr`` uses
(``\\x1b``, ``\\u202e``), as tbpeep shows them through peepshow.
"""
from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls but \t and \n, DEL, C1 controls (a terminal may take \x9b as ESC [),
# and surrogates: in a str they are always lone, and no encoder can print one.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
# Unicode's format characters (category Cf: bidi overrides, isolates and marks,
# zero-width spaces and joiners, the BOM, invisible operators, tags) and the line
# and paragraph separators (Zl, Zp), which editors and terminals draw as a line
# break: all invisible or reordering. repr escapes each of them (str.isprintable
# is False), so a str's preview already shows them escaped; they arrive raw in
# the texts that are not a repr of a string: a __repr__ of the program's, an
# exception's message, a name, a source line. Listed as of Unicode 15.1 (Python
# 3.13), so every Python escapes the same; scanning the database at import
# would cost a fifth of a second.
_FORMAT = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
           "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
           "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_UNSAFE = re.compile("[%s%s]" % (_CONTROLS, _FORMAT))


def _escape(match: "re.Match[str]") -> str:
    return repr(match.group())[1:-1]     # repr's own spelling: \x1b, \r, \ud800


def printable(text: str) -> str:
    """``text`` with every control character (but tab and newline), DEL, lone surrogate,
    format character and line or paragraph separator written as a visible escape,
    spelt as ``repr`` spells it (``\\x1b``, ``\\r``, ``\\ud800``, ``\\u202e``); the
    rest unchanged.

    Applying it twice changes nothing more, so a viewer may escape a line it
    builds and the stream it writes to may escape again.
    """
    return _UNSAFE.sub(_escape, text)
