"""What the viewers say when they cannot do their job: a dump that cannot be opened, a stdout that
cannot be written, a port that cannot be listened on, a dump cut short while it is read."""
from __future__ import annotations

import ctypes
import json
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

import tbdump

from ..conftest import rewrite_members
from ..dap.dapclient import DapClient
from .children import child_env, run
from .conftest import PROGRAMS


def _command(tool: str, dump: Path) -> List[str]:
    port = ["--port", "0"] if tool == "tbdap" else []   # tbdap opens a named dump before it serves
    return [sys.executable, "-m", tool, *port, str(dump)]


DUMPS = ["tbdebug", "tbpeep", "tbdump.report", "tbdap"]


def _directory(dump: Path) -> None:
    dump.unlink()
    dump.mkdir()


def _newer(dump: Path) -> None:
    data = dump.read_bytes()
    length, end = struct.unpack("<Q8s", data[-16:])
    manifest = json.loads(data[-16 - length:-16])
    manifest["format"] = 99
    body = json.dumps(manifest).encode()
    dump.write_bytes(data[:-16 - length] + body + struct.pack("<Q8s", len(body), end))


def _unreadable(dump: Path) -> None:
    if os.geteuid() == 0 and _AS_OWNER is None:
        pytest.skip("root reads a file of mode 000, and cannot give up the capabilities that let it here")
    dump.chmod(0)


def _drop_reading_any_file() -> None:
    """Takes the capabilities that let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)
    out of the bounding set: the program exec'd next reads as the file's owner does, and a file
    of mode 000 is refused it as it is anyone's."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:   # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_owner() -> Optional[Callable[[], None]]:
    """The ``preexec_fn`` that runs the tools as a file's owner who is not root: for root,
    ``_drop_reading_any_file`` where root may drop them (not in a container without
    CAP_SETPCAP); else none is needed."""
    if os.geteuid() != 0:
        return None
    try:
        subprocess.run(["true"], preexec_fn=_drop_reading_any_file, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return _drop_reading_any_file


_AS_OWNER = _as_owner()


def _symlink_loop(dump: Path) -> None:
    dump.unlink()
    dump.symlink_to(dump.name)


# What each tool says after "PROG: DUMP: ", and how the file is made so.
SITUATIONS: Dict[str, Callable[[Path], object]] = {
    "no such file": lambda dump: dump.unlink(),
    "is a directory, not a dump file": _directory,
    "not a tbdump file (the file is empty)": lambda dump: dump.write_bytes(b""),
    "not a tbdump file (it looks like a text file)": lambda dump: dump.write_text("hello\n"),
    # What another post-mortem tool (pydumpling) writes, given to tbdump's by mistake.
    "not a tbdump file (it looks like a plain pickle)": lambda dump: dump.write_bytes(pickle.dumps({"x": 5})),
    "the dump is truncated or damaged (no valid end marker)":
        lambda dump: dump.write_bytes(dump.read_bytes()[:dump.stat().st_size // 2]),
    "written by a newer tbdump (format 99; this tbdump reads up to 2) - upgrade tbdump": _newer,
    "permission denied": _unreadable,
    "too many levels of symbolic links": _symlink_loop,
    # A regular file whose first read the system fails: a failing disk's, here each process's own.
    "input/output error": lambda dump: (dump.unlink(), dump.symlink_to("/proc/self/mem")),
    # Opening a FIFO waits for a writer: refused before it is opened, by each tool.
    "not a regular file (a pipe or a device): save the dump to a file first":
        lambda dump: (dump.unlink(), os.mkfifo(dump)),
}


@pytest.mark.parametrize("words", list(SITUATIONS))
def test_a_dump_that_cannot_be_opened_reads_the_same_in_every_tool(crash: Callable[..., Path], words: str) -> None:
    """The same words after "PROG: DUMP: " from every command line, status 2 and nothing else;
    the same from tbdump.load, in VS Code (tbdap's answer to the launch) and in an LSP editor."""
    dump = crash("divide.py", "5", "0")
    SITUATIONS[words](dump)
    for tool in DUMPS:
        done = run(_command(tool, dump), dump.parent, env={"PYTHONBREAKPOINT": "0"}, preexec_fn=_AS_OWNER)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", f"{tool}: {dump}: {words}\n"), tool
    # tbdump.load in a program of its own: one that runs as root without reading any file, as the tools.
    loading = run([sys.executable, "-c", "import sys, tbdump\ntry: tbdump.load(sys.argv[1])\n"
                   "except tbdump.DumpError as exc: print(exc)", str(dump)], dump.parent, preexec_fn=_AS_OWNER)
    assert (loading.stdout, loading.stderr) == (f"{dump}: {words}\n", "")
    client = DapClient.tbdap(preexec_fn=_AS_OWNER)
    try:
        client.initialize()
        assert client.fail("launch", {"dumpFile": str(dump)}) == f"{dump}: {words}"
    finally:
        client.close()
    assert _tblsp_says(dump) == f"tblsp: {dump}: {words}"


def test_a_source_the_system_will_not_read_says_why_in_its_words(crash: Callable[..., Path]) -> None:
    """A program's file that is there but unreadable: tbdap shows the dump's copy and says why in
    the system's words as a clause, as every line about a file says them (it said "Permission
    denied", the OSError's strerror)."""
    dump = crash("divide.py", "5", "0")
    _unreadable(dump.parent / "divide.py")
    client = DapClient.tbdap(preexec_fn=_AS_OWNER)
    try:
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(dump)})
        frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
    finally:
        client.close()
    assert frames[0]["source"]["origin"] == "as captured in the dump (not readable here (permission denied))"


