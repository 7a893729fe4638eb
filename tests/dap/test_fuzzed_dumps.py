"""tbdap on fuzzed dumps (tests/trust/fuzz_dumps.py): a damaged one is refused at launch with one
error response; one whose fields were changed within their types is browsed whole.  A dump
whose damage is found late, in a part read when first asked for, or written over while it is
served, answers each request for that part with one message and the rest as before.

Every message is checked against the protocol's schema by the real DAP client, and every
request waits a bounded time: an internal error, a traceback or a hang fails the test.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from ..conftest import PYTHON, rewrite_members, run, write
from ..crafted import memory_cap
from ..trust import fuzz_dumps
from .dapclient import DapClient

SEED = 4242
VARIABLES = 150   # variables requests per dump: the first levels of every scope


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> List[fuzz_dumps.Seed]:
    return fuzz_dumps.make_seeds(tmp_path_factory.mktemp("seeds"))


def _answered(client: DapClient, command: str, arguments: Dict[str, Any],
              said: Optional[List[str]] = None) -> Dict[str, Any]:
    """The body of a request's response; a failure must be a sentence for the user, never a bug
    (kept in ``said``)."""
    response = client.request(command, arguments)
    if not response["success"]:
        assert "Internal error" not in response["message"], (command, arguments, response["message"])
        if said is not None:
            said.append(response["message"])
        return {}
    return response.get("body") or {}


def test_a_launch_of_a_damaged_dump_gets_one_error_response(
        seeds: List[fuzz_dumps.Seed], tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    for dump in fuzz_dumps.sample(seeds, tmp_path, 8, SEED, refused=True):
        client = tbdap(preexec_fn=memory_cap())
        client.initialize()
        response = client.request("launch", {"dumpFile": str(dump)})
        assert not response["success"], (dump.name, response)
        error = response["body"]["error"]
        assert error["showUser"] and error["format"] == response["message"], (dump.name, response)
        assert response["message"].startswith("%s: " % dump) and "\n" not in response["message"], response
        assert "Internal error" not in response["message"], response
        assert not client.events("initialized") and "Traceback" not in client.stderr, (dump.name, client.stderr)


def _browse(client: DapClient, dump: Path) -> List[str]:
    """Launch ``dump`` and ask for everything a user opens: every frame's source and the first
    levels of its scopes, and its globals evaluated by name; what was shown and said."""
    stopped = client.start("launch", {"dumpFile": str(dump)})
    _answered(client, "exceptionInfo", {"threadId": stopped["body"]["threadId"]})
    _answered(client, "modules", {})
    _answered(client, "loadedSources", {})
    budget = [VARIABLES]
    said: List[str] = []

    def expand(reference: int) -> List[Dict[str, Any]]:
        shown = _answered(client, "variables", {"variablesReference": reference}, said).get("variables", [])
        said.extend(v["value"] for v in shown)
        for variable in shown:
            if variable["variablesReference"] and budget[0] > 0:
                budget[0] -= 1
                expand(variable["variablesReference"])
        return shown
    for thread in client.ok("threads")["threads"]:
        for frame in _answered(client, "stackTrace", {"threadId": thread["id"]}).get("stackFrames", [])[:20]:
            source = frame.get("source") or {}
            if source.get("sourceReference"):
                _answered(client, "source", {"source": source, "sourceReference": source["sourceReference"]}, said)
            if frame.get("presentationHint") == "label":
                continue
            for scope in _answered(client, "scopes", {"frameId": frame["id"]}).get("scopes", []):
                for variable in expand(scope["variablesReference"])[:5]:
                    if scope["name"] == "Globals":
                        _answered(client, "evaluate", {"expression": variable["name"], "frameId": frame["id"],
                                                       "context": "hover"}, said)
    assert "Traceback" not in client.stderr and "internal error" not in client.stderr, (dump.name, client.stderr)
    return said


def test_a_dump_whose_fields_were_changed_within_their_types_is_browsed_whole(
        seeds: List[fuzz_dumps.Seed], tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    for dump in fuzz_dumps.sample(seeds, tmp_path, 8, SEED, refused=False, only=fuzz_dumps.READABLE):
        client = tbdap(preexec_fn=memory_cap())
        client.initialize()
        _browse(client, dump)


def test_a_dump_damaged_in_a_part_read_late_is_browsed_whole_and_says_which(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """A module's globals or a source's text is read when the user first opens it: its damage is
    found in the middle of the session, and said there, in that scope or that source request."""
    seeds = fuzz_dumps.make_seeds(tmp_path)
    for program in tmp_path.glob("*.py"):
        program.unlink()   # so that each source shown is the dump's copy
    dumps = fuzz_dumps.sample(seeds, tmp_path, 10, SEED, refused=False, only=fuzz_dumps.LAZY)
    told = []
    for dump in dumps:
        client = tbdap(preexec_fn=memory_cap())
        client.initialize()
        told.append(any("not readable: " in text for text in _browse(client, dump)))
    assert sum(told) >= len(dumps) // 2, list(zip([d.name for d in dumps], told))


# Two crashes of one program whose object layer is past what tbdap unpickles ahead (PRELOAD_LIMIT):
# its values are read from the file as they are shown.
BIG_OBJECTS = """
    WHERE = %r
    def f():
        blob = bytes(40 << 20)
        word = "from " + WHERE
        raise ValueError(word)
    f()
