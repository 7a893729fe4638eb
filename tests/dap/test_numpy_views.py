"""numpy arrays and scalars in a replay's Variables view, hovers and Copy Value, next to the same
program stopped live under debugpy.

programs/arrays.py fails holding a 1-d, a 2-d, a 0-d, an empty and a two-million-item array, one
with a NaN, a structured one, one of objects, one of text, a masked array, numpy scalars, and an
array of its own class whose min() raises. For each local of its failing frame the same client
reads, from debugpy live and from tbdap (objects loaded, and in safe mode from the previews
alone): the row (value, type), its hover and Copy Value, a scalar's children, and under an array
the rows debugpy lists above its items (dtype, max, min, shape, size: max and min worked out as
debugpy does, of numbers only and of a million items at most, else its text saying why) and its
items.
Where tbdap shows an array otherwise on purpose, the difference is applied here, by name:

- ITEMS: debugpy puts an array's items under one "[0:n] " row, a list of the first 500
  (PYDEVD_CONTAINER_NUMPY_MAX_ITEMS) whose rows have no evaluateName; tbdap lists the items
  themselves, all of them, paged with indexedVariables as a list's items are (with a len()
  row), each with its evaluateName.  The first page of items is compared, by position.
- INTERNALS: debugpy's "special variables" under an array holds one row, `__internals__`, a
  dict of every attribute of the array; tbdap has no such group there.
- SAFE: in safe mode the preview holds an array's first 20 items; a row past them says
  "not captured", so only the items held are compared.
Memory addresses are normalised, as in test_live_vs_replay.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from .conftest import PROGRAMS, make_dump
from .dapclient import DapClient
from .test_live_vs_replay import FLAGS, GROUPS, PAGE, live, normal, replayed

pytest.importorskip("numpy")

PROGRAM = PROGRAMS / "arrays.py"
ARRAYS = {"samples", "grid", "point", "empty", "huge", "gaps", "records", "objects", "masked", "words"}
SCALARS = {"mean", "count", "ok"}
PREVIEWED = 20  # the items a preview holds (TBDUMP_PREVIEW_ITEMS)
# What VS Code sends as a hover on `grid.shape` and the like: the dotted name under the mouse.
HOVERED = ["grid.shape", "records.dtype", "masked.dtype", "huge.size"]


def top_frame(client: DapClient, stopped: Dict[str, Any]) -> int:
    return client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]["id"]


def listed(client: DapClient, ref: int, **paging: Any) -> List[Dict[str, Any]]:
    return client.ok("variables", dict(paging, variablesReference=ref))["variables"]


def shown_row(row: Dict[str, Any]) -> Tuple[str, str, str]:
    return row["name"], normal(row["value"]), row["type"]


def is_item(name: str) -> bool:
    return name.isdigit()


def array_children(client: DapClient, row: Dict[str, Any]) -> Dict[str, Any]:
    """The rows above an array's items, and the first page of its items (value, type) as VS Code
    asks for them; how many of that page the view said were not captured."""
    if row.get("indexedVariables"):  # tbdap's paged array: named rows, then items 100 at a time
        rows = (listed(client, row["variablesReference"], filter="named")
                + listed(client, row["variablesReference"], filter="indexed", start=0, count=PAGE))
    else:
        rows = listed(client, row["variablesReference"])
    items: List[Dict[str, Any]] = []
    for r in rows:
        if r["name"].startswith("["):  # ITEMS: debugpy's one row of the items, a list
            items += [i for i in listed(client, r["variablesReference"]) if is_item(i["name"])][:PAGE]
    items += [r for r in rows if is_item(r["name"])]
    named = [shown_row(r) for r in rows if not (is_item(r["name"]) or r["name"].startswith("[")
                                                or r["name"] in GROUPS | {"len()", "…"})]
    return {"named": named, "items": [(normal(i["value"]), i["type"]) for i in items],
            "not captured": [r["value"] for r in rows if r["name"] == "…"]}


def view(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Each local of the failing frame as the Variables view, a hover and Copy Value show it;
    a few dotted names hovered."""
    frame_id = top_frame(client, stopped)
    local_ref = client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"]
    shown: Dict[str, Any] = {}
    for row in listed(client, local_ref):
        name = row["name"]
        if name in GROUPS:
            continue
        entry: Dict[str, Any] = {"row": shown_row(row)}
        for context in ("hover", "clipboard"):
            body = client.ok("evaluate", {"expression": name, "frameId": frame_id, "context": context})
            entry[context] = (normal(body["result"]), body.get("type"))
        if name in ARRAYS:
            entry.update(array_children(client, row))
        elif row["variablesReference"]:
            entry["children"] = [(r["name"],) if r["name"] in GROUPS else shown_row(r)
                                 for r in listed(client, row["variablesReference"])]
        shown[name] = entry
    for expression in HOVERED:
        body = client.ok("evaluate", {"expression": expression, "frameId": frame_id, "context": "hover"})
        shown[expression] = (normal(body["result"]), body.get("type"))
    return shown


@pytest.fixture(scope="module")
def debugpy_view() -> Dict[str, Any]:
    shown = live(PROGRAM, view)
    assert ARRAYS | SCALARS <= set(shown), sorted(shown)
    return shown


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dump(PROGRAM, tmp_path_factory.mktemp("arrays") / "dump.pkl", python_flags=FLAGS)


