"""Long sessions: a session open for hours, asking for the same views again and again, and a
`--port` server serving one client after another, hold what the views show now, not all
they ever showed. What the server holds is read from /proc (Linux)."""
from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import IO, Callable, Dict, Tuple

import pytest

from .conftest import server_process
from .dapclient import DapClient

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")

MB = 1 << 20


def held(pid: int) -> Tuple[int, int]:
    """(resident memory in bytes, open file descriptors) of a process."""
    with open("/proc/%d/status" % pid) as status:
        rss = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def crash_frame(client: DapClient) -> int:
    thread = client.ok("threads")["threads"][0]["id"]
    return client.ok("stackTrace", {"threadId": thread})["stackFrames"][0]["id"]


def hover_and_open(client: DapClient, frame: int, expression: str, context: str = "hover") -> Dict:
    """What VS Code asks when a value is hovered (or watched) and its first page opened."""
    result = client.ok("evaluate", {"expression": expression, "frameId": frame, "context": context})
    client.ok("variables", {"variablesReference": result["variablesReference"], "filter": "indexed",
                            "start": 0, "count": 100})
    return result


def test_hovering_a_value_again_and_again_does_not_grow_the_adapter(
        replay: Callable[..., DapClient]) -> None:
    client = replay("biglist")
    assert client.proc is not None
    frame = crash_frame(client)
    for _ in range(100):  # what the first hovers load once
        hover_and_open(client, frame, "data")
        client.ok("scopes", {"frameId": frame})
    before, _ = held(client.proc.pid)
    for _ in range(800):
        hover_and_open(client, frame, "data")
        hover_and_open(client, frame, "data", "watch")
        client.ok("scopes", {"frameId": frame})
        client.received.clear()  # the test's own client keeps what it got: not what is measured
    grown = held(client.proc.pid)[0] - before
    # Each hover and watch kept its value and the rows listed under it: 800 of each made the
    # adapter over 100 MB larger.
    assert grown < 10 * MB, "the adapter grew by %.1f MB over 800 hovers" % (grown / MB)


def test_a_hover_asked_again_shows_the_value_as_it_is_now_and_the_console_as_it_was(
        replay: Callable[..., DapClient]) -> None:
    client = replay("nested")
    frame = crash_frame(client)

    def names(ref: int) -> list:
        return [v["name"] for v in client.ok("variables", {"variablesReference": ref})["variables"]]

    hovered = client.ok("evaluate", {"expression": "table", "frameId": frame, "context": "hover"})
    printed = client.ok("evaluate", {"expression": "table", "frameId": frame, "context": "repl"})
    assert "'known'" in names(hovered["variablesReference"])
    client.ok("evaluate", {"expression": "table = {'fresh': 1}", "frameId": frame, "context": "repl"})
    again = client.ok("evaluate", {"expression": "table", "frameId": frame, "context": "hover"})
    assert "'fresh'" in names(again["variablesReference"])
    assert "'known'" not in names(again["variablesReference"])
    # The console's earlier output still opens on the value it printed.
    assert "'known'" in names(printed["variablesReference"])
    # setVariable under the hover finds what the hover shows now, not a row it showed before.
    assert client.fail("setVariable", {"variablesReference": again["variablesReference"],
                                       "name": "'known'", "value": "2"})
    changed = client.ok("setVariable", {"variablesReference": again["variablesReference"],
                                        "name": "'fresh'", "value": "2"})
    assert changed["value"] == "2"


def server_log(stream: IO[str]) -> "queue.Queue[str]":
    """The server's log lines as it writes them, read by a thread so a wait can time out."""
    lines: "queue.Queue[str]" = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_server_holds_no_more_after_many_clients_than_after_one(dumps: Callable[[str], Path]) -> None:
    with server_process(dumps("biglist")) as (port, proc):
        assert proc.stderr is not None
        log = server_log(proc.stderr)

        def one_client() -> None:
            client = DapClient.connect(port)
            client.initialize()
            client.start("launch", {})
            frame = crash_frame(client)
            scope = client.ok("scopes", {"frameId": frame})["scopes"][0]["variablesReference"]
            client.ok("variables", {"variablesReference": scope})
            hover_and_open(client, frame, "data")
            client.close()
            # What the server holds is read once it is done with the client: its socket and
            # replay are let go after the client has left.
            while "disconnected" not in log.get(timeout=60):
                pass

        for _ in range(3):
            one_client()
        memory, files = held(proc.pid)
        for _ in range(40):
            one_client()
        memory_after, files_after = held(proc.pid)
    # Each client's replay (its dump's file and objects) outlived it, until a full collection that
    # hardly ever came: 43 clients left 22 files open, and 200 clients of a larger dump a 1 GB server.
    assert files_after <= files, "%d files open after 43 clients, %d after 3" % (files_after, files)
    grown = memory_after - memory
    assert grown < 8 * MB, "the server grew by %.1f MB over 40 clients" % (grown / MB)
