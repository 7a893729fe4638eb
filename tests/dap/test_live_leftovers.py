"""Where a replay told less than the truth, or more than the program holds, checked against live debugpy:
how a crash's stop reads, console completions' ranges, and what a stand-in or a
placeholder shows in the Variables view."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Sequence

from .conftest import PROGRAMS
from .dapclient import REPO, DapClient

CHILD_ENV = dict(os.environ, PYTHONPATH=str(REPO))


def stop(client: DapClient, stopped: Dict[str, Any]) -> Dict[str, Any]:
    """What VS Code shows of the stop: the stopped event's text, the exception widget's heading."""
    info = client.ok("exceptionInfo", {"threadId": stopped["body"]["threadId"]})
    return {"text": stopped["body"].get("text"), "breakMode": info["breakMode"],
            "exceptionId": info["exceptionId"], "description": info["description"]}


def debugpy_stop(program: Path, filters: Sequence[str]) -> Dict[str, Any]:
    return live(program, lambda client, stopped: dict(stop(client, stopped),
                                                      description_event=stopped["body"].get("description")),
                filters, env={"PYTHONPATH": str(REPO)})


def replay_stop(tbdap: Callable[..., DapClient], dump: Path) -> Dict[str, Any]:
    client = tbdap()
    client.initialize()
    stopped = client.start("launch", {"dumpFile": str(dump)})
    return dict(stop(client, stopped), description_event=stopped["body"].get("description"))


def test_a_crash_still_stops_as_unhandled(tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """An uncaught exception (`python -m tbdump`): breakMode "unhandled", "Paused on exception", as
    debugpy's stop on an uncaught exception (a guard: this worked before)."""
    program = PROGRAMS / "nested.py"
    expected = debugpy_stop(program, ["uncaught"])
    assert expected["breakMode"] == "unhandled", expected
    subprocess.run([sys.executable, "-m", "tbdump", "-o", str(tmp_path / "crash.pkl"), str(program)],
                   cwd=str(program.parent), env=CHILD_ENV, capture_output=True, timeout=120)
    got = replay_stop(tbdap, tmp_path / "crash.pkl")
    for key in ("text", "breakMode", "exceptionId", "description"):
        assert got[key] == expected[key], (key, got, expected)
    assert got["description_event"] == "Paused on exception"


def live(program: Path, look: Callable[[DapClient, Dict[str, Any]], Any],
         filters: Sequence[str] = ("uncaught",), **launch: Any) -> Any:
    """What ``look`` sees of ``program`` stopped under debugpy; ``launch``: more launch arguments
    (`args`, `env`)."""
    client = DapClient.spawn([sys.executable, "-m", "debugpy.adapter"], name="debugpy")
    try:
        client.initialize()
        stopped = client.start("launch", dict({"program": str(program), "cwd": str(program.parent),
                                               "console": "internalConsole", "justMyCode": True}, **launch),
                               filters=filters)
        return look(client, stopped)
    finally:
        client.close()


def replayed(tbdap: Callable[..., DapClient], dump: Path, look: Callable[[DapClient, Dict[str, Any]], Any]) -> Any:
    client = tbdap()
    client.initialize()
    return look(client, client.start("launch", {"dumpFile": str(dump)}))


def crash_dump(program: Path, out: Path, *args: str) -> Path:
    subprocess.run([sys.executable, "-m", "tbdump", "-o", str(out), str(program), *args], cwd=str(program.parent),
                   env=CHILD_ENV, capture_output=True, timeout=120)
    assert out.exists()
    return out


def top_frame(client: DapClient, stopped: Dict[str, Any]) -> int:
    return int(client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]["id"])


# What the user has typed in the debug console, and where the cursor is: the end (None), a 0-based
# column of the last line, or (1-based line, column): a multi-line input is sent whole, as VS Code
# sends it, with the cursor's line.
TYPED = [("order.at", None), ('table["k', None), ("x = order.at + 1", 12), ("val", None), ("print(order.ot", None),
         ("order.", None), ("  order.at", None), ("order.at_x", 8),
         ("x = 1\norder.at", None), ("if value_a:\n    order.at", None), ("order.at\nvalue_a", (1, 8)),
         ("x = 1", None), ("12", None), ("x = 1.5", None), ("order.attr_one + 2", None)]


def ranges(client: DapClient, stopped: Dict[str, Any]) -> Dict[str, Any]:
    """Each typed text's targets: label -> (start, length)."""
    frame = top_frame(client, stopped)
    shown = {}
    for text, cursor in TYPED:
        lines = text.split("\n")
        line, column = cursor if isinstance(cursor, tuple) else (len(lines), len(lines[-1]) if cursor is None
                                                                 else cursor)
        targets = client.ok("completions", {"text": text, "line": line, "column": column + 1,
                                            "frameId": frame})["targets"]
        shown[text] = {t["label"]: (t.get("start"), t.get("length")) for t in targets}
    return shown


