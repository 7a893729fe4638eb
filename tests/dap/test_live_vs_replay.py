"""The same crash, live under debugpy and replayed from its dump by tbdap, looks the same to a DAP client.

Each program in programs/ runs under debugpy's adapter, stopped on the
uncaught exception, and is dumped by tbdump and opened in tbdap; the same
client reads both.  Compared: the user frames (name, line, column, file), every
local's name, value and type down to depth 2 in every user frame, and whether each
row at depth 2 opens (OPENS), and the exception's id and description.  Where tbdap
presents something differently on purpose, the difference is applied to debugpy's
side here, by name:

- CHAINED_PREFIX: debugpy names chained-exception frames "[Chained Exc: …] f";
  tbdap puts those frames under a label frame and keeps the plain name.
- CHAINED_ORDER: debugpy lists a chained exception's frames outermost first
  (below the raised exception's frames, which are innermost first); tbdap lists
  every segment innermost first, like the stack above it, so each chained
  segment of debugpy's is reversed before comparing.
- LABELS: tbdap's label frames introduce segments; debugpy has none.
- MORE: debugpy shows a list's first 100 items and a "more" node; tbdap pages
  with indexedVariables (the client asks 100 at a time), so "more" is dropped
  and only the first page is compared; `len()` is then a named child, listed
  before the page rather than after it.  A subclass's attributes (named
  children too) come before the items on both sides.
- SET_MEMBERS: debugpy names set members by id() of the live object, which a
  replay cannot reproduce; tbdap names them by position, so only their values
  and types are compared.
- EVALUATE_NAMES: a row's evaluateName is compared where debugpy names it by the path
  shown.  debugpy keeps the rows of an object it has shown by the object, named by the path
  it first reached it by (`match.re.flags` under `pattern`, when `match` came first), and
  names no row under a named tuple's `_fields` nor a set's members: tbdap names those by
  the path shown, which is not compared.
- GROUP_CONTENTS: the rows inside "special variables"/"function variables"
  are dunder methods and bound methods whose reprs carry addresses of the live
  process; the groups' presence is compared, not their contents.
- EXCEPTION_LOCAL: debugpy adds `__exception__` to the locals of the frame it
  stops in; a chained segment that passes through that same live frame shows
  it there too (same frame object).  tbdap shows it in the stopped frame only,
  so "special variables" is not compared in chained segments' frames.
- INSTRUMENTED: debugpy patches the live `threading` module (its own threads
  in `_active`, a wrapped `_start_new_thread`); a replay imports the module
  unpatched, so the `threading` module's children are not compared (its row is).
- STOPPED_DESCRIPTION: debugpy's stopped event describes the exception by its
  message; tbdap's says "Paused on exception", as DESIGN.md's DAP conventions
  fix it (the message is in exceptionInfo, which is compared).
- RESTORED_CACHE: an attribute a class caches when first asked and its pickle leaves
  out is on the live object, not on the one a replay restores: pathlib's `_str`, set
  once the path is printed, which a safe-mode replay shows from the dump's preview.
- SAFE_TYPE_ROWS: in safe mode a list, tuple, dict, set, frozenset, bytes, Ellipsis or
  NotImplemented has no "special variables"/"function variables" groups (its type's
  dunders and methods, which only a loaded object shows, as docs/DAP.md says): the
  last three then have no children.
- SAFE_OPAQUE: in safe mode a module's, a code object's or a typing object's contents
  (which capture does not preview: a module is pickled by reference, code with its
  function, typing's aliases list their attributes slowly) are one row saying they are
  not loaded.
- SAFE_LONG_TEXT: in safe mode a str or bytes longer than a preview keeps
  (TBDUMP_MAX_STRING, 4096 characters) is the preview's, cut in the middle with
  "...", where debugpy shows 64 KiB of it: only their first 2000 characters are
  compared.
- HASH_SEED: the live program, its capture and tbdap run with one PYTHONHASHSEED, so
  that a set of strings (ipaddress's `_HEX_DIGITS`) lists in one order everywhere.
- FRAME_ROWS: debugpy opens a frame object on rows of its own (`f_locals`, and a "stack" of
  its debugger's frame ids); tbdap opens it on the frame's attributes as captured (`f_back`,
  `f_code`, `f_lineno`, `f_locals` ...), so a frame's row is compared, not its children.
- SAFE_WATCHED: in safe mode an exception value's dunders are only counted (docs/LIMITATIONS.md),
  so a watch of what it is chained to answers that safe mode leaves it out; so does a watch
  that calls a function (`vars(...)`), which runs nothing in safe mode.
- PARTS_NOT_CAPTURED: a value the dump could not hold (a generator, an open file, a csv reader,
  a traceback) shows its attributes as captured, and only those the capture previewed with their
  items (a list, a dict) open: nothing else of theirs is in the dump (debugpy opens a generator's
  `gi_code` live).
- LOCK_STAND_IN: a lock is restored as a stand-in that works as one (docs/LIMITATIONS.md),
  and the repr of a loaded object that holds it (a Condition's) shows the stand-in's repr,
  which says so.
Memory addresses (0x…) are the only values normalised.  debugpy runs the
program with `-X frozen_modules=off`; the dump is made, and tbdap run, with the
same flag so that module reprs ("from '…'" rather than "(frozen)") come out the
same (modules are pickled by reference, so their reprs come from the replaying
process).
"""
from __future__ import annotations

