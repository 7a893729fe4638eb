"""Side-by-side benchmark: tbdump vs pydumpling 0.2.0 (default and unlimited) vs plain pickle.

    python benchmarks/run.py [--quick] [--runs N] [--scenarios web,deep] [--tbdump DIR]

Every measurement runs in a fresh process (``measure.py``): a scenario program
crashes and is dumped in its ``except`` block; then fresh processes open the
dump.  Prints medians and tbdump/peer ratios, a line per target of issue 2,
and writes ``results/latest.json`` and ``RESULTS.md``.  tbdump's dumps are
checked for completeness in every run: figures of a dump that dropped data
are reported as failures, not as speed.
"""
from __future__ import annotations

import argparse
import compileall
import datetime
import importlib
import inspect
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import scenarios  # noqa: E402

SCENARIOS = ("small", "web", "deep", "bigdata", "hostile", "biglobals")
PEERS = ("pydumpling", "pydumpling-unlimited", "pickle")
# Opening a dump: which loads each dumper's file gets.
LOADS_OF = {"tbdump": ("tbdump", "tbdump-safe"), "pydumpling": ("pydumpling",),
            "pydumpling-unlimited": ("pydumpling-unlimited",), "pickle": ("pickle",)}
LOAD_LIMIT = 0.100
# A peer whose dump takes this long (pydumpling unlimited on bigdata: 20-50 s) is run
# SLOW_RUNS times only, so that the whole benchmark stays within ~10 minutes.
SLOW_SECONDS = 15.0
SLOW_RUNS = 2
# Other engineers' benchmarks of the viewers; each exposes run() or prints a table.
EXTRA_BENCHMARKS = ("bench_dap", "bench_lsp")

Samples = Dict[str, Dict[str, Dict[str, Any]]]