def test_console_completions_say_what_they_replace_as_debugpy(tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """Each completion target carries debugpy's `start` and `length`: where the name being typed
    begins and how long it is (`at` of `order.at`, mid-line too, on any line of a multi-line input:
    counted in that line, as debugpy counts), which a client replaces with the label; tbdap sent
    neither, so a client that reads them (rather than guessing the word) had nothing.  A number
    being typed (`x = 1`) completes to nothing, as under debugpy: tbdap offered every name, which
    a client put after the digits (`x = 1ArithmeticError`)."""
    program = PROGRAMS / "leftovers.py"
    expected = live(program, ranges)
    assert expected["order.at"]["attr_one"] == (6, 2) == expected["x = 1\norder.at"]["attr_one"], expected
    assert expected["x = 1"] == {} and expected["order.at\nvalue_a"], expected
    got = replayed(tbdap, crash_dump(program, tmp_path / "dump.pkl"), ranges)
    for text, targets in expected.items():
        assert {label: got[text].get(label) for label in targets} == targets, text
        assert bool(got[text]) == bool(targets), (text, got[text])


def key_names(client: DapClient, stopped: Dict[str, Any]) -> Dict[str, Any]:
    """The row names of the dict `keys` and of its nested dict."""
    frame = top_frame(client, stopped)
    ref = client.ok("scopes", {"frameId": frame})["scopes"][0]["variablesReference"]
    rows = {r["name"]: r for r in client.ok("variables", {"variablesReference": ref})["variables"]}

    def names(row: Dict[str, Any]) -> Any:
        kids = client.ok("variables", {"variablesReference": row["variablesReference"]})["variables"]
        return [(k["name"], names(k) if k["name"] == "'outer'" else k["value"]) for k in kids
                if k["name"] not in ("special variables", "function variables", "len()")]
    return names(rows["keys"])


def test_dict_keys_are_named_whole_as_debugpy_names_them(tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """A tuple key is named by its whole repr, as debugpy names it, in a dict and in a nested one: two
    keys of 61 items that differ in the last one were both named `(0, 1, ..., 58, ...)`, and two nested
    tuples both `(((...),),)`."""
    program = PROGRAMS / "leftovers.py"
    expected = live(program, key_names)
    assert len({name for name, _ in expected}) == len(expected) == 5, expected
    assert replayed(tbdap, crash_dump(program, tmp_path / "dump.pkl"), key_names) == expected


def socket_rows(client: DapClient, stopped: Dict[str, Any]) -> Dict[str, Any]:
    """Under the socket `sock`: every row's text, two levels down, and which rows open."""
    frame = top_frame(client, stopped)
    ref = client.ok("scopes", {"frameId": frame})["scopes"][0]["variablesReference"]
    sock = next(r for r in client.ok("variables", {"variablesReference": ref})["variables"] if r["name"] == "sock")
    texts, opening = [], []
    for row in client.ok("variables", {"variablesReference": sock["variablesReference"]})["variables"]:
        if row["variablesReference"]:
            opening.append(row["name"])
            texts += [k["value"] for k in client.ok("variables", {"variablesReference": row["variablesReference"]})[
                "variables"]]
    return {"texts": texts, "opening": opening}


def test_a_socket_says_once_why_its_parts_are_missing(tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """A socket is not pickled; its preview lists its attributes. Each of its bound methods opened on
    one row that said again "not captured: its contents (not captured: TypeError: cannot pickle
    'socket' object)": now they do not open (nothing of them is in the dump), and the groups say why
    once each, without "not captured" twice in a line."""
    got = replayed(tbdap, crash_dump(PROGRAMS / "leftovers.py", tmp_path / "dump.pkl"), socket_rows)
    assert set(got["opening"]) == {"special variables", "function variables"}, got
    reasons = [t for t in got["texts"] if "cannot pickle" in t]
    assert len(reasons) == 2 and not any(t.count("not captured") > 1 for t in reasons), got


MISSING_MODULE = '''
class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance
'''
USES_IT = '''
from shop import Account


def main():
    acct = Account("ann", 10)
    raise ValueError("insufficient funds")


main()
'''
LOADING_ONLY = {"_tbdump_args", "append", "extend", "__setitem__", "__setstate__", "__tbdump_missing__"}


def test_an_object_whose_class_is_gone_shows_only_its_own_attributes(tbdap: Callable[..., DapClient],
                                                                      tmp_path: Path) -> None:
    """The dump's class cannot be imported where it is opened (its module is gone): the object loads as
    a stand-in, whose Variables rows, console completions and dir() listed what loading it needed
    (`_tbdump_args`, `append`, `extend`) as if they were the program's."""
    (tmp_path / "shop.py").write_text(MISSING_MODULE)
    (tmp_path / "prog.py").write_text(USES_IT)
    dump = crash_dump(tmp_path / "prog.py", tmp_path / "dump.pkl")
    (tmp_path / "shop.py").unlink()
    client = tbdap(cwd=str(tmp_path.parent))
    client.initialize()
    frame = top_frame(client, client.start("launch", {"dumpFile": str(dump)}))
    ref = client.ok("scopes", {"frameId": frame})["scopes"][0]["variablesReference"]
    acct = next(r for r in client.ok("variables", {"variablesReference": ref})["variables"] if r["name"] == "acct")
    shown = []
    for row in client.ok("variables", {"variablesReference": acct["variablesReference"]})["variables"]:
        shown.append(row["name"])
        if row["name"] in ("special variables", "function variables"):
            shown += [r["name"] for r in client.ok("variables", {"variablesReference": row["variablesReference"]})[
                "variables"]]
    assert {"owner", "balance", "__dict__"} <= set(shown) and not LOADING_ONLY & set(shown), shown
    offered = {t["label"] for t in client.ok("completions", {"text": "acct.", "column": 6, "frameId": frame})["targets"]}
    assert {"owner", "balance"} <= offered and not LOADING_ONLY & offered, offered
    listed = client.ok("evaluate", {"expression": "dir(acct)", "frameId": frame, "context": "repl"})["result"]
    assert "'owner'" in listed and not any(repr(name) in listed for name in LOADING_ONLY), listed
    attributes = client.ok("evaluate", {"expression": "vars(acct)", "frameId": frame, "context": "repl"})["result"]
    assert attributes == "{'owner': 'ann', 'balance': 10}", attributes
