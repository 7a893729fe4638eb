"""Budgets hold against blocking and huge values: the dump is written, marked partial, in time."""
from __future__ import annotations

from pathlib import Path

from ..hostile.harness import base_env, load_fresh, run_tbdump, write_program

MARGIN = 2.5  # seconds for interpreter start, imports and writing


def test_repr_that_sleeps_10s_is_cut_by_the_time_budget(tmp_path: Path) -> None:
    prog = write_program(tmp_path, '''
        import time
        class Sleepy:
            def __repr__(self):
                time.sleep(10)
                return "awake"
        def f():
            sleepers = [Sleepy() for _ in range(5)]
            first = sleepers[0]; later = "captured or cut, never lost"
            raise RuntimeError("sleepy")
        f()
    ''')
    budget = 2.0
    env = base_env(TBDUMP_MAX_SECONDS=str(budget), TBDUMP_VALUE_SECONDS="0.5")
    result = run_tbdump(prog, [], env)
    assert result.returncode == 1, result
    assert result.seconds < budget + MARGIN, result
    loaded, report = load_fresh(tmp_path / "traceback.pkl", tmp_path, env)
    assert report is not None, loaded
    assert report["partial"] is True and report["cut"], report
    frame = report["frames"][-1]
    assert {"sleepers", "first", "later"} <= set(frame["vars"])
    assert frame["resolved"]["first"][1] is True  # a placeholder saying what cut it


def test_byte_budget_cuts_what_does_not_fit_and_says_so(tmp_path: Path) -> None:
    # The 2 GB scenario, scaled down: a 64 MB array against a 16 MB budget.
    prog = write_program(tmp_path, '''
        def f():
            small = list(range(100))
            big = bytearray(64 << 20)
            raise MemoryError("big")
        f()
    ''')
    env = base_env(TBDUMP_MAX_BYTES=str(16 << 20))
    result = run_tbdump(prog, [], env)
    assert result.returncode == 1, result
    assert (tmp_path / "traceback.pkl").stat().st_size < 20 << 20
    loaded, report = load_fresh(tmp_path / "traceback.pkl", tmp_path, env)
    assert report is not None, loaded
    assert report["partial"] is True
    assert any("byte budget" in line for line in report["cut"]), report["cut"]
    frame = report["frames"][-1]
    assert frame["resolved"]["big"] == ["Placeholder", True]
    assert frame["resolved"]["small"] == ["list", False]
