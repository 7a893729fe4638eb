"""Bounded previews of values: how one object is described and what its children are.

Capture uses this to store previews in the safe layer; viewers that hold the
live object (after loading the object layer) use the same functions one level
at a time, so a value looks the same whichever layer it comes from.  Names,
grouping and order follow debugpy's VARIABLES view.
"""
from __future__ import annotations

import collections
import functools
import inspect
import itertools
import math
import os
import types
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Set, Tuple

from .budget import BudgetExceeded, cut_while
from .claimed import claimed_class, is_a, said_class
from .loaded import loaded
from .model import GROUP_CLASS, GROUP_FUNCTION, GROUP_SPECIAL, Child, Value, not_captured
from .redaction import ENVIRON_MARKER, is_code, rule_marker
from .saferepr import (FIXED_REPR_TYPES, MAX_COLLECTION, MAX_STRING_OUTER, describe_exception, repr_failed, safe_repr,
                       string_repr)
from .scrubbing import (Secrets, environ_masked, environ_probes, hide_named_values, hide_url_secrets,
                        is_environ_copy)
from .views import skipped_attributes

LEN_NAME = "len()"
ENVIRON_RULE = "environment variable values are not stored (TBDUMP_KEEP_ENVIRON=1 keeps them)"
SECRET_VALUE_RULE = "the value of a redacted name"
_ENVIRON_TYPE = type(os.environ)

# Values whose repr says everything: debugpy gives them no children.
_LEAF_TYPES = (int, float, complex, str, bytes, bool, type(None), type(Ellipsis),
               type(NotImplemented))


# Expandable, but their attributes are rarely what a crash is about and cost
# much to preview: viewers expand them from the live object instead.
_OPAQUE_TYPES = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
                 types.MethodType, types.CodeType)


def _opaque(obj: Any, t: type, said: type) -> bool:
    # typing's aliases (the Dict, Optional and Any a module imports) list their
    # attributes slowly and are never what a crash is about.
    return is_a(obj, said, _OPAQUE_TYPES) or getattr(t, "__module__", None) == "typing"


class LiveChild(NamedTuple):
    """A child of a live object, before it is described."""

    name: str
    obj: Any
    access: Optional[str]   # expression suffix from the parent
    group: Optional[str]


# A LiveChild made by tuple's own constructor, from (name, obj, access, group): calling
# LiveChild runs its __new__, a Python function, and a capture makes one per child.
_live: Callable[[Tuple[str, Any, Optional[str], Optional[str]]], LiveChild] = functools.partial(tuple.__new__, LiveChild)


# type's own descriptors read a class's names as the interpreter does, past a metaclass
# whose __getattribute__ lies or raises.
class_name: Callable[[type], str] = type.__dict__["__name__"].__get__
class_qualname: Callable[[type], str] = type.__dict__["__qualname__"].__get__


def class_module(t: type) -> Optional[str]:
    """The module a class says it is from, as getattr reads it (Python's traceback does
    too); None when it says none, or asking raises."""
    try:
        module = t.__module__
    except Exception:
        return None
    return module if isinstance(module, str) else None


def type_name(obj: Any) -> str:
    """The class name as debugpy shows it; never raises (objects may lie about __class__)."""
    return class_name(type(obj))


def qualified_type(obj: Any) -> str:
    return qualified_class(type(obj))


def qualified_class(t: type) -> str:
    """``module.Qualname`` of a class, the qualified name alone for a builtin."""
    module = class_module(t)
    name = class_qualname(t)
    if module is None or module == "builtins":
        return name
    return "%s.%s" % (module, name)


def describe(obj: Any, hex_ints: bool = False) -> Value:
    """Type, bounded repr, length/shape and whether it has children; no children."""
    return described(obj, hex_ints)[0]


def described(obj: Any, hex_ints: bool = False) -> Tuple[Value, type]:
    """``describe(obj)``, and the class ``obj`` says it is of (claimed.said_class), read once for
    it and for the dispatch of its children that follows."""
    t = type(obj)
    if t in FIXED_REPR_TYPES:  # the attributes of every object: the short way
        name = _BUILTIN_NAMES[t]
        return Value(type=name, repr=safe_repr(obj, hex_ints, t), qualtype=name, expandable=True), t
    if t is _Unreadable:  # the error is the value: named by its type, nothing inside
        return Value(type=obj.error_type, repr=obj.text, qualtype=obj.error_type), t
    if t in _CONTAINERS:  # an exact builtin: its names and length are known without asking
        name = _BUILTIN_NAMES[t]
        return Value(type=name, repr=safe_repr(obj, hex_ints, t), qualtype=name, length=len(obj), expandable=True), t
    # Named as debugpy names it: by the class it says it is of (a lazy object's __class__
    # names the class of what it stands for), its own where asking raises, which fails its
    # repr as it failed debugpy's (isinstance raised it); the qualified type, which viewers
    # tell kinds by, is its own.
    try:
        said = claimed_class(obj)
    except Exception as exc:
        said, text = t, repr_failed(exc)
    else:
        text = safe_repr(obj, hex_ints, said)
    value = Value(type=class_name(said), repr=text, qualtype=qualified_type(obj))
    if is_a(obj, said, _LEAF_TYPES):
        return value, said
    value.length = _safe_len(obj)
    value.shape = _shape(obj)
    value.expandable = True
    return value, said


