"""How a dump's exceptions hang together: causes, contexts and exception-group members,
and the one rule that links the objects standing for them as the live ones were."""
from __future__ import annotations

import builtins
from collections import deque
from typing import Any, Deque, Dict, List, NamedTuple, Sequence, Set

from .model import ExceptionRecord

CAUSE = "cause"
CONTEXT = "context"
MEMBER = "member"


class ChainLink(NamedTuple):
    """One exception reached from another: ``exceptions[linked]`` is the ``relation`` of
    ``exceptions[parent]``."""

    linked: int      # the exception reached, into the list of exceptions
    parent: int
    relation: str    # CAUSE, CONTEXT or MEMBER
    number: int = 0  # MEMBER only: its place among the parent's members, from 1


def links_of(exceptions: Sequence[ExceptionRecord], index: int) -> List[ChainLink]:
    """What ``exceptions[index]`` links to, in the order a traceback shows them."""
    record = exceptions[index]
    out: List[ChainLink] = []
    if record.cause is not None:
        out.append(ChainLink(record.cause, index, CAUSE))
    elif record.context is not None and not record.suppress_context:
        out.append(ChainLink(record.context, index, CONTEXT))
    out += [ChainLink(m, index, MEMBER, n) for n, m in enumerate(record.members, 1)]
    return out


def walk(exceptions: Sequence[ExceptionRecord], breadth_first: bool = False) -> List[ChainLink]:
    """Every exception reached from ``exceptions[0]``, each once (a chain may loop back),
    depth first in display order, or breadth first; iterative, so 1000-long chains are fine."""
    if not exceptions:
        return []
    out: List[ChainLink] = []
    seen: Set[int] = {0}
    pending: Deque[ChainLink] = deque(links_of(exceptions, 0))
    while pending:
        link = pending.popleft()
        if link.linked in seen:
            continue
        seen.add(link.linked)
        out.append(link)
        below = links_of(exceptions, link.linked)
        if breadth_first:
            pending.extend(below)
        else:
            pending.extendleft(reversed(below))
    return out


# What links an exception to the others, which pickle does not keep (the traceback aside).
LINK_SLOTS = ("__cause__", "__context__", "__suppress_context__")
_SLOTS = {name: BaseException.__dict__[name] for name in LINK_SLOTS + ("__traceback__",)}
EXCEPTION_GROUP: Any = getattr(builtins, "BaseExceptionGroup", ())   # none before Python 3.11


def get_slot(exc: BaseException, name: str) -> Any:
    """``exc``'s ``__cause__``, ``__context__``, ``__suppress_context__`` or ``__traceback__`` as
    the interpreter reads it to print a traceback: BaseException's own, past the class's
    ``__getattribute__`` (one answering None for every name left a dump without frames)."""
    return _SLOTS[name].__get__(exc)


def set_slot(exc: BaseException, name: str, value: Any) -> None:
    """Set ``exc``'s ``__cause__``, ``__context__``, ``__suppress_context__`` or ``__traceback__``
    as the interpreter sets it at a raise: BaseException's own, past the class's ``__setattr__``
    (a class that refuses attributes, as immutable error values do, held them live all the same)."""
    _SLOTS[name].__set__(exc, value)


def link(exc: BaseException, name: str, linked: Any) -> None:
    """Give ``exc`` one of its LINK_SLOTS back, where a real exception can hold it: an exception
    or None (a bool for ``__suppress_context__``).  A link to what did not load (a placeholder),
    or a damaged dump's, is left as it is: None after loading."""
    try:
        set_slot(exc, name, linked)
    except (KeyError, TypeError, ValueError):
        pass


def attach(obj: Any, name: str, value: Any) -> None:
    """Set ``obj``'s attribute ``name`` as a plain object takes one, running none of its class's
    code: ``obj`` stands for an exception without being one (a stand-in group, a preview, a
    placeholder, a restored object of another class).  One whose class sets attributes its own
    way (a lazy proxy's ``__setattr__`` writes to what it stands for, fetching it) or has a
    descriptor of that name (a property) is left as it is, as is one that takes no attributes
    (a damaged dump's int)."""
    for klass in type(obj).__mro__:
        own = vars(klass)
        # Python's own setter, object's or BaseException's (which the object's class may derive from).
        setter = own.get("__setattr__", object.__setattr__)
        plain = setter is object.__setattr__ or setter is BaseException.__setattr__
        if not plain or hasattr(type(own.get(name)), "__set__"):
            return
    try:
        object.__setattr__(obj, name, value)
    except (AttributeError, TypeError):
        pass


def link_chain(objects: Sequence[Any], records: Sequence[ExceptionRecord]) -> None:
    """Link ``objects[n]``, whatever stands for ``records[n]``, to the others as the live exceptions were.

    What live Python holds: ``__cause__``, ``__context__`` (also where ``__suppress_context__``
    keeps it out of the traceback), ``__suppress_context__``, and a group's ``exceptions``.
    Each object comes back from the dump unlinked (pickle keeps no cause or context; a
    stand-in or preview has none), so every viewer links its own objects here, by one rule:

    - a real exception holds only an exception or None: where the linked exception did not
      load (a placeholder), the link stays None; its ``exceptions`` (a real group's) are the
      group's own, fixed when it was built (``standins.traced`` rebuilds it around others);
    - anything else (a stand-in group, a preview in safe mode, a placeholder) takes every
      link, the members as a tuple, where it takes attributes as a plain object does
      (``attach``: not a damaged dump's int, nor a proxy whose ``__setattr__`` is its own).

    A chain that loops back needs nothing special: each link is one assignment.
    """
    for obj, record in zip(objects, records):
        cause = None if record.cause is None else objects[record.cause]
        context = None if record.context is None else objects[record.context]
        links: Dict[str, Any] = {}
        values = (cause, context, record.suppress_context)
        # Told by its real class: isinstance() reads __class__, which runs a program's property of
        # that name (a lazy proxy's, fetching what it stands for) and may claim an exception.
        if issubclass(type(obj), BaseException):
            for name, value in zip(LINK_SLOTS, values):
                link(obj, name, value)
        else:
            links.update(zip(LINK_SLOTS, values))
        if record.is_group and not issubclass(type(obj), EXCEPTION_GROUP):
            links["exceptions"] = tuple(objects[m] for m in record.members)
        for name, value in links.items():
            attach(obj, name, value)


def members_first(exceptions: Sequence[ExceptionRecord]) -> List[int]:
    """Every index into ``exceptions``, each group after its members (a group is built
    around its members); iterative, and a damaged dump's loop of members is cut anywhere."""
    out: List[int] = []
    seen: Set[int] = set()
    for root in range(len(exceptions)):
        pending = [(root, False)]
        while pending:
            index, expanded = pending.pop()
            if expanded:
                out.append(index)
            elif index not in seen:
                seen.add(index)
                pending.append((index, True))
                pending.extend((m, False) for m in reversed(exceptions[index].members) if m not in seen)
    return out
