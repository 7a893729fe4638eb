"""Hostile dumps for the viewers' tests: the edits an attacker makes to a real dump's safe
layer (written back by ``tests.conftest.rewrite_safe_layer``), and the limits a hostile case
runs under, so that a regression fails its test instead of hanging it or filling the
machine's memory.
"""
from __future__ import annotations

import resource
from typing import Any, Callable, Dict

Safe = Dict[str, Any]

TIMEOUT = 60                 # seconds for one viewer run; a hang fails the test
MEMORY_CAP = 1 << 30         # bytes of address space: reading /dev/zero or a 3 GB file whole fails


def memory_cap(limit: int = MEMORY_CAP) -> Callable[[], None]:
    """A ``preexec_fn`` capping the child's address space, so a read without bound fails fast."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


KEEP: Any = object()   # name_file: leave the dump's own value


def name_file(safe: Safe, path: str, text: Any = KEEP, sha256: Any = KEEP, listed: bool = True) -> None:
    """Make every frame of ``safe`` say it ran in ``path``.

    Its ``sources`` entry is the one of the file that raised, with ``text`` and
    ``sha256`` replaced when given (None: null in the dump); ``listed=False``
    leaves the file without any entry.
    """
    raised = safe["frames"][safe["exceptions"][0]["frames"][-1]]["file"]
    entry = dict(safe["sources"][raised], file=path)
    if text is not KEEP:
        entry["text"], entry["reason"] = text, None if text is not None else "not readable"
    if sha256 is not KEEP:
        entry["sha256"] = sha256
    for frame in safe["frames"]:
        frame["file"] = path
    safe["sources"] = {path: entry} if listed else {}
