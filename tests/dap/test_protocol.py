"""tbdap through a real client over a real pipe or socket: lifecycle, features, and bad input."""
from __future__ import annotations

import io
import re
import shutil
import signal
import socket
import tempfile
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

import tbdump

from ..capture.test_failed_records import CYCLE, program
from ..conftest import rewrite_safe_layer
from .conftest import PROGRAMS, make_dump, serving
from .dapclient import REPO, DapClient, frame

Replay = Callable[..., DapClient]


def first_frame(client: DapClient) -> dict:
    return client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]


def replay_of(tbdap: Callable[..., DapClient], program: Path) -> DapClient:
    """A client stopped at the crash of ``program``, run under tbdump as a user would."""
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(make_dump(program, program.with_suffix(".pkl")))})
    return client


def locals_of(client: DapClient, frame_id: int) -> dict:
    ref = client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"]
    return {v["name"]: v for v in client.ok("variables", {"variablesReference": ref})["variables"]}


# -- lifecycle and errors a user sees ------------------------------------------------

def test_stops_on_the_exception_as_design_says(replay: Replay) -> None:
    client = replay("nested")
    stopped = client.events("stopped")[0]["body"]
    assert stopped == {"reason": "exception", "description": "Paused on exception", "text": "KeyError",
                       "threadId": 1, "allThreadsStopped": True, "preserveFocusHint": False}
    info = client.ok("exceptionInfo", {"threadId": 1})
    assert info["breakMode"] == "unhandled" and info["exceptionId"] == "KeyError"
    assert "Traceback (most recent call last)" in info["details"]["stackTrace"]
    assert "KeyError: 'missing-21'" in client.output_text()