def is_scalar(obj: Any) -> bool:
    """An exact builtin scalar: describing it runs none of the program's code, and it has no children."""
    return type(obj) in SCALARS


def child_count(obj: Any, said: Optional[type] = None) -> Optional[int]:
    """How many indexed children ``obj`` has (for paging), or None when it is not a sequence.
    ``said``: its claimed_class, when already read (else read here: SAID)."""
    if said is None:
        said = claimed_class(obj)
    if is_a(obj, said, _LEAF_TYPES):
        return None
    if is_a(obj, said, _SEQUENCES) or _is_ndarray(obj):
        return _safe_len(obj)
    return None


_SEQUENCES = (dict, list, tuple, collections.deque, set, frozenset)
# SAID: what reading a value's __class__ raises is raised, as isinstance raised it: a viewer's
# row says so ("listing its children raised ReferenceError" of a dead weak proxy).


def children(obj: Any, start: int = 0, count: Optional[int] = None,
             groups: Optional[Dict[str, int]] = None, said: Optional[type] = None) -> List[LiveChild]:
    """The children debugpy would show for ``obj``; ``start``/``count`` page indexed ones.

    The ``len()`` entry comes after the last page.  With ``groups``, an object's
    grouped attributes (dunders, methods, classes) are counted there by group
    instead of listed.  ``said``: its claimed_class, when already read (else read here: SAID).
    """
    stop = None if count is None else start + count
    if type(obj) in _CONTAINERS:  # most containers: an exact builtin has no attributes of its own to list
        return item_children(obj, start, count) + _len_entry(obj, stop)
    if type(obj) is _Unreadable:
        return []
    if said is None:
        said = claimed_class(obj)
    if is_a(obj, said, _LEAF_TYPES):
        return []
    if is_a(obj, said, _SEQUENCES):
        return (_own_attributes(obj, start, groups) + item_children(obj, start, count, said)
                + _len_entry(obj, stop))
    if _is_ndarray(obj):
        return (_ndarray_attributes(obj) if start == 0 else []) + item_children(obj, start, count)
    if start:
        return []
    return _attribute_children(obj, groups, alone=True)


def item_children(obj: Any, start: int = 0, count: Optional[int] = None,
                  said: Optional[type] = None) -> List[LiveChild]:
    """A container's items (list and array items, dict entries, set members) from ``start``:
    ``count`` of them, or all.  Read by index where the type has one; a dict or a set is
    iterated, its first ``start`` skipped in C, so a page deep in a million reads that page.
    ``said``: its claimed_class, when already read (else read here: SAID)."""
    stop = None if count is None else start + count
    if said is None:
        said = claimed_class(obj)
    if is_a(obj, said, dict):
        return _dict_children(obj, start, stop)
    if is_a(obj, said, (list, tuple, collections.deque)) or (_is_ndarray(obj) and getattr(obj, "ndim", 0) >= 1):
        return _sequence_children(obj, start, stop)
    if is_a(obj, said, (set, frozenset)):
        pad = len(str(max(len(obj) - 1, 0)))
        return [_live((str(i).zfill(pad), item, None, None))
                for i, item in enumerate(itertools.islice(obj, start, stop), start)]
    return []


def _own_attributes(obj: Any, start: int, groups: Optional[Dict[str, int]]) -> List[LiveChild]:
    """What a subclass of a builtin container adds (a dict subclass's fields, a namedtuple's,
    a deque's maxlen): listed before its items, as debugpy lists them."""
    if start or type(obj) in _CONTAINERS:
        return []
    return _attribute_children(obj, groups)


def type_attributes(obj: Any) -> List[LiveChild]:
    """A builtin container's (or bytes', Ellipsis's) attributes, all its type's (dunders and methods, bound to it), in
    debugpy's order and groups: what debugpy lists under it and ``children`` leaves out."""
    return _attribute_children(obj) if type(obj) in _TYPE_ROWS else []


def _len_entry(obj: Any, stop: Optional[int]) -> List[LiveChild]:
    n = len(obj) if type(obj) in _CONTAINERS else _safe_len(obj)
    if n is None or (stop is not None and stop < n):
        return []
    return [_live((LEN_NAME, n, None, None))]


