"""Module globals and source texts stored in members of their own (format 2), read and
checked when first asked for.

A big program's stack runs through dozens of modules of thousands of globals each;
a frame's locals, the stack and the sources need none of them.  Parsed with the
safe layer, 40 modules of 3 000 globals made ``tbdump.load`` take seconds; read
here, a module's globals cost only the viewer that shows them.  Their 40 source
files, 4 MB of text, were most of what was left of opening the dump.
"""
from __future__ import annotations

import functools
import json
import threading
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, TypeVar

from .errors import DumpError
from .fields import TEXT, BadField, collector_paused, of_kind
from .model import OMITTED_GLOBAL, TextLoader, Value, values_by_name
from .placeholder import is_placeholder

T = TypeVar("T")

# The one entry of a module's globals whose member cannot be read: found after the dump
# opened, it is said where the globals would be, as a damaged object is (a placeholder).
UNREADABLE = "<globals>"


def unreadable(namespace: Mapping[str, Any]) -> Optional[str]:
    """Why a frame's module globals are not in ``namespace`` (previews, or the objects a
    debugger looks names up in), or None when they were read: a name the program had
    there is otherwise only "not defined"."""
    entry: Any = namespace.get(UNREADABLE)
    if issubclass(type(entry), Value):   # of its real class: the entry may be any restored object
        return entry.missing
    if is_placeholder(entry):
        return entry.reason
    return None


def unread_globals(error: str, namespace: Mapping[str, Any]) -> Optional[str]:
    """What every viewer adds to ``error``, evaluated in a frame whose module globals are in
    ``namespace``: why they are not in the dump, when it is a NameError (the name may have
    been one of them); else None."""
    return unreadable(namespace) if error.startswith("NameError") else None


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

    def forget(self) -> None:
        """Let the values read go (capture's spooled globals, kept read one module at a time):
        the next question reads them again."""
        self._values = None

    def __repr__(self) -> str:
        return "<module globals: %s>" % ("not read yet" if self._values is None else "%d names" % len(self._values))


def stored_globals(read: Callable[[str], bytes], member: str, omitted: List[str]) -> LazyNamespace:
    """The globals in ``member`` of the dump whose members ``read`` gives, with the ``omitted``
    names (over the max_globals budget) as not captured."""
    return LazyNamespace(functools.partial(_read, read, member, omitted))


def _read(read: Callable[[str], bytes], member: str, omitted: List[str]) -> Dict[str, Value]:
    values, why = _parsed(read, member, values_by_name)
    if values is not None:
        values.update(dict.fromkeys(omitted, OMITTED_GLOBAL))
        return values
    reason = "not readable: %s" % why
    return {UNREADABLE: Value(type="?", repr="<%s>" % reason, missing=reason)}


def stored_text(read: Callable[[str], bytes], member: str) -> TextLoader:
    """What reads a source's text from ``member`` of the dump whose members ``read`` gives."""
    return functools.partial(_text, read, member)


def _text(read: Callable[[str], bytes], member: str) -> Tuple[Optional[str], Optional[str]]:
    text, why = _parsed(read, member, of_kind(TEXT))
    return text, None if text is not None else "not readable: %s" % why


def _parsed(read: Callable[[str], bytes], member: str, build: Callable[[Any], T]) -> Tuple[Optional[T], str]:
    """``build`` of the member's JSON, or None and why the member cannot be read."""
    try:
        with collector_paused():
            return build(json.loads(read(member))), ""
    except DumpError as exc:   # missing, out of bounds, failing its checksum, not inflating
        return None, str(exc)
    except BadField as exc:   # checked as the safe layer is, and named the same way
        return None, "the dump's member %r is damaged (%s)" % (member, exc)
    except ValueError:
        return None, "the dump's member %r is damaged (not JSON)" % member
    except RecursionError:
        return None, "the dump's member %r is damaged (nested too deeply)" % member
    except MemoryError:   # up to MAX_READ_BYTES inflated, and parsed: past a viewer's memory cap
        return None, "the dump's member %r does not fit in memory" % member
