"""How VS Code's views lay out what a replay shows (the Variables view's rows, the Call Stack's
threads), checked against live debugpy on the same crash."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from ..conftest import rewrite_safe_layer
from .conftest import PROGRAMS
from .dapclient import REPO, DapClient
from .test_live_leftovers import crash_dump, live, top_frame

GROUPS = ("special variables", "function variables", "class variables")


def container_layout(client: DapClient, stopped: Dict[str, Any]) -> Dict[str, List[Any]]:
    """Under each container among the top frame's locals, its rows in order: a name, or a function
    or class group as (label, [(name, type) of its rows]).  A set's members are "<member>":
    debugpy names them by id(), a replay by position."""
    ref = client.ok("scopes", {"frameId": top_frame(client, stopped)})["scopes"][0]["variablesReference"]
    shown = {}
    for row in client.ok("variables", {"variablesReference": ref})["variables"]:
        if row["name"] in GROUPS or not row["variablesReference"]:
            continue

        def name(text: str) -> str:
            return "<member>" if row["type"] in ("set", "frozenset") and text.isdigit() else text
        layout: List[Any] = []
        for kid in client.ok("variables", {"variablesReference": row["variablesReference"]})["variables"]:
            if kid["name"] in GROUPS[1:]:
                layout.append((kid["name"], [(name(g["name"]), g["type"]) for g in client.ok(
                    "variables", {"variablesReference": kid["variablesReference"]})["variables"]]))
            else:
                layout.append(name(kid["name"]))
        shown[row["name"]] = layout
    return shown


def without_type_rows(layout: Dict[str, List[Any]]) -> Dict[str, List[Any]]:
    """A layout as safe mode shows it: a builtin container has no rows of its type's own (its
    dunders, its bound methods), which only the loaded object shows (docs/DAP.md)."""
    out = {}
    for container, rows in layout.items():
        kept: List[Any] = []
        for row in rows:
            if isinstance(row, tuple):
                items = [(n, t) for n, t in row[1] if t != "builtin_function_or_method"]
                if items:
                    kept.append((row[0], items))
            elif row != "special variables":
                kept.append(row)
        out[container] = kept
    return out


@pytest.mark.parametrize("safe", [False, True], ids=["loaded", "safe"])
def test_items_that_are_functions_or_classes_are_grouped_as_debugpy_groups_them(
        tbdap: Callable[..., DapClient], tmp_path: Path, safe: bool) -> None:
    """A dict, list, tuple or set holding functions or classes (a dispatch table, a list of
    formats): debugpy lists each such item under the container's "function variables" or
    "class variables", as it groups a frame's variables, unless a text key names it; tbdap
    listed them all among the items, where a user of debugpy does not look for them."""
    program = PROGRAMS / "dispatch.py"
    expected = live(program, container_layout)
    assert ("class variables", [("0", "type"), ("1", "type")]) in expected["formats"], expected
    assert "'missing'" in expected["by_name"] and "404" not in expected["by_code"], expected
    client = tbdap()
    client.initialize()
    got = container_layout(client, client.start("launch", {"dumpFile": str(crash_dump(program, tmp_path / "d.pkl")),
                                                           "safe": safe}))
    assert got == (without_type_rows(expected) if safe else expected)


def thread_names(client: DapClient, stopped: Dict[str, Any]) -> Tuple[List[str], str]:
    """The Call Stack view's threads, in order, and the one it opens (the stopped event's)."""
    threads = client.ok("threads")["threads"]
    return [t["name"] for t in threads], [t["name"] for t in threads if t["id"] == stopped["body"]["threadId"]][0]


@pytest.mark.parametrize("how, crashing", [("main", "MainThread"), ("thread", "importer"), ("dump", "importer"),
                                           ("pool", "ThreadPoolExecutor-0_1")])
def test_threads_are_listed_in_the_order_they_started_as_debugpy_lists_them(
        tbdap: Callable[..., DapClient], tmp_path: Path, how: str, crashing: str) -> None:
    """The Call Stack view lists every thread as the program started them, MainThread first, whichever
    crashed, and opens the crashing one, as under debugpy: the replay listed the others newest
    first (the interpreter's order), so a pool's workers came last to first, and put the crashing
    thread first, so a worker's crash (uncaught, or its dump_exception, in a thread of its own or a
    ThreadPoolExecutor's) came above MainThread and the threads started before it."""
    program = tmp_path / "started.py"
    shutil.copy(PROGRAMS / "started.py", program)
    expected = live(program, thread_names, ["raised"] if how in ("dump", "pool") else ["uncaught"],
                    args=[how], env={"PYTHONPATH": str(REPO)})
    assert expected[1] == crashing and expected[0][0] == "MainThread", expected
    dump = crash_dump(program, tmp_path / "crash.pkl", how)
    client = tbdap()
    client.initialize()
    assert thread_names(client, client.start("launch", {"dumpFile": str(dump)})) == expected


@pytest.mark.parametrize("place, names", [
    (None, ["importer", "MainThread", "uploader", "archiver"]),
    (2 ** 62, ["MainThread", "uploader", "archiver", "importer"])], ids=["older-dump", "past-the-end"])
def test_a_crashing_thread_whose_place_is_not_recorded_is_listed_first(
        tbdap: Callable[..., DapClient], tmp_path: Path, place: Any, names: List[str]) -> None:
    """A dump written before tbdump recorded where the crashing thread started lists it first, as
    then (a guard: this worked before); a place past the last thread (a crafted dump) lists it last.
    Either way the replay stops in it, and it is the thread that raised."""
    program = tmp_path / "started.py"
    shutil.copy(PROGRAMS / "started.py", program)

    def edit(safe: Dict[str, Any]) -> None:
        safe["threads"][0].pop("place", None)
        if place is not None:
            safe["threads"][0]["place"] = place
    dump = rewrite_safe_layer(crash_dump(program, tmp_path / "crash.pkl", "thread"), tmp_path / "edited.pkl", edit)
    client = tbdap()
    client.initialize()
    stopped = client.start("launch", {"dumpFile": str(dump)})
    assert thread_names(client, stopped) == (names, "importer")
    assert client.ok("exceptionInfo", {"threadId": stopped["body"]["threadId"]})["exceptionId"] == "KeyError"


def row_named(client: DapClient, ref: int, name: str) -> Dict[str, Any]:
    return [row for row in client.ok("variables", {"variablesReference": ref})["variables"] if row["name"] == name][0]


def test_an_item_set_in_its_group_changes_the_container_and_leaves_the_group(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """A class listed in its list's "class variables" is set there as any item is (debugpy
    refuses: "Unable to change"): the list holds the new value, and listed again the item stands
    among the items, no class any more.  Guards what already worked."""
    client = tbdap()
    client.initialize()
    frame = top_frame(client, client.start("launch", {"dumpFile": str(crash_dump(PROGRAMS / "dispatch.py",
                                                                                  tmp_path / "d.pkl"))}))
    scope = client.ok("scopes", {"frameId": frame})["scopes"][0]["variablesReference"]
    ref = row_named(client, scope, "formats")["variablesReference"]
    group = row_named(client, ref, "class variables")["variablesReference"]
    xml = row_named(client, group, "1")
    assert (xml["value"], xml["evaluateName"]) == ("<class '__main__.Xml'>", "formats[1]"), xml
    set_to = client.ok("setVariable", {"variablesReference": group, "name": "1", "value": "7"})
    assert (set_to["value"], set_to["type"]) == ("7", "int"), set_to
    assert client.ok("evaluate", {"expression": "formats", "frameId": frame, "context": "watch"})["result"] == \
        "[<class '__main__.Json'>, 7, 'text']"
    assert row_named(client, ref, "1")["value"] == "7"
    group = row_named(client, ref, "class variables")["variablesReference"]
    assert [r["name"] for r in client.ok("variables", {"variablesReference": group})["variables"]] == ["0"]
