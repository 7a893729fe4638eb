"""Every sized container pages in the Variables view as a list does, whatever class it is:
subclasses of the builtins, the collections types, numpy arrays and their subclasses (as
debugpy shows every ndarray subclass as an array); from the previews (safe
mode) and from the loaded objects.  No request reads more of a container than the page it
answers, and the program's own code that never returns (a __len__, an __iter__, a
__getitem__ of the replayed object) is cut short, never a hang.

Through the real client over a pipe, every message checked against the DAP schema;
programs/containers.py makes the dump (programs/restoring.py one whose restoring never returns).
"""
from __future__ import annotations

import signal
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import pytest

from .conftest import serving
from .dapclient import DapClient

Replay = Callable[..., DapClient]
GROUPS = {"special variables", "function variables", "class variables"}
FAST = 10.0  # seconds a request may take on a loaded machine before it counts as a hang (the old code took minutes)


class Shown(NamedTuple):
    """How a container of programs/containers.py shows: its type, its attributes (named
    children besides the groups and len()), its 241st item's name, value and evaluateName."""

    type: str
    attributes: List[str]
    name: str
    value: Optional[str]   # None: not compared (a numpy scalar's repr is numpy's)
    evaluate: Optional[str]


ARRAY = ["dtype", "max", "min", "shape", "size"]  # the rows above an array's items, as debugpy lists them
CONTAINERS = {
    "batch": Shown("Batch", ["retries", "source"], "240", "240", "batch[240]"),
    "registry": Shown("Registry", ["owner"], "'k240'", "240", "registry['k240']"),
    "ordered": Shown("OrderedDict", [], "'k240'", "240", "ordered['k240']"),
    "defaults": Shown("defaultdict", [], "'k240'", "[240]", "defaults['k240']"),
    "counts": Shown("Counter", ["_keep_positive"], "'k240'", "240", "counts['k240']"),
    "recent": Shown("deque", ["maxlen"], "240", "240", "recent[240]"),
    "row": Shown("Row", [], "240", "240", "row[240]"),
    "members": Shown("Members", [], "240", "240", None),
    "frozen": Shown("Frozen", [], "240", "240", None),
    "array": Shown("ndarray", ARRAY, "240", None, "array[240]"),
    "matrix": Shown("matrix", ARRAY, "240", "matrix([[240]])", "matrix[240]"),
    "masked": Shown("MaskedArray", ARRAY, "240", None, "masked[240]"),
    "tagged": Shown("Tagged", ARRAY, "240", None, "tagged[240]"),
}
NUMPY = {"array", "matrix", "masked", "tagged"}


def locals_of(client: DapClient) -> Dict[str, Dict[str, Any]]:
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    ref = client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"]
    return {v["name"]: v for v in client.ok("variables", {"variablesReference": ref})["variables"]}


def listed(client: DapClient, row: Dict[str, Any], timeout: float = FAST, **paging: Any) -> List[Dict[str, Any]]:
    return client.ok("variables", dict(paging, variablesReference=row["variablesReference"]),
                     timeout=timeout)["variables"]


def names(rows: List[Dict[str, Any]]) -> List[str]:
    return [r["name"] for r in rows]


@pytest.mark.parametrize("safe", [False, True], ids=["loaded", "safe"])
@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_every_sized_container_pages_as_a_list_does(replay: Replay, name: str, safe: bool) -> None:
    shown = CONTAINERS[name]
    if name in NUMPY:
        pytest.importorskip("numpy")
    client = replay("containers", safe=safe)
    row = locals_of(client)[name]
    assert (row["type"], row.get("indexedVariables")) == (shown.type, 250), row

    # VS Code: the named children, then the items 100 at a time.
    named = listed(client, row, filter="named")
    assert row["namedVariables"] == len(named), (row, named)
    assert [n for n in names(named) if n not in GROUPS] == shown.attributes + ["len()"], named
    assert named[-1]["value"] == "250"
    first = listed(client, row, filter="indexed", start=0, count=2)
    assert names(first) == [shown.name.replace("240", "000"), shown.name.replace("240", "001")], first
    last = listed(client, row, filter="indexed", start=240, count=100)
    if safe:  # the preview holds the first items only
        assert names(last) == ["…"] and "not captured: items from 240 on" in last[0]["value"], last
    else:
        assert names(last) == [shown.name.replace("240", "%03d" % i) for i in range(240, 250)], last
        assert shown.value in (None, last[0]["value"]) and last[0].get("evaluateName") == shown.evaluate, last[0]

    # A client that does not page (nvim-dap): the named children, 100 items, and "more".
    rows = listed(client, row)
    assert names(rows[:len(named)]) == names(named)
    items, more = rows[len(named):-1], rows[-1]
    assert len(items) == (21 if safe else 100), names(items)  # safe: 20 previewed and a "not captured" row
    assert (more["name"], more["value"]) == ("more", "150 more items"), more


