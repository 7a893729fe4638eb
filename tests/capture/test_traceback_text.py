"""``Dump.traceback_text`` reads exactly as the writing Python printed the crash.

Each program crashes under ``python -m tbdump -t``, which prints Python's own
traceback before its "Traceback dumped into" line; the dump, opened here, must
render the same text.  Python 3.11/3.12 print with pythonrun.c, 3.13 with the
traceback module, and the two differ (which group member shows a context the
members share, the margins of a member's multi-line message, the carets), so
the writers run under those interpreters too, with the venvs of the
cross-version suite.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import pytest

import tbdump
from ..conftest import PYTHON, rewrite_safe_layer
from ..hostile.harness import run_tbdump, without_dump_line, write_program
from ..trust.test_xversion import _env, _venv

WRITERS = {"3.9": "3.9.18", "3.10": "3.10.13", "3.12": "3.12.1", "3.13": "3.13.0"}


def python(writer: str) -> str:
    """This venv's Python for 3.11 (the suite's own), else a cached venv with dill."""
    return PYTHON if writer == "3.11" else str(_venv(WRITERS[writer]))


def crash(workdir: Path, writer: str, source: str, env: Optional[Dict[str, str]] = None,
          args: Sequence[str] = (), **modules: str) -> Tuple[str, tbdump.Dump]:
    """Python's printed traceback of ``source`` run by ``writer`` under tbdump (with program
    arguments ``args``), and the dump."""
    for name, text in modules.items():
        write_program(workdir, text, name + ".py")
    prog = write_program(workdir, source, "main.py")
    proc = run_tbdump(prog, list(args), dict(_env(), **(env or {})), python=python(writer))
    assert proc.returncode == 1, proc
    printed = without_dump_line(proc.stderr).decode("utf-8")
    return printed, tbdump.load(workdir / "traceback.pkl", objects=False)


def assert_same(printed: str, dump: tbdump.Dump) -> None:
    assert dump.traceback_text == printed, "dumped:\n%s\nprinted:\n%s" % (dump.traceback_text, printed)


# Groups nested in a group, members chained to their causes, notes; the inner
# groups share the context of the KeyError (3.11/3.12 show it in the first
# member, 3.13 in the last); a member's message has two lines; a whole-line
# subscript gets its carets in 3.11/3.12 too.
GROUPS = """
    def check(field, text):
        try:
            return int(text)
        except ValueError as e:
            raise TypeError("field %s is not a number" % field) from e

    def validate(record):
        errors = []
        for field, text in record.items():
            if text.isdigit():
                continue
            try:
                check(field, text)
            except TypeError as e:
                e.add_note("in record %r" % record["name"])
                errors.append(e)
        if errors:
            raise ExceptionGroup("validation failed", errors)

    def main(records):
        failures = []
        try:
            {}["config"]
        except KeyError:
            for record in records:
                try:
                    validate(record)
                except ExceptionGroup as group:
                    failures.append(group)
        raise ExceptionGroup("import failed", failures + [OSError("disk\\nfull")])

    main([{"name": "bolt", "qty": "x"}, {"name": "nut", "qty": "2", "size": "m4"}])
"""


# 18 members (15 shown, "and 3 more exceptions"), the first nested 12 deep ("... (max_group_depth is 10)").
LIMITS = """
    def fail(i):
        raise ValueError("item %d" % i)

    def collect(count):
        errors = []
        for i in range(count):
            try:
                fail(i)
            except ValueError as e:
                errors.append(e)
        return errors

    def nest(level):
        if level == 0:
            return ExceptionGroup("bottom", collect(2))
        return ExceptionGroup("level %d" % level, [nest(level - 1), KeyError(level)])

    raise ExceptionGroup("wide and deep", [nest(11)] + collect(17))
"""


# Two tasks fail in the same step of the loop (so both, every time), one raised from a KeyError.
TASK_GROUP = """
    import asyncio

    async def fetch(n):
        if n == 1:
            raise ValueError("bad item %d" % n)
        if n == 2:
            try:
                {}["missing"]
            except KeyError as e:
                raise TypeError("wrapped") from e
        await asyncio.sleep(10)

    async def main():
        async with asyncio.TaskGroup() as tg:
            for n in range(4):
                tg.create_task(fetch(n))

    asyncio.run(main())
"""


# pythonrun.c (3.11, 3.12) writes a SyntaxError's line and carets without the group margin.
COMPILED = """
    errors = []
    for source in ("total = = 1", "if True:\\n\\tprint('a' +)"):
        try:
            compile(source, "<rule>", "exec")
        except SyntaxError as e:
            errors.append(e)
    raise ExceptionGroup("bad rules", errors)
