"""Finds dump files in workspace folders and tells when one has changed on disk."""
from __future__ import annotations

import fnmatch
import os
from typing import Iterable, List, Optional, Tuple

# traceback.<pid>.pkl: the crash of a child process, or a later crash of the same one, then
# traceback.<pid>-2.pkl... (tbdump.hooks.DumpTarget); -o crash.tbdump's become crash.<pid>.tbdump.
DUMP_PATTERNS = ("traceback.pkl", "traceback.[0-9]*.pkl", "*.tbdump")
WATCH_GLOB = "**/{traceback.pkl,traceback.[0-9]*.pkl,*.tbdump}"

# Folders that hold environments, caches and checkouts, never a program's crash.
_SKIP = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
         ".nox", ".mypy_cache", ".pytest_cache", "site-packages", "dist", "build"}
_MAX_DEPTH = 4
_MAX_ENTRIES = 20000     # a home directory opened as a workspace must not stall the server

Stamp = Tuple[int, int, int]


def is_dump(path: str) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(name, p) for p in DUMP_PATTERNS)


def being_written(st: Stamp) -> bool:
    """An empty file at a dump's name: tbdump holds a crash's name so while it writes the dump
    (tbdump.hooks.DumpTarget.claim), which then replaces it."""
    return st[1] == 0


def stamp(path: str) -> Optional[Stamp]:
    """What changes when a file is rewritten; None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def discover(folders: Iterable[str], deep: bool = True) -> List[str]:
    """The dump files in the folders: a bounded walk, or only their top level."""
    found: List[str] = []
    budget = _MAX_ENTRIES
    for folder in folders:
        pending = [(folder, 0)]
        while pending and budget > 0:
            directory, depth = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            budget -= len(entries)
            for entry in entries:
                if entry.is_file() and is_dump(entry.name):
                    st = stamp(entry.path)
                    if st is not None and not being_written(st):
                        found.append(entry.path)
                elif deep and depth < _MAX_DEPTH and entry.is_dir(follow_symlinks=False) \
                        and entry.name not in _SKIP and not entry.name.startswith("."):
                    pending.append((entry.path, depth + 1))
    return sorted(found)
