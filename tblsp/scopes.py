"""Which lines of a source each captured frame was running, from the stored source's syntax."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

# The frame names Python gives to code objects that are not named by a def/class.
_ANONYMOUS = {
    ast.Lambda: "<lambda>",
    ast.ListComp: "<listcomp>",
    ast.SetComp: "<setcomp>",
    ast.DictComp: "<dictcomp>",
    ast.GeneratorExp: "<genexpr>",
}
_NAMED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


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
    node: ast.AST


class SourceScopes:
    """The code scopes (module, classes, functions, lambdas, comprehensions) of one source text."""

    def __init__(self, text: Optional[str]) -> None:
        self._nodes: List[_Node] = []
        self._module: Optional[ast.Module] = None
        self._cache: Dict[Tuple[str, int], Scope] = {}
        if text is None:
            return
        try:
            self._module = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return      # a source this Python cannot parse: frames then own just their lines
        self._end = text.count("\n") + 1
        for node in ast.walk(self._module):
            if not isinstance(node, (ast.stmt, ast.expr)):
                continue
            name = node.name if isinstance(node, _NAMED) else _ANONYMOUS.get(type(node))
            if name is not None:
                self._nodes.append(_Node(name, node.lineno, node.end_lineno or node.lineno, node))

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
        around = [n for n in self._nodes if n.start <= lineno <= n.end]
        # Innermost first: the latest start, then the shortest span.
        around.sort(key=lambda n: (-n.start, n.end))
        match = next((n for n in around if n.name == name), None)
        if match is None:
            match = next((n for n in around if isinstance(n.node, _FUNCTIONS)), None)
        if match is None:
            return Scope(lineno, lineno)
        return Scope(match.start, match.end, _holes(match.node), _params(match.node))


def _holes(node: ast.AST) -> Tuple[Tuple[int, int], ...]:
    """The bodies of defs and classes directly inside `node`: other frames run them."""
    holes = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, _NAMED):
            # A one-line def's body shares the def line, which the outer frame runs.
            if child.body[0].lineno > child.lineno:
                holes.append((child.body[0].lineno, child.end_lineno or child.lineno))
        else:
            stack.extend(ast.iter_child_nodes(child))
    return tuple(sorted(holes))


def _params(node: ast.AST) -> Tuple[str, ...]:
    if not isinstance(node, _FUNCTIONS):
        return ()
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if a.vararg is not None:
        names.append(a.vararg.arg)
    names.extend(p.arg for p in a.kwonlyargs)
    if a.kwarg is not None:
        names.append(a.kwarg.arg)
    return tuple(names)
