"""What the loaded dumps say about a source file as it is now: findings, hovers, values, lenses.

Everything here speaks in the current text's coordinates (1-based lines, 0-based character
columns) and knows nothing of LSP; the server converts at its boundary.
"""
from __future__ import annotations

import enum
import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from tbdump.frameless import location_columns
from tbdump.localsource import source_bytes
from tbdump.model import FUNCTION_TYPES, Frame, SyntaxDetail, Value

from . import expr, render
from .index import FileIndex, LoadedDump, Site, Stack, file_key
from .linemap import LineMap

Lines = Callable[[str], Optional[Sequence[str]]]   # a local file's current lines, or None

_RELATED_HEAD, _RELATED_TAIL = 10, 30    # a 900-frame stack lists its ends, not every frame
# Findings of one severity at one place, at most (Python's traceback prints 15 of a group's members):
# a group of 5 000 raised at one line made 10 000 diagnostics, and took 9 s to publish.
_SAME_PLACE_SHOWN = 15
_ARGS_SHOWN = 4
_OTHER_FRAMES_SHOWN = 4
# Inline values are for data: a module or function beside every use of its name is noise.
_CODE_TYPES = FUNCTION_TYPES | {"module", "type"}


class Severity(enum.IntEnum):
    """How much a finding matters; the server maps these to LSP's severities."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3


@dataclass(frozen=True)
class Span:
    """A range of a local file's current text."""

    path: str          # local path
    line: int          # 1-based
    col: int           # 0-based characters
    end_line: int
    end_col: int


@dataclass
class Finding:
    """One diagnostic-to-be, with the stack it belongs to as related locations."""

    severity: Severity
    span: Span
    message: str
    code: str
    dump: str
    related: List[Tuple[Span, str]] = field(default_factory=list)


@dataclass(frozen=True)
class InlineValue:
    span: Span         # the name's occurrence
    name: str
    text: str          # "name = value"
    dump: str = ""     # which dump (its name), when several show this file (their values may differ)


@dataclass(frozen=True)
class Lens:
    span: Span
    dump: str          # the dump's path
    title: str         # the exception, for the lens's tooltip


@dataclass
class _Placement:
    """A file's stored source laid over its current text."""

    text: str
    lines: Sequence[str]
    map: LineMap
    differs: bool
    checked: bool      # False: the dump holds no text to compare with


