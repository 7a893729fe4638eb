"""The terminal viewers on a crash whose exception has no frames: a program that does not compile, an
exception never raised."""
from __future__ import annotations

import sys
from pathlib import Path

from .children import run
from .test_tbdebug import tbdebug
from .test_tbpeep import tbpeep

BROKEN = "import os\n\n\ndef total(items):\n    return items +* 2\n\n\nprint(total([1]))\n"

NEVER_RAISED = """\
import tbdump


def report(order):
    tbdump.dump_exception(ValueError("order %r is not valid" % order), "traceback.pkl")


report(42)
"""


def crashed(tmp_path: Path, source: str, *how: str) -> Path:
    """``source`` as prog.py in tmp_path, run as ``python [how...] prog.py``; its dump."""
    (tmp_path / "prog.py").write_text(source)
    run([sys.executable, *how, "prog.py"], tmp_path)
    dump = tmp_path / "traceback.pkl"
    assert dump.exists()
    return dump


def test_tbdebug_shows_where_a_program_that_does_not_compile_fails_and_why_pdb_cannot_open(tmp_path):
    dump = crashed(tmp_path, BROKEN, "-m", "tbdump")
    done = run(tbdebug(dump), tmp_path)
    assert done.returncode == 2
    # Python's report of the error, then the lines around it as pdb's `list` shows them.
    assert 'File "%s", line 5\n    return items +* 2\n' % (tmp_path / "prog.py") in done.stdout
    assert "  4   \tdef total(items):\n  5 >>\t    return items +* 2\n  6   \t\n" in done.stdout
    assert done.stderr == ("tbdebug: %s did not compile, so none of its code ran: there is no frame to "
                           "debug (SyntaxError: invalid syntax, line 5)\n" % (tmp_path / "prog.py"))


def test_tbdebug_opens_an_exception_never_raised_where_dump_exception_was_called(tmp_path):
    # No traceback: the dump holds the stack that called dump_exception(), and pdb opens there.
    done = run(tbdebug(crashed(tmp_path, NEVER_RAISED)), tmp_path, stdin="p order\nup\nq\n")
    assert done.returncode == 0, done.stderr
    assert "-> tbdump.dump_exception(ValueError(\"order %r is not valid\" % order), \"traceback.pkl\")" in done.stdout
    assert "(Pdb) 42\n(Pdb) > " in done.stdout and "<module>()\n-> report(42)" in done.stdout


def test_tbpeep_says_where_the_error_is_instead_of_0_frames(tmp_path, terminal):
    peep = terminal(tbpeep(crashed(tmp_path, BROKEN, "-m", "tbdump")))
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("!crash")
    screen = peep.wait_screen(r"return items \+\* 2\)$").replace("\n", "")
    assert "SyntaxError: invalid syntax (prog.py, line 5)  (no frames: prog.py:5 did not compile  return items +* 2)" \
        in screen
    peep.line("q")
    assert peep.exit_status() == 0


def test_tbpeep_shows_an_exception_never_raised_with_the_frames_that_dumped_it(tmp_path, terminal):
    peep = terminal(tbpeep(crashed(tmp_path, NEVER_RAISED)))
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("!crash")
    assert "ValueError: order 42 is not valid  (2 frames)" in peep.wait_screen(r"frames\)'?$")
    peep.line("q")
    assert peep.exit_status() == 0


def test_the_report_shows_the_syntax_errors_place_as_python_printed_it(tmp_path):
    dump = crashed(tmp_path, BROKEN, "-m", "tbdump")
    done = run([sys.executable, "-m", "tbdump.report", str(dump)], tmp_path)
    printed = run([sys.executable, "prog.py"], tmp_path).stderr
    assert done.returncode == 0 and printed.strip() in done.stdout
