"""tblsp's cache of the code attrs and cattrs generate (tblsp/gencache.py), through real starts.

Each start is a real `python -m tblsp` that must still publish the crash's
diagnostics; what the cache did is read from its file.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .lsp_support import DIVIDE, ENV, SERVER, WAIT, crash

CACHE_NAME_START = "generated-code."


def _message(stdout: Any) -> Optional[Dict[str, Any]]:
    length = None
    while True:
        line = stdout.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(stdout.read(length)) if length is not None else None


def diagnosed(workspace: Path, env: Dict[str, str], cwd: Optional[Path] = None) -> List[str]:
    """One whole session: start, open the crashed program, read its diagnostics, shut down."""
    proc = subprocess.Popen(SERVER, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=cwd)
    assert proc.stdin is not None and proc.stdout is not None

    def send(message: Dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    source = workspace / "prog.py"
    try:
        send({"id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}})
        send({"method": "initialized", "params": {}})
        send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": source.as_uri(), "languageId": "python", "version": 1, "text": source.read_text()}}})
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            msg = _message(proc.stdout)
            assert msg is not None, "tblsp ended before publishing diagnostics"
            params = msg.get("params") or {}
            if msg.get("method") == "textDocument/publishDiagnostics" and params.get("diagnostics"):
                send({"id": 2, "method": "shutdown", "params": None})
                send({"method": "exit", "params": None})
                return [d["message"] for d in params["diagnostics"]]
        raise AssertionError("no diagnostics within %s s" % WAIT)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def cache_files(folder: Path) -> List[Path]:
    return sorted(folder.glob(CACHE_NAME_START + "*")) if folder.exists() else []


def first_start(tmp_path: Path) -> Tuple[Dict[str, str], Path, List[str]]:
    """A crash and one start with a cache folder of its own: (env, cache file, diagnostics)."""
    crash(tmp_path, DIVIDE, args=["5", "0"])
    folder = tmp_path / "cache"
    env = {**ENV, "TBLSP_CACHE_DIR": str(folder)}
    first = diagnosed(tmp_path, env)
    [cache] = cache_files(folder)
    return env, cache, first


def test_first_start_fills_the_cache_and_the_second_uses_it(tmp_path: Path) -> None:
    env, cache, first = first_start(tmp_path)
    assert not cache.stat().st_mode & 0o022, "the cache must not be writable by others"
    written = cache.stat().st_mtime_ns
    assert diagnosed(tmp_path, env) == first and any("ZeroDivisionError" in m for m in first)
    assert cache.stat().st_mtime_ns == written, "a second start found code it had not cached"


def test_damaged_or_others_cache_is_not_used(tmp_path: Path) -> None:
    env, cache, expected = first_start(tmp_path)
    good = cache.read_bytes()
    for damage in (good[:len(good) // 2], b"not a cache at all", b""):
        cache.write_bytes(damage)
        assert diagnosed(tmp_path, env) == expected
        assert cache.read_bytes() != damage, "a damaged cache is replaced by a good one"
    # A cache others could have written is ignored (then replaced), even when it looks right.
    cache.write_bytes(good)
    os.chmod(cache, 0o666)
    assert diagnosed(tmp_path, env) == expected
    assert not cache.stat().st_mode & 0o022


def test_empty_cache_dir_turns_it_off(tmp_path: Path) -> None:
    crash(tmp_path, DIVIDE, args=["5", "0"])
    home = tmp_path / "home"
    env = {**ENV, "TBLSP_CACHE_DIR": "", "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    assert any("ZeroDivisionError" in m for m in diagnosed(tmp_path, env))
    assert not home.exists() or not any(home.rglob(CACHE_NAME_START + "*"))


def test_a_cache_dir_with_a_tilde_or_a_variable_is_read_as_a_shell_reads_it(tmp_path: Path) -> None:
    """`TBLSP_CACHE_DIR=~/x` as an editor's settings pass it, unexpanded: the cache is in the home
    folder, as `--tbdump-dir ~/x` puts dumps there (it made a folder named `~` where tblsp started)."""
    crash(tmp_path, DIVIDE, args=["5", "0"])
    home = tmp_path / "home"
    started_in = tmp_path / "elsewhere"
    started_in.mkdir()
    for setting, folder in (("~/tilde", home / "tilde"), ("$TBLSP_TEST_BASE/var", tmp_path / "base" / "var")):
        env = {**ENV, "TBLSP_CACHE_DIR": setting, "HOME": str(home), "TBLSP_TEST_BASE": str(tmp_path / "base")}
        assert any("ZeroDivisionError" in m for m in diagnosed(tmp_path, env, cwd=started_in))
        assert len(cache_files(folder)) == 1, setting
    assert list(started_in.iterdir()) == []
