"""tbdap on a crash whose exception has no frames: a script that does not compile, an exception never raised."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from .dapclient import REPO, DapClient
from .test_protocol import replay_of

TBDAP = Callable[..., DapClient]

BROKEN = "import os\n\n\ndef total(items):\n    return items +* 2\n"
BROKEN_LINE = "    return items +* 2"
UNINDENTED = "def f():\nreturn 1\n"


def stack_of(client: DapClient) -> list:
    return client.ok("stackTrace", {"threadId": 1})["stackFrames"]


def test_a_script_that_does_not_compile_stops_on_the_line_with_the_error(tbdap: TBDAP, tmp_path: Path) -> None:
    program = tmp_path / "broken.py"
    program.write_text(BROKEN)
    client = replay_of(tbdap, program)
    (frame,) = stack_of(client)
    # Where Python's caret points (the '*'), 1-based as the client asked; the local file,
    # identical to the dump's copy, is the source VS Code opens.
    assert (frame["name"], frame["line"], frame["column"]) == (
        "SyntaxError: invalid syntax", BROKEN.splitlines().index(BROKEN_LINE) + 1, BROKEN_LINE.index("*") + 1)
    assert frame["source"]["path"] == str(program) and "sourceReference" not in frame["source"]
    assert frame.get("presentationHint") != "label"   # a frame VS Code selects and opens
    if sys.version_info >= (3, 10):
        assert (frame["endLine"], frame["endColumn"]) == (frame["line"], frame["column"] + 1)
    assert client.ok("exceptionInfo", {"threadId": 1})["details"]["source"] == str(program)
    # No code of the file ran: nothing to show or evaluate, and each request says why.
    assert client.ok("scopes", {"frameId": frame["id"]})["scopes"] == []
    for where in ({"frameId": frame["id"]}, {}):
        message = client.fail("evaluate", {"expression": "items", "context": "repl", **where})
        assert "did not compile" in message and "Traceback" not in message


def test_an_indentation_error_is_shown_at_its_line_too(tbdap: TBDAP, tmp_path: Path) -> None:
    program = tmp_path / "unindented.py"
    program.write_text(UNINDENTED)
    (frame,) = stack_of(replay_of(tbdap, program))
    assert frame["name"].startswith("IndentationError: ")
    assert (frame["line"], frame["source"]["path"]) == (2, str(program))


def test_code_given_with_c_that_does_not_compile_is_served_from_the_dump(tbdap: TBDAP, tmp_path: Path) -> None:
    code = "x = 1\ny = (x +* 2)\n"
    dump = tmp_path / "c.pkl"
    subprocess.run([sys.executable, "-m", "tbdump", "-o", str(dump), "-c", code], cwd=str(tmp_path),
                   env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, timeout=120)
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    (frame,) = stack_of(client)
    assert (frame["line"], frame["column"]) == (2, "y = (x +* 2)".index("*") + 1)
    source = frame["source"]
    assert source["name"] == "<string>"
    assert client.ok("source", {"source": source, "sourceReference": source["sourceReference"]})["content"] == code


def test_a_zip_app_that_does_not_compile_is_served_from_the_dump(tbdap: TBDAP, tmp_path: Path) -> None:
    """`app.pyz/__main__.py` is no file: its lines are the dump's copy, said to be one."""
    app = tmp_path / "app.pyz"
    with zipfile.ZipFile(app, "w") as zf:
        zf.writestr("__main__.py", BROKEN)
    dump = tmp_path / "app.pkl"
    subprocess.run([sys.executable, "-m", "tbdump", "-o", str(dump), str(app)], cwd=str(tmp_path),
                   env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, timeout=120)
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    (frame,) = stack_of(client)
    assert (frame["line"], frame["column"]) == (BROKEN.splitlines().index(BROKEN_LINE) + 1, BROKEN_LINE.index("*") + 1)
    source = frame["source"]
    assert (source["path"], source["origin"]) == (
        str(app / "__main__.py"), "as captured in the dump (in an archive here, not a file of its own)")
    assert client.ok("source", {"source": source, "sourceReference": source["sourceReference"]})["content"] == BROKEN


NEVER_RAISED = """\
import tbdump


def report(order):
    tbdump.dump_exception(ValueError("order %r is not valid" % order), {dump!r})


def check(orders):
    report(orders[0])


check([42])
"""


def test_an_exception_never_raised_opens_where_dump_exception_was_called(tbdap: TBDAP, tmp_path: Path) -> None:
    # It has no traceback: the dump holds the stack that called dump_exception(), as the
    # frames above the handler of a raised one, and the session opens in the innermost.
    program = tmp_path / "never.py"
    dump = tmp_path / "never.pkl"
    program.write_text(NEVER_RAISED.format(dump=str(dump)))
    subprocess.run([sys.executable, str(program)], cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=str(REPO)),
                   capture_output=True, timeout=120)
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    stack = stack_of(client)
    assert [(f["name"], f["line"]) for f in stack] == [("report", 5), ("check", 9), ("<module>", 12)]
    assert all(f["source"]["path"] == str(program) for f in stack)
    for frame, expression, value in ((stack[0], "order", "42"), (stack[1], "orders", "[42]")):
        answer = client.ok("evaluate", {"expression": expression, "context": "repl", "frameId": frame["id"]})
        assert answer["result"] == value


UNRAISED_CAUSES = """\
def load(text):
    raise RuntimeError("cannot load the settings") from {cause}


load("x")
"""


@pytest.mark.parametrize("cause, segment", [
    ('LookupError("no key")', ["Direct cause of the exception above: LookupError: no key  (never raised: no frames)"]),
    ('SyntaxError("invalid syntax", ("conf.py", 3, 5, "a = = 1\\n"))',
     ["Direct cause of the exception above: SyntaxError: invalid syntax (conf.py, line 3)",
      "SyntaxError: invalid syntax"]),
])
def test_a_chained_exception_without_frames_says_so_or_shows_where_it_points(
        tbdap: TBDAP, tmp_path: Path, cause: str, segment: list) -> None:
    program = tmp_path / "settings.py"
    program.write_text(UNRAISED_CAUSES.format(cause=cause))
    frames = stack_of(replay_of(tbdap, program))
    assert [f["name"] for f in frames] == ["load", "<module>"] + segment
    if len(segment) == 2:
        assert (frames[-1]["line"], frames[-1]["column"], frames[-1]["source"]["name"]) == (3, 5, "conf.py")
