"""Bounded reprs that read like debugpy's values and never raise.

The rules follow debugpy's SafeRepr (collections cut to 60 items at the top
and 20 inside, strings cut in the middle at 2**16 / 128 characters, long
nested iterables shown as ``<list, len() = N>``) so that a replayed value
looks exactly like the live one.
"""
from __future__ import annotations

import types
from collections import OrderedDict, deque
from itertools import chain, islice
from typing import Any, Iterable, Iterator, List, Optional, Set, Tuple

from .budget import BudgetExceeded
from .claimed import claimed_class, is_a

MAX_COLLECTION: Tuple[int, ...] = (60, 20)
MAX_STRING_OUTER = 2 ** 16
MAX_STRING_INNER = 128
MAX_OTHER_OUTER = 2 ** 16
MAX_OTHER_INNER = 128

_COLLECTIONS: List[Tuple[type, str, str, bool]] = [
    (tuple, "(", ")", True),
    (list, "[", "]", False),
    (frozenset, "frozenset({", "})", False),
    (set, "{", "}", False),
    (deque, "deque([", "])", False),
]
_DICTS: List[Tuple[type, str, str, str, str, str]] = [
    (dict, "{", "}", "", ": ", ""),
    (OrderedDict, "OrderedDict([", "])", "(", ", ", ")"),
]
_PLAIN_NUMBERS = frozenset((int, float, bool, type(None)))
# Builtin callables and descriptors, and plain classes: their repr is C code that
# names the object and its address, never reads content or runs user code.
FIXED_REPR_TYPES = frozenset((types.BuiltinFunctionType, types.MethodWrapperType,
                              types.WrapperDescriptorType, types.MethodDescriptorType,
                              types.ClassMethodDescriptorType, types.GetSetDescriptorType,
                              types.MemberDescriptorType, types.FunctionType, type))
_LONG_ITER_TYPES = (list, tuple, bytearray, range, dict, set, frozenset)


def safe_repr(obj: Any, hex_ints: bool = False, said: Optional[type] = None) -> str:
    """debugpy-style repr of ``obj``; a failing ``__repr__`` gives a description instead.
    ``said``: the class it says it is of (claimed.claimed_class), when already read."""
    try:
        return "".join(_repr(obj, 0, hex_ints, said))
    except BudgetExceeded:
        raise
    except BaseException as exc:  # hostile reprs raise anything, SystemExit included
        return repr_failed(exc)


