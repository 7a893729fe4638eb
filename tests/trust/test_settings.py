"""Every setting's bad values, given as a user gives them: a crashing program under a TBDUMP_*
variable, or with a bad argument of set_excepthook.  A bad value is said in one line naming the
setting and the value, and the crash is still dumped, its output and status Python's."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

import tbdump
from tbdump.model import Value

from ..conftest import PYTHON, run, write

CRASH = "ZeroDivisionError: division by zero\nTraceback dumped into: traceback.pkl\n"


def _crash(workdir: Path, **env: str) -> str:
    """``python -m tbdump prog.py`` under ``env``, a program that divides by zero holding nested
    lists and a password; its stderr, once its status is checked to be Python's."""
    write(workdir / "prog.py", """
        def f(x):
            nested = [[[["deep"]]]]
            password = "hunter22"
            return 1 / x
        f(0)
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env=env)
    assert proc.returncode == 1, proc.stderr
    return proc.stderr


def _depth(value: Optional[Value]) -> int:
    """The levels of children a preview holds below ``value``."""
    children = value.children if value is not None else None
    return 1 + max(_depth(c.value) for c in children) if children else 0


def _nested_depth(workdir: Path) -> int:
    return _depth(tbdump.load(workdir / "traceback.pkl").frames[-1].variables["nested"])


@pytest.mark.parametrize("value", ["1.5", "2.5", "-1", "two"])
def test_a_count_that_is_not_a_whole_number_is_said_and_its_default_used(workdir: Path, value: str) -> None:
    """TBDUMP_PREVIEW_DEPTH=1.5 was cut to 1 without a word: the previews went one level less
    deep than the default, where the user asked for more."""
    assert _crash(workdir) == CRASH
    default = _nested_depth(workdir)
    assert _crash(workdir, TBDUMP_PREVIEW_DEPTH="1") == CRASH
    assert _nested_depth(workdir) == 1 != default
    stderr = _crash(workdir, TBDUMP_PREVIEW_DEPTH=value)
    assert stderr == ("tbdump: ignoring TBDUMP_PREVIEW_DEPTH=%r: expected a whole number, 0 or more; "
                      "the default (%d) is used\n" % (value, default)) + CRASH
    assert _nested_depth(workdir) == default


def test_a_whole_number_written_as_a_float_is_a_count(workdir: Path) -> None:
    """A guard: the README's TBDUMP_MAX_BYTES=1e9 form is a whole number, taken as one."""
    assert _crash(workdir, TBDUMP_PREVIEW_DEPTH="1e0") == CRASH
    assert _nested_depth(workdir) == 1


@pytest.mark.parametrize("value", [" 0 ", "off\n", "\tno"])
def test_a_setting_is_read_without_the_spaces_around_it(workdir: Path, value: str) -> None:
    """An env file's TBDUMP_REDACT=0 with a space after it was a bad value: said, and redaction
    left on, where numbers (TBDUMP_MAX_BYTES=' 1e9 ') were read without their spaces."""
    assert _crash(workdir, TBDUMP_REDACT=value) == CRASH
    assert tbdump.load(workdir / "traceback.pkl").frames[-1].variables["password"].repr == "'hunter22'"


def test_redaction_patterns_one_per_line_are_read_without_their_indent(workdir: Path) -> None:
    """TBDUMP_REDACT_PATTERNS written one per line in an indented block (YAML, a shell script)
    kept each line's indent: '    Bearer \\S+' missed 'Bearer abc123', a secret left in the dump,
    and the last line, spaces only, hid every value holding four spaces."""
    write(workdir / "prog.py", """
        def f(x):
            greeting = "Bearer abc123"
            note = "two words    apart"
            return 1 / x
        f(0)
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir,
               env={"TBDUMP_REDACT_PATTERNS": "\n    Bearer \\S+\n    "})
    assert (proc.returncode, proc.stderr) == (1, CRASH)
    variables = tbdump.load(workdir / "traceback.pkl").frames[-1].variables
    assert variables["greeting"].redacted and "abc123" not in variables["greeting"].repr
    assert variables["note"].repr == "'two words    apart'"


@pytest.mark.parametrize("name", ["TBDUMP_MAX_SECONDS", "TBDUMP_VALUE_SECONDS"])
def test_a_time_budget_of_any_size_still_dumps_the_crash(workdir: Path, name: str) -> None:
    """TBDUMP_MAX_SECONDS=1e30 (for no limit) lost the crash's dump: 'tbdump: failed to dump
    traceback (OverflowError: timestamp out of range for platform time_t)', after the traceback
    of tbdump's own watchdog thread, as a lock's wait takes no more than _thread.TIMEOUT_MAX."""
    assert _crash(workdir, **{name: "1e30"}) == CRASH
    dump = tbdump.load(workdir / "traceback.pkl")
    assert not dump.metadata.partial and dump.frames[-1].variables["x"].repr == "0"


def test_a_bad_tbdump_debug_is_said_at_any_crash(workdir: Path) -> None:
    """TBDUMP_DEBUG=maybe was read, and said to be bad, only when tbdump itself erred: a user
    who set it to report such an error learnt it had not been read only after it was needed."""
    assert _crash(workdir, TBDUMP_DEBUG="maybe") == (
        "tbdump: ignoring TBDUMP_DEBUG='maybe': expected 1/true/yes/on or 0/false/no/off; "
        "the default (off) is used\n" + CRASH)


def test_bad_budgets_or_options_from_code_are_refused_where_they_are_given(workdir: Path) -> None:
    """Budgets(preview_depth=1.5) or set_excepthook(budgets={...}) were taken without a word: the
    first cut to 1, the second lost the crash's dump (an AttributeError in the hook at the crash)."""
    write(workdir / "prog.py", """
        import tbdump
        from tbdump.budget import Budgets
        for bad in (lambda: Budgets(preview_depth=1.5), lambda: Budgets.from_env(max_seconds=-1),
                    lambda: Budgets(max_string="4096"), lambda: tbdump.set_excepthook(budgets={"max_bytes": 5}),
                    lambda: tbdump.DumpHandler(redaction="off")):
            try:
                bad()
            except (TypeError, ValueError) as exc:
                print(type(exc).__name__, exc)
        tbdump.set_excepthook(budgets=Budgets(max_bytes=1e9))   # a whole number, as TBDUMP_MAX_BYTES takes it
        1 / 0
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.stdout.splitlines() == [
        "ValueError Budgets: preview_depth=1.5: expected a whole number, 0 or more",
        "ValueError Budgets: max_seconds=-1: expected a number of seconds, 0 or more",
        "ValueError Budgets: max_string='4096': expected a whole number, 0 or more",
        "TypeError budgets= takes a tbdump.budget.Budgets or None, not dict",
        "TypeError DumpHandler: redaction= takes a tbdump.redaction.Redaction, a mapping of "
        "Redaction.from_env's keywords or None, not str"]
    assert (proc.returncode, proc.stderr) == (1, CRASH)


def test_a_key_given_as_text_signs_as_tbdump_key_does(workdir: Path) -> None:
    """set_excepthook(key="secret") lost the crash's dump ('tbdump: failed to dump traceback
    (TypeError: key: expected bytes or bytearray, but got 'str')'), where TBDUMP_KEY is text."""
    write(workdir / "prog.py", """
        import tbdump
        tbdump.set_excepthook(key="secret")
        1 / 0
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (1, CRASH)
    dump = workdir / "traceback.pkl"
    assert tbdump.load(dump, key=b"secret").safe_reason is None
    assert tbdump.load(dump, key="secret").safe_reason is None
    assert "does not verify" in str(tbdump.load(dump, key="other").safe_reason)
