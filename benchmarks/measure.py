"""One measurement in a fresh process: crash a scenario and dump it, or open a dump.

``run.py`` starts this once per measurement (``python -c "import measure;
measure.main()" dump|load ...``) and reads the JSON line it prints.  Nothing
heavy is imported before the clock starts: a load's time includes importing
the tool that reads the file, as a developer's fresh process would.

Dumping happens in an ``except`` block around the scenario, as each tool's
documentation shows: ``tbdump.dump_exception``, pydumpling's ``save_dumping``
(default limits, or ``DumpOptions.unlimited()``), or ``pickle.dump`` (protocol
5) of the locals of every frame of the traceback.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, Optional

TOOLS = ("tbdump", "pydumpling", "pydumpling-unlimited", "pickle")
LOADS = ("tbdump", "tbdump-safe", "pydumpling", "pydumpling-unlimited", "pickle")


# -- writer memory: peak resident size during the dump, over the size just before -------
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        match = re.search(r"^%s:\s+(\d+) kB" % field, fh.read(), re.MULTILINE)
    if match is None:
        raise OSError("no %s in /proc/self/status" % field)
    return int(match.group(1))


def _reset_peak() -> Optional[int]:
    """Resident bytes now, with the kernel's peak reset to it; None off Linux."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM (peak RSS) to the current RSS
        return _status_kb("VmRSS") * 1024
    except OSError:
        return None


def _peak_growth(before: Optional[int]) -> Optional[int]:
    return None if before is None else max(0, _status_kb("VmHWM") * 1024 - before)


# -- the page cache: the same for every tool ----------------------------------------
def _ready_page_cache(directory: str, nbytes: int) -> None:
    """Write ``nbytes`` in ``directory`` and delete them, so a dump's writes go into pages
    just freed.

    On a virtual machine whose host takes back guest memory left free for a few seconds
    (free page reporting), a 200 MB write into such pages took 450 ms instead of 40 ms,
    for whichever tool met them: which one did depended on how long its process ran
    before the dump, a difference larger than the one measured.  Done for every tool
    alike, before the clock starts.
    """
    chunk = bytes(8 << 20)
    scratch = os.path.join(directory, ".page-cache-%d" % os.getpid())
    with open(scratch, "wb") as fh:
        for _ in range(0, nbytes, len(chunk)):
            fh.write(chunk)
    os.unlink(scratch)


# -- the dumpers ------------------------------------------------------------------------
def dump_tbdump(exc: BaseException, path: str) -> None:
    from tbdump import dump_exception
    dump_exception(exc, path)


def dump_pydumpling(exc: BaseException, path: str) -> None:
    from pydumpling import DumpOptions, save_dumping
    save_dumping(path, options=DumpOptions(), strict=True)  # in the except block: sys.exc_info()


def dump_pydumpling_unlimited(exc: BaseException, path: str) -> None:
    from pydumpling import DumpOptions, save_dumping
    save_dumping(path, options=DumpOptions.unlimited(), strict=True)


def dump_pickle(exc: BaseException, path: str) -> None:
    import pickle
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(dict(tb.tb_frame.f_locals))
        tb = tb.tb_next
    with open(path, "wb") as fh:
        pickle.dump(frames, fh, protocol=5)


DUMPERS: Dict[str, Callable[[BaseException, str], None]] = {
    "tbdump": dump_tbdump, "pydumpling": dump_pydumpling,
    "pydumpling-unlimited": dump_pydumpling_unlimited, "pickle": dump_pickle,
}
# A program imports its crash handler at start-up, not while it crashes (the seed
# README's `from tbdump import dump_exception` at the top of the program).
PRELOAD = {"tbdump": "tbdump.hooks", "pydumpling": "pydumpling", "pydumpling-unlimited": "pydumpling",
           "pickle": "pickle"}


def crash_and_dump(scenario: Callable[[], None], dumper: Callable[[BaseException, str], None],
                   path: str, expect: bool, writes: int = 0) -> Dict[str, Any]:
    """Run the scenario; in its ``except`` block, time the dump and its memory peak.

    ``expect`` also records, after the clock stops, what a complete dump must hold;
    ``writes``: bytes of page cache to ready first (_ready_page_cache).
    """
    try:
        scenario()
    except Exception as exc:
        if writes:
            _ready_page_cache(os.path.dirname(os.path.abspath(path)), writes)
        before = _reset_peak()
        start = time.perf_counter()
        try:
            dumper(exc, path)
        except Exception as err:
            return {"error": "%s: %s" % (type(err).__name__, str(err)[:200])}
        seconds = time.perf_counter() - start
        result: Dict[str, Any] = {"seconds": seconds, "mem_growth": _peak_growth(before),
                                  "size": os.path.getsize(path)}
        if expect:
            result["expected"] = _expected_frames(exc)
        return result
    return {"error": "the scenario did not crash"}


