"""Where tbdump's time goes: cProfile of one scenario's dump (or load), top functions.

    python benchmarks/profile_dump.py web                # the dump, by cumulative time
    python benchmarks/profile_dump.py web --sort tottime --limit 40
    python benchmarks/profile_dump.py web --load         # tbdump.load + one frame's locals
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import sys
import tempfile
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILER = cProfile.Profile()


def profiled_dump(exc: BaseException, path: str) -> None:
    import measure
    PROFILER.runcall(measure.dump_tbdump, exc, path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--load", action="store_true", help="profile opening the dump instead")
    parser.add_argument("--sort", default="cumulative", choices=sorted(pstats.Stats.sort_arg_dict_default),
                        metavar="KEY", help="pstats sort key (cumulative, tottime, ...)")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--tbdump", default=os.path.dirname(HERE), metavar="DIR",
                        help="the tree whose tbdump package to profile (default: this checkout)")
    args = parser.parse_args(argv)
    sys.path[:0] = [HERE, os.path.abspath(args.tbdump)]
    import measure
    import scenarios
    if args.scenario not in scenarios.SCENARIOS:   # known only now: the module is found through sys.path
        parser.error("unknown scenario %r (choose from %s)" % (args.scenario, ", ".join(sorted(scenarios.SCENARIOS))))
    importlib.import_module(measure.PRELOAD["tbdump"])
    # The dumper sits in the crashing stack, so the dump pickles it: taken from this
    # module by its importable name, it is pickled by reference as measure's own
    # dumpers are. A function of __main__ would be pickled by value, and importing dill
    # for it would show up as a cost that no benchmark run pays.
    import profile_dump
    profiler = profile_dump.PROFILER = cProfile.Profile()
    profiled_dump = profile_dump.profiled_dump

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dump.tbd")
        # The same crash and handler as a benchmark run, so the same frames are captured.
        scenario = scenarios.SCENARIOS[args.scenario]
        result = measure.crash_and_dump(scenario, measure.dump_tbdump if args.load else profiled_dump,
                                        path, expect=False)
        if "error" in result:
            print("the dump failed: %s" % result["error"], file=sys.stderr)
            return 1
        if args.load:
            profiler.runcall(measure.load_tbdump, path, None)
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
