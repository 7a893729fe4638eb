"""Add to Watch, Copy as Expression and hovers in safe mode: every row of the Variables view has an
evaluateName, and in safe mode (nothing of the dump unpickled) evaluate answers it from the
previews.  It answered names, attributes and items by a plain constant only: a len() row's
`len(parts)`, a dict item under a tuple, a frozenset or a complex key, and a hover on
`parts[-1]` said "Only names and attribute/item access can be evaluated here"."""
from __future__ import annotations

import functools
import importlib.util
from typing import Any, Callable, Dict, Iterator, List

import pytest

from .dapclient import DapClient

Replay = Callable[..., DapClient]

SAFE_ONLY = ("Only names, attribute/item access and len() can be evaluated here: safe mode: objects are not loaded "
             "(nothing from the file is run).")
# The group rows of a scope carry their label as evaluateName, as under debugpy: a label, which
# no mode evaluates.
GROUP_LABELS = {"special variables", "function variables", "class variables"}
DEPTH = 3    # rows below a scope's: their children, and those of these
ITEMS = 30   # the first items of a container, a page of them as VS Code asks


def rows_under(client: DapClient, ref: int, depth: int = 0) -> Iterator[Dict[str, Any]]:
    """The rows of the view below ``ref``, as a user expands them: every group, item and
    attribute down to DEPTH, the first ITEMS of each container."""
    for row in client.ok("variables", {"variablesReference": ref, "start": 0, "count": ITEMS})["variables"]:
        yield row
        if row["variablesReference"] and depth < DEPTH:
            yield from rows_under(client, row["variablesReference"], depth + 1)


def top_frame(client: DapClient) -> int:
    return client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]["id"]


def frame_rows(client: DapClient, frame_id: int) -> List[Dict[str, Any]]:
    rows: List[Dict[str, Any]] = []
    for scope in client.ok("scopes", {"frameId": frame_id})["scopes"]:
        rows += rows_under(client, scope["variablesReference"], 1 if scope["name"] == "Globals" else 0)
    return rows


def answer(client: DapClient, frame_id: int, expression: str, context: str = "hover") -> str:
    """What the user sees: the value evaluate answers, else its error message."""
    response = client.request("evaluate", {"expression": expression, "frameId": frame_id, "context": context})
    return response["body"]["result"] if response["success"] else response["message"]


@pytest.mark.parametrize("program", [
    "nested",       # ints, texts, a list, a dict, an object: len() rows of each
    "oddkeys",      # dict keys of every literal kind: tuples, frozensets, complex, bytes, None
    "containers",   # subclasses of the builtins, the collections types, big ones paged
    "watches",      # a frozenset key, negative keys, a deque
    *(pytest.param(program, marks=pytest.mark.skipif(importlib.util.find_spec("numpy") is None,
                                                     reason="numpy is not installed"))
      for program in ("arrays", "numpykeys")),   # numpy arrays and scalars; dict keys of numpy scalars
])
@pytest.mark.parametrize("context", ["watch", "hover"])
def test_every_expression_the_view_offers_evaluates_to_the_row_in_safe_mode(replay: Replay, program: str,
                                                                           context: str) -> None:
    client = replay(program, safe=True)
    frame_id = top_frame(client)
    rows = frame_rows(client, frame_id)
    offered = [r for r in rows if "evaluateName" in r and r["name"] not in GROUP_LABELS]
    assert any(r["name"] == "len()" for r in offered), offered   # the walk reaches what it is about
    wrong = {}
    for row in offered:
        got = answer(client, frame_id, row["evaluateName"], context)
        if got != row["value"]:
            wrong[row["evaluateName"]] = (row["value"], got)
    assert not wrong, wrong
    # A group's label is no expression: one line says what evaluates here.
    labelled = [row for row in rows if row["name"] in GROUP_LABELS and "evaluateName" in row]
    assert labelled, "the case holds: a scope's groups carry their label"
    for row in labelled:
        assert answer(client, frame_id, row["evaluateName"], context) == SAFE_ONLY


def test_a_hover_reads_what_the_preview_holds_and_says_what_it_cannot(replay: Replay) -> None:
    """What a user types or points at beyond the view's own expressions: an item counted from
    the end, a key written in another order; and one clear line for what the previews cannot
    answer without running the program's code."""
    client = replay("nested", safe=True)
    result = functools.partial(answer, client, top_frame(client))

    assert [result(e) for e in ("parts[-1]", "parts[-3]", "config.hosts[-2]", "len(config.hosts)")] == [
        result("parts[2]"), result("parts[0]"), result("config.hosts[0]"), "2"]
    assert result("table[7]") == "'seven'" and result("table[(7)]") == "'seven'"
    not_held = "is not in the captured preview, and safe mode: objects are not loaded (nothing from the file is run)."
    assert result("parts[-4]") == "parts[-4] " + not_held
    assert result("len(total)") == "len(total) " + not_held
    assert result("table['absent']") == "table['absent'] " + not_held
    for code in ("parts[0:2]", "table[label]", "len(parts, 2)", "sorted(parts)", "total + 1", "parts[[1]]",
                 "table[frozenset(parts)]", "__import__('os')"):
        assert result(code) == SAFE_ONLY, code


def test_a_key_matches_whatever_order_it_is_written_in(replay: Replay) -> None:
    """A frozenset's repr lists its members in the order the set holds them, which the order
    they were added decides (-1 and -2 hash alike): a key written in the other order is the same
    key.  A dict's negative key is its key; a sequence's negative index counts from its end."""
    client = replay("watches", safe=True)
    result = functools.partial(answer, client, top_frame(client), context="watch")

    assert result("ledger[frozenset({-1, -2})]") == result("ledger[frozenset({-2, -1})]") == "'pair'"
    assert result("ledger[-1]") == "'minus one'"
    assert [result(e) for e in ("recent[-1]", "totals[-3]", "pair[-1]")] == ["'c'", "10", "'right'"]


def test_a_watch_whose_contents_the_preview_lacks_says_why_as_the_view_does(replay: Replay) -> None:
    """A watched module or typing object opens on the row its Variables view row opens on,
    which says safe mode is why its contents are not shown; the watch said "no object stands
    behind this preview"."""
    client = replay("everyday", safe=True)
    frame_id = top_frame(client)

    def rows(ref: int) -> List[Dict[str, Any]]:
        return client.ok("variables", {"variablesReference": ref})["variables"]

    def opened(ref: int) -> List[Any]:
        return [(r["name"], r["value"]) for r in rows(ref)]
    listed = {r["name"]: r for r in rows(client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"])}
    for name in ("module", "hint"):
        in_view = opened(listed[name]["variablesReference"])
        assert "safe mode" in in_view[0][1], in_view  # the case holds: the preview has no contents
        watched = client.ok("evaluate", {"expression": name, "frameId": frame_id, "context": "watch"})
        assert opened(watched["variablesReference"]) == in_view, name