import functools
import importlib.util
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from .conftest import PROGRAMS, make_dump
from .dapclient import DEFAULT_TIMEOUT, DapClient

SCENARIOS = ["nested", "method", "raise_from", "context", "biglist", "oddlocals", "thread", "library",
             "subclasses", "longtext", "grouping", "batch", "stdlib", "bare", "coroutines", "records",
             "comprehensions", "accents", "proxies"]
CHAINED_PREFIX = re.compile(r"^\[Chained Exc: .*\] ")
GROUPS = {"special variables", "function variables", "class variables"}
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
PAGE = 100
FLAGS = ["-X", "frozen_modules=off"]  # as debugpy runs programs


def normal(text: str) -> str:
    return ADDRESS.sub("0x…", text)


class AnyName(str):
    """EVALUATE_NAMES: where debugpy gives a row no evaluateName, whatever tbdap gives it (or not)."""

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, str)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


UNNAMED = AnyName("<debugpy gives none>")
OPENS = "<opens>"  # a row at the depth compared that has children (variablesReference > 0)


def variable_tree(client: DapClient, ref: int, depth: int, paged_like_vscode: bool,
                  parent: Optional[str] = None) -> List[Tuple[Any, ...]]:
    """Each row as (name, value, type, evaluateName, children), down to ``depth``, and below it
    children OPENS or None; a group as (label,).  ``parent``: the evaluateName of the row ``ref``
    opens."""
    rows = fetch_children(client, ref, paged_like_vscode)
    out: List[Tuple[Any, ...]] = []
    is_set = rows and all(re.fullmatch(r"\d{6,}", r["name"]) for r in rows if r["name"] not in GROUPS | {"len()"})
    for row in rows:
        name = row["name"]
        if name == "more" and row["type"] in ("MoreItems", "MoreItemsRange"):
            continue  # MORE
        if name in GROUPS:
            out.append((name,))  # GROUP_CONTENTS
            continue
        shown = "<member>" if is_set and name != "len()" else name  # SET_MEMBERS
        kids: Any = OPENS if row["variablesReference"] else None
        instrumented = row["type"] == "module" and row["value"].startswith("<module 'threading'")
        if depth > 1 and row["variablesReference"] and not instrumented and row["type"] != "frame":  # INSTRUMENTED, FRAME_ROWS
            kids = variable_tree(client, row["variablesReference"], depth - 1, paged_like_vscode,
                                 row.get("evaluateName"))
        named = row.get("evaluateName")
        shown_path = named is not None and (parent is None or named.startswith(parent) or named == "len(%s)" % parent)
        if is_set and name != "len()" or not (paged_like_vscode or shown_path):
            named = UNNAMED  # SET_MEMBERS, EVALUATE_NAMES
        out.append((shown, normal(row["value"]), row["type"], named, kids))
    if is_set:
        out.sort(key=repr)
    return out


def fetch_children(client: DapClient, ref: int, paged_like_vscode: bool) -> List[Dict[str, Any]]:
    if not paged_like_vscode:
        return client.ok("variables", {"variablesReference": ref})["variables"]
    # What VS Code does for a parent with indexedVariables: named children, then the first page.
    parent = _parents.get((id(client), ref))
    if parent and parent.get("indexedVariables"):
        named = client.ok("variables", {"variablesReference": ref, "filter": "named"})["variables"]
        page = client.ok("variables", {"variablesReference": ref, "filter": "indexed", "start": 0,
                                       "count": PAGE})["variables"]
        rows = [r for r in named if r["name"] != "len()"] + page + [r for r in named if r["name"] == "len()"]
    else:
        rows = client.ok("variables", {"variablesReference": ref})["variables"]
    for r in rows:
        if r["variablesReference"]:
            _parents[(id(client), r["variablesReference"])] = r
    return rows


_parents: Dict[Tuple[int, int], Dict[str, Any]] = {}