def _dict_children(obj: dict, start: int, stop: Optional[int]) -> List[LiveChild]:
    # A copy of the page only (not of a 200 000-entry dict), safe if the dict changes meanwhile.
    out = []
    for key, item in list(itertools.islice(obj.items(), start, stop)):
        known = _KEY_NAMES.get(key) if type(key) is str else None
        if known is None:
            access = _key_access(key)
            # A tuple or frozenset key by its whole repr, as debugpy names it: the value's shortened
            # repr made two keys alike, (0, 1, ..., 58, ...) for keys that differ in their last item.
            name = scalar_repr(key) if type(key) in SCALARS else access[1:-1] if access else safe_repr(key)
            known = (name, access or _numpy_key_access(key))
            if type(key) is str and len(key) <= _KEY_NAMED_UP_TO:
                if len(_KEY_NAMES) >= _KEY_NAMES_MAX:
                    _KEY_NAMES.clear()
                _KEY_NAMES[key] = known
        out.append(_live((known[0], item, known[1], None)))
    return out


# The name and access of a dict's short text key: the same keys recur in many dicts (every
# record's "id"), each worked out once.  Bounded: a long-lived viewer meets many.
_KEY_NAMES: Dict[str, Tuple[str, Optional[str]]] = {}
_KEY_NAMED_UP_TO = 64
_KEY_NAMES_MAX = 4096


def _key_access(key: Any) -> Optional[str]:
    """``[repr(key)]``, the item's evaluateName suffix, for a key whose repr evaluates back to
    it; Python's whole repr, not the name shown, which cuts a long text inside a tuple."""
    try:
        if not _literal_key(key):
            return None
        text = repr(key)  # of literals only: runs none of the program's code
    except RecursionError:  # a key nested too deep to write out: its item is still listed
        return None
    return "[%s]" % text if len(text) <= MAX_STRING_OUTER else None


def _literal_key(key: Any) -> bool:
    # Only keys whose repr evaluates back to them make a usable evaluateName: not inf or nan.
    kind = type(key)
    if kind in (float, complex):
        return math.isfinite(key.real) and math.isfinite(key.imag)
    if kind in (tuple, frozenset):
        return all(_literal_key(k) for k in key)
    return kind in _LITERAL_KEYS


# A set made once: a tuple written out here, with type(None) in it, was built for every dict key.
_LITERAL_KEYS = frozenset((str, int, bool, bytes, type(None)))


def _numpy_key_access(key: Any) -> Optional[str]:
    """``[repr(value)]`` for a numpy scalar key that equals a plain Python value with its hash
    (``np.int64(3)`` and ``3``: a dict holds them as one key), so Add to Watch on its item works
    wherever ``np`` is not a name, and in safe mode, which evaluates literals only; debugpy
    offers ``[repr(key)]`` for some of them, and nothing for np.int64 or np.bool_."""
    if type(key) not in _numpy_scalar_types():
        return None
    try:
        value = key.item()   # numpy's own code, not the program's: no subclass gets here
        same = type(value) in SCALARS and bool(value == key) and hash(value) == hash(key)
    except Exception:
        return None
    return _key_access(value) if same else None


def _numpy_scalar_types() -> FrozenSet[type]:
    """numpy's own scalar types (a program's subclass of one may redefine == and hash); none
    while numpy is not imported: a numpy key means it is."""
    global _NUMPY_SCALARS
    if not _NUMPY_SCALARS:
        types_by_name = loaded("numpy", "sctypeDict", dict)
        _NUMPY_SCALARS = frozenset(t for t in (types_by_name or {}).values() if isinstance(t, type))
    return _NUMPY_SCALARS


_NUMPY_SCALARS: FrozenSet[type] = frozenset()


def _sequence_children(obj: Any, start: int, stop: Optional[int]) -> List[LiveChild]:
    n = len(obj)
    pad = len(str(max(n - 1, 0)))
    end = n if stop is None else min(stop, n)
    if end <= _INDEXES_NAMED:
        names = _index_names(pad)
        return [_live((names[i], obj[i], _INDEX_ACCESS[i], None)) for i in range(start, end)]
    return [_live((str(i).zfill(pad), obj[i], "[%d]" % i, None)) for i in range(start, end)]


# The names and accesses of a sequence's first items (a preview shows 20), made once.
_INDEXES_NAMED = 64
_INDEX_ACCESS = ["[%d]" % i for i in range(_INDEXES_NAMED)]


@functools.lru_cache(maxsize=None)
def _index_names(pad: int) -> List[str]:
    """The names of items 0 to 63, zero-padded to ``pad`` digits as debugpy names a longer
    sequence's items."""
    return [str(i).zfill(pad) for i in range(_INDEXES_NAMED)]


