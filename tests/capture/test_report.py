"""``python -m tbdump.report``: the whole chain, nested groups included, with every frame's values."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any, Dict

import pytest

from ..conftest import PYTHON, env_for_child, rewrite_safe_layer, run, write
from .test_traceback_text import GROUPS, crash


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
    assert lines.index("KeyError: 'config'") < lines.index("  | ExceptionGroup: audit (2 sub-exceptions)")
    assert "During handling of the above exception, another exception occurred:" in lines
    assert "    | ExceptionGroup: shelves (2 sub-exceptions)" in lines
    assert "    | TypeError: count" in lines
    for shelf in ("BOLT", "NUT"):   # members of the inner group: two levels down
        at = lines.index("      | LookupError: %s" % shelf)
        frame = max(i for i in range(at) if lines[i].endswith(", in check"))
        assert lines[frame] == '      |   File "%s", line %d, in check' % (workdir / "stock.py", raise_line)
        assert "      |       shelf = %r (str)" % shelf in lines[frame:at], lines[frame:at]
    assert "\x1b[" not in text                 # plain when not on a terminal
    assert "    | \x1b[1;31mTypeError: count\x1b[0m" in report(workdir, "--color", "always")


def test_a_value_not_captured_says_so_on_its_line(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import socket
        def serve():
            blob = b"x" * 300000
            sock = socket.socket()
            port = 8080
            raise OSError("down")
        serve()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_MAX_BYTES": "100000"})
    lines = report(workdir).splitlines()
    blob = [line for line in lines if line.lstrip().startswith("blob = ")]
    sock = [line for line in lines if line.lstrip().startswith("sock = ")]
    assert blob and blob[0].endswith("(bytes) [not captured: byte budget of 100000 bytes]"), lines
    assert sock and "(socket) [not captured: TypeError: cannot pickle 'socket' object]" in sock[0], lines
    assert [line for line in lines if line.lstrip().startswith("port = ")][0].endswith("port = 8080 (int)")


def test_a_value_s_long_class_name_is_cut_as_its_repr_is(workdir: Path) -> None:
    """A value's line shows its repr's first 200 characters and "...": its class's name, ten
    thousand characters of a generated class, was written whole after it."""
    write(workdir / "prog.py", """
        Generated = type("Row" + "x" * 10000, (), {"__repr__": lambda self: "<row>"})
        def load():
            row = Generated()
            raise KeyError("id")
        load()
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    row = [line for line in report(workdir).splitlines() if line.lstrip().startswith("row = ")]
    assert row == ["      row = <row> (Row%s...)" % ("x" * 194)], row


