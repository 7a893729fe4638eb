"""The types whose attributes debugpy shows its own way (pandas', from its pydevd plugin), so
that previews and tbdap's variables show them as debugpy does.

debugpy does not evaluate a DataFrame's ``T`` (a transposed copy), ``_series`` (a new
Series per column) or ``style`` (a Styler), and lists none of their methods: a preview
that read them would build a copy of a million-row frame, and spend a capture's time
budget on it.  The one place tbdump knows a library's types by name for viewing.
"""
from __future__ import annotations

import weakref
from typing import Dict, Optional, Tuple

_FRAME = {
    "T": "<transposed dataframe -- debugger:skipped eval>",
    "_series": "<dict[index:Series] -- debugger:skipped eval>",
    "style": "<pandas.io.formats.style.Styler -- debugger: skipped eval>",
}
_STYLER = {"data": "<Styler data -- debugger:skipped eval>", "__dict__": "<dict -- debugger: skipped eval>"}

# By each class's module and qualified name, as pandas names them now ("pandas") and did
# before 2.x ("pandas.core.frame"); their subclasses too, as debugpy's issubclass() test.
_VIEWS: Dict[str, Dict[str, str]] = {
    "pandas.DataFrame": _FRAME, "pandas.core.frame.DataFrame": _FRAME,
    "pandas.Series": _FRAME, "pandas.core.series.Series": _FRAME,
    "pandas.io.formats.style.Styler": _STYLER,
}
# Each type's answer, by id and a weak reference: a class kept alive here would keep the
# program's instances from being collected before the interpreter's streams are gone (their
# __del__ would no longer print at exit).
_BY_TYPE: Dict[int, Tuple["weakref.ref[type]", Optional[Dict[str, str]]]] = {}
_BY_TYPE_MAX = 1024   # a long-lived viewer meets many classes


def skipped_attributes(t: type) -> Optional[Dict[str, str]]:
    """For a type debugpy shows its own way: the attributes it does not evaluate, each with
    the text it shows instead (and then it lists no methods); None for every other type."""
    known = _BY_TYPE.get(id(t))
    if known is not None and known[0]() is t:
        return known[1]
    view = None
    for klass in getattr(t, "__mro__", ()):
        view = _VIEWS.get("%s.%s" % (getattr(klass, "__module__", None), getattr(klass, "__qualname__", None)))
        if view is not None:
            break
    if len(_BY_TYPE) >= _BY_TYPE_MAX:
        _BY_TYPE.clear()
    _BY_TYPE[id(t)] = (weakref.ref(t), view)
    return view
