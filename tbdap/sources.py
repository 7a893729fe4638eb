"""Where each frame's source comes from: the local file (after pathMappings) when it matches, else the dump's copy."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from tbdump.model import Source, file_sha256
from tbdump.pathmap import PathMapping, to_local

from .messaging import RequestError


@dataclass
class Resolved:
    """How one captured filename is shown here."""

    remote: str                      # the name the dump recorded
    local: str                       # after pathMappings
    local_ok: bool                   # the local file exists and matches the dump's hash
    reference: int = 0               # sourceReference serving the dump's copy (0: none)
    problem: Optional[str] = None    # why the local file is not used, for the console


def parse_path_mappings(raw: Any) -> List[PathMapping]:
    """The launch argument, checked: a bad one is the client's error, said in one line."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise RequestError("'pathMappings' must be a list of {\"localRoot\": …, \"remoteRoot\": …} objects.")
    out = []
    for m in raw:
        local, remote = m.get("localRoot"), m.get("remoteRoot")
        if not isinstance(local, str) or not isinstance(remote, str):
            raise RequestError("Each pathMappings entry needs string 'localRoot' and 'remoteRoot'.")
        out.append(PathMapping(local, remote))
    return out


class SourceMap:
    """Resolves captured filenames once each and serves the dump's copies by sourceReference."""

    def __init__(self, sources: Dict[str, Source], mappings: List[PathMapping], remote_cwd: str) -> None:
        self._sources = sources
        self._mappings = mappings
        self._remote_cwd = remote_cwd
        self._resolved: Dict[str, Resolved] = {}
        self._by_reference: Dict[int, str] = {}

    def resolve(self, remote: str) -> Resolved:
        if remote in self._resolved:
            return self._resolved[remote]
        local = to_local(remote, self._mappings, self._remote_cwd)
        captured = self._sources.get(remote)
        local_hash = file_sha256(local) if os.path.isfile(local) else None
        if local_hash is not None and (captured is None or captured.sha256 in (None, local_hash)):
            result = Resolved(remote, local, True)
        else:
            if local_hash is None:
                problem = "missing here" if local == remote else "missing here (mapped to %s)" % local
            else:
                problem = "differs from the file that ran"
            result = Resolved(remote, local, False, problem=problem)
            if captured is not None and captured.text is not None:
                result.reference = len(self._by_reference) + 1
                self._by_reference[result.reference] = remote
            elif captured is not None and captured.reason:
                result.problem = "%s, and the dump has no copy (%s)" % (problem, captured.reason)
        self._resolved[remote] = result
        return result

    def dap_source(self, remote: str, deemphasize: bool) -> Dict[str, Any]:
        """The DAP Source for a captured filename."""
        r = self.resolve(remote)
        source: Dict[str, Any] = {"name": os.path.basename(remote) or remote}
        if r.local_ok:
            source["path"] = r.local
        elif r.reference:
            source["path"] = r.remote
            source["sourceReference"] = r.reference
            source["origin"] = "as captured in the dump (%s)" % r.problem
        else:
            source["path"] = r.local
        if deemphasize:
            source["presentationHint"] = "deemphasize"
        return source

    def text(self, reference: int, path: Optional[str]) -> str:
        """The dump's copy of a source, by reference or by the path the client shows."""
        remote = self._by_reference.get(reference) if reference else None
        if remote is None and path:
            remote = path if path in self._sources else next(
                (r.remote for r in self._resolved.values() if path in (r.local, r.remote)), None)
        source = self._sources.get(remote) if remote else None
        if source is None or source.text is None:
            why = " (%s)" % source.reason if source is not None and source.reason else ""
            raise RequestError("The dump holds no source for %s%s." % (path or "reference %d" % reference, why))
        return source.text

    def problems(self) -> List[Resolved]:
        """Files seen so far that are not shown from the local disk."""
        return [r for r in self._resolved.values() if not r.local_ok]

    def loaded_sources(self, deemphasize: Dict[str, bool]) -> List[Dict[str, Any]]:
        return [self.dap_source(name, deemphasize.get(name, False)) for name in self._sources]