@pytest.mark.parametrize("safe", [False, True], ids=["loaded", "safe"])
def test_arrays_show_what_debugpy_shows(debugpy_view: Dict[str, Any], dump: Path, safe: bool) -> None:
    """Every array shows its value, type, dtype, max, min, shape and size as debugpy does (max
    and min of numbers, else debugpy's reason: empty, not numeric, too big; in safe mode too,
    from the preview), and its items in order; the hovers and Copy Value are the same."""
    expected = debugpy_view
    assert expected["samples"]["named"][1:3] == [("max", "np.float64(1.0)", "float64"),
                                                 ("min", "np.float64(0.0)", "float64")], expected["samples"]
    assert expected["huge"]["named"][1][1].startswith("'ndarray too big"), expected["huge"]
    got = replayed(dump, view, safe=safe)
    for name in sorted(ARRAYS):
        want, have = expected[name], got[name]
        assert (have["row"], have["hover"], have["named"]) == (want["row"], want["hover"], want["named"]), name
        assert have["clipboard"] == want["clipboard"], name
        if safe:
            held = min(PREVIEWED, len(want["items"]))
            assert have["items"] == want["items"][:held], name
            assert bool(have["not captured"]) == (len(want["items"]) > held), (name, have["not captured"])
        else:
            assert (have["items"], have["not captured"]) == (want["items"], []), name
    for name in sorted(SCALARS):
        want, have = expected[name], got[name]
        assert (have["row"], have["hover"], have["clipboard"]) == (want["row"], want["hover"], want["clipboard"]), name
        assert have.get("children") == want.get("children"), name
    assert [got[e] for e in HOVERED] == [expected[e] for e in HOVERED]


def grid_rows(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> List[Dict[str, Any]]:
    """Each row of the 2-d array `grid` opened as array_children reads an array."""
    local_ref = client.ok("scopes", {"frameId": top_frame(client, stopped)})["scopes"][0]["variablesReference"]
    grid = next(r for r in listed(client, local_ref) if r["name"] == "grid")
    rows: List[Dict[str, Any]] = []
    for row in listed(client, grid["variablesReference"]):
        if row["name"].startswith("["):  # ITEMS
            rows += [r for r in listed(client, row["variablesReference"]) if is_item(r["name"])]
        elif is_item(row["name"]):
            rows.append(row)
    return [array_children(client, row) for row in rows]


def test_a_2d_arrays_rows_open_in_safe_mode_as_debugpy_shows_them(dump: Path) -> None:
    """Each row of a 2-d array opens on its dtype, max, min, shape, size and items, as under
    debugpy, in safe mode too (from the preview): safe mode said only "not captured" under
    each, where a list of lists shows its rows' items."""
    expected = live(PROGRAM, grid_rows)
    assert len(expected) == 3 and expected[0]["items"] and expected[0]["named"], expected
    for safe in (False, True):
        got = replayed(dump, grid_rows, safe=safe)
        assert got == expected, safe


def rows_of(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Under each array local: every row (items: the first page) as (name, value, type), what
    "Add to Watch" on it shows (None: it has no evaluateName), and whether it is read-only."""
    frame_id = top_frame(client, stopped)
    local_ref = client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"]
    shown: Dict[str, Any] = {}
    for row in listed(client, local_ref):
        if row["name"] in ARRAYS | {"readings"}:
            paging = {"start": 0, "count": PAGE} if row.get("indexedVariables") else {}
            shown[row["name"]] = [shown_row(k) + (watched(client, frame_id, k), read_only(k))
                                  for k in listed(client, row["variablesReference"], **paging)]
    return shown


def watched(client: DapClient, frame_id: int, row: Dict[str, Any]) -> Optional[str]:
    # A len() row (read-only, unlike those this test checks) watches to its value: test_safe_watches.
    if "evaluateName" not in row or row["name"] == "len()":
        return None
    return normal(client.ok("evaluate", {"expression": row["evaluateName"], "frameId": frame_id,
                                         "context": "watch"})["result"])


def read_only(row: Dict[str, Any]) -> bool:
    return "readOnly" in (row.get("presentationHint") or {}).get("attributes", [])


@pytest.mark.parametrize("safe", [False, True], ids=["loaded", "safe"])
def test_add_to_watch_on_an_arrays_rows_shows_the_row(dump: Path, safe: bool) -> None:
    """Each row under an array that has an evaluateName (dtype, shape, size, each item) watches to
    what the row shows; max and min have none, as under debugpy (one may be a text saying why it
    was not worked out), and are read-only, so VS Code offers no Set Value on them.  A min() of
    the program's own that fails is that row's value: the array's other rows and its items
    still show (debugpy shows one traceback in their place)."""
    got = replayed(dump, rows_of, safe=safe)
    assert set(got) == ARRAYS | {"readings"}, sorted(got)
    for name, rows in got.items():
        summaries = [r for r in rows if r[0] in ("max", "min")]
        assert [r[0] for r in summaries] == ["max", "min"], (name, rows)
        assert all(r[3] is None and r[4] for r in summaries), (name, summaries)
        watched = [r for r in rows if r[0] not in ("max", "min", "len()", "…")]
        assert watched and all(r[3] == r[1] and not r[4] for r in watched), (name, watched)
    assert [r[:4] for r in got["readings"]] == [
        ("dtype", "dtype('float64')", "Float64DType", "dtype('float64')"),
        ("max", "Readings(2.)", "Readings", None),
        ("min", "<error: ValueError: sensor offline>", "ValueError", None),
        ("shape", "(3,)", "tuple", "(3,)"), ("size", "3", "int", "3"),
        ("0", "np.float64(0.0)", "float64", "np.float64(0.0)"), ("1", "np.float64(1.0)", "float64", "np.float64(1.0)"),
        ("2", "np.float64(2.0)", "float64", "np.float64(2.0)")]