@pytest.mark.parametrize("safe", [False, True], ids=["loaded", "safe"])
def test_a_million_item_subclass_opens_at_once(replay: Replay, safe: bool) -> None:
    """Listing a Batch(list) of a million items read all of them (minutes, to the user a hang)."""
    client = replay("containers", safe=safe)
    huge = locals_of(client)["huge"]
    rows = listed(client, huge)  # as a client that does not page asks: all of it
    assert (huge["type"], huge.get("indexedVariables"), huge.get("namedVariables")) == ("Batch", 1000000, 5), huge
    assert [r["name"] for r in rows if r["name"] not in GROUPS][:3] == ["retries", "source", "len()"], rows
    assert (rows[-1]["name"], rows[-1]["value"]) == ("more", "999900 more items")
    ranges = listed(client, rows[-1])
    assert names(ranges[:2]) == ["[100:1100]", "[1100:2100]"] and len(ranges) == 1000, names(ranges[:3])
    end = listed(client, huge, filter="indexed", start=999990, count=100)  # the old code took minutes
    if not safe:
        assert [(r["name"], r["value"], r["evaluateName"]) for r in end[-2:]] == [
            ("999998", "999998", "huge[999998]"), ("999999", "999999", "huge[999999]")], end[-2:]

    # One level down the preview holds only its length: the loaded object tells it is a list.
    holder = locals_of(client)["holder"]
    batch = next(r for r in listed(client, holder) if r["name"] == "batch")
    if safe:
        assert "indexedVariables" not in batch
        said = listed(client, batch)
        assert len(said) == 1 and said[0]["value"].startswith("<not captured: its contents (safe mode"), said
    else:
        assert batch.get("indexedVariables") == 1000000, batch
        rows = listed(client, batch)
        assert names(rows)[-3:] == ["000098", "000099", "more"], names(rows)[-3:]


def test_completions_of_an_object_whose_dir_never_returns_come_back(tbdap: Callable[..., DapClient],
                                                                    dumps: Callable[[str], Path]) -> None:
    """VS Code asks for completions as the user types `dirless.` in the console: the
    object's __dir__ spins, so its attributes are not offered, and the session goes on."""
    client = stalling(tbdap, dumps, 0.5, 3)
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    said = client.ok("completions", {"text": "dirless.ap", "column": 11, "frameId": frame_id}, timeout=FAST)
    assert said["targets"] == [], said
    said = client.ok("completions", {"text": "refusing.ap", "column": 12, "frameId": frame_id}, timeout=FAST)
    assert [t["label"] for t in said["targets"]] == ["append"], said


def test_showing_a_big_dict_subclass_reads_what_it_shows(replay: Replay) -> None:
    """Tally(dict) counts the keys its __iter__ hands out: its repr reads the 60 it shows, and a
    page deep in it is read past in C, not through the program's code."""
    client = replay("containers")
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    client.ok("evaluate", {"expression": "tally.read = 0", "frameId": frame_id, "context": "repl"})
    tally = client.ok("evaluate", {"expression": "tally", "frameId": frame_id, "context": "watch"})
    assert tally["result"].startswith("{'k000000': 0, 'k000001': 1, ") and tally["indexedVariables"] == 100000
    page = listed(client, tally, filter="indexed", start=50000, count=100)
    assert names(page[:1]) == ["'k050000'"]
    read = client.ok("evaluate", {"expression": "tally.read", "frameId": frame_id, "context": "watch"})
    assert int(read["result"]) <= 100, read


