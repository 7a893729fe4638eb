"""tbdap driven as DAP clients other than VS Code drive it: their capabilities, their
request shapes, and the ways they leave."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable

import pytest

from .conftest import PROGRAMS
from .dapclient import DapClient, frame

Replay = Callable[..., DapClient]


def top_frame(client: DapClient) -> dict:
    return client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]


# -- the connection ----------------------------------------------------------------

def test_a_client_gone_mid_evaluation_ends_the_stdio_adapter(replay: Replay) -> None:
    """An editor closed while `while True: pass` runs in its console: the adapter exits
    instead of spinning forever."""
    client = replay("nested")
    client.send("evaluate", {"expression": "while True: pass", "frameId": top_frame(client)["id"],
                             "context": "repl"})
    time.sleep(0.5)  # it is running now
    client.writer.close()
    assert client.proc is not None and client.proc.wait(10) == 0
    assert "Traceback" not in client.stderr, client.stderr


def test_a_client_gone_mid_evaluation_leaves_the_server_to_the_next(server: int) -> None:
    client = DapClient.connect(server)
    client.initialize()
    client.start("attach", {})
    client.send("evaluate", {"expression": "while True: pass", "frameId": top_frame(client)["id"],
                             "context": "repl"})
    time.sleep(0.5)
    client.vanish()  # the socket closes under the running evaluation
    client = DapClient.connect(server)
    client.initialize()
    client.start("attach", {})
    assert top_frame(client)["name"] == "leaf"
    client.close()


def test_a_content_length_shorter_than_its_body_loses_that_message_only(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    body = json.dumps({"seq": 1, "type": "request", "command": "initialize",
                       "arguments": {"adapterID": "x"}}).encode()
    client.send_raw(b"Content-Length: %d\r\n\r\n" % (len(body) - 5) + body)
    client.seq = 1
    assert client.initialize()["supportsConfigurationDoneRequest"] is True
    assert "not valid JSON" in client.output_text()


def test_messages_split_across_reads_or_sharing_one(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.initialize()
    two = (frame({"seq": 2, "type": "request", "command": "setExceptionBreakpoints", "arguments": {"filters": []}})
           + frame({"seq": 3, "type": "request", "command": "threads"}))
    for cut in (5, 30, len(two) - 3):
        client.send_raw(two[:cut])
        time.sleep(0.1)
        client.send_raw(two[cut:])
        assert client.response(2)["success"] and "No dump is open" in client.response(3)["message"]
        client._responses.clear()


# -- values --------------------------------------------------------------------------

def test_a_client_that_does_not_page_gets_a_first_page_and_ranges(tbdap: Callable[..., DapClient],
                                                                   dumps: Callable[[str], Path]) -> None:
    """Without a filter or a count (nvim-dap asks so), a million-item list answers its first
    100 items and a "more" row of ranges, as debugpy does, not a million rows at once."""
    client = tbdap()
    client.ok("initialize", {"adapterID": "tbdump", "linesStartAt1": True})  # no supportsVariablePaging
    client.start("launch", {"dumpFile": str(dumps("million"))})
    scope = client.ok("scopes", {"frameId": top_frame(client)["id"]})["scopes"][0]
    numbers = next(v for v in client.ok("variables", {"variablesReference": scope["variablesReference"]})[
        "variables"] if v["name"] == "numbers")
    rows = client.ok("variables", {"variablesReference": numbers["variablesReference"]}, timeout=10)["variables"]
    assert [r["name"] for r in rows[:5]] == ["special variables", "function variables", "len()", "000000",
                                             "000001"] and rows[-2]["name"] == "000099"
    more = rows[-1]
    assert more["name"] == "more" and more["value"] == "999900 more items"
    assert more["presentationHint"] == {"kind": "virtual"}
    ranges = client.ok("variables", {"variablesReference": more["variablesReference"]})["variables"]
    assert len(ranges) == 1000 and ranges[0]["name"] == "[100:1100]" and ranges[-1]["name"] == "[999100:1000000]"
    last = client.ok("variables", {"variablesReference": ranges[-1]["variablesReference"]})["variables"]
    assert len(last) == 900 and last[-1]["evaluateName"] == "numbers[999999]" and last[-1]["value"] == "999999"
    client.ok("setVariable", {"variablesReference": ranges[-1]["variablesReference"], "name": last[-1]["name"],
                              "value": "-1"}, timeout=10)
    assert client.ok("evaluate", {"expression": "numbers[999999]", "context": "watch"})["result"] == "-1"


@pytest.mark.parametrize("base", [0, 1])
def test_completions_count_the_column_in_the_line_asked_for(tbdap: Callable[..., DapClient],
                                                           dumps: Callable[[str], Path], base: int) -> None:
    """Multi-line console input: `column` is in line `line` (UTF-16 units, the client's bases)."""
    client = tbdap()
    client.initialize(linesStartAt1=bool(base), columnsStartAt1=bool(base))
    client.start("launch", {"dumpFile": str(dumps("nested"))})
    text = "x = '\U0001F600'\ny = '\U0001F600'; tot"
    end = len("y = '\U0001F600'; tot".encode("utf-16-le")) // 2 + base
    targets = client.ok("completions", {"text": text, "line": 1 + base, "column": end,
                                        "frameId": top_frame(client)["id"]})["targets"]
    assert [t["label"] for t in targets] == ["total"]
    targets = client.ok("completions", {"text": "tot\nx", "column": 3 + base})["targets"]
    assert [t["label"] for t in targets] == ["total"]


def test_a_client_counting_from_0_gets_the_stacks_lines_and_columns_from_0(tbdap: Callable[..., DapClient],
                                                                         dumps: Callable[[str], Path]) -> None:
    """linesStartAt1 and columnsStartAt1 false: every frame's line and columns are one less than a
    client counting from 1 is told, the crash's line its index in the file."""
    shown = {}
    for base in (1, 0):
        client = tbdap()
        client.initialize(linesStartAt1=bool(base), columnsStartAt1=bool(base))
        client.start("launch", {"dumpFile": str(dumps("nested"))})
        shown[base] = [(f["line"], f["column"], f.get("endColumn"))
                       for f in client.ok("stackTrace", {"threadId": 1})["stackFrames"]]
    lines = (PROGRAMS / "nested.py").read_text().splitlines()
    crash = next(n for n, text in enumerate(lines) if "# KeyError" in text)
    assert (shown[0][0][0], shown[1][0][0]) == (crash, crash + 1), shown
    assert shown[0] == [(line - 1, column - 1, end and end - 1) for line, column, end in shown[1]], shown


# -- paths ---------------------------------------------------------------------------

def test_path_format_uri_sends_and_takes_file_uris(tbdap: Callable[..., DapClient], dumps: Callable[[str], Path],
                                                   tmp_path: Path) -> None:
    """A client with pathFormat "uri" gets file URIs in every Source and Module, and its
    URIs are understood when it asks for a source by path."""
    local = tmp_path / "my app"
    local.mkdir()
    shutil.copy(PROGRAMS / "nested.py", local / "nested.py")
    client = tbdap()
    client.initialize(pathFormat="uri")
    client.start("launch", {"dumpFile": str(dumps("nested")),
                            "pathMappings": [{"localRoot": str(local), "remoteRoot": str(PROGRAMS)}]})
    shown = (local / "nested.py").as_uri()
    assert shown.startswith("file:///") and "my%20app" in shown
    assert top_frame(client)["source"]["path"] == shown
    assert [s["path"] for s in client.ok("loadedSources")["sources"]] == [shown]
    assert [m["path"] for m in client.ok("modules")["modules"]] == [shown]
    content = client.ok("source", {"source": {"path": shown}, "sourceReference": 0})["content"]
    assert content == (PROGRAMS / "nested.py").read_text()


def test_a_source_from_the_dump_has_a_uri_too(tbdap: Callable[..., DapClient], dumps: Callable[[str], Path]) -> None:
    client = tbdap()
    client.initialize(pathFormat="uri")
    client.start("launch", {"dumpFile": str(dumps("nested")),
                            "pathMappings": [{"localRoot": "/nowhere", "remoteRoot": str(PROGRAMS)}]})
    source = top_frame(client)["source"]
    assert source["path"] == (PROGRAMS / "nested.py").as_uri() and source["sourceReference"] > 0
    assert "def leaf" in client.ok("source", {"source": {"path": source["path"]}})["content"]


def test_a_python_launch_configuration_hears_which_key_to_use(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.initialize()
    text = client.fail("launch", {"type": "python", "request": "launch", "program": "app.py"})
    assert text == ("'launch' needs a \"dumpFile\": the path of the dump to open. \"program\" (app.py) is not "
                    "read: tbdap runs no program, it opens the dump a crash wrote.")