def _ndarray_attributes(obj: Any) -> List[LiveChild]:
    """The rows debugpy lists above an array's items, in its order: dtype, max, min, shape, size.
    No expression gives max and min (one may be a text saying why it is not worked out)."""
    low, high = _array_extremes(obj)
    return [_live(("dtype", obj.dtype, ".dtype", None)), _live((ARRAY_MAX, high, None, None)),
            _live((ARRAY_MIN, low, None, None)), _live(("shape", obj.shape, ".shape", None)),
            _live(("size", obj.size, ".size", None))]


# An array's min and max, as debugpy works them out: of numbers only, and not of more than
# a million items (its limit: a capture and a view each have a time budget to keep).
ARRAY_MIN, ARRAY_MAX = "min", "max"
_EXTREMES_UP_TO = 1024 * 1024
_NUMERIC_KINDS = "biufc"


def _array_extremes(obj: Any) -> Tuple[Any, Any]:
    """(min, max) of an array, each else debugpy's text saying why not."""
    size = obj.size
    if size > _EXTREMES_UP_TO:
        return ("ndarray too big, calculating min would slow down debugging",
                "ndarray too big, calculating max would slow down debugging")
    if size == 0:
        return "array is empty", "array is empty"
    if obj.dtype.kind not in _NUMERIC_KINDS:
        return "not a numeric object", "not a numeric object"
    return _called(obj.min), _called(obj.max)


def _called(fn: Callable[[], Any]) -> Any:
    # A subclass's own min() may raise: its error is then the value shown.
    try:
        return fn()
    except BudgetExceeded:
        raise
    except BaseException as exc:
        return _Unreadable(exc)


def _attribute_children(obj: Any, groups: Optional[Dict[str, int]] = None, alone: bool = False) -> List[LiveChild]:
    """``obj``'s attributes as debugpy lists them; ``alone``: all it lists (no items beside them)."""
    try:
        listed = _listed(dir(obj))
    except BudgetExceeded:
        raise
    except BaseException:
        listed = _facts(_own_names(obj))
        if alone and not listed.names:
            # dir() reads __class__, which raises for a dead weak proxy or a lazy object whose
            # fetch fails: with nothing else to list, the listing fails (as debugpy's does) and
            # a viewer says why, where an empty one opened on nothing.
            raise
    names = listed.names
    plain = len(names) - listed.special  # the dunders sort last
    if groups is not None and listed.special:
        # Special by name alone: counted, never read.
        groups[GROUP_SPECIAL] = groups.get(GROUP_SPECIAL, 0) + listed.special
        names = names[:plain]
    methods = _class_methods(obj) if groups is not None else None
    groupable = listed.groupable
    skipped = skipped_attributes(type(obj))  # None but for pandas' (tbdump.views)
    # Read in dir()'s order, as debugpy reads them, and listed in debugpy's: reading a
    # property that caches (a path's `parts` sets `_pparts`) decides what a later name shows.
    found: List[Optional[LiveChild]] = [None] * len(names)
    for index in listed.reads:
        if index >= len(names):
            continue  # a dunder only counted
        name = names[index]
        if skipped is not None and (name in skipped or (methods is not None and name in methods)):
            if name in skipped:
                found[index] = _live((name, skipped[name], "." + name, None))
            continue
        if groups is not None and methods is not None and name in methods and name in groupable:
            groups[GROUP_FUNCTION] = groups.get(GROUP_FUNCTION, 0) + 1
            continue
        try:
            attr = getattr(obj, name)
        except BudgetExceeded:
            raise
        except AttributeError as exc:
            if skipped is None:
                continue  # a slot never set, a property that found nothing: debugpy lists no row
            attr = _skipped_error(exc)
        except BaseException as exc:
            attr = _Unreadable(exc) if skipped is None else _skipped_error(exc)
        if skipped is not None and (inspect.isroutine(attr) or isinstance(attr, types.MethodWrapperType)):
            continue
        group = _group(index >= plain, name in groupable, attr)
        if groups is not None and group is not None:
            groups[group] = groups.get(group, 0) + 1
            continue
        found[index] = _live((name, attr, "." + name, group))
    return [child for child in found if child is not None]


def _own_names(obj: Any) -> Tuple[str, ...]:
    """The names in ``obj``'s ``__dict__`` in debugpy's order, none where it has none or
    listing them raises."""
    try:
        return tuple(sorted(vars(obj), key=debugpy_order))
    except BudgetExceeded:
        raise
    except BaseException:
        return ()


def _skipped_error(exc: BaseException) -> str:
    # As debugpy's views show an attribute that raised (tbdump.views).
    return "<unable to get>" if isinstance(exc, AttributeError) else "<error getting: %s>" % describe_exception(exc)