def _tblsp_says(dump: Path, env: Optional[Dict[str, str]] = None) -> str:
    """What tblsp shows the editor (window/showMessage) that asks it to show ``dump``."""
    def frame(message: Dict[str, object]) -> bytes:
        body = json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    server = subprocess.Popen([sys.executable, "-m", "tblsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=child_env(env), cwd=dump.parent, preexec_fn=_AS_OWNER)
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": None, "capabilities": {},
        "initializationOptions": {"dumpFiles": [str(dump)]}}}))
    server.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    server.stdin.flush()
    while True:
        length = int(server.stdout.readline().split(b":")[1])
        while server.stdout.readline().strip():
            pass
        message = json.loads(server.stdout.read(length))
        if message.get("method") == "window/showMessage":
            break
    server.communicate(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
                       + frame({"jsonrpc": "2.0", "method": "exit"}), timeout=60)
    return str(message["params"]["message"])


def _in_every_tool(dump: Path) -> Dict[str, List[str]]:
    """Each tool's command line, named as TOOLS names it."""
    return {"tbdebug": _command("tbdebug", dump), "tbpeep": _command("tbpeep", dump),
            "tbdump.report": _command("tbdump.report", dump), "tbdap": [sys.executable, "-m", "tbdap"],
            "tbdap --port": _command("tbdap", dump), "tblsp": [sys.executable, "-m", "tblsp"],
            "tblsp --tcp": [sys.executable, "-m", "tblsp", "--tcp", "--port", "0"]}


TOOLS = ["tbdebug", "tbpeep", "tbdump.report", "tbdap", "tbdap --port", "tblsp", "tblsp --tcp"]


@pytest.mark.parametrize("tool", TOOLS)
def test_a_closed_stdout_is_one_line_and_status_1(crash: Callable[..., Path], tool: str) -> None:
    """`tbdebug dump >&-`: Python's sys.stdout is None, and the first print was a traceback
    (tbdap --port 0 served on a port nobody could learn)."""
    dump = crash("divide.py", "5", "0")
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *_in_every_tool(dump)[tool]], cwd=dump.parent,
                          env=child_env(), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    prog = tool.split()[0]
    assert (done.returncode, done.stderr) == (1, f"{prog}: cannot write to stdout: it is closed\n")


@pytest.mark.parametrize("tool", ["tbdebug", "tbpeep", "tbdump.report", "tbdap --port", "tblsp --tcp"])
def test_a_reader_gone_from_stdout_ends_the_tool_quietly(crash: Callable[..., Path], tool: str) -> None:
    """`tbdebug dump | head -1`: as `cat` ends, status 1 and no word (a traceback before)."""
    dump = crash("divide.py", "5", "0")
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(_in_every_tool(dump)[tool], cwd=dump.parent, env=child_env(), stdout=write,
                              stderr=subprocess.PIPE, input="q\n", text=True, timeout=60)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize("tool", [["tbdap", "--port"], ["tblsp", "--tcp", "--port"]])
