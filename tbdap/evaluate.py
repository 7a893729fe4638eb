"""Expressions against a replayed frame: evaluation, REPL statements, completions and assignment."""
from __future__ import annotations

import ast
import builtins
import contextlib
import dis
import functools
import inspect
import itertools
import keyword
import re
import sys
import traceback
import types
from types import CodeType
from typing import Any, Callable, ContextManager, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from tbdump import preview
from tbdump.lazymembers import unread_globals
from tbdump.model import Frame, Value, not_captured

from .console import Console, written_over
from .messaging import RequestError, utf16_length
from .variables import CLASS_REPRS, LEN_NAME, Objects, Row, Unavailable, ViewClock

# The dotted name being typed, or a number (``x = 1``, ``1.5``): a token that begins with a digit,
# which no name completes, as none does in debugpy or Python's own prompt.  Matched on the text
# reversed: a search for it at the end tried every start, 1.6 s for a pasted line of 20 000 letters.
_TOKEN_REVERSED = re.compile(r"[\w.]*")


# Code that names these can reach any variable of the frame, not only those it names.
_DYNAMIC_NAMES = frozenset(("locals", "globals", "vars", "dir", "eval", "exec"))

# What an expression that only reads is made of (a hover's `order.items[0]`): any other node may
# run a function of the program, which may change what the Variables view shows.
_READS = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Slice, ast.Tuple,
          ast.expr_context)

# A completions response lists so many names at most, the first in order: a module of 200 000
# globals offered 111 111 of them for "V_1" (debugpy sends every match), some 5 MB a keystroke.
COMPLETIONS_SHOWN = 1000


class ModuleGlobals:
    """One module's globals as real objects, shared by the contexts of all its frames as the live
    frames shared them: a global changed in one frame is changed in the others."""

    def __init__(self) -> None:
        self.values: Dict[str, Any] = {"__builtins__": builtins}
        self.resolved: Set[str] = set()  # names put in ``values`` once