"""


# Before 3.11, pythonrun.c named the classes of __main__ with their module.
CUSTOM_TYPE = """
    class ConfigError(Exception):
        class Missing(LookupError):
            pass

    try:
        raise ConfigError.Missing("no key")
    except LookupError as e:
        raise ConfigError("bad config") from e
"""


# An operator after non-ASCII text on its line, its left operand parenthesized too: 3.11 and 3.12
# put ^ under the operator (the dump's carets were one to the right for each such character).
ACCENTED = """
    prices = {"café": 3.5, "thé": 0}
    try:
        ratio = prices["café"] / prices["thé"]
    except ZeroDivisionError:
        label = ("thé" + "☃")  +  1
"""


# An expression that goes on to the next line, after non-ASCII text: 3.11 and 3.12 end the carets
# of its first line short by one character for each (the dump's went to its end), and mark one
# that is the whole line (the dump's had no carets).
ACCENTED_LINES = """
    def label(name):
        return ("é" + name +
                1)

    try:
        label("thé")
    except TypeError:
        "é" + (
            1)
"""


# A program, the writers that run it, and what their printout holds (so the case is the one named).
CASES = {
    "nested groups, chained members, notes": (GROUPS, ("3.11", "3.12", "3.13"), (
        "  +-+---------------- 1 ----------------", "    | The above exception was the direct cause")),
    "group width and depth limits": (LIMITS, ("3.11", "3.13"), (
        "and 3 more exceptions", "... (max_group_depth is 10)")),
    "asyncio.TaskGroup": (TASK_GROUP, ("3.11", "3.13"), ("TaskGroup (2 sub-exceptions)",)),
    "SyntaxErrors of compile() in a group": (COMPILED, ("3.11", "3.13"), ("    | SyntaxError: invalid syntax",)),
    "__main__'s types before 3.11": (CUSTOM_TYPE, ("3.9", "3.10"), ("__main__.ConfigError.Missing: no key",)),
    "an operator after non-ASCII text": (ACCENTED, ("3.11", "3.12"), (
        '    ratio = prices["café"] / prices["thé"]\n            ~~~~~~~~~~~~~~~^~~~~~~~~~~~~~',)),
    "an expression going on after non-ASCII text": (ACCENTED_LINES, ("3.11", "3.12"), (
        '    return ("é" + name +\n            ^^^^^^^^^^^\n', '    "é" + (\n    ^^^^^^\n')),
}


@pytest.mark.parametrize("case, writer", [(case, writer) for case, (_, writers, _) in CASES.items()
                                          for writer in writers])
def test_rendered_as_python_printed_it(workdir: Path, case: str, writer: str) -> None:
    source, _, expected = CASES[case]
    printed, dump = crash(workdir, writer, source)
    for text in expected:
        assert text in printed, text
    assert_same(printed, dump)


# 3.13's carets: ~~~~^^ under a call, none under `return f(...)` or `x = f(...)`
# (the whole statement), every line of a multi-line expression.
CARETS = """
    def walk(node, depth):
        if depth == 0:
            return node["children"][depth] + 1
        return walk(node, depth - 1)

    def parse(text):
        value = int(text)
        return value

    def total(a, b):
        return (a
                + b)

    def main():
        tree = {"children": ["leaf"]}
        try:
            walk(tree, 2)
        except TypeError:
            try:
                parse("abc")
            except ValueError:
                result = total(1,
                               None)

    main()
"""


def test_carets_of_python_3_13(workdir: Path) -> None:
    printed, dump = crash(workdir, "3.13", CARETS)
    for shown in ("    main()\n    ~~~~^^\n", "    return walk(node, depth - 1)\n  File",
                  "    value = int(text)\nValueError", "    result = total(1,\n                   None)\n  File",
                  "    return (a\n            ~\n            + b)\n            ^~~\n"):
        assert shown in printed, shown
    assert_same(printed, dump)


SETTINGS = """
    DEBUG = True
    x = = 1
"""

LOAD_SETTINGS = """
    def load():
        import settings
        return settings

    config = load()