class _Listed(NamedTuple):
    """An object's attribute names as its preview lists them."""

    names: Tuple[str, ...]   # in debugpy's order (debugpy_order)
    special: int             # how many of them are __dunders__: the last ones
    groupable: FrozenSet[str]  # those a group may take (_groupable)
    reads: Tuple[int, ...]   # the indices of names in the order debugpy reads them (dir()'s, sorted)


# dir() of the instances of one class, as _listed gives it.  Every Session or datetime of
# a capture lists the same names: their order and kinds are worked out for the first one,
# not again per name (a third of previewing a datetime).  Bounded: a long-lived viewer
# meets many classes.
_LISTED: Dict[Tuple[str, ...], _Listed] = {}
_LISTED_MAX = 512


def _listed(names: List[Any]) -> _Listed:
    """The strings among ``names`` (what dir() gives) in debugpy's order, with their kinds."""
    if not set(map(type, names)) <= _STR:
        # A __dir__ of the program's own gave more than exact strings: their hashing and
        # comparing are its code, which must not decide what a cache returns.
        return _facts(tuple(sorted((n for n in names if isinstance(n, str)), key=debugpy_order)))
    key = tuple(names)
    found = _LISTED.get(key)
    if found is None:
        if len(_LISTED) >= _LISTED_MAX:
            _LISTED.clear()
        found = _LISTED[key] = _facts(tuple(sorted(key, key=debugpy_order)))
    return found


_STR = frozenset((str,))


def _facts(names: Tuple[str, ...]) -> _Listed:
    """``names``, already in debugpy's order, with their kinds."""
    special = sum(1 for name in names if name.startswith("__") and name.endswith("__"))
    return _Listed(names, special, frozenset(name for name in names if _groupable(name)),
                   tuple(sorted(range(len(names)), key=names.__getitem__)))


# What a class holds for a method; a classmethod or staticmethod only around a
# function (one around a property is a property).
_METHOD_KINDS = (types.FunctionType, types.BuiltinFunctionType, types.MethodDescriptorType,
                 types.WrapperDescriptorType, types.ClassMethodDescriptorType, classmethod, staticmethod)


def _class_methods(obj: Any) -> Optional[Set[str]]:
    """The names that an instance's plain attribute lookup resolves to its class's methods.

    A capture only counts methods, so these are counted by name: reading each
    (a bound method made for nothing) was a third of previewing a datetime.
    None when the lookup is not the plain one (a class, a ``__getattribute__`` of
    its own): then each attribute is read.
    """
    t = type(obj)
    try:
        # Its type decides how its attributes are looked up, not the class it says it is of.
        if issubclass(t, type) or t.__getattribute__ is not object.__getattribute__:
            return None
        try:
            own = object.__getattribute__(obj, "__dict__")
        except AttributeError:  # __slots__ only
            own = {}
        if type(own) is not dict:
            return None
        found: Set[str] = set()
        seen: Set[str] = set(own)  # an instance attribute hides the method
        for klass in t.__mro__:
            for name, attr in vars(klass).items():
                if name not in seen:
                    seen.add(name)
                    if isinstance(attr, _METHOD_KINDS) and not (
                            isinstance(attr, (classmethod, staticmethod))
                            and not isinstance(attr.__func__, types.FunctionType)):
                        found.add(name)
        return found
    except Exception:
        return None


class _Unreadable:
    """Stands for an attribute whose lookup raised, so the error is shown as its value."""

    def __init__(self, exc: BaseException) -> None:
        self.text = "<error: %s>" % describe_exception(exc)
        self.error_type = type_name(exc)

    def __repr__(self) -> str:
        return self.text


def debugpy_order(name: str) -> Tuple[int, str]:
    """debugpy's sort: plain names, then _private, then __mangled, then __dunders__."""
    if name.startswith("__"):
        return (3 if name.endswith("__") else 2, name)
    return (1 if name.startswith("_") else 0, name)


def _groupable(name: str) -> bool:
    # debugpy shows "protected" names inline, whatever they hold.
    return not (name.startswith("_") or name.endswith("__"))


def _group(special: bool, groupable: bool, attr: Any) -> Optional[str]:
    """The group of an attribute: by its name's kind (``_Listed``), then by what it holds."""
    if special:
        return GROUP_SPECIAL
    if not groupable or type(attr) in SCALARS:
        return None
    said = said_class(attr)
    if is_a(attr, said, type):
        return GROUP_CLASS
    if is_a(attr, said, _FUNCTION_TYPES):
        return GROUP_FUNCTION
    # Only a type with __get__ makes a method descriptor: inspect's isinstance checks, which read a
    # lazy object's __class__ again each, are asked of those alone.
    if hasattr(type(attr), "__get__") and inspect.ismethoddescriptor(attr):
        return GROUP_FUNCTION
    return None


_FUNCTION_TYPES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.BuiltinMethodType,
                   types.MethodWrapperType)