class Crashes:
    """The loaded dumps, answering per source file."""

    def __init__(self, lines_of: Lines) -> None:
        self._lines_of = lines_of
        self.dumps: Dict[str, LoadedDump] = {}
        self._placements: Dict[Tuple[str, str], _Placement] = {}
        self._names: Dict[str, str] = {}

    def add(self, loaded: LoadedDump) -> None:
        self.dumps[loaded.path] = loaded
        self._forget(loaded.path)
        self._names = _short_names(self.dumps)

    def remove(self, path: str) -> None:
        self.dumps.pop(path, None)
        self._forget(path)
        self._names = _short_names(self.dumps)

    def name(self, path: str) -> str:
        """How the texts shown name a dump: its file name, with as many of its folders as
        tell it from the other dumps' (``a/traceback.pkl`` beside ``b/traceback.pkl``)."""
        return self._names.get(path) or os.path.basename(path)

    def _forget(self, path: str) -> None:
        for key in [k for k in self._placements if k[0] == path]:
            del self._placements[key]

    def files(self) -> List[str]:
        """The local files, outside libraries, where a dump has something to show."""
        return sorted({i.local for d in self.dumps.values() for i in d.files.values()
                       if not i.library})

    def _indexes(self, path: str) -> Iterable[Tuple[LoadedDump, FileIndex, _Placement]]:
        key = file_key(path)
        for loaded in self.dumps.values():
            index = loaded.files.get(key)
            if index is None:
                continue
            placement = self._place(loaded, index)
            if placement is not None:
                yield loaded, index, placement

    def _place(self, loaded: LoadedDump, index: FileIndex) -> Optional[_Placement]:
        lines = self._lines_of(index.local)
        if lines is None:
            return None
        text = "".join(lines)
        key = (loaded.path, file_key(index.local))
        cached = self._placements.get(key)
        if cached is not None and cached.text == text:
            return cached
        stored = index.stored_lines
        digest = index.source.sha256 if index.source is not None else None
        # Hashed as the file's bytes (its text in the encoding it was read in), not as UTF-8.
        ran = digest is not None and any(hashlib.sha256(data).hexdigest() == digest for data in source_bytes(text))
        # The file that ran: its stored copy may differ only where redaction hid a secret.
        linemap = LineMap(None if ran else stored, lines)
        if stored is not None:
            differs, checked = not linemap.identical, True
        else:
            differs, checked = digest is not None and not ran, False
        placement = self._placements[key] = _Placement(text, lines, linemap, differs, checked)
        return placement

    # -- positions --------------------------------------------------------------

    def _span(self, index: FileIndex, placement: _Placement, frame: Frame) -> Optional[Span]:
        """Where a frame was, in the current text; None where its lines are gone.

        A dump's numbers are any a C int holds (Python's own are): a line before the first
        or past the last has no place, and a position that runs backwards or from a negative
        column marks just its line."""
        pos = frame.position
        if pos is not None and 1 <= pos.lineno <= pos.end_lineno and min(pos.col, pos.end_col) >= 0:
            start = placement.map.to_current(pos.lineno)
            end = placement.map.to_current(pos.end_lineno)
            if start is None or end is None or end > len(placement.lines):
                return None
            end_col = max(pos.end_col, pos.col) if start == end else pos.end_col
            return Span(index.local, start, pos.col, end, end_col)
        line = placement.map.to_current(frame.lineno)
        if line is None or not 1 <= line <= len(placement.lines):
            return None
        text = placement.lines[line - 1].rstrip()
        return Span(index.local, line, len(text) - len(text.lstrip()), line, len(text))

    def _syntax_span(self, index: FileIndex, placement: _Placement, detail: SyntaxDetail) -> Optional[Span]:
        """What a SyntaxError marks, in the current text (as Python's carets: from offset to
        end_offset on its line, else the one character at offset)."""
        line = placement.map.to_current(detail.lineno or 0)
        if line is None or not 1 <= line <= len(placement.lines):
            return None
        col, end_col = location_columns(detail)
        return Span(index.local, line, col, line, end_col if end_col is not None else col + 1)

    def _frame_span(self, loaded: LoadedDump, frame: Frame) -> Optional[Span]:
        index = loaded.file_of(frame)
        placement = None if index is None else self._place(loaded, index)
        return None if index is None or placement is None else self._span(index, placement, frame)

    # -- diagnostics -------------------------------------------------------------

    def findings(self, path: str) -> List[Finding]:
        """The crash sites, call sites and source-mismatch warning of one file."""
        out: List[Finding] = []
        for loaded, index, placement in self._indexes(path):
            related: Dict[int, List[Tuple[Span, str]]] = {}
            calls: Dict[Tuple[int, Span], List[Site]] = {}
            found: List[Tuple[Finding, Stack]] = []
            dropped = 0
            for site in index.sites:
                span = self._span(index, placement, site.frame)
                if span is None:
                    dropped += 1
                elif site.innermost:
                    found.append((Finding(Severity.ERROR, span, _raised(site.stack),
                                          site.stack.record.type_name, loaded.path), site.stack))
                elif not _calls_a_comprehension(site):
                    calls.setdefault((site.stack.index, span), []).append(site)
            for failed, detail in index.syntax_errors:
                span = self._syntax_span(index, placement, detail)
                if span is None:
                    dropped += 1
                else:
                    found.append((Finding(Severity.ERROR, span, _raised(failed), failed.record.type_name,
                                          loaded.path), failed))
            for (_, span), sites in calls.items():
                found.append((Finding(Severity.INFORMATION, span,
                                      self._called(loaded, placement, span, sites),
                                      "called-from", loaded.path), sites[0].stack))
            note = index.source.note if index.source is not None else None
            if placement.differs or note:
                out.append(self._mismatch(loaded, index, placement, dropped, note))
            for finding, stack in _capped(found):
                if stack is not None:
                    if stack.index not in related:
                        related[stack.index] = self._related(loaded, stack)
                    finding.related = related[stack.index]
                out.append(finding)
        return out

    def _mismatch(self, loaded: LoadedDump, index: FileIndex, placement: _Placement,
                  dropped: int, note: Optional[str]) -> Finding:
        """The warning that the crash is not shown on the code that ran: this file differs from
        the dump's copy, or the dump's copy itself may not be what ran (``note``)."""
        first = placement.lines[0].rstrip() if placement.lines else ""
        if placement.checked:
            how = "crash positions are placed where their lines still match"
            if dropped:
                how += f"; {dropped} could not be placed and are not shown"
        else:
            how = "the dump holds no copy of the source, so positions may be off"
        crash = f"{self.name(loaded.path)} (crash at {loaded.dump.metadata.time})"
        message = f"This file differs from the source captured in {crash}: {how}." if placement.differs else ""
        if note:
            message = (message + " " if message else "") + f"The source captured in {crash}: {note}."
        return Finding(Severity.WARNING, Span(index.local, 1, 0, 1, len(first)), message,
                       "source-changed", loaded.path)

    def _related(self, loaded: LoadedDump, stack: Stack) -> List[Tuple[Span, str]]:
        """The whole stack in order, as related locations; long stacks keep their ends."""
        n = len(stack.frames)
        if n <= _RELATED_HEAD + _RELATED_TAIL:
            shown = list(range(n))
        else:
            shown = list(range(_RELATED_HEAD)) + list(range(n - _RELATED_TAIL, n))
        out = []
        for k in shown:
            frame = stack.frames[k]
            span = self._frame_span(loaded, frame)
            if span is None:
                continue
            label = f"{k + 1}/{n} {frame.qualname}"
            if k == n - _RELATED_TAIL and n > _RELATED_HEAD + _RELATED_TAIL:
                label += f" (after {n - _RELATED_HEAD - _RELATED_TAIL} frames not listed)"
            if k == n - 1:
                label += f": {stack.head}"
            if stack.role:
                label += f" ({stack.role})"
            out.append((span, label))
        return out

    def _called(self, loaded: LoadedDump, placement: _Placement, span: Span,
                sites: List[Site]) -> str:
        # The call's text is quoted only where it is the dump's: placed lines match its copy.
        # A dump without one names a file this server may read to place positions, but
        # whose content it must not show (the file may not be the user's code at all).
        call = " ".join(_text(placement.lines, span).split()) if placement.checked else ""
        call = call if len(call) <= 80 else call[:79] + "…"
        quoted = f": `{call}`" if call else ""
        inner = self._args(loaded, sites[-1])
        if len(sites) == 1:
            message = f"called from here{quoted}" + (f" with {inner}" if inner else "")
        else:
            message = f"called from here {len(sites)} times (recursion){quoted}"
            if inner:
                message += f"; innermost call with {inner}, outermost with " \
                           f"{self._args(loaded, sites[0])}"
        stack = sites[0].stack
        if stack.role:
            message += f"\n(in the traceback of {stack.head}, {stack.role})"
        return message

    def _args(self, loaded: LoadedDump, site: Site) -> str:
        """The arguments the callee of a call site holds, as `x=5, y=0`."""
        callee = site.stack.frames[site.depth + 1]
        index = loaded.file_of(callee)
        if index is None:
            return ""
        params = [p for p in index.scope(callee).params if p in callee.variables]
        shown = [f"{p}={render.short(callee.variables[p], 30)}" for p in params[:_ARGS_SHOWN]]
        if len(params) > _ARGS_SHOWN:
            shown.append("…")
        return ", ".join(shown)

    # -- hover ---------------------------------------------------------------------

    def hover(self, path: str, line: int, col: int,
              markup: render.Markup = render.MARKDOWN) -> Optional[Tuple[str, Span]]:
        """The text for the captured value under (line, col), and the expression's span."""
        sections: List[str] = []
        span: Optional[Span] = None
        for loaded, index, placement in self._indexes(path):
            stored = placement.map.to_stored(line)
            if stored is None or line > len(placement.lines):
                continue
            text = placement.lines[line - 1]
            chain = expr.chain_at(text, col)
            if chain is None:
                return None
            answer = self._lookup(loaded, index, stored, chain, chain.text(text), markup)
            if answer is not None:
                sections.append(answer)
                span = Span(index.local, line, chain.start, line, chain.end)
        if span is None:
            return None
        return "\n\n---\n\n".join(sections), span

    def _lookup(self, loaded: LoadedDump, index: FileIndex, line: int, chain: expr.Chain,
                text: str, markup: render.Markup) -> Optional[str]:
        for _, sites in index.frames_at(line):
            found = [(s, v) for s in sites if (v := _lookup_name(loaded, s.frame, chain.base))]
            if not found:
                continue
            site, (kind, value) = found[0]
            value, reached, missing = _follow(value, chain.steps, chain.base)
            where = f"{kind} in {site.frame.qualname}() · {_frame_label(site)} · " \
                    f"{self.name(loaded.path)}"
            body = render.hover(text if missing is None else reached, value, where, missing,
                                markup)
            # A global is one value for every frame of this code: listing it again for each
            # (a recursion's frames, the same frame in a chained exception's traceback) says nothing.
            others = [] if kind == "global" else \
                [(s, _follow(v, chain.steps, chain.base)[0]) for s, (_, v) in found[1:]]
            if others:
                body += "\n\n" + _others(others, markup)
            return body
        if index.module_globals is not None and chain.base in index.module_globals:
            value, reached, missing = _follow(index.module_globals[chain.base], chain.steps,
                                              chain.base)
            return render.hover(text if missing is None else reached, value,
                                f"module global of {index.remote} · {self.name(loaded.path)}", missing,
                                markup)
        return None

    # -- inline values and lenses ---------------------------------------------------------

    def values(self, path: str, first: int, last: int) -> List[InlineValue]:
        """The captured locals named on lines first..last, from each scope's innermost frame."""
        out: List[InlineValue] = []
        seen = set()
        indexes = list(self._indexes(path))
        several = len(indexes) > 1
        for loaded, index, placement in indexes:
            groups = sorted(index.scope_groups(), key=lambda g: g[0].end - g[0].start)
            for scope, site in groups:
                frame = site.frame
                stop = frame.position.end_lineno if frame.position else frame.lineno
                # The scope's end bounds the loop: a dump's line may be 2**31 - 1.
                for stored in range(scope.start, min(stop, scope.end) + 1):
                    line = placement.map.to_current(stored)
                    if line is None or not first <= line <= last or not scope.owns(stored) \
                            or line > len(placement.lines):
                        continue
                    for name, a, b in expr.names(placement.lines[line - 1]):
                        value = frame.variables.get(name)
                        dump = self.name(loaded.path) if several else ""
                        if value is None or value.type in _CODE_TYPES or (dump, line, name) in seen:
                            continue
                        seen.add((dump, line, name))
                        out.append(InlineValue(Span(index.local, line, a, line, b), name,
                                               f"{name} = {render.short(value, 40)}", dump))
        return out

    def lenses(self, path: str) -> List[Lens]:
        """The innermost line of each dump's crash, when it is in this file."""
        out = []
        for loaded, index, placement in self._indexes(path):
            crash = loaded.crash
            if crash is None or loaded.file_of(crash.frame) is not index:
                continue
            span = self._span(index, placement, crash.frame)
            if span is not None:
                out.append(Lens(span, loaded.path, crash.stack.head))
        return out


