"""A module's globals encoded as their member of the dump as soon as capture has them.

A big program's stack runs through dozens of modules of thousands of globals each: held
as previews to the end of capture (40 modules of 3 000: over 200 MB of Python objects for
a 6.6 MB dump), a crash in a memory-limited container was killed writing its dump.
Spooled, one module's previews live only while its globals are captured.
"""
from __future__ import annotations

import json
import zlib
from typing import Any, Callable, Dict, Mapping

from .container import deflate, json_dumps
from .lazymembers import LazyNamespace
from .model import EncodedMember, Value, json_default, values_by_name


def json_bytes(tree: Any) -> bytes:
    """A safe-layer member's JSON (a to_json tree, its previews met as Values), as the dump holds it."""
    # The trees are built fresh by to_json and previews' children are made fresh, so they hold
    # no cycles: the encoder's check for them costs half of a 900-frame safe layer's encoding.
    # Texts go out as UTF-8, not escaped: a seventh less of the encoding's time.
    text = json_dumps(tree, check_circular=False, ensure_ascii=False, separators=(",", ":"), default=json_default)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (a file name's undecodable byte): escaped
        return json_dumps(tree, check_circular=False, separators=(",", ":"), default=json_default).encode()


class SpooledGlobals(LazyNamespace, EncodedMember):
    """A module's globals (name -> preview), kept as their member's compressed JSON; read
    back only when asked for (an object met again in another module's globals, secrets
    learned after them to scrub)."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        super().__init__(self._decode)
        self.payload = _encoded(values)

    def _decode(self) -> Dict[str, Value]:
        return values_by_name(json.loads(zlib.decompress(self.payload)))

    def change(self, edit: Callable[[Dict[str, Value]], None]) -> None:
        """``edit`` the values, read back, and keep them encoded again."""
        edit(self.loaded)
        self.payload = _encoded(self.loaded)
        self.forget()


def _encoded(values: Mapping[str, Value]) -> bytes:
    return deflate(json_bytes(dict(values)))
