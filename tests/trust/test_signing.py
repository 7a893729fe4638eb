"""Opening a dump runs nothing from it unless trusted: marker-file proofs through every entry point.

The dump holds an object whose pickle calls ``os.mkdir(MARKER)`` when
unpickled.  A positive control proves the marker does appear when objects do
load; every safe path (safe mode, a wrong or missing signature, corruption)
must leave no marker, through ``tbdump.load`` and each command-line tool.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from ..dap.dapclient import DapClient
from ..hostile.harness import REPO, base_env, load_fresh, members, run, run_tbdump, write_program

EVIL = '''
    import os
    class Evil:
        def __reduce__(self):
            return (os.mkdir, (os.environ["MARKER"],))
    def crash():
        evil = Evil()
        nested = {"inside": [Evil()]}
        raise RuntimeError("evil inside")
    crash()
'''


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """An unsigned and a signed (key k1) dump of the evil program."""
    d = tmp_path_factory.mktemp("evil")
    prog = write_program(d, EVIL)
    marker = d / "MARKER"
    env = base_env(MARKER=str(marker))
    run_tbdump(prog, [], env, dump="unsigned.pkl")
    run_tbdump(prog, [], dict(env, TBDUMP_KEY="k1"), dump="signed.pkl")
    assert not marker.exists(), "capture itself must not unpickle"
    return {"dir": d, "unsigned": d / "unsigned.pkl", "signed": d / "signed.pkl", "marker": marker,
            "source": prog}


@pytest.fixture(autouse=True)
def no_marker_yet(evil: Dict[str, Path]) -> None:
    """Each test starts without a marker, whatever an earlier failing one left."""
    if evil["marker"].exists():
        evil["marker"].rmdir()


def _env(evil: Dict[str, Path], **extra: str) -> Dict[str, str]:
    return base_env(MARKER=str(evil["marker"]), **extra)


def _copy(evil: Dict[str, Path], which: str, tmp_path: Path) -> Path:
    target = tmp_path / ("%s.pkl" % which)
    shutil.copy(evil[which], target)
    return target


def _flip_in_member(path: Path, member: str) -> None:
    """Damage one byte in the middle of a member, leaving the manifest alone."""
    sys.path.insert(0, str(REPO))
    from tbdump.container import ContainerReader
    sys.path.remove(str(REPO))
    reader = ContainerReader(str(path))
    m = reader.manifest["members"][member]
    reader.close()
    data = bytearray(path.read_bytes())
    data[m["offset"] + m["size"] // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _tamper_and_rehash(path: Path) -> None:
    """What an attacker without the key does: change the objects and fix every hash."""
    sys.path.insert(0, str(REPO))
    from tbdump.container import ContainerReader, _TRAILER
    sys.path.remove(str(REPO))
    reader = ContainerReader(str(path))
    manifest = reader.manifest
    reader.close()
    data = bytearray(path.read_bytes())
    m = manifest["members"]["objects"]
    data[m["offset"] + m["size"] - 1] ^= 0x00  # same bytes: the point is the re-written manifest
    m["sha256"] = hashlib.sha256(bytes(data[m["offset"]:m["offset"] + m["size"]])).hexdigest()
    manifest["tbdump"] = "attacker"
    body = json.dumps(manifest, sort_keys=True).encode()
    end = len(data) - _TRAILER.size
    length = _TRAILER.unpack(bytes(data[end:]))[0]
    head = bytes(data[:end - length])
    path.write_bytes(head + body + _TRAILER.pack(len(body), b"\nTBDEND\x1a"))


def test_positive_control_objects_do_load_when_trusted(evil: Dict[str, Path], tmp_path: Path) -> None:
    for which, extra in (("unsigned", {}), ("signed", {"TBDUMP_KEY": "k1"})):
        dump = _copy(evil, which, tmp_path)
        loaded, report = load_fresh(dump, tmp_path, _env(evil, **extra))
        assert report is not None and report["objects_allowed"], loaded
        assert evil["marker"].exists(), "the test's evil object must work, or it proves nothing"
        evil["marker"].rmdir()


@pytest.mark.parametrize("scenario", ["safe_mode", "TBDUMP_SAFE", "wrong_key", "unsigned_with_key",
                                      "corrupt_objects", "corrupt_signed_objects", "tampered_rehashed"])
def test_load_never_unpickles_untrusted(scenario: str, evil: Dict[str, Path], tmp_path: Path) -> None:
    which = "signed" if scenario in ("wrong_key", "corrupt_signed_objects", "tampered_rehashed") else "unsigned"
    dump = _copy(evil, which, tmp_path)
    extra: Dict[str, str] = {}
    objects = "default"
    if scenario == "safe_mode":
        objects = "safe"
    elif scenario == "TBDUMP_SAFE":
        extra["TBDUMP_SAFE"] = "1"
    elif scenario in ("wrong_key", "unsigned_with_key"):
        extra["TBDUMP_KEY"] = "k2" if scenario == "wrong_key" else "k1"
    elif scenario.startswith("corrupt"):
        _flip_in_member(dump, "objects")
        if scenario == "corrupt_signed_objects":
            extra["TBDUMP_KEY"] = "k1"
    elif scenario == "tampered_rehashed":
        _tamper_and_rehash(dump)
        extra["TBDUMP_KEY"] = "k1"
    loaded, report = load_fresh(dump, tmp_path, _env(evil, **extra), objects=objects)
    assert report is not None, loaded
    assert not evil["marker"].exists()
    frame = report["frames"][-1]
    assert frame["resolved"]["evil"] == ["Placeholder", True]
    assert report["safe_reason"], report
    if scenario in ("wrong_key", "tampered_rehashed"):
        assert "signature" in report["safe_reason"]
    if scenario.startswith("corrupt"):
        assert "corrupt" in report["safe_reason"]


def _manifest(path: Path) -> Dict[str, Any]:
    """The manifest of a dump, read as docs/FORMAT.md lays the file out."""
    data = path.read_bytes()
    length = int.from_bytes(data[-16:-8], "little")
    return json.loads(data[-16 - length:-16])


def _signed_as_documented(path: Path, key: bytes) -> None:
    """Sign a dump's manifest as docs/FORMAT.md says a writer does, whatever its members carry."""
    data = path.read_bytes()
    length = int.from_bytes(data[-16:-8], "little")
    manifest = _manifest(path)
    manifest.pop("hmac", None)
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest["hmac"] = hmac.new(key, text, hashlib.sha256).hexdigest()
    body = json.dumps(manifest).encode()
    path.write_bytes(data[:-16 - length] + body + len(body).to_bytes(8, "little") + data[-8:])


