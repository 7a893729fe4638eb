"""What tbdap tells a client it can do: one line and one reason per flag."""
from __future__ import annotations

from typing import Any, Dict

CAPABILITIES: Dict[str, Any] = {
    # The `stopped` event follows configurationDone, as with debugpy.
    "supportsConfigurationDoneRequest": True,
    # The exception widget: id, description, the whole chained traceback.
    "supportsExceptionInfoRequest": True,
    # Hovers evaluate against the selected frame like watches do.
    "supportsEvaluateForHovers": True,
    # "Copy Value" asks with context "clipboard" and gets the untruncated repr.
    "supportsClipboardContext": True,
    # Variables and expressions can be changed in the in-memory replay (never in the file).
    "supportsSetVariable": True,
    "supportsSetExpression": True,
    # The debug console completes names and attributes from the frame.
    "supportsCompletionsRequest": True,
    # Modules and sources are listed from the dump.
    "supportsModulesRequest": True,
    "supportsLoadedSourcesRequest": True,
    # "Format as hex" on integers.
    "supportsValueFormattingOptions": True,
    # Long stacks (deep recursion) come in pages: startFrame/levels/totalFrames.
    "supportsDelayedStackTraceLoading": True,
    # A request the client no longer waits for (completions as the user types on) is cut short.
    "supportsCancelRequest": True,
    # "Stop" sends terminate first; the replay ends cleanly either way.
    "supportsTerminateRequest": True,
    # No exception filters: a replay is already stopped at the only exception there is.
    "exceptionBreakpointFilters": [],
}