"""


@pytest.mark.parametrize("writer", ["3.9", "3.11", "3.13"])
def test_syntax_error_raised_by_an_import(workdir: Path, writer: str) -> None:
    printed, dump = crash(workdir, writer, LOAD_SETTINGS, settings=SETTINGS)
    assert '  File "%s", line 2\n    x = = 1\n' % (workdir / "settings.py") in printed
    assert_same(printed, dump)
    source = dump.sources[str(workdir / "settings.py")]   # the bad file is in the dump
    assert source.text == (workdir / "settings.py").read_text()


def test_syntax_detail_is_optional_and_checked(workdir: Path) -> None:
    """A dump from before the field renders the SyntaxError as any exception; a bad field is damage."""
    crash(workdir, "3.11", LOAD_SETTINGS, settings=SETTINGS)

    def drop(safe: Dict[str, Any]) -> None:
        del safe["exceptions"][0]["syntax"]

    def spoil(safe: Dict[str, Any]) -> None:
        safe["exceptions"][0]["syntax"]["line"] = "2"

    older = rewrite_safe_layer(workdir / "traceback.pkl", workdir / "older.pkl", drop)
    text = tbdump.load(older, objects=False).traceback_text
    assert text.endswith("\nSyntaxError: invalid syntax (settings.py, line 2)\n"), text
    with pytest.raises(tbdump.DumpError):
        tbdump.load(rewrite_safe_layer(workdir / "traceback.pkl", workdir / "bad.pkl", spoil), objects=False)


# `raise X from e` in the handler of e, and `raise X from None`: X.__context__ is the handled
# exception all the same, with __suppress_context__ set, so Python prints no "During handling".
SUPPRESSED = """
    class ConfigError(Exception):
        pass

    def port(text):
        try:
            return int(text)
        except ValueError:
            raise ConfigError("bad port") from None

    def lookup(name):
        try:
            return {}[name]
        except KeyError as e:
            raise ConfigError("no " + name) from e

    try:
        port("80a")
    except ConfigError:
        lookup("host")
"""


def test_a_suppressed_context_is_kept_as_the_live_exception_has_it(workdir: Path) -> None:
    printed, dump = crash(workdir, "3.11", SUPPRESSED)
    assert printed.count("During handling") == printed.count("direct cause") == 1 and "ValueError" not in printed
    assert_same(printed, dump)
    raised = dump.exception
    assert (raised.message, raised.suppress_context) == ("no host", True)
    assert raised.cause is not None and raised.context == raised.cause          # `from e`
    key_error = dump.exceptions[raised.cause]
    bad_port = dump.exceptions[key_error.context]
    assert (bad_port.message, bad_port.suppress_context) == ("bad port", True)
    hidden = dump.exceptions[bad_port.context]                                    # `from None`
    assert hidden.type == "ValueError" and [f.name for f in hidden.frames] == ["port"]
    assert "(suppressed)" in repr(bad_port)
    # On file "context" stays null where suppressed, as format 1 always said: a reader that
    # follows it (any older tbdump) prints the chain as Python did.  Dumps from before the
    # field have no suppressed context, and read as they always did.
    on_file: list = []

    def older_dump(tree: Dict[str, Any]) -> None:
        for record in tree["exceptions"]:
            on_file.append((record["context"], record["suppress"], record.pop("suppressed_context", None)))

    older = tbdump.load(rewrite_safe_layer(workdir / "traceback.pkl", workdir / "older.pkl", older_dump),
                        objects=False)
    assert (None, True, raised.context) in on_file and (None, True, bad_port.context) in on_file
    assert older.exception.context is None and older.traceback_text == printed


def test_syntax_error_text_is_redacted_as_messages_are(workdir: Path) -> None:
    printed, dump = crash(workdir, "3.11", """
        compile('key = "sk_live_4f9a2b" +\\n', "<rule>", "exec")
    """, env={"TBDUMP_REDACT_PATTERNS": r"sk_live_\w+"})
    where = '  File "<rule>", line 1\n'
    assert "sk_live_4f9a2b" in printed.partition(where)[2]   # Python's own printout is what it is
    text = dump.traceback_text.partition(where)[2]
    assert "sk_live_4f9a2b" not in text and text.startswith("    <redacted: "), text


def test_a_secret_in_the_syntax_errors_text_is_hidden_as_everywhere(workdir: Path) -> None:
    printed, dump = crash(workdir, "3.11", """
        password = "hunter2-correct-horse"
        compile('login("%s" +\\n' % password, "<config>", "exec")
    """)
    assert "hunter2-correct-horse" in printed
    assert "hunter2-correct-horse" not in dump.traceback_text
    assert '    login("<redacted>" +' in dump.traceback_text, dump.traceback_text


SUGGESTIONS = """
    import sys

    class Cart:
        def __init__(self):
            self.items = []

    def spend(kind, total):
        count = len(total)
        if kind == "name":
            return cout
        if kind == "module":
            return json.dumps(count)
        if kind == "attribute":
            return Cart().itemz
        if kind == "subclass":   # 3.12 offers no hint to a subclass, 3.13 does
            class Missing(NameError):
                pass
            raise Missing("name 'cout' is not defined", name="cout")
        from os import pathh

    spend(sys.argv[1], [1, 2])