def snapshot(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    thread_id = stopped["body"]["threadId"]
    user, out_frames = user_frames(client, stopped, tbdap)
    info = client.ok("exceptionInfo", {"threadId": thread_id})
    # "Add to Watch" on the stopped frame's __exception__ row: the exception itself, and
    # what it is chained to.
    watched = [client.ok("evaluate", {"expression": "__exception__[1]" + link, "frameId": user[0][1]["id"],
                                      "context": "watch"})
               for link in ("", ".__cause__", ".__context__", ".__suppress_context__")]
    return {"frames": out_frames, "exception": (info["exceptionId"], info["description"]),
            # STOPPED_DESCRIPTION: the description is left out.
            "stopped": (stopped["body"]["reason"], stopped["body"].get("text")),
            "watched": [(normal(w["result"]), w["type"]) for w in watched]}


def user_frames(client: DapClient, stopped: Dict[str, Any],
                tbdap: bool) -> Tuple[List[Tuple[int, Dict[str, Any]]], List[Dict[str, Any]]]:
    """The program's frames, each with its segment, and what each shows: where, and its locals'
    variable tree."""
    frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
    segments: List[List[Dict[str, Any]]] = [[]]
    segment_of = ""
    for f in frames:
        if f.get("presentationHint") == "label":
            segments.append([])  # LABELS
            continue
        prefix = CHAINED_PREFIX.match(f["name"])
        if not tbdap and prefix and prefix.group(0) != segment_of:
            segment_of = prefix.group(0)
            segments.append([])
        segments[-1].append(f)
    if not tbdap:
        segments = segments[:1] + [list(reversed(s)) for s in segments[1:]]  # CHAINED_ORDER
    user = [(n, f) for n, s in enumerate(segments) for f in s
            if (f.get("source") or {}).get("path", "").startswith(str(PROGRAMS))]
    out_frames = []
    for segment, f in user:
        name = CHAINED_PREFIX.sub("", f["name"])
        scopes = client.ok("scopes", {"frameId": f["id"]})["scopes"]
        local_ref = scopes[0]["variablesReference"]
        local_rows = variable_tree(client, local_ref, 2, paged_like_vscode=tbdap)
        if segment:
            local_rows = [r for r in local_rows if r != ("special variables",)]  # EXCEPTION_LOCAL
        out_frames.append({"name": name, "line": f["line"], "column": f["column"],
                           "endColumn": f.get("endColumn"), "path": f["source"]["path"],
                           "locals": local_rows})
    return user, out_frames


# What VS Code (1.139, no Python extension) sends as `evaluate` with context "hover" when the
# mouse rests on a word: the word with the dotted names before it, never a call or a subscript
# (`d["key"]` hovered on key sends `"key`, and `obj.method()` on method sends `obj.method`).
HOVERS = {"nested": ["table", '"known', "label", "config.hosts", "config", "self.hosts", "ratio"],
          "method": ["self.balance", "self", "acct.withdraw", "self.owner", "amount", "rate"]}


def hovers(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """What each hover shows in the top frame, and whether its failure would pop up."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    frame_id, program = top["id"], Path(top["source"]["path"]).stem
    shown = {}
    for expression in HOVERS[program]:
        response = client.request("evaluate", {"expression": expression, "frameId": frame_id, "context": "hover"})
        body = response.get("body") or {}
        shown[expression] = (response["success"], normal(body.get("result", "")), body.get("type"),
                             bool(body.get("variablesReference")), bool((body.get("error") or {}).get("showUser")))
    if not tbdap:
        client.violations.clear()  # debugpy's error responses have no body; its conformance is not tested here
    return shown


def live(program: Path, look: Callable[..., Dict[str, Any]] = snapshot, just_my_code: bool = True) -> Dict[str, Any]:
    client = DapClient.spawn([sys.executable, "-m", "debugpy.adapter"], name="debugpy")
    try:
        client.initialize()
        stopped = client.start("launch", {"program": str(program), "cwd": str(program.parent),
                                          "console": "internalConsole", "justMyCode": just_my_code})
        return look(client, stopped, tbdap=False)
    finally:
        client.close()


def replayed(dump: Path, look: Callable[..., Dict[str, Any]] = snapshot, just_my_code: bool = True,
             **launch: Any) -> Dict[str, Any]:
    """What ``look`` reads of ``dump`` in tbdap, launched with ``launch``'s further arguments."""
    client = DapClient.spawn([sys.executable, *FLAGS, "-m", "tbdap"], name="tbdap")
    try:
        client.initialize()
        stopped = client.start("launch", dict(launch, dumpFile=str(dump), justMyCode=just_my_code))
        return look(client, stopped, tbdap=True)
    finally:
        client.close()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_replay_matches_live_debugpy(scenario: str, tmp_path: Path) -> None:
    program = PROGRAMS / (scenario + ".py")
    expected = live(program)
    actual = replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS))
    assert expected["frames"], "debugpy showed no user frames for %s" % scenario
    for frame in expected["frames"]:
        frame["locals"] = as_replayed(frame["locals"], safe=False)
    assert [(f["name"], f["line"], f["column"], f["endColumn"], f["path"]) for f in actual["frames"]] == \
        [(f["name"], f["line"], f["column"], f["endColumn"], f["path"]) for f in expected["frames"]]
    for got, want in zip(actual["frames"], expected["frames"]):
        assert got["locals"] == want["locals"], "locals of %s differ" % want["name"]
    assert actual["exception"] == expected["exception"]
    assert actual["watched"] == expected["watched"]
    assert expected["stopped"][0] == "exception"
    assert actual["stopped"] == expected["stopped"]


def container_groups(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Under each builtin container among the user frames' locals (a list, tuple, dict): every row
    of its "special variables" and "function variables" groups, in order."""
    frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
    shown: Dict[str, Any] = {}
    for f in frames:
        if not (f.get("source") or {}).get("path", "").startswith(str(PROGRAMS)):
            continue
        ref = client.ok("scopes", {"frameId": f["id"]})["scopes"][0]["variablesReference"]
        for row in client.ok("variables", {"variablesReference": ref})["variables"]:
            if row["type"] not in ("list", "tuple", "dict", "set", "frozenset"):
                continue
            kids = client.ok("variables", {"variablesReference": row["variablesReference"]})["variables"]
            shown[f["name"] + ":" + row["name"]] = [
                (k["name"], [(g["name"], normal(g["value"]), g["type"]) for g in
                             client.ok("variables", {"variablesReference": k["variablesReference"]})["variables"]])
                if k["name"] in GROUPS else k["name"] for k in kids]
    return shown


def test_builtin_containers_list_their_types_members_as_debugpy(tmp_path: Path) -> None:
    """A list, tuple or dict opens on debugpy's "special variables" and "function variables" (the
    type's dunders and methods, bound to the object), then its items and len(): row for row."""
    program = PROGRAMS / "nested.py"
    expected = live(program, container_groups)
    assert {"middle:parts", "middle:table", "outer:values"} <= set(expected), expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), container_groups) == expected


