"""Places line numbers of the source stored in a dump onto the file as it is now."""
from __future__ import annotations

import difflib
from typing import Dict, List, Optional, Sequence


class LineMap:
    """A two-way line map between stored and current text; unmatched lines map to None."""

    def __init__(self, stored: Optional[Sequence[str]], current: Sequence[str]) -> None:
        # Without the stored text nothing can be checked: lines are taken as they are.
        self.identical = stored is None or _same(stored, current)
        self._forward: Dict[int, int] = {}
        self._backward: Dict[int, int] = {}
        if self.identical or stored is None:
            return
        matcher = difflib.SequenceMatcher(None, _strip(stored), _strip(current), autojunk=False)
        for a, b, size in matcher.get_matching_blocks():
            for i in range(size):
                self._forward[a + i + 1] = b + i + 1
                self._backward[b + i + 1] = a + i + 1

    def to_current(self, line: int) -> Optional[int]:
        """The current line showing stored `line` (1-based), or None where it no longer exists."""
        return line if self.identical else self._forward.get(line)

    def to_stored(self, line: int) -> Optional[int]:
        """The stored line that current `line` (1-based) still is, or None for a new line."""
        return line if self.identical else self._backward.get(line)


def _strip(lines: Sequence[str]) -> List[str]:
    # Line endings differ between checkouts (git autocrlf) without the code differing.
    return [line.rstrip("\r\n") for line in lines]


def _same(a: Sequence[str], b: Sequence[str]) -> bool:
    return len(a) == len(b) and _strip(a) == _strip(b)