def _capped(found: List[Tuple[Finding, Stack]]) -> List[Tuple[Finding, Optional[Stack]]]:
    """The first _SAME_PLACE_SHOWN findings of each severity at each place, then one there saying
    how many more it leaves out."""
    seen: Dict[Tuple[Severity, Span], List[Finding]] = {}
    out: List[Tuple[Finding, Optional[Stack]]] = []
    for finding, stack in found:
        same = seen.setdefault((finding.severity, finding.span), [])
        same.append(finding)
        if len(same) <= _SAME_PLACE_SHOWN:
            out.append((finding, stack))
    for (severity, span), same in seen.items():
        more = len(same) - _SAME_PLACE_SHOWN
        if more > 0:
            what = "exceptions raised here" if severity is Severity.ERROR else "calls from here"
            out.append((Finding(severity, span, f"… and {more} more {what}, not listed",
                                same[-1].code, same[-1].dump), None))
    return out


# Before Python 3.12 a list, set or dict comprehension runs in a frame of its own, called from
# its function's frame at the comprehension's place: a call site without arguments beside the
# comprehension's own calls (3.12 inlines it), or mistaken for a recursion where both are at one place.
_COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>"}


def _calls_a_comprehension(site: Site) -> bool:
    return site.stack.frames[site.depth + 1].name in _COMPREHENSIONS


