"""What the Variables view shows after the replay changed: a watch that calls a method changes the
program as the console does, and a function's Locals shown again restore none of its module's globals."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

from .conftest import make_dump
from .dapclient import DapClient

# `witness` is restored by touching the file `restored` beside the program: it says whether the
# replay unpickled that global. The ballast makes the object layer too big to be restored whole in
# the background (tbdap's PRELOAD_LIMIT, 32 MB), so values are restored as they are asked for.
PROGRAM = """
    import os
    import pathlib

    class Witness:
        def __reduce__(self):
            return pathlib.Path.touch, (pathlib.Path(__file__).with_name("restored"),)

    witness = Witness()
    ballast = os.urandom(40 << 20)

    def crash(items):
        count = len(items)
        raise RuntimeError("crash with %d items" % count)

    crash([1, 2])
"""


@pytest.fixture(scope="module")
def witness_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("witness")
    program = folder / "witness.py"
    program.write_text(textwrap.dedent(PROGRAM))
    dump = make_dump(program, folder / "dump.pkl")
    assert not (folder / "restored").exists()
    return dump


def crash_locals(tbdap: Callable[..., DapClient], dump: Path) -> Tuple[DapClient, int, int]:
    """A client stopped in the dump; the id of the frame that raised and its Locals' reference."""
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    frame = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]
    assert frame["name"] == "crash"
    scopes = client.ok("scopes", {"frameId": frame["id"]})["scopes"]
    return client, frame["id"], next(s["variablesReference"] for s in scopes if s["name"] == "Locals")


def shown(client: DapClient, ref: int) -> Dict[str, str]:
    rows: List[Dict[str, str]] = client.ok("variables", {"variablesReference": ref})["variables"]
    return {r["name"]: r["value"] for r in rows}


def test_a_watch_that_changes_a_value_shows_in_the_variables_view(
        tbdap: Callable[..., DapClient], witness_dump: Path) -> None:
    # The rows listed before the watch were listed again unchanged until a Set Value or a console
    # input, though the watch had changed the list (debugpy's watch changes the live program).
    client, frame_id, ref = crash_locals(tbdap, witness_dump)
    assert shown(client, ref)["items"] == "[1, 2]"
    client.ok("evaluate", {"expression": "items.append(3)", "frameId": frame_id, "context": "watch"})
    after = shown(client, ref)
    assert (after["items"], after["count"]) == ("[1, 2, 3]", "2")


def test_a_functions_locals_shown_after_a_change_restore_none_of_its_modules_globals(
        tbdap: Callable[..., DapClient], witness_dump: Path) -> None:
    # They were built from every namespace of the frame: each of the module's globals was restored.
    restored = witness_dump.with_name("restored")
    restored.unlink(missing_ok=True)
    client, frame_id, ref = crash_locals(tbdap, witness_dump)
    client.ok("setVariable", {"variablesReference": ref, "name": "count", "value": "len(items) * 10"})
    assert shown(client, ref)["count"] == "20"
    assert not restored.exists()
    client.ok("evaluate", {"expression": "witness", "frameId": frame_id, "context": "hover"})
    assert restored.exists()   # the witness does tell: asked for, it is restored
    restored.unlink()
