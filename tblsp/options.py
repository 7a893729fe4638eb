"""The server's settings, read from the client's initializationOptions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Tuple

from tbdump.pathmap import PathMapping

# Shorter would have the server stat the dump files without pause, for nothing a person sees.
MIN_POLL_INTERVAL = 0.1

DEBUG_COMMAND = "tbdump.debugCrash"
REPORT_COMMAND = "tbdump.showReport"


@dataclass
class Options:
    """initializationOptions; docs/LSP.md documents each key."""

    dump_files: List[str] = field(default_factory=list)      # "dumpFiles"
    path_mappings: List[PathMapping] = field(default_factory=list)   # "pathMappings"
    client_commands: List[str] = field(default_factory=list)  # "clientCommands"
    inlay_hints: bool = True                                  # "inlayHints"
    poll_interval: float = 1.0                                # "pollInterval", seconds; 0: off


def parse(raw: Any) -> Tuple[Options, List[str]]:
    """The options, and one line per key that was malformed and ignored."""
    options = Options()
    problems: List[str] = []
    if raw is None:
        return options, problems
    if not isinstance(raw, dict):
        return options, ["initializationOptions must be an object; ignored"]

    def strings(key: str) -> List[str]:
        value = raw.get(key, [])
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        problems.append(f"initializationOptions.{key} must be a list of strings; ignored")
        return []

    options.dump_files = strings("dumpFiles")
    options.client_commands = strings("clientCommands")
    mappings = raw.get("pathMappings", [])
    if not isinstance(mappings, list):
        problems.append("initializationOptions.pathMappings must be a list; ignored")
        mappings = []
    for item in mappings:
        if isinstance(item, dict) and isinstance(item.get("localRoot"), str) \
                and isinstance(item.get("remoteRoot"), str):
            options.path_mappings.append(PathMapping(item["localRoot"], item["remoteRoot"]))
        else:
            problems.append("initializationOptions.pathMappings entries must be "
                            '{"localRoot": str, "remoteRoot": str}; one ignored')
    hints = raw.get("inlayHints", True)
    if isinstance(hints, bool):
        options.inlay_hints = hints
    else:
        problems.append("initializationOptions.inlayHints must be true or false; ignored")
    interval = raw.get("pollInterval", 1.0)
    if isinstance(interval, (int, float)) and not isinstance(interval, bool) and (
            interval == 0 or MIN_POLL_INTERVAL <= interval < float("inf")):
        options.poll_interval = float(interval)
    else:
        problems.append("initializationOptions.pollInterval must be 0 (off) or seconds from %g; ignored"
                        % MIN_POLL_INTERVAL)
    return options, problems
