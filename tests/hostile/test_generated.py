"""Generated hostile programs (generated.py), a fixed set of seeds: each crashes as under Python,
and its dump loads, reports and is served by tbdap whole.  A longer campaign over other seeds:
``python -m tests.hostile.generated --work DIR --jobs 2 0-299``."""
from __future__ import annotations

from pathlib import Path

import pytest

from .generated import check

# Seed 4 holds a weak proxy whose referent nothing restored keeps alive: tbdap's variables
# request still fails on the dead proxy (an internal error), which tbdump.load gets past.
KNOWN = {4: "tbdap: a dead weak proxy's variables fail with ReferenceError"}
SEEDS = [pytest.param(seed, marks=pytest.mark.xfail(reason=KNOWN[seed], strict=True)) if seed in KNOWN else seed
         for seed in range(24)]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_generated_hostile_program(seed: int, tmp_path: Path) -> None:
    problems = check(seed, tmp_path)
    assert not problems, "seed %d (python -m tests.hostile.generated --print %d):\n%s" % (
        seed, seed, "\n".join(problems))
