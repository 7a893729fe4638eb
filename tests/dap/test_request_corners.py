"""tbdap at the protocol's corners, over a pipe and over TCP: requests out of order, arguments
missing, ill-typed or out of range.  Each gets one error response with a sentence for the
user (never a traceback, an internal error or silence), and the session goes on."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from ..conftest import globals_unreadable
from .conftest import PROGRAMS, serving
from .dapclient import DapClient

Transport = Tuple[Callable[[], DapClient], Dict[str, Any]]
Replay = Callable[..., DapClient]


@pytest.fixture(params=["pipe", "tcp"])
def transport(request: pytest.FixtureRequest, dumps: Callable[[str], Path]) -> Transport:
    """(a new client, not initialized yet; the launch arguments that open the nested dump)."""
    if request.param == "pipe":
        return request.getfixturevalue("tbdap"), {"dumpFile": str(dumps("nested"))}
    port = request.getfixturevalue("server")
    clients: List[DapClient] = request.getfixturevalue("clients")  # closed before the server ends

    def connect() -> DapClient:
        client = DapClient.connect(port)
        clients.append(client)
        return client
    return connect, {}


def started(transport: Transport) -> DapClient:
    new, launch = transport
    client = new()
    client.initialize()
    client.start("launch", launch)
    return client


def crash_line() -> int:
    """The line nested.py crashes on, counted from 1."""
    lines = (PROGRAMS / "nested.py").read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if "# KeyError" in text)


def refused(client: DapClient, command: str, arguments: Any) -> str:
    """The one-line error a request got, checked to be meant for a person."""
    response = client.request(command, arguments)
    assert not response["success"], (command, arguments, response)
    text = response["body"]["error"]["format"]
    assert text == response["message"] and text and "\n" not in text, response
    assert "Traceback" not in text and "Internal error" not in text, text
    return text


def still_serves(client: DapClient) -> None:
    frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
    assert frames[0]["name"] == "leaf" and frames[0]["line"] == crash_line()
    assert "Traceback" not in client.output_text() and "internal error" not in client.output_text()
    assert "Traceback" not in client.stderr, client.stderr


# -- order --------------------------------------------------------------------------------

def test_initialize_comes_first_and_once(transport: Transport) -> None:
    new, launch = transport
    client = new()
    for command, arguments in (("threads", {}), ("launch", launch), ("configurationDone", {})):
        assert refused(client, command, arguments) == (
            "The session is not initialized yet: send 'initialize' before %r." % command)
    client.initialize()
    again = {"adapterID": "other", "linesStartAt1": False, "columnsStartAt1": False}
    assert refused(client, "initialize", again) == (
        "The session is already initialized: 'initialize' is sent once, first.")
    client.start("launch", launch)
    still_serves(client)  # lines still count from 1: the refused initialize changed nothing


def test_a_client_may_leave_before_initializing(transport: Transport) -> None:
    """Over TCP the client keeps its socket open after its disconnect, as a client may:
    the server ends that connection itself and serves the next client."""
    new, _ = transport
    client = new()
    client.ok("disconnect", {})
    if client.proc is not None:
        assert client.proc.wait(10) == 0
    else:  # the server goes on to the next client
        still_serves(started(transport))


def test_launch_or_attach_again_is_refused(transport: Transport) -> None:
    client = started(transport)
    for command in ("launch", "attach"):
        assert refused(client, command, {}) == "A dump is already open in this session."
    still_serves(client)


def test_terminate_twice_then_disconnect(transport: Transport) -> None:
    client = started(transport)
    client.ok("terminate", {})
    client.ok("terminate", {})
    client.ok("threads")  # answered after any event the second terminate would send
    assert len(client.events("terminated")) == 1
    still_serves(client)  # a terminated replay still answers until the client disconnects
    client.ok("disconnect", {"terminateDebuggee": True})
    if client.proc is not None:
        assert client.proc.wait(10) == 0
    else:
        still_serves(started(transport))


# -- arguments ----------------------------------------------------------------------------

# (command, arguments, what the error says); "$locals" and "$parts" stand for references
# the session hands out (the top frame's Locals scope, its list `parts`).
BAD_REQUESTS: List[Tuple[str, Any, str]] = [
    ("fly", {}, "tbdap does not support the 'fly' request."),
    ("cancel", {"requestId": "1"}, "The 'requestId' argument must be an integer, not '1'."),
    ("threads", [1], "The arguments of 'threads' must be an object."),
    ("stackTrace", {}, "The request needs the 'threadId' argument."),
    ("stackTrace", {"threadId": "1"}, "The 'threadId' argument must be an integer, not '1'."),
    ("stackTrace", {"threadId": 99}, "There is no thread with id 99 in this dump."),
    ("stackTrace", {"threadId": 1, "startFrame": -1}, "The 'startFrame' argument must be 0 or more, not -1."),
    ("stackTrace", {"threadId": 1, "levels": -1}, "The 'levels' argument must be 0 or more, not -1."),
    ("scopes", {}, "The request needs the 'frameId' argument."),
    ("scopes", {"frameId": 999}, "There is no frame with id 999 in this replay."),
    ("variables", {}, "The request needs the 'variablesReference' argument."),
    ("variables", {"variablesReference": 999999}, "There is no variablesReference 999999 in this replay."),
    ("variables", {"variablesReference": "$parts", "filter": "all"},
     "The 'filter' argument must be \"indexed\" or \"named\", not 'all'."),
    ("variables", {"variablesReference": "$parts", "start": -1}, "The 'start' argument must be 0 or more, not -1."),
    ("variables", {"variablesReference": "$parts", "count": -1}, "The 'count' argument must be 0 or more, not -1."),
    ("evaluate", {}, "The request needs the 'expression' argument."),
    ("evaluate", {"expression": "total", "frameId": 999}, "There is no frame with id 999 in this replay."),
    ("evaluate", {"expression": "total", "frameId": "top"}, "The 'frameId' argument must be an integer, not 'top'."),
    ("source", {}, "The request needs the 'sourceReference' argument (or a 'source' with one)."),
    ("source", {"sourceReference": 999}, "No source to show for reference 999."),
    ("source", {"source": {"sourceReference": "one"}}, "The 'sourceReference' argument must be an integer, not 'one'."),
    ("source", {"source": {"path": 5}}, "The 'path' argument must be a string, not 5."),
    ("setVariable", {"variablesReference": 999999, "name": "total", "value": "1"},
     "There is no variablesReference 999999 in this replay."),
    ("setVariable", {"variablesReference": "$locals", "name": "total"}, "The request needs the 'value' argument."),
    ("setVariable", {"variablesReference": "$parts", "name": "nothing", "value": "1"},
     "There is no variable named 'nothing' under variablesReference $parts."),
    ("setExpression", {"expression": "total", "value": "1", "frameId": 999}, "There is no frame with id 999 in this replay."),
    ("exceptionInfo", {}, "The request needs the 'threadId' argument."),
    ("exceptionInfo", {"threadId": 99}, "There is no thread with id 99 in this dump."),
    ("completions", {"text": "to"}, "The request needs the 'column' argument."),
    ("completions", {"text": "to", "column": -1}, "The 'column' argument must be 0 or more, not -1."),
    ("modules", {"startModule": -1}, "The 'startModule' argument must be 0 or more, not -1."),
    ("setBreakpoints", {"breakpoints": []}, "The request needs the 'source' argument."),
    ("setFunctionBreakpoints", {}, "The request needs the 'breakpoints' argument."),
    ("setExceptionBreakpoints", {}, "The request needs the 'filters' argument."),
]


def test_bad_arguments_get_one_clear_error_each(transport: Transport) -> None:
    client = started(transport)
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    ref = client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"]
    parts = {v["name"]: v for v in client.ok("variables", {"variablesReference": ref})["variables"]}["parts"]
    ids = {"$locals": ref, "$parts": parts["variablesReference"]}
    wrong = []
    for command, arguments, expected in BAD_REQUESTS:
        if isinstance(arguments, dict):
            arguments = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in arguments.items()}
        for token, value in ids.items():
            expected = expected.replace(token, str(value))
        try:
            text = refused(client, command, arguments)
        except AssertionError as exc:
            wrong.append("%s %s: %s" % (command, arguments, str(exc).splitlines()[0]))
            continue
        if text != expected:
            wrong.append("%s %s: %r" % (command, arguments, text))
    assert not wrong, "\n".join(wrong)
    still_serves(client)


def test_an_integer_python_cannot_read_is_still_answered(transport: Transport) -> None:
    """JSON numbers have no size limit, Python's int() does (4300 digits): the request is
    refused like any other bad argument, not dropped unanswered."""
    client = started(transport)
    client.seq += 1
    body = (b'{"seq": %d, "type": "request", "command": "stackTrace", "arguments": {"threadId": 1, '
            b'"startFrame": %s}}' % (client.seq, b"9" * 5000))
    client.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    response = client.response(client.seq, timeout=10)
    assert not response["success"] and response["message"] == "The 'startFrame' argument must be an integer, not inf."
    still_serves(client)


def test_a_refused_launch_keeps_the_dump_the_server_opened(dumps: Callable[[str], Path], tmp_path: Path,
                                                           clients: List[DapClient]) -> None:
    """The server opens its dump at startup; a launch refused for a bad argument must leave
    that dump for the retry, not load the file again (gone or changed since)."""
    dump = tmp_path / "served.pkl"
    shutil.copy(dumps("nested"), dump)
    with serving(dump) as port:
        dump.unlink()
        client = DapClient.connect(port)
        clients.append(client)
        client.initialize()
        assert "'pathMappings' must be a list" in refused(client, "launch", {"pathMappings": "/srv=/here"})
        client.start("launch", {})
        still_serves(client)
        client.close()


# -- paging --------------------------------------------------------------------------------

def test_named_children_page_by_start_and_count(replay: Replay) -> None:
    """A watch on a list subclass pages its items (indexedVariables) and its attributes
    (namedVariables); a page of the named ones is that page, as for the indexed ones."""
    client = replay("batch")
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    batch = client.ok("evaluate", {"expression": "batch", "frameId": frame_id, "context": "watch"})
    assert batch["indexedVariables"] == 250 and batch["namedVariables"] == 7, batch
    ref = batch["variablesReference"]

    def names(**paging: Any) -> List[str]:
        return [v["name"] for v in client.ok("variables", dict(paging, variablesReference=ref))["variables"]]

    named = names(filter="named")
    assert named[2:] == ["owner", "priority", "retries", "source", "len()"], named
    assert names(filter="named", start=2, count=3) == ["owner", "priority", "retries"]
    assert names(filter="named", start=5) == ["source", "len()"]
    assert names(filter="named", start=7, count=2) == []
    assert names(filter="indexed", start=248, count=5) == ["248", "249"]


def test_an_objects_children_page_by_start_and_count(replay: Replay) -> None:
    client = replay("nested")
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    ref = client.ok("evaluate", {"expression": "config", "frameId": frame_id})["variablesReference"]
    whole = [v["name"] for v in client.ok("variables", {"variablesReference": ref})["variables"]]
    assert whole == ["special variables", "hosts", "name", "retries"]
    for paging in ({"start": 1, "count": 2}, {"filter": "named", "start": 2}):
        shown = client.ok("variables", dict(paging, variablesReference=ref))["variables"]
        assert [v["name"] for v in shown] == whole[paging["start"]:paging["start"] + paging.get("count", 9)], paging


@pytest.mark.parametrize("safe", [False, True])
def test_pages_past_the_end_are_empty_and_huge_counts_stop_there(replay: Replay, safe: bool) -> None:
    client = replay("million", safe=safe)
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    ref = client.ok("evaluate", {"expression": "numbers", "frameId": frame_id})["variablesReference"]
    for start in (1000000, 10 ** 30):
        assert client.ok("variables", {"variablesReference": ref, "filter": "indexed", "start": start,
                                       "count": 100})["variables"] == []
    last = client.ok("variables", {"variablesReference": ref, "filter": "indexed", "start": 999999,
                                   "count": 10 ** 30})["variables"]
    assert [v["name"] for v in last] == (["…"] if safe else ["999999"]), last
    assert client.ok("stackTrace", {"threadId": 1, "startFrame": 10 ** 30, "levels": 10 ** 30}) == {
        "stackFrames": [], "totalFrames": 2}
    assert client.ok("modules", {"startModule": 10 ** 30})["modules"] == []


def test_indexed_children_without_a_count_come_as_a_page_and_ranges(replay: Replay) -> None:
    """"All items from 500000" of a million: the next 100 and a "more" row, not 500000 rows."""
    client = replay("million")
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    ref = client.ok("evaluate", {"expression": "numbers", "frameId": frame_id})["variablesReference"]
    rows = client.ok("variables", {"variablesReference": ref, "filter": "indexed", "start": 500000},
                     timeout=10)["variables"]
    assert [r["name"] for r in rows[:2]] == ["500000", "500001"] and rows[99]["name"] == "500099"
    assert (rows[100]["name"], rows[100]["value"], len(rows)) == ("more", "499900 more items", 101)


@pytest.mark.parametrize("safe", [False, True])
def test_a_name_of_a_module_whose_globals_the_dump_cannot_read_says_so(
        tbdap: Callable[..., DapClient], dumps: Callable[[str], Path], tmp_path: Path, safe: bool) -> None:
    # A module's globals are read when first asked for: damaged, a NameError alone would say
    # the program had no such name.
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(globals_unreadable(dumps("nested"), tmp_path / "damaged.pkl")),
                            "safe": safe})
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    assert client.ok("evaluate", {"expression": "label", "frameId": frame_id})["result"] == "'missing-21'"
    said = client.fail("evaluate", {"expression": "Config", "frameId": frame_id, "context": "watch"})
    assert said.startswith("NameError: name 'Config' is not defined") and said.endswith(
        "Not in the dump: this module's globals (not readable: the dump's member 'globals.0' is damaged "
        "(not JSON)).") and said.count("not readable") == 1, said
