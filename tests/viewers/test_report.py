"""`python -m tbdump.report` as a terminal viewer: what its colours leave on a terminal."""
from __future__ import annotations

import re
import sys

from .children import run


def test_each_coloured_line_closes_its_colour(crash, tmp_path):
    """A line taken alone (`| head -1`, grep) leaves the terminal as it found it: the title, the
    section heads and the notes closed their colour only on the next line, so `head -1` of a
    coloured report left the terminal bold."""
    dump = crash("worker.py")   # a crash in a thread: the report also lists the other threads
    done = run([sys.executable, "-m", "tbdump.report", "--color", "always", str(dump)], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for line in lines:
        codes = re.findall(r"\x1b\[([\d;]*)m", line)
        assert codes.count("0") * 2 == len(codes) and codes[-1:] in ([], ["0"]), repr(line)
    assert lines[0].startswith("\x1b[1mtbdump report of ") and "\x1b[1mOther threads\x1b[0m" in lines
