"""The object index (member ``objects.idx``): where each record of the object member lies.

Format 2 packs it, ``ENTRY`` bytes a record, and a reader decodes and checks an entry
when it first needs that entry: a big program's dump has a record per global value
(120 000 for 40 modules of 3 000), and reading one frame's locals must neither parse nor
check the entries of every module's globals.  Format 1 wrote it as JSON, checked whole.
"""
from __future__ import annotations

import itertools
import json
import operator
import struct
from typing import Any, Iterable, Tuple

from .fields import collector_paused

# offset and length (unsigned 64-bit little-endian), then fresh and alone (a byte each, 0 or 1).
ENTRY = struct.Struct("<QQBB")

Entry = Tuple[int, int, int, int]


class DamagedEntry(ValueError):
    """An entry that cannot be followed: its record reaches past the member, or a flag is not 0 or 1."""


def pack(entries: Iterable[Entry]) -> bytes:
    """The index member's bytes for ``(offset, length, fresh, alone)`` entries."""
    return b"".join(itertools.starmap(ENTRY.pack, entries))


class ObjectIndex:
    """The entries of a packed index, each decoded and checked when asked for."""

    def __init__(self, data: bytes, size: int) -> None:
        if len(data) % ENTRY.size:
            raise ValueError("the index is not a whole number of entries")
        self._data = data
        self._size = size   # of the object member: every record must lie inside it

    def __len__(self) -> int:
        return len(self._data) // ENTRY.size

    def entry(self, record: int) -> Entry:
        """``(offset, length, fresh, alone)`` of a record number within ``len(self)``."""
        offset, length, fresh, alone = ENTRY.unpack_from(self._data, record * ENTRY.size)
        if offset + length > self._size or fresh > 1 or alone > 1:
            raise DamagedEntry("the dump's object index entry %d is damaged" % record)
        return offset, length, fresh, alone


def read_index(data: bytes, format_version: Any, size: int) -> ObjectIndex:
    """The index of an object member of ``size`` bytes; ValueError (or RecursionError, for a
    format 1 index nested past the stack) when it cannot be followed at all."""
    if format_version != 1:
        return ObjectIndex(data, size)
    with collector_paused():
        entries = json.loads(data)
    if not _json_index_is_valid(entries, size):
        raise ValueError("bad index")
    return ObjectIndex(pack((e[0], e[1], int(bool(e[2])), int(len(e) > 3 and bool(e[3]))) for e in entries), size)


def _json_index_is_valid(index: Any, size: int) -> bool:
    """Whether a format 1 index can be followed: a list of ``[offset, length, fresh, alone]``
    (three items in dumps older than ``alone``) of non-negative ints inside the member of
    ``size`` bytes.  A crafted one must be a damaged object layer, not a crash."""
    # Checked with C-level loops (map, min, max): a deep stack's index has thousands of entries.
    if type(index) is not list or not index:
        return type(index) is list
    if set(map(type, index)) != {list} or not set(map(len, index)) <= {3, 4}:
        return False
    numbers = list(itertools.chain.from_iterable(index))
    if set(map(type, numbers)) != {int} or min(numbers) < 0:
        return False
    return max(map(operator.add, map(operator.itemgetter(0), index), map(operator.itemgetter(1), index))) <= size
