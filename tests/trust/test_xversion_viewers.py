"""Each viewer under the Pythons users run it with: a short session on a dump written by 3.11
and on one written by the same Python.

The suite runs on 3.11; test_xversion.py checks that every dump loads under every Python.
Here each viewer is driven as its own tests drive it (pdb over a pipe, peepshow in a
tmux terminal, the report's command line, a DAP client validating every message against
the schema, an LSP client), run by each other Python (3.12's and 3.13's pdb differ the
most), from this tree in the venvs test_xversion.py makes, with the viewers' pinned
dependencies.
"""
from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
from lsprotocol import types

from ..dap.dapclient import DapClient
from ..lsp.lsp_support import ENV, WAIT, col_of, diagnostics, hover_text, open_file, served, start
from ..viewers.children import child_env
from ..viewers.conftest import tmux  # noqa: F401  (the fixture)
from ..viewers.terminal import Terminal
from .test_xversion import _venv

WRITTEN_BY = "3.11.7"   # the suite's own Python: the dump a colleague's 3.11 sends
READERS = ["3.9.18", "3.10.13", "3.12.1", "3.13.0"]

PROGRAM = '''\
import json


class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance


class Batch(list):
    pass


def parse(text):
    return json.loads(text)  # parse


def withdraw(account, request):
    pending = Batch([request])
    r = request.strip()
    try:
        amount = parse(r)  # cause
    except ValueError as exc:
        raise RuntimeError(f"{account.owner!r} sent {r!r}") from exc  # crash


withdraw(Account("ada", 100), "{broken")  # call
'''
MESSAGE = "RuntimeError: 'ada' sent '{broken'"


# Methods of a nested class, a comprehension and a function inside them: what 3.9/3.10,
# whose code records no co_qualname, name only `total`, `<listcomp>` and `share`.
METHODS = '''\
class Ledger:
    class Entry:
        def __init__(self, parts):
            self.parts = parts

        def total(self, amounts):
            def share(amount):
                return amount / self.parts  # crash
            return sum([share(a) for a in amounts])


Ledger.Entry(0).total([10, 20])
'''


def line(marker: str) -> int:
    """The 1-based line of PROGRAM that holds ``marker``."""
    return next(n for n, text in enumerate(PROGRAM.split("\n"), 1) if marker in text)


Written = Callable[..., Path]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """written("3.9.18") -> the dump of PROGRAM (or the program given) crashed by that Python,
    in the program's folder."""
    dumps: Dict[Tuple[str, str], Path] = {}

    def get(version: str, program: str = PROGRAM) -> Path:
        if (version, program) not in dumps:
            folder = tmp_path_factory.mktemp("written-by-%s" % version)
            (folder / "prog.py").write_text(program)
            done = subprocess.run([str(_venv(version)), "-m", "tbdump", "prog.py"], cwd=str(folder),
                                  env=child_env(), capture_output=True, text=True, timeout=120)
            assert done.returncode == 1 and (folder / "traceback.pkl").is_file(), done.stderr
            dumps[version, program] = folder / "traceback.pkl"
        return dumps[version, program]
    return get


def sessions(reader: str) -> List[str]:
    return [WRITTEN_BY, reader]


def at_least(version: str, wanted: Tuple[int, int]) -> bool:
    return tuple(int(part) for part in version.split(".")[:2]) >= wanted


@pytest.mark.parametrize("reader", READERS)
def test_tbdebug(written: Written, reader: str) -> None:
    python = str(_venv(reader))
    commands = ["where", "p r, account.owner, account.balance, pending", "source Account", "up", "p __name__"]
    if at_least(reader, (3, 13)):    # pdb's own view of the chain: the dump's, not tbdebug's
        commands += ["exceptions", "exceptions 0", "p s"]
    for writer in sessions(reader):
        dump = written(writer)
        done = subprocess.run([python, "-m", "tbdebug", str(dump)], cwd=str(dump.parent), env=child_env(),
                              input="\n".join(commands + ["q"]) + "\n", capture_output=True, text=True,
                              timeout=120)
        where = "%s dump in %s's pdb" % (writer, reader)
        assert done.returncode == 0, (where, done.stderr[-2000:])
        opened, *answers = done.stdout.split("(Pdb) ")
        said = dict(zip(commands, answers))
        assert "(the direct cause of #0; 5 frames)" in opened, where
        assert said["where"].rstrip().endswith(
            "prog.py(%d)withdraw()\n-> raise RuntimeError(f\"{account.owner!r} sent {r!r}\") "
            "from exc  # crash" % line("# crash")), (where, said["where"])
        # The values after a list subclass of the program (a stand-in under another Python) load too.
        assert said["p r, account.owner, account.balance, pending"].startswith("('{broken', 'ada', 100, "), where
        assert re.match(r"\s*%d\s+class Account:" % line("class Account"), said["source Account"]), \
            (where, said["source Account"])
        assert "prog.py(%d)<module>()" % line("# call") in said["up"], (where, said["up"])
        assert said["p __name__"] == "'__main__'\n", where
        if at_least(reader, (3, 13)):
            assert re.search(r"^    0 JSONDecodeError\(.*\n>   1 RuntimeError\(", said["exceptions"], re.M), \
                (where, said["exceptions"])
            assert "decoder.py" in said["exceptions 0"] and said["p s"] == "'{broken'\n", where


