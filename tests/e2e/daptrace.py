"""The DAP messages of one test, from the trace the extension writes (TBDUMP_DAP_TRACE, set by conftest).

The extension appends every message between VS Code and a tbdap it started (not an attached
one) as "TIME -> JSON" (to tbdap) or "TIME <- JSON" (from it); conftest starts each test's
part with "=== TEST NAME".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

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


def refetched_paused_stack(traced: List[Message]) -> Optional[bool]:
    """Whether VS Code fetched the top of the stack twice after the last stop (None: no stop traced).

    On a stop VS Code (1.139) asks for the top frame alone, focuses it, then asks for the frames
    below it. CALL STACK asks for the first 20 frames itself when it draws a paused thread whose
    frames have not come yet (CallStackDataSource.getThreadCallstack); both fetches start at the
    first frame, so the answer that comes second replaces the frames the first one brought
    (Thread.fetchCallStack). When that is CALL STACK's, the frame VS Code focused is no longer
    in the call stack, so CALL STACK cannot select it and the exception widget, which shows only
    on the call stack's own first frame, closes. debugpy's stops race the same way.
    """
    stops = [i for i, (direction, m) in enumerate(traced) if direction == "<-" and m.get("event") == "stopped"]
    if not stops:
        return None
    asked = [m.get("arguments", {}) for direction, m in traced[stops[-1]:]
             if direction == "->" and m.get("command") == "stackTrace"]
    return any(not a.get("startFrame") and a.get("levels") != 1 for a in asked)
