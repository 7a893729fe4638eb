"""One dump read from its safe layer, indexed by the local source files its frames ran in."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import tbdump
from tbdump.chain import CAUSE, CONTEXT, MEMBER, walk
from tbdump.frameless import syntax_location
from tbdump.model import ExceptionRecord, Frame, Source, SyntaxDetail, Value
from tbdump.pathmap import PathMapping, is_pseudo_file, to_local
from tbdump.tracetext import exception_line

from .scopes import Scope, SourceScopes


def file_key(path: str) -> str:
    """The key a local path is known by, however the editor or the dump spelled it."""
    return os.path.normcase(os.path.realpath(path))


@dataclass
class Stack:
    """The traceback of one exception of the chain, outermost frame first."""

    index: int                 # into Dump.exceptions
    record: ExceptionRecord
    frames: List[Frame]
    role: str                  # how it joins the chain; "" for the exception that was raised

    @property
    def head(self) -> str:
        text = exception_line(self.record)
        return text if len(text) <= 100 else text[:99] + "…"


@dataclass
class Site:
    """One frame of one stack, in the file it ran in."""

    stack: Stack
    depth: int                 # index into stack.frames
    frame: Frame

    @property
    def innermost(self) -> bool:
        return self.depth == len(self.stack.frames) - 1


@dataclass
class FileIndex:
    """What one dump holds about one local file."""

    local: str                        # the local path, as mapped
    remote: str                       # the filename recorded in the dump
    source: Optional[Source]
    library: bool
    sites: List[Site] = field(default_factory=list)
    syntax_errors: List[Tuple[Stack, SyntaxDetail]] = field(default_factory=list)  # frameless, pointing here
    module_globals: Optional[Mapping[str, Value]] = None
    _scopes: Optional[SourceScopes] = None

    @property
    def stored_lines(self) -> Optional[List[str]]:
        return self.source.lines if self.source is not None and self.source.text is not None else None

    def scope(self, frame: Frame) -> Scope:
        if self._scopes is None:
            self._scopes = SourceScopes(None if self.source is None else self.source.text)
        return self._scopes.scope_of(frame.name, frame.lineno)

    def frames_at(self, line: int) -> List[Tuple[Scope, List[Site]]]:
        """The frames that own stored `line`, grouped by scope, innermost frame first."""
        groups: Dict[Scope, List[Site]] = {}
        for site in self.sites:
            scope = self.scope(site.frame)
            if scope.owns(line):
                groups.setdefault(scope, []).append(site)
        return [(scope, sorted(sites, key=_innermost_first)) for scope, sites in groups.items()]

    def scope_groups(self) -> List[Tuple[Scope, Site]]:
        """Each scope that has a captured frame, with its innermost frame."""
        best: Dict[Scope, Site] = {}
        for site in self.sites:
            scope = self.scope(site.frame)
            if scope not in best or _innermost_first(site) < _innermost_first(best[scope]):
                best[scope] = site
        return list(best.items())


def _innermost_first(site: Site) -> Tuple[int, int]:
    # The raised exception's stack before chained ones; the deepest frame first.
    return (site.stack.index != 0, -site.depth)


class LoadedDump:
    """A dump's safe layer and its per-file index; nothing from the object layer is loaded."""

    def __init__(self, path: str, mappings: Sequence[PathMapping]) -> None:
        self.path = path
        self.dump = tbdump.load(path, objects=False)
        self.stacks = _stacks(self.dump)
        self.files: Dict[str, FileIndex] = {}
        self._by_remote: Dict[str, FileIndex] = {}
        cwd = self.dump.metadata.cwd or os.path.dirname(path)
        # Per recorded filename, its local path and key: a 900-frame recursion is one file,
        # and file_key's realpath is system calls.
        self._keys: Dict[str, Optional[Tuple[str, str]]] = {}
        for stack in self.stacks:
            for depth, frame in enumerate(stack.frames):
                index = self._index(frame.filename, frame.library, mappings, cwd)
                if index is None:
                    continue
                index.sites.append(Site(stack, depth, frame))
                if index.module_globals is None and frame.globals_key is not None:
                    index.module_globals = self.dump.globals_of(frame)
            # A file that did not compile ran no frame: the SyntaxError's line is its crash site.
            detail = syntax_location(stack.record)
            index = None if detail is None else self._index(detail.filename or "", False, mappings, cwd)
            if index is not None and detail is not None:
                index.syntax_errors.append((stack, detail))
        # Everything needed is parsed; the file must not stay open (a new crash replaces it).
        self.dump.close()

    def _index(self, filename: str, library: bool, mappings: Sequence[PathMapping],
               cwd: str) -> Optional[FileIndex]:
        """The index of a recorded filename's local file, made on first use; None for code
        without a local file."""
        if filename not in self._keys:
            mapped = None if is_pseudo_file(filename) else to_local(filename, mappings, cwd)
            self._keys[filename] = None if mapped is None else (mapped, file_key(mapped))
        known = self._keys[filename]
        if known is None:
            return None
        local, key = known
        index = self.files.get(key)
        if index is None:
            index = self.files[key] = FileIndex(local, filename, self.dump.sources.get(filename), library)
        self._by_remote[filename] = index
        return index

    def file_of(self, frame: Frame) -> Optional[FileIndex]:
        """The index of the file a frame ran in; None for code without a local file."""
        return self._by_remote.get(frame.filename)

    def globals_of(self, frame: Frame) -> Mapping[str, Value]:
        return self.dump.globals_of(frame)

    @property
    def crash(self) -> Optional[Site]:
        """The innermost frame of the exception that was raised."""
        if not self.stacks or not self.stacks[0].frames:
            return None
        root = self.stacks[0]
        return Site(root, len(root.frames) - 1, root.frames[-1])


def _stacks(dump: "tbdump.Dump") -> List[Stack]:
    """The raised exception's stack, then each chained exception's, breadth first as linked."""
    records = dump.exceptions
    if not records:
        return []
    stacks = {0: Stack(0, records[0], list(dump.frames), "")}
    for link in walk(records, breadth_first=True):
        head = stacks[link.parent].head
        role = _ROLES[link.relation].format(head=head, number=link.number)
        stacks[link.linked] = Stack(link.linked, records[link.linked], list(records[link.linked].frames), role)
    return list(stacks.values())


_ROLES = {CAUSE: "the direct cause of {head}", CONTEXT: "being handled when {head} occurred",
          MEMBER: "sub-exception {number} of {head}"}
