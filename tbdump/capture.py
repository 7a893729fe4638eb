"""Capture: walk a crash (exception chain, frames, variables, threads) into the model; the
sources of its files are kept by sources.py, its metadata made by metadata.py.

Every value goes twice through here, once as a bounded preview for the safe
layer and once as a record of the object layer; both steps are bounded by the
capture clock and never let a hostile object break the walk.
"""
from __future__ import annotations

import functools
import itertools
import os
import sysconfig
import threading
import types
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union

from . import native, unpatched
from .argvtexts import text_of
from .budget import BudgetExceeded, Budgets, Clock, cut_while, is_capture_thread, was_interrupted
from .chain import EXCEPTION_GROUP, get_slot
from .learning import Learner, is_module_level
from .metadata import metadata
from .model import (ExceptionRecord, all_frames, Frame, Position, SafeLayer, Source,
                    SyntaxDetail, Thread, Value, not_captured)
from .records import RecordWriter
from .preview import SCALARS, Previewer, class_module, class_name, class_qualname, missing, redacted
from .redaction import Redaction, is_code
from .saferepr import describe_exception
from .scrublayer import scrub
from .scrubbing import Secrets
from .settings import report_own_error
from .sources import Sources
from .spool import SpooledGlobals
from .suggestions import suggestion

_LIBRARY_ROOTS = tuple(sorted({p for p in (sysconfig.get_paths().get("stdlib"),
                                           sysconfig.get_paths().get("platstdlib"))
                               if p}))