@pytest.mark.parametrize("reader", READERS)
def test_tbpeep(written: Written, reader: str, tmux: str) -> None:  # noqa: F811
    for writer in sessions(reader):
        dump = written(writer)
        peep = Terminal(tmux, dump.parent, [str(_venv(reader)), "-m", "tbpeep", str(dump)], child_env())
        try:
            screen = peep.wait_screen(r"^list \* >\s*$|press Enter to open peepshow")
            if "press Enter to open peepshow" in screen:   # a dump another Python wrote says so first
                peep.press("Enter")
                screen = peep.wait_screen(r"^list \* >\s*$")
            assert "REPR         : \"%s  (2 frames)\"" % MESSAGE in screen, screen
            peep.press("Enter")                          # the frames
            screen = peep.wait_screen(r"^list i >\s*$")
            assert "[    1] []* withdraw  prog.py:%d  raise RuntimeError(" % line("# crash") in screen
            peep.line("1")
            peep.wait_screen(r"^dict \*\* >\s*$")
            peep.press("Enter")                          # its variables
            screen = peep.wait_screen(r"^dict i >\s*$")
            assert "'request' : []* '{broken'" in screen and "'account' : <Account>" in screen, screen
            peep.line("q")
            assert peep.exit_status() == 0
        finally:
            peep.close()


@pytest.mark.parametrize("reader", READERS)
def test_tbpeep_in_a_terminal_that_reports_no_size(written: Written, reader: str, tmux: str) -> None:  # noqa: F811
    """A terminal of 0 rows and 0 columns (a serial console, a pty nobody sized; here stty makes
    the pane's so): peepshow divides by the columns, which Python 3.9 and 3.10 report as 0 there
    (3.11's shutil falls back to 80x24): each listing said 'integer division or modulo by zero'."""
    dump = written(reader)
    command = ["sh", "-c", 'stty rows 0 cols 0 && exec "$0" -m tbpeep "$1"', str(_venv(reader)), str(dump)]
    peep = Terminal(tmux, dump.parent, command, child_env())
    try:
        # Its lines are cut at 80 columns, and one that fills them is joined to the next, as
        # peepshow leaves it to the terminal to wrap: the pane is wider.
        screen = peep.wait_screen(r"list [*i] >\s*$")
        assert "Error while executing" not in screen, screen
        peep.press("Enter")                          # the frames
        screen = peep.wait_screen(r"list i >\s*$")
        assert "[    1] []* withdraw  prog.py:%d  raise RuntimeError" % line("# crash") in screen, screen
        assert "Error while executing" not in screen, screen
        peep.line("q")
        assert peep.exit_status() == 0
    finally:
        peep.close()


