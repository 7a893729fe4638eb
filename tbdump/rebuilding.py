"""How standard-library values that pickle refuses, or restores as something else, are
written so that a dump gives them back as the program held them.

``tbdump.reduction`` asks here only where plain pickling would fail (a regex match, a
memoryview, an asyncio Future, a TypeVar or type alias of ``__main__``) or would
mislead (a weak proxy pickles as a copy of its referent; a logger as this machine's
logger of that name; an event loop as one that closes this machine's signal handlers
and selector when collected): the values pickle handles faithfully never reach this
module.  The functions these reductions call on load live in ``tbdump.objects``.
"""
from __future__ import annotations

import array
import copyreg
import weakref
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .objects import (_asyncio_future, _idle_event_loop, _match_again, _memory, _memory_slice, _type_alias_again,
                      _type_parameter, _type_params_again, _weak_proxy)
from .model import not_captured
from .placeholder import Placeholder
from .preview import type_name
from .saferepr import describe_exception, safe_repr

Reduction = Tuple[Any, ...]


def _match(m: Any) -> Reduction:
    # A match cannot be made but by matching: on load, its pattern runs again over the
    # same text, and the result counts only if it is the same match.
    return (_match_again, (m.re, m.string, m.pos, m.endpos, m.regs))


def _memoryview(view: memoryview) -> Reduction:
    try:
        whole: Any = view.obj
    except ValueError:  # released: nothing left to view
        return (_memory, (None, True, "B", ()))
    if type(whole) in (bytes, bytearray, array.array) and view.contiguous:
        with memoryview(whole) as full:
            if (view.nbytes, view.format, view.shape, view.readonly) == (
                    full.nbytes, full.format, full.shape, full.readonly):
                return (memoryview, (whole,))   # all of it: the view of the same object
        if type(whole) is not array.array and (view.format, view.readonly) == ("B", type(whole) is bytes):
            # A slice (what is left to send of a buffer): where its bytes are, when they are
            # found once only; no buffer says where in its object it starts.
            data = view.tobytes()
            start = whole.find(data)
            if data and whole.find(data, start + 1) < 0:
                return (_memory_slice, (whole, start, start + len(data)))
    # A cast, another exporter's buffer, bytes found twice: a view of a copy of what it shows.
    return (_memory, (view.tobytes(), view.readonly, view.format, view.shape))


def _future(future: Any) -> Reduction:
    # Read from the fields, not result()/exception(): those would tell the program's
    # Future that its exception was retrieved, and silence the warning it owes.
    return (_asyncio_future, (future._loop, future._state, future._result, future._exception,
                              getattr(future, "_cancel_message", None)))


def _type_param(param: Any) -> Reduction:
    kind = type(param).__name__
    options: Dict[str, Any] = {}
    if kind != "TypeVarTuple":   # which takes a name only
        options["bound"] = getattr(param, "__bound__", None)
        for flag in ("covariant", "contravariant", "infer_variance"):
            if getattr(param, "__%s__" % flag, False):
                options[flag] = True
    if getattr(param, "has_default", lambda: False)():  # 3.13's defaults
        options["default"] = param.__default__
    constraints = tuple(getattr(param, "__constraints__", ()))
    return (_type_parameter, (kind, param.__name__, constraints, options, getattr(param, "__module__", None)))


def _type_alias(alias: Any) -> Reduction:
    # Its value is worked out on first use (a `type` statement's is code): read here, where
    # its names still are what the program had.
    try:
        value = alias.__value__
    except Exception as exc:    # a name the program never defined: what using it raises
        value = Placeholder("value", not_captured(describe_exception(exc)))
    else:
        if _names_itself(value, alias):   # `type Tree = list[Tree] | int`: pickle would loop
            value = Placeholder(type_name(value), not_captured("it names the alias itself"), safe_repr(value))
    return (_type_alias_again, (alias.__name__, value, alias.__type_params__))


def type_params(function: Any) -> Optional[Reduction]:
    """A generic function (``def first[T]``, ``def get[U](self)``: Python 3.12) as dill writes it,
    then given its type parameters on load: dill writes a function's code, names, defaults,
    annotations and ``__dict__``, not its ``__type_params__``, which came back empty.  None:
    it has none (or this Python has no such thing), dill's own is the whole function."""
    params = getattr(function, "__type_params__", ())
    return (_type_params_again, (function, params)) if type(params) is tuple and params else None


def _names_itself(value: Any, alias: Any, limit: int = 1000) -> bool:
    """Whether ``alias`` is found in ``value`` (a union's or generic's arguments, other
    aliases' values): a cycle no reduction of it can write."""
    todo: List[Any] = [value]
    seen: Set[int] = set()
    while todo and len(seen) < limit:
        item = todo.pop()
        if item is alias:
            return True
        if id(item) not in seen:
            seen.add(id(item))
            args = getattr(item, "__args__", None)
            todo += list(args) if type(args) is tuple else []
            for name in ("__origin__", "__value__"):
                try:
                    todo.append(getattr(item, name))
                except Exception:   # no such attribute, or an alias whose value cannot be worked out
                    pass
    return False


# By the type's qualified name, so that asyncio, say, is never imported for this.
_REFUSED: Dict[str, Callable[[Any], Reduction]] = {
    "re.Match": _match,
    "builtins.memoryview": _memoryview,
    "_asyncio.Future": _future,
    # Pickled by name, which another process finds only where the name is a module global.
    "typing.TypeVar": _type_param,
    "typing.ParamSpec": _type_param,
    "typing.TypeVarTuple": _type_param,
    "typing.TypeAliasType": _type_alias,   # `type Alias = ...` (3.12)
}


def refused(obj: Any, qual: str) -> Optional[Reduction]:
    """How ``obj``, of the type named ``qual``, is written where pickling it fails; None: no way."""
    maker = _REFUSED.get(qual)
    try:
        return None if maker is None else maker(obj)
    except Exception:  # what it reads is not there (a state no live one has): a placeholder, as before
        return None


PROXY_TYPES = frozenset((weakref.ProxyType, weakref.CallableProxyType))


def proxy(obj: Any) -> Optional[Reduction]:
    """A weak proxy as one to the object the dump shares with every other reference to it
    (pickle would write a copy of that object in its place); None when its referent cannot
    be found.  A proxy does not say what it points to: its referent's bound methods do."""
    try:
        for name in ("__getattribute__", "mro"):
            target = getattr(getattr(obj, name, None), "__self__", None)
            if target is not None and any(ref is obj for ref in weakref.getweakrefs(target)):
                return (_weak_proxy, (target,))
    except ReferenceError:
        return (_weak_proxy, (None,))
    return None


def logger(obj: Any) -> Reduction:
    """A logger as the program had set it (level, handlers, propagation, its parents'):
    pickle writes its name only, which gives the logger of that name of the process that loads it."""
    return (copyreg.__newobj__, (type(obj),), dict(obj.__dict__))  # type: ignore[attr-defined]


def event_loop(rv: Reduction) -> Reduction:
    """An asyncio event loop as pickle writes it (``rv``), made on load by ``_idle_event_loop``:
    collected, pickle's would close itself, on this machine's signal handlers and selector."""
    return (_idle_event_loop, (rv[0], rv[1])) + tuple(rv[2:])
