"""The lines Python prints under a frame's ``File`` line: its source line and the carets.

3.11 and 3.12 (traceback.c) mark one line, ``~`` around ``^`` at the operator or
the item access; 3.13 (traceback.py) marks every line of a multi-line expression,
also anchors calls, and leaves out carets under an expression that is the whole
statement.  3.9 and 3.10 record no positions, so they print none.
"""
from __future__ import annotations

import ast
import textwrap
import unicodedata
from typing import Callable, List, NamedTuple, Optional, Tuple

from .model import Frame, SafeLayer, char_index

def source_line(layer: SafeLayer, frame: Frame) -> Optional[str]:
    """The frame's current line as it was at the crash, if the dump has its source."""
    return _line_at(_lines_of(layer, frame.filename), frame.lineno)


def _lines_of(layer: SafeLayer, filename: str) -> Optional[List[str]]:
    src = layer.sources.get(filename)
    return None if src is None or src.text is None else src.lines


def _line_at(lines: Optional[List[str]], lineno: int) -> Optional[str]:
    return lines[lineno - 1] if lines is not None and 0 < lineno <= len(lines) else None


def frame_lines(layer: SafeLayer, frame: Frame, by_module: bool) -> List[str]:
    """The lines Python prints for one frame (without a trailing newline); ``by_module``:
    as traceback.py prints them (3.13+), else as traceback.c does."""
    filename = frame.filename
    if by_module and filename.startswith("<stdin>-"):
        filename = "<stdin>"   # traceback.py 3.13 prints numbered interactive inputs so
    out = ['  File "%s", line %s, in %s' % (filename, frame.lineno, frame.name)]
    if by_module:
        return out + _code_lines_313(layer, frame)
    line = source_line(layer, frame)
    if line is not None and line.strip():
        out.append("    " + line.lstrip(_C_INDENT))   # traceback.c keeps the line's trailing white space
        carets = _caret_line(frame, line)
        if carets:
            out.append("    " + carets)
    return out


def _code_lines_313(layer: SafeLayer, frame: Frame) -> List[str]:
    """The source lines and caret lines 3.13 prints below a frame's ``File`` line."""
    pos = frame.position
    lines = _lines_of(layer, frame.filename)
    if pos is None or not 1 <= pos.lineno <= pos.end_lineno <= max(len(lines or ()), pos.lineno):
        first = (_line_at(lines, frame.lineno) or "").strip()
        return ["    " + first] if first else []
    # As linecache gives them: '' past the end of the file.
    original = "".join((_line_at(lines, n) or "").rstrip() + "\n" for n in range(pos.lineno, pos.end_lineno + 1))
    dedented = textwrap.dedent(original)
    if not dedented.strip():
        return []
    try:
        result = _carets_313(original, dedented, pos.col, pos.end_col, pos.end_lineno - pos.lineno)
    except IndexError:   # a source line holding a line break of str.splitlines (\f, \x1c...)
        return ["    " + original.partition("\n")[0].strip()]
    block = textwrap.indent(textwrap.dedent("".join(result)), "    ", lambda line: True)
    return block.split("\n")[:-1]


_C_INDENT = " \t\f"   # what traceback.c strips from the front of a line before printing it


def _caret_line(frame: Frame, line: str) -> Optional[str]:
    """``~~^~~`` under the failing expression (3.11 and 3.12; 3.9 and 3.10 record no positions),
    unless it is the whole line and has no anchors."""
    pos = frame.position
    if pos is None or pos.lineno != frame.lineno:
        return None
    indent = len(line) - len(line.lstrip(_C_INDENT))
    end = pos.end_col if pos.end_lineno == pos.lineno else _c_line_end(line)
    segment = line[pos.col:end] or " "
    anchors = caret_anchors(segment) if pos.end_lineno == pos.lineno else None
    if pos.col <= indent and end >= len(line) and (anchors is None or anchors[0] == anchors[1]):
        return None
    marks = "".join(("^" if anchors is None or anchors[0] <= i < anchors[1] else "~") * _width(ch)
                    for i, ch in enumerate(segment))
    return " " * _display_width(line[indent:pos.col]) + marks


def _c_line_end(line: str) -> int:
    """Where traceback.c ends the carets of a line an expression goes on after: it steps back
    over the whitespace of the line's UTF-8 bytes from its length in characters, so each
    non-ASCII character on the line ends them one character sooner (under ``("é" +``, one
    short of the ``+``)."""
    text = line.rstrip("\n")
    return len(text.encode("utf-8")[:len(text)].rstrip(_C_INDENT.encode()))