def _safe_len(obj: Any) -> Optional[int]:
    try:
        if not hasattr(type(obj), "__len__"):
            return None
        n = len(obj)
        return n if isinstance(n, int) else None
    except BudgetExceeded:
        raise
    except BaseException:
        return None


def _is_ndarray(obj: Any) -> bool:
    """A numpy array, of a subclass too (matrix, MaskedArray, memmap, the program's own): debugpy
    shows them all as arrays.  numpy is not imported for it: an array means numpy already is."""
    ndarray = loaded("numpy", "ndarray", type)
    return ndarray is not None and issubclass(type(obj), ndarray)


def _shape(obj: Any) -> Optional[List[int]]:
    if not _is_ndarray(obj):
        return None
    try:
        return [int(d) for d in obj.shape]
    except Exception:
        return None


class Previewer:
    """Builds preview trees for capture within the preview budgets.

    ``redact`` returns the rule that hides a child reached by a given name (its
    value given too), or None; ``redact_text`` the rule a repr hits (None: no value patterns);
    ``step`` runs one bounded piece of work (the capture clock), ``whole`` a value's
    steps together (Clock.run_whole).
    """

    def __init__(self, depth: int, items: int, inner_items: int,
                 redact: Callable[[Any, Any], Optional[str]],
                 redact_text: Optional[Callable[[str], Optional[str]]],
                 step: Callable[[Callable[[], Any]], Any],
                 secrets: Secrets, hide_environ: bool = False,
                 max_string: int = MAX_STRING_OUTER,
                 whole: Optional[Callable[[Callable[[], Any]], Any]] = None) -> None:
        self.depth = depth
        self.items = items
        self.inner_items = inner_items
        self.redact = redact
        self.redact_text = redact_text
        self.step = step
        self.whole = whole
        self._stepping: Any = None  # the object of the step in progress
        self._given_up: Any = None  # the object of the step a run of steps was given up in
        self.secrets = secrets
        self.hide_environ = hide_environ
        self.max_string = max_string
        self._secret_texts = secrets.texts
        self._short_text = min(max_string, MAX_STRING_OUTER)  # a repr longer is cut
        self._probes = environ_probes() if hide_environ else ()  # how a copy of the environment is known
        # Children's names that no rule hides and that show nothing to hide: decided once each.
        self._plain_names: Set[str] = {LEN_NAME}

    def value(self, obj: Any, level: int = 0) -> Value:
        """The preview of ``obj`` with children down to the depth budget; never raises."""
        t = type(obj)
        if t in SCALARS:  # most of a capture's values: straight to _scalar, which runs no user code
            try:
                return self._scalar(obj)
            except BaseException as exc:
                return _failed(obj, exc)
        if level or self.whole is None:
            return self._guarded(obj, level, None)
        flat = t in _CONTAINERS and _flat(obj)  # read once, for _value too
        if not (flat or (t in FIXED_REPR_TYPES and _opaque(obj, t, t))):  # steps to take
            try:
                return self.whole(lambda: self._guarded(obj, 0, flat))
            except BudgetExceeded:
                # Taken again step by step, so that only its slow part is cut; that part is
                # not asked again (a repr that blocks would take a second helper thread).
                self._given_up = self._stepping
        return self._guarded(obj, 0, flat)

    def _step(self, obj: Any, fn: Callable[[], Any]) -> Any:
        if obj is self._given_up:
            raise BudgetExceeded("time budget")
        self._stepping = obj
        return self.step(fn)

    def _guarded(self, obj: Any, level: int, flat: Optional[bool]) -> Value:
        try:
            return self._value(obj, level, flat)
        except BaseException as exc:
            return _failed(obj, exc)

    def _value(self, obj: Any, level: int, flat: Optional[bool]) -> Value:
        """The preview of anything but an exact scalar."""
        t = type(obj)
        if self.hide_environ and (t is _ENVIRON_TYPE or (t is dict and is_environ_copy(obj, self._probes))):
            self.secrets.hide_environ()  # its items are scrubbed from the reprs around it
            if t is _ENVIRON_TYPE:
                return redacted(obj, ENVIRON_RULE)
            obj, flat = environ_masked(obj, _EnvironValue), False
        # Builtin callables and flat builtin containers of scalars run no user
        # code while described: they skip the clock's step, the bulk of a capture.
        if flat is None:
            flat = t in _CONTAINERS and _flat(obj)
        try:
            # The class it says it is of is read here, once: a lazy object's may be fetched.
            value, said = (described(obj) if flat or t in FIXED_REPR_TYPES
                           else self._step(obj, lambda: described(obj)))
        except BudgetExceeded as exc:
            return timed_out(obj, exc)
        value.repr = hide_named_values(value.repr, self.secrets.redaction)
        value.repr = cut_middle(value.repr, self.max_string)
        text_rule = self.redact_text(value.repr) if self.redact_text is not None else None
        if text_rule is not None:
            return redacted(obj, text_rule)
        # Below the top, only builtin containers and arrays (a 2-d array's rows) open: an
        # object's attributes (a datetime has forty) would multiply the preview for little use.
        # An exact builtin container is never opaque: not asked (isinstance of six types) for each.
        opens = (value.expandable and level < self.depth and (t in _CONTAINERS or not _opaque(obj, t, said))
                 and (level == 0 or t in _CONTAINERS or _is_ndarray(obj)))
        if not (opens and t in _CONTAINERS) and t not in FIXED_REPR_TYPES:
            # What its repr (and the reprs around it) show under secrets' names, but no
            # child of this preview names: a namedtuple's or a slotted dataclass's fields,
            # an OrderedDict's keys, a mapping proxy's, anything below the depth budget.
            self.secrets.learn_fields(obj)
        if opens:
            limit = self.items if level == 0 else self.inner_items
            # An object's dunders and methods are counted, not previewed: they are the
            # same for every instance, and would be most of a dump's previews.
            groups: Dict[str, int] = {}
            try:
                kids = (children(obj, 0, limit) if flat
                        else self._step(obj, lambda: children(obj, 0, limit, groups, said)))
            except BudgetExceeded:
                value.more = value.length or 0
                return value
            except BaseException:  # a hostile __iter__/__getitem__: the value shows without children
                return value
            value.children = [self._child(c, level) for c in kids]
            value.groups = groups or None
            if value.length is not None and (t in _CONTAINERS or child_count(obj, said) is not None):
                value.more = max(0, value.length - limit)
        return value

    def _scalar(self, obj: Any) -> Value:
        """An exact builtin scalar: runs no user code, so no clock step and no children.

        The bulk of every capture (a deep stack is thousands of them), so kept short.
        """
        t = type(obj)
        if t is str and obj in self._secret_texts:
            return redacted(obj, SECRET_VALUE_RULE)
        if (t is str or t is bytes) and len(obj) > self.max_string:
            text = cut_string_repr(obj, self.max_string)  # only its ends are repr'd
        else:
            try:
                text = repr(obj)  # the common case: short, and already what the rules give
            except ValueError:  # an int too long for str()
                text = scalar_repr(obj)
            if len(text) > self._short_text:
                text = cut_middle(string_repr(obj) if t is str or t is bytes else scalar_repr(obj),
                                  self.max_string)
        if (t is str or t is bytes) and (":" in text or "=" in text):  # the rest of a capture's scalars
            # Its lines' headers show escaped in its repr: learned from the text itself, they
            # are hidden from the repr (and from copies elsewhere) when the layer is scrubbed.
            if t is str:
                self.secrets.learn_named_values(obj)
            elif obj.isascii():
                self.secrets.learn_named_values(obj.decode("ascii"))
            text = hide_named_values(text, self.secrets.redaction)
        rule = self.redact_text(text) if self.redact_text is not None else None
        if rule:
            return redacted(obj, rule)
        name = _BUILTIN_NAMES[t]
        return Value(name, text, name)

    def _child(self, child: LiveChild, level: int) -> Child:
        name, obj, access, group = child
        environ = type(obj) is _EnvironValue   # hidden as the environment's, whatever its name
        if name in self._plain_names and not environ:  # most children: "0", "'id'", "len()", met before
            return Child(name, self._scalar(obj) if type(obj) in SCALARS else self.value(obj, level + 1),
                         access, group)
        key = name.strip("'\"")
        rule = self.redact(key, obj) if name != LEN_NAME and not environ else None
        if rule and is_code(obj):
            rule = None  # `def get_token()`: code, not a secret
        if environ:
            v = redacted(obj.value, ENVIRON_RULE)
        elif rule:
            self.secrets.learn(obj)
            v = redacted(obj, rule)
        elif type(obj) in SCALARS:
            v = self._scalar(obj)
        else:
            v = self.value(obj, level + 1)
        if ":" in name or "=" in name:  # a dict's key, seldom
            name = hide_named_values(name, self.secrets.redaction)
        elif self.secrets.redaction.rule_for_name(key) is None:
            self._plain_names.add(name)  # no rule hides what it names, whatever that is
        return Child(name, v, access, group)


