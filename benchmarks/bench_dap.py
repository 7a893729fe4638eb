"""tbdap's speed figures (issue 4): spawn to first stackTrace, paging (a big list's items, a big
module's Globals), peak memory, and debugpy live for the ratio.

Run `python benchmarks/bench_dap.py` for a table, or call `run(report)` where
`report(name, value, unit, target)` receives each figure (`target` is the
issue's limit, or None).  Dumps are made in a temporary directory.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "dap"))
from dapclient import DapClient  # noqa: E402

PAGE = 100  # rows VS Code asks for at a time

Report = Callable[[str, float, str, Optional[float]], None]

PROGRAMS: Dict[str, str] = {
    "small": """
        def div(x, y):
            return x / y
        def main():
            values = [1, 2, 3]
            return div(5, 0)
        main()
    """,
    "web": """
        import json
        class Request:
            def __init__(self, environ):
                self.environ = environ
                self.headers = {k[5:]: v for k, v in environ.items() if k.startswith("HTTP_")}
                self.body = json.dumps({"items": list(range(200)), "user": {"id": 7, "roles": ["a"] * 20}})
        def middleware(request, depth):
            state = {"depth": depth, "trace": ["m%d" % i for i in range(depth)]}
            if depth:
                return middleware(request, depth - 1)
            return view(request)
        def view(request):
            payload = json.loads(request.body)
            return payload["missing"]
        environ = {"HTTP_H%d" % i: "v" * 40 for i in range(100)}
        environ.update({"PATH_INFO": "/api/items", "REQUEST_METHOD": "POST"})
        middleware(Request(environ), 30)
    """,
    "bigdata": """
        import numpy as np
        def crunch():
            matrix = np.ones((5000, 2500))                 # 100 MB
            rows = [float(i) for i in range(1000000)]      # ~32 MB of floats + 8 MB list
            table = {i: "value-%d" % i for i in range(400000)}  # ~50 MB
            numbers = list(range(1000000))
            return matrix.sum() / len(table[-1])
        crunch()
    """,
}


# benchmarks/scenarios.py's biglobals: the stack through 40 generated modules of 3 000 globals each,
# which it writes in the working folder; dumped with time enough to capture them all.
BIGLOBALS = """
    import sys
    sys.path.insert(0, %r)
    import biglobals
    biglobals.run_in(".")
""" % str(REPO / "tests" / "dap" / "programs")

# One module of 200 000 globals, all captured: each page of its Globals was built from all of them.
HUGEGLOBALS = """
    names = globals()
    for i in range(200000):
        names["V_%d" % i] = i if i % 2 else "text %d" % i
    def crash():
        raise RuntimeError("in a module of 200 000 globals")
    crash()
