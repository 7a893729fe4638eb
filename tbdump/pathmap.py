"""Where a file of the machine that crashed is on this one: debugpy's ``pathMappings``."""
from __future__ import annotations

import os
import re
from typing import NamedTuple, Sequence

_SEPARATORS = "/\\"  # the crash may have happened on Windows
_ABSOLUTE = re.compile(r"[/\\]|[A-Za-z]:")


class PathMapping(NamedTuple):
    local_root: str    # here; a relative one is taken from our working directory
    remote_root: str   # on the machine that crashed; a relative one from its working directory


def is_pseudo_file(filename: str) -> bool:
    """``<string>``, ``<stdin>``, ``<frozen runpy>``: code that has no file anywhere."""
    return not filename or filename.startswith("<")


def to_local(filename: str, mappings: Sequence[PathMapping], remote_cwd: str) -> str:
    """The local path of a filename the dump recorded: under the longest matching remote
    root, else the filename itself (a relative one taken from the crashed process's
    working directory).  A pseudo-file comes back as it is."""
    if is_pseudo_file(filename):
        return filename
    best = None
    for m in mappings:
        root = _remote_absolute(m.remote_root, remote_cwd).rstrip(_SEPARATORS)
        inside = filename == root or (filename.startswith(root)
                                      and filename[len(root):len(root) + 1] in ("/", "\\"))
        if inside and (best is None or len(root) > len(best[0])):
            best = (root, m.local_root)
    if best is None:
        return _remote_absolute(filename, remote_cwd)
    root, local_root = best
    rest = filename[len(root):].lstrip(_SEPARATORS).replace("\\", "/")
    return os.path.normpath(os.path.join(os.path.abspath(local_root), *rest.split("/")))


def _remote_absolute(path: str, remote_cwd: str) -> str:
    if _ABSOLUTE.match(path) or not remote_cwd:
        return path
    return os.path.normpath(os.path.join(remote_cwd, path))
