"""The DAP messages of one test, from the trace the extension writes (TBDUMP_DAP_TRACE, set by conftest).

The extension appends every message between VS Code and a tbdap it started (not an attached
one) as "TIME -> JSON" (to tbdap) or "TIME <- JSON" (from it); conftest starts each test's
part with "=== TEST NAME".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..dap.dapclient import schema_errors

Message = Tuple[str, Dict[str, Any]]  # (direction "->" or "<-", the message)


def messages(trace: Path, test: str) -> List[Message]:
    """The messages traced so far in `test`'s part of the trace, in order."""
    out: List[Message] = []
    current = None
    for line in trace.read_text().splitlines():
        if line.startswith("=== "):
            current = line[4:]
        elif current == test:
            _time, direction, body = line.split(" ", 2)
            out.append((direction, json.loads(body)))
    return out


def schema_violations(trace: Path, test: str) -> List[str]:
    """What the official DAP schema rejects of the messages tbdap sent VS Code in `test`, as the DAP
    tests' client checks every message it receives."""
    return ["%s in %s" % (error, json.dumps(message)[:300])
            for direction, message in messages(trace, test) if direction == "<-"
            for error in schema_errors(message)]


def refetched_paused_stack(traced: List[Message]) -> Optional[bool]:
    """Whether VS Code fetched the top of the stack twice after the last stop (None: no stop traced).

    On a stop VS Code (1.139) asks for the top frame alone, focuses it, then asks for the frames
    below it. CALL STACK asks for the first 20 frames itself when it draws a paused thread whose
    frames have not come yet (CallStackDataSource.getThreadCallstack); both fetches start at the
    first frame, so the answer that comes second replaces the frames the first one brought
    (Thread.fetchCallStack) with new objects. When that is CALL STACK's, the frame VS Code focused
    is no longer in the call stack (it is compared as an object, not by its id), so CALL STACK
    cannot select it and the exception widget, which shows only on the call stack's own first
    frame, closes. debugpy's stops race the same way.

    No answer of tbdap's prevents it: whatever the second answer holds replaces the focused frame,
    and tbdap answers the top frame within 1-2 ms (as traced here) while VS Code, under load, asked
    again up to 0.2 s after that answer, its window not having taken it in yet. Only the order of
    the answers decides: with CALL STACK's request answered before the top frame's, the frame VS
    Code focuses stays in the call stack (tried: none lost in 16 stops), but tbdap cannot know that
    CALL STACK's request is coming without waiting for it.
    """
    stops = [i for i, (direction, m) in enumerate(traced) if direction == "<-" and m.get("event") == "stopped"]
    if not stops:
        return None
    asked = [m.get("arguments", {}) for direction, m in traced[stops[-1]:]
             if direction == "->" and m.get("command") == "stackTrace"]
    return any(not a.get("startFrame") and a.get("levels") != 1 for a in asked)