def test_requests_before_launch_get_a_clear_error(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.initialize()
    assert "No dump is open yet" in client.fail("threads")
    assert "No dump is open yet" in client.fail("stackTrace", {"threadId": 1})


@pytest.mark.parametrize("content, expected", [
    (None, "No such file"),
    (b"", "not"),
    (b"this is not a dump at all" * 10, "not"),
])
def test_bad_dump_files_fail_launch_in_one_sentence(tbdap: Callable[..., DapClient], tmp_path: Path,
                                                     content: bytes, expected: str) -> None:
    path = tmp_path / "bad.pkl"
    if content is not None:
        path.write_bytes(content)
    client = tbdap()
    client.initialize()
    message = client.fail("launch", {"dumpFile": str(path)})
    assert expected.lower() in message.lower() and "Traceback" not in message and "\n" not in message
    assert client.proc is not None and client.proc.poll() is None  # still serving


def test_exception_details_read_as_python_printed_them(replay: Replay) -> None:
    """Repeated frames folded, ~~^~~ under the operator, carets aligned past wide characters."""
    printed = subprocess.run([sys.executable, str(PROGRAMS / "recursion.py")], capture_output=True, text=True,
                             cwd=str(PROGRAMS), timeout=60).stderr
    assert "[Previous line repeated" in printed and "~~~~^~~~" in printed, printed   # the case holds
    client = replay("recursion")
    thread_id = client.ok("threads")["threads"][0]["id"]
    details = client.ok("exceptionInfo", {"threadId": thread_id})["details"]["stackTrace"]
    assert details == printed


def test_only_failures_that_end_an_action_pop_up(replay: Replay, tbdap: Callable[..., DapClient],
                                                 tmp_path: Path) -> None:
    """VS Code shows an error whose showUser is set as a notification: right when a launch
    or a step fails, noise when a hover or a watch does (those show their error inline)."""
    def pops_up(client: DapClient, command: str, arguments: dict) -> bool:
        response = client.request(command, arguments)
        assert not response["success"], response
        return bool(response["body"]["error"]["showUser"])

    fresh = tbdap()
    fresh.initialize()
    assert pops_up(fresh, "launch", {"dumpFile": str(tmp_path / "missing.pkl")})
    client = replay("nested")
    frame_id = first_frame(client)["id"]
    thread_id = client.ok("threads")["threads"][0]["id"]
    assert pops_up(client, "next", {"threadId": thread_id})
    for context in ("hover", "watch", "repl"):
        assert not pops_up(client, "evaluate", {"expression": "undefined_name", "frameId": frame_id,
                                                "context": context})
    assert not pops_up(client, "variables", {"variablesReference": 987654})


def test_truncated_dump_fails_launch_clearly(tbdap: Callable[..., DapClient], dumps: Callable[[str], Path],
                                             tmp_path: Path) -> None:
    data = dumps("nested").read_bytes()
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(data[: len(data) // 2])
    client = tbdap()
    client.initialize()
    message = client.fail("launch", {"dumpFile": str(cut)})
    assert message and "Traceback" not in message
    # The same session can still open a good dump.
    client.start("launch", {"dumpFile": str(dumps("nested"))})


def test_unknown_command_and_bad_arguments(replay: Replay) -> None:
    client = replay("nested")
    assert "does not support the 'fly'" in client.fail("fly", {})
    assert "'threadId'" in client.fail("stackTrace", {})
    assert "'threadId'" in client.fail("stackTrace", {"threadId": "one"})
    assert "no variablesReference" in client.fail("variables", {"variablesReference": 999999})
    thread_id = client.ok("threads")["threads"][0]["id"]
    assert "'levels' argument must be 0 or more" in client.fail("stackTrace", {"threadId": thread_id, "levels": -1})
    parts = locals_of(client, first_frame(client)["id"])["parts"]
    assert "'start' argument must be 0 or more" in client.fail("variables", {
        "variablesReference": parts["variablesReference"], "filter": "indexed", "start": -5, "count": 2})
    assert "len() cannot be assigned to" in client.fail("setVariable", {
        "variablesReference": parts["variablesReference"], "name": "len()", "value": "7"})
    assert "no thread with id %d" % (thread_id + 1000) in client.fail("exceptionInfo", {"threadId": thread_id + 1000})


def test_running_requests_explain_and_keep_the_session(replay: Replay) -> None:
    """One sentence for all of them: VS Code shows an identical notification once, however often and
    whichever of F5, F10, F11, Shift+F11 is pressed, instead of a toast per command."""
    client = replay("nested")
    said = {client.fail(command, {"threadId": 1}) for command in ("continue", "next", "stepIn", "stepOut", "pause",
                                                                  "stepBack", "reverseContinue")}
    said.add(client.fail("goto", {"threadId": 1, "targetId": 1}))
    assert len(said) == 1, said
    assert said.pop().startswith("A crash dump replay cannot continue, step or pause: the program is not running.")
    restart = client.request("restartFrame", {"frameId": first_frame(client)["id"]})
    assert not restart["success"] and restart["body"]["error"]["showUser"]
    assert restart["message"].startswith("A crash dump replay cannot restart a frame: the program is not running")
    assert first_frame(client)["name"] == "leaf"


def test_breakpoints_are_kept_unverified_saying_why(replay: Replay) -> None:
    """VS Code sends the user's breakpoints at every launch: each gets its answer, unverified
    (shown hollow), with the reason on hover, and the session goes on."""
    client = replay("nested")
    never = {"verified": False, "message": "A replay does not run, so breakpoints never hit."}
    assert client.ok("setBreakpoints", {"source": {"path": str(PROGRAMS / "nested.py")},
                                        "breakpoints": [{"line": 3}, {"line": 5}]})["breakpoints"] == [never] * 2
    assert client.ok("setFunctionBreakpoints", {"breakpoints": [{"name": "leaf"}]})["breakpoints"] == [never]
    assert first_frame(client)["name"] == "leaf"


def test_disconnect_ends_the_adapter(replay: Replay) -> None:
    client = replay("nested")
    client.ok("disconnect", {})
    assert client.proc is not None and client.proc.wait(10) == 0


def test_a_line_written_without_its_end_comes_before_the_answer(tbdap: Callable[..., DapClient],
                                                                  tmp_path: Path) -> None:
    """What a value's restoring writes without a line end (a progress note) reaches the console
    before the answer to the request that restored it, and so before the disconnect's answer, the
    last message the client reads: it came after both, once writing had paused or the session
    had ended, when the client had stopped listening."""
    program = tmp_path / "progress.py"
    program.write_text("import sys\n"
                       "class Loader:\n"
                       "    def __setstate__(self, state):\n"
                       "        sys.stdout.write('restoring the loader... ')\n"
                       "        self.__dict__.update(state)\n"
                       "def main():\n"
                       "    loader = Loader()\n"
                       "    loader.ready = False\n"
                       "    raise RuntimeError('not ready')\n"
                       "main()\n")
    client = replay_of(tbdap, program)
    loader = locals_of(client, first_frame(client)["id"])["loader"]
    expanding = client.send("variables", {"variablesReference": loader["variablesReference"]})
    leaving = client.send("disconnect", {})
    client.response(leaving)
    assert client.proc is not None and client.proc.wait(10) == 0
    order = [(m["type"], m.get("request_seq") or m["body"]["output"]) for m in client.received
             if m.get("request_seq") in (expanding, leaving) or m.get("event") == "output"][-3:]
    assert order == [("event", "restoring the loader... "), ("response", expanding), ("response", leaving)], order


def test_a_module_that_sets_up_sys_stdout_as_it_is_imported_loads_and_writes_to_the_console(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """`sys.stdout.reconfigure(encoding="utf-8")` or `io.TextIOWrapper(sys.stdout.buffer, ...)` at
    a module's top, imported to restore a value of its class or typed in the console: the console's
    sys.stdout had neither (AttributeError), so the module did not import, each value of its
    classes came back a stand-in that has no methods, and `import` in the console failed, where
    debugpy runs them on the program's own sys.stdout."""
    (tmp_path / "orders.py").write_text("import sys\n"
                                        "sys.stdout.reconfigure(encoding='utf-8')\n"
                                        "class Order:\n"
                                        "    def __init__(self, total):\n"
                                        "        self.total = total\n"
                                        "    def describe(self):\n"
                                        "        return 'order of %d' % self.total\n")
    (tmp_path / "wrapped.py").write_text("import io, sys\n"
                                         "sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding='utf-8',"
                                         " line_buffering=True)\n"
                                         "print('wrapped: caf\\u00e9')\n")
    program = tmp_path / "shop.py"
    program.write_text("from orders import Order\n"
                       "def charge(order):\n"
                       "    return order.total / 0\n"
                       "charge(Order(5))\n")
    client = tbdap(cwd=str(tmp_path))   # the project's folder, where VS Code starts tbdap, so orders imports
    client.initialize()
    client.start("launch", {"dumpFile": str(make_dump(program, program.with_suffix(".pkl")))})
    top = first_frame(client)["id"]
    assert client.ok("evaluate", {"expression": "order.describe()", "frameId": top,
                                  "context": "repl"})["result"] == "'order of 5'"
    client.ok("evaluate", {"expression": "import wrapped", "frameId": top, "context": "repl"})
    client.ok("evaluate", {"expression": "import sys; sys.stdout.buffer.write('bytes: caf\\u00e9\\n'.encode())",
                           "frameId": top, "context": "repl"})
    printed = "".join(e["body"]["output"] for e in client.events("output") if e["body"].get("category") == "stdout")
    assert printed.endswith("wrapped: caf\u00e9\nbytes: caf\u00e9\n"), printed


def test_terminate_sends_terminated(replay: Replay) -> None:
    client = replay("nested")
    client.ok("terminate", {})
    client.wait_event("terminated")


# -- the stack -----------------------------------------------------------------------

def test_chained_exceptions_are_labelled_segments(replay: Replay) -> None:
    client = replay("raise_from")
    frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
    labels = [f for f in frames if f.get("presentationHint") == "label"]
    assert [f["name"] for f in labels] == [
        "Direct cause of the exception above: ValueError: invalid literal for int() with base 10: 'x12'"]
    names = [f["name"] for f in frames if f.get("presentationHint") != "label"]
    assert names[:2] == ["load", "<module>"] and names[-2:] == ["parse", "load"]
    assert "int" not in names  # builtins have no frames
    info = client.ok("exceptionInfo", {"threadId": 1})
    assert "The above exception was the direct cause" in info["details"]["stackTrace"]
    assert info["details"]["innerException"][0]["typeName"] == "ValueError"


def test_a_label_of_the_call_stack_has_no_scopes_and_evaluates_nothing(replay: Replay) -> None:
    """A chained exception's label row is no frame: no scopes, and a watch or console line there
    says to select a frame, not what a frame would answer."""
    client = replay("raise_from")
    label = next(f for f in client.ok("stackTrace", {"threadId": 1})["stackFrames"]
                 if f.get("presentationHint") == "label")
    assert client.ok("scopes", {"frameId": label["id"]})["scopes"] == []
    said = client.fail("evaluate", {"expression": "text", "frameId": label["id"], "context": "watch"})
    assert said == "%r is a label in the call stack, not a frame: select a frame." % label["name"]


def test_a_relative_dump_file_is_found_from_the_launch_cwd(tbdap: Callable[..., DapClient],
                                                           dumps: Callable[[str], Path], tmp_path: Path) -> None:
    """A launch configuration's "dumpFile": "traceback.pkl" beside "cwd": "${workspaceFolder}":
    the dump in that folder, not in the adapter's own working directory."""
    shutil.copyfile(dumps("nested"), tmp_path / "traceback.pkl")
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": "traceback.pkl", "cwd": str(tmp_path)})
    assert first_frame(client)["name"] == "leaf"


def test_library_frames_are_subtle_and_just_my_code_hides_nothing(replay: Replay) -> None:
    subtle = replay("library").ok("stackTrace", {"threadId": 1})["stackFrames"]
    plain = replay("library", justMyCode=False).ok("stackTrace", {"threadId": 1})["stackFrames"]
    assert len(subtle) == len(plain)
    lib = [f for f in subtle if "json" in f["source"]["path"]]
    assert lib and all(f["presentationHint"] == "subtle" for f in lib)
    assert all(f["source"]["presentationHint"] == "deemphasize" for f in lib)
    # justMyCode false: subtle still, as debugpy marks every frame outside the program, but the
    # sources carry no hint, as debugpy's.
    plain_lib = [f for f in plain if "json" in f["source"]["path"]]
    assert [f["name"] for f in plain_lib] == [f["name"] for f in lib]
    assert all(f["presentationHint"] == "subtle" and "presentationHint" not in f["source"] for f in plain_lib)


def test_a_crash_in_library_code_only_still_stops_in_a_frame_vs_code_opens(replay: Replay) -> None:
    """VS Code opens the first frame that is not de-emphasized, and shows the exception there: the
    frame the replay stops in stays plain, or a stack of library frames only would open nothing."""
    client = replay("library_only")
    stopped = client.wait_event("stopped")["body"]["threadId"]
    frames = [f for f in client.ok("stackTrace", {"threadId": stopped})["stackFrames"]
              if f.get("presentationHint") != "label"]
    assert not [f for f in frames if "programs" in f["source"]["path"]]  # the case holds: library code only
    top, rest = frames[0], frames[1:]
    assert top["name"] == "raw_decode" and "presentationHint" not in top
    assert rest and all(f["presentationHint"] == "subtle" for f in rest)
    # VS Code keeps one Source per path, with the hint it received last, and shows the exception widget
    # only in a frame whose Source is not de-emphasized: no frame of the stop frame's file may say so.
    stop_file = top["source"]["path"]
    assert len([f for f in frames if f["source"]["path"] == stop_file]) > 1  # the case holds: decode is there too
    assert all("presentationHint" not in f["source"] for f in frames if f["source"]["path"] == stop_file)
    assert all(f["source"]["presentationHint"] == "deemphasize" for f in frames if f["source"]["path"] != stop_file)


def test_stack_paging(replay: Replay) -> None:
    client = replay("nested")
    whole = client.ok("stackTrace", {"threadId": 1})
    page = client.ok("stackTrace", {"threadId": 1, "startFrame": 1, "levels": 2})
    assert page["totalFrames"] == whole["totalFrames"]
    assert [f["id"] for f in page["stackFrames"]] == [f["id"] for f in whole["stackFrames"][1:3]]


def test_a_thread_crash_stops_in_the_crashing_thread(replay: Replay) -> None:
    client = replay("thread")
    threads = {t["name"]: t["id"] for t in client.ok("threads")["threads"]}
    assert client.wait_event("stopped")["body"]["threadId"] == threads["worker-1"]
    assert client.ok("stackTrace", {"threadId": threads["worker-1"]})["stackFrames"][0]["name"] == "worker"
    assert "did not raise" in client.fail("exceptionInfo", {"threadId": threads["MainThread"]})


# -- sources -------------------------------------------------------------------------

def test_source_from_the_dump_when_the_local_file_differs(tbdap: Callable[..., DapClient],
                                                          tmp_path: Path) -> None:
    from .conftest import PROGRAMS, make_dump
    program = tmp_path / "nested.py"
    shutil.copy(PROGRAMS / "nested.py", program)
    dump = make_dump(program, tmp_path / "d.pkl")
    original = program.read_text()
    program.write_text("# edited after the crash\n" + original)
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump)})
    source = first_frame(client)["source"]
    assert source["sourceReference"] > 0 and "differs" in source["origin"]
    assert client.ok("source", {"sourceReference": source["sourceReference"]})["content"] == original
    assert "differs from the file that ran" in client.output_text()


@pytest.mark.parametrize("root", ["absolute", "relative", "windows"])
def test_path_mappings_find_the_local_copy(tbdap: Callable[..., DapClient], tmp_path: Path, root: str) -> None:
    from .conftest import PROGRAMS, make_dump
    remote, local = tmp_path / "remote", tmp_path / "local"
    remote.mkdir()
    shutil.copy(PROGRAMS / "nested.py", remote / "nested.py")
    dump = make_dump(remote / "nested.py", tmp_path / "d.pkl")   # crashes with remote/ as its cwd
    shutil.move(str(remote), str(local))
    remote_root = {"absolute": str(remote), "relative": "."}.get(root, "C:\\Users\\dev\\shop")
    if root == "windows":   # the same crash, as a Windows machine records it
        def on_windows(safe: dict) -> None:
            def path(name: str) -> str:
                return name.replace(str(remote), remote_root).replace("/", "\\")
            safe["metadata"]["cwd"] = remote_root
            for frame in safe["frames"]:
                frame["file"] = path(frame["file"])
            safe["sources"] = {path(k): dict(v, file=path(v["file"])) for k, v in safe["sources"].items()}
        dump = rewrite_safe_layer(dump, tmp_path / "windows.pkl", on_windows)
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump),
                            "pathMappings": [{"localRoot": str(local), "remoteRoot": remote_root}]})
    source = first_frame(client)["source"]
    assert source["path"] == str(local / "nested.py") and not source.get("sourceReference")


