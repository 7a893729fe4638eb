"""tbdap driven as DAP clients other than VS Code drive it: their capabilities, their
request shapes, and the ways they leave."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

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
    client.shutdown()  # the socket closes under the running evaluation
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
    two = (frame({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "x"}})
           + frame({"seq": 2, "type": "request", "command": "threads"}))
    for cut in (5, 30, len(two) - 3):
        client.send_raw(two[:cut])
        time.sleep(0.1)
        client.send_raw(two[cut:])
        assert client.response(1)["success"] and "No dump is open" in client.response(2)["message"]
        client._responses.clear()