def stalling(tbdap: Callable[..., DapClient], dumps: Callable[[str], Path], value_seconds: float,
             max_seconds: float) -> DapClient:
    """A client of the containers dump, loaded, whose tbdap gives the program's code these budgets."""
    client = tbdap(env={"TBDUMP_VALUE_SECONDS": str(value_seconds), "TBDUMP_MAX_SECONDS": str(max_seconds)})
    client.initialize()
    client.start("launch", {"dumpFile": str(dumps("containers"))})
    return client


def test_the_programs_code_that_never_returns_is_cut_short(tbdap: Callable[..., DapClient],
                                                          dumps: Callable[[str], Path]) -> None:
    """Stalling(list) spins for ever in its __len__, __iter__ or __getitem__ once replayed: each
    step that runs it ends after TBDUMP_VALUE_SECONDS, saying so, and the session goes on."""
    client = stalling(tbdap, dumps, 0.5, 3)
    stalls = locals_of(client)["stalls"]
    rows = {r["name"]: r for r in listed(client, stalls)}
    by_len, by_iter, by_getitem = rows["0"], rows["1"], rows["2"]
    cut = "ran the program's code for over 0.5 s (TBDUMP_VALUE_SECONDS)"
    for row, shows in ((by_len, {}), (by_getitem, {"filter": "indexed", "start": 0, "count": 100})):
        said = listed(client, row, **shows)
        assert len(said) == 1 and said[0]["name"] == "…" and cut in said[0]["value"], said
    assert "indexedVariables" not in by_len  # how many items it has cannot be told
    assert by_iter["indexedVariables"] == by_getitem["indexedVariables"] == 250
    # Its attributes and its length are still read.
    named = {r["name"]: r["value"] for r in listed(client, by_getitem, filter="named")}
    assert (named["stall"], named["len()"]) == ("'__getitem__'", "250"), named

    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    watched = client.ok("evaluate", {"expression": "stalls[1]", "frameId": frame_id, "context": "watch"},
                        timeout=FAST)
    assert watched["result"] == "<not shown: describing it %s>" % cut, watched
    assert watched["indexedVariables"] == 250  # its items are read by index, not by its __iter__
    assert names(listed(client, watched, filter="indexed", start=248, count=2)) == ["248", "249"]
    # Copy Value runs the class's repr(), list's own, which does not iterate: it copies the whole value.
    copied = client.ok("evaluate", {"expression": "stalls[1]", "frameId": frame_id, "context": "clipboard"})
    assert copied["result"].endswith(", 248, 249]"), copied
    assert client.ok("threads")["threads"]


def test_an_error_of_the_programs_code_is_shown_where_it_happened(replay: Replay) -> None:
    """Refusing(list)'s __getitem__ raises in the replay: its page says so, in one row, and the
    rest of it shows (an internal error of tbdap's before)."""
    client = replay("containers")
    refusing = locals_of(client)["refusing"]
    rows = listed(client, refusing)  # as a client that does not page asks
    note = ("…", "<not shown: listing its items raised LookupError: the shard is offline>")
    assert [(r["name"], r["value"]) for r in rows if r["name"] not in GROUPS] == [
        ("replayed", "True"), ("shard", "'eu-1'"), ("len()", "250"), note, ("more", "150 more items")], rows
    assert refusing["indexedVariables"] == 250
    said = listed(client, refusing, filter="indexed", start=0, count=100)
    assert [(r["name"], r["value"]) for r in said] == [note], said


