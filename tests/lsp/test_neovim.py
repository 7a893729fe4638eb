"""A real editor: Neovim's built-in LSP client shows the dump's crash and a captured value."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .lsp_support import DIVIDE, ENV, SERVER, col_of, crash, line_of

SCRIPT = Path(__file__).with_name("nvim_check.lua")


def _apt(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="session")
def nvim() -> str:
    """Neovim, installed from the Debian package when the machine lacks it."""
    found = shutil.which("nvim")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail("Neovim is missing and cannot be installed here: "
                    "run as root on Debian/Ubuntu, or `apt-get install neovim` first")
    if _apt("install", "-y", "neovim").returncode != 0:
        _apt("update")   # a fresh machine has no package lists yet
        proc = _apt("install", "-y", "neovim")
        assert proc.returncode == 0, f"apt-get install neovim failed: {proc.stderr[-2000:]}"
    found = shutil.which("nvim")
    assert found, "apt-get installed neovim but nvim is not on PATH"
    return found


def test_neovim_shows_crash_and_hover(nvim: str, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    crash(ws, DIVIDE, args=["7", "0"])
    prog = ws / "prog.py"
    hover = col_of(prog, "# crash", "y")
    out = tmp_path / "nvim.json"
    env = {**ENV, "TBLSP_OUT": str(out), "TBLSP_PROG": str(prog),
           "TBLSP_CMD": json.dumps(SERVER), "TBLSP_HOVER_LINE": str(hover.line),
           "TBLSP_HOVER_COL": str(hover.character), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.run([nvim, "--headless", "--clean", "-c", f"luafile {SCRIPT}"],
                          env=env, cwd=ws, capture_output=True, text=True, timeout=120)
    assert out.exists(), f"nvim wrote nothing: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
    result = json.loads(out.read_text())
    assert "error" not in result, result
    assert result["client_started"] and result["got_diagnostics"], result

    crash_line = line_of(prog, "# crash")
    text = prog.read_text().splitlines()[crash_line]
    errors = [d for d in result["diagnostics"] if d["severity"] == 1]   # vim.diagnostic: ERROR
    assert [(d["lnum"], d["col"], d["end_col"], d["message"], d["source"]) for d in errors] == \
        [(crash_line, text.index("x / y"), text.index("x / y") + 5,
          "ZeroDivisionError: division by zero", "tbdump")]
    infos = [d for d in result["diagnostics"] if d["severity"] == 3]
    assert [d["lnum"] for d in infos] == [line_of(prog, "# call")]

    assert result["got_hover"], result
    float_text = "\n".join(result["hover_float"])
    assert "y" in float_text and "int" in float_text and "0" in float_text
    assert "local in div()" in float_text