@pytest.mark.parametrize("outer_first", [True, False])
def test_of_two_matching_path_mappings_the_longest_remote_root_wins(tbdap: Callable[..., DapClient],
                                                                     tmp_path: Path, outer_first: bool) -> None:
    """docs/DAP.md: "the longest matching `remoteRoot` wins", whatever order the mappings come in: a
    mapping of the whole remote tree elsewhere does not hide the one for the program's own folder."""
    from .conftest import PROGRAMS, make_dump
    remote, local = tmp_path / "remote", tmp_path / "local"
    remote.mkdir()
    shutil.copy(PROGRAMS / "nested.py", remote / "nested.py")
    dump = make_dump(remote / "nested.py", tmp_path / "d.pkl")
    shutil.move(str(remote), str(local))
    mappings = [{"localRoot": str(tmp_path / "elsewhere"), "remoteRoot": str(tmp_path)},
                {"localRoot": str(local), "remoteRoot": str(remote)}]
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(dump), "pathMappings": mappings if outer_first else mappings[::-1]})
    source = first_frame(client)["source"]
    assert source["path"] == str(local / "nested.py") and not source.get("sourceReference"), source


# -- variables and evaluation ----------------------------------------------------------

def test_a_million_items_page_by_hundreds(replay: Replay) -> None:
    client = replay("million")
    numbers = locals_of(client, first_frame(client)["id"])["numbers"]
    assert numbers["indexedVariables"] == 1000000 and numbers["type"] == "list"
    ref = numbers["variablesReference"]
    named = client.ok("variables", {"variablesReference": ref, "filter": "named"})["variables"]
    assert [(v["name"], v["value"]) for v in named] == [("special variables", ""), ("function variables", ""),
                                                        ("len()", "1000000")]
    page = client.ok("variables", {"variablesReference": ref, "filter": "indexed",
                                   "start": 500000, "count": 100})["variables"]
    assert [v["name"] for v in page] == [str(n) for n in range(500000, 500100)]
    assert page[0]["value"] == "500000" and page[0]["evaluateName"] == "numbers[500000]"


def test_hex_format(replay: Replay) -> None:
    client = replay("million")
    ref = client.ok("scopes", {"frameId": first_frame(client)["id"]})["scopes"][0]["variablesReference"]
    rows = client.ok("variables", {"variablesReference": ref, "format": {"hex": True}})["variables"]
    assert {v["name"]: v["value"] for v in rows}["threshold"] == "0x2a"