def test_the_report_takes_safe_as_the_other_viewers_do_and_shows_the_same(workdir: Path) -> None:
    """The README gives ``--safe`` to every command-line tool; the report, safe always, was the one
    that refused it (argparse's usage and status 2)."""
    write(workdir / "prog.py", """
        def f(x):
            return 1 / x
        f(0)
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    shown = report(workdir)
    assert "x = 0 (int)" in shown, shown
    assert report(workdir, "--safe") == shown


@pytest.mark.parametrize("writer", ["3.11", "3.13"])
def test_report_shows_the_traceback_python_printed(workdir: Path, writer: str) -> None:
    """Every line Python printed, in its order, between the report's lines of values."""
    printed, _ = crash(workdir, writer, GROUPS)
    shown = iter(report(workdir).splitlines())
    missing = [line for line in printed.splitlines() if not any(line == seen for seen in shown)]
    assert not missing, missing


def test_the_report_names_the_versions_of_the_libraries_in_the_stack(workdir: Path) -> None:
    """Which dill the crash ran through, as the dump records it (stdlib modules have none: the
    Python version says theirs); a stack of the program's own code alone has no such line."""
    import dill
    crash(workdir, "3.11", "import dill, json\njson.loads('{\"a\": 1}', object_hook=dill.loads)\n")
    assert "  packages  dill %s" % dill.__version__ in report(workdir).splitlines()
    crash(workdir, "3.11", "1 / 0\n")
    assert not [line for line in report(workdir).splitlines() if line.startswith("  packages")]


# Terminal controls, then what reorders or hides text ("Trojan Source"): bidi override and
# isolates, zero-width space, BOM, line and paragraph separators.
ATTACK = "\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;ZWNobw==\x07\rFAKE: all good\x1b[8m\x1b[0m\x1b[1;31m\ud800" \
    "\u202e\u2066\u2069\u200b\ufeff\u2028\u2029"


@pytest.mark.parametrize("colour", ["always", "never"])
def test_a_crafted_dumps_control_characters_show_as_escapes(workdir: Path, colour: str) -> None:
    """Every text of a dump reaches the terminal escaped: a crafted message, name, path,
    repr or source line cannot retitle the window, clear it, write the clipboard or
    overwrite a line; only the report's own colours are written as escapes."""
    write(workdir / "prog.py", "def f(x):\n    return 1 / x\nf(0)\n")
    assert run([PYTHON, "-m", "tbdump", "prog.py"], workdir).returncode == 1

    def spoil(safe: Dict[str, Any]) -> None:
        record = safe["exceptions"][0]
        record["message"] += ATTACK
        record["type"] += ATTACK
        safe["metadata"]["hostname"] += ATTACK
        safe["metadata"]["argv"].append(ATTACK)
        for frame in safe["frames"]:
            frame["name"] += ATTACK
            frame["vars"] = {name + ATTACK: dict(v, r=v["r"] + ATTACK) for name, v in frame["vars"].items()}
        for source in safe["sources"].values():
            source["text"] = source["text"].replace("1 / x", "1 / x  # " + ATTACK)

    rewrite_safe_layer(workdir / "traceback.pkl", workdir / "crafted.pkl", spoil)
    proc = subprocess.run([PYTHON, "-m", "tbdump.report", "--color", colour, "crafted.pkl"], cwd=str(workdir),
                          env=env_for_child(), capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    out = proc.stdout.decode("utf-8")
    assert "\r" not in out and "\x07" not in out and "\ud800" not in out
    assert [c for c in out if unicodedata.category(c) in ("Cf", "Zl", "Zp")] == []
    escapes = re.findall(r"\x1b[^m]*m?", out)
    assert set(escapes) <= ({"\x1b[%sm" % c for c in ("0", "1", "1;31", "2", "36", "33")} if colour == "always"
                            else set())
    # Each of the report's codes opens a colour and closes it: none comes from the dump.
    assert escapes.count("\x1b[0m") * 2 == len(escapes)
    assert colour == "never" or escapes, "the colours are still there"
    shown = "\\x1b]0;PWNED\\x07\\x1b[2J\\x1b]52;c;ZWNobw==\\x07\\rFAKE: all good\\x1b[8m\\x1b[0m\\x1b[1;31m\\ud800" \
        "\\u202e\\u2066\\u2069\\u200b\\ufeff\\u2028\\u2029"
    assert out.count(shown) >= 8, out   # message, type, host, argv, frame names, variables, reprs, source


# (environment, on a terminal): whether Python 3.13 colours its traceback, and so the report.
COLOUR_CONVENTIONS = [
    ({}, True, True), ({}, False, False),
    ({"TERM": "dumb"}, True, False), ({"NO_COLOR": "1"}, True, False), ({"NO_COLOR": ""}, True, False),
    ({"FORCE_COLOR": "1"}, False, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ({"PYTHON_COLORS": "1"}, False, True), ({"PYTHON_COLORS": "0", "FORCE_COLOR": "1"}, True, False),
    ({"PYTHON_COLORS": "1", "NO_COLOR": "1"}, False, True),
]


@pytest.mark.parametrize("env, tty, coloured", COLOUR_CONVENTIONS)
def test_colour_follows_python_s_own_conventions(workdir: Path, env: Dict[str, str], tty: bool,
                                                  coloured: bool) -> None:
    """--color auto: on a terminal or off it, PYTHON_COLORS, NO_COLOR, FORCE_COLOR and
    TERM=dumb do for the report what they do for the traceback Python 3.13 prints."""
    write(workdir / "prog.py", "def f(x):\n    return 1 / x\nf(0)\n")
    assert run([PYTHON, "-m", "tbdump", "prog.py"], workdir).returncode == 1
    child_env = env_for_child({"TERM": "xterm", **env})
    for name in ("NO_COLOR", "FORCE_COLOR", "PYTHON_COLORS"):
        if name not in env:
            child_env.pop(name, None)
    reader, writer = pty.openpty() if tty else os.pipe()
    try:
        proc = subprocess.Popen([PYTHON, "-m", "tbdump.report", "traceback.pkl"], cwd=str(workdir), env=child_env,
                                stdout=writer, stderr=subprocess.DEVNULL)
        os.close(writer)
        out = b""
        while True:
            try:
                chunk = os.read(reader, 65536)
            except OSError:   # a pty's reader gets EIO once the child has closed it
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(reader)
    assert b"ZeroDivisionError: division by zero" in out
    assert (b"\x1b[" in out) == coloured, out


def test_globals_are_listed_once_per_module_under_its_first_frame(workdir: Path) -> None:
    """--globals adds a module's globals under its first frame in the report: the program's
    names, not the module's dunders (which the module frame leaves out too), and not again
    for the module frame, whose locals they already are; every later frame of that module
    (a recursion's dozens) points there in one line."""
    write(workdir / "shelf.py", """
        TABLE = {"bolt": 1}
        def lookup(key):
            return _find(key)
        def _find(key):
            return TABLE[key]
    """)
    write(workdir / "prog.py", """
        import shelf
        LIMIT = 3
        def walk(n):
            if n < LIMIT:
                return walk(n + 1)
            return shelf.lookup("nut")
        walk(0)
    """)
    assert run([PYTHON, "-m", "tbdump", "prog.py"], workdir).returncode == 1
    lines = report(workdir, "--globals").splitlines()
    assert [line for line in lines if "LIMIT = 3 (int)" in line] == ["      LIMIT = 3 (int)"], lines
    assert [line for line in lines if "TABLE = " in line] == ["      (global) TABLE = {'bolt': 1} (dict)"], lines
    frames = [n for n, line in enumerate(lines) if line.startswith("  File ")]
    said = {lines[at].rpartition(", in ")[2]: lines[at + 1:end] for at, end in zip(frames, frames[1:] + [len(lines)])}
    assert [line for line in said["walk"] if "(global" in line] == [
        "      (globals of __main__: listed above, in <module> at line 7)"]
    assert "      (global) TABLE = {'bolt': 1} (dict)" in said["lookup"]
    at = said["_find"].index("      key = 'nut' (str)")
    assert said["_find"][at + 1] == "      (globals of shelf: listed above, in lookup at line 3)"
    assert len([line for line in lines if line.endswith("listed above, in <module> at line 7)")]) == 4  # walk x4
    assert not [line for line in lines if re.match(r" *(\(global\) )?__\w+__ = ", line)], lines


def test_globals_over_the_budget_are_counted_in_one_line_not_listed(workdir: Path) -> None:
    # A generated module's top level: 1 009 names without values would be 1 009 lines of noise.
    write(workdir / "generated.py", "\n".join("CONST_%d = %d" % (n, n) for n in range(6000)) + """
import shelf
shelf.lookup("nut")
""")
    write(workdir / "shelf.py", """
        TABLE = {"bolt": 1}
        def lookup(key):
            return TABLE[key]
    """)
    assert run([PYTHON, "-m", "tbdump", "generated.py"], workdir).returncode == 1
    for flags in ((), ("--globals",)):
        lines = report(workdir, *flags).splitlines()
        assert len(lines) < 5100
        assert "  partial dump: globals of __main__: 5000 of 6009 captured (budget max_globals)" in lines
        assert [line for line in lines if "not captured" in line] == [
            "      (1009 more globals not captured: over the max_globals budget)"]
