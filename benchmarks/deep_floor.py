"""The least any Python capture of the deep scenario can cost, next to plain pickle.

    python benchmarks/deep_floor.py

Walks the 900 frames, pickles each frame's locals and writes name, file and
line as JSON: no previews, sources, metadata, budgets or redaction.  Its ratio
to one ``pickle.dumps`` of the same locals is a lower bound for tbdump's
"deep within N x of plain pickle" figure.  Medians of 9, in one process.
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
        ways: Dict[str, Callable[[BaseException], Any]] = {"bare walk": bare_walk, "pickle": plain_pickle}
        for name, way in ways.items():
            start = time.perf_counter()
            way(exc)
            times[name].append((time.perf_counter() - start) * 1000)


def main() -> None:
    times: Dict[str, List[float]] = {"bare walk": [], "pickle": []}
    for _ in range(9):
        measure(times)
    walk, plain = (statistics.median(times[k]) for k in ("bare walk", "pickle"))
    print("bare walk %.2f ms, plain pickle %.2f ms: %.1fx" % (walk, plain, walk / plain))


if __name__ == "__main__":
    main()
