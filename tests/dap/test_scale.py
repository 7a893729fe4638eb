"""Crashes of big programs, opened as VS Code opens them: through the real client over a pipe,
every message checked against the DAP schema."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

from ..conftest import biglobals_dump, globals_entries_damaged
from .conftest import make_dump
from .dapclient import DapClient


def test_a_frame_in_a_generated_module_too_large_to_keep_shows_the_local_file(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    # 5 MB: the dump keeps no text of it, but its SHA-256, so the local file is known to be the one that ran.
    generated = tmp_path / "tables.py"
    filler = "# %s\n" % ("x" * 98)
    generated.write_text(filler * 50_000 + "def lookup(key):\n    return {}[key]\n")
    program = tmp_path / "prog.py"
    program.write_text(textwrap.dedent("""
        import tables
        tables.lookup('missing')
    """))
    dump = make_dump(program, tmp_path / "traceback.pkl")
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    frame = client.ok("stackTrace", {"threadId": 1, "startFrame": 0, "levels": 1})["stackFrames"][0]
    assert (frame["name"], frame["line"]) == ("lookup", 50_002)
    assert frame["source"] == {"name": "tables.py", "path": str(generated)}   # no sourceReference
    assert "Sources not taken from this machine" not in client.output_text()


def test_the_top_frame_of_a_big_program_opens_without_the_object_records_of_its_globals(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    # 40 modules of 3 000 globals: the object index's 120 000 entries were read and checked
    # before the first value could be evaluated; one of a global's that cannot be followed
    # made the whole object layer unreadable.
    globals_entries_damaged(biglobals_dump(tmp_path), tmp_path / "damaged.pkl")
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(tmp_path / "damaged.pkl")})
    frame = client.ok("stackTrace", {"threadId": 1, "startFrame": 0, "levels": 20})["stackFrames"][0]
    assert (frame["name"], frame["source"]["name"]) == ("step", "m39.py")
    scopes = {s["name"]: s["variablesReference"] for s in client.ok("scopes", {"frameId": frame["id"]})["scopes"]}
    shown = {v["name"]: v["value"] for v in client.ok("variables", {"variablesReference": scopes["Locals"]})["variables"]}
    assert (shown["depth"], shown["here"], shown["name"]) == ("39", "78", "'m39'")
    assert client.ok("evaluate", {"expression": "here + depth", "frameId": frame["id"], "context": "repl"})["result"] == "117"
    module = {v["name"]: v["value"] for v in client.ok("variables", {"variablesReference": scopes["Globals"]})["variables"]}
    assert module["V_2997"] == "119997"