def test_evaluate_in_every_context(replay: Replay) -> None:
    client = replay("nested")
    frame_id = first_frame(client)["id"]
    for context in ("watch", "hover", "repl", "clipboard"):
        result = client.ok("evaluate", {"expression": "table['other']", "frameId": frame_id, "context": context})
        assert result["result"] == "[1, 2]" and result["variablesReference"] > 0
    kids = client.ok("variables", {"variablesReference": result["variablesReference"]})["variables"]
    assert [v["name"] for v in kids] == ["special variables", "function variables", "0", "1", "len()"]
    assert client.ok("evaluate", {"expression": "config.retries * 2", "frameId": frame_id,
                                  "context": "watch"})["result"] == "6"
    error = client.fail("evaluate", {"expression": "nope + 1", "frameId": frame_id, "context": "watch"})
    assert error == "NameError: name 'nope' is not defined"
    repl_error = client.fail("evaluate", {"expression": "1/0", "frameId": frame_id, "context": "repl"})
    assert "Traceback" in repl_error and "ZeroDivisionError" in repl_error


def test_the_console_shows_an_errors_traceback_from_the_expression_on(replay: Replay) -> None:
    """As Python's REPL prints it: the expression's frames, not tbdap's; a value the dump lacks
    says so after the error, in a sentence of its own, the line pasted with the indentation of
    its block too (that sentence was left out: the names were read from the line as pasted)."""
    client = replay("unrebuildable")
    frame_id = first_frame(client)["id"]
    for line, pasted in ((1, "ledger.balance()"), (2, "    if count:\n        ledger.balance()")):
        error = client.fail("evaluate", {"expression": pasted, "frameId": frame_id, "context": "repl"})
        assert error.startswith('Traceback (most recent call last):\n  File "<repl>", line %d, in <module>\n'
                                "AttributeError: 'balance' is not in the captured preview of this value. "
                                "Not in the dump: ledger (" % line), error
        assert "tbdap" not in error and "ledgers cannot be restored" in error, error


def test_repl_statements_and_set_variable_change_the_replay(replay: Replay) -> None:
    client = replay("nested")
    frame_id = first_frame(client)["id"]
    client.ok("evaluate", {"expression": "extra = total + 1", "frameId": frame_id, "context": "repl"})
    assert client.ok("evaluate", {"expression": "extra", "frameId": frame_id, "context": "repl"})["result"] == "43"
    client.ok("evaluate", {"expression": "print('hi from the replay')", "frameId": frame_id, "context": "repl"})
    ref = client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"]
    changed = client.ok("setVariable", {"variablesReference": ref, "name": "total", "value": "100"})
    assert changed["value"] == "100"
    assert locals_of(client, frame_id)["total"]["value"] == "100"
    assert "extra" in locals_of(client, frame_id)
    client.ok("setExpression", {"expression": "config.retries", "value": "9", "frameId": frame_id})
    assert client.ok("evaluate", {"expression": "config.retries", "frameId": frame_id})["result"] == "9"
    text = client.output_text()
    assert "hi from the replay" in text and "Changed in this replay only" in text


def test_a_global_set_to_a_comprehension_over_locals_stays_a_global(replay: Replay) -> None:
    """setVariable in a function's Globals scope, or a console line's `global` statement, to a
    value that reads the frame's locals from a comprehension: the module's variable changes, no
    local of its name appears."""
    client = replay("method")
    frame_id = first_frame(client)["id"]
    scopes = {s["name"]: s["variablesReference"] for s in client.ok("scopes", {"frameId": frame_id})["scopes"]}

    def names(scope: str) -> Dict[str, str]:
        return {v["name"]: v["value"] for v in client.ok("variables", {"variablesReference": scopes[scope]})["variables"]}
    assert client.ok("setVariable", {"variablesReference": scopes["Globals"], "name": "acct",
                                     "value": "[amount * n for n in range(2)]"})["value"] == "[0, 25]"
    assert names("Globals")["acct"] == "[0, 25]" and "acct" not in names("Locals")
    client.ok("evaluate", {"expression": "global acct; acct = [amount for _ in 'ab']", "frameId": frame_id,
                           "context": "repl"})
    assert names("Globals")["acct"] == "[25, 25]" and "acct" not in names("Locals")


def test_a_value_that_cannot_be_rebuilt_keeps_its_preview(replay: Replay) -> None:
    client = replay("unrebuildable")
    frame_id = first_frame(client)["id"]
    # What the dump has of it is its preview: the value, and what the preview holds of it.
    shown = client.ok("evaluate", {"expression": "ledger", "frameId": frame_id, "context": "watch"})
    assert (shown["result"], shown["type"]) == ("Ledger(3 entries)", "Ledger"), shown
    assert client.ok("evaluate", {"expression": "ledger.entries", "frameId": frame_id,
                                  "context": "watch"})["result"] == "[1, 2, 3]"
    error = client.fail("evaluate", {"expression": "ledger.entries.count(2)", "frameId": frame_id,
                                     "context": "watch"})
    assert "Not in the dump: ledger (" in error and "ledgers cannot be restored" in error, error
    assert client.ok("evaluate", {"expression": "count * 3", "frameId": frame_id, "context": "watch"})["result"] == "6"
    # After a REPL change the scope is read from the changed namespace; the value it could not
    # rebuild is still shown as captured, not as the stand-in object.
    client.ok("evaluate", {"expression": "count = 5", "frameId": frame_id, "context": "repl"})
    rows = locals_of(client, frame_id)
    assert rows["count"]["value"] == "5"
    assert rows["ledger"]["value"] == "Ledger(3 entries)" and rows["ledger"]["type"] == "Ledger", rows["ledger"]