def test_one_request_runs_the_programs_code_for_max_seconds_at_most(tbdap: Callable[..., DapClient],
                                                                   dumps: Callable[[str], Path]) -> None:
    """Ten items whose repr never returns: the request shows the first cut short after 1 s
    (TBDUMP_VALUE_SECONDS) and gives the rest up once it has run their code for 2 s
    (TBDUMP_MAX_SECONDS), not 10 s.  Restoring the dump's plain data before `stalls` (two
    lists of a million items) runs no code of the program's and is not counted: on a loaded
    machine it took over 2 s, was given up on, and the previews were shown instead."""
    client = stalling(tbdap, dumps, 1, 2)
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    ten = client.ok("evaluate", {"expression": "[stalls[1]] * 10", "frameId": frame_id, "context": "watch"})
    assert "TBDUMP_VALUE_SECONDS" in ten["result"], ten  # the loaded objects (the previews: "[[0, 1, ...], ...]")
    rows = listed(client, ten)
    values = [r["value"] for r in rows if r["name"] not in GROUPS | {"len()"}]
    assert len(values) == 10 and "TBDUMP_VALUE_SECONDS" in values[0], values
    assert values[-1] == "<not shown: this request already ran the program's code for 2 s (TBDUMP_MAX_SECONDS)>"
    again = client.ok("evaluate", {"expression": "stalls[1].__dict__", "frameId": frame_id, "context": "watch"})
    assert again["result"] == "{'stall': '__iter__', 'replayed': True}"  # a new request has its own time


def test_a_cancelled_request_is_cut_short_and_answered_cancelled(tbdap: Callable[..., DapClient],
                                                                dumps: Callable[[str], Path]) -> None:
    """The user moves on while the program's code spins (budgets of a minute): `cancel` ends the
    request running now, answers one still waiting unrun, and interrupts an endless REPL line;
    each answers as the spec says, success false and message "cancelled" (before, `cancel` was an
    unknown command and the request ran its minute)."""
    client = tbdap(env={"TBDUMP_VALUE_SECONDS": "60", "TBDUMP_MAX_SECONDS": "60"})
    assert client.initialize()["supportsCancelRequest"] is True
    client.start("launch", {"dumpFile": str(dumps("containers"))})
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    by_getitem = client.ok("evaluate", {"expression": "stalls[2]", "frameId": frame_id, "context": "watch"})
    spinning = client.send("variables", {"variablesReference": by_getitem["variablesReference"],
                                         "filter": "indexed", "start": 0, "count": 100})
    waiting = client.send("variables", {"variablesReference": by_getitem["variablesReference"], "filter": "named"})
    time.sleep(1)  # spinning in __getitem__
    cancels = [client.send("cancel", {"requestId": seq}) for seq in (waiting, spinning)]
    for seq in (spinning, waiting):
        answer = client.response(seq, timeout=FAST)
        assert (answer["success"], answer["message"]) == (False, "cancelled"), answer
    assert all(client.response(seq)["success"] for seq in cancels)

    endless = client.send("evaluate", {"expression": "while True: pass", "frameId": frame_id, "context": "repl"})
    time.sleep(0.5)  # it is running now
    client.ok("cancel", {"requestId": endless})
    answer = client.response(endless, timeout=FAST)
    assert (answer["success"], answer["message"]) == (False, "cancelled"), answer
    # The session goes on, each request with its own time; a cancel of a request already
    # answered (or of none) changes nothing.
    client.ok("cancel", {"requestId": endless})
    client.ok("cancel", {})
    again = client.ok("evaluate", {"expression": "stalls[1].__dict__", "frameId": frame_id, "context": "watch"})
    assert again["result"] == "{'stall': '__iter__', 'replayed': True}"
    assert "Traceback" not in client.stderr, client.stderr


def test_the_programs_code_is_cut_short_in_server_mode_too(dumps: Callable[[str], Path]) -> None:
    """`--port` serves its clients on the main thread, where the clock can end a __len__ that
    never returns (a helper thread could not be interrupted)."""
    with serving(dumps("containers")) as port:
        client = DapClient.connect(port)
        try:
            client.initialize()
            client.start("attach", {})
            stalls = locals_of(client)["stalls"]
            by_len = {r["name"]: r for r in listed(client, stalls)}["0"]
            said = listed(client, by_len, timeout=FAST + 10)  # the default budgets: 1 s a step, 10 s a request
            assert "ran the program's code for over 1 s (TBDUMP_VALUE_SECONDS)" in said[0]["value"], said
        finally:
            client.close()


