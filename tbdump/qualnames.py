"""Where a frame's code is in its source, and the qualified name the compiler gives that code.

Python 3.11 records it (``co_qualname``, ``Class.method``); code of 3.9/3.10 has
only its ``co_name``, so a dump they wrote names a method ``method``.  The
source the dump holds says the rest: the def, class, lambda or comprehension
around the frame's line, and the classes and functions it is nested in.
"""
from __future__ import annotations

import ast
import functools
from typing import Dict, List, Optional, Set, Tuple

# The code objects a comprehension makes up to 3.11 (3.12 inlines all but the generator's).
_COMPREHENSIONS = {ast.ListComp: "<listcomp>", ast.SetComp: "<setcomp>", ast.DictComp: "<dictcomp>",
                   ast.GeneratorExp: "<genexpr>"}

NAMED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

Definition = Tuple[ast.AST, str]    # a node that compiles to a code object of its own, its qualname


class ParsedSource:
    """One source text's tree (None: it does not parse here) and its definitions, found on first use."""

    def __init__(self, filename: str, text: str) -> None:
        try:
            self.tree: Optional[ast.AST] = ast.parse(text, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            # Syntax newer than this Python, a broken or crafted file: no names from it.
            self.tree = None
        self._definitions: Optional[List[Definition]] = None

    @property
    def definitions(self) -> List[Definition]:
        if self._definitions is None:
            self._definitions = [] if self.tree is None else _definitions(self.tree)
        return self._definitions


# A viewer asks about the same few files again and again (every frame, every class): each
# text is parsed once.  A file can have two texts at once, the dump's and the local one
# linecache serves (redaction changed the dump's), so the cache is by text, and bounded
# for a language server that opens dump after dump.
@functools.lru_cache(maxsize=128)
def parsed(filename: str, text: str) -> ParsedSource:
    return ParsedSource(filename, text)


def code_name(node: ast.AST) -> Optional[str]:
    """The ``co_name`` of the code object ``node`` compiles to; None if it makes none."""
    if isinstance(node, NAMED):
        return node.name
    if isinstance(node, ast.Lambda):
        return "<lambda>"
    return _COMPREHENSIONS.get(type(node))


def first_line(node: ast.AST) -> int:
    """Where the code's definition starts: its first decorator, as ``co_firstlineno`` says."""
    decorators = getattr(node, "decorator_list", None)
    line: int = decorators[0].lineno if decorators else getattr(node, "lineno", 1)
    return line


def _definitions(tree: ast.AST) -> List[Definition]:
    """Every node with a code object of its own, with its ``__qualname__`` as 3.9-3.11 give it.

    What the enclosing code evaluates (decorators, defaults, base classes, the
    first iterable of a comprehension) is named in the enclosing scope, as the
    compiler names it.  Iterative, so deep nesting is fine.
    """
    found: List[Definition] = []
    declared: Dict[int, Set[str]] = {}
    # (node, the qualname prefix of its scope, the def or class that scope is; None: the module)
    stack: List[Tuple[ast.AST, str, Optional[ast.AST]]] = [(c, "", None) for c in ast.iter_child_nodes(tree)]
    while stack:
        node, prefix, scope = stack.pop()
        name = code_name(node)
        if name is None:
            stack.extend((child, prefix, scope) for child in ast.iter_child_nodes(node))
            continue
        if scope is not None and isinstance(node, NAMED) and name in _globals(scope, declared):
            prefix = ""     # `global name` in the enclosing def: the compiler names it as a module's
        qualname = prefix + name
        found.append((node, qualname))
        # A def's own names are "<locals>"; a class's and a comprehension's are not.
        inner = qualname + (".<locals>." if isinstance(node, FUNCTIONS) else ".")
        stack.extend((child, inner if inside else prefix, node if inside else scope)
                     for child, inside in _scoped_children(node))
    return found


def _scoped_children(node: ast.AST) -> List[Tuple[ast.AST, bool]]:
    """``node``'s children, each with whether ``node``'s own code runs it (else the enclosing code)."""
    if type(node) in _COMPREHENSIONS:
        first = node.generators[0]   # type: ignore[attr-defined]
        return ([(first.iter, False)] + [(c, True) for c in ast.iter_child_nodes(first) if c is not first.iter]
                + [(c, True) for c in ast.iter_child_nodes(node) if c is not first])
    body = node.body      # type: ignore[attr-defined]
    inside = {id(part) for part in (body if isinstance(body, list) else [body])}
    return [(c, id(c) in inside) for c in ast.iter_child_nodes(node)]


def _globals(scope: ast.AST, declared: Dict[int, Set[str]]) -> Set[str]:
    """The names ``scope``'s own code declares ``global`` (found once a scope)."""
    if id(scope) not in declared:
        names: Set[str] = set()
        stack = [child for child, inside in _scoped_children(scope) if inside]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Global):
                names.update(node.names)
            elif code_name(node) is None:
                stack.extend(ast.iter_child_nodes(node))
        declared[id(scope)] = names
    return declared[id(scope)]


def find_code(source: ParsedSource, name: str, lineno: int, qualname: Optional[str] = None) -> Optional[Definition]:
    """The definition of the code called ``name`` that was running ``lineno``.

    Same-named definitions can nest (a recursion helper, a redefinition):
    ``qualname``, where known, decides, else the innermost one.
    """
    around = [(node, q) for node, q in source.definitions
              if code_name(node) == name and first_line(node) <= lineno <= (getattr(node, "end_lineno", None) or 0)]
    pool = [d for d in around if d[1] == qualname] or around
    # Innermost: the latest start; on one line (a lambda in a lambda), the deepest.
    return max(pool, key=lambda d: (first_line(d[0]), len(d[1])), default=None)


def qualname_in(filename: str, text: str, name: str, lineno: int) -> Optional[str]:
    """The qualified name of the code ``name`` running ``lineno`` of ``text``; None if not found there."""
    if name == "<module>":
        return name
    found = find_code(parsed(filename, text), name, lineno)
    return None if found is None else found[1]
