"""Module globals stored in members of their own (format 2), read and checked when first asked for.

A big program's stack runs through dozens of modules of thousands of globals each;
a frame's locals, the stack and the sources need none of them.  Parsed with the
safe layer, 40 modules of 3 000 globals made ``tbdump.load`` take seconds; read
here, a module's globals cost only the viewer that shows them.
"""
from __future__ import annotations

import functools
import json
import threading
from typing import Callable, Dict, Iterator, List, Mapping, Optional

from .errors import DumpError
from .fields import BadField, collector_paused
from .model import OMITTED_GLOBAL, Value, values_by_name

# The one entry of a module's globals whose member cannot be read: found after the dump
# opened, it is said where the globals would be, as a damaged object is (a placeholder).
UNREADABLE = "<globals>"


class LazyNamespace(Mapping[str, Value]):
    """A module's globals (name -> preview), read from the dump the first time they are asked for."""

    def __init__(self, load: Callable[[], Dict[str, Value]]) -> None:
        self._load = load
        self._values: Optional[Dict[str, Value]] = None
        self._lock = threading.Lock()   # a viewer's threads may ask at once: read once

    @property
    def loaded(self) -> Dict[str, Value]:
        if self._values is None:
            with self._lock:
                if self._values is None:
                    self._values = self._load()
        return self._values

    def __getitem__(self, name: str) -> Value:
        return self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.loaded)

    def __len__(self) -> int:
        return len(self.loaded)

    def __contains__(self, name: object) -> bool:
        return name in self.loaded

    def __repr__(self) -> str:
        return "<module globals: %s>" % ("not read yet" if self._values is None else "%d names" % len(self._values))


def stored_globals(read: Callable[[str], bytes], member: str, omitted: List[str]) -> LazyNamespace:
    """The globals in ``member`` of the dump whose members ``read`` gives, with the ``omitted``
    names (over the max_globals budget) as not captured."""
    return LazyNamespace(functools.partial(_read, read, member, omitted))


def _read(read: Callable[[str], bytes], member: str, omitted: List[str]) -> Dict[str, Value]:
    try:
        with collector_paused():
            values = values_by_name(json.loads(read(member)))
    except DumpError as exc:   # missing, out of bounds, failing its checksum, not inflating
        why = str(exc)
    except BadField as exc:   # checked as the safe layer is, and named the same way
        why = "the dump's member %r is damaged (%s)" % (member, exc)
    except ValueError:
        why = "the dump's member %r is damaged (not JSON)" % member
    except RecursionError:
        why = "the dump's member %r is damaged (nested too deeply)" % member
    else:
        values.update(dict.fromkeys(omitted, OMITTED_GLOBAL))
        return values
    reason = "not readable: %s" % why
    return {UNREADABLE: Value(type="?", repr="<%s>" % reason, missing=reason)}
