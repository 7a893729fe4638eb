"""``python -m tbdump.report``: the whole chain, nested groups included, with every frame's values."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ..conftest import PYTHON, run, write


def report(workdir: Path, *flags: str) -> str:
    proc = run([PYTHON, "-m", "tbdump.report", *flags, "traceback.pkl"], workdir)
    assert proc.returncode == 0 and proc.stderr == "", proc
    return proc.stdout


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is 3.11+")
def test_nested_group_members_show_their_frames_and_values(workdir: Path) -> None:
    write(workdir / "stock.py", """
        def check(item):
            shelf = item.upper()
            raise LookupError(shelf)

        def audit(items):
            errors = []
            for item in items:
                try:
                    check(item)
                except LookupError as e:
                    errors.append(e)
            return errors

        def main():
            try:
                {}["config"]
            except KeyError:
                raise ExceptionGroup("audit", [ExceptionGroup("shelves", audit(["bolt", "nut"])),
                                               TypeError("count")])
        main()
    """)
    assert run([PYTHON, "-m", "tbdump", "stock.py"], workdir).returncode == 1
    raise_line = (workdir / "stock.py").read_text().splitlines().index("    raise LookupError(shelf)") + 1
    text = report(workdir)
    lines = text.splitlines()
    # The context first, then the group, its members nested as Python nests them.
    assert lines.index("KeyError: 'config'") < lines.index("ExceptionGroup: audit (2 sub-exceptions)")
    assert "During handling of the above exception, another exception occurred:" in lines
    assert "  | ExceptionGroup: shelves (2 sub-exceptions)" in lines
    assert "  | TypeError: count" in lines
    for shelf in ("BOLT", "NUT"):   # members of the inner group: two levels down
        at = lines.index("  |   | LookupError: %s" % shelf)
        frame = max(i for i in range(at) if lines[i].endswith(", in check"))
        assert lines[frame] == '  |   |   File "%s", line %d, in check' % (workdir / "stock.py", raise_line)
        assert "  |   |       shelf = %r (str)" % shelf in lines[frame:at], lines[frame:at]
    assert "\x1b[" not in text                 # plain when not on a terminal
    assert "  | \x1b[1;31mTypeError: count\x1b[0m" in report(workdir, "--color", "always")
