"""The call stacks a replay shows: threads, their frames innermost first, and labelled chain segments."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from tbdump.chain import CAUSE, CONTEXT, walk
from tbdump.frameless import NEVER_RAISED, location_name, syntax_location
from tbdump.model import ExceptionRecord, Frame, Position, SyntaxDetail, Thread
from tbdump.framelines import caret_anchors
from tbdump.tracetext import exception_line


@dataclass
class StackEntry:
    """One line of the CALL STACK view: a captured frame, or a label introducing a segment."""

    id: int
    frame: Optional[Frame] = None           # None for a label
    label: str = ""
    exception: Optional[int] = None         # the exception (index) whose traceback holds the frame
    syntax: Optional[SyntaxDetail] = None   # with no frame: the place a SyntaxError without frames points at


@dataclass
class ThreadStack:
    id: int
    name: str
    entries: List[StackEntry]


# The one entry of a crash whose exception has no frames and points nowhere: the stack says so.
NO_FRAMES = "No frames: the exception was never raised (it has no traceback)"

# How a chained exception's segment of the call stack is introduced (debugpy's wording).
_LABELS = {CAUSE: "Direct cause of the exception above: %s",
           CONTEXT: "During handling of this exception, the one above occurred: %s"}


def chain_segments(exceptions: List[ExceptionRecord]) -> List[Tuple[int, str]]:
    """The exceptions hanging off exceptions[0], in display order, each with its label text."""
    out: List[Tuple[int, str]] = []
    for link in walk(exceptions):
        parent = exceptions[link.parent]
        template = _LABELS.get(link.relation) or "Member %d of %d of %s: %%s" % (
            link.number, len(parent.members), parent.type)
        linked = exceptions[link.linked]
        text = template % exception_line(linked)
        if not linked.frames and syntax_location(linked) is None:
            text += "  (%s)" % NEVER_RAISED
        out.append((link.linked, text))
    return out


class Stacks:
    """All threads' stacks of one dump, with stable frame ids."""

    def __init__(self, threads: List[Thread], crashing_frames: List[Frame],
                 exceptions: List[ExceptionRecord]) -> None:
        self.entries: Dict[int, StackEntry] = {}
        self._next_id = 1
        stacks = [(thread.name, self._crashing(crashing_frames, exceptions) if thread.crashed
                   else [self._frame(f) for f in reversed(thread.frames)]) for thread in threads]
        if not stacks:  # a dump without thread records still has its exception
            stacks.append(("MainThread", self._crashing(crashing_frames, exceptions)))
        # The dump lists the crashing thread first; debugpy lists every thread in the order they
        # started, so VS Code's Call Stack does: the crashing one goes back to its place there
        # (first in a dump that does not say where it started).
        place = min(threads[0].place or 0, len(stacks) - 1) if threads else 0
        stacks.insert(place, stacks.pop(0))
        self.threads = [ThreadStack(n, name, entries) for n, (name, entries) in enumerate(stacks, 1)]
        self.crashing = self.threads[place]   # the thread the replay stops in

    def _frame(self, frame: Optional[Frame], label: str = "", exception: Optional[int] = None,
               syntax: Optional[SyntaxDetail] = None) -> StackEntry:
        entry = StackEntry(self._next_id, frame, label, exception, syntax)
        self.entries[entry.id] = entry
        self._next_id += 1
        return entry

    def _crashing(self, frames: List[Frame], exceptions: List[ExceptionRecord]) -> List[StackEntry]:
        running = [f for f in reversed(frames) if not f.above_handler]
        above = [f for f in reversed(frames) if f.above_handler]
        if not running and not above and exceptions:
            running = list(reversed(exceptions[0].frames))
        if not running:   # an exception never raised: the stack that dumped it is where the program was
            running, above = above, []
        entries = [self._frame(f, exception=0) for f in running]
        if not entries and exceptions:
            entries = self._frameless(exceptions[0], 0) or [self._frame(None, NO_FRAMES)]
        if above:
            entries.append(self._frame(None, "Callers of the frame that handled the exception "
                                             "(still running when it was dumped)"))
            entries += [self._frame(f) for f in above]
        for index, text in chain_segments(exceptions):
            entries.append(self._frame(None, text))
            entries += [self._frame(f, exception=index) for f in reversed(exceptions[index].frames)]
            entries += self._frameless(exceptions[index], index)
        return entries

    def _frameless(self, record: ExceptionRecord, index: int) -> List[StackEntry]:
        """The place a SyntaxError without frames points at, as the one entry of its segment:
        a file that did not compile is where the user expects to land."""
        detail = syntax_location(record)
        if detail is None:
            return []
        return [self._frame(None, location_name(record, detail), index, detail)]

    def thread(self, thread_id: int) -> Optional[ThreadStack]:
        for t in self.threads:
            if t.id == thread_id:
                return t
        return None


def display_columns(line_text: str, lineno: int, position: Optional[Position]) -> Tuple[int, Optional[int]]:
    """0-based (column, end column) to show for a frame, as debugpy picks them.

    debugpy narrows a one-line failing expression to its "anchor", the part
    the traceback marks with ^ (the operator of a binary operation, the
    subscript of an item access); an expression spanning lines gets a start only.
    """
    if position is None:
        return 0, None
    if position.lineno != position.end_lineno or position.lineno != lineno:
        return position.col, None
    anchor = caret_anchors(line_text[position.col:position.end_col])
    if anchor is None:
        return position.col, position.end_col
    return position.col + anchor[0], position.col + anchor[1]