def test_a_signature_over_crc32_checksums_loads_no_objects(evil: Dict[str, Path], tmp_path: Path) -> None:
    """FORMAT.md: "a signature needs SHA-256, and a reader treats a signed manifest whose members
    carry anything else as unsigned": a CRC-32 is forged at will, so a member could be swapped
    under a signature that still verifies."""
    signed = _copy(evil, "signed", tmp_path)
    stored = _manifest(signed)["hmac"]
    _signed_as_documented(signed, b"k1")
    assert _manifest(signed)["hmac"] == stored     # the control: signed here as tbdump signs
    weak = _copy(evil, "unsigned", tmp_path)
    assert all("crc32" in member for member in _manifest(weak)["members"].values())
    _signed_as_documented(weak, b"k1")
    loaded, report = load_fresh(weak, tmp_path, _env(evil, TBDUMP_KEY="k1"))
    assert report is not None, loaded
    assert not evil["marker"].exists()
    assert report["frames"][-1]["resolved"]["evil"] == ["Placeholder", True]
    assert report["safe_reason"] == "safe mode: the dump's signature does not verify with TBDUMP_KEY, " \
                                    "so objects are not loaded", report


@pytest.mark.parametrize("which, why", [
    ("signed", "the dump's signature does not verify with the key given"),
    ("unsigned", "the dump is not signed and a key is given")])