"""


def make_dumps(folder: Path) -> Dict[str, Path]:
    return {name: make_dump(folder, name, code) for name, code in PROGRAMS.items()}


def make_dump(folder: Path, name: str, code: str, **env: str) -> Path:
    program = folder / (name + ".py")
    program.write_text(textwrap.dedent(code))
    dump = folder / (name + ".pkl")
    subprocess.run([sys.executable, "-m", "tbdump", "-o", str(dump), str(program)],
                   env=dict(os.environ, PYTHONPATH=str(REPO), **env), cwd=str(folder), capture_output=True,
                   timeout=600)
    if not dump.exists():
        raise RuntimeError("no dump for %s" % name)
    return dump


def globals_pages(dump: Path, starts: List[int]) -> List[float]:
    """Seconds from spawning the adapter to the top frame's first Globals page of PAGE rows, then
    the seconds each page from ``starts`` takes, as VS Code asks them while the user scrolls."""
    started = time.perf_counter()
    client = DapClient.spawn([sys.executable, "-m", "tbdap"], name="tbdap")
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(dump)})
        frame = client.ok("stackTrace", {"threadId": 1, "startFrame": 0, "levels": 20})["stackFrames"][0]
        ref = client.ok("scopes", {"frameId": frame["id"]})["scopes"][1]["variablesReference"]
        times = []
        for start in [0] + starts:
            client.ok("variables", {"variablesReference": ref, "start": start, "count": PAGE})
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
        return times
    finally:
        client.close()


def first_stack_trace(args: List[str], launch: Dict[str, object], name: str) -> float:
    """Seconds from spawning the adapter to the response of the first stackTrace after `stopped`."""
    started = time.perf_counter()
    client = DapClient.spawn(args, name=name)
    try:
        client.initialize()
        stopped = client.start("launch", launch)
        client.ok("stackTrace", {"threadId": stopped["body"]["threadId"], "startFrame": 0, "levels": 20})
        return time.perf_counter() - started
    finally:
        client.close()


def median_ms(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs)) * 1000


def peak_rss_mb(pid: int) -> float:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def paging(dump: Path, report: Report) -> None:
    client = DapClient.spawn([sys.executable, "-m", "tbdap"], name="tbdap")
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(dump)})
        frame = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]
        ref = client.ok("scopes", {"frameId": frame["id"]})["scopes"][0]["variablesReference"]
        rows = {v["name"]: v for v in client.ok("variables", {"variablesReference": ref})["variables"]}
        numbers = rows["numbers"]["variablesReference"]
        timings = []
        for start in (0, 500000, 999900, 250000, 750000):
            t0 = time.perf_counter()
            client.ok("variables", {"variablesReference": numbers, "filter": "indexed", "start": start, "count": 100})
            timings.append((time.perf_counter() - t0) * 1000)
        # tbdap starts unpickling the object layer in the background at the first
        # scopes request; page 0, asked for at once, waits for that load to reach it.
        report("1,000,000 list: first page, asked at once (waits for the object layer) (ms)",
               timings[0], "ms", None)
        report("1,000,000 list: page [500000:500100] (ms)", timings[1], "ms", 20.0)
        report("1,000,000 list: later pages, median (ms)", statistics.median(timings[2:]), "ms", 20.0)
        assert client.proc is not None
        peak = peak_rss_mb(client.proc.pid)
        size_mb = object_size_mb(dump)
        report("bigdata: peak server memory (MB)", peak, "MB", None)
        report("bigdata: dump object size (MB)", size_mb, "MB", None)
        report("bigdata: peak memory / object size", peak / size_mb, "x", 1.5)
        # For comparison: a user who then opens every other value of the frame too.
        for name in ("matrix", "rows", "table"):
            client.ok("evaluate", {"expression": "len(%s)" % name, "frameId": frame["id"], "context": "watch"})
        report("bigdata: peak after opening every local too (MB)", peak_rss_mb(client.proc.pid), "MB", None)
    finally:
        client.close()


def object_size_mb(dump: Path) -> float:
    """The uncompressed size of the dump's object layer (what 'object size' means in the issue)."""
    sys.path.insert(0, str(REPO))
    from tbdump.container import ContainerReader
    reader = ContainerReader(str(dump))
    try:
        data, _ = reader.raw("objects")
        return len(data) / 1e6
    finally:
        reader.close()


def run(report: Report, runs: int = 7) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_dap_") as tmp:
        folder = Path(tmp)
        dumps = make_dumps(folder)
        tbdap = [sys.executable, "-m", "tbdap"]
        results = {}
        for name, dump in dumps.items():
            ms = median_ms(runs if name != "bigdata" else 5,
                           lambda: first_stack_trace(tbdap, {"dumpFile": str(dump)}, "tbdap"))
            results[name] = ms
            report("tbdap spawn -> first stackTrace, %s (%.1f MB dump), median ms"
                   % (name, dump.stat().st_size / 1e6), ms, "ms", 300.0 if name == "bigdata" else 150.0)
        live = median_ms(runs, lambda: first_stack_trace(
            [sys.executable, "-m", "debugpy.adapter"],
            {"program": str(folder / "small.py"), "console": "internalConsole", "cwd": str(folder)}, "debugpy"))
        report("debugpy live spawn -> first stackTrace, small, median ms", live, "ms", None)
        report("ratio debugpy live / tbdap replay (small)", live / results["small"], "x", None)
        paging(dumps["bigdata"], report)
        big = make_dump(folder, "biglobals", BIGLOBALS, TBDUMP_MAX_SECONDS="600")
        globals_paging("biglobals (3 000 globals)", [globals_pages(big, [1000, 2000, 2900, 500])
                                                     for _ in range(runs)], report)
        huge = make_dump(folder, "hugeglobals", HUGEGLOBALS, TBDUMP_MAX_GLOBALS="200000",
                         TBDUMP_MAX_SECONDS="600")
        globals_paging("hugeglobals (200 000 globals)", [globals_pages(huge, [1000, 100000, 199900, 500])
                                                         for _ in range(3)], report)


def globals_paging(name: str, sessions: List[List[float]], report: Report) -> None:
    report("%s: spawn -> first Globals page, median ms" % name,
           statistics.median(s[0] for s in sessions) * 1000, "ms", None)
    report("%s: a later Globals page, median ms" % name,
           statistics.median(t for s in sessions for t in s[1:]) * 1000, "ms", None)


def main() -> None:
    rows = []

    def report(name: str, value: float, unit: str, target: Optional[float]) -> None:
        verdict = "" if target is None else ("ok" if value < target else "OVER %g" % target)
        rows.append((name, value, verdict))
        print("%-70s %10.2f  %s" % (name, value, verdict), flush=True)

    run(report)


if __name__ == "__main__":
    main()