RUNPY = "runpy.py"  # debugpy's launcher runs the program through runpy; a dump starts at <module>


def call_stack(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Each frame as VS Code draws it (de-emphasized or not, from the frame's hint or its source's),
    and the frame holding `__exception__`."""
    frames = [f for f in client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
              if not f["source"]["path"].endswith(RUNPY)]
    rows, holder = [], None
    for f in frames:
        hint = f.get("presentationHint") or f["source"].get("presentationHint")
        rows.append((f["name"], f["line"], hint in ("subtle", "deemphasize")))
        ref = client.ok("scopes", {"frameId": f["id"]})["scopes"][0]["variablesReference"]
        special = [r for r in client.ok("variables", {"variablesReference": ref})["variables"]
                   if r["name"] == "special variables"]
        if special and any(r["name"] == "__exception__" for r in client.ok(
                "variables", {"variablesReference": special[0]["variablesReference"]})["variables"]):
            holder = f["name"]
    return {"frames": rows, "__exception__": holder}


def test_just_my_code_false_shows_library_frames_as_debugpy(tmp_path: Path) -> None:
    """`"justMyCode": false`: debugpy lists the library frames, marked subtle as every frame outside
    the program (VS Code folds them and opens the innermost frame of the program), and puts
    `__exception__` in the frame that raised."""
    program = PROGRAMS / "library.py"
    expected = live(program, call_stack, just_my_code=False)
    assert expected["frames"][0] == ("raw_decode", expected["frames"][0][1], True), expected
    got = replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), call_stack, just_my_code=False)
    assert got == expected


@pytest.mark.parametrize("scenario", sorted(HOVERS))
def test_hovers_show_what_debugpy_shows(scenario: str, tmp_path: Path) -> None:
    """Hovering `obj.attr`, `d["key"]` and `obj.method()` in the editor: the same value, type and
    expandability as under debugpy, and the same silence where the expression does not evaluate."""
    program = PROGRAMS / (scenario + ".py")
    expected = live(program, hovers)
    assert any(not ok for ok, *_ in expected.values()), "the case holds: some hovers fail"
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), hovers) == expected


# What the user types in the debug console of the top frame, completions asked for at its end.
TYPED = {"method": ["n", "val", "sel", "amo", "acc", "Runt", "self.", "Account."],
         "proxies": ["user.", "user.__cl", "badge."]}


def completions(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Each typed text's completions in the program's innermost frame: label -> kind."""
    frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
    top = next(f for f in frames if (f.get("source") or {}).get("path", "").startswith(str(PROGRAMS)))
    program = Path(top["source"]["path"]).stem
    return {text: {t["label"]: t.get("type") for t in client.ok("completions", {
        "text": text, "column": len(text) + 1, "frameId": top["id"]})["targets"]} for text in TYPED[program]}


@pytest.mark.parametrize("scenario", sorted(TYPED))
def test_console_completions_offer_what_debugpy_offers(scenario: str, tmp_path: Path) -> None:
    """Typing in the debug console: every name debugpy offers is offered, whatever its case ("n" offers
    None and NameError), and a class, a module or a plain value (a "field", whose icon VS Code
    shows) is one (debugpy calls some builtin functions "keyword": those kinds are not compared).
    An object's or a class's `__class__` is a class, as debugpy offers it (it was a field), and so
    is a lazy object's, whose class defines it as a property (it was a field too)."""
    program = PROGRAMS / (scenario + ".py")
    expected = live(program, completions)
    if scenario == "method":
        assert "None" in expected["n"] and expected["Runt"].get("RuntimeError") == "class", expected
    else:
        assert expected["user."].get("__class__") == "class", expected
    got = replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), completions)
    for text, offered in expected.items():
        assert set(offered) <= set(got[text]), (text, set(offered) - set(got[text]))
        kinds = {label: kind for label, kind in offered.items() if kind in ("class", "module", "field")}
        assert {label: got[text][label] for label in kinds} == kinds, text


def set_values(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """"Set Value" on a local in the Variables view and on watched expressions, then what the view and
    the watches show."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    local_ref = client.ok("scopes", {"frameId": top["id"]})["scopes"][0]["variablesReference"]
    client.ok("variables", {"variablesReference": local_ref})
    answers = [client.ok("setVariable", {"variablesReference": local_ref, "name": "amount", "value": "5"})]
    answers += [client.ok("setExpression", {"expression": target, "value": value, "frameId": top["id"]})
                for target, value in (("self.owner", "'bob'"), ("self._history", "[1, 2]"))]
    shown = {r["name"]: (r["value"], r["type"]) for r in
             client.ok("variables", {"variablesReference": local_ref})["variables"] if r["name"] != "special variables"}
    watched = [client.ok("evaluate", {"expression": e, "frameId": top["id"], "context": "watch"})["result"]
               for e in ("self.owner", "self._history", "amount")]
    for answer in answers:
        answer["variablesReference"] = bool(answer["variablesReference"])
        if not answer.get("presentationHint"):  # debugpy sends an empty one, which says nothing
            answer.pop("presentationHint", None)
    return {"answers": answers, "shown": {k: (normal(v), t) for k, (v, t) in shown.items()}, "watched": watched}


def test_set_value_answers_and_shows_as_debugpy(tmp_path: Path) -> None:
    """A replay lets the user change values in the session as debugpy does live: the same answers
    (a str's is a rawString), then the same Variables view and watches."""
    program = PROGRAMS / "method.py"
    expected = live(program, set_values)
    assert expected["watched"] == ["'bob'", "[1, 2]", "5"], expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), set_values) == expected


