"""The previews a dump holds, given to the stand-ins restored inside a value, so each reads as
the value it stands in for, wherever it is held (a list's item, a dict's value, an attribute)."""
from __future__ import annotations

import ast
import types
from typing import Any, List, Set, Tuple

from .model import Value
from .placeholder import is_placeholder, take_preview

_ABSENT = object()


def give_previews(obj: Any, value: Value) -> None:
    """Walk ``value``'s preview and ``obj``, the object restored for it, side by side, and give
    each stand-in met its preview (placeholder.take_preview).  Only as far as the preview goes,
    which capture bounded, and by reading lists, tuples, dicts and instance dicts only: no code
    of the program's runs."""
    pending: List[Tuple[Any, Value]] = [(obj, value)]
    met: Set[int] = set()   # a value shared, or a cycle: walked once
    while pending:
        obj, value = pending.pop()
        if id(obj) in met:
            continue
        met.add(id(obj))
        take_preview(obj, value)
        if is_placeholder(obj):   # its attributes are its own, not the value's
            continue
        for child in value.children or ():
            part = _part(obj, child.access) if child.access else _ABSENT
            if part is not _ABSENT:
                pending.append((part, child.value))


def _part(obj: Any, access: str) -> Any:
    """What ``obj`` + ``access`` (``[0]``, ``['k']``, ``.name``) reaches, or _ABSENT where reading
    it could run the program's code."""
    kind = type(obj)
    if access.startswith("."):
        held = _instance_dict(obj)
        return held.get(access[1:], _ABSENT) if held is not None else _ABSENT
    if kind is dict:
        try:
            key = ast.literal_eval(access[1:-1])   # a preview names by their repr the keys that are literals
            return obj.get(key, _ABSENT)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return _ABSENT
    if (kind is list or kind is tuple) and access[1:-1].isdigit():
        index = int(access[1:-1])
        return obj[index] if index < len(obj) else _ABSENT
    return _ABSENT


def _instance_dict(obj: Any) -> Any:
    """``obj.__dict__`` where Python's own descriptor holds it (not a property of the class)."""
    for klass in type(obj).__mro__:
        found = vars(klass).get("__dict__")
        if found is not None:
            held = found.__get__(obj) if type(found) is types.GetSetDescriptorType else None
            return held if type(held) is dict else None
    return None
