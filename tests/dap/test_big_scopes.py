"""A module of thousands of globals, paged through as a client scrolls the Variables view: its
scope's rows are built once, and built again when Set Value or the console changes the replay."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

from .conftest import make_dump
from .dapclient import DapClient

PLAIN = ["V_%04d" % i for i in range(2000)]
PRIVATE = ["_p_%04d" % i for i in range(600)]
PAGE = 100
COMPLETIONS_SHOWN = 1000   # docs/DAP.md: "the first 1 000 matches in order"

PROGRAM = """
    names = globals()
    for i in range(2000):
        names["V_%04d" % i] = i
    for i in range(600):
        names["_p_%04d" % i] = "private %d" % i
    del names, i

    def helper():
        return 1

    class Account:
        pass

    def outer():
        inner()

    def inner():
        raise RuntimeError("deep in a big module")

    outer()
"""


@pytest.fixture(scope="module")
def big_module_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bigmodule")
    program = folder / "bigmodule.py"
    program.write_text(textwrap.dedent(PROGRAM))
    return make_dump(program, folder / "dump.pkl")


def paged(client: DapClient, ref: int) -> List[Dict[str, str]]:
    """Every row of a scope, PAGE at a time, as VS Code asks while the user scrolls."""
    rows: List[Dict[str, str]] = []
    while True:
        got = client.ok("variables", {"variablesReference": ref, "start": len(rows), "count": PAGE})["variables"]
        rows += got
        if len(got) < PAGE:
            return rows


def scopes(client: DapClient, frame: Dict[str, int]) -> Dict[str, int]:
    return {s["name"]: s["variablesReference"] for s in client.ok("scopes", {"frameId": frame["id"]})["scopes"]}


def opened(tbdap: Callable[..., DapClient], dump: Path) -> Tuple[DapClient, Dict[str, Dict[str, int]]]:
    """A client stopped in the dump, and the frames of the module by name."""
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
    return client, {f["name"]: f for f in frames if f["source"]["name"] == "bigmodule.py"}


def module_views(client: DapClient, frames: Dict[str, Dict[str, int]]) -> Dict[str, Dict[str, str]]:
    """Each view of the module's globals, paged: the Globals scope of every frame of the module,
    and the module frame's Locals (its globals); name -> value."""
    views = {}
    for name, frame in frames.items():
        refs = scopes(client, frame)
        for scope in (("Globals", "Locals") if name == "<module>" else ("Globals",)):
            views["%s %s" % (name, scope)] = {r["name"]: r["value"] for r in paged(client, refs[scope])}
    return views


def test_pages_of_a_big_globals_scope_list_every_name_once_in_order(
        tbdap: Callable[..., DapClient], big_module_dump: Path) -> None:
    client, frames = opened(tbdap, big_module_dump)
    ref = scopes(client, frames["inner"])["Globals"]
    rows = paged(client, ref)
    assert rows == client.ok("variables", {"variablesReference": ref})["variables"]
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    # The groups first, then plain names sorted, then _private ones, as debugpy lists a frame's.
    assert names[:3] == ["special variables", "function variables", "class variables"]
    assert names[3:] == PLAIN + PRIVATE
    assert rows[3 + 1234]["value"] == "1234" and rows[-1]["value"] == "'private 599'"
    functions = client.ok("variables", {"variablesReference": rows[1]["variablesReference"]})["variables"]
    assert [r["name"] for r in functions] == ["helper", "inner", "outer"]


@pytest.mark.parametrize("how", ["setVariable", "console"])
def test_a_global_changed_between_pages_shows_on_the_next_page_in_every_frame_of_the_module(
        tbdap: Callable[..., DapClient], big_module_dump: Path, how: str) -> None:
    client, frames = opened(tbdap, big_module_dump)
    ref = scopes(client, frames["inner"])["Globals"]
    first = client.ok("variables", {"variablesReference": ref, "start": 0, "count": PAGE})["variables"]
    assert first[3]["name"] == "V_0000"
    if how == "setVariable":
        client.ok("setVariable", {"variablesReference": ref, "name": "V_1500", "value": "-7"})
    else:
        # In the module's own frame, whose locals are its globals (in a function's, it makes a local).
        client.ok("evaluate", {"expression": "V_1500 = -7; _p_0003 = 'from the console'",
                               "frameId": frames["<module>"]["id"], "context": "repl"})
    later = client.ok("variables", {"variablesReference": ref, "start": 1500, "count": PAGE})["variables"]
    assert later[3]["name"] == "V_1500" and later[3]["value"] == "-7"
    views = module_views(client, frames)
    assert set(views) == {"inner Globals", "outer Globals", "<module> Globals", "<module> Locals"}
    for view in views.values():
        assert list(view)[3:] == PLAIN + PRIVATE
        assert (view["V_1500"], view["V_1499"]) == ("-7", "1499")
        assert view["_p_0003"] == ("'from the console'" if how == "console" else "'private 3'")
    # A second change shows too: the rows are built again after each, not only after the first.
    client.ok("evaluate", {"expression": "globals()['V_0001'] = 'again'", "frameId": frames["outer"]["id"],
                           "context": "repl"})
    assert paged(client, ref)[3 + 1]["value"] == "'again'"


def completed(client: DapClient, text: str, frame: Dict[str, int]) -> List[Tuple[str, str]]:
    targets = client.ok("completions", {"text": text, "column": len(text) + 1, "frameId": frame["id"]})["targets"]
    return [(t["label"], t["type"]) for t in targets]


def test_console_completions_of_a_big_module_are_bounded_and_follow_the_consoles_changes(
        tbdap: Callable[..., DapClient], big_module_dump: Path) -> None:
    # Every one of the 2 000 V_ globals came back for "V_" (111 111 of a module's 200 000 for
    # "V_1"), and a name the console made was never offered.
    client, frames = opened(tbdap, big_module_dump)
    inner = frames["inner"]
    assert completed(client, "V_", inner) == [(name, "field") for name in PLAIN[:COMPLETIONS_SHOWN]]
    assert completed(client, "x = v_15", inner) == [(name, "field") for name in PLAIN[1500:1600]]
    assert completed(client, "acc", inner) == [("Account", "class")]
    client.ok("evaluate", {"expression": "V_1500 = len; del V_1501; V_15x = Account",
                           "frameId": frames["<module>"]["id"], "context": "repl"})
    after = completed(client, "V_15", inner)
    assert after[:2] == [("V_1500", "function"), ("V_1502", "field")]
    assert [name for name, _ in after] == sorted(set(PLAIN[1500:1600] + ["V_15x"]) - {"V_1501"})
    assert after[-1] == ("V_15x", "class")