def watched_keys(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """"Add to Watch" on each item of the top frame's dict `table`: item value (each is unique, where
    the names of long or nested keys are cut differently) -> whether the watch shows the item's value
    (None: the row has no evaluateName, so nothing to add)."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    local_ref = client.ok("scopes", {"frameId": top["id"]})["scopes"][0]["variablesReference"]
    table = next(r for r in client.ok("variables", {"variablesReference": local_ref})["variables"]
                 if r["name"] == "table")
    shown: Dict[str, Optional[bool]] = {}
    for row in client.ok("variables", {"variablesReference": table["variablesReference"]})["variables"]:
        if row["name"] in GROUPS or row["name"] == "len()":
            continue
        name = row["value"]
        if "evaluateName" not in row:
            shown[name] = None
            continue
        watch = client.request("evaluate", {"expression": row["evaluateName"], "frameId": top["id"],
                                            "context": "watch"})
        shown[name] = watch["success"] and watch["body"]["result"] == row["value"]
    if not tbdap:
        client.violations.clear()  # debugpy's error responses have no body
    return shown


def test_every_dict_item_debugpy_can_watch_is_watched(tmp_path: Path) -> None:
    """Each dict item that debugpy's "Add to Watch" shows (a frozenset or complex key too) is watched
    as well, and a key whose repr does not evaluate back to it (inf, nan, a Decimal NaN, a date,
    an object) gives no evaluateName rather than one that fails (debugpy names the float nan's
    item `table[nan]`, which fails, and names none of the others)."""
    program = PROGRAMS / "oddkeys.py"
    expected = live(program, watched_keys)
    assert expected["'frozenset'"] and expected["'complex'"] and expected["'long text in a tuple'"], expected
    got = replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), watched_keys)
    assert {k for k, ok in expected.items() if ok} <= {k for k, ok in got.items() if ok}, (expected, got)
    assert False not in got.values(), got
    assert got["'inf'"] is got["'nan'"] is got["'object'"] is got["'decimal nan'"] is got["'date'"] is None, got


def numpy_keys(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """The names of the dict `table`'s items, and what "Add to Watch" shows of each (watched_keys)."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    local_ref = client.ok("scopes", {"frameId": top["id"]})["scopes"][0]["variablesReference"]
    table = next(r for r in client.ok("variables", {"variablesReference": local_ref})["variables"]
                 if r["name"] == "table")
    rows = client.ok("variables", {"variablesReference": table["variablesReference"]})["variables"]
    return {"names": [r["name"] for r in rows], "watched": watched_keys(client, stopped, tbdap)}


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="numpy is not installed")
def test_an_item_under_a_numpy_scalar_key_is_watched(tmp_path: Path) -> None:
    """debugpy watches an item under a numpy float, complex, str or bytes key (``table[np.float64(2.5)]``,
    which needs the program's ``np``) and offers nothing under an int or bool one; a replay offered
    nothing under any.  It now watches all of them by the plain value the key equals (``table[2.5]``,
    ``table[3]``), the rows named as debugpy names them; a nan or a date key gives no evaluateName."""
    program = PROGRAMS / "numpykeys.py"
    expected = live(program, numpy_keys)
    assert expected["watched"]["'float64'"] and expected["watched"]["'int64'"] is None, expected
    got = replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), numpy_keys)
    assert got["names"] == expected["names"]
    unnamed = {"'nan'", "'datetime64'"}
    assert {k for k, ok in got["watched"].items() if ok} == set(expected["watched"]) - unnamed, got
    assert {k for k, ok in got["watched"].items() if ok is None} == unnamed, got


