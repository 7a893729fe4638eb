"""Where each frame's source comes from: the local file (after pathMappings) when it matches, else the dump's copy."""
from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Callable, Dict, List, Optional

from tbdump.localsource import check_local, no_copy_reason, source_note
from tbdump.model import Source
from tbdump.pathmap import PathMapping, to_local

from .messaging import RequestError


@dataclass
class Resolved:
    """How one captured filename is shown here."""

    remote: str                      # the name the dump recorded
    local: str                       # after pathMappings
    local_ok: bool                   # the local file exists and matches the dump's hash
    reference: int = 0               # sourceReference serving the dump's copy, or saying why there is none
    problem: Optional[str] = None    # why the local file is not used, for the console
    has_copy: bool = False           # the dump holds the text the reference serves
    note: Optional[str] = None       # why the file's lines may not be the code that ran
    told: Optional[str] = None       # why the local file is not used, as every viewer says it


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

    def __init__(self, sources: Dict[str, Source], mappings: List[PathMapping], remote_cwd: str,
                 uri: bool = False) -> None:
        self._sources = sources
        self._mappings = mappings
        self._remote_cwd = remote_cwd
        self._uri = uri                     # the client asked for pathFormat "uri"
        self._sent: Dict[str, str] = {}     # each URI sent -> the path it stands for
        self._resolved: Dict[str, Resolved] = {}
        self._by_reference: Dict[int, str] = {}

    def resolve(self, remote: str) -> Resolved:
        if remote in self._resolved:
            return self._resolved[remote]
        local = to_local(remote, self._mappings, self._remote_cwd)
        captured = self._sources.get(remote)
        checked = check_local(local, captured)
        if checked.matches:
            result = Resolved(remote, local, True)
        else:
            problem = checked.problem or ""
            if local != remote:
                problem += " (mapped to %s)" % local
            has_copy = captured is not None and captured.text is not None
            if not has_copy:
                problem = "%s, and the dump has no copy (%s)" % (problem, no_copy_reason(captured))
            # Served by reference even without a copy: the client then asks us, and hears
            # why there is nothing, instead of opening whatever the path names here.
            result = Resolved(remote, local, False, len(self._by_reference) + 1, problem, has_copy,
                              told=source_note(remote, captured, checked))
            self._by_reference[result.reference] = remote
        if captured is not None:
            result.note = captured.note
        self._resolved[remote] = result
        return result

    def client_path(self, remote: str) -> str:
        """The path a client is shown for a captured filename: the local file's when that is
        used, else the captured one; a file URI when the client's pathFormat is "uri"."""
        r = self.resolve(remote)
        path = r.local if r.local_ok else r.remote
        if not self._uri:
            return path
        uri = _as_uri(path)
        self._sent[uri] = path
        return uri

    def _from_client(self, path: str) -> str:
        return (self._sent.get(path) or _uri_path(path)) if self._uri else path

    def dap_source(self, remote: str, deemphasize: bool) -> Dict[str, Any]:
        """The DAP Source for a captured filename."""
        r = self.resolve(remote)
        source: Dict[str, Any] = {"name": os.path.basename(remote) or remote, "path": self.client_path(remote)}
        if not r.local_ok:
            source["sourceReference"] = r.reference
            how = "as captured in the dump (%s)" if r.has_copy else "no source (%s)"
            source["origin"] = how % r.problem
        if r.note:
            source["origin"] = source["origin"] + "; " + r.note if "origin" in source else r.note
        if deemphasize:
            source["presentationHint"] = "deemphasize"
        return source

    def text(self, reference: int, path: Optional[str]) -> str:
        """The dump's copy of a source, by reference or by the path the client shows."""
        remote = self._by_reference.get(reference) if reference else None
        path = self._from_client(path) if path else path
        if remote is None and path:
            remote = path if path in self._sources else next(
                (r.remote for r in self._resolved.values() if path in (r.local, r.remote)), None)
        source = self._sources.get(remote) if remote else None
        if source is None or source.text is None:
            resolved = self._resolved.get(remote) if remote else None
            why = (": the local file is %s" % resolved.problem if resolved is not None
                   else " (%s)" % source.reason if source is not None and source.reason else "")
            name = path or remote or "reference %d" % reference
            raise RequestError("No source to show for %s%s." % (name, why))
        return source.text

    def problems(self) -> List[Resolved]:
        """Files seen so far that are not shown from the local disk, or whose lines may not be
        the code that ran."""
        return [r for r in self._resolved.values() if not r.local_ok or r.note]

    def loaded_sources(self, deemphasize: Callable[[str], bool]) -> List[Dict[str, Any]]:
        return [self.dap_source(name, deemphasize(name)) for name in self._sources]


def _as_uri(path: str) -> str:
    """A file URI for an absolute path, of this system's kind or of Windows (a dump written
    there); a name no URI stands for ("<string>", a relative path) stays as it is."""
    for flavour in (PurePosixPath, PureWindowsPath):
        pure = flavour(path)
        if pure.is_absolute():
            return pure.as_uri()
    return path


def _uri_path(uri: str) -> str:
    """The path a file URI from the client names (anything else is taken as a path)."""
    # Imported here: urllib.request brings http.client and email, some 40 ms of every start
    # that only a client speaking in URIs needs.
    import urllib.request
    parts = urllib.parse.urlsplit(uri)
    return urllib.request.url2pathname(parts.path) if parts.scheme == "file" else uri