def _width(ch: str) -> int:
    """Terminal cells a character takes, as Python's traceback counts them: wide
    characters (CJK, emoji) take two, so the carets stay under the expression."""
    return 1 if ch.isascii() else 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def caret_anchors(segment: str) -> Optional[Tuple[int, int]]:
    """Where in a one-line failing expression Python's traceback puts ^ rather than ~:
    the operator of a binary operation, the brackets of an item access (3.11, 3.12's
    _extract_caret_anchors_from_line_segment)."""
    try:
        tree = ast.parse(segment)
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    expr = tree.body[0].value

    def char(offset: Optional[int]) -> int:
        return char_index(segment, offset or 0)

    if isinstance(expr, ast.BinOp):
        # In characters throughout: traceback.py adds the spaces before the operator to the
        # left operand's byte column, one past the operator for each non-ASCII character
        # before it, where Python's printout (and debugpy's column) has the operator.
        start = char(expr.left.end_col_offset)
        between = segment[start:char(expr.right.col_offset)]
        skipped = len(between) - len(between.lstrip())
        left = start + skipped
        right = left + 1 + (skipped + 1 < len(between) and not between[skipped + 1].isspace())
        while left < len(segment) and (segment[left].isspace() or segment[left] in ")#"):
            left, right = left + 1, right + 1
        return left, right
    if isinstance(expr, ast.Subscript):
        left, right = char(expr.value.end_col_offset), char((expr.slice.end_col_offset or 0) + 1)
        while left < len(segment) and segment[left] != "[":
            left += 1
        while right < len(segment) and segment[right] != "]":
            right += 1
        return left, right + (right < len(segment))
    return None


# 3.13 (traceback.py's StackSummary.format_frame_summary): every line of a
# multi-line expression, each with its carets; ~~~~^^ under calls; no carets
# under an expression that is the whole statement.

class _Anchors(NamedTuple):
    """Where the ^ part starts and ends, as (line, column) in the expression's lines."""

    left_line: int
    left_col: int
    right_line: int
    right_col: int


class _NoAnchor(Exception):
    """traceback.py's walk ran off the expression (an assert there); it then shows no anchors."""


def _carets_313(original: str, dedented: str, col: int, end_col: int, span: int) -> List[str]:
    """The lines (each ending in a newline) of format_frame_summary's ``result``."""
    originals = original.splitlines()
    first_line, last_line = originals[0], originals[span]
    # Positions are characters of the lines as they were; traceback.py clips them to the stripped lines.
    start, end = min(col, len(first_line)), min(end_col, len(last_line))
    all_lines = dedented.splitlines()[:span + 1]
    dedent = len(first_line) - len(all_lines[0])
    start, end = max(0, start - dedent), max(0, end - dedent)
    segment = "\n".join(all_lines)
    segment = segment[start:len(segment) - (len(all_lines[-1]) - end)]
    try:
        anchors = _anchors_313(segment)
    except Exception:   # traceback.py suppresses any error here
        anchors = None
    return _CaretRows(all_lines, start, end, anchors).rows()


class _CaretRows:
    """An expression's lines as 3.13 prints them: the first, the last and those around
    the anchors, each with its carets, the others counted."""

    def __init__(self, lines: List[str], start: int, end: int, anchors: Optional[_Anchors]) -> None:
        self.lines = lines
        self.anchors = anchors
        self.show = _should_show_carets(start, end, lines, anchors)
        # Terminal columns: wide characters take two.
        self.start, self.end = _display_width(lines[0], start), _display_width(lines[-1], end)
        self.left = self.right = 0
        if anchors is not None:   # anchor columns on the first line count from the expression's start
            self.left = _display_width(lines[anchors.left_line],
                                       anchors.left_col + (start if anchors.left_line == 0 else 0))
            self.right = _display_width(lines[anchors.right_line],
                                        anchors.right_col + (start if anchors.right_line == 0 else 0))

    def rows(self) -> List[str]:
        shown = self.significant()
        out: List[str] = []
        for i, lineno in enumerate(shown):
            gap = lineno - shown[i - 1] if i else 1
            if gap == 2:
                out += self.line(lineno - 1)
            elif gap > 2:
                out.append("...<%d lines>...\n" % (gap - 1))
            out += self.line(lineno)
        return out

    def significant(self) -> List[int]:
        lines = {0, len(self.lines) - 1}
        if self.anchors is not None:
            lines.update(range(self.anchors.left_line - 1, self.anchors.left_line + 2))
            lines.update(range(self.anchors.right_line - 1, self.anchors.right_line + 2))
        return sorted(lines - {-1, len(self.lines)})

    def line(self, lineno: int) -> List[str]:
        return [self.lines[lineno] + "\n"] + ([self.carets(lineno) + "\n"] if self.show else [])

    def carets(self, lineno: int) -> str:
        line = self.lines[lineno]
        spaces = len(line) - len(line.lstrip())
        count = self.end if lineno == len(self.lines) - 1 else _display_width(line)
        return "".join(" " if col < spaces or (lineno == 0 and col < self.start)
                       else "^" if self.anchors is None or self.between_anchors(lineno, col) else "~"
                       for col in range(count))

    def between_anchors(self, lineno: int, col: int) -> bool:
        """The ^ part; the rest of the expression gets ~."""
        anchors = self.anchors
        assert anchors is not None
        after_left = lineno > anchors.left_line or (lineno == anchors.left_line and col >= self.left)
        before_right = lineno < anchors.right_line or (lineno == anchors.right_line and col < self.right)
        return after_left and before_right