class _EnvironValue:
    """An environment variable's value in a copy of the environment, previewed as hidden; its
    repr is the marker the object layer holds in its place."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(ENVIRON_MARKER)


# Exact builtin scalars: describing one runs none of the program's code, and it has no children.
SCALARS: FrozenSet[type] = frozenset((int, float, str, bytes, bool, type(None), complex))
_CONTAINERS = frozenset((dict, list, tuple, set, frozenset))
# Their names, and their qualnames, the same: a builtin type's __name__ is a new string each time
# it is read, one a preview held (ten thousand of a 900-frame capture).
_BUILTIN_NAMES: Dict[type, str] = {t: class_name(t) for t in SCALARS | _CONTAINERS | FIXED_REPR_TYPES}
# The exact builtins besides the containers that debugpy opens on their type's dunders and
# methods alone (type_attributes), having no items.
LEAVES_WITH_TYPE_ROWS: FrozenSet[type] = frozenset((bytes, type(Ellipsis), type(NotImplemented)))
_TYPE_ROWS = _CONTAINERS | LEAVES_WITH_TYPE_ROWS
_FLAT_PROBE = max(MAX_COLLECTION)  # as many items as any preview or repr reads


def _flat(obj: Any, nested: bool = True) -> bool:
    """Whether the items a preview reads from this exact builtin container are all exact scalars
    or (``nested``) exact builtin containers of exact scalars (a record's ``{'id': 1, 'tags':
    ['a']}``): describing it runs none of the program's code."""
    found = set(map(type, _probed(obj)))
    if found <= SCALARS:
        return True
    return nested and found <= _NESTABLE and all(_flat(item, False) for item in _probed(obj)
                                                 if type(item) in _CONTAINERS)


