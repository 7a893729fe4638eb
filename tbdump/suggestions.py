"""The "Did you mean" hint Python prints after a misspelt name's message.

Python computes it while printing, from the crashed process's names (the
frame's, the module's, ``dir()`` of the object), so capture takes it then and
the dump keeps the text.  3.12+ expose the computation in ``traceback``; 3.10
and 3.11 have it only in C (Python/suggestions.c), ported here as it is.
"""
from __future__ import annotations

import sys
import traceback
from typing import Any, Iterable, List, Optional

from . import unpatched


def suggestion(exc: BaseException) -> str:
    """What this interpreter prints after ``exc``'s message: ". Did you mean: 'count'?", or ""."""
    compute = getattr(traceback, "_compute_suggestion_error", None)
    if compute is not None:
        return _traceback_rules(exc, compute)
    if unpatched.version_info >= (3, 10):
        found = _c_suggestion(exc)
        return ". Did you mean: '%s'?" % found if found is not None else ""
    return ""


def _traceback_rules(exc: BaseException, compute: Any) -> str:
    """As Python 3.12 and 3.13 print it for an uncaught exception (TracebackException's rules,
    with the question mark their printers end every hint with)."""
    if unpatched.version_info < (3, 13) and type(exc) not in (ImportError, NameError, AttributeError):
        return ""   # 3.12's printer (C) offers hints to these exact types only, not to subclasses
    if isinstance(exc, ImportError):
        wrong = getattr(exc, "name_from", None)
    elif isinstance(exc, (NameError, AttributeError)):
        wrong = getattr(exc, "name", None)
    else:
        return ""
    if not isinstance(wrong, str):
        return ""
    found = compute(exc, exc.__traceback__, wrong)
    hint = ". Did you mean: '%s'?" % found if found else ""
    if isinstance(exc, NameError) and wrong in getattr(sys, "stdlib_module_names", ()):
        hint += " Or did you forget to import '%s'?" % wrong if hint else ". Did you forget to import '%s'?" % wrong
    return hint


# -- 3.10 and 3.11: Python/suggestions.c ------------------------------------------------------
_MAX_CANDIDATE_ITEMS = 750
_MAX_STRING_SIZE = 40
_MOVE_COST = 2
_CASE_COST = 1


def _c_suggestion(exc: BaseException) -> Optional[str]:
    # Exact types only, as _Py_Offer_Suggestions checks them.
    if type(exc) is AttributeError:
        # An unset obj reads as None too: C would skip it, but a real None.attr error is the
        # common case, and dir(None) rarely comes near a name given by hand.
        name = getattr(exc, "name", None)
        return _closest(dir(getattr(exc, "obj", None)), name) if type(name) is str else None
    if type(exc) is NameError:
        name, tb = getattr(exc, "name", None), exc.__traceback__
        if type(name) is not str or tb is None:
            return None
        while tb.tb_next is not None:
            tb = tb.tb_next
        frame = tb.tb_frame
        for names in (frame.f_code.co_varnames, frame.f_globals, frame.f_builtins):
            found = _closest(list(names), name)
            if found is not None:
                return found
    return None


def _closest(candidates: List[Any], name: str) -> Optional[str]:
    """calculate_suggestions(): the nearest candidate within a third of the characters,
    measured on UTF-8 bytes as C measures them; the first of equals wins."""
    if len(candidates) >= _MAX_CANDIDATE_ITEMS:
        return None
    try:
        wanted = name.encode("utf-8")
        items = [(item, item.encode("utf-8")) for item in _strings(candidates)]
    except (TypeError, UnicodeEncodeError):
        return None  # C stops at the first name that has no UTF-8 form
    best: Optional[str] = None
    best_distance = sys.maxsize
    for item, text in items:
        if text.decode("latin-1") == name:  # PyUnicode_CompareWithASCIIString
            continue
        max_distance = min((len(wanted) + len(text) + 3) * _MOVE_COST // 6, best_distance - 1)
        distance = _levenshtein(wanted, text, max_distance)
        if distance <= max_distance and (best is None or distance < best_distance):
            best, best_distance = item, distance
    return best


def _strings(candidates: Iterable[Any]) -> Iterable[str]:
    for item in candidates:
        if not isinstance(item, str):
            raise TypeError("not a name")
        yield item


def _substitution_cost(a: int, b: int) -> int:
    if a & 31 != b & 31:
        return _MOVE_COST
    if a == b:
        return 0
    if 65 <= a <= 90:
        a += 32
    if 65 <= b <= 90:
        b += 32
    return _CASE_COST if a == b else _MOVE_COST


def _levenshtein(a: bytes, b: bytes, max_cost: int) -> int:
    """levenshtein_distance(): one row of the matrix, given up once a row exceeds ``max_cost``."""
    if a == b:
        return 0
    while a and b and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if not a or not b:
        return (len(a) + len(b)) * _MOVE_COST
    if len(a) > _MAX_STRING_SIZE or len(b) > _MAX_STRING_SIZE:
        return max_cost + 1
    if len(b) < len(a):
        a, b = b, a
    if (len(b) - len(a)) * _MOVE_COST > max_cost:
        return max_cost + 1
    row = [(i + 1) * _MOVE_COST for i in range(len(a))]
    result = 0
    for b_index, code in enumerate(b):
        distance = result = b_index * _MOVE_COST
        minimum = sys.maxsize
        for index, char in enumerate(a):
            substitute = distance + _substitution_cost(code, char)
            distance = row[index]
            result = min(min(result, distance) + _MOVE_COST, substitute)
            row[index] = result
            minimum = min(minimum, result)
        if minimum > max_cost:
            return max_cost + 1
    return result
