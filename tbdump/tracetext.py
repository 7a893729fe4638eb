"""The traceback text of a dump, rendered from the model the way Python prints it."""
from __future__ import annotations

import ast
import unicodedata
from typing import Iterator, List, NamedTuple, Optional, Tuple

from . import chain
from .model import ExceptionRecord, Frame, SafeLayer, source_lines

CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"


def chain_order(layer: SafeLayer) -> List[Tuple[ExceptionRecord, Optional[str]]]:
    """The chain in the order Python prints it, oldest first, each with its introduction."""
    records: List[ExceptionRecord] = []
    intros: List[str] = []   # intros[i] links records[i] to the older records[i + 1]
    index: Optional[int] = 0
    seen = set()
    while index is not None and index not in seen:
        seen.add(index)
        records.append(layer.exceptions[index])
        link = chain.chained_from(layer.exceptions, index)
        if link is not None:
            intros.append(CAUSE if link.relation == chain.CAUSE else CONTEXT)
        index = None if link is None else link.linked
    return [(records[i], intros[i] if i < len(intros) else None)
            for i in reversed(range(len(records)))]


def source_line(layer: SafeLayer, frame: Frame) -> Optional[str]:
    """The frame's current line as it was at the crash, if the dump has its source."""
    src = layer.sources.get(frame.filename)
    if src is None or src.text is None:
        return None
    lines = source_lines(src.text)
    return lines[frame.lineno - 1] if 0 < frame.lineno <= len(lines) else None


def caret_line(frame: Frame, line: str) -> Optional[str]:
    """``~~^~~`` under the failing expression, when it is only part of the (stripped) line."""
    pos = frame.position
    if pos is None or pos.lineno != frame.lineno:
        return None
    indent = len(line) - len(line.lstrip())
    end = pos.end_col if pos.end_lineno == pos.lineno else len(line.rstrip())
    if pos.col <= indent and end >= len(line.rstrip()):
        return None
    segment = line[pos.col:end] or " "
    anchors = caret_anchors(segment) if pos.end_lineno == pos.lineno else None
    marks = "".join(("^" if anchors is None or anchors[0] <= i < anchors[1] else "~") * _width(ch)
                    for i, ch in enumerate(segment))
    return " " * sum(map(_width, line[indent:pos.col])) + marks


def _width(ch: str) -> int:
    """Terminal cells a character takes, as Python's traceback counts them: wide
    characters (CJK, emoji) take two, so the carets stay under the expression."""
    return 1 if ch.isascii() else 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def caret_anchors(segment: str) -> Optional[Tuple[int, int]]:
    """Where in a one-line failing expression Python's traceback puts ^ rather than ~:
    the operator of a binary operation, the subscript of an item access (3.11+)."""
    try:
        tree = ast.parse(segment)
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    expr = tree.body[0].value
    data = segment.encode("utf-8")

    def char(offset: Optional[int]) -> int:  # ast offsets count UTF-8 bytes
        return len(data[:offset or 0].decode("utf-8", "replace"))

    if isinstance(expr, ast.BinOp):
        left_end, right_start = char(expr.left.end_col_offset), char(expr.right.col_offset)
        between = segment[left_end:right_start]
        start = left_end + len(between) - len(between.lstrip())
        op_len = 2 if start + 1 < right_start and segment[start + 1] not in " \t" else 1
        return start, start + op_len
    if isinstance(expr, ast.Subscript):
        return char(expr.value.end_col_offset), char(expr.slice.end_col_offset) + 1
    return None


def frame_lines(layer: SafeLayer, frame: Frame) -> List[str]:
    """The lines Python prints for one frame (without a trailing newline)."""
    out = ['  File "%s", line %s, in %s' % (frame.filename, frame.lineno, frame.name)]
    line = source_line(layer, frame)
    if line is not None and line.strip():
        out.append("    " + line.strip())
        carets = caret_line(frame, line)
        if carets:
            out.append("    " + carets)
    return out


def exception_line(record: ExceptionRecord) -> str:
    return "%s: %s" % (record.type, record.message) if record.message else record.type


def format_chain(layer: SafeLayer) -> str:
    """The whole chained traceback as text, oldest exception first."""
    out: List[str] = []
    for record, intro in chain_order(layer):
        if intro:
            out += ["", intro, ""]
        for piece in _recursion_cut(exception_pieces(record, layer.exceptions)):
            if piece.frame is not None:
                out += [piece.pad + line for line in frame_lines(layer, piece.frame)]
            else:
                out.append(piece.pad + piece.text)
    return "\n".join(out) + "\n"


# Python prints a frame that repeats (a recursion) this many times, then counts the rest.
RECURSIVE_CUTOFF = 3


def _recursion_cut(pieces: Iterator["Piece"]) -> Iterator["Piece"]:
    """The pieces as Python prints them: a run of identical frames past the third is one
    ``[Previous line repeated N more times]`` line."""
    last, count = None, 0
    for piece in pieces:
        key = (piece.pad, piece.frame.filename, piece.frame.lineno, piece.frame.name) if piece.frame else None
        if key is None or key != last:
            if count > RECURSIVE_CUTOFF:
                more = count - RECURSIVE_CUTOFF
                yield Piece(last[0] if last else "", "repeat",
                            "  [Previous line repeated %d more time%s]" % (more, "s" if more > 1 else ""))
            last, count = key, 0
        count += 1
        if key is None or count <= RECURSIVE_CUTOFF:
            yield piece


class Piece(NamedTuple):
    """One part of an exception's printout: a line of text, or a frame for the caller to render."""

    pad: str                # the group nesting's indent ("  | " per level)
    kind: str               # "member", "traceback", "frame", "repeat", "exception" or "note"
    text: str = ""
    frame: Optional[Frame] = None


def exception_pieces(record: ExceptionRecord, exceptions: List[ExceptionRecord],
                     above_handler: bool = False) -> Iterator[Piece]:
    """What Python prints for ``record``, its group's members nested below it.

    Python's own printout starts at the frame that handled the exception;
    ``above_handler`` also gives the frames above it.
    """
    stack = [(record, "", 0)]
    while stack:  # iterative: groups nest arbitrarily deep
        rec, pad, number = stack.pop()
        if number:
            yield Piece(pad[:-2], "member", "+---------------- %d ----------------" % number)
        frames = [f for f in rec.frames if above_handler or not f.above_handler]
        if frames:
            yield Piece(pad, "traceback", "Traceback (most recent call last):")
            for frame in frames:
                yield Piece(pad, "frame", frame=frame)
        yield Piece(pad, "exception", exception_line(rec))
        for note in rec.notes:
            yield Piece(pad, "note", note)
        members = [exceptions[m] for m in rec.members]
        stack += [(m, pad + "  | ", i + 1) for i, m in reversed(list(enumerate(members)))]