def test_a_key_given_to_load_is_named_as_given_not_as_tbdump_key(which: str, why: str, evil: Dict[str, Path],
                                                                 tmp_path: Path) -> None:
    """A script's tbdump.load(key=...) with no TBDUMP_KEY in its environment: the reason must not
    send its user looking for a variable that is not set."""
    script = "import tbdump, sys; print(tbdump.load(sys.argv[1], key=b'k2').safe_reason)"
    result = run([sys.executable, "-c", script, str(_copy(evil, which, tmp_path))], tmp_path,
                 dict(_env(evil), PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result
    assert result.stdout.decode() == "safe mode: %s, so objects are not loaded\n" % why, result
    assert not evil["marker"].exists()


def test_corrupt_safe_layer_is_a_clear_dump_error(evil: Dict[str, Path], tmp_path: Path) -> None:
    dump = _copy(evil, "unsigned", tmp_path)
    _flip_in_member(dump, "safe")
    loaded, report = load_fresh(dump, tmp_path, _env(evil))
    assert report is None
    last = loaded.stderr.decode().strip().splitlines()[-1]
    assert "DumpError" in last and "corrupted" in last, last
    result = run([sys.executable, "-m", "tbdump.report", str(dump)], tmp_path,
                 dict(_env(evil), PYTHONPATH=str(REPO)))
    assert result.returncode == 2 and b"Traceback" not in result.stderr, result
    assert not evil["marker"].exists()


# -- the command-line tools -----------------------------------------------------------------


def _tool_env(evil: Dict[str, Path], **extra: str) -> Dict[str, str]:
    return dict(_env(evil, **extra), PYTHONPATH=str(REPO))


def _has(module: str) -> bool:
    return (REPO / module / "__main__.py").is_file()


def _untrusted_dumps(evil: Dict[str, Path], tmp_path: Path) -> List[tuple]:
    """(dump, extra env, flags for a tool that has --safe) for each way a dump is untrusted."""
    corrupt = _copy(evil, "unsigned", tmp_path)
    corrupt = corrupt.rename(tmp_path / "corrupt.pkl")
    _flip_in_member(corrupt, "objects")
    return [(_copy(evil, "unsigned", tmp_path), {}, ["--safe"]),
            (_copy(evil, "signed", tmp_path), {"TBDUMP_KEY": "k2"}, []),
            (corrupt, {}, [])]


def test_report_never_unpickles(evil: Dict[str, Path], tmp_path: Path) -> None:
    dump = _copy(evil, "unsigned", tmp_path)
    result = run([sys.executable, "-m", "tbdump.report", "--globals", str(dump)], tmp_path, _tool_env(evil))
    assert result.returncode == 0, result
    assert b"evil = " in result.stdout
    assert not evil["marker"].exists()


def test_tbdebug_never_unpickles_untrusted(evil: Dict[str, Path], tmp_path: Path) -> None:
    assert _has("tbdebug"), "python -m tbdebug is missing"
    def session(dump: Path, extra: Dict[str, str], flags: List[str]) -> "subprocess.CompletedProcess[bytes]":
        proc = subprocess.run([sys.executable, "-m", "tbdebug", *flags, str(dump)], cwd=str(tmp_path),
                              env=_tool_env(evil, **extra), input=b"p evil\np nested\npp locals()\nup\nwhere\nq\n",
                              capture_output=True, timeout=60)
        assert proc.returncode == 0 and b"Traceback (most recent call last)" not in proc.stderr, proc
        return proc

    for dump, extra, flags in _untrusted_dumps(evil, tmp_path):
        proc = session(dump, extra, flags)
        assert not evil["marker"].exists(), (dump.name, extra, flags, proc.stdout[-2000:], proc.stderr[-2000:])
        # pdb was asked for the value, and showed its preview: the session reached it.
        assert re.search(rb"\(Pdb\) <Evil: safe mode[^<>]*<__main__\.Evil object at ", proc.stdout), proc.stdout
    # The control: the same commands on a dump it trusts reach the object (a session that ended
    # before `p evil`, or never asked for a value, would have passed the loop above too).
    session(_copy(evil, "unsigned", tmp_path), {}, [])
    assert evil["marker"].exists(), "control: the tbdebug session above never reached an object"
    evil["marker"].rmdir()


class _JsonRpcPipe:
    """LSP's Content-Length framed JSON-RPC over a child's stdin/stdout."""

    def __init__(self, argv: List[str], cwd: Path, env: Dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, cwd=str(cwd), env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.seq = 0

    def send(self, message: Dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self) -> Optional[Dict[str, Any]]:
        assert self.proc.stdout is not None
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length or 0))

    def close(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _dap_session(options: List[str], cwd: Path, env: Dict[str, str], launch: Dict[str, Any]) -> None:
    """Launch (it must stop at the exception), then ask for every frame's every variable and
    evaluate `evil` in each, over the schema-checking DAP client."""
    client = DapClient.tbdap(*options, env=env, cwd=str(cwd))
    try:
        client.initialize()
        client.start("launch", launch)
        for thread in client.ok("threads")["threads"]:
            for frame in client.ok("stackTrace", {"threadId": thread["id"]})["stackFrames"]:
                for expr in ("evil", "nested['inside'][0]", "__import__('os').getcwd()"):
                    client.request("evaluate", {"expression": expr, "frameId": frame["id"], "context": "repl"})
                scopes = client.ok("scopes", {"frameId": frame["id"]})["scopes"]
                refs = [scope["variablesReference"] for scope in scopes]
                for _ in range(50):
                    if not refs:
                        break
                    variables = client.ok("variables", {"variablesReference": refs.pop()})["variables"]
                    refs += [v["variablesReference"] for v in variables if v.get("variablesReference")]
    finally:
        client.close()


def test_tbdap_never_unpickles_untrusted(evil: Dict[str, Path], tmp_path: Path) -> None:
    assert _has("tbdap"), "python -m tbdap is missing"
    for dump, extra, flags in _untrusted_dumps(evil, tmp_path):
        launch = {"dumpFile": str(dump)}
        if flags:
            launch["safe"] = True
        _dap_session([], tmp_path, _tool_env(evil, **extra), launch)
        assert not evil["marker"].exists(), (dump.name, extra, launch)
    # The same with --safe on the command line, and the control: a trusted dump does load.
    dump = _copy(evil, "unsigned", tmp_path)
    _dap_session(["--safe"], tmp_path, _tool_env(evil), {"dumpFile": str(dump)})
    assert not evil["marker"].exists()
    _dap_session([], tmp_path, _tool_env(evil), {"dumpFile": str(dump)})
    assert evil["marker"].exists(), "control: the DAP session above never reached an object"
    evil["marker"].rmdir()


def test_tblsp_never_unpickles(evil: Dict[str, Path], tmp_path: Path) -> None:
    assert _has("tblsp"), "python -m tblsp is missing"
    dump = _copy(evil, "unsigned", tmp_path)
    source = evil["source"]
    pipe = _JsonRpcPipe([sys.executable, "-m", "tblsp"], tmp_path, _tool_env(evil))
    try:
        uri = source.as_uri()
        pipe.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {},
            "initializationOptions": {"dumpFiles": [str(dump)], "pollInterval": 0}}})
        pipe.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        pipe.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": source.read_text()}}})
        lines = source.read_text().splitlines()
        line = next(i for i, text in enumerate(lines) if "evil = Evil()" in text)
        pipe.send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": lines[line].index("evil")}}})
        pipe.send({"jsonrpc": "2.0", "id": 3, "method": "textDocument/inlayHint", "params": {
            "textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0},
                                                    "end": {"line": len(lines), "character": 0}}}})
        answered: Dict[int, Any] = {}
        deadline = time.monotonic() + 30

        def wait_for(ids: set) -> None:
            while time.monotonic() < deadline and not ids <= answered.keys():
                msg = pipe.read()
                if msg is None:
                    break
                if "id" in msg and "method" not in msg:
                    answered[msg["id"]] = msg.get("result")
        wait_for({1, 2, 3})  # the answers come when the dump is read, maybe after a later request
        pipe.send({"jsonrpc": "2.0", "id": 4, "method": "shutdown", "params": None})
        wait_for({4})
        pipe.send({"jsonrpc": "2.0", "method": "exit", "params": None})
        assert {1, 2, 3, 4} <= answered.keys(), answered
        # The hover reached the value: its captured preview, read from the safe layer.
        assert "<__main__.Evil object at " in json.dumps(answered[2]), answered[2]
    finally:
        pipe.close()
    assert not evil["marker"].exists()