class FrameContext:
    """One frame's namespaces: previews always, real objects once asked for (and allowed).

    The namespaces of real objects fill in as code needs them: evaluating
    ``numbers[0]`` unpickles ``numbers``, not the frame's 200 MB array.
    """

    def __init__(self, frame: Frame, globals_values: Mapping[str, Value], objects: Objects,
                 module_globals: Optional[ModuleGlobals] = None) -> None:
        self.frame = frame
        self.locals_values = dict(frame.variables)
        self.globals_values = globals_values
        self.objects = objects
        self._globals = module_globals or ModuleGlobals()
        # A module's own frame has its globals as locals: one dict, as live, so an assignment
        # in it (or to the module's globals anywhere) shows in both scopes.
        shared = frame.module_level and module_globals is not None
        self._live: Tuple[Dict[str, Any], Dict[str, Any]] = (
            self._globals.values, self._globals.values if shared else {})
        self._resolved_locals: Set[str] = self._globals.resolved if shared else set()
        self._unavailable: Dict[str, str] = {}
        # The names completions offer, as at a count of the replay's changes: the set, and sorted.
        self.completion_names: Optional[Tuple[int, Set[str], List[Tuple[str, str]]]] = None

    def live(self, code: Optional[CodeType] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(globals, locals) as dicts of real objects; placeholders where a value is missing.

        They hold at least every variable ``code`` names (all of them without
        ``code``), and are kept, so REPL statements and setVariable change this replay.
        """
        self._require_objects()
        names = None if code is None else _names_in(code)
        if names is not None and names & _DYNAMIC_NAMES:
            names = None
        for is_local, values in ((False, self.globals_values), (True, self.locals_values)):
            for name in (values if names is None else names & values.keys()):
                self._ensure(is_local, name)
        return self._live

    def namespace(self, is_local: bool) -> Dict[str, Any]:
        """The locals (or globals) alone as real objects, every variable of them in: a function's
        Locals need none of its module's 200 000 globals restored."""
        self._require_objects()
        for name in (self.locals_values if is_local else self.globals_values):
            self._ensure(is_local, name)
        return self._live[is_local]

    def names(self) -> Set[str]:
        """Every variable's name as the namespaces hold them now: those the console deleted left
        out, those it made in."""
        names: Set[str] = set()
        for is_local, values in ((False, self.globals_values), (True, self.locals_values)):
            live = self._live[is_local]
            resolved = self._resolved_locals if is_local else self._globals.resolved
            deleted = resolved - live.keys()
            names.update(values.keys() - deleted if deleted else values.keys(), live.keys())
            if "__builtins__" not in values:
                names.discard("__builtins__")
        return names

    def kind(self, name: str) -> Optional[str]:
        """A variable's kind as completions say it (None: no variable of that name), the object
        the console put there told by itself."""
        for is_local, values in ((True, self.locals_values), (False, self.globals_values)):
            live = self._live[is_local]
            if name in live and (name != "__builtins__" or name in values):
                return _object_kind(live[name])
            if name in values and name not in (self._resolved_locals if is_local else self._globals.resolved):
                return _kind(values[name])
        return None

    def real(self, is_local: bool, name: str) -> Any:
        """One variable's real object, as the namespaces hold it now (changes included)."""
        self._require_objects()
        self._ensure(is_local, name)
        obj = self._live[is_local][name]
        if is_missing(obj):
            raise Unavailable(obj._tbdap_reason)
        return obj

    def _require_objects(self) -> None:
        if not self.objects.allowed:
            raise Unavailable(self.objects.reason)

    def _ensure(self, is_local: bool, name: str) -> None:
        """Puts a captured variable's object in its namespace, the first time only (a REPL
        statement may have changed or deleted it since)."""
        values = self.locals_values if is_local else self.globals_values
        resolved = self._resolved_locals if is_local else self._globals.resolved
        if name not in resolved and name in values:
            # Noted once it is there: an error restoring it leaves it to be asked again, not absent.
            self._live[is_local][name] = self._real(name, values[name])
            resolved.add(name)

    def _real(self, name: str, value: Value) -> Any:
        try:
            return self.objects.resolve(value)
        except Unavailable as exc:
            self._unavailable[name] = str(exc)
            return Missing(value, str(exc), self.objects.resolve)

    def noted(self, error: str, expression: str) -> str:
        """``error``, then the names in the expression whose values the dump does not hold, in one
        sentence."""
        try:
            names = {n.id for n in ast.walk(ast.parse(expression)) if isinstance(n, ast.Name)}
        except SyntaxError:
            return error
        missing = ["%s (%s)" % (n, self._unavailable[n]) for n in sorted(names) if n in self._unavailable]
        globals_missing = unread_globals(error, self.globals_values)
        if globals_missing is not None:
            missing.append("this module's globals (%s)" % globals_missing)
        if not missing:
            return error
        return "%s%s Not in the dump: %s." % (error, "" if error.endswith(".") else ".", "; ".join(missing))


def _in_one_namespace(code: CodeType, g: Dict[str, Any], loc: Dict[str, Any]) -> Any:
    """Runs ``code`` of a function's frame whose lambdas, comprehensions or generator expressions
    read the frame's locals, as they do in the frame itself and under debugpy: run with the
    locals apart from the globals, they see the globals alone (NameError). As debugpy does, the
    code runs in one namespace, the globals and the locals over them, and what it binds or
    unbinds there goes back to the locals, or to the globals for a name it declares global
    (a `global` statement, as setVariable on a global writes)."""
    declared = {i.argval for i in dis.get_instructions(code) if i.opname in ("STORE_GLOBAL", "DELETE_GLOBAL")}
    namespace = {**g, **loc}
    before = dict(namespace)
    try:
        return eval(code, namespace)  # noqa: S307 - evaluating in the replay is the point
    finally:
        for name, value in namespace.items():
            if value is not before.get(name, _UNBOUND):
                (g if name in declared else loc)[name] = value
        for name in before.keys() - namespace.keys():
            (g if name in declared else loc).pop(name, None)


_UNBOUND = object()


def _names_in(code: CodeType) -> Set[str]:
    """Every global or local name ``code`` and the code nested in it (lambdas, comprehensions) use."""
    names = set(code.co_names) | set(code.co_varnames) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names_in(const)
    return names


class Missing:
    """Stands in the REPL namespace for a value the dump does not hold: it shows as
    captured, and the attributes and items its preview holds can still be read."""

    def __init__(self, value: Value, reason: str, resolve: Optional[Callable[[Value], Any]] = None) -> None:
        self._tbdap_value = value
        self._tbdap_reason = reason
        self._tbdap_resolve = resolve   # for a part that has an object of its own in the dump

    def __repr__(self) -> str:
        return self._tbdap_value.repr or "<%s>" % not_captured(self._tbdap_reason)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_tbdap_"):  # not yet set (copy, pickle): never recurse
            raise AttributeError(name)
        return self._tbdap_child("." + name, AttributeError(
            "%r is not in the captured preview of this value" % name))

    def __getitem__(self, key: Any) -> Any:
        return self._tbdap_child("[%r]" % (key,), KeyError("%r is not in the captured preview of this value" % (key,)))

    def _tbdap_child(self, access: str, error: Exception) -> Any:
        child = self._tbdap_value.child(access)
        if child is None:
            raise error
        if child.ref is not None and self._tbdap_resolve is not None:
            try:
                return self._tbdap_resolve(child)
            except Unavailable:
                pass
        return Missing(child, self._tbdap_reason, self._tbdap_resolve)


def is_missing(obj: Any) -> bool:
    """Whether ``obj``, one of the program's objects, is a ``Missing``: asked of its real class,
    as tbdump.placeholder.is_placeholder asks (isinstance() reads ``__class__``)."""
    return issubclass(type(obj), Missing)


def one_line(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _printed(exc: BaseException) -> str:
    """What Python's REPL prints for ``exc`` raised by an expression: its frames only, not this
    module's (the evaluation's, and those of a value the dump lacks, ``Missing``, that refused)."""
    shown = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    shown.stack = traceback.StackSummary.from_list([f for f in shown.stack if f.filename != __file__])
    return "".join(shown.format()).rstrip()


def _dedented(text: str) -> str:
    """``text`` less its first line's indentation, where every line starts with as much
    whitespace: lines pasted from inside a function run as debugpy runs them, not as an
    IndentationError."""
    lines = text.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    width = len(first) - len(first.lstrip())
    if width and all(line[:width].isspace() for line in lines):
        return "".join(line[width:] for line in lines)
    return text


class Evaluator:
    """Evaluates for one session; `output` receives what evaluated code prints."""

    def __init__(self, objects: Objects, output: Callable[[str, str], None], clock: ViewClock,
                 user_code: Callable[[], ContextManager[None]] = contextlib.nullcontext) -> None:
        self.objects = objects
        self.output = output
        self.clock = clock          # bounds the code that showing the result runs
        self.user_code = user_code  # where the evaluated code runs interruptibly

    def evaluate(self, expression: str, ctx: FrameContext, context: str) -> Row:
        if not self.objects.allowed:
            return self._from_previews(expression, ctx)
        source = _dedented(expression)
        try:
            tree = ast.parse(source, "<%s>" % context, "eval")
            code = compile(tree, "<%s>" % context, "eval")
            statement = False
            # A watch that calls (`items.pop()`) changes the program as the console does, as in
            # debugpy: the Variables view must show it. A hover's name or attribute changes nothing.
            changes = context == "repl" or not _reads_only(tree)
        except SyntaxError as exc:
            if context != "repl":
                raise RequestError(one_line(exc)) from None
            try:
                code = compile(source, "<repl>", "exec")
            except SyntaxError as exc:
                raise RequestError(one_line(exc)) from None
            statement = changes = True
        g, loc = ctx.live(code)
        try:
            result = self._run(code, g, loc, source, ctx, context)
        finally:
            if changes:
                self.objects.mark_changed()
        if statement or (context == "repl" and result is None):
            return Row("", Value(type="", repr=""), None)  # as Python's REPL: nothing to print
        if is_missing(result):  # what the dump has of it: its preview
            return Row(expression, result._tbdap_value, expression)
        return Row(expression, self.clock.describe(result), expression, obj=result, has_obj=True)

    def _run(self, code: Any, g: Dict[str, Any], loc: Dict[str, Any], expression: str,
             ctx: FrameContext, context: str) -> Any:
        console = Console(self.output)
        try:
            with self.user_code(), contextlib.redirect_stdout(written_over(sys.stdout, console, "stdout")), \
                    contextlib.redirect_stderr(written_over(sys.stderr, console, "stderr")):
                # One namespace only where a nested scope needs it: it copies the module's
                # globals, 200 000 of them in a big module, at every evaluation.
                if loc is g or not any(isinstance(c, CodeType) for c in code.co_consts):
                    return eval(code, g, loc)  # noqa: S307 - evaluating in the replay is the point
                return _in_one_namespace(code, g, loc)
        except BaseException as exc:  # exit() in the console ends the evaluation, not the adapter
            raise RequestError(ctx.noted(_printed(exc) if context == "repl" else one_line(exc), expression)) from None
        finally:
            console.send()

    def _from_previews(self, expression: str, ctx: FrameContext) -> Row:
        """Safe mode: what the Variables view offers to watch (names, attributes, items by a
        literal key, len()), answered from the previews; nothing of the program runs."""
        why = self.objects.reason
        try:
            node = ast.parse(expression.strip(), mode="eval").body
        except SyntaxError:
            raise RequestError(_PREVIEWS_ONLY % why) from None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"
                and len(node.args) == 1 and not node.keywords):
            value = _length(self._lookup(node.args[0], ctx, why), ast.unparse(node), why)
        else:
            value = self._lookup(node, ctx, why)
        # Opened, a value the preview holds no contents of says why, as the Variables view does.
        return Row(expression, value, expression, live=functools.partial(self.objects.resolve, value))

    def _lookup(self, node: ast.AST, ctx: FrameContext, why: str) -> Value:
        if isinstance(node, ast.Name):
            for space in (ctx.locals_values, ctx.globals_values):
                if node.id in space:
                    return space[node.id]
            raise RequestError(ctx.noted("NameError: name %r is not defined in this frame's captured variables."
                                         % node.id, node.id))
        if isinstance(node, ast.Attribute):
            return _child(self._lookup(node.value, ctx, why), "." + node.attr, ast.unparse(node), why)
        if isinstance(node, ast.Subscript):
            try:
                key = _literal(node.slice)
                hash(key)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                raise RequestError(_PREVIEWS_ONLY % why) from None
            return _item(self._lookup(node.value, ctx, why), key, ast.unparse(node), why)
        raise RequestError(_PREVIEWS_ONLY % why)

    def assign(self, target: str, value_expression: str, ctx: FrameContext, a_global: bool = False) -> Row:
        """Runs `target = value` in the replay (setVariable/setExpression) and returns the new value.

        ``a_global``: ``target`` names a variable of the frame's module (a row of its Globals
        scope), which the assignment changes, not a local of the same name it would make.
        """
        if not self.objects.allowed:
            raise RequestError("Values cannot be changed here: %s." % self.objects.reason)
        statement = "%s = %s" % (target, value_expression)
        try:
            code = compile("global %s\n%s" % (target, statement) if a_global else statement, "<set>", "exec")
        except SyntaxError as exc:
            raise RequestError(one_line(exc)) from None
        g, loc = ctx.live(code)
        self._run(code, g, loc, value_expression, ctx, "watch")
        self.objects.mark_changed()
        if a_global:  # a local of the same name would hide it from the expression
            return Row(target, self.clock.describe(g[target]), target, obj=g[target], has_obj=True)
        return self.evaluate(target, ctx, "watch")

    def completions(self, text: str, ctx: FrameContext) -> List[Dict[str, Any]]:
        """What ``text`` (the line up to the cursor) may complete to; each target replaces the
        name being typed: ``start`` (0-based, in UTF-16 units, as debugpy sends it and VS Code
        reads it) and ``length`` say where it is."""
        match = _TOKEN_REVERSED.match(text[::-1])
        word = match.group(0)[::-1] if match else ""
        if word[:1].isdigit():
            return []
        base, dot, prefix = word.rpartition(".")
        if dot:
            offered, kind = self._attributes(base, ctx)
        else:
            offered, kind = self._variables(ctx), lambda name: ctx.kind(name) or _builtin_names()[name]
        length = utf16_length(prefix)
        start = utf16_length(text) - length
        # Case aside, as debugpy matches: "none" offers None, "valuee" ValueError.
        folded = prefix.casefold()
        matches = (name for low, name in offered if low.startswith(folded))
        # A kind for those shown only: one for each of 200 000 globals (or of an object's 100 000
        # attributes) took 400 ms a keystroke.
        return [{"label": name, "type": kind(name), "start": start, "length": length}
                for name in itertools.islice(matches, COMPLETIONS_SHOWN)]

    def _variables(self, ctx: FrameContext) -> List[Tuple[str, str]]:
        """What a bare name may complete to, sorted; looked at again only after the replay changed,
        and sorted again only if the console made or deleted a name."""
        changes = self.objects.changes
        cached = ctx.completion_names
        if cached is None or cached[0] != changes:
            names = ctx.names() | _builtin_names().keys()
            cached = changes, names, (cached[2] if cached is not None and cached[1] == names else _sorted(names))
            ctx.completion_names = cached
        return cached[2]

    def _attributes(self, base: str, ctx: FrameContext) -> Tuple[List[Tuple[str, str]], Callable[[str], str]]:
        """The attribute names of ``base``'s value, sorted, and how to tell one's kind."""
        try:
            row = self.evaluate(base, ctx, "hover")
        except RequestError:
            return [], str
        if row.has_obj:
            obj = row.obj
            try:  # the program's __dir__, asked as the user types: bounded like any of its code
                names = self.clock.run(lambda: _dir(obj), "dir()")
            except Unavailable:
                return [], str
            return _sorted(names), functools.partial(_static_kind, obj)
        kinds = {c.access[1:]: _kind(c.value) for c in row.value.children or []
                 if c.access and c.access.startswith(".")}
        return _sorted(kinds), kinds.__getitem__


_PREVIEWS_ONLY = "Only names, attribute/item access and len() can be evaluated here: %s."
_SEQUENCES = frozenset(("list", "tuple", "collections.deque", "numpy.ndarray"))


def _child(parent: Value, access: str, text: str, why: str) -> Value:
    child = parent.child(access)
    if child is None:
        raise _not_previewed(text, why)
    return child


def _not_previewed(text: str, why: str) -> RequestError:
    return RequestError("%s is not in the captured preview, and %s." % (text, why))


def _item(parent: Value, key: Any, text: str, why: str) -> Value:
    """The previewed item under ``key``: by the access the preview wrote, ``[repr(key)]``, else
    by the key each access stands for (a frozenset of texts lists them in its process's order)."""
    if type(key) is int and key < 0 and parent.length is not None and parent.qualtype in _SEQUENCES:
        key += parent.length  # queue[-1]: from the end of a sequence, as Python counts
    found = parent.child("[%r]" % (key,))
    if found is not None:
        return found
    for child in parent.children or ():
        if child.access and child.access.startswith("[") and _same_key(child.access[1:-1], key):
            return child.value
    raise _not_previewed(text, why)


def _same_key(text: str, key: Any) -> bool:
    try:
        return bool(_literal(ast.parse(text, mode="eval").body) == key)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False


def _literal(node: ast.AST) -> Any:
    """A key written as Python writes its repr, run as no code: ast.literal_eval's literals, and
    frozenset({...}), which has no literal of its own."""
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Set):
        return {_literal(e) for e in node.elts}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset"
            and len(node.args) <= 1 and not node.keywords):
        return frozenset(_literal(node.args[0]) if node.args else ())
    return ast.literal_eval(node)