# -- running the measurements ----------------------------------------------------------------
def _worker(args: List[str], tbdump_dir: str, cwd: str, timeout: float) -> Dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, tbdump_dir]), PYTHONHASHSEED="0")
    for name in [n for n in env if n.startswith("TBDUMP_")]:
        del env[name]  # the defaults are what is measured
    try:
        proc = subprocess.run([sys.executable, "-c", "import measure; measure.main()", *args],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %d s" % timeout}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["exit status %d" % proc.returncode])[-1]
        return {"error": tail[:200]}
    result: Dict[str, Any] = json.loads(lines[-1])
    return result


def compile_sources(tbdump_dir: str) -> None:
    """Byte-compile what the measured processes import, as an installed package is.

    With PYTHONDONTWRITEBYTECODE set (as on these machines), a module edited since
    its .pyc was written would be compiled again in every measured process: some
    10 ms of a fresh-process load that no installed tbdump, and no peer, pays.
    """
    trees = [os.path.join(tbdump_dir, p) for p in ("tbdump", "tbdap", "tblsp")] + [HERE]
    trees += [os.path.dirname(m.__file__) for m in _peer_modules()]
    for tree in trees:
        compileall.compile_dir(tree, quiet=2, maxlevels=0 if tree == HERE else 10)


def _peer_modules() -> List[Any]:
    found = []
    for name in ("pydumpling", "dill"):
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            pass  # a missing peer shows in the table as failed
    return found


def run_all(names: List[str], runs: int, tbdump_dir: str, timeout: float,
            progress: Callable[[str], None]) -> Samples:
    """Repetitions outermost, so drift on the machine spreads over every tool alike.

    The tools take turns at going first, so that none always follows the same one
    (the page cache a dump writes into is readied in measure.py for the same reason).
    """
    tools = ("tbdump",) + PEERS
    samples: Samples = {s: {t: {} for t in tools} for s in names}
    work = tempfile.mkdtemp(prefix="tbdump-bench-")
    started = time.monotonic()
    try:
        for rep in range(runs):
            for scenario in names:
                for tool in tools[rep % len(tools):] + tools[:rep % len(tools)]:
                    if rep >= SLOW_RUNS and _slow(samples[scenario][tool]):
                        continue
                    path = os.path.join(work, "%s.%s.dump" % (scenario, tool))
                    dumped = dict(_worker(["dump", scenario, tool, path], tbdump_dir, work, timeout), rep=rep)
                    _add(samples[scenario][tool], "dump", dumped)
                    if "error" not in dumped:
                        for load in LOADS_OF[tool]:
                            _add(samples[scenario][tool], load,
                                 _worker(["load", load, path], tbdump_dir, work, timeout))
                    for leftover in (path, path + ".expected.json"):
                        if os.path.exists(leftover):
                            os.unlink(leftover)
                    progress("%4.0f s  run %d/%d  %-8s %-21s %s" % (
                        time.monotonic() - started, rep + 1, runs, scenario, tool,
                        _brief(samples[scenario][tool])))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return samples


def _slow(slot: Dict[str, Any]) -> bool:
    return any(d.get("seconds", 0) > SLOW_SECONDS for d in slot.get("dump", []))


def _add(slot: Dict[str, Any], kind: str, result: Dict[str, Any]) -> None:
    slot.setdefault(kind, []).append(result)


def _brief(slot: Dict[str, Any]) -> str:
    last = slot["dump"][-1]
    if "error" in last:
        return "dump failed: " + last["error"]
    return "dump %.3f s" % last["seconds"]


# -- summarising -----------------------------------------------------------------------------
def summarise(samples: Samples) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """Medians per scenario and tool, with errors and completeness problems kept."""
    out: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for scenario, tools in samples.items():
        out[scenario] = {}
        for tool, slot in tools.items():
            dumps = slot.get("dump", [])
            ok = [d for d in dumps if "error" not in d]
            row: Dict[str, Any] = {
                "runs": len(dumps),
                "errors": sorted({d["error"] for d in dumps if "error" in d}),
                "dump_s": _median([d["seconds"] for d in ok]),
                "dump_by_rep": {d["rep"]: d["seconds"] for d in ok},
                "size": _median([d["size"] for d in ok]),
                "mem_growth": _median([d["mem_growth"] for d in ok if d["mem_growth"] is not None]),
            }
            for load in LOADS_OF[tool]:
                results = slot.get(load, [])
                good = [r for r in results if "error" not in r]
                key = "safe_load_s" if load == "tbdump-safe" else "load_s"
                row[key] = _median([r["seconds"] for r in good])
                row["errors"] += sorted({"%s: %s" % (load, r["error"]) for r in results if "error" in r})
                problems = sorted({p for r in good for p in r.get("problems", [])})
                if problems:
                    row.setdefault("problems", []).extend("%s: %s" % (load, p) for p in problems)
                frames = [r["scenario_frames"] for r in good if "scenario_frames" in r]
                if frames:
                    row["scenario_frames"] = min(frames)
            row["complete"] = bool(ok) and not row["errors"] and not row.get("problems")
            out[scenario][tool] = row
    return out


def _median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


# -- targets (issue 2, "Speed") ----------------------------------------------------------------
def checks(summary: Dict[str, Dict[str, Dict[str, Any]]]) -> List[Tuple[str, Optional[bool], str]]:
    """(target, met? (None: the runs disagree), the figures that decide it)."""
    out: List[Tuple[str, Optional[bool], str]] = []

    def row(s: str, t: str) -> Optional[Dict[str, Any]]:
        return summary.get(s, {}).get(t)

    def complete(s: str) -> bool:
        r = row(s, "tbdump")
        return bool(r and r["complete"])

    web, web_peer = row("web", "tbdump"), row("web", "pydumpling-unlimited")
    if web and web_peer:
        speedup = _ratio(web_peer["dump_s"], web["dump_s"])
        met, spread = _steady(web, web_peer, complete("web"), lambda tb, peer: peer / tb >= 10)
        out.append(("web: dump >= 10x faster than pydumpling unlimited", met,
                    "%s faster (%s vs %s)%s%s" % (_x(speedup), _ms(web["dump_s"]), _ms(web_peer["dump_s"]),
                                                  spread, _incomplete(web))))
    deep, deep_pickle = row("deep", "tbdump"), row("deep", "pickle")
    if deep and deep_pickle:
        frames = deep.get("scenario_frames")
        want = scenarios.DEEP_FRAMES + 1  # the 900 recursive frames and deep() itself
        slower = _ratio(deep["dump_s"], deep_pickle["dump_s"])
        met, spread = _steady(deep, deep_pickle, complete("deep") and frames == want,
                              lambda tb, peer: tb / peer <= 3)
        out.append(("deep: all 900 frames, dump within 3x of plain pickle", met,
                    "%s/%d frames, %s plain pickle's time (%s vs %s)%s%s" % (
                        frames, want, _x(slower), _ms(deep["dump_s"]), _ms(deep_pickle["dump_s"]),
                        spread, _incomplete(deep))))
    big, big_pickle = row("bigdata", "tbdump"), row("bigdata", "pickle")
    if big and big_pickle:
        slower = _ratio(big["dump_s"], big_pickle["dump_s"])
        data = big_pickle["size"]  # what the data weighs, pickled plainly
        share = _ratio(big["mem_growth"], data)
        met, spread = _steady(big, big_pickle, complete("bigdata"), lambda tb, peer: tb / peer <= 2)
        out.append(("bigdata: dump within 2x of plain pickle", met,
                    "%s plain pickle's time (%s vs %s)%s%s" % (_x(slower), _ms(big["dump_s"]),
                                                              _ms(big_pickle["dump_s"]), spread,
                                                              _incomplete(big))))
        out.append(("bigdata: writer memory growth < 1/4 of the data size",
                    complete("bigdata") and share is not None and share < 0.25,
                    "%s of %s (%.2f)%s" % (_mb(big["mem_growth"]), _mb(data), share or 0,
                                            _incomplete(big))))
    for scenario in summary:
        r = row(scenario, "tbdump")
        if not r:
            continue
        full = r.get("load_s")
        safe = r.get("safe_load_s")
        if scenario == "bigdata":
            ok = safe is not None and safe < LOAD_LIMIT
            text = "safe layer %s (object layer %s, exempt)" % (_ms(safe), _ms(full))
        else:
            ok = full is not None and full < LOAD_LIMIT
            text = "load + one frame's locals %s (safe layer only %s)" % (_ms(full), _ms(safe))
        out.append(("%s: fresh-process load < 100 ms" % scenario, ok and r["complete"],
                    text + _incomplete(r)))
    return out


def _steady(tb: Dict[str, Any], peer: Dict[str, Any], complete: bool,
            meets: Callable[[float, float], bool]) -> Tuple[Optional[bool], str]:
    """Whether the medians' dump times meet a target, or None when the repetitions
    disagree (each repetition pairs the two tools' runs, made a few seconds apart).
    On a VM a 200 MB write alone can take 50 ms or 500 ms, and a median of five is then
    a coin toss.  An incomplete dump never meets a target.
    """
    if not complete or tb["dump_s"] is None or peer["dump_s"] is None:
        return False, ""
    median_met = meets(tb["dump_s"], peer["dump_s"])
    reps = sorted(set(tb["dump_by_rep"]) & set(peer["dump_by_rep"]))
    verdicts = [meets(tb["dump_by_rep"][r], peer["dump_by_rep"][r]) for r in reps]
    if all(v == median_met for v in verdicts):
        return median_met, ""
    ratios = ", ".join("%.2f" % (tb["dump_by_rep"][r] / peer["dump_by_rep"][r]) for r in reps)
    return None, "; the repetitions disagree (tbdump/peer %s), the medians %s" % (
        ratios, "meet it" if median_met else "do not")


def _incomplete(row: Dict[str, Any]) -> str:
    if row["complete"]:
        return ""
    why = (row["errors"] + row.get("problems", []))[:2]
    return "; INCOMPLETE DUMP: " + " | ".join(why)


# -- formatting --------------------------------------------------------------------------------
def _ms(s: Optional[float]) -> str:
    if s is None:
        return "-"
    return "%.0f ms" % (s * 1000) if s >= 0.0995 else "%.1f ms" % (s * 1000)


def _mb(n: Optional[float]) -> str:
    if n is None:
        return "-"
    return "%.1f MB" % (n / 1e6) if n >= 1e5 else "%.1f KB" % (n / 1e3)


def _x(r: Optional[float]) -> str:
    return "-" if r is None else ("%.2fx" % r if r < 10 else "%.0fx" % r)


def table(summary: Dict[str, Dict[str, Dict[str, Any]]]) -> str:
    """Medians per scenario and tool; ``tb/x`` is tbdump's figure divided by that peer's."""
    head = ["scenario", "tool", "n", "dump", "tb/x", "size", "tb/x", "load+locals", "tb/x",
            "safe open", "writer mem", "tb/x", "complete"]
    rows = [head]
    for scenario, tools in summary.items():
        tb = tools["tbdump"]
        for tool, r in tools.items():
            peer = tool != "tbdump"
            failed = bool(r["runs"]) and r["dump_s"] is None
            rows.append([
                scenario, tool, str(r["runs"]),
                "FAILED" if failed else _ms(r["dump_s"]),
                _x(_ratio(tb["dump_s"], r["dump_s"])) if peer else "",
                _mb(r["size"]), _x(_ratio(tb["size"], r["size"])) if peer else "",
                _ms(r.get("load_s")), _x(_ratio(tb.get("load_s"), r.get("load_s"))) if peer else "",
                _ms(r.get("safe_load_s")) if not peer else "",
                _mb(r["mem_growth"]), _x(_ratio(tb["mem_growth"], r["mem_growth"])) if peer else "",
                "yes" if r["complete"] else ("no" if not failed else "-"),
            ])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def notes(summary: Dict[str, Dict[str, Dict[str, Any]]]) -> List[str]:
    """Why a figure is missing or a dump incomplete, one line each."""
    out = []
    for scenario, tools in summary.items():
        for tool, r in tools.items():
            for text in r["errors"] + r.get("problems", []):
                out.append("%s / %s: %s" % (scenario, tool, text))
    return out


def check_lines(results: List[Tuple[str, Optional[bool], str]]) -> List[str]:
    return ["%-5s %s: %s" % ("NOISY" if ok is None else "MET" if ok else "MISS", name, text)
            for name, ok, text in results]


# -- the viewers' benchmarks (bench_dap.py, bench_lsp.py), when present ------------------------
def run_extras(runs: int, quick: bool, progress: Callable[[str], None]) -> Dict[str, Any]:
    """Each extra module's figures: via ``run(report)`` (bench_dap's interface), a plain
    ``run()`` returning a table or JSON-able data, or else the table its script prints."""
    out: Dict[str, Any] = {}
    for name in EXTRA_BENCHMARKS:
        if not os.path.exists(os.path.join(HERE, name + ".py")):
            continue
        progress("running %s" % name)
        try:
            module = importlib.import_module(name)
            fn = getattr(module, "run", None)
            if callable(fn):
                params = inspect.signature(fn).parameters
                kwargs: Dict[str, Any] = {}
                if "runs" in params:
                    kwargs["runs"] = runs
                if "quick" in params:
                    kwargs["quick"] = quick
                rows: List[Dict[str, Any]] = []
                if "report" in params:
                    kwargs["report"] = lambda figure, value, unit, target: rows.append(
                        {"figure": figure, "value": value, "unit": unit, "target": target})
                returned = fn(**kwargs)
                out[name] = rows if "report" in params else returned
            else:
                proc = subprocess.run([sys.executable, os.path.join(HERE, name + ".py")],
                                      capture_output=True, text=True, timeout=600, cwd=ROOT)
                out[name] = proc.stdout if proc.returncode == 0 else "failed: %s" % (
                    proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
        except Exception as exc:  # one broken extra must not cost the main figures
            out[name] = "failed: %s: %s" % (type(exc).__name__, exc)
    return out


def _extra_text(value: Any) -> str:
    """A table for reported figures; strings (printed tables) as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(r, dict) and "figure" in r for r in value):
        lines = []
        for r in value:
            target = r["target"]
            verdict = "" if target is None else ("MET  < %g" % target if r["value"] < target
                                                 else "MISS < %g" % target)
            lines.append("%-72s %10.2f %-3s %s" % (r["figure"], r["value"], r["unit"], verdict))
        return "\n".join(lines)
    return json.dumps(value, indent=2, default=str)


# -- the machine and the code measured ---------------------------------------------------------
def machine() -> Dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"host": platform.node(), "platform": platform.platform(), "cpu": cpu,
            "cpus": os.cpu_count(), "python": sys.version.split()[0]}


def versions(tbdump_dir: str) -> Dict[str, str]:
    out = {"tbdump_dir": tbdump_dir}
    try:
        rev = subprocess.run(["git", "-C", tbdump_dir, "describe", "--always"],
                             capture_output=True, text=True, timeout=10)
        # Changed measured code, not this benchmark's own results, makes a run "dirty".
        changed = subprocess.run(["git", "-C", tbdump_dir, "diff", "--quiet", "HEAD", "--",
                                  "tbdump", "tbdap", "tblsp"], timeout=10).returncode != 0
        out["tbdump_git"] = (rev.stdout.strip() or "?") + ("-dirty" if changed else "")
    except OSError:
        out["tbdump_git"] = "?"
    for dist in ("pydumpling", "dill", "numpy"):
        try:
            from importlib import metadata
            out[dist] = metadata.version(dist)
        except Exception:
            out[dist] = "not installed"
    return out


def markdown(report: Dict[str, Any]) -> str:
    m, v = report["machine"], report["versions"]
    parts = [
        "# tbdump benchmark results",
        "",
        "Written by `python benchmarks/run.py%s` on %s: %s, %s (%s CPUs), Python %s." % (
            report["argv"], report["date"], m["host"], m["cpu"], m["cpus"], m["python"]),
        "tbdump %s (%s); pydumpling %s, dill %s, numpy %s. Medians of %d runs, each measurement "
        "in a fresh process; %.0f s in all." % (
            v["tbdump_git"], v["tbdump_dir"], v["pydumpling"], v["dill"], v["numpy"],
            report["runs"], report["seconds"]),
        "",
        "`tb/x` is tbdump's figure divided by that row's (below 1: tbdump is smaller or "
        "faster). `load+locals`: a fresh process imports the reader, opens the file and reads "
        "the crashing frame's locals (interpreter start-up excluded); `safe open`: "
        "`tbdump.load(path, objects=False)` and the frame's previews. `writer mem`: peak "
        "resident size during the dump over the size just before it. Before a bigdata dump, "
        "the measuring process writes and deletes as much as the dump writes, for every tool "
        "alike: on a VM, a 200 MB write into memory left free for a few seconds took 450 ms "
        "instead of 40 ms, whichever tool met it.",
        "",
        "```", report["table"], "```", "",
        "## Targets (issue 2)", "",
        "A dump-time target is NOISY when the repetitions disagree on it: in some, tbdump's "
        "run and the peer's meet it, in others they do not. The tools take turns at going "
        "first in each repetition.", "",
        "```", *report["checks"], "```",
    ]
    if report["notes"]:
        parts += ["", "## Failures and incomplete dumps", ""] + ["- " + n for n in report["notes"]]
    for name, value in report["extras"].items():
        parts += ["", "## %s" % name, "", "```", _extra_text(value).rstrip(), "```"]
    return "\n".join(parts) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 5")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 5)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated subset of: %s" % ", ".join(SCENARIOS))
    parser.add_argument("--tbdump", default=ROOT, metavar="DIR",
                        help="the tree whose tbdump to measure (default: this checkout)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per process")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the viewers' benchmarks (%s)" % ", ".join(EXTRA_BENCHMARKS))
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave results/latest.json and RESULTS.md alone")
    args = parser.parse_args(argv)
    names = [s for s in args.scenarios.split(",") if s]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error("unknown scenario(s): %s" % ", ".join(unknown))
    runs = args.runs or (2 if args.quick else 5)
    tbdump_dir = os.path.abspath(args.tbdump)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    compile_sources(tbdump_dir)
    summary = summarise(run_all(names, runs, tbdump_dir, args.timeout, progress))
    extras = {} if args.no_extras else run_extras(runs, args.quick, progress)
    report: Dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "argv": "".join(" " + a for a in (argv if argv is not None else sys.argv[1:])),
        "machine": machine(), "versions": versions(tbdump_dir), "runs": runs,
        "seconds": time.monotonic() - started, "summary": summary,
        "table": table(summary), "checks": check_lines(checks(summary)),
        "notes": notes(summary), "extras": extras,
    }
    print(report["table"])
    print()
    print("\n".join(report["checks"]))
    if report["notes"]:
        print("\n" + "\n".join(report["notes"]))
    for name, value in extras.items():
        print("\n== %s ==\n%s" % (name, _extra_text(value).rstrip()))
    if not args.no_write:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "latest.json"), "w") as fh:
            json.dump(report, fh, indent=2, default=str)
        with open(os.path.join(HERE, "RESULTS.md"), "w") as fh:
            fh.write(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