def _short_names(paths: Iterable[str]) -> Dict[str, str]:
    """Each path by the fewest of its last components that no other path ends with: two
    dumps both called traceback.pkl must not carry the same name in a diagnostic."""
    parts = {path: os.path.normpath(path).split(os.sep) for path in paths}
    names = {}
    for path, own in parts.items():
        others = [p for other, p in parts.items() if other != path]
        n = 1
        while n < len(own) and any(p[-n:] == own[-n:] for p in others):
            n += 1
        names[path] = os.sep.join(own[-n:])
    return names


def _raised(stack: Stack) -> str:
    rec = stack.record
    lines = [f"{rec.type}: {rec.message}" if rec.message else rec.type] + list(rec.notes)
    if stack.role:
        lines.append(f"({stack.role})")
    return "\n".join(lines)


def _text(lines: Sequence[str], span: Span) -> str:
    if span.line == span.end_line:
        return lines[span.line - 1][span.col:span.end_col]
    parts = [lines[span.line - 1][span.col:]]
    parts += lines[span.line:span.end_line - 1]
    parts.append(lines[span.end_line - 1][:span.end_col])
    return "".join(parts)


def _lookup_name(loaded: LoadedDump, frame: Frame, name: str) -> Optional[Tuple[str, Value]]:
    if name in frame.variables:
        return "local", frame.variables[name]
    module_globals = loaded.globals_of(frame)
    if name in module_globals:
        return "global", module_globals[name]
    return None


