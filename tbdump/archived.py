"""The bytes of a source inside a zip archive: a zip app's ``app.pyz/__main__.py``, a module
imported from a zip or an egg on ``sys.path``.

Python names such code by the archive's path joined with the member's, which is no file:
capture reads the member with zipfile, as zipimport read it, and runs no loader of the
program to get it.
"""
from __future__ import annotations

import os
import stat
import zipfile
from typing import NamedTuple, Optional, Tuple

__all__ = ["Archived", "read_archived"]


class Archived(NamedTuple):
    data: bytes      # the member's first ``limit + 1`` bytes: more than ``limit`` says it is larger
    mtime: float     # the archive's last change


def _in_archive(filename: str) -> Optional[Tuple[str, str]]:
    """The archive (a regular file) and the member name ``filename`` stands for; None when no
    ancestor of it is a regular file."""
    if filename.startswith("<"):
        return None
    head, parts = filename, []
    while True:
        head, tail = os.path.split(head)
        if not tail:
            return None
        parts.append(tail)
        try:
            mode = os.stat(head).st_mode
        except (OSError, ValueError):
            continue
        if stat.S_ISDIR(mode):
            return None   # the first existing ancestor is a directory: a missing file, not a member
        if stat.S_ISREG(mode):
            return head, "/".join(reversed(parts))
        return None


def read_archived(filename: str, limit: int) -> Optional[Archived]:
    """The member of a zip archive that ``filename`` names, at most ``limit + 1`` bytes of it
    (a member that inflates without end is never read whole); None when it names none."""
    where = _in_archive(filename)
    if where is None:
        return None
    archive, member = where
    # Never wait on what replaced the archive since stat (a FIFO without a writer).
    with os.fdopen(os.open(archive, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)),
                   "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        mtime = info.st_mtime
        if not zipfile.is_zipfile(fh):
            return None
        with zipfile.ZipFile(fh) as zf:
            try:
                with zf.open(member) as stream:
                    return Archived(stream.read(limit + 1), mtime)
            except KeyError:   # no such member
                return None