def console_output(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """A console line writing to stdout and stderr: the text of each category's output events."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    client.ok("evaluate", {"expression": "import sys; print('out 1'); sys.stderr.write('err\\n'); print('out 2')",
                           "frameId": top["id"], "context": "repl"})
    client.ok("evaluate", {"expression": "1", "frameId": top["id"], "context": "repl"})

    def texts() -> Dict[str, str]:
        return {category: "".join(e["body"]["output"] for e in client.events("output")
                                  if e["body"].get("category") == category) for category in ("stdout", "stderr")}
    # debugpy reads the program's output on threads of its own: its events may come after the
    # answers (tbdap's come before); waited for, up to the client's usual bound.
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while not (texts()["stdout"].endswith("out 2\n") and texts()["stderr"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return texts()


def test_console_output_keeps_stderr_apart_as_debugpy(tmp_path: Path) -> None:
    """What a console line writes to sys.stderr is stderr output (VS Code shows it in red), as debugpy
    sends it; it was stdout."""
    program = PROGRAMS / "method.py"
    expected = live(program, console_output)
    assert expected == {"stdout": "out 1\nout 2\n", "stderr": "err\n"}, expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), console_output) == expected


NESTED_SCOPES = ["[amount * n for n in range(3)]", "sorted({k: amount for k in 'ba'}.items())",
                 "sum(amount for _ in 'ab')", "(lambda: self.balance - amount)()", "import sys",
                 "[sys.version_info[0] for _ in 'a']", "twice = [amount * n for n in range(2)]", "twice",
                 "[v for v in twice if v > self.balance]"]


def nested_scopes(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Console lines whose comprehension, generator expression or lambda reads the frame's locals,
    and a local an earlier line made: each answer, and the frame's Locals after them."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    answers = [client.ok("evaluate", {"expression": line, "frameId": top["id"], "context": "repl"})["result"]
               for line in NESTED_SCOPES]
    ref = client.ok("scopes", {"frameId": top["id"]})["scopes"][0]["variablesReference"]
    return {"answers": answers, "locals": sorted(v["name"] for v in client.ok(
        "variables", {"variablesReference": ref})["variables"] if v["name"] != "special variables")}


def test_comprehensions_and_lambdas_in_the_console_see_the_frames_locals_as_debugpy(tmp_path: Path) -> None:
    """In a function's frame, what a comprehension or lambda typed in the console reads of the
    frame's locals was a NameError: the code ran with the locals apart from the globals, where
    nested scopes see only the globals."""
    program = PROGRAMS / "method.py"
    expected = live(program, nested_scopes)
    assert expected["answers"][:4] == ["[0, 25, 50]", "[('a', 25), ('b', 25)]", "50", "-15"], expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), nested_scopes) == expected


INDENTED = [("repl", "    amount * 2"), ("repl", "\tself.balance - amount"),
            ("repl", "    short = amount - 1\n    short += self.balance\n"), ("repl", "short"),
            ("repl", "  if amount:\n      found = 'yes'\n"), ("repl", "found"), ("watch", "  self.owner")]


def indented_answers(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> List[str]:
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    return [client.ok("evaluate", {"expression": text, "frameId": top["id"], "context": context})["result"]
            for context, text in INDENTED]


def test_an_indented_line_in_the_console_or_a_watch_is_dedented_as_debugpy_does(tmp_path: Path) -> None:
    """Lines pasted from inside a function keep its indentation: debugpy runs them dedented by the
    first line's, where Python alone would say IndentationError, which tbdap said."""
    program = PROGRAMS / "method.py"
    expected = live(program, indented_answers)
    assert expected[:4] == ["50", "-15", "", "34"], expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), indented_answers) == expected


STREAM_LINES = ["import faulthandler, sys", "faulthandler.enable()", "faulthandler.is_enabled()",
                "faulthandler.disable()", "sys.stdout.encoding, sys.stderr.encoding, sys.stdout.errors",
                "sys.stdout.isatty(), sys.stdout.writable()", "sys.stdout.reconfigure(encoding='utf-8')",
                "sys.stdout.buffer.write(b'bytes\\n'), sys.stdout.buffer.writable()",
                "sys.stdout.name, sys.stderr.name, sys.stdout.mode, sys.stdout.line_buffering"]


def stream_answers(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> List[str]:
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    return [client.ok("evaluate", {"expression": line, "frameId": top["id"], "context": "repl"})["result"]
            for line in STREAM_LINES]


def test_the_consoles_streams_are_files_as_debugpys_are(tmp_path: Path) -> None:
    """A console line that hands sys.stderr to C (faulthandler.enable()) failed with
    'io.UnsupportedOperation: fileno' and a traceback through tbdap's own console.py, and the
    streams' encoding was None; sys.stdout.buffer and sys.stdout.reconfigure were missing
    (AttributeError). Under debugpy all work as in the program."""
    program = PROGRAMS / "method.py"
    expected = live(program, stream_answers)
    assert expected[1:5] == ["", "True", "True", "('utf-8', 'utf-8', 'strict')"], expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), stream_answers) == expected


def printed_while_running(client: DapClient, stopped: Dict[str, Any], tbdap: bool, release: Path,
                          printing: str) -> Dict[str, Any]:
    """A console line that prints (``printing``), then runs on until the test makes ``release``:
    whether its output reached the console while it ran, and all it sent once it had run."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    seq = client.send("evaluate", {"expression": printing + "; [__import__('time').sleep(0.02) for _ in "
                                                 "iter(lambda: __import__('os').path.exists(%r), True)]"
                                                 % str(release), "frameId": top["id"], "context": "repl"})
    try:
        deadline = time.monotonic() + 30
        while not stdout(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = stdout(client)
    finally:
        release.touch()
    client.response(seq)
    return {"shown while running": seen, "sent": stdout(client)}


def stdout(client: DapClient) -> str:
    return "".join(e["body"]["output"] for e in client.events("output") if e["body"].get("category") == "stdout")


@pytest.mark.parametrize("printing, shown", [("print('waiting')", "waiting\n"),
                                              ("print('waiting', end='')", "waiting")], ids=["line", "partial"])
def test_console_output_shows_as_it_is_printed_as_debugpy(tmp_path: Path, printing: str, shown: str) -> None:
    """A console line that prints as it goes (a loop, a slow call) shows each line as printed, as
    under debugpy; tbdap sent it all once the line had run. A line not ended yet (a progress
    note before a long call) shows too, as written: tbdap held it back until its end came, and
    then added one."""
    program = PROGRAMS / "method.py"
    expected = live(program, functools.partial(printed_while_running, release=tmp_path / "live", printing=printing))
    assert expected == {"shown while running": shown, "sent": shown}, expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS),
                    functools.partial(printed_while_running, release=tmp_path / "replay", printing=printing)) == expected


def set_global(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """"Set Value" on a row of the top frame's Globals scope, then every scope of the top frame and
    of the module's own frame, and a watch in each."""
    frames = [f for f in client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
              if (f.get("source") or {}).get("path", "").startswith(str(PROGRAMS))]
    top, module = frames[0], next(f for f in frames if f["name"] == "<module>")
    globals_ref = client.ok("scopes", {"frameId": top["id"]})["scopes"][1]["variablesReference"]
    client.ok("variables", {"variablesReference": globals_ref})
    answer = client.ok("setVariable", {"variablesReference": globals_ref, "name": "acct", "value": "7"})
    shown: Dict[str, Any] = {"answer": (answer["value"], answer["type"])}
    for f in (top, module):
        for scope in client.ok("scopes", {"frameId": f["id"]})["scopes"]:
            rows = client.ok("variables", {"variablesReference": scope["variablesReference"]})["variables"]
            shown[f["name"] + " " + scope["name"]] = sorted(
                (r["name"], normal(r["value"])) for r in rows if r["name"] not in GROUPS)
        shown[f["name"] + " watch"] = client.ok("evaluate", {"expression": "acct", "frameId": f["id"],
                                                             "context": "watch"})["result"]
    return shown