def test_a_port_in_use_is_said_in_words(tool: List[str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run([sys.executable, "-m", *tool, str(port)], tmp_path)
    assert (done.returncode, done.stderr) == (2, f"{tool[0]}: cannot listen on 127.0.0.1:{port}: address already in use\n")


@pytest.mark.parametrize("tool", [["tbdap", "--port"], ["tblsp", "--tcp", "--port"]])
def test_a_host_that_does_not_resolve_is_said_in_words(tool: List[str], tmp_path: Path) -> None:
    """The resolver's words (they vary: no name, no network), without what Python's create_server
    puts around them ("(while attempting to bind on address ('nosuch.invalid', 5678))")."""
    done = run([sys.executable, "-m", *tool, "5678", "--host", "nosuch.invalid"], tmp_path)
    prefix = f"{tool[0]}: cannot listen on nosuch.invalid:5678: "
    assert done.returncode == 2 and done.stderr.startswith(prefix), done.stderr
    words = done.stderr[len(prefix):]
    assert words.rstrip("\n").replace(" ", "").isalpha() and words[0].islower() and "\n" not in words[:-1], words


def test_a_dump_cut_short_while_a_member_is_read_is_said_damaged(crash: Callable[..., Path]) -> None:
    """Another process truncates the dump (a new one copied over it) while a viewer reads a
    module's globals: read through a memory mapping, the viewer died of SIGBUS, without a word."""
    dump = crash("divide.py", "5", "0")

    def swell(members: Dict[str, bytes]) -> None:   # 100 MiB of globals: inflated and parsed for a while
        for name in members:
            if name.startswith("globals."):
                members[name] = json.dumps({"g%d" % i: {"t": "str", "r": repr("x%d" % i * 30)}
                                            for i in range(400000)}).encode()
    big = rewrite_members(dump, dump.parent / "big.pkl", swell)
    program = """if True:
        import os, sys, threading, tbdump
        dump = tbdump.load(sys.argv[1], objects=False)
        namespace = dump.globals_of(dump.frames[-1])
        cut = threading.Thread(target=os.truncate, args=(sys.argv[1], 4096))
        cut.start()     # while the globals are read: when exactly does not matter
        names = list(namespace)
        cut.join()
        print(len(names), tbdump.lazymembers.unreadable(namespace))
    """
    for _ in range(3):
        copy = dump.parent / "cut.pkl"
        copy.write_bytes(big.read_bytes())
        done = run([sys.executable, "-c", program, str(copy)], dump.parent)
        assert done.returncode == 0 and done.stderr == "", done
        # Read before the cut, or said damaged as any change under an open dump is.
        assert done.stdout in ("400000 None\n", "1 not readable: %s: the file was replaced while it was open\n" % copy)


@pytest.mark.parametrize("change, launched", [
    ("cut short", "the dump is truncated or damaged (no valid end marker)"),
    ("a new crash", "ValueError")])
def test_a_dump_served_from_the_start_and_changed_before_the_launch_is_read_as_it_is(
        crash: Callable[..., Path], change: str, launched: str) -> None:
    """`tbdap --port N DUMP` opens DUMP at its start; cut short (or rewritten by a new crash)
    before a client came, the launch showed the start's copy, whose globals then said "the file
    was replaced while it was open" (of a file the user changed before opening it in VS Code).
    The launch reads the file as it is: its damage said, or the new crash shown."""
    dump = crash("divide.py", "5", "0")
    server = subprocess.Popen([sys.executable, "-m", "tbdap", "--port", "0", str(dump)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=child_env(), cwd=dump.parent)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(":")[-1].split()[0])
        if change == "cut short":
            os.truncate(dump, dump.stat().st_size // 2)
        else:
            crash("divide.py", "5", "zero")
        client = DapClient.connect(port)
        try:
            client.initialize()
            if change == "cut short":
                assert client.fail("launch", {"dumpFile": str(dump)}) == f"{dump}: {launched}"
            else:
                stopped = client.start("launch", {"dumpFile": str(dump)})
                assert stopped["body"]["text"] == launched, stopped
        finally:
            client.close()
    finally:
        server.terminate()
        server.wait(10)


def _tampered(signed: Path) -> None:
    data = signed.read_bytes()
    length, end = struct.unpack("<Q8s", data[-16:])
    manifest = json.loads(data[-16 - length:-16])
    manifest["tampered"] = True   # covered by the signature; the members and their checksums are intact
    body = json.dumps(manifest).encode()
    signed.write_bytes(data[:-16 - length] + body + struct.pack("<Q8s", len(body), end))


def _terminal_viewers_say(dump: Path, env: Optional[Dict[str, str]] = None) -> Dict[str, List[str]]:
    """The lines tbdebug (on stdout) and tbpeep (on stderr) say of ``dump`` before their prompt."""
    said = {}
    for tool, out in (("tbdebug", "stdout"), ("tbpeep", "stderr")):
        done = run([sys.executable, "-m", tool, str(dump)], dump.parent, env=env, stdin="q\n")
        said[tool] = [line[len(tool) + 2:] for line in getattr(done, out).splitlines()
                      if line.startswith(tool + ": ")]
    return said


def _tbdap_console(dump: Path, env: Optional[Dict[str, str]] = None) -> str:
    """What VS Code's debug console shows once ``dump`` is launched and its stack shown."""
    client = DapClient.tbdap(env=env)
    try:
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(dump)})
        client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})
        return client.output_text()
    finally:
        client.close()