"""


def test_a_dump_written_over_in_place_while_served_is_not_shown_as_the_first(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """cp, or a CI artifact fetched again, writes a new crash's dump into the file tbdap has open:
    its bytes were read at the first dump's offsets (word.upper() gave 'FROM B' beside the preview 'from a')."""
    for crash in "ab":
        (tmp_path / crash).mkdir()
        write(tmp_path / crash / "prog.py", BIG_OBJECTS % crash)
        run([PYTHON, "-m", "tbdump", "prog.py"], tmp_path / crash)
    path = tmp_path / "traceback.pkl"
    shutil.copyfile(tmp_path / "a" / "traceback.pkl", path)
    client = tbdap()
    client.initialize()
    stopped = client.start("launch", {"dumpFile": str(path)})
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    scopes = {s["name"]: s["variablesReference"] for s in client.ok("scopes", {"frameId": top["id"]})["scopes"]}
    # The object layer opened, the first value read (and the module's globals, which evaluate reads).
    assert client.ok("evaluate", {"expression": "len(blob)", "frameId": top["id"], "context": "repl"})["result"] \
        == str(40 << 20)
    shutil.copyfile(tmp_path / "b" / "traceback.pkl", path)
    replaced = "%s: the file was replaced while it was open" % path
    word = client.request("evaluate", {"expression": "word.upper()", "frameId": top["id"], "context": "repl"})
    assert not word["success"] and replaced in word["message"], word   # not 'FROM B'
    locals_ = client.ok("variables", {"variablesReference": scopes["Locals"]})["variables"]
    assert {v["name"]: v["value"] for v in locals_}["word"] == "'from a'", locals_   # the preview, from the first
    assert "Traceback" not in client.stderr, client.stderr


def test_a_part_read_late_that_does_not_fit_in_memory_is_said_not_readable(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """A module's globals member may inflate to 256 MiB: under a memory cap (a container's, or the
    1 GiB these tests set) reading it ran out of memory, and the Globals scope answered with an
    internal error.  Here a 224 MiB member and a 512 MiB cap."""
    write(tmp_path / "prog.py", """
        LIMIT = 3
        def f(x):
            return x / 0
        f(LIMIT)
    """)
    run([PYTHON, "-m", "tbdump", "prog.py"], tmp_path)

    def swell(members: Dict[str, bytes]) -> None:
        for name in members:
            if name.startswith("globals."):
                members[name] = b'"' + b" " * (224 << 20) + b'"'
    dump = rewrite_members(tmp_path / "traceback.pkl", tmp_path / "swollen.pkl", swell)
    client = tbdap(preexec_fn=memory_cap(512 << 20))
    client.initialize()
    stopped = client.start("launch", {"dumpFile": str(dump)})
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    scopes = {s["name"]: s["variablesReference"] for s in client.ok("scopes", {"frameId": top["id"]})["scopes"]}
    shown = client.ok("variables", {"variablesReference": scopes["Globals"]})["variables"]
    assert [v["value"] for v in shown] == [
        "<not readable: the dump's member 'globals.0' does not fit in memory>"], shown
    said = client.fail("evaluate", {"expression": "LIMIT", "frameId": top["id"], "context": "watch"})
    assert said.endswith("(not readable: the dump's member 'globals.0' does not fit in memory)."), said
    locals_ = client.ok("variables", {"variablesReference": scopes["Locals"]})["variables"]
    assert {v["name"]: v["value"] for v in locals_}["x"] == "3", locals_   # the rest as before
    assert "Traceback" not in client.stderr, client.stderr