def test_a_value_whose_restoring_never_returns_is_given_up_on(tbdap: Callable[..., DapClient],
                                                             dumps: Callable[[str], Path]) -> None:
    """programs/restoring.py: a __setstate__ that never returns (a reconnect) held the request that
    needed that value, or any value restored after it, for ever; a server then served no one."""
    client = tbdap(env={"TBDUMP_MAX_SECONDS": "2"})
    client.initialize()
    client.start("launch", {"dumpFile": str(dumps("restoring"))})
    rows = locals_of(client)
    assert rows["conn"]["value"].startswith("<__main__.Reconnecting object"), rows  # the previews
    stuck = ("not restored: restoring it, or a value the dump holds before it, ran the program's code "
             "(a __setstate__ or __reduce__) for over 2 s (TBDUMP_MAX_SECONDS)")
    page = listed(client, rows["numbers"], filter="indexed", start=250, count=50)
    assert [r["name"] for r in page] == ["…"] and stuck in page[0]["value"], page
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    # Asked again (a watch, a hover), or another value restored after the stuck one asked: each
    # request is answered with the given-up text, without a second try at restoring: that would
    # wait TBDUMP_MAX_SECONDS again, in a thread of its own that would stay stuck too.
    assert client.proc is not None
    threads = set(os.listdir("/proc/%d/task" % client.proc.pid))
    for name in ("numbers", "numbers", "conn"):
        said = client.fail("evaluate", {"expression": name + "[250]", "frameId": frame_id, "context": "watch"})
        assert "Not in the dump: %s (%s)" % (name, stuck) in said, said
    assert set(os.listdir("/proc/%d/task" % client.proc.pid)) <= threads, "restoring was tried again"
    assert client.ok("evaluate", {"expression": "6 * 7", "frameId": frame_id, "context": "watch"})["result"] == "42"
    assert listed(client, rows["numbers"], filter="indexed", start=0, count=2)[1]["value"] == "1"  # previewed
    client.close()
    assert client.proc is not None and client.proc.returncode == 0, client.stderr


def test_an_exception_whose_cause_never_restores_is_given_up_on(tbdap: Callable[..., DapClient],
                                                               dumps: Callable[[str], Path]) -> None:
    """programs/restoring_cause.py: the raised error is restored, its cause (linked to it when it
    is handed out) only after a value that never restores; asking for the error's cause is given
    up on as for any value that waits on that one, never a request held for ever."""
    client = tbdap(env={"TBDUMP_MAX_SECONDS": "2"})
    client.initialize()
    client.start("launch", {"dumpFile": str(dumps("restoring_cause"))})
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    time.sleep(2)  # the background restoring is past the error, in the value that never returns
    said = client.fail("evaluate", {"expression": "__exception__[1].__cause__", "frameId": frame_id,
                                    "context": "watch"})
    assert "'__cause__' is not in the captured preview of this value" in said, said  # the object's
    assert client.ok("evaluate", {"expression": "6 * 7", "frameId": frame_id, "context": "watch"})["result"] == "42"
    client.close()
    assert client.proc is not None and client.proc.returncode == 0, client.stderr


def test_ctrl_c_while_the_programs_code_runs_still_ends_the_adapter(tbdap: Callable[..., DapClient],
                                                                   dumps: Callable[[str], Path]) -> None:
    """The clock that bounds the program's code takes SIGINT while it runs: it hands it on."""
    client = stalling(tbdap, dumps, 60, 60)
    frame_id = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]
    by_getitem = client.ok("evaluate", {"expression": "stalls[2]", "frameId": frame_id, "context": "watch"})
    client.send("variables", {"variablesReference": by_getitem["variablesReference"], "filter": "indexed",
                              "start": 0, "count": 100})
    time.sleep(1)  # spinning in __getitem__
    assert client.proc is not None
    client.proc.send_signal(signal.SIGINT)
    assert client.proc.wait(timeout=FAST) == 0
    assert "Traceback" not in client.stderr, client.stderr