def test_set_value_on_a_global_changes_the_modules_variable_as_debugpy(tmp_path: Path) -> None:
    """Setting a row of the Globals scope changes the module's variable, seen from every frame of the
    module (its own frame's locals are its globals), as live; it made a local of that name in the
    selected frame, and the Globals scope and other frames kept the old value."""
    program = PROGRAMS / "method.py"
    expected = live(program, set_global)
    assert expected["<module> watch"] == expected["withdraw watch"] == "7", expected
    assert ("acct", "7") in expected["<module> Locals"] and ("acct", "7") in expected["withdraw Globals"], expected
    assert replayed(make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS), set_global) == expected


def values(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """Each program frame's locals, as variable trees (user_frames)."""
    return {f["name"]: f["locals"] for f in user_frames(client, stopped, tbdap)[1]}


# Rows of "special variables", whose contents are not compared (GROUP_CONTENTS), as watches: what
# everyday.py's caught ``failure`` is chained to, and what a class of the program holds.
WATCHED = ["failure.__cause__", "failure.__context__", "failure.__suppress_context__", "failure.__notes__",
           "vars(Point).get('__slotnames__')"]


def values_and_watched(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """``values``, and the WATCHED expressions in everyday.py's frame stdlib_objects."""
    user, frames = user_frames(client, stopped, tbdap)
    frame_id = next(f["id"] for _, f in user if f["name"] == "stdlib_objects")
    watched = [client.request("evaluate", {"expression": e, "frameId": frame_id, "context": "watch"}) for e in WATCHED]
    return {"locals": {f["name"]: f["locals"] for f in frames},
            "watched": [(normal(w["body"]["result"]), w["body"].get("type")) if w["success"] else ("error", w["message"])
                      for w in watched]}


BUILTIN_CONTAINERS = {"list", "tuple", "dict", "set", "frozenset"}
TYPE_ROWS = BUILTIN_CONTAINERS | {"bytes", "ellipsis", "NotImplementedType"}
PREVIEWED_TEXT = 4096
NOT_LOADED = [("…", "<not captured: its contents (safe mode: objects are not loaded (nothing from the file is run))>",
               "", None, None)]


# PARTS_NOT_CAPTURED: the types of everyday.py's values and oddlocals.py's that capture cannot pickle.
NOT_CAPTURED_TYPES = {"generator", "coroutine", "async_generator", "TextIOWrapper", "Cursor", "SpooledTemporaryFile",
                      "reader", "writer", "traceback"}
LOCKED_BY = re.compile(r"^(<Condition\()(<\w+ _thread\.R?[Ll]ock object at 0x…>)")
STAND_IN = "not captured: a lock; restored as a stand-in that acquires without waiting"


def as_replayed(rows: List[Tuple[Any, ...]], safe: bool) -> List[Tuple[Any, ...]]:
    """debugpy's variable tree as a replay shows it, by the rules above."""
    out: List[Tuple[Any, ...]] = []
    for row in rows:
        if len(row) == 1:
            out.append(row)
            continue
        name, value, typ, named, kids = row
        if safe and typ in ("str", "bytes") and len(value) > PREVIEWED_TEXT:
            value = value[:2000]  # SAFE_LONG_TEXT
        if typ == "Condition" and not safe:
            value = LOCKED_BY.sub(r"\1<lock: %s \2>" % STAND_IN, value)  # LOCK_STAND_IN
        if kids == OPENS:
            kids = None if safe and typ in TYPE_ROWS - BUILTIN_CONTAINERS else kids  # SAFE_TYPE_ROWS
        elif kids is not None and typ in NOT_CAPTURED_TYPES:
            kids = [k[:4] + (None,) if len(k) > 1 and k[4] == OPENS and k[2] not in BUILTIN_CONTAINERS else k
                    for k in kids]  # PARTS_NOT_CAPTURED
        elif kids is not None and safe and (typ in ("module", "code") or value.startswith("typing.")):
            kids = NOT_LOADED  # SAFE_OPAQUE
        elif kids is not None and safe and typ in TYPE_ROWS:
            kids = [k for k in kids if k[0] not in GROUPS] or None  # SAFE_TYPE_ROWS
        elif kids is not None:
            kids = [k for k in as_replayed(kids, safe)
                    if safe or not (k[0] == "_str" and typ.endswith("Path"))]  # RESTORED_CACHE
        out.append((name, value, typ, named, kids))
    return out


def test_everyday_values_show_as_debugpy_in_both_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths, times and zones, enums, dataclasses, named tuples, the collections types, buffers,
    classes and their descriptors, a module, typing objects, addresses, namespaces, slotted
    objects, a long text and long raw bytes: every row as under debugpy, replayed and replayed in safe
    mode.  A bytes has debugpy's groups of its type's dunders and methods (it had no children); a
    staticmethod, classmethod or partialmethod local is under "function variables" (it was a row
    of its own); an attribute that raises AttributeError (a slot never set) has no row (it was an
    error row), and a property that caches is read in debugpy's order (a path's `_pparts` was
    set by reading `parts` first).

    And what programs hold of the standard library besides (stdlib_objects): decimal's context,
    ctypes values, mmap, sqlite3, hashes, files and buffers, queues, thread and context-variable
    objects, iterators, weak collections, struct, XML, email, csv, generators and coroutines, a
    traceback, a frame, code, a bound method, a property, an abstract class.  A value the dump
    could not hold inside one it restored (a Queue's lock, a WeakSet's callback) shows as it
    was, type and repr (it showed as `Placeholder`, `<lock: not captured: ...>`); a caught
    exception kept as a value keeps its cause, context and notes (they were None); a class whose
    instances the dump pickled holds no `__slotnames__` (copyreg's cache, which it held)."""
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # HASH_SEED
    program = PROGRAMS / "everyday.py"
    expected = live(program, values_and_watched)
    assert len(expected["locals"].get("check", ())) > 40 and len(expected["locals"].get("stdlib_objects", ())) > 40
    assert expected["watched"] == [("ValueError('inner')", "ValueError"), ("ValueError('inner')", "ValueError"),
                                   ("True", "bool"), ("['while loading row 3']", "list"), ("None", "NoneType")]
    dump = make_dump(program, tmp_path / "dump.pkl", python_flags=FLAGS)
    for safe in (False, True):
        want = {frame: as_replayed(rows, safe) for frame, rows in expected["locals"].items()}
        replay = replayed(dump, values_and_watched, safe=safe)
        got = replay["locals"]
        if safe:  # SAFE_WATCHED
            assert [(kind, "safe mode" in said) for kind, said in replay["watched"]] == [("error", True)] * 5, replay
        else:
            assert replay["watched"] == expected["watched"]
        if safe:
            cut = [r for r in got["check"] if r[0] in ("text", "raw")]
            assert [r[1][2000:].count("...") for r in cut] == [1, 1], cut
            got = {frame: [r[:1] + (r[1][:2000],) + r[2:] if r[0] in ("text", "raw") else r for r in rows]
                   for frame, rows in got.items()}
        assert got == want, "safe" if safe else "normal"


def shown_noisy(client: DapClient, stopped: Dict[str, Any], tbdap: bool) -> Dict[str, Any]:
    """A hover on a value whose restoring and repr print, and whose repr warns: what reached the console."""
    top = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    hover = client.ok("evaluate", {"expression": "noisy", "frameId": top["id"], "context": "hover"})
    client.ok("evaluate", {"expression": "1", "frameId": top["id"], "context": "repl"})  # its events came before
    printed = {category: "".join(e["body"]["output"] for e in client.events("output")
                                 if e["body"].get("category") == category) for category in ("stdout", "stderr")}
    return {"value": hover["result"], "printed": [line for line in printed["stdout"].splitlines() if "Noisy" in line],
            "warned": [line for line in printed["stderr"].splitlines() if "Warning" in line]}


def test_what_a_value_prints_as_it_is_shown_reaches_the_console_as_debugpy(tmp_path: Path) -> None:
    """A repr that prints as a hover shows its value: the print is stdout in the debug console, as
    under debugpy, and so is what restoring the value printed (a __setstate__); tbdap left both on its
    own stderr, which VS Code shows only in its Output panel. A warning: debugpy silences those of the
    code it runs to show a value; tbdap shows it, once, as stderr, as it shows those of restoring
    (scikit-learn's InconsistentVersionWarning says a value may be wrong), which it cannot tell apart
    while both run at once. The restoring enables faulthandler, as a library may as it is imported:
    the console's sys.stderr has the descriptor it stands in for, as the adapter's had."""
    program = PROGRAMS / "noisy.py"
    expected = live(program, shown_noisy)
    assert expected == {"value": "Noisy()", "printed": ["repr of Noisy"], "warned": []}, expected
    client = DapClient.spawn([sys.executable, *FLAGS, "-m", "tbdap"], name="tbdap")
    try:
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(make_dump(program, tmp_path / "dump.pkl", FLAGS))})
        got = shown_noisy(client, stopped, tbdap=True)
    finally:
        client.close()
    warns = program.read_text().splitlines().index('        warnings.warn("Noisy is deprecated")') + 1
    assert got == dict(expected, printed=["restoring Noisy", "repr of Noisy"],
                       warned=["%s:%d: UserWarning: Noisy is deprecated" % (program, warns)]), got
    assert "Noisy" not in client.stderr, client.stderr