"""


# Which Pythons print a hint for each kind: 3.10 and 3.11 only for the exact NameError and
# AttributeError (in C), 3.12 adds ImportError and the forgotten import, 3.13 subclasses.
HINTED_FROM = {"name": "3.10", "attribute": "3.10", "module": "3.12", "import": "3.12", "subclass": "3.13"}


@pytest.mark.parametrize("writer", ["3.10", "3.11", "3.12", "3.13"])
@pytest.mark.parametrize("kind", ["name", "module", "attribute", "import", "subclass"])
def test_did_you_mean_as_python_printed_it(workdir: Path, writer: str, kind: str) -> None:
    """Python prints a suggestion after a misspelt name's message; it comes from the crashed
    process's names (the frame's, the object's, the module's), so the dump keeps it."""
    printed, dump = crash(workdir, writer, SUGGESTIONS, args=[kind])
    hinted = tuple(map(int, writer.split("."))) >= tuple(map(int, HINTED_FROM[kind].split(".")))
    assert ("Did you " in printed.splitlines()[-1]) == hinted, printed
    assert_same(printed, dump)


@pytest.mark.parametrize("writer", ["3.11", "3.13"])
def test_notes_that_are_not_strings_print_as_python_printed_them(workdir: Path, writer: str) -> None:
    printed, dump = crash(workdir, writer, """
        class Ticket:
            def __str__(self):
                return "see ticket OPS-42"
        class Broken:
            def __str__(self):
                raise RuntimeError("no text")
        error = ValueError("deploy failed")
        error.__notes__ = ["retried twice", Ticket(), 42, Broken(), "token tok_9f8e7d6c5b"]
        raise error
    """, env={"TBDUMP_REDACT_PATTERNS": r"tok_\w+"})
    assert "see ticket OPS-42\n42\n<note str() failed>\n" in printed
    expected = printed.replace("token tok_9f8e7d6c5b", "<redacted: value matches /tok_\\w+/>")
    assert dump.traceback_text == expected, dump.traceback_text


@pytest.mark.parametrize("writer", ["3.9", "3.10", "3.11"])
def test_notes_before_311_are_shown_as_311_shows_them(workdir: Path, writer: str) -> None:
    """Python prints notes from 3.11 on, but exceptions have them before too: exceptiongroup's
    add_note() (which prints them), and the failed example of a doctest, which tbdump's pytest
    plugin notes as the test is dumped (what was expected, what it got).  On 3.9 and 3.10 they
    were in the dump, yet neither after the crash's line nor in the dump's text.  (3.11: a guard.)"""
    prog = write_program(workdir, """
        def half(n):
            error = AssertionError("half(4) is wrong")
            error.__notes__ = ["Failed example:\\n    half(4)", "Expected:\\n    3\\nGot:\\n    2"]
            raise error
        half(4)
    """, "main.py")
    proc = run_tbdump(prog, [], _env(), python=python(writer), traceback=False)
    shown = "AssertionError: half(4) is wrong\nFailed example:\n    half(4)\nExpected:\n    3\nGot:\n    2\n"
    assert proc.stderr.decode() == shown + "Traceback dumped into: traceback.pkl\n", proc.stderr
    dump = tbdump.load(workdir / "traceback.pkl", objects=False)
    assert dump.traceback_text.endswith("    raise error\n" + shown), dump.traceback_text


def test_a_syntax_error_past_any_real_line_still_opens(workdir: Path) -> None:
    """A program may raise a SyntaxError at any line number; one past what a dump may hold
    is kept as its message, so the dump opens instead of being refused as damaged."""
    printed, dump = crash(workdir, "3.11", """
        raise SyntaxError("bad setting", ("cfg.py", 2 ** 40, 1, "x = = 1\\n"))
    """)
    assert 'File "cfg.py", line 1099511627776' in printed
    assert dump.exceptions[0].syntax is None
    assert dump.traceback_text.endswith("\nSyntaxError: bad setting (cfg.py, line 1099511627776)\n")
