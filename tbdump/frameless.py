"""What the viewers show for an exception without frames: where a SyntaxError points, or that it was never raised."""
from __future__ import annotations

from typing import Optional, Tuple

from .model import ExceptionRecord, SyntaxDetail

# An exception with no traceback: made and passed on (dump_exception(exc), a group's member)
# without being raised, or its traceback cleared.
NEVER_RAISED = "never raised: no frames"


def syntax_location(record: ExceptionRecord) -> Optional[SyntaxDetail]:
    """Where a SyntaxError without frames points: the line of a file that did not compile.

    A script that does not compile raises before any of its code runs (the runner drops
    importlib's frames), so the error's own file and line are the only place to show.
    """
    detail = record.syntax
    if record.frames or detail is None or not detail.filename or detail.lineno is None or detail.lineno < 1:
        return None
    return detail


def location_name(record: ExceptionRecord, detail: SyntaxDetail) -> str:
    """The name a viewer gives the place a SyntaxError points at: ``SyntaxError: invalid syntax``."""
    return "%s: %s" % (record.type, detail.msg) if detail.msg else record.type


def location_columns(detail: SyntaxDetail) -> Tuple[int, Optional[int]]:
    """0-based (column, end column on the same line or None) of what a SyntaxError marks."""
    col = max((detail.offset or 1) - 1, 0)
    same_line = detail.end_lineno in (None, detail.lineno)
    if detail.end_offset is None or not same_line or detail.end_offset - 1 <= col:
        return col, None
    return col, detail.end_offset - 1
