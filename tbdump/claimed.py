"""The class an object says it is of, read once, and isinstance()'s answer worked out from it.

A lazy object's class (Django's SimpleLazyObject, wrapt's and lazy_object_proxy's proxies,
werkzeug's LocalProxy, an rpyc netref) defines ``__class__`` as a property naming the class
of what it stands for, and reading it may fetch that (rpyc: a network round trip).
``isinstance(obj, (A, B, C))`` reads it again for each class its type is not a subclass of,
so a preview's dispatch read it about forty times a value.  debugpy follows what it says
(its resolvers are chosen by isinstance, so a lazy dict opens on its items), and so do the
previews: with the class read here once, every check after it asks the classes themselves.
"""
from __future__ import annotations

from typing import Any, Tuple, Union

Classes = Union[type, Tuple[type, ...]]


def claimed_class(obj: Any) -> type:
    """The class ``obj`` says it is of (its ``__class__``), its own where it says none or no
    class; raises what reading it raises but AttributeError, as isinstance() does."""
    try:
        said = obj.__class__
    except AttributeError:
        return type(obj)
    # Its metaclass's own isinstance could run the program's code: the type of a class is asked.
    return said if issubclass(type(said), type) else type(obj)


def said_class(obj: Any) -> type:
    """claimed_class, its own class where reading it raises, as debugpy falls back to type();
    never raises."""
    try:
        return claimed_class(obj)
    except Exception:
        return type(obj)


def is_a(obj: Any, said: type, classes: Classes) -> bool:
    """``isinstance(obj, classes)`` for a class ``said`` of ``obj`` (claimed_class) and classes
    without an ``__instancecheck__`` of their own (builtins): its type or the class it says."""
    t = type(obj)
    return issubclass(t, classes) or (said is not t and issubclass(said, classes))
