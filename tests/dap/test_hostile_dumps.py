"""tbdap on crafted dumps: the session survives what a dump says, and serves a local file
only when its SHA-256 is the one the dump recorded.

Each case is a real dump with its safe layer edited (tests/crafted.py), replayed
through the real DAP client, which validates every message against the schema
and times out instead of waiting forever.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

from ..conftest import rewrite_safe_layer
from ..crafted import KEEP, Safe, memory_cap, name_file
from .dapclient import DapClient

SECRET = "".join(f"TOP SECRET line {n}\n" for n in range(1, 40))


Craft = Callable[[Callable[[Safe], None]], Path]


@pytest.fixture
def crafted(dumps: Callable[[str], Path], tmp_path: Path) -> Craft:
    """crafted(edit) -> the dump of programs/nested.py's crash (the session's), its safe layer
    edited as an attacker would, written to a file of this test."""
    def make(edit: Callable[[Safe], None]) -> Path:
        return rewrite_safe_layer(dumps("nested"), tmp_path / "crafted.pkl", edit)
    return make


def replay(tbdap: Callable[..., DapClient], dump: Path, **spawn: Any) -> Dict[str, Any]:
    """A client stopped at the dump's exception; its first stack frame."""
    client = tbdap(**spawn)
    client.initialize()
    stopped = client.start("launch", {"dumpFile": str(dump)})
    frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
    return {"client": client, "stopped": stopped, "frame": frames[0]}


def test_a_message_with_a_lone_surrogate_is_sent_and_the_session_goes_on(
        tbdap: Callable[..., DapClient], crafted: Craft) -> None:
    # "\ud800" has no UTF-8 form: writing it killed the adapter right after `launch`.
    def edit(safe: Safe) -> None:
        safe["exceptions"][0]["message"] = "'missing-21' \ud800"
    session = replay(tbdap, crafted(edit))
    client = session["client"]
    info = client.ok("exceptionInfo", {"threadId": session["stopped"]["body"]["threadId"]})
    assert info["description"].endswith("\ud800")
    assert "\\ud800" in client.output_text()    # the console's "tbdump replay of ..." line, escaped
    assert client.ok("threads")["threads"]


def test_the_consoles_lines_show_a_dumps_control_characters_as_escapes(
        tbdap: Callable[..., DapClient], crafted: Craft) -> None:
    # VS Code's debug console acts on ANSI sequences: hidden text, colours, cursor moves;
    # and a bidi override reorders the rest of its line ("Trojan Source").
    attack = "\x1b[8mhidden\x1b[0m\rFAKE\u202e\u2066evil\u2069\u2028"
    def edit(safe: Safe) -> None:
        safe["exceptions"][0]["message"] += attack
        safe["metadata"]["hostname"] += attack
    session = replay(tbdap, crafted(edit))
    said = session["client"].output_text()
    assert "\x1b" not in said and "\r" not in said and "\u202e" not in said, said
    assert said.count("\\x1b[8mhidden\\x1b[0m\\rFAKE\\u202e\\u2066evil\\u2069\\u2028") == 2, said


def test_a_dump_cut_100000_times_says_so_in_a_few_console_events(
        tbdap: Callable[..., DapClient], crafted: Craft) -> None:
    # One output event per cut line: a client got 100 000 events for one note.
    def edit(safe: Safe) -> None:
        safe["metadata"]["cut"] = ["v%d: not captured: time budget exhausted" % n for n in range(100000)]
    session = replay(tbdap, crafted(edit))
    client = session["client"]
    assert len(client.events("output")) <= 3, len(client.events("output"))
    said = client.output_text()
    assert "  partial dump: v0: not captured: time budget exhausted\n" in said, said[:300]
    assert "  partial dump: v99: " in said and "v100:" not in said, said[-300:]
    assert "  partial dump: 99900 more cuts, which `python -m tbdump.report` lists\n" in said, said[-300:]
    assert client.ok("threads")["threads"]


@pytest.mark.parametrize("text, sha256, listed", [
    (None, None, True),     # the dump holds neither the text nor a hash
    (None, KEEP, False),    # the frames name a file the dump has no entry for
    (KEEP, None, True),     # the dump's copy, but no hash to check the local file with
])
def test_a_local_file_is_served_only_when_its_sha256_is_the_dumps(
        tbdap: Callable[..., DapClient], crafted: Craft, tmp_path: Path, text: Any, sha256: Any,
        listed: bool) -> None:
    secret = tmp_path / "notes.txt"
    secret.write_text(SECRET)
    dump = crafted(lambda safe: name_file(safe, str(secret), text=text, sha256=sha256, listed=listed))
    session = replay(tbdap, dump)
    client, source = session["client"], session["frame"]["source"]
    # A reference makes the client ask tbdap for the text instead of opening the path.
    assert source["sourceReference"] > 0, source
    asked = {"source": source, "sourceReference": source["sourceReference"]}
    if text is KEEP:
        assert "def leaf(" in client.ok("source", asked)["content"]
        assert "as captured in the dump (not checked" in source["origin"]
    else:
        assert client.fail("source", asked).startswith(f"No source to show for {secret}")
        assert "the dump has no copy" in source["origin"]
    assert "TOP SECRET" not in json.dumps(client.received)


