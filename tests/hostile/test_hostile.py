"""Every hostile case, run once with plain Python and once under tbdump, checked for all properties.

Properties (issue 3): a dump is written; exit status and printed traceback are
byte-identical to plain Python; the dump loads in a fresh process; every local
name of every frame is in the dump (as a value or a placeholder); loading
changed no file and created none.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .cases import CASES
from .harness import base_env, last_dump, load_fresh, run_plain, run_tbdump, snapshot, without_dump_line, write_program


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_hostile_case(case_id: str, tmp_path: Path) -> None:
    case = CASES[case_id]
    env = base_env(**dict(case.env))
    plain_dir, dump_dir = tmp_path / "plain", tmp_path / "tbdump"
    plain_dir.mkdir()
    dump_dir.mkdir()
    # The same path in both runs, so the printed tracebacks can be compared byte for byte.
    plain, expected_frames = run_plain(write_program(plain_dir, case.source), [], env)
    prog = write_program(dump_dir, case.source)
    plain_stderr = plain.stderr.replace(str(plain_dir).encode(), str(dump_dir).encode())
    dumped = run_tbdump(prog, [], env)

    dump = last_dump(dumped.stderr, dump_dir)
    assert dump.is_file(), dumped
    assert dumped.returncode == plain.returncode, (plain, dumped)
    assert without_dump_line(dumped.stderr) == plain_stderr
    assert dumped.stdout == plain.stdout

    before = snapshot(dump_dir)
    loaded, report = load_fresh(dump, dump_dir, env)
    assert report is not None, loaded
    assert snapshot(dump_dir) == before, "loading the dump changed or created files"

    assert expected_frames is not None, plain
    frames = [f for f in report["frames"] if not f["above"]]
    assert [f["name"] for f in frames] == [name for name, _ in expected_frames]
    for frame, (name, expected) in zip(frames, expected_frames):
        missing = sorted(set(expected or ()) - set(frame["vars"]))
        assert not missing, "frame %s lacks locals %s" % (name, missing)