def _expected_frames(exc: BaseException) -> List[Dict[str, Any]]:
    """Fingerprints of the scenario frames' locals, to check a loaded dump against."""
    import scenarios
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == scenarios.__file__:
            frames.append({"function": code.co_name,
                           "locals": {name: scenarios.fingerprint_or_none(value)
                                      for name, value in tb.tb_frame.f_locals.items()}})
        tb = tb.tb_next
    return frames


# -- the loaders: the clock covers importing the reader, opening, and one frame's locals --
def load_tbdump(path: str, objects: Optional[bool]) -> Any:
    import tbdump
    dump = tbdump.load(path, objects=objects)
    frame = dump.frames[-1]
    if objects is False:
        frame.variables
    else:
        frame.locals
    return dump


def load_pydumpling(path: str) -> Any:
    from pydumpling import load_dumpling
    dumpling = load_dumpling(path, max_bytes=None)
    tb = dumpling["traceback"]
    while tb.tb_next is not None:
        tb = tb.tb_next
    tb.tb_frame.f_locals
    return dumpling


def load_pickle(path: str) -> Any:
    import pickle
    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    frames[-1]
    return frames


def load(tool: str, path: str) -> Dict[str, Any]:
    start = time.perf_counter()
    if tool in ("tbdump", "tbdump-safe"):
        loaded = load_tbdump(path, False if tool == "tbdump-safe" else None)
    elif tool.startswith("pydumpling"):
        loaded = load_pydumpling(path)
    else:
        loaded = load_pickle(path)
    seconds = time.perf_counter() - start
    result: Dict[str, Any] = {"seconds": seconds}
    if tool.startswith("tbdump"):
        result.update(check_tbdump(loaded, path + ".expected.json", full=tool == "tbdump"))
    elif tool.startswith("pydumpling"):
        meta = loaded.get("snapshot_meta", {})
        cut = {k: v for k, v in meta.get("truncation", {}).items() if v}
        result["complete"] = not cut
        result["problems"] = ["truncated: %s" % json.dumps(cut)] if cut else []
    else:
        result["complete"] = True
        result["problems"] = []
    return result


# -- fidelity: a dump that dropped data is not worth timing ---------------------------------
def check_tbdump(dump: Any, expected_path: str, full: bool) -> Dict[str, Any]:
    """Compare the dump with what the crashing process held: every frame, every local.

    ``full`` checks the real objects (fingerprints of their content); otherwise the
    safe layer (no value marked missing or redacted).
    """
    import scenarios
    import tbdump
    with open(expected_path) as fh:
        expected = json.load(fh)
    scenario = expected["scenario"]
    allowed = scenarios.EXPECTED_PLACEHOLDERS.get(scenario, frozenset())
    frames = [f for f in dump.frames
              if f.filename == scenarios.__file__ and not f.above_handler]
    problems: List[str] = []
    if dump.metadata.partial or dump.metadata.cut:
        problems.append("dump marked partial: %s" % "; ".join(dump.metadata.cut)[:300])
    if [f.name for f in frames] != [f["function"] for f in expected["frames"]]:
        problems.append("frames: dump has %d scenario frames, the crash had %d"
                        % (len(frames), len(expected["frames"])))
    for frame, want in zip(frames, expected["frames"]):
        values = frame.locals if full else frame.variables
        for name, fp in want["locals"].items():
            where = "%s.%s" % (frame.name, name)
            if name not in values:
                problems.append("%s: missing from the dump" % where)
                continue
            got = values[name]
            if full:
                if isinstance(got, tbdump.Placeholder):
                    if name not in allowed:
                        problems.append("%s: placeholder (%s)" % (where, got.reason))
                elif name in allowed:
                    problems.append("%s: expected a placeholder, got a %s" % (where, type(got).__name__))
                elif fp is not None and scenarios.fingerprint_or_none(got) != fp:
                    problems.append("%s: content differs from the crashing process" % where)
            elif (got.missing or got.redacted) and name not in allowed:
                problems.append("%s: %s" % (where, got.missing or "redacted: %s" % got.redacted))
    return {"complete": not problems, "problems": problems[:10],
            "scenario_frames": len(frames)}


def main(argv: Optional[List[str]] = None) -> None:
    """``dump SCENARIO TOOL PATH`` or ``load TOOL PATH``; prints one JSON line."""
    args = sys.argv[1:] if argv is None else argv
    if args[0] == "dump":
        import importlib
        import scenarios
        scenario, tool, path = args[1:4]
        importlib.import_module(PRELOAD[tool])
        result = crash_and_dump(scenarios.SCENARIOS[scenario], DUMPERS[tool], path,
                                expect=tool == "tbdump", writes=scenarios.WRITES.get(scenario, 0))
        expected = result.pop("expected", None)
        if expected is not None:
            with open(path + ".expected.json", "w") as fh:
                json.dump({"scenario": scenario, "frames": expected}, fh)
    else:
        result = load(args[1], args[2])
    sys.stdout.write(json.dumps(result) + "\n")
