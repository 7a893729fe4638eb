"""The least any Python capture of the deep scenario can cost, next to plain pickle.

    python benchmarks/deep_floor.py

Three walks of the 900 frames, each writing name, file and line as JSON, with
no sources, metadata, budgets or redaction:

- bare walk: pickles each frame's locals apart (what loading one frame alone needs);
- minimal previews: one pickle of all locals, plus for every value its type name
  and a cut repr, and the same for the items of dicts and lists (the least a
  safe layer that shows every value without unpickling can hold).

Their ratios to one ``pickle.dumps`` of the same locals are lower bounds for
tbdump's "deep within N x of plain pickle" figure.  Medians of 9, in one process.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios  # noqa: E402


def bare_walk(exc: BaseException) -> Any:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, 5)
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        pickler.dump(dict(tb.tb_frame.f_locals))
        frames.append({"name": code.co_name, "file": code.co_filename, "line": tb.tb_lineno,
                       "end": out.tell()})
        tb = tb.tb_next
    return json.dumps(frames), out.getvalue()


def _preview(value: Any, inner: bool = False) -> List[Any]:
    t = type(value)
    out: List[Any] = [t.__name__, repr(value)[:80]]
    if not inner and t is dict:
        out.append([[repr(k), _preview(v, True)] for k, v in list(value.items())[:20]])
    elif not inner and t in (list, tuple):
        out.append([_preview(v, True) for v in value[:20]])
    return out


def minimal_previews(exc: BaseException) -> Any:
    frames, everything = [], []
    tb = exc.__traceback__
    while tb is not None:
        code, local = tb.tb_frame.f_code, tb.tb_frame.f_locals
        everything.append(local)
        frames.append({"name": code.co_name, "file": code.co_filename, "line": tb.tb_lineno,
                       "values": {k: _preview(v) for k, v in local.items()}})
        tb = tb.tb_next
    return json.dumps(frames), pickle.dumps(everything, 5)


def plain_pickle(exc: BaseException) -> Any:
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(dict(tb.tb_frame.f_locals))
        tb = tb.tb_next
    return pickle.dumps(frames, 5)


def measure(times: Dict[str, List[float]]) -> None:
    try:
        scenarios.SCENARIOS["deep"]()
    except Exception as exc:
        ways: Dict[str, Callable[[BaseException], Any]] = {
            "bare walk": bare_walk, "minimal previews": minimal_previews, "pickle": plain_pickle}
        for name, way in ways.items():
            start = time.perf_counter()
            way(exc)
            times[name].append((time.perf_counter() - start) * 1000)


def main() -> None:
    times: Dict[str, List[float]] = {"bare walk": [], "minimal previews": [], "pickle": []}
    for _ in range(9):
        measure(times)
    plain = statistics.median(times["pickle"])
    print("plain pickle %.2f ms" % plain)
    for way in ("bare walk", "minimal previews"):
        ms = statistics.median(times[way])
        print("%-16s %6.2f ms: %4.1fx plain pickle" % (way, ms, ms / plain))


if __name__ == "__main__":
    main()