def _length(value: Value, text: str, why: str) -> Value:
    """len() of a previewed value, as its len() row shows it: the preview's own row, else the
    length stored with it."""
    for child in value.children or ():
        if child.name == LEN_NAME and child.access is None:
            return child.value
    if value.length is None:
        raise _not_previewed(text, why)
    return preview.describe(value.length)


def _sorted(names: Iterable[str]) -> List[Tuple[str, str]]:
    """(casefolded name, name), sorted by name."""
    return [(name.casefold(), name) for name in sorted(names)]


@functools.lru_cache(maxsize=1)
def _builtin_names() -> Dict[str, str]:
    return {**{k: "keyword" for k in keyword.kwlist}, **{k: _static_kind(builtins, k) for k in dir(builtins)}}


def _reads_only(tree: ast.AST) -> bool:
    return all(isinstance(node, _READS) for node in ast.walk(tree))


def _dir(obj: Any) -> List[str]:
    try:
        return [n for n in dir(obj) if isinstance(n, str)]
    except Exception:  # a hostile __dir__: no completions rather than an error
        return []


def _static_kind(obj: Any, name: str) -> str:
    """What _kind says of an attribute, told without running a property or __getattr__."""
    try:
        attr = inspect.getattr_static(obj, name)
    except AttributeError:
        return "field"
    if name == "__class__" and hasattr(type(attr), "__get__"):
        # object's descriptor, or a lazy object's property naming what it stands for: what reading
        # it gives is a class (debugpy reads it), told without running the property, a fetch.
        return "class"
    return _object_kind(attr)


def _object_kind(attr: Any) -> str:
    kind = type(attr)   # not isinstance(), which reads __class__: see is_missing
    if issubclass(kind, Missing):  # the dump does not hold it: its preview says
        return _kind(attr._tbdap_value)
    if issubclass(kind, type):
        return "class"
    if issubclass(kind, types.ModuleType):
        return "module"
    # "field", not "variable": debugpy's kind of a plain value, whose icon VS Code users know.
    return "function" if callable(attr) or issubclass(kind, (classmethod, staticmethod)) else "field"


def _kind(value: Value) -> str:
    if value.repr.startswith(CLASS_REPRS):
        return "class"
    if value.type == "module":
        return "module"
    if "function" in value.type or "method" in value.type:
        return "function"
    return "field"