@functools.lru_cache(maxsize=4096)  # a deep recursion asks about one file a thousand times
def is_library_file(filename: str) -> bool:
    """Stdlib, site-packages, frozen and compiled modules: what justMyCode de-emphasises."""
    if filename.startswith("<frozen") or "site-packages" in filename or "dist-packages" in filename:
        return True
    if not filename.startswith("<") and not os.path.isabs(filename):
        # Cython's frames name their .pyx or .py source relative to the package's tree
        # (SQLAlchemy's "lib/sqlalchemy/engine/_result_cy.py"), which is not on this machine;
        # Python's own are absolute.  debugpy, which sees no such frame live, stops in the
        # program's frame below.
        return True
    return any(filename.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def type_display(exc_type: type) -> str:
    """The exception type as the traceback prints it (``<unknown>.E`` when the class
    says no module)."""
    module = class_module(exc_type)
    name = class_qualname(exc_type)
    if module in ("__main__", "builtins"):
        return name
    return "%s.%s" % (module or "<unknown>", name)


class Capture:
    """One capture: turns an exception into a SafeLayer, writing object records as it goes."""

    def __init__(self, records: RecordWriter, budgets: Budgets, redaction: Redaction,
                 clock: Clock, skip_codes: Iterable[types.CodeType] = ()) -> None:
        self.records = records
        self.budgets = budgets
        self.redaction = redaction
        self.clock = clock
        self.skip_codes: Set[types.CodeType] = set(skip_codes)
        self.previewer = Previewer(budgets.preview_depth, budgets.preview_items,
                                   budgets.preview_inner_items, redaction.rule_for,
                                   redaction.rule_for_text if redaction.patterns else None,
                                   clock.run_isolated, records.policy.secrets,
                                   hide_environ=not redaction.keep_environ,
                                   max_string=budgets.max_string, whole=clock.run_whole)
        self.cut: List[str] = []
        self._frame_vars: Dict[int, Mapping[str, Value]] = {}
        self._namespaces: Dict[str, Mapping[str, Value]] = {}
        self._namespace_keys: Dict[int, str] = {}
        # (key, module name, globals, the namespace capture_globals fills)
        self._unfilled: List[Tuple[str, str, Dict[str, Any], Dict[str, Value]]] = []
        self._sources = Sources(clock)
        self._referenced: Set[str] = set()   # global names the traceback's code uses
        self._omitted: Dict[str, List[str]] = {}
        self._positions: Dict[Tuple[types.CodeType, Optional[int]], Optional[Position]] = {}
        self._keep_alive: List[Any] = []  # ids above must not be reused during capture
        # The values captured, by id(obj); those of spooled globals as where they are stored.
        self._seen: Dict[int, Union[Value, Tuple[SpooledGlobals, str]]] = {}
        self._read_back: Optional[SpooledGlobals] = None  # the spooled globals last read back
        self._module_level: Set[str] = set()  # namespaces that are a module-level frame's variables
        self._learner = Learner(records.policy.secrets, clock)

    # -- secrets ----------------------------------------------------------------
    def learn(self, root: BaseException, above_handler: bool, other_threads: bool) -> None:
        """Before any record is written, learn what the program holds under secrets' names.

        The crash frame is captured first (a time budget must keep it), so a secret
        its caller named ``password`` and passed on as ``pw`` would be pickled before
        the name is met.  This pass reads every frame the dump will hold, and the
        module globals with them, as the interpreter stores them: the names, and
        one level below (dict keys, attributes in ``__dict__`` and slots,
        namedtuple fields), never running code of the program.
        """
        if not self.redaction.enabled:
            return
        frames: List[types.FrameType] = []
        for n, exc in enumerate(_chain(root)):
            entries = self._traceback_entries(exc)
            frames += [f for f, _, _ in entries]
            frames += self._above(exc, entries) if above_handler and n == 0 else []
            self._learner.exception(exc)
        if other_threads:
            for _, stack in self._other_stacks((native.get_ident(),)):
                frames += stack
        for f in frames:
            if self.clock.expired:
                return
            filename = f.f_code.co_filename
            if filename not in self._sources.held:
                self._sources.keep(filename, f.f_globals)
                text = self._sources.held[filename].text
                if text is not None and not is_library_file(filename):
                    self._learner.secrets.learn_source(text)
            self._learner.frame(f)

    # -- values -----------------------------------------------------------------
    def value(self, name: Any, obj: Any) -> Value:
        """Preview and record of one named value, redacted when its name is a secret."""
        rule = self.redaction.rule_for(name, obj)
        if rule and not is_code(obj):
            self.records.policy.secrets.learn(obj)
            return redacted(obj, rule)
        if self.clock.expired:
            self._note_cut("%s: values after it are not captured" % self.clock.why_cut if self.clock.interrupted
                           else "time budget: values after the deadline are not captured")
            return missing(obj, not_captured(self.clock.why_cut))
        if type(obj) not in SCALARS:
            # One object in many frames (a thread's ``self`` in threading's three bootstrap
            # frames) is one preview and one record, previewed and pickled once.
            seen = self._seen.get(id(obj))
            if seen is None:
                seen = self._seen[id(obj)] = self._new_value(name, obj)
                self._keep_alive.append(obj)
            elif not isinstance(seen, Value):
                return self._stored(*seen)
            return seen
        return self._new_value(name, obj)

    def _new_value(self, name: Any, obj: Any) -> Value:
        preview = self.previewer.value(obj)
        if preview.placeholder:
            if preview.missing and "budget" in preview.missing:
                self._note_cut("%s: %s" % (name, preview.missing))
            return preview
        ref, reason = self.records.add(obj)
        preview.ref = ref
        if reason is not None:
            preview.missing = reason
            if "budget" in reason:
                self._note_cut("%s: %s" % (name, reason))
        return preview

    def _note_cut(self, line: str) -> None:
        if line not in self.cut:
            self.cut.append(line)

    # -- frames -----------------------------------------------------------------
    def frame(self, f: types.FrameType, lineno: int, lasti: Optional[int], above: bool) -> Frame:
        code = f.f_code
        filename = code.co_filename
        self._sources.keep(filename, f.f_globals)
        return Frame(
            name=code.co_name, recorded_qualname=getattr(code, "co_qualname", code.co_name),
            filename=filename, lineno=lineno if lineno is not None else (f.f_lineno or 0),
            module=_module_name(f.f_globals), position=self._position(code, lasti, filename),
            variables=self._variables(f), globals_key=self._globals(f),
            above_handler=above, library=is_library_file(filename),
            module_level=is_module_level(f) and isinstance(f.f_globals, dict))

    def _variables(self, f: types.FrameType) -> Mapping[str, Value]:
        key = id(f)
        if key not in self._frame_vars:
            self._keep_alive.append(f)
            if is_module_level(f):
                # A module's locals are its globals: the same, budgeted, namespace.
                namespace = self._globals(f)
                if namespace is not None:
                    self._module_level.add(namespace)
                    self._frame_vars[key] = self._namespaces[namespace]
                    return self._frame_vars[key]
            try:
                snapshot = dict(f.f_locals)
            except BaseException as exc:
                snapshot = {}
                self._note_cut("locals of %s unreadable: %s" % (f.f_code.co_name, describe_exception(exc)))
            self._frame_vars[key] = {str(n): self.value(n, v) for n, v in snapshot.items()
                                     if n != "__builtins__"}
        return self._frame_vars[key]

    def _globals(self, f: types.FrameType) -> Optional[str]:
        g = f.f_globals
        if not isinstance(g, dict):
            return None
        if id(g) in self._namespace_keys:
            return self._namespace_keys[id(g)]
        base = _module_name(g)
        key = base
        n = 1
        while key in self._namespaces:
            n += 1
            key = "%s#%d" % (base, n)
        self._namespace_keys[id(g)] = key
        self._keep_alive.append(g)
        ns: Dict[str, Value] = {}
        self._namespaces[key] = ns
        self._unfilled.append((key, base, g, ns))
        return key

    def capture_globals(self) -> None:
        """The values of the module globals the frames run in, once every frame's locals are
        captured: the big globals of a few inner modules took the time budget from the locals
        of every frame outside them."""
        for key, base, g, ns in self._unfilled:
            names = [k for k in list(g) if k != "__builtins__"]
            limit = self.budgets.max_globals
            if len(names) > limit:
                self._note_cut("globals of %s: %d of %d captured (budget max_globals)" % (base, limit, len(names)))
                # Keep first the globals the crashing code names: those are the ones looked at.
                names.sort(key=lambda n: n not in self._referenced)
                self._omitted[key] = [str(n) for n in names[limit:]]
                names = names[:limit]
            first_new = len(self._seen)
            for name in names:
                ns[str(name)] = self.value(name, g.get(name))
            if key not in self._module_level:  # a frame's variables stay previews
                self._spool(key, ns, first_new)
        self._unfilled = []

    def _spool(self, key: str, ns: Dict[str, Value], first_new: int) -> None:
        """Encode a module's globals as their member now, and let their previews go: made
        after every frame's, they are held by nothing else but ``_seen`` from ``first_new`` on,
        which keeps instead where each is stored, for an object met again (``from m import x``)."""
        spool = self._namespaces[key] = SpooledGlobals(ns)
        stored_as = {id(value): name for name, value in ns.items()}
        ns.clear()  # _unfilled holds it to the end of capture_globals
        # Only the entries this module's globals added, the last ones: read from the end, the
        # earlier modules' (a hundred thousand by the last of forty) are not even skipped.
        for i, value in list(itertools.islice(reversed(self._seen.items()), len(self._seen) - first_new)):
            name = stored_as.get(id(value))
            if name is not None:
                self._seen[i] = (spool, name)

    def _stored(self, spool: SpooledGlobals, name: str) -> Value:
        """The preview of spooled globals' ``name``, read back as it was written: previewed
        again, an object pickled meanwhile would show what pickling added (a class's
        ``__slotnames__``).  One module's globals are kept read at a time."""
        if self._read_back is not spool:
            if self._read_back is not None:
                self._read_back.forget()
            self._read_back = spool
        return spool[name]

    def _position(self, code: types.CodeType, lasti: Optional[int], filename: str) -> Optional[Position]:
        # A recursion is one code at one instruction, hundreds of times.
        key = (code, lasti)
        if key not in self._positions:
            self._positions[key] = self._new_position(code, lasti, filename)
        return self._positions[key]

    def _new_position(self, code: types.CodeType, lasti: Optional[int], filename: str) -> Optional[Position]:
        if lasti is None or lasti < 0 or not hasattr(code, "co_positions"):
            return None
        try:
            pos = next(itertools.islice(code.co_positions(), lasti // 2, None), None)
            if pos is None:
                return None
            lineno, end_lineno, col, end_col = pos
            if None in (lineno, end_lineno, col, end_col):
                return None
            return Position(lineno, end_lineno, self._sources.char_col(filename, lineno, col),
                            self._sources.char_col(filename, end_lineno, end_col))
        except Exception:
            return None

    # -- exceptions ----------------------------------------------------------------
    def exceptions(self, root: BaseException, above_handler: bool) -> List[ExceptionRecord]:
        """The chain, breadth-first from the root, each exception once (cycles are fine)."""
        order = _chain(root)
        index: Dict[int, int] = {id(exc): n for n, exc in enumerate(order)}
        self._referenced = _names_used(order)
        records = []
        for n, exc in enumerate(order):
            cause = get_slot(exc, "__cause__")
            context = get_slot(exc, "__context__")   # kept when suppressed: the traceback text leaves it out
            members = _group_members(exc)
            records.append(ExceptionRecord(
                type=type_display(type(exc)), type_name=class_name(type(exc)),
                message=self._message(exc),
                frames=self._traceback_frames(exc, above_handler and n == 0),
                notes=self._notes(exc),
                cause=index.get(id(cause)) if issubclass(type(cause), BaseException) else None,
                context=index.get(id(context)) if issubclass(type(context), BaseException) else None,
                suppress_context=bool(get_slot(exc, "__suppress_context__")),
                members=[index[id(m)] for m in members or () if id(m) in index],
                is_group=members is not None and _is_group(exc),
                value=self.value("<exception>", exc)))
            if issubclass(type(exc), SyntaxError):
                records[-1].syntax = self._syntax(exc)  # type: ignore[arg-type]  # its class is one
            elif issubclass(type(exc), (NameError, AttributeError, ImportError)):
                records[-1].hint = self._hint(exc)
        return records

    def _hint(self, exc: BaseException) -> str:
        """The suggestion Python prints after the message of a misspelt name; it reads the
        frame's names or ``dir()`` of the object, so it is taken now, under the clock."""
        try:
            return str(self.clock.run_isolated(lambda: suggestion(exc)))
        except BaseException:
            return ""

    def _syntax(self, exc: SyntaxError) -> Optional[SyntaxDetail]:
        """Where the SyntaxError points, its text redacted as a message is; the bad file's source."""
        try:
            detail = self.clock.run_isolated(lambda: SyntaxDetail.of(exc))  # a subclass's properties run code
        except BaseException:
            return None
        if detail is not None:
            detail.msg = None if detail.msg is None else self.redaction.text_or_marker(detail.msg)
            detail.text = None if detail.text is None else self.redaction.text_or_marker(detail.text)
            if detail.filename:
                self._sources.keep(detail.filename, None, held_only=True)
                held = self._sources.held.get(detail.filename)
                if held is not None and held.text is not None:  # a file that failed to compile: its secrets never ran
                    self.records.policy.secrets.learn_source(held.text)
        return detail

    def _message(self, exc: BaseException) -> str:
        try:
            text = self.clock.run_isolated(lambda: str(exc))
        except BudgetExceeded as cut:
            return self._cut_text("exception", "message of %s" % type_display(type(exc)), cut)
        except BaseException:
            return "<exception str() failed>"
        return self.redaction.text_or_marker(text)

    def _cut_text(self, what: str, whose: str, cut: BudgetExceeded) -> str:
        """What a message or note shows when its str() was ended, by the time budget or by
        Ctrl-C, said as it happened; the dump's cuts list it too."""
        self._note_cut("%s: %s" % (whose, cut_while(cut, "calling str()")))
        return "<%s str() %s>" % (what, str(cut).partition(" ")[2] if was_interrupted(cut) else "timed out")

    def _notes(self, exc: BaseException) -> List[str]:
        """As Python prints them: str() of each (a note need not be a string), redacted as the message is."""
        try:
            # Looked up as Python looks it up, which runs the exception's __getattr__ (there is no
            # such attribute but an added note): one raising SystemExit cost the dump its frames.
            notes: Any = getattr(exc, "__notes__", None)
        except BaseException:
            return []
        if not issubclass(type(notes), (list, tuple)):
            return []
        whose = "a note of %s" % type_display(type(exc))
        return [self.redaction.text_or_marker(self._note_text(note, whose)) for note in notes]

    def _note_text(self, note: Any, whose: str) -> str:
        if isinstance(note, str):
            return note
        try:
            return str(self.clock.run_isolated(lambda: str(note)))
        except BudgetExceeded as cut:
            return self._cut_text("note", whose, cut)
        except BaseException:
            return "<note str() failed>"

    def _traceback_frames(self, exc: BaseException, above_handler: bool) -> List[Frame]:
        entries = self._traceback_entries(exc)
        # Captured innermost first: the crashing frame's values become the first
        # object records, so a viewer that reads them loads only a prefix.
        inner = [self.frame(f, line, lasti, False) for f, line, lasti in reversed(entries)]
        callers = [self.frame(f, f.f_lineno, f.f_lasti, True)
                   for f in (self._above(exc, entries) if above_handler else [])]
        return callers[::-1] + inner[::-1]

    # The frames a dump holds, found once for capture and for the learning pass before it.
    def _traceback_entries(self, exc: BaseException) -> List[Tuple[types.FrameType, int, Optional[int]]]:
        """(frame, line, lasti) of ``exc``'s traceback, outermost first, tbdump's own left out."""
        entries: List[Tuple[types.FrameType, int, Optional[int]]] = []
        tb = get_slot(exc, "__traceback__")
        while isinstance(tb, types.TracebackType):
            if tb.tb_frame.f_code not in self.skip_codes:
                entries.append((tb.tb_frame, tb.tb_lineno, tb.tb_lasti))
            tb = tb.tb_next
        return entries

    def _above(self, exc: BaseException, entries: List[Tuple[types.FrameType, int, Optional[int]]]) -> List[types.FrameType]:
        """The frames above the handler, innermost first: the callers of the traceback's first
        frame (the one with the ``try``); of an exception never raised (no traceback) given to
        ``dump_exception()``, the stack that called it, where the program had it."""
        if entries:
            return self._callers(entries[0][0])
        if get_slot(exc, "__traceback__") is not None:
            return []   # raised in frames left out (the runner's, importlib's): none of the program's
        f: Optional[types.FrameType] = unpatched.getframe()
        while f is not None and not (f.f_code.co_name == "dump_exception" and _is_dumping(f.f_code)):
            f = f.f_back
        return self._callers(f)

    def _callers(self, handler: Optional[types.FrameType]) -> List[types.FrameType]:
        """The frames above ``handler`` (the one that handled the exception), innermost first,
        up to tbdump's own."""
        out = []
        f = handler.f_back if handler is not None else None
        while f is not None and f.f_code not in self.skip_codes:
            out.append(f)
            f = f.f_back
        return out

    def _other_stacks(self, skip: Tuple[Optional[int], ...]) -> List[Tuple[int, List[types.FrameType]]]:
        """(ident, frames innermost first) of every thread but ``skip`` and tbdump's own,
        without tbdump's frames."""
        out = []
        for ident, top in unpatched.current_frames().items():
            if ident in skip or is_capture_thread(ident):
                continue
            stack = []
            f: Optional[types.FrameType] = top
            while f is not None:
                if f.f_code not in self.skip_codes:
                    stack.append(f)
                if _is_dumping(f.f_code):
                    # The thread is dumping a crash of its own (or waits to): its stack
                    # ends where it entered tbdump, as the program left it.
                    stack = []
                f = f.f_back
            out.append((ident, stack))
        return out

    # -- threads ----------------------------------------------------------------
    def threads(self, crashed: Optional[threading.Thread], crash_frames: List[Frame],
                include_others: bool) -> List[Thread]:
        me = crashed or unpatched.current_thread()
        result = [Thread(me.ident or 0, *_name_and_daemon(me, me.ident or 0), True, crash_frames)]
        if not include_others:
            return result
        # What the program put in threading._active too (a None, another object) is no thread.
        by_ident = {t.ident: t for t in unpatched.threads() if isinstance(t, unpatched.Thread)}
        # In the order threading started them, as debugpy lists them (the interpreter's own lists
        # the newest first); threads threading does not know after them.
        started = {ident: n for n, ident in enumerate(by_ident)}

        def start_order(ident: Optional[int]) -> int:
            return started.get(ident, len(started))
        # The OS thread capturing is skipped by its OS ident too: under gevent, threading
        # names a greenlet's, and this thread's stack is the crash's (or ends in tbdump).
        others = sorted(self._other_stacks((me.ident, native.get_ident())), key=lambda other: start_order(other[0]))
        # The crashing thread stays first (FORMAT.md); where it started among the others is
        # recorded apart, for a viewer that lists them all as debugpy does (tbdap).
        result[0].place = sum(start_order(ident) < start_order(me.ident) for ident, _ in others)
        for ident, stack in others:
            t = by_ident.get(ident)
            result.append(Thread(ident, *_name_and_daemon(t, ident),
                                 False, [self.frame(fr, fr.f_lineno, fr.f_lasti, False)
                                         for fr in reversed(stack)]))
        return result

    def sources(self) -> Dict[str, Source]:
        return self._sources.held

    def namespaces(self) -> Dict[str, Mapping[str, Value]]:
        return self._namespaces

    def omitted(self) -> Dict[str, List[str]]:
        return self._omitted


def _name_and_daemon(thread: Any, ident: int) -> Tuple[str, bool]:
    """A thread's name and daemon flag as the dump holds them: a Thread subclass's own ``name``
    or ``daemon`` may raise, or give no text; None, a thread threading does not know, is named
    by its ident."""
    try:
        name, daemon = thread.name, bool(thread.daemon)
    except Exception:
        return "Thread-%d" % ident, False
    return (name if isinstance(name, str) else "Thread-%d" % ident), daemon


def _module_name(module_globals: Any) -> str:
    """The ``__name__`` of a frame's globals as a text, never through the program's own ``__str__``."""
    name = dict.get(module_globals, "__name__") if isinstance(module_globals, dict) else None
    return text_of(name) or "?"


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LAUNCHERS = {os.path.join(_PACKAGE_DIR, name) for name in ("__main__.py", "runner.py")}


def _is_dumping(code: types.CodeType) -> bool:
    """Code of tbdump's hooks and capture (not of the runner, under which the program runs)."""
    filename = code.co_filename
    return os.path.dirname(filename) == _PACKAGE_DIR and filename not in _LAUNCHERS


def _chain(root: BaseException) -> List[BaseException]:
    """The exceptions linked from ``root`` (cause, context, group members), breadth-first,
    each once (cycles are fine).  A context ``__suppress_context__`` hides (``raise X from
    None`` in its handler) is among them: the live exception still holds it, and viewers
    that browse ``__context__`` show it, though no traceback prints it."""
    order: List[BaseException] = [root]
    seen: Set[int] = {id(root)}
    i = 0
    while i < len(order):
        exc = order[i]
        i += 1
        for linked in _links(exc):
            if id(linked) not in seen:
                seen.add(id(linked))
                order.append(linked)
    return order


def _links(exc: BaseException) -> List[Any]:
    out = [get_slot(exc, "__cause__"), get_slot(exc, "__context__")]
    out += _group_members(exc) or []
    return [x for x in out if issubclass(type(x), BaseException)]


def _names_used(exceptions: List[BaseException]) -> Set[str]:
    """Every global name the code of the exceptions' traceback frames refers to, but a module's
    top level: it names every global it assigns (all 50 000 of a generated module's)."""
    names: Set[str] = set()
    for exc in exceptions:
        tb = get_slot(exc, "__traceback__")
        while isinstance(tb, types.TracebackType):
            if not is_module_level(tb.tb_frame):
                names.update(tb.tb_frame.f_code.co_names)
            tb = tb.tb_next
    return names


def _group_members(exc: BaseException) -> Optional[List[BaseException]]:
    if not _is_group(exc):
        return None
    members = getattr(exc, "exceptions", None)
    if not isinstance(members, (tuple, list)):
        return None
    return [m for m in members if isinstance(m, BaseException)]


def _is_group(exc: BaseException) -> bool:
    # Of its real class, as Python tells a group: isinstance() reads __class__, which an
    # exception's own property answers, raising what it likes (SystemExit too).
    return issubclass(type(exc), EXCEPTION_GROUP)


def capture(exc: BaseException, records: RecordWriter, budgets: Budgets, redaction: Redaction,
            clock: Clock, *, skip_codes: Iterable[types.CodeType] = (), above_handler: bool = True,
            thread: Optional[threading.Thread] = None, other_threads: bool = True,
            log: Optional[Dict[str, str]] = None) -> Tuple[SafeLayer, Capture]:
    """Capture ``exc`` into a SafeLayer (object records go to ``records``); ``log``: the log
    record that carried it (Metadata.log)."""
    cap = Capture(records, budgets, redaction, clock, skip_codes)
    try:
        cap.learn(exc, above_handler, other_threads)
    except Exception:  # a bug here must not cost the dump: names still redact as they are met
        report_own_error()
    exceptions = cap.exceptions(exc, above_handler)
    threads = cap.threads(thread, exceptions[0].frames, other_threads)
    cap.capture_globals()
    meta = metadata(redaction, all_frames(exceptions, threads), log)
    layer = SafeLayer(metadata=meta, exceptions=exceptions, threads=threads,
                      sources=cap.sources(), namespaces=cap.namespaces(), omitted=cap.omitted())
    if redaction.enabled:
        scrub(layer, records.policy.secrets)
    return layer, cap


def minimal(exc: BaseException, why: str, redaction: Redaction, log: Optional[Dict[str, str]] = None) -> SafeLayer:
    """The last-resort safe layer when full capture itself failed: type, message, lines, and
    ``log`` (as ``capture`` keeps it)."""
    frames = []
    tb = getattr(exc, "__traceback__", None)
    while isinstance(tb, types.TracebackType):
        code = tb.tb_frame.f_code
        frames.append(Frame(code.co_name, code.co_name, code.co_filename, tb.tb_lineno, "?"))
        tb = tb.tb_next
    try:
        message = str(exc)
    except BaseException:
        message = "<exception str() failed>"
    secrets = Secrets(redaction)  # the environment's and the command line's secrets
    if redaction.enabled:
        # And what the frames hold under secrets' names: read as stored, never by
        # running the program's code (which may be what hung the capture).
        learner = Learner(secrets, None)
        tb = getattr(exc, "__traceback__", None)
        while isinstance(tb, types.TracebackType):
            learner.frame(tb.tb_frame)
            tb = tb.tb_next
        learner.exception(exc)
    record = ExceptionRecord(type_display(type(exc)), class_name(type(exc)), redaction.text_or_marker(message),
                             frames)
    meta = metadata(redaction, [], log)
    meta.partial = True
    meta.cut.append("capture failed, only the exception and its lines are stored: %s" % why)
    thread = unpatched.current_thread()
    ident = thread.ident or 0
    layer = SafeLayer(meta, [record], [Thread(ident, *_name_and_daemon(thread, ident), True, frames)], {}, {})
    if redaction.enabled:
        scrub(layer, secrets)
    return layer