def repr_failed(exc: BaseException) -> str:
    """What safe_repr shows of a value whose repr raised ``exc``."""
    return "<repr failed: %s>" % describe_exception(exc)


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` of an exception whose ``__str__`` may itself raise."""
    try:
        text = str(exc)
    except BaseException:
        text = ""
    name = type(exc).__name__
    return "%s: %s" % (name, text) if text else name


def _has_repr_of(obj: Any, t: type) -> bool:
    try:
        own = type(obj).__repr__
    except Exception:
        return False
    try:
        return bool(own == t.__repr__)
    except Exception:
        return own is t.__repr__


def _repr(obj: Any, level: int, hex_ints: bool, said: Optional[type] = None) -> Iterator[str]:
    t = type(obj)
    if t in _PLAIN_NUMBERS and not hex_ints:  # the bulk of any collection: no checks needed
        return iter((repr(obj),))
    if t is str or t is bytes:
        return iter((string_repr(obj, level),))
    if t in FIXED_REPR_TYPES:
        return _repr_cut(obj, level, MAX_OTHER_INNER, MAX_OTHER_OUTER, False, t)
    if t in _FLAT_TYPES and level < len(MAX_COLLECTION) and not hex_ints:
        text = _flat_repr(obj, t, level)
        if text is not None:
            return iter((text,))
    # A container's repr is its own only where its type's is a container's: asked of the type.
    for kind, prefix, suffix, comma in _COLLECTIONS:
        if issubclass(t, kind) and _has_repr_of(obj, kind):
            return _repr_iter(obj, level, prefix, suffix, comma, hex_ints)
    for kind, prefix, suffix, item_prefix, sep, item_suffix in _DICTS:
        if issubclass(t, kind) and _has_repr_of(obj, kind):
            return _repr_dict(obj, level, prefix, suffix, item_prefix, sep, item_suffix, hex_ints)
    # The rest as debugpy asks, by isinstance: a lazy text or list by the class it says, read once
    # (what reading it raises is the repr's failure, as isinstance's was).
    if said is None:
        said = claimed_class(obj)
    if is_a(obj, said, (str, bytes)) and _has_repr_of(obj, t):
        return iter((string_repr(obj, level),))
    if _is_long_iter(obj, said=said):
        return _repr_long_iter(obj)
    return _repr_cut(obj, level, MAX_OTHER_INNER, MAX_OTHER_OUTER, hex_ints, said)


_FLAT_TYPES = {t: (prefix, suffix, comma) for t, prefix, suffix, comma in _COLLECTIONS if t is not deque}
_FLAT_TYPES[dict] = ("{", "}", False)
_FLAT_ITEMS = frozenset((int, float, bool, type(None), str, bytes))
_TEXTS = frozenset((str, bytes))


def _flat_repr(obj: Any, t: type, level: int) -> Any:
    """What _repr_iter/_repr_dict give for an exact builtin container of scalars, or at the top
    of scalars and such containers (a record's ``{'id': 1, 'tags': ['a']}``), in one join;
    None when an item shown is anything else."""
    count = MAX_COLLECTION[level]
    if len(obj) < count and t in _WHOLE_REPR:
        # Shown whole (most containers): the C repr of the container itself, when its items
        # are plain scalars and no text is long enough to be cut.
        found = set(map(type, obj)) | set(map(type, obj.values())) if t is dict else set(map(type, obj))
        if found <= _FLAT_ITEMS and (found.isdisjoint(_TEXTS) or
                                     _texts_fit(chain(obj, obj.values()) if t is dict else obj, found)):
            return repr(obj)
    items = list(islice(obj.items() if t is dict else obj, count))
    shown = items[:count - 1]
    scalars = [x for pair in shown for x in pair] if t is dict else shown
    found = set(map(type, scalars))
    if not found <= _FLAT_ITEMS:
        texts = _nested_texts(obj, scalars, found, level + 1)
        if texts is None:
            return None
        body = ", ".join(["%s: %s" % pair for pair in zip(texts[::2], texts[1::2])] if t is dict else texts)
    elif found.isdisjoint(_TEXTS) or _texts_fit(scalars, found):
        # Nothing to cut: the items' own reprs, joined by the C repr of a dict or list.
        body = repr(dict(shown) if t is dict else shown)[1:-1]
    elif t is dict:
        body = ", ".join(["%s: %s" % (_scalar_text(k, level + 1), _scalar_text(v, level + 1)) for k, v in shown])
    else:
        body = ", ".join([_scalar_text(item, level + 1) for item in shown])
    prefix, suffix, comma = _FLAT_TYPES[t]
    if len(items) == count:
        body += ", ..." if body else "..."
    elif comma and len(shown) == 1:
        suffix = "," + suffix
    return prefix + body + suffix


# Exact containers whose C repr is the one _flat_repr joins, an empty one's too ("set()" is not).
_WHOLE_REPR = frozenset((dict, list, tuple))


def _texts_fit(items: Iterable[Any], found: Set[type]) -> bool:
    """Whether no text among ``items`` (of the types ``found``) is cut at the next level."""
    return max(map(len, items if found <= _TEXTS else [x for x in items if type(x) in _TEXTS])) <= MAX_STRING_INNER


def _nested_texts(outer: Any, items: List[Any], found: Set[type], level: int) -> Optional[List[str]]:
    """The reprs of ``items`` (of ``outer``, at ``level``) when each is a scalar or an exact
    builtin container of scalars (_flat_repr); None otherwise, and for ``outer`` itself."""
    if level >= len(MAX_COLLECTION) or not found <= _NESTABLE:
        return None
    texts = []
    for item in items:
        t = type(item)
        if t in _FLAT_TYPES:
            text = None if item is outer else _flat_repr(item, t, level)
            if text is None:
                return None
            texts.append(text)
        else:
            texts.append(_scalar_text(item, level))
    return texts


_NESTABLE = _FLAT_ITEMS | frozenset(_FLAT_TYPES)


def _scalar_text(obj: Any, level: int) -> str:
    return string_repr(obj, level) if type(obj) in (str, bytes) else repr(obj)


_CUT = object()


def _shown(items: Iterable[Any], level: int) -> Iterator[Tuple[str, Any]]:
    """(separator, item) for each item a collection's repr shows at this level; a collection
    with more ends with ("..." after its separator, _CUT)."""
    count = MAX_COLLECTION[level]
    for n, item in enumerate(items):
        count -= 1
        if count <= 0:
            yield (", ..." if n else "..."), _CUT
            return
        yield (", " if n else ""), item


def _repr_iter(obj: Any, level: int, prefix: str, suffix: str, comma: bool,
               hex_ints: bool) -> Iterator[str]:
    yield prefix
    if level >= len(MAX_COLLECTION):
        yield "..."
    else:
        shown = 0
        for separator, item in _shown(obj, level):
            yield separator
            if item is _CUT:
                break
            shown += 1
            yield from _repr(item, 100 if item is obj else level + 1, hex_ints)
        else:
            if comma and shown == 1:
                yield ","
    yield suffix


def _repr_dict(obj: Any, level: int, prefix: str, suffix: str, item_prefix: str,
               sep: str, item_suffix: str, hex_ints: bool) -> Iterator[str]:
    if not obj:
        yield prefix + suffix
        return
    if level >= len(MAX_COLLECTION):
        yield prefix + "..." + suffix
        return
    yield prefix
    # A copy of the keys shown, not of a million: safe if reading an item changes the dict.
    for separator, key in _shown(list(islice(obj, MAX_COLLECTION[level])), level):
        yield separator
        if key is _CUT:
            break
        yield item_prefix
        yield from _repr(key, level + 1, hex_ints)
        yield sep
        try:
            item = obj[key]
        except Exception:
            yield "<?>"
        else:
            yield from _repr(item, 100 if item is obj else level + 1, hex_ints)
        yield item_suffix
    yield suffix


def string_repr(obj: Any, level: int = 0) -> str:
    """A str or bytes as debugpy shows it: cut in the middle by length, then repr'd."""
    limit = MAX_STRING_INNER if level > 0 else MAX_STRING_OUTER
    if len(obj) <= limit:
        return repr(obj)
    left, right = max(1, int(2 * limit / 3)), max(1, int(limit / 3))
    start = repr(obj[:left])
    end = repr(obj[-right:])
    return start[:start.rindex("'")] + "..." + end[end.index("'") + 1:]


def _repr_cut(obj: Any, level: int, inner: int, outer: int, hex_ints: bool,
              said: type) -> Iterator[str]:
    if hex_ints and is_a(obj, said, int) and not is_a(obj, said, bool):
        text = hex(obj)
    else:
        text = repr(obj)
    limit = inner if level > 0 else outer
    if len(text) <= limit:
        yield text
        return
    left, right = max(1, int(2 * limit / 3)), max(1, int(limit / 3))
    yield text[:left] + "..." + text[-right:]


def _repr_long_iter(obj: Any) -> Iterator[str]:
    try:
        yield "<%s, len() = %s>" % (type(obj).__name__, len(obj))
    except Exception:
        yield "<%s>" % type(obj).__name__


def _is_long_iter(obj: Any, level: int = 0, said: Optional[type] = None) -> bool:
    try:
        if not hasattr(obj, "__iter__"):
            return False
        if said is None:
            said = claimed_class(obj)
        if is_a(obj, said, (str, bytes)) or not is_a(obj, said, _LONG_ITER_TYPES):
            return False
        if obj is iter(obj) or is_a(obj, said, range):
            return False
        if type(obj).__module__.partition(".")[0] in ("numpy", "scipy"):
            return False
        if level >= len(MAX_COLLECTION):
            return True
        if len(obj) > MAX_COLLECTION[level]:
            return True
        return any(_is_long_iter(item, level + 1) for item in obj)
    except Exception:
        return True