def test_a_cycle_pickle_rebuilds_in_part_shows_whole_and_so_do_the_frames_after_it(
        tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """A dict keyed by a cycle of objects whose hash reads their state (pickle rebuilt one's
    edges before the other's name) showed "not restored", and so did every value after it in
    the dump, `before` two frames up a plain string; now the cycle, and they, show as they were."""
    source = tmp_path / "graph.py"
    source.write_text(program(CYCLE))
    client = replay_of(tbdap, source)
    frames = {f["name"]: f["id"] for f in client.ok("stackTrace", {"threadId": 1})["stackFrames"]}
    assert locals_of(client, frames["inner"])["later"]["value"] == "[1, 2, 3]"
    assert locals_of(client, frames["main"])["before"]["value"] == "'kept'"
    rows = locals_of(client, frames["outer"])
    for node, other, weight in (("a", "b", "1"), ("b", "a", "2")):
        attributes = children_of(client, rows[node])
        assert attributes["name"]["value"] == repr(node)
        edges = [row for name, row in children_of(client, attributes["edges"]).items()
                 if name not in ("special variables", "function variables", "len()")]
        assert [row["value"] for row in edges] == [weight]
    watched = client.ok("evaluate", {"expression": "[(n.name, n is a, list(n.edges)[0] is b) for n in value]",
                                     "frameId": frames["outer"], "context": "watch"})
    assert watched["result"] == "[('a', True, True)]"


def test_safe_mode_answers_from_previews_only(replay: Replay) -> None:
    client = replay("nested", safe=True)
    frame_id = first_frame(client)["id"]
    assert "safe mode" in client.output_text()
    other = client.ok("evaluate", {"expression": "table['other']", "frameId": frame_id, "context": "watch"})
    assert other["result"] == "[1, 2]"
    # The list's methods and dunders are its type's, bound to the object, which safe mode does not
    # load: the dump holds no truthful rows for them, and none are made up.
    kids = client.ok("variables", {"variablesReference": other["variablesReference"]})["variables"]
    assert [v["name"] for v in kids] == ["0", "1", "len()"]
    assert client.ok("evaluate", {"expression": "config.name", "frameId": frame_id})["result"] == "'prod'"
    error = client.fail("evaluate", {"expression": "total + 1", "frameId": frame_id, "context": "repl"})
    assert error == ("Only names, attribute/item access and len() can be evaluated here: safe mode: "
                     "objects are not loaded (nothing from the file is run)."), error
    assert "safe mode" in client.fail("setVariable", {
        "variablesReference": client.ok("scopes", {"frameId": frame_id})["scopes"][0]["variablesReference"],
        "name": "total", "value": "1"})


def test_a_client_cannot_lift_the_servers_safe_mode(tbdap: Callable[..., DapClient],
                                                    dumps: Callable[[str], Path]) -> None:
    client = tbdap("--safe")
    client.initialize()
    client.start("launch", {"dumpFile": str(dumps("nested")), "safe": False})
    frame_id = first_frame(client)["id"]
    error = client.fail("evaluate", {"expression": "total + 1", "frameId": frame_id, "context": "repl"})
    assert "objects are not loaded" in error, error


def test_exit_or_input_in_the_console_ends_the_evaluation_not_the_adapter(replay: Replay) -> None:
    client = replay("nested")
    frame_id = first_frame(client)["id"]
    # stdin carries the protocol: input() must find it empty, not read the next request.
    assert "EOFError" in client.fail("evaluate", {"expression": "input()", "frameId": frame_id,
                                                  "context": "repl"})
    assert "SystemExit: 3" in client.fail("evaluate", {"expression": "exit(3)", "frameId": frame_id,
                                                       "context": "repl"})
    assert "KeyboardInterrupt" in client.fail("evaluate", {"expression": "raise KeyboardInterrupt",
                                                           "frameId": frame_id, "context": "repl"})
    total = int(client.ok("evaluate", {"expression": "total", "frameId": frame_id})["result"])
    assert client.ok("evaluate", {"expression": "total + 1", "frameId": frame_id,
                                  "context": "repl"})["result"] == str(total + 1)
    assert client.ok("threads")["threads"]


def children_of(client: DapClient, row: dict) -> dict:
    return {v["name"]: v for v in client.ok("variables", {
        "variablesReference": row["variablesReference"]})["variables"]}


@pytest.mark.parametrize("safe", [True, False])
def test_object_groups_in_safe_mode_and_loaded(replay: Replay, safe: bool) -> None:
    client = replay("nested", safe=safe)
    config = locals_of(client, first_frame(client)["id"])["config"]
    rows = children_of(client, config)
    assert [rows[n]["value"] for n in ("name", "retries")] == ["'prod'", "3"]
    assert list(rows) == ["special variables", "hosts", "name", "retries"]
    special = children_of(client, rows["special variables"])
    if safe:  # the preview counted the dunders; only the objects have them
        [(name, row)] = special.items()
        assert name == "…" and re.fullmatch(r"<not captured: \d+ special variables \(.*safe mode.*\)>",
                                             row["value"]), row["value"]
    else:
        assert {"__dict__", "__class__", "__init__"} <= set(special)
        assert children_of(client, special["__dict__"])["'retries'"]["value"] == "3"


def test_safe_mode_groups_methods_as_loading_does(replay: Replay) -> None:
    """The preview counts methods without reading them; the count and the rows listed
    must be what the loaded objects show, whatever the lookup hides or adds."""
    def view(safe: bool) -> dict:
        client = replay("shadowing", safe=safe)
        frame_rows = locals_of(client, first_frame(client)["id"])
        out = {}
        for name in ("shadowed", "slotted", "intercepting"):
            rows = children_of(client, frame_rows[name])
            methods = children_of(client, rows["function variables"]) if "function variables" in rows else {}
            out[name] = ({n: row["value"] for n, row in rows.items() if not n.endswith(" variables")},
                         set(rows), methods)
        return out

    safe, loaded = view(True), view(False)
    assert loaded["shadowed"][0]["run"] == "'an instance attribute named like a method'"
    assert set(loaded["shadowed"][2]) == {"helper", "make", "stop"}
    assert loaded["intercepting"][0]["value"] == "'intercepted'"
    assert set(loaded["slotted"][2]) == {"norm"} and set(loaded["intercepting"][2]) == {"real"}
    for name in safe:
        values, names, methods = safe[name]
        assert (values, names) == loaded[name][:2], name
        [(_, counted)] = methods.items()
        assert counted["value"].startswith("<not captured: %d function variables" % len(loaded[name][2]))


def test_opening_a_value_unpickles_that_value_only(replay: Replay, dumps: Callable[[str], Path]) -> None:
    marker = Path(tempfile.gettempdir()) / ("tbdump-lazy-%d" % tbdump.load(dumps("lazy"), objects=False).metadata.pid)
    marker.unlink(missing_ok=True)
    client = replay("lazy")
    frame_id = first_frame(client)["id"]
    rows = locals_of(client, frame_id)
    page = client.ok("variables", {"variablesReference": rows["numbers"]["variablesReference"],
                                   "filter": "indexed", "start": 50000, "count": 2})["variables"]
    assert [v["value"] for v in page] == ["50000", "50001"]
    assert client.ok("evaluate", {"expression": "numbers[-1] + len(blob)", "frameId": frame_id,
                                  "context": "watch"})["result"] == "40099999"
    assert not marker.exists(), "opening two values unpickled a third"
    assert client.ok("evaluate", {"expression": "trap", "frameId": frame_id, "context": "watch"})["result"] == "None"
    assert marker.exists(), "control: the trap is unpickled once asked for"
    marker.unlink()


@pytest.mark.parametrize("safe", [True, False])
def test_placeholders_say_what_they_are(replay: Replay, safe: bool) -> None:
    """A generator, a lambda and a lock (programs/oddlocals.py) cannot be pickled whole: what the dump
    lacks of them is `<not captured: why>`, never an empty value, two levels down as a user expands."""
    client = replay("oddlocals", safe=safe)

    def walk(ref: int, path: str, depth: int) -> Iterator[Tuple[str, dict]]:
        for row in client.ok("variables", {"variablesReference": ref, "start": 0, "count": 30})["variables"]:
            yield path + row["name"], row
            if row["variablesReference"] and depth < 2:
                yield from walk(row["variablesReference"], path + row["name"] + " > ", depth + 1)

    frame_ref = client.ok("scopes", {"frameId": first_frame(client)["id"]})["scopes"][0]["variablesReference"]
    rows = dict(walk(frame_ref, "", 0))
    assert [p for p, row in rows.items() if row["value"] == "" and not p.endswith(" variables")] == []
    why = "safe mode: objects are not loaded" if safe else "generator objects cannot be restored"
    said = rows["gen > special variables > …"]["value"]
    assert re.fullmatch(r"<not captured: \d+ special variables \(%s.*\)>" % why, said), said


def test_a_users_class_named_like_the_stand_in_is_a_value(replay: Replay) -> None:
    client = replay("oddlocals")
    frame_id = first_frame(client)["id"]
    assert locals_of(client, frame_id)["mine"]["value"] == "Placeholder(mine)"
    assert client.ok("evaluate", {"expression": "mine.reason", "frameId": frame_id,
                                  "context": "watch"})["result"] == "\"the user's own\""


def test_repl_calls_print_nothing_for_none_and_refresh_the_variables(replay: Replay) -> None:
    client = replay("nested")
    frame_id = first_frame(client)["id"]
    for call in ("table.update(extra=2)", "print('said')"):
        assert client.ok("evaluate", {"expression": call, "frameId": frame_id,
                                      "context": "repl"})["result"] == "", call   # as Python's REPL
    assert "said\n" in client.output_text()
    assert "'extra': 2" in locals_of(client, frame_id)["table"]["value"]
    assert client.ok("evaluate", {"expression": "None", "frameId": frame_id,
                                  "context": "watch"})["result"] == "None"   # a watch still shows it


@pytest.mark.parametrize("safe", [True, False])
def test_a_property_that_raises_shows_its_error_as_a_leaf(replay: Replay, safe: bool) -> None:
    client = replay("accounts", safe=safe)
    account = locals_of(client, first_frame(client)["id"])["self"]   # in the property itself
    balance = children_of(client, account)["balance"]
    assert (balance["value"], balance["type"], balance["variablesReference"]) == (
        "<error: RuntimeError: ledger offline>", "RuntimeError", 0), balance


def test_modules_of_a_library_carry_its_version(tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    """VS Code's Modules view shows the version the dump recorded of each distribution in the
    stack (dill here); stdlib and the program's own modules have none."""
    import dill
    program = tmp_path / "through_dill.py"
    program.write_text("import dill, json\njson.loads('{\"a\": 1}', object_hook=dill.loads)\n")
    modules = {m["name"]: m for m in replay_of(tbdap, program).ok("modules", {})["modules"]}
    assert modules["dill._dill"]["version"] == dill.__version__ and not modules["dill._dill"]["isUserCode"]
    assert "version" not in modules["json"] and "version" not in modules["__main__"]


def test_completions_modules_and_loaded_sources(replay: Replay) -> None:
    client = replay("nested")
    frame_id = first_frame(client)["id"]
    labels = [t["label"] for t in client.ok("completions", {"text": "conf", "column": 5,
                                                            "frameId": frame_id})["targets"]]
    assert "config" in labels
    attrs = [t["label"] for t in client.ok("completions", {"text": "config.re", "column": 10,
                                                           "frameId": frame_id})["targets"]]
    assert attrs == ["retries"]
    for text, label in (("parts.ap", "append"), ("label.upp", "upper"), ("table.ke", "keys")):
        targets = client.ok("completions", {"text": text, "column": len(text) + 1, "frameId": frame_id})["targets"]
        assert [(t["label"], t["type"]) for t in targets] == [(label, "function")], (text, targets)
    assert any(m["name"] == "__main__" for m in client.ok("modules", {})["modules"])
    assert any(s["path"].endswith("nested.py") for s in client.ok("loadedSources", {})["sources"])


# -- malformed input -------------------------------------------------------------------

def test_garbage_and_invalid_json_are_reported_and_skipped(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.send_raw(b"hello there\r\n\r\n")
    client.send_raw(b"Content-Length: 5\r\n\r\n{bad}")
    client.send_raw(b"Content-Length: 2\r\n\r\n[]")
    client.send_raw(frame({"seq": 1, "type": "request"}))
    assert client.initialize()["supportsConfigurationDoneRequest"] is True
    text = client.output_text()
    assert "not a DAP message header" in text and "not valid JSON" in text
    assert "not an object" in text and "'command'" in text


def test_a_body_that_is_not_utf8_is_reported_and_skipped(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.send_raw(b"Content-Length: 4\r\n\r\n\xff\xfe{}")
    assert client.initialize()["supportsConfigurationDoneRequest"] is True
    assert "tbdap: a message body is not valid UTF-8 (invalid start byte)" in client.output_text()


@pytest.mark.parametrize("sent, said", [
    (b"Content-Length: ten\r\n\r\n{}", "Content-Length 'ten' is not a byte count"),
    (b"Content-Length: -3\r\n\r\n{}", "Content-Length '-3' is not a byte count"),
    (b"X-Note: " + b"x" * 5000 + b"\r\n", "a header line is longer than 4096 bytes"),
    (b"\r\n\r\nContent-Length: 5\r\n", "the stream ended inside a message header"),
])
def test_a_header_tbdap_cannot_follow_ends_the_connection_in_one_line(
        tbdap: Callable[..., DapClient], sent: bytes, said: str) -> None:
    """Past such a header no later message can be found: the adapter says why and exits, status 0,
    as when the client closes the stream (blank lines between messages are skipped, not said)."""
    client = tbdap()
    client.send_raw(sent)
    client.writer.close()
    assert client.proc is not None and client.proc.wait(10) == 0
    assert client.stderr == "tbdap: %s; closing the connection.\n" % said


def test_huge_content_length_closes_cleanly(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.send_raw(b"Content-Length: 999999999999\r\n\r\n{")
    assert client.proc is not None and client.proc.wait(10) == 0
    assert "limit" in client.stderr and "Traceback" not in client.stderr


def test_stdin_closing_mid_message_ends_quietly(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.send_raw(b"Content-Length: 100\r\n\r\n{\"seq\": 1")
    client.writer.close()
    assert client.proc is not None and client.proc.wait(10) == 0
    assert "Traceback" not in client.stderr


def test_dump_argument_without_port_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "tbdap", "x.pkl"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 2 and "--port" in done.stderr


@pytest.mark.parametrize("given", [["--host", "0.0.0.0"], ["--host", "127.0.0.1", "--safe"]])
def test_host_without_port_is_a_usage_error(given: List[str]) -> None:
    """Served over stdio, the address was ignored without a word: a client told to connect
    there waited (tblsp's --host without --tcp is refused the same way)."""
    done = subprocess.run([sys.executable, "-m", "tbdap", *given], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 2 and done.stderr.endswith(
        "python -m tbdap: error: --host needs --port\n"), done


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    done = subprocess.run([sys.executable, "-m", "tbdap", "--port", port, "x.pkl"], capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 2 and done.stderr.endswith(
        "python -m tbdap: error: argument --port: %r is not a TCP port (0-65535)\n" % port), done.stderr


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "tbdap", "--version"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 0 and done.stdout == "tbdap %s\n" % tbdump.__version__


def test_ctrl_c_ends_the_stdio_adapter_quietly(tbdap: Callable[..., DapClient]) -> None:
    client = tbdap()
    client.initialize()
    assert client.proc is not None
    client.proc.send_signal(signal.SIGINT)
    assert client.proc.wait(timeout=10) == 0
    client.closed.wait(10)
    assert "Traceback" not in client.stderr, client.stderr


# -- server mode ----------------------------------------------------------------------

def test_server_serves_one_client_after_another(server: int) -> None:
    for attempt in range(2):
        client = DapClient.connect(server)
        client.initialize()
        client.start("attach", {})
        assert first_frame(client)["name"] == "leaf"
        client.close()


def test_server_survives_clients_that_vanish_or_misbehave(server: int) -> None:
    half = socket.create_connection(("127.0.0.1", server))
    half.sendall(b"Content-Length: 50\r\n\r\n{\"seq\": 1, \"type\"")
    half.close()
    huge = DapClient.connect(server)
    huge.send_raw(b"Content-Length: 999999999999\r\n\r\n")
    assert huge.closed.wait(10), "the server kept a connection whose message it cannot read"
    huge.vanish()   # what it said before closing is checked against the schema
    client = DapClient.connect(server)
    client.initialize()
    client.send("launch", {})
    client.vanish()  # disconnect mid-request
    client = DapClient.connect(server)
    client.initialize()
    client.start("launch", {})
    assert first_frame(client)["name"] == "leaf"
    client.close()


def test_an_endless_evaluation_does_not_outlive_its_session(server: int) -> None:
    """`while True: pass` in the debug console: stopping the session interrupts it, and the
    server goes on serving the next client."""
    client = DapClient.connect(server)
    client.initialize()
    client.start("attach", {})
    frame_id = first_frame(client)["id"]
    endless = client.send("evaluate", {"expression": "while True: pass", "frameId": frame_id, "context": "repl"})
    time.sleep(0.5)   # it is running now
    bye = client.send("disconnect", {})
    answer = client.response(endless, timeout=10)
    assert not answer["success"] and "KeyboardInterrupt" in answer["message"], answer
    assert client.response(bye, timeout=10)["success"]
    client.close()
    client = DapClient.connect(server)
    client.initialize()
    client.start("attach", {})
    assert first_frame(client)["name"] == "leaf"
    client.close()


def test_server_refuses_a_bad_dump_at_startup(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"nope")
    done = subprocess.run([sys.executable, "-m", "tbdap", "--port", "0", str(bad)], capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 2 and done.stderr.startswith("tbdap: ") and "Traceback" not in done.stderr



def test_server_refuses_a_directory_at_startup(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tbdap", "--port", "0", str(tmp_path)], capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert (done.returncode, done.stderr) == (2, "tbdap: %s: is a directory, not a dump file\n" % tmp_path)


def test_the_first_client_of_a_server_sees_the_dump_written_over_since_it_started(
        dumps: Callable[[str], Path], tmp_path: Path, clients: List[DapClient]) -> None:
    """A new crash written over the served file before anyone connected (a CI artifact fetched
    again): the first client gets the new crash, as every later one does, not the copy the
    server read at its start."""
    served = tmp_path / "served.pkl"
    shutil.copyfile(dumps("nested"), served)
    with serving(served) as port:
        shutil.copyfile(dumps("raise_from"), served)
        client = DapClient.connect(port)
        clients.append(client)
        client.initialize()
        stopped = client.start("attach", {})
        assert stopped["body"]["text"] == tbdump.load(served).exception.type_name != "KeyError"
        client.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", ""])
def test_a_server_off_loopback_warns_and_ctrl_c_stops_it_quietly(host: str,
                                                                   dumps: Callable[[str], Path]) -> None:
    """docs/DAP.md: one line saying what is served where; a warning on stderr when the address
    is not loopback, since anyone reaching the port can read the dump; Ctrl+C ends serving.
    The empty host is every address, and said so (it read "listening on , not on loopback")."""
    dump = dumps("nested")
    proc = subprocess.Popen([sys.executable, "-m", "tbdap", "--host", host, "--port", "0", str(dump)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.fullmatch(r"tbdap: serving (.*) to DAP clients on (.*) \(Ctrl\+C to stop\)\n", line)
    assert match, line
    port = re.search(r"\d+", match.group(2).rpartition(":")[2])
    assert port, line
    where = f"{host}:{port.group()}" if host else f"port {port.group()} of every address"
    assert match.group(1, 2) == (str(dump), where), line
    client = DapClient.connect(int(port.group()))
    client.initialize()
    client.start("attach", {})
    client.close()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert (proc.returncode, out) == (0, "")
    warning = (f"tbdap: WARNING: listening on {host or 'every address'}, not on loopback: anyone who can "
               f"reach port {port.group()} can read this dump (and, unless it is opened in safe mode, run "
               "code through evaluate).\n")
    assert err.startswith(warning if host != "127.0.0.1" else "tbdap: client connected"), err
    assert "WARNING" not in err.replace(warning, "") and "Traceback" not in err, err


def test_a_server_without_a_dump_warns_that_any_dump_can_be_read(tmp_path: Path) -> None:
    """Each client's launch names the file then: the warning said "can read this dump"."""
    proc = subprocess.Popen([sys.executable, "-m", "tbdap", "--host", "0.0.0.0", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(REPO)})
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    warning = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert line.startswith("tbdap: serving the dump named in each launch request to DAP clients on "), line
    assert warning.endswith(" can read any crash dump this account can open (and, unless it is opened in "
                            "safe mode, run code through evaluate).\n"), warning


def test_the_served_dumps_name_cannot_act_on_the_terminal(tmp_path: Path, dumps: Callable[[str], Path]) -> None:
    """A name's control characters are shown as escapes, as in tbdap's error lines."""
    dump = tmp_path / "crash\x1b[2J\u202e.pkl"
    shutil.copyfile(dumps("nested"), dump)
    with subprocess.Popen([sys.executable, "-m", "tbdap", "--port", "0", str(dump)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, env={"PYTHONPATH": str(REPO)}) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        proc.terminate()
    assert line.startswith("tbdap: serving %s\\x1b[2J\\u202e.pkl to DAP clients on " % (tmp_path / "crash")), line


def test_an_empty_dump_argument_is_a_usage_error() -> None:
    """`tbdap --port 0 "$UNSET"` served as if no DUMP were given, as `python -m tbdump -o ''` no longer does."""
    done = subprocess.run([sys.executable, "-m", "tbdap", "--port", "0", ""], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == "python -m tbdap: error: argument DUMP: no dump file named", done.stderr


@pytest.mark.parametrize("ending", ["end of input", "disconnect"])
def test_the_stdio_adapter_closes_its_streams(ending: str) -> None:
    """Under -X dev, tbdap warned at exit of the duplicates of stdin and stdout it served on
    ("unclosed file <_io.BufferedReader name=3>"). After a disconnect, while the client still
    holds stdin open, the adapter ends by itself, as before."""
    requests = [{"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "t"}}]
    if ending == "disconnect":
        requests.append({"seq": 2, "type": "request", "command": "disconnect", "arguments": {}})
    proc = subprocess.Popen([sys.executable, "-X", "dev", "-W", "error", "-m", "tbdap"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"PYTHONPATH": str(REPO)})
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    with proc:
        try:
            proc.stdin.write(b"".join(frame(request) for request in requests))
            proc.stdin.flush()
            if ending == "end of input":
                proc.stdin.close()
            proc.wait(timeout=30)   # after a disconnect, with stdin still open
        finally:
            proc.kill()
        out, err = proc.stdout.read(), proc.stderr.read()
    said = DapClient(io.BytesIO(out), io.BytesIO(), name="tbdap's stdout")  # read and checked against the schema
    assert said.closed.wait(10) and not said.violations, said.violations
    assert proc.returncode == 0 and [m.get("command") for m in said.received if m["type"] == "response"] == [
        r["command"] for r in requests]
    assert err == b"", err.decode()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is 3.11+")
def test_exception_group_members_are_labelled_segments(replay: Replay) -> None:
    client = replay("group")
    frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
    labels = [f["name"] for f in frames if f.get("presentationHint") == "label"]
    assert labels == ["Member 1 of 2 of ExceptionGroup: ValueError: bad item 1",
                      "Member 2 of 2 of ExceptionGroup: ValueError: bad item 2"]
    # Each member's own traceback follows its label, innermost first.
    for label in labels:
        at = [f["name"] for f in frames].index(label)
        assert [f["name"] for f in frames[at + 1:at + 3]] == ["check", "validate"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is 3.11+")
def test_the_exception_widgets_inner_exceptions_are_the_groups_members(replay: Replay) -> None:
    details = replay("group").ok("exceptionInfo", {"threadId": 1})["details"]
    assert [(e["typeName"], e["message"]) for e in details["innerException"]] == [
        ("ValueError", "bad item 1"), ("ValueError", "bad item 2")]


def test_inner_exceptions_nest_as_the_chain_does_and_stop_deep_down(tbdap: Callable[..., DapClient],
                                                                     tmp_path: Path) -> None:
    """Each exception's cause is its innerException, and so on down a chain, which a client gets
    in one message: 10 deep at most, of a chain of 500 (the whole chain is in the traceback)."""
    program = tmp_path / "chain.py"
    program.write_text("def fail(n):\n"
                       "    try:\n"
                       "        raise KeyError(n) if n == 0 else fail(n - 1)\n"
                       "    except Exception as exc:\n"
                       "        raise ValueError('level %d' % n) from exc\n"
                       "fail(499)\n")
    client = replay_of(tbdap, program)
    details = client.ok("exceptionInfo", {"threadId": 1})["details"]
    assert details["message"] == "level 499" and "level 0" in details["stackTrace"]
    levels = []
    while "innerException" in details:
        [details] = details["innerException"]
        levels.append(details["message"])
    assert levels == ["level %d" % n for n in range(498, 488, -1)]


def test_a_dict_keyed_by_a_deeply_nested_tuple_lists_its_items(tbdap: Callable[..., DapClient],
                                                                tmp_path: Path) -> None:
    """A key too deep to write out as an expression has no evaluateName; the dict's items still show
    (working out whether the key could be written out failed, and with it the whole listing)."""
    program = tmp_path / "deep.py"
    program.write_text("key = ()\n"
                       "for _ in range(5000):\n"
                       "    key = (key,)\n"
                       "table = {key: 'deep', 'plain': 'flat'}\n"
                       "table['absent']\n")
    client = replay_of(tbdap, program)
    table = locals_of(client, first_frame(client)["id"])["table"]
    items = {r["value"]: r.get("evaluateName") for r in
             client.ok("variables", {"variablesReference": table["variablesReference"]})["variables"]
             if r["value"] in ("'deep'", "'flat'")}
    assert items == {"'deep'": None, "'flat'": "table['plain']"}


def test_frames_above_the_handler_follow_a_label(tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    program = tmp_path / "handled.py"
    shutil.copy(Path(__file__).parent / "programs" / "handled.py", program)
    subprocess.run([sys.executable, str(program)], cwd=str(tmp_path), capture_output=True, timeout=120,
                   env=dict(__import__("os").environ, PYTHONPATH=str(REPO)))
    client = tbdap()
    client.initialize()
    client.start("launch", {"dumpFile": str(tmp_path / "handled.pkl")})
    frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
    names = [f["name"] for f in frames]
    label = next(f for f in frames if f.get("presentationHint") == "label")
    assert label["name"].startswith("Callers of the frame that handled the exception")
    assert names[:2] == ["risky", "guarded"]
    assert names[names.index(label["name"]) + 1:] == ["main", "<module>"]


def test_a_setting_ignored_is_said_in_the_debug_console(tbdap: Callable[..., DapClient],
                                                        dumps: Callable[[str], Path]) -> None:
    """A TBDUMP_ setting tbdap cannot read is said once in the debug console, in the terminal tools'
    words; it went only to the adapter's stderr, which VS Code keeps in its Output panel."""
    client = tbdap(env={"TBDUMP_SAFE": "maybe", "TBDUMP_MAX_SECONDS": "soon"})
    client.initialize()
    client.start("launch", {"dumpFile": str(dumps("nested"))})
    client.ok("threads")  # the events of the launch came before its answer
    said = client.output_text()
    for name, raw in (("TBDUMP_SAFE", "maybe"), ("TBDUMP_MAX_SECONDS", "soon")):
        assert said.count("tbdump: ignoring %s=%r: expected " % (name, raw)) == 1, said


def test_a_stream_a_former_client_set_up_in_the_console_writes_nowhere_quietly(dumps: Callable[[str], Path]) -> None:
    """`logging.basicConfig()` typed in one client's debug console binds logging to that console
    for the server's life: the next client's logging wrote to the connection that had closed,
    and logging showed '--- Logging error ---' and a traceback through tbdap in its console."""
    with serving(dumps("nested")) as port:
        said = []
        for line in ("import logging; logging.basicConfig(); logging.warning('first')", "import logging; logging.warning('second')"):
            client = DapClient.connect(port)
            client.initialize()
            client.start("attach", {})
            frame_id = first_frame(client)["id"]
            client.ok("evaluate", {"expression": line, "frameId": frame_id, "context": "repl"})
            client.ok("threads")
            said.append(client.output_text())
            client.close()
        assert "WARNING:root:first\n" in said[0]
        assert "second" not in said[1] and "Traceback" not in said[1] and "error" not in said[1], said[1]


def test_each_client_of_a_server_is_told_of_a_setting_ignored(dumps: Callable[[str], Path]) -> None:
    """`tbdap --port N DUMP` serving one client after another: each one's debug console says it,
    as debugpy tells each client its own warnings (it was said once per process: to the first)."""
    with serving(dumps("nested"), env={"TBDUMP_SAFE": "maybe"}) as port:
        for attempt in range(2):
            client = DapClient.connect(port)
            client.initialize()
            client.start("attach", {})
            client.ok("threads")  # the events of the attach came before its answer
            said = client.output_text()
            client.close()
            assert said.count("tbdump: ignoring TBDUMP_SAFE='maybe': expected ") == 1, (attempt, said)
