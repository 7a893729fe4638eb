"""How a dump's exceptions hang together: causes, contexts and exception-group members."""
from __future__ import annotations

from collections import deque
from typing import Deque, List, NamedTuple, Optional, Sequence, Set

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


def chained_from(exceptions: Sequence[ExceptionRecord], index: int) -> Optional[ChainLink]:
    """The cause of ``exceptions[index]``, else its context: what Python prints before it."""
    return next((link for link in links_of(exceptions, index) if link.relation != MEMBER), None)


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