def _untrusted(folder: Path, situation: str) -> Path:
    """A crash's dump: signed with k1, and then "tampered" with, or "not signed"."""
    shutil.copy(PROGRAMS / "divide.py", folder)
    signing = {} if situation == "not signed" else {"TBDUMP_KEY": "k1"}
    run([sys.executable, "-m", "tbdump", "divide.py", "5", "0"], folder, env=signing)
    dump = folder / "traceback.pkl"
    if situation == "tampered":
        _tampered(dump)
    return dump


@pytest.mark.parametrize("situation, key, why", [
    ("tampered", "k1", "the dump's signature does not verify with TBDUMP_KEY"),
    ("another key", "k2", "the dump's signature does not verify with TBDUMP_KEY"),
    ("not signed", "k1", "the dump is not signed and TBDUMP_KEY is set")])
def test_a_dump_the_key_does_not_trust_reads_the_same_in_every_tool(tmp_path: Path, situation: str, key: str,
                                                                     why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opened in safe mode, with the same line in tbdebug, tbpeep, VS Code and tbdump.load; the
    report and tblsp, which load no objects whatever the key, say why the key does not vouch for
    it in the same words (they said nothing)."""
    dump = _untrusted(tmp_path, situation)
    reason = f"safe mode: {why}, so objects are not loaded"
    for tool, said in _terminal_viewers_say(dump, {"TBDUMP_KEY": key}).items():
        assert f"{reason}; values are placeholders showing their previews" in said, (tool, said)
    console = _tbdap_console(dump, {"TBDUMP_KEY": key})
    assert f"  {reason}\n" in console, console
    monkeypatch.setenv("TBDUMP_KEY", key)
    assert tbdump.load(dump).safe_reason == reason
    report = run([sys.executable, "-m", "tbdump.report", str(dump)], tmp_path, env={"TBDUMP_KEY": key})
    assert report.returncode == 0 and report.stdout.splitlines()[1] == f"  trust     {why}", report
    assert _tblsp_says(dump, {"TBDUMP_KEY": key}) == f"tblsp: {dump}: {why}"


@pytest.mark.parametrize("situation, why", [
    ("tampered", "the dump's signature does not verify with TBDUMP_KEY"),
    ("not signed", "the dump is not signed and TBDUMP_KEY is set")])
@pytest.mark.parametrize("asked", ["--safe", "TBDUMP_SAFE=1"])
def test_safe_mode_asked_for_still_says_why_the_key_does_not_vouch(tmp_path: Path, situation: str, why: str,
                                                                   asked: str) -> None:
    """Opened in safe mode on purpose, tbdebug, tbpeep and VS Code gave safe mode as the only
    reason, and said nothing of the signature: a user trusted the previews of a tampered dump.
    Each says it too, in the words of the report and tblsp."""
    dump = _untrusted(tmp_path, situation)
    env = {"TBDUMP_KEY": "k1", **({"TBDUMP_SAFE": "1"} if asked == "TBDUMP_SAFE=1" else {})}
    flags = ["--safe"] if asked == "--safe" else []
    for tool, out in (("tbdebug", "stdout"), ("tbpeep", "stderr")):
        done = run([sys.executable, "-m", tool, *flags, str(dump)], tmp_path, env=env, stdin="q\n")
        said = getattr(done, out).splitlines()
        assert f"{tool}: {why}" in said, done
        assert any(line.startswith(f"{tool}: safe mode: objects are not loaded") for line in said), done
    client = DapClient.tbdap(env=env)
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(dump), "safe": asked == "--safe"})
        assert "  safe mode: objects are not loaded" in client.output_text(), client.output_text()
        assert f"  {why}\n" in client.output_text(), client.output_text()
    finally:
        client.close()


@pytest.mark.parametrize("signing, key", [("k1", "k1"), (None, None)])
def test_a_dump_the_key_vouches_for_raises_no_doubt(tmp_path: Path, signing: Optional[str],
                                                    key: Optional[str]) -> None:
    """Signed with the key it is opened with, or opened with no key at all: the report says
    nothing of trust (guards what the trust line must not say)."""
    shutil.copy(PROGRAMS / "divide.py", tmp_path)
    run([sys.executable, "-m", "tbdump", "divide.py", "5", "0"], tmp_path,
        env={"TBDUMP_KEY": signing} if signing else None)
    dump = tmp_path / "traceback.pkl"
    opening = {"TBDUMP_KEY": key} if key else None
    report = run([sys.executable, "-m", "tbdump.report", str(dump)], tmp_path, env=opening)
    assert report.returncode == 0 and "trust" not in report.stdout, report
    assert tbdump.load(dump, key=key.encode() if key else None).signature_problem is None


# A dump cut short two ways: by a budget (the globals over TBDUMP_MAX_GLOBALS), and by a capture
# that failed (the disk took the exception and its lines, not the values), which no budget cut.
CUT_SHORT = {
    "budget": ("import os\nbig = [os.urandom(8) for _ in range(3)]\nrow1 = row2 = row3 = 0\n1 / 0\n",
               {"TBDUMP_MAX_GLOBALS": "2"}, "globals of __main__: 2 of "),
    "capture failed": ("import os, resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
                       "upload = os.urandom(50000)\n1 / 0\n", {}, "capture failed, "),
}


@pytest.mark.parametrize("how", list(CUT_SHORT))
def test_a_dump_cut_short_reads_the_same_in_every_viewer(tmp_path: Path, how: str) -> None:
    """Each cut as one line, in the same words, from tbdebug, tbpeep, the report and VS Code, right
    for every kind of cut: tbdebug called a failed capture a budget's cut, tbdap and the report
    worded it each their own way, tbpeep said nothing."""
    program, env, begins = CUT_SHORT[how]
    (tmp_path / "prog.py").write_text(program)
    run([sys.executable, "-m", "tbdump", "prog.py"], tmp_path, env=env)
    dump = tmp_path / "traceback.pkl"
    [cut] = tbdump.load(dump).metadata.cut
    assert cut.startswith(begins), cut
    line = f"partial dump: {cut}"
    for tool, said in _terminal_viewers_say(dump).items():
        assert line in said, (tool, said)
    report = run([sys.executable, "-m", "tbdump.report", str(dump)], tmp_path)
    assert f"  {line}" in report.stdout.splitlines(), report.stdout
    console = _tbdap_console(dump)
    assert f"  {line}\n" in console, console


@pytest.mark.parametrize("problem", ["differs from the file that ran", "missing here"])
def test_a_source_shown_from_the_dump_is_said_the_same_in_every_viewer(crash: Callable[..., Path],
                                                                       problem: str) -> None:
    """The program's file changed or gone since the crash: tbdebug, tbpeep and VS Code name it in
    the same line. tbdebug and tbpeep said "differs from the copy in the dump" and nothing of a
    file gone, tbdap its own words."""
    dump = crash("divide.py", "5", "0")
    program = dump.parent / "divide.py"
    if problem == "missing here":
        program.unlink()
    else:
        program.write_text("# rewritten since the crash\n")
    line = f"{program}: the local file is not used ({problem}); showing the dump's copy"
    for tool, said in _terminal_viewers_say(dump).items():
        assert line in said, (tool, said)
    console = _tbdap_console(dump)
    assert f"  {line}\n" in console, console