def _follow(value: Value, steps: Sequence[expr.Step],
            base: str) -> Tuple[Value, str, Optional[str]]:
    """The value an attribute/subscript chain reaches through the previews.

    Returns the value, the expression it is, and — where the preview stops short of
    the whole chain — the first expression that is not in it.
    """
    reached = base
    for step in steps:
        further = reached + (f".{step.attr}" if step.attr is not None else f"[{step.key!r}]")
        child = _child(value, step)
        if child is None:
            return value, reached, further
        value, reached = child, further
    return value, reached, None


def _child(value: Value, step: expr.Step) -> Optional[Value]:
    if not value.children:
        return None
    if step.attr is not None:
        wanted = {f".{step.attr}"}
        names = {step.attr}
    else:
        key = step.key
        wanted = {f"[{key!r}]"}
        names = {repr(key)}
        if isinstance(key, int) and not isinstance(key, bool):
            names.add(str(key))
            if key < 0 and value.length is not None:
                wanted.add(f"[{value.length + key}]")
                names.add(str(value.length + key))
    for child in value.children:
        if child.access in wanted:
            return child.value
    for child in value.children:
        if child.access is None and child.name in names:
            return child.value
    return None


def _frame_label(site: Site) -> str:
    n = len(site.stack.frames)
    label = "innermost frame" if site.innermost else f"frame {site.depth + 1} of {n}"
    if site.stack.role:
        label += f" of {site.stack.head} ({site.stack.role})"
    return label


def _others(others: List[Tuple[Site, Value]], markup: render.Markup) -> str:
    shown = [f"{markup.code_span(render.short(v, 30))} ({markup.escape(_frame_label(s))})"
             for s, v in others[:_OTHER_FRAMES_SHOWN]]
    rest = len(others) - len(shown)
    return "In the other frames of this code: " + ", ".join(shown) + \
        (f", and {rest} more" if rest > 0 else "")
