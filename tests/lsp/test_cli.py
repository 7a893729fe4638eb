"""The `python -m tblsp` command line: version, bad arguments, TCP transport, Ctrl-C, no pygls."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path
from typing import Any, Dict, List

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

import tbdump

from .lsp_support import DIVIDE, ENV, SERVER, WAIT, crash, diagnostics, open_file


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(SERVER + list(args), env=ENV, capture_output=True, text=True,
                          timeout=60)


def frame(body: bytes) -> bytes:
    """``body`` as one LSP message: its Content-Length header, a blank line, the body."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def replies(stdout: bytes) -> List[dict]:
    """The JSON bodies of the LSP messages tblsp wrote to ``stdout``, in order."""
    return [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in stdout.split(b"Content-Length")[1:]]


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout == f"tblsp {tbdump.__version__}\n"


def test_bad_argument_is_one_usage_error() -> None:
    proc = run("--bogus")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == "python -m tblsp: error: unrecognized arguments: --bogus"


@pytest.mark.parametrize("port", ["99999", "-5", "http"])
def test_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    proc = run("--tcp", "--port", port)
    assert proc.returncode == 2 and proc.stderr.endswith(
        "python -m tblsp: error: argument --port: %r is not a TCP port (0-65535)\n" % port), proc.stderr


@pytest.mark.parametrize("given", [["--port", "3000"], ["--host", "0.0.0.0"], ["--stdio", "--port", "3000"]])
def test_host_or_port_without_tcp_is_a_usage_error(given: List[str]) -> None:
    """Served over stdio, the port was ignored without a word: an editor told to connect to it waited."""
    proc = run(*given)
    assert proc.returncode == 2 and proc.stderr.endswith(
        "python -m tblsp: error: --host and --port need --tcp\n"), proc


def test_without_pygls_one_line_says_how_to_install_it() -> None:
    """The `tblsp` script is installed whether or not the `lsp` extra is: without pygls it says
    so, naming pygls itself (`pip install 'tbdump[lsp]'` would bring PyPI's other tbdump)."""
    # -S: no site-packages, so neither pygls nor its metadata; tbdump comes from PYTHONPATH.
    proc = subprocess.run([sys.executable, "-S", "-m", "tblsp"], env=ENV, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "tblsp: pygls is not installed; install it with: pip install 'pygls>=2,<3'\n"
    assert proc.stdout == ""


@pytest.mark.parametrize("stdin", ["pipe", "terminal"])
def test_ctrl_c_ends_the_server_quietly(stdin: str) -> None:
    """At a terminal, pygls's reader thread sat in a read Ctrl-C did not end: the first one was
    ignored and a second aborted Python ("Fatal Python error: _enter_buffered_busy")."""
    if stdin == "terminal":
        writer, reader = pty.openpty()
        tty.setraw(reader)      # bytes through as they are: LSP frames are not lines of text
        proc = subprocess.Popen(SERVER, stdin=reader, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=ENV, start_new_session=True)
        os.close(reader)
    else:
        reader, writer = os.pipe()
        proc = subprocess.Popen(SERVER, stdin=reader, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=ENV)
        os.close(reader)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"capabilities": {}}}).encode()
        os.write(writer, frame(body))
        read_until(proc, b'"serverInfo"')    # serving: its reader is waiting for the next message
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(writer)        # kept open until now: stdin never ends by itself


def read_until(proc: subprocess.Popen, needle: bytes) -> bytes:
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + WAIT
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} from tblsp; it said {seen!r}"
        if select.select([proc.stdout], [], [], left)[0]:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, f"tblsp closed stdout; it said {seen!r}"
            seen += chunk
    return seen


@pytest.mark.asyncio
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", ""])
async def test_tcp_says_its_port_and_warns_off_loopback(host: str, workspace: Path) -> None:
    """As tbdap: one line on stdout says where tblsp serves, with the port --port 0 picked
    (only --log-level INFO told it), and stderr warns, in tbdap's words, of an address that
    is not loopback (tblsp said nothing); the empty host is every address, and said so."""
    crash(workspace, DIVIDE, args=["5", "0"])
    server = subprocess.Popen(SERVER + ["--tcp", "--host", host, "--port", "0"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client = make_test_lsp_client()
    try:
        said = read_until(server, b")\n").decode()
        match = re.fullmatch(r"tblsp: serving crash dumps to LSP clients on (.*) \(Ctrl\+C to stop\)\n", said)
        assert match, said
        port = match.group(1).rpartition(":")[2].split()[-1] if host else match.group(1).split()[1]
        assert match.group(1) == (f"{host}:{port}" if host else f"port {port} of every address"), said
        await client.start_tcp("127.0.0.1", int(port))
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=workspace.as_uri()))
        diags = await diagnostics(client, open_file(client, workspace / "prog.py"))
        assert any(d.message == "ZeroDivisionError: division by zero" for d in diags)
        await client.shutdown_session()
    finally:
        await client.stop()
        if server.poll() is None:
            server.kill()
        _, err = server.communicate(timeout=WAIT)
    warning = (f"tblsp: WARNING: listening on {host or 'every address'}, not on loopback: anyone who can "
               f"reach port {port} can read any crash dump this account can open.\n")
    said = err.decode()
    assert said.startswith(warning) if host != "127.0.0.1" else "tblsp: WARNING" not in said, said
    assert "tblsp: WARNING" not in said.replace(warning, "") and "Traceback" not in said, said


