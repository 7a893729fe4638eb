"""Stand-ins for values a dump does not hold, in the object layer and in the viewers."""
from __future__ import annotations

import weakref
from typing import Any, Iterable, List, Optional, Tuple

from .model import NOT_CAPTURED, Value
from .termtext import printable


# The reprs of the values Python takes for false (a preview is a repr).
_FALSY_PREVIEWS = frozenset(("None", "False", "0", "0.0", "-0.0", "0j", "''", '""', "b''", "[]", "{}", "()",
                             "set()", "frozenset()"))


class Placeholder:
    """A value that is not in the dump, saying what it was and why it is missing.

    Capture pickles these in place of objects it cannot pickle (a lock, a
    socket); loading returns them for values it cannot restore; safe mode
    returns them for every value, each with its recorded preview.
    """

    def __init__(self, type: str, reason: str, preview: str = "",
                 value: Optional[Value] = None) -> None:
        self.type = type
        self.reason = reason
        self.preview = preview
        self.value = value

    def __repr__(self) -> str:
        shown = " %s" % self.preview if self.preview else ""
        # All of it is the dump's text: what a terminal would act on shows as an escape
        # (\x1b), wherever a viewer prints it (tbpeep's listings, an expression's result).
        return printable("<%s: %s%s>" % (self.type, self.reason, shown))

    def __reduce__(self) -> Any:
        return (Placeholder, (self.type, self.reason, self.preview))

    def __bool__(self) -> bool:
        """As the value was, where its preview tells (empty, zero, None, False); else true,
        as most objects are: ``if sock:`` and ``if items:`` take the branch the program took."""
        preview = self.__dict__.get("value")
        if preview is not None and preview.length is not None:
            return preview.length > 0
        return (preview.repr if preview is not None else self.__dict__.get("preview", "")) not in _FALSY_PREVIEWS

    # Pickles append and set items on the objects they rebuild; on a stand-in
    # those must be harmless, so the rest of the graph still loads.
    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def __setitem__(self, key: Any, item: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "Placeholder":
        return _unknown("?", "result of calling %s, which is not available" % self.type)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        child = self._preview_child("." + name)
        if child is not None:
            return child
        return _unknown("%s.%s" % (self.__dict__.get("type", "?"), name),
                        "attribute %r of a value that is not available" % name)

    def __dir__(self) -> List[str]:
        """The attributes the recorded preview shows, and the placeholder's own: what completion
        offers (``acct.ow<Tab>``)."""
        preview = self.__dict__.get("value")
        children = preview.children if preview is not None else None
        shown = [child.access[1:] for child in children or () if child.access and child.access.startswith(".")]
        return sorted(set(shown) | {"type", "reason", "preview", "value"})

    def __len__(self) -> int:
        length = self._preview_length()
        if length is None:
            raise TypeError("the length of this %s is not in the dump (%s)" % (self.type, self.reason))
        return length

    def __getitem__(self, key: Any) -> Any:
        length = self._preview_length()
        index = key + length if type(key) is int and key < 0 and length is not None else key
        child = self._preview_child("[%r]" % (index,))
        if child is None:  # not KeyError: the value may well hold it, the preview does not
            raise LookupError("%r is not in the captured preview of this %s (%s)" % (key, self.type, self.reason))
        return child

    def _preview_length(self) -> Optional[int]:
        preview = self.__dict__.get("value")
        return None if preview is None else preview.length

    def _preview_child(self, access: str) -> Optional["Placeholder"]:
        """A child the recorded preview still shows (``p obj.attr`` in safe mode)."""
        preview = self.__dict__.get("value")
        child = None if preview is None else preview.child(access)
        return None if child is None else Placeholder(child.type, self.reason, child.repr, child)


def _unknown(what: str, reason: str) -> Placeholder:
    """A placeholder for a value nobody recorded, so neither its class: ``what`` only says where it was."""
    made = Placeholder(what, reason)
    made.__dict__["_class_unknown"] = True
    return made


def captured_class(placeholder: Placeholder) -> Optional[str]:
    """The class the value had, as ``type()`` of it printed: ``<class 'int'>``, ``<class
    '__main__.Account'>`` (module-qualified when the preview recorded it); None when unknown.

    A function, not a method: every attribute name a placeholder has hides a
    child of its preview (``p obj.name``)."""
    known = placeholder.__dict__
    if known.get("_class_unknown"):
        return None
    preview = known.get("value")
    name = preview.qualtype if preview is not None and preview.qualtype else known.get("type")
    return "<class %r>" % name if name else None


class LockPlaceholder(Placeholder):
    """A lock (``threading.Lock``/``RLock``), which no process can pickle, as a stand-in
    that still works as one: the Condition, Queue, Future or logging Handler built on
    it keeps working in a viewer (``p future``, ``q.qsize()``).

    It starts held if the lock was held at the crash.  Nothing else runs in a
    dump to release it, so a blocking acquire never waits: it succeeds, where the
    real lock would have hung the viewer; a non-blocking one fails on a held Lock.
    """

    def __init__(self, type: str, reason: str, preview: str = "", was_locked: bool = False) -> None:
        super().__init__(type, reason, preview)
        self.was_locked = was_locked
        self.holds = int(was_locked)

    def __reduce__(self) -> Any:
        return (LockPlaceholder, (self.type, self.reason, self.preview, self.was_locked))

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.holds and not blocking and self.type != "RLock":
            return False
        self.holds += 1
        return True

    def release(self) -> None:
        if not self.holds:
            raise RuntimeError("release unlocked lock")
        self.holds -= 1

    def locked(self) -> bool:
        return self.holds > 0

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    # What threading.Condition takes from an RLock.
    def _is_owned(self) -> bool:
        return self.holds > 0

    def _release_save(self) -> int:
        holds, self.holds = self.holds, 0
        return holds

    def _acquire_restore(self, holds: int) -> None:
        self.holds = holds


class MissingClass:
    """Base of the classes made up on load for a module or class that is not importable.

    Instances accept whatever the pickle gives them, so the rest of the object
    graph still loads (the seed's "dummy modules").
    """

    __tbdump_missing__ = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> "MissingClass":
        # A subclass of str, int, tuple... is made by __new__ alone (pickle's NEWOBJ): its value
        # is in the arguments.
        made = super().__new__(cls)
        made._tbdump_keep_args(args)
        return made

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._tbdump_keep_args(args)

    def _tbdump_keep_args(self, args: Tuple[Any, ...]) -> None:
        if args:  # a plain object's (pickle gives it none) would show as `_tbdump_args` in its __dict__
            self.__dict__["_tbdump_args"] = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_tbdump_state"] = state

    # A list or dict subclass of the program gets its items from pickle after it is made
    # (APPENDS, SETITEMS): kept beside its state, so it loads, and the values after it too.
    def extend(self, items: Iterable[Any]) -> None:
        self.__dict__.setdefault("_tbdump_items", []).extend(items)

    def append(self, item: Any) -> None:
        self.extend([item])

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__.setdefault("_tbdump_items", {})[key] = value

    def __repr__(self) -> str:
        captured = _CAPTURED.get(self)
        shown = " %s" % captured.repr if captured is not None else ""
        return printable("<%s (not importable here: %s)%s>" % (type(self).__qualname__, self.__tbdump_missing__, shown))

    def __dir__(self) -> Iterable[str]:
        # The methods that take what pickle gives are not the program's class: listed, they showed
        # as `append` and `extend` in the Variables view and completions.  What they kept of the
        # program's data (_tbdump_items, _tbdump_args of a str subclass) stays listed: it is seen nowhere else.
        return [name for name in super().__dir__() if name not in _LOADING_ONLY]


_LOADING_ONLY = frozenset(vars(MissingClass)) - frozenset(dir(object)) - {"__dict__", "__weakref__", "__module__"}


def missing_class(module: str, name: str, why: str) -> type:
    """A stand-in class named like the one that could not be imported."""
    cls = type(name.rpartition(".")[2], (MissingClass,), {"__module__": module,
                                                          "__tbdump_missing__": why})
    cls.__qualname__ = name
    return cls


# The preview of each stand-in met as a variable's own value: beside it, not in its __dict__,
# which holds the program's data as the pickle gave it (vars() of it, the Variables view).
_CAPTURED: "weakref.WeakKeyDictionary[MissingClass, Value]" = weakref.WeakKeyDictionary()


def is_placeholder(obj: Any) -> bool:
    """Whether ``obj`` is a Placeholder (a LockPlaceholder too): a value the dump does not hold.

    Asked of its real class, as every question of what a restored object is must be:
    isinstance() reads ``__class__``, which runs the program's property of that name (raising
    what it likes, KeyboardInterrupt too), and which a dead weak proxy answers with ReferenceError."""
    return issubclass(type(obj), Placeholder)


def is_of_missing_class(obj: Any) -> bool:
    """Whether ``obj`` is an instance of a class made up on load for one not importable here
    (``missing_class``); asked of its real class, as is_placeholder asks."""
    return issubclass(type(obj), MissingClass)


def captured_preview(obj: Any) -> Optional[Value]:
    """The preview take_preview gave ``obj``, a stand-in of a class missing here; else None."""
    return _CAPTURED.get(obj) if is_of_missing_class(obj) else None


def take_preview(obj: Any, value: Value) -> None:
    """Let ``obj``, restored as ``value``'s object, read as the value it stands in for when it is
    a stand-in that has no preview of its own: a pandas Timestamp of a dump opened without
    pandas shows ``Timestamp('2024-01-02 ...')`` beside why it is not restored, as a
    placeholder of safe mode does."""
    if is_of_missing_class(obj):
        _CAPTURED[obj] = value
    elif type(obj) is Placeholder and obj.value is None and not obj.preview and not obj.reason.startswith(NOT_CAPTURED):
        # One that loading made (not one capture wrote, a socket's: it reads as capture made it).
        obj.preview, obj.value = value.repr, value