def _display_width(line: str, offset: Optional[int] = None) -> int:
    """traceback.py's _display_width: ASCII lines count the offset as is, even past their end."""
    if offset is None:
        offset = len(line)
    if line.isascii():
        return offset
    return sum(_width(ch) for ch in line[:offset])


def _should_show_carets(start: int, end: int, all_lines: List[str], anchors: Optional[_Anchors]) -> bool:
    """3.13 leaves out the carets under a call that is the whole statement
    (``return f(x)``, ``y = f(x)``) and under anything that spans its lines."""
    try:
        tree: Optional[ast.Module] = ast.parse("\n".join(all_lines))
    except Exception:   # SyntaxError; ValueError for a NUL before 3.12 (the reader may be older)
        tree = None
    if tree is not None:
        if not tree.body:
            return False
        call = _statement_call(tree.body[0])
        # Compared as traceback.py does: ast's UTF-8 byte columns against character offsets.
        if call is not None and (call.lineno, call.end_lineno, call.col_offset, call.end_col_offset) == (
                1, len(all_lines), start, end):
            return False
    if anchors is not None:
        return True
    return bool(all_lines[0][:start].lstrip() or all_lines[-1][end:].rstrip())


def _statement_call(statement: ast.stmt) -> Optional[ast.Call]:
    """The call of ``return name(...)`` or ``target = ...(...)``, the statements 3.13 shows bare."""
    if isinstance(statement, ast.Return) and isinstance(statement.value, ast.Call):
        return statement.value if isinstance(statement.value.func, ast.Name) else None
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
        single = len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
        return statement.value if single else None
    return None


def _anchors_313(segment: str) -> Optional[_Anchors]:
    """traceback.py 3.13's _extract_caret_anchors_from_line_segment: the operator of a
    binary operation, the brackets of an item access or of a call's arguments."""
    try:
        # Parenthesized, a multi-line expression parses; its lines are then one further down.
        tree = ast.parse("(\n%s\n)" % segment)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    expr = tree.body[0].value
    walk = _SegmentWalk(segment.splitlines())
    if isinstance(expr, ast.BinOp):
        line, col = walk.end_of(expr.left)
        line, col = walk.until(line, col, lambda ch: not ch.isspace() and ch != ")")
        return _Anchors(line, col, line, walk.operator_end(line, col, expr.right))
    if isinstance(expr, (ast.Subscript, ast.Call)):
        inner = expr.value if isinstance(expr, ast.Subscript) else expr.func
        bracket = "[" if isinstance(expr, ast.Subscript) else "("
        line, col = walk.until(*walk.end_of(inner), lambda ch: ch == bracket)
        return _Anchors(line, col, *walk.end_of(expr, valid=False))
    return None


class _SegmentWalk:
    """Moves through an expression's lines as traceback.py 3.13 does to find its anchors."""

    def __init__(self, lines: List[str]) -> None:
        self.lines = lines

    def char(self, line: int, offset: int) -> int:
        return char_index(self.lines[line], offset)

    def valid(self, line: int, col: int) -> Tuple[int, int]:
        """The next real character at or after (line, col), across empty lines."""
        while line < len(self.lines) and col >= len(self.lines[line]):
            line, col = line + 1, 0
        if not (line < len(self.lines) and col < len(self.lines[line])):
            raise _NoAnchor
        return line, col

    def end_of(self, node: ast.expr, valid: bool = True) -> Tuple[int, int]:
        line = (node.end_lineno or 0) - 2  # ast lines from 1, after the added "(" line
        col = self.char(line, node.end_col_offset or 0)
        return self.valid(line, col) if valid else (line, col)

    def until(self, line: int, col: int, stop: Callable[[str], bool]) -> Tuple[int, int]:
        """The next character that satisfies ``stop``, skipping comments and line continuations."""
        while True:
            ch = self.lines[line][col]
            if ch in "\\#":
                line, col = self.valid(line + 1, 0)
            elif not stop(ch):
                line, col = self.valid(line, col + 1)
            else:
                return line, col

    def operator_end(self, line: int, col: int, right: ast.expr) -> int:
        """Where a binary operator that starts at (line, col) ends: one or two characters."""
        end = col + 1
        text = self.lines[line]
        if end < len(text) and (right.lineno - 2 > line or end < self.char(right.lineno - 2, right.col_offset)) \
                and not text[end].isspace() and text[end] not in "\\#":
            end += 1
        return end