def test_malformed_message_is_one_line_and_serving_goes_on() -> None:
    initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"capabilities": {}}}).encode()
    exit_ = json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()
    proc = subprocess.run(SERVER, input=frame(b"{bad}") + frame(initialize) + frame(exit_),
                          env=ENV, capture_output=True, timeout=60)
    assert proc.returncode == 1, proc.stderr   # LSP: exit without shutdown
    bodies = replies(proc.stdout)
    [said] = [b["params"]["message"] for b in bodies if b.get("method") == "window/showMessage"]
    assert said.startswith("tblsp: could not handle a message from the editor: ")
    assert "\n" not in said
    assert any(b.get("id") == 1 and b["result"]["serverInfo"]["name"] == "tblsp" for b in bodies)
    shutdown = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}).encode()
    proc = subprocess.run(SERVER, input=frame(initialize) + frame(shutdown) + frame(exit_),
                          env=ENV, capture_output=True, timeout=60)
    # pygls's own INFO logs ("Shutting down the server") only with --log-level INFO.
    assert (proc.returncode, proc.stderr) == (0, b"")


def test_messages_before_initialize_get_lsps_answer() -> None:
    """A request before initialize is refused with ServerNotInitialized, in one line;
    a notification is dropped; after initialize the same request is served."""
    hover = {"method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///nowhere/prog.py"}, "position": {"line": 0, "character": 0}}}
    opened = {"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///nowhere/prog.py", "languageId": "python", "version": 1, "text": "x = 1\n"}}}
    messages: List[Dict[str, Any]] = [
        dict(hover, id=1), opened, {"id": 2, "method": "initialize", "params": {"capabilities": {}}},
        {"method": "initialized", "params": {}}, dict(hover, id=3), {"id": 4, "method": "shutdown"},
        {"method": "exit"}]
    stdin = b"".join(frame(json.dumps(dict(m, jsonrpc="2.0")).encode()) for m in messages)
    proc = subprocess.run(SERVER, input=stdin, env=ENV, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    bodies = {b.get("id"): b for b in replies(proc.stdout)}
    assert set(bodies) == {1, 2, 3, 4}, bodies    # the dropped didOpen said nothing
    refused = bodies[1]["error"]
    assert refused["code"] == -32002 and "initialize" in refused["message"] and "data" not in refused
    assert "result" in bodies[3] and "error" not in bodies[3]
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()


def lsp_input(*messages: Dict[str, Any]) -> bytes:
    return b"".join(frame(json.dumps(dict(m, jsonrpc="2.0")).encode()) for m in messages)


def test_requests_after_shutdown_are_refused() -> None:
    """LSP: after shutdown a request is an InvalidRequest error, not left unanswered."""
    hover = {"method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///nowhere/prog.py"}, "position": {"line": 0, "character": 0}}}
    stdin = lsp_input({"id": 1, "method": "initialize", "params": {"capabilities": {}}},
                      {"method": "initialized", "params": {}}, {"id": 2, "method": "shutdown"},
                      dict(hover, id=3), {"id": 4, "method": "shutdown"}, {"method": "exit"})
    proc = subprocess.run(SERVER, input=stdin, env=ENV, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    bodies = {b.get("id"): b for b in replies(proc.stdout)}
    assert set(bodies) == {1, 2, 3, 4}, bodies
    assert bodies[2]["result"] is None
    for late in (3, 4):
        assert bodies[late]["error"]["code"] == -32600, bodies[late]


# The client never answers the file watcher's registration: tblsp's `initialized` still waits.
WATCHING = {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}


@pytest.mark.parametrize("ending", [[{"method": "exit"}],   # exit without shutdown: status 1
                                    []])                      # the editor just closes stdin
def test_quitting_while_a_request_to_the_editor_waits_is_quiet(ending: List[Dict[str, Any]]) -> None:
    stdin = lsp_input({"id": 1, "method": "initialize", "params": {"capabilities": WATCHING}},
                      {"method": "initialized", "params": {}}, *ending)
    proc = subprocess.run(SERVER, input=stdin, env=ENV, capture_output=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert any(b.get("method") == "client/registerCapability" for b in replies(proc.stdout))
    assert b"Traceback" not in proc.stderr and b"Error" not in proc.stderr, proc.stderr.decode()
