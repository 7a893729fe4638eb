"""Which installed distribution each library module of a crashed stack comes from, and its
version (the dump's ``Metadata.packages``)."""
from __future__ import annotations

import _io  # the C module: a failing test's mock of builtins.open / io.open does not reach it
import os
import re
import sys
from typing import Dict, Iterable, Set, Tuple

from . import unpatched
from .loaded import loaded
from .model import Frame

__all__ = ["package_versions"]


def package_versions(frames: Iterable[Frame]) -> Dict[str, str]:
    """Versions of the distributions whose modules appear in the stack.

    Read from the ``*.dist-info`` folder names on ``sys.path`` rather than with
    importlib.metadata, whose import alone takes longer than a small capture.
    """
    tops = sorted({f.module.partition(".")[0] for f in frames if f.library} - unpatched.stdlib_names)
    if not tops:
        return {}
    installed = _installed_distributions()
    owners = _owners({top for top in tops if _normalized(top) not in installed}, installed.values())
    versions: Dict[str, str] = {}
    for top in tops:
        dist = installed.get(_normalized(top)) or owners.get(top)
        version = dist[0] if dist else loaded(top, "__version__", str)
        if version is not None:
            versions[top] = version
    return versions


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed_distributions() -> Dict[str, Tuple[str, str]]:
    """Normalized distribution name -> (version, metadata folder), for every
    ``name-version.dist-info`` (or ``.egg-info``) on sys.path; the first one wins, as for imports."""
    found: Dict[str, Tuple[str, str]] = {}
    for entry in sys.path if isinstance(sys.path, list) else ():   # None: the program imports nothing more
        if not isinstance(entry, str):   # a Path or bytes a program put there: imports skip it too
            continue
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, kind = name.rpartition(".")
            if dot and kind in ("dist-info", "egg-info") and "-" in stem:
                dist, _, version = stem.partition("-")
                found.setdefault(_normalized(dist), (version.partition("-")[0],
                                                     os.path.join(entry or ".", name)))
    return found


def _owners(tops: Set[str], installed: Iterable[Tuple[str, str]]) -> Dict[str, Tuple[str, str]]:
    """For each of ``tops``, the first distribution whose ``top_level.txt`` names it (PyYAML for
    yaml), each file read once: a stack through 100 such packages read 100 times each of the
    hundreds installed."""
    found: Dict[str, Tuple[str, str]] = {}
    for dist in installed:
        if len(found) == len(tops):
            break
        try:
            with _io.FileIO(os.path.join(dist[1], "top_level.txt"), "r") as fh:
                names = fh.read().decode("utf-8", "replace").split()
        except OSError:
            continue
        for top in tops.intersection(names):
            found.setdefault(top, dist)
    return found