def test_a_huge_local_file_is_not_read(tbdap: Callable[..., DapClient], crafted: Craft,
                                       tmp_path: Path) -> None:
    # Larger than any captured source, so it cannot match: it used to be read whole
    # (3 GB, a MemoryError in stackTrace); it is not even opened now.
    huge = tmp_path / "nested_copy.py"
    with open(huge, "wb") as f:
        f.truncate(3 << 30)     # sparse: no disk is used
    dump = crafted(lambda safe: name_file(safe, str(huge), sha256="0" * 64))
    session = replay(tbdap, dump, preexec_fn=memory_cap())
    source = session["frame"]["source"]
    assert "larger here than any source a dump records" in source["origin"]
    content = session["client"].ok("source", {"source": source,
                                              "sourceReference": source["sourceReference"]})
    assert "def leaf(" in content["content"]


def test_a_preview_that_promises_a_long_list_where_the_object_is_an_int(
        tbdap: Callable[..., DapClient], crafted: Craft) -> None:
    # The preview makes the row paged ("list", 200 items); the object behind its ref is the
    # int 42, which has no len(): listing it was an internal error.
    def edit(safe: Safe) -> None:
        leaf = safe["frames"][safe["exceptions"][0]["frames"][-1]]
        leaf["vars"]["total"].update(t="list", n=200, e=1)
    session = replay(tbdap, crafted(edit))
    client = session["client"]
    scopes = client.ok("scopes", {"frameId": session["frame"]["id"]})["scopes"]
    local = next(s for s in scopes if s["name"] == "Locals")
    total = next(v for v in client.ok("variables", {"variablesReference": local["variablesReference"]})["variables"]
                 if v["name"] == "total")
    assert total["indexedVariables"] == 200, total
    for flt in ("named", "indexed", None):
        asked = {"variablesReference": total["variablesReference"], **({"filter": flt} if flt else {})}
        client.ok("variables", asked)   # answers, whatever it holds: no internal error


def test_a_launch_of_a_dump_with_a_field_of_the_wrong_type_is_refused_naming_it(
        tbdap: Callable[..., DapClient], crafted: Craft) -> None:
    # A package's version that is not a string went out in the `modules` response, which the
    # protocol's schema refuses; the dump is refused at load instead, in one line.
    dump = crafted(lambda safe: safe["metadata"]["packages"].update(tbdump=5))
    client = tbdap()
    client.initialize()
    response = client.request("launch", {"dumpFile": str(dump)})
    assert not response["success"] and response["body"]["error"]["showUser"], response
    assert response["message"] == "%s: the dump's safe layer is damaged (metadata.packages['tbdump']: expected a " \
                                  "string, found an integer)" % dump, response


def test_a_weak_proxy_whose_referent_died_on_restoring_lists_as_not_shown(
        tbdap: Callable[..., DapClient], dumps: Callable[[str], Path]) -> None:
    # Telling whether it was a placeholder, isinstance() read the dead proxy's __class__: the
    # ReferenceError was an internal error, and from then on a KeyError, the name half-restored.
    session = replay(tbdap, dumps("dead_proxy"))
    client = session["client"]
    frames = client.ok("stackTrace", {"threadId": session["stopped"]["body"]["threadId"]})["stackFrames"]

    def local(frame: Dict[str, Any], name: str) -> Dict[str, Any]:
        scope = client.ok("scopes", {"frameId": frame["id"]})["scopes"][0]
        return next(v for v in client.ok("variables", {"variablesReference": scope["variablesReference"]})["variables"]
                    if v["name"] == name)
    client.ok("variables", {"variablesReference": local(frames[-1], "KEPT")["variablesReference"]})
    proxy = local(frames[0], "proxy")
    for _ in range(2):
        rows = client.ok("variables", {"variablesReference": proxy["variablesReference"]})["variables"]
        assert [r["value"] for r in rows] == ["<not shown: listing its children raised ReferenceError: "
                                              "weakly-referenced object no longer exists>"], rows


@pytest.mark.parametrize("safe", [False, True])
def test_a_value_whose_class_cannot_be_read_opens_on_why_it_lists_nothing(
        tbdap: Callable[..., DapClient], dumps: Callable[[str], Path], safe: bool) -> None:
    # The capture listed such a value's attributes as none (dir() raised what reading its
    # __class__ raises) and kept that empty list: its row opened on nothing in either mode.
    client = tbdap()
    client.initialize()
    stopped = client.start("launch", {"dumpFile": str(dumps("unclassed")), "safe": safe})
    frame = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"][0]
    scope = client.ok("scopes", {"frameId": frame["id"]})["scopes"][0]
    listed = client.ok("variables", {"variablesReference": scope["variablesReference"]})["variables"]
    local = {v["name"]: v for v in listed}
    for name, error in (("gone", "ReferenceError: weakly-referenced object no longer exists"),
                        ("remote", "ConnectionError: server gone")):
        assert local[name]["value"] == "<repr failed: %s>" % error, local[name]
        rows = client.ok("variables", {"variablesReference": local[name]["variablesReference"]})["variables"]
        why = ("not captured: its contents (safe mode: objects are not loaded (nothing from the file is run))"
               if safe else "not shown: listing its children raised " + error)
        assert [r["value"] for r in rows] == ["<%s>" % why], (name, rows)
    # A list's items are listed beside its attributes, which then are none.
    rows = client.ok("variables", {"variablesReference": local["rows"]["variablesReference"]})["variables"]
    assert [(r["name"], r["value"]) for r in rows] == [("0", "'ann'"), ("1", "'bob'"), ("len()", "2")], rows
