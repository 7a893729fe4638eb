"""Finds the names, attribute chains and literal subscripts in one line of Python source."""
from __future__ import annotations

import ast
import io
import keyword
import tokenize
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

Key = Union[str, int, float, bytes, bool, None]


@dataclass(frozen=True)
class Step:
    """One link after the base name: `.attr` or `[literal]`."""

    attr: Optional[str] = None   # set for `.attr`
    key: Key = None              # the literal's value for `[literal]`


@dataclass(frozen=True)
class Chain:
    """An expression the previews can answer: a name, then attributes and literal subscripts."""

    base: str
    steps: Tuple[Step, ...]
    start: int    # 0-based character columns of the expression in the line
    end: int

    def text(self, line: str) -> str:
        return line[self.start:self.end]


def _tokens(line: str, shift: int = 0) -> List[tokenize.TokenInfo]:
    """The line's tokens, ``shift`` columns to the right; a line cut out of a longer statement
    tokenizes up to where it breaks."""
    tokens: List[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.ERRORTOKEN and tok.string.strip() in ("'", '"'):
                break   # a string left open: what follows is its text (3.12+ stops here too)
            if tok.type == tokenize.STRING and tok.start[0] == tok.end[0] == 1:
                # Before 3.12 an f-string is one STRING token (from 3.12 on, its parts are
                # tokens of their own): the names in its replacement fields are found here.
                end = max(tok.end[1], _fstring_end(line, tok.start[1]))
                string = line[tok.start[1]:end]
                tokens.append(tok._replace(string=string, start=(1, tok.start[1] + shift), end=(1, end + shift)))
                for start, stop in _fields(string):
                    tokens.extend(_tokens(string[start:stop], shift + tok.start[1] + start))
                if end > tok.end[1]:
                    # The tokenizer before 3.12 ended it at its own quote inside a field
                    # (`f"{d["key"]}"`, PEP 701): what follows the whole string is tokenized anew.
                    tokens.extend(_tokens(line[end:], shift + end))
                    break
                continue
            tokens.append(tok._replace(start=(tok.start[0], tok.start[1] + shift),
                                       end=(tok.end[0], tok.end[1] + shift)))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return [tok for tok in tokens if tok.type not in (tokenize.NEWLINE, tokenize.ENDMARKER)]


def _fields(string: str) -> Iterator[Tuple[int, int]]:
    """The spans of the expressions in the replacement fields of an f-string literal (none
    for other strings); a field's format spec is scanned for fields of its own."""
    quote = min((string.find(q) for q in "'\"" if q in string), default=-1)
    if quote < 0 or "f" not in string[:quote].lower():
        return
    i = quote + 1
    while i < len(string):
        if string.startswith("{{", i) or string[i] != "{":
            i += 2 if string.startswith("{{", i) else 1
            continue
        end = _field_end(string, i + 1)
        yield i + 1, end
        i = end


def _fstring_end(line: str, start: int) -> int:
    """Where the f-string literal at ``start`` ends as Python 3.12 reads it: its fields may
    hold strings in its own quotes (PEP 701); ``start`` for another literal."""
    quote_at = start
    while quote_at < len(line) and line[quote_at] not in "'\"":
        quote_at += 1
    if "f" not in line[start:quote_at].lower():
        return start    # not an f-string: the tokenizer's end is right
    quote = line[quote_at] * (3 if line.startswith(line[quote_at] * 3, quote_at) else 1)
    i = quote_at + len(quote)
    while i < len(line) and not line.startswith(quote, i):
        if line.startswith("{{", i) or line[i] == "\\":
            i += 2
        elif line[i] == "{":
            i = _replacement_end(line, i + 1)
        else:
            i += 1
    return min(i + len(quote), len(line))


def _replacement_end(string: str, i: int) -> int:
    """Past the `}` that closes the replacement field whose expression starts at ``i``: its
    conversion and format spec, whose quotes are text, may hold fields of their own."""
    i = _field_end(string, i)
    while i < len(string) and string[i] != "}":
        i = _replacement_end(string, i + 1) if string[i] == "{" else i + 1
    return i + 1


def _field_end(string: str, i: int) -> int:
    """Where the expression starting at ``i`` ends: a `!` conversion, `:` spec, `=` or `}` at
    its top level (outside brackets and quotes), or the end of the string."""
    depth, quote = 0, ""
    while i < len(string):
        c = string[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}" and depth:
            depth -= 1
        elif depth == 0 and (c in "}:" or (c == "!" and string[i + 1:i + 2] != "=")
                             or (c == "=" and string[i + 1:i + 2] != "=" and string[i - 1] not in "=!<>")):
            return i
        i += 1
    return i


def _is_name(tok: tokenize.TokenInfo) -> bool:
    return tok.type == tokenize.NAME and not keyword.iskeyword(tok.string)


def _literal(tokens: List[tokenize.TokenInfo], i: int) -> Optional[Tuple[Key, int]]:
    """A `[literal]` subscript starting at tokens[i] (the `[`): its value and the `]` index."""
    j = i + 1
    parts = []
    while j < len(tokens) and tokens[j].string != "]":
        if tokens[j].type not in (tokenize.STRING, tokenize.NUMBER, tokenize.OP, tokenize.NAME):
            return None
        parts.append(tokens[j].string)
        j += 1
    if j == len(tokens) or not parts:
        return None
    try:
        value = ast.literal_eval(" ".join(parts))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(value, (str, int, float, bytes, bool, type(None))):
        return None
    return value, j


def _chains(line: str) -> Iterator[Tuple[Chain, List[Tuple[int, int]]]]:
    """Every maximal chain of the line, with the column span of each of its links."""
    tokens = _tokens(line)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        # After a dot: an attribute; after a `!`: an f-string's conversion (`{x!r}`), not a name.
        qualified = i > 0 and tokens[i - 1].string in (".", "!")
        if not _is_name(tok) or qualified or tok.start[0] != 1:
            i += 1
            continue
        steps: List[Step] = []
        spans = [(tok.start[1], tok.end[1])]
        j = i + 1
        while j < len(tokens):
            if tokens[j].string == "." and j + 1 < len(tokens) and _is_name(tokens[j + 1]):
                steps.append(Step(attr=tokens[j + 1].string))
                spans.append((tokens[j + 1].start[1], tokens[j + 1].end[1]))
                j += 2
            elif tokens[j].string == "[" and (lit := _literal(tokens, j)) is not None:
                steps.append(Step(key=lit[0]))
                spans.append((tokens[j].start[1], tokens[lit[1]].end[1]))
                j = lit[1] + 1
            else:
                break
        yield Chain(tok.string, tuple(steps), spans[0][0], spans[-1][1]), spans
        i = j


def chain_at(line: str, col: int) -> Optional[Chain]:
    """The chain whose link is under character column `col`, cut after that link."""
    for chain, spans in _chains(line):
        for n, (a, b) in enumerate(spans):
            if a <= col < b or (col == b and n == len(spans) - 1):
                return Chain(chain.base, chain.steps[:n], chain.start, b)
    return None


def names(line: str) -> Iterator[Tuple[str, int, int]]:
    """The bare names of a line (not attributes, not in strings or comments), with their columns."""
    for chain, spans in _chains(line):
        yield chain.base, spans[0][0], spans[0][1]