def _probed(obj: Any) -> Iterable[Any]:
    """The items (a dict's keys and values) that a preview or repr of ``obj`` may read."""
    if type(obj) is dict:
        return itertools.chain(itertools.islice(obj, _FLAT_PROBE), itertools.islice(obj.values(), _FLAT_PROBE))
    return itertools.islice(obj, _FLAT_PROBE)


_NESTABLE = SCALARS | _CONTAINERS


def scalar_repr(obj: Any) -> str:
    """safe_repr of an exact builtin scalar, without the general machinery."""
    if type(obj) in (str, bytes):
        return string_repr(obj)
    try:
        text = repr(obj)
    except ValueError:  # an int too long for str(): say so, as safe_repr would
        return safe_repr(obj)
    return cut_middle(text, MAX_STRING_OUTER)


def cut_middle(text: str, limit: int) -> str:
    """debugpy's way of shortening a long repr: keep its start and its end."""
    if len(text) <= limit:
        return text
    return text[:int(2 * limit / 3)] + "..." + text[-int(limit / 3):]


def cut_string_repr(obj: Any, limit: int) -> str:
    """``cut_middle(string_repr(obj), limit)`` for an exact str or bytes, without the repr
    of all of it: a 64 KiB buffer shows 4 KiB, so its ends are all that is repr'd."""
    if len(obj) <= limit or not 16 <= limit <= MAX_STRING_OUTER // 4:
        return cut_middle(string_repr(obj), limit)
    if len(obj) > MAX_STRING_OUTER:  # string_repr's own cut: each end is quoted by itself
        head_src, tail_src = obj[:int(2 * MAX_STRING_OUTER / 3)], obj[-int(MAX_STRING_OUTER / 3):]
    else:
        head_src = tail_src = obj
    head_n, tail_n = int(2 * limit / 3), int(limit / 3)
    head = repr(head_src[:head_n] + _quote_keeper(head_src, head_src[:head_n]))[:head_n]
    tail = repr(_quote_keeper(tail_src, tail_src[-tail_n:]) + tail_src[-tail_n:])[-tail_n:]
    return head + "..." + tail


def _quote_keeper(whole: Any, piece: Any) -> Any:
    """What to add to ``piece`` (at the far end from the part kept) so that its repr
    picks the quote that the repr of ``whole`` picks: repr uses double quotes only for
    text with single quotes and no double ones."""
    q1, q2 = ("'", '"') if type(whole) is str else (b"'", b'"')
    def double(text: Any) -> bool:
        return q1 in text and q2 not in text
    if double(whole) == double(piece):
        return whole[:0]
    return q1 if double(whole) else q2


def redacted(obj: Any, rule: str) -> Value:
    """What a redacted value shows: its type, never its content."""
    return Value(type=type_name(obj), repr=rule_marker(rule), qualtype=qualified_type(obj),
                 redacted=rule)


def _failed(obj: Any, exc: BaseException) -> Value:
    """The preview of a value whose previewing raised ``exc``."""
    if isinstance(exc, BudgetExceeded):
        return timed_out(obj, exc)
    # isinstance() itself raises for objects lying about __class__
    return missing(obj, not_captured("previewing it raised %s" % describe_exception(exc)))


def timed_out(obj: Any, exc: BudgetExceeded) -> Value:
    return missing(obj, cut_while(exc, "describing it"))


def missing(obj: Any, reason: str) -> Value:
    if "://" in reason:
        reason = hide_url_secrets(reason)
    return Value(type=type_name(obj), repr="<%s>" % reason, qualtype=qualified_type(obj),
                 missing=reason)