@pytest.mark.parametrize("reader", READERS)
def test_report(written: Written, reader: str) -> None:
    for writer in sessions(reader):
        dump = written(writer)
        done = subprocess.run([str(_venv(reader)), "-m", "tbdump.report", str(dump)], env=child_env(),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert "The above exception was the direct cause of the following exception:" in done.stdout
        assert "      request = '{broken' (str)\n" in done.stdout
        assert done.stdout.rstrip().endswith(MESSAGE)


@pytest.mark.parametrize("reader", READERS)
def test_tbdap(written: Written, reader: str) -> None:
    for writer in sessions(reader):
        client = DapClient.spawn([str(_venv(reader)), "-m", "tbdap"], name="tbdap")
        try:
            client.initialize()
            client.start("launch", {"dumpFile": str(written(writer))})
            frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
            assert [(f["name"], f["line"]) for f in frames if f.get("presentationHint") != "label"][:2] == \
                [("withdraw", line("# crash")), ("<module>", line("# call"))]
            assert [f["name"] for f in frames[-2:]] == ["parse", "withdraw"]
            assert frames[-1]["line"] == line("# cause")
            scopes = client.ok("scopes", {"frameId": frames[0]["id"]})["scopes"]
            local = client.ok("variables", {"variablesReference": scopes[0]["variablesReference"]})["variables"]
            assert {v["name"]: (v["value"], v["type"]) for v in local}["request"] == ("'{broken'", "str")
            answer = client.ok("evaluate", {"expression": "r, account.owner, account.balance",
                                            "frameId": frames[0]["id"], "context": "repl"})
            assert answer["result"] == "('{broken', 'ada', 100)"
            info = client.ok("exceptionInfo", {"threadId": 1})
            assert info["exceptionId"] == "RuntimeError" and "JSONDecodeError" in info["details"]["stackTrace"]
        finally:
            client.close()      # fails on any message the DAP schema rejects
        assert "Traceback" not in client.stderr, client.stderr


@pytest.mark.asyncio
@pytest.mark.parametrize("reader", READERS)
async def test_tblsp(written: Written, reader: str, tmp_path: Path) -> None:
    # A code cache of its own: the first session fills it, the second starts from it.
    env = {**ENV, "TBLSP_CACHE_DIR": str(tmp_path / "cache")}
    for writer in sessions(reader):
        folder = written(writer).parent
        async with served([str(_venv(reader)), "-m", "tblsp"], env=env) as client:
            await asyncio.wait_for(start(client, folder), WAIT)
            prog = folder / "prog.py"
            uri = open_file(client, prog)
            errors = [d for d in await diagnostics(client, uri) if d.severity == types.DiagnosticSeverity.Error]
            assert [(d.range.start.line + 1, d.message) for d in errors] == [(line("# crash"), MESSAGE)]
            # The names in the f-string of the crash line have their values; a `!r` is no name.
            field = col_of(prog, "# crash", "{r!r}")
            text = await hover_text(client, uri, types.Position(field.line, field.character + 1))
            assert text is not None and text.startswith("**r**: `str`") and "'{broken'" in text, text
            assert await hover_text(client, uri, col_of(prog, "# crash", "r} sent")) is None


@pytest.mark.asyncio
@pytest.mark.parametrize("writer", ["3.9.18", "3.10.13", WRITTEN_BY])
async def test_frames_have_their_qualified_names_whichever_python_wrote_them(
        written: Written, writer: str, tmp_path: Path) -> None:
    """A method's frame is `Class.method` (nested classes, `<locals>`, comprehensions as
    CPython names them) for tbdump.load() and in tblsp's stack and hovers: from co_qualname
    in a 3.11 dump, from the source the dump holds in a 3.9/3.10 one (whose code has no
    co_qualname), read by that Python or by 3.11."""
    dump = written(writer, METHODS)
    names = ["<module>", "Ledger.Entry.total", "Ledger.Entry.total.<locals>.<listcomp>",
             "Ledger.Entry.total.<locals>.share"]
    env = {**ENV, "TBLSP_CACHE_DIR": str(tmp_path / "cache")}
    for reader in dict.fromkeys([writer, WRITTEN_BY]):
        where = "%s dump read by %s" % (writer, reader)
        done = subprocess.run([str(_venv(reader)), "-c", "import sys, tbdump\n"
                               "print([f.qualname for f in tbdump.load(sys.argv[1]).frames])", str(dump)],
                              env=child_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout == "%r\n" % names, (where, done.stdout, done.stderr)
        async with served([str(_venv(reader)), "-m", "tblsp"], env=env) as client:
            await asyncio.wait_for(start(client, dump.parent), WAIT)
            prog = dump.parent / "prog.py"
            uri = open_file(client, prog)
            errors = [d for d in await diagnostics(client, uri) if d.severity == types.DiagnosticSeverity.Error]
            assert [r.message for r in errors[0].related_information or []] == [
                "1/4 <module>", "2/4 Ledger.Entry.total", "3/4 Ledger.Entry.total.<locals>.<listcomp>",
                "4/4 Ledger.Entry.total.<locals>.share: ZeroDivisionError: division by zero"], where
            text = await hover_text(client, uri, col_of(prog, "# crash", "amount /"))
            assert text is not None and r"*local in Ledger.Entry.total.\<locals\>.share() · " in text, (where, text)
