"""Which lines of a source each captured frame was running, from the stored source's syntax."""
from __future__ import annotations

import ast
import re
import tokenize
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from tbdump.qualnames import FUNCTIONS, NAMED, code_name


@dataclass(frozen=True)
class Scope:
    """The lines a frame owns: its code's span minus nested bodies run by other frames."""

    start: int                              # 1-based, inclusive
    end: int                                # 1-based, inclusive
    holes: Tuple[Tuple[int, int], ...] = ()
    params: Tuple[str, ...] = ()            # parameter names, in signature order

    def owns(self, line: int) -> bool:
        return self.start <= line <= self.end and not any(a <= line <= b for a, b in self.holes)


@dataclass(frozen=True)
class _Node:
    name: str
    start: int
    end: int
    function: bool
    node: Optional[ast.AST] = None      # None: found by its indentation (a source ast cannot parse)
    holes: Tuple[Tuple[int, int], ...] = ()     # of one found by its indentation


class SourceScopes:
    """The code scopes (module, classes, functions, lambdas, comprehensions) of one source text."""

    def __init__(self, text: Optional[str]) -> None:
        self._nodes: List[_Node] = []
        self._module: Optional[ast.Module] = None
        self._cache: Dict[Tuple[str, int], Scope] = {}
        self._module_holes: Optional[Tuple[Tuple[int, int], ...]] = None   # set when ast cannot parse
        self._lines: List[str] = []
        if text is None:
            return
        self._end = text.count("\n") + 1
        try:
            self._module = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            # Syntax newer than the Python tblsp runs on (a dump of a 3.12 program seen from
            # 3.9), or a broken file: its defs and classes are found by their indentation.
            self._lines = text.split("\n")
            self._nodes, self._module_holes = _indented(self._lines)
            return
        for node in ast.walk(self._module):
            name = code_name(node)
            if name is not None and isinstance(node, (ast.stmt, ast.expr)):
                self._nodes.append(_Node(name, node.lineno, node.end_lineno or node.lineno,
                                         isinstance(node, FUNCTIONS), node))

    def scope_of(self, name: str, lineno: int) -> Scope:
        """The scope of the frame called `name` that was at `lineno`."""
        key = (name, lineno)
        scope = self._cache.get(key)
        if scope is None:
            scope = self._cache[key] = self._find(name, lineno)
        return scope

    def _find(self, name: str, lineno: int) -> Scope:
        if name == "<module>" and self._module is not None:
            return Scope(1, self._end, _holes(self._module))
        if name == "<module>" and self._module_holes is not None:
            return Scope(1, self._end, self._module_holes)
        around = [n for n in self._nodes if n.start <= lineno <= n.end]
        # Innermost first: the latest start, then the shortest span.
        around.sort(key=lambda n: (-n.start, n.end))
        match = next((n for n in around if n.name == name), None)
        if match is None:
            match = next((n for n in around if n.function), None)
        if match is None:
            return Scope(lineno, lineno)
        if match.node is None:
            params = _header_params(self._lines, match.start) if match.function else ()
            return Scope(match.start, match.end, match.holes, params)
        return Scope(match.start, match.end, _holes(match.node), _params(match.node))


def _holes(node: ast.AST) -> Tuple[Tuple[int, int], ...]:
    """The bodies of defs and classes directly inside `node`: other frames run them."""
    holes = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, NAMED):
            # A one-line def's body shares the def line, which the outer frame runs.
            if child.body[0].lineno > child.lineno:
                holes.append((child.body[0].lineno, child.end_lineno or child.lineno))
        else:
            stack.extend(ast.iter_child_nodes(child))
    return tuple(sorted(holes))


def _params(node: ast.AST) -> Tuple[str, ...]:
    if not isinstance(node, FUNCTIONS):
        return ()
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if a.vararg is not None:
        names.append(a.vararg.arg)
    names.extend(p.arg for p in a.kwonlyargs)
    if a.kwarg is not None:
        names.append(a.kwarg.arg)
    return tuple(names)



_HEADER = re.compile(r"[ \t]*(?:async[ \t]+)?(def|class)[ \t]+(\w+)")
_HEADER_LINES = 100     # how far a def's parameter list is looked for


def _indent(line: str) -> Optional[int]:
    """The indentation of a line of code; None for a blank or comment line, which ends no block."""
    code = line.lstrip()
    return None if not code or code.startswith("#") else len(line[:len(line) - len(code)].expandtabs())


@dataclass
class _Open:
    """A def or class whose body is still being read (the module: indent -1)."""

    indent: int
    name: str
    start: int
    function: bool
    holes: List[Tuple[int, int]]


def _indented(lines: List[str]) -> Tuple[List[_Node], Tuple[Tuple[int, int], ...]]:
    """The defs and classes of a source ast cannot parse, each spanning its header and the
    lines indented deeper below it, with the bodies of those directly inside (its holes);
    and the holes of the module.  One pass, so a deeply nested file costs no more."""
    nodes: List[_Node] = []
    stack = [_Open(-1, "<module>", 1, False, [])]
    last = 0    # the last line of code so far: where a block closed by the next one ends

    def close_to(indent: int) -> None:
        while len(stack) > 1 and indent <= stack[-1].indent:
            block = stack.pop()
            if last > block.start:  # a body below the header: another frame runs it
                stack[-1].holes.append((block.start + 1, last))
            nodes.append(_Node(block.name, block.start, last, block.function, None, tuple(sorted(block.holes))))

    for number, line in enumerate(lines, 1):
        indent = _indent(line)
        if indent is None:
            continue
        close_to(indent)
        header = _HEADER.match(line)
        if header is not None:
            stack.append(_Open(indent, header.group(2), number, header.group(1) == "def", []))
        last = number
    close_to(-1)
    return nodes, tuple(sorted(stack[0].holes))


def _header_params(lines: List[str], start: int) -> Tuple[str, ...]:
    """The parameter names of the def on line ``start``: the names that open an entry of its
    parameter list (after ``(``, ``,``, ``*`` or ``**``), its type parameters left out."""
    names: List[str] = []
    depth, listed, previous = 0, False, ""
    header = iter(lines[start - 1:start - 1 + _HEADER_LINES])
    try:
        for tok in tokenize.generate_tokens(lambda: next(header, "")):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
                listed = listed or (tok.string == "(" and depth == 1)
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
                if listed and depth == 0:
                    break
            elif listed and depth == 1 and tok.type == tokenize.NAME and previous in ("(", ",", "*", "**"):
                names.append(tok.string)
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return tuple(names)
