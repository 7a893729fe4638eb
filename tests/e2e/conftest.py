"""Fixtures that run a real VS Code (code-server) with the packaged extension, once per test run.

The session installs the pinned pieces (scripts/e2e/setup.sh, cached),
packages the .vsix (scripts/e2e/vsix.sh), installs it and starts code-server
once in its own process group; each test gets its own workspace folder and a
fresh Chromium profile, and leaves a screenshot in artifacts/e2e/.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from . import daptrace
from .dumps import copy_program, make_dump
from .vscode import VSCode

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "e2e"
ARTIFACTS = REPO / "artifacts" / "e2e"
# Every DAP message between VS Code and the tbdaps it starts, each test's part under its name.
DAP_TRACE = ARTIFACTS / "dap-trace.log"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# User settings that keep an offline VS Code quiet and deterministic.
USER_SETTINGS = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "chat.disableAIFeatures": True,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "editor.minimap.enabled": False,
    "files.hotExit": "off",
    "window.restoreWindows": "none",
    "debug.toolBarLocation": "floating",
    "debug.console.closeOnEnd": False,
    "debug.internalConsoleOptions": "openOnSessionStart",
    # The terminal draws its text as DOM rows (not on a canvas), so a test can read it.
    "terminal.integrated.gpuAcceleration": "off",
    "terminal.integrated.stickyScroll.enabled": False,  # its overlay is a second set of rows
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end tests in a real VS Code (code-server + Chromium)")
    # Waits on DOM conditions: generous, since two cores are shared with other suites in `make test`.
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)


@dataclass
class Tools:
    code_server: Path
    node24_bin: Path
    chromium: Path


@dataclass
class CodeServer:
    url: str
    env: dict
    user_settings: Path


def _key_values(text: str) -> dict:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.fixture(scope="session")
def e2e_tools() -> Tools:
    """Runs scripts/e2e/setup.sh (seconds once cached) and returns the tools' paths."""
    if os.environ.get("TBDUMP_SKIP_E2E"):
        pytest.skip("TBDUMP_SKIP_E2E is set")
    result = subprocess.run(
        ["bash", str(SCRIPTS / "setup.sh")], capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/e2e/setup.sh failed:\n{result.stderr[-4000:]}", pytrace=False)
    values = _key_values(result.stdout)
    return Tools(Path(values["CODE_SERVER"]), Path(values["NODE24_BIN"]), Path(values["CHROMIUM"]))


@pytest.fixture(scope="session")
def vsix() -> Path:
    """Packages the extension from the work tree, as `make vsix` does."""
    result = subprocess.run(
        ["bash", str(SCRIPTS / "vsix.sh")], capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/e2e/vsix.sh failed:\n{result.stderr[-4000:]}", pytrace=False)
    return Path(result.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"code-server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)  # polling a server that is starting, not synchronising the UI
    raise RuntimeError(f"code-server not healthy after {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def code_server(e2e_tools: Tools, vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    """code-server with the .vsix installed, started once; stopped with its whole process group."""
    base = tmp_path_factory.mktemp("code-server")
    user_data, extensions = base / "user-data", base / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2))
    # The interpreter running these tests has tbdump installed (the venv of `make test`), but its
    # editable install names whichever clone last ran `make venv`: the adapter and the language
    # server run from this tree instead, as the other suites' children do (PYTHONPATH, which
    # code-server's own environment leaves out, below).
    python = base / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(REPO))} exec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    # tbdump.python is machine-scoped: in code-server's remote window it lives in Machine/.
    (user_data / "Machine").mkdir()
    (user_data / "Machine" / "settings.json").write_text(json.dumps({"tbdump.python": str(python)}, indent=2))

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VSCODE_IPC_HOOK_CLI")}
    # Every DAP message between VS Code and tbdap, for reading after a failure.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env["TBDUMP_DAP_TRACE"] = str(DAP_TRACE)
    DAP_TRACE.write_text("")
    env["PATH"] = f"{e2e_tools.node24_bin}{os.pathsep}{env.get('PATH', '')}"
    for name in ("CONFIG", "DATA", "CACHE"):
        (base / f"xdg-{name.lower()}").mkdir()
        env[f"XDG_{name}_HOME"] = str(base / f"xdg-{name.lower()}")

    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    install = subprocess.run(
        [str(e2e_tools.code_server), *common, "--install-extension", str(vsix)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, f"installing {vsix} failed:\n{install.stdout}\n{install.stderr}"

    port = _free_port()
    log = base / "code-server.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [str(e2e_tools.code_server), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
             # No --disable-workspace-trust: it would hold for the whole server; the user
             # setting turns trust off instead, and the restricted_mode fixture turns it on.
             "--disable-telemetry", "--disable-update-check",
             "--disable-getting-started-override", "--reconnection-grace-time", "5", *common],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield CodeServer(url=url, env=env, user_settings=user_data / "User" / "settings.json")
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / "code-server.log")


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[object]:
    """Playwright's sync API holds an asyncio loop running while it is open: gone when the
    e2e tests are, so the asyncio tests run after them in one process (tests/lsp) still can."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder for one test."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def shop(workspace: Path) -> Path:
    """The workspace with shop.py and the dump of its crash (traceback.pkl)."""
    program = copy_program("shop.py", workspace)
    make_dump(program, workspace)
    return program


@pytest.fixture
def restricted_mode(code_server: CodeServer) -> Iterator[None]:
    """Workspace trust on for this test, so the folder it opens is untrusted (Restricted Mode).

    The shared code-server keeps running: a page reads the user settings when it
    loads, so the setting is switched before the test's page loads and switched
    back after it.
    """
    settings = code_server.user_settings
    # (No startup prompt: the folder opens untrusted, as after "No, I don't trust the authors".)
    settings.write_text(json.dumps({**USER_SETTINGS, "security.workspace.trust.enabled": True,
                                    "security.workspace.trust.startupPrompt": "never"}, indent=2))
    try:
        yield
    finally:
        settings.write_text(json.dumps(USER_SETTINGS, indent=2))


@pytest.fixture
def vscode(request: pytest.FixtureRequest, code_server: CodeServer, playwright_instance, e2e_tools: Tools,
           tmp_path: Path) -> Iterator[VSCode]:
    """A fresh Chromium profile on the shared code-server; screenshots when the test ends."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=str(e2e_tools.chromium),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1600, "height": 1000},
    )
    context.set_default_timeout(30_000)
    # "Copy Value" writes the clipboard; a test reads it back as the page.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=code_server.url)
    page = context.pages[0] if context.pages else context.new_page()
    vs = VSCode(page, code_server.url, lambda: daptrace.messages(DAP_TRACE, request.node.name))
    # The browser's console says why VS Code shows "an unexpected error"; kept beside the screenshot.
    console: list[str] = []
    page.on("console", lambda message: console.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    with open(DAP_TRACE, "a") as trace:
        trace.write(f"=== {request.node.name}\n")
    try:
        yield vs
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        (ARTIFACTS / f"{name}.console.log").write_text("\n".join(console) + "\n")
        # pytest shows a teardown's stderr only when the test failed: the CI log then says why.
        print("\n".join(line for line in console if line.startswith(("[error]", "[pageerror]"))), file=sys.stderr)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        except Exception as error:  # a screenshot must never hide the test's own result
            print(f"screenshot failed: {error}", file=sys.stderr)
        context.close()
    violations = daptrace.schema_violations(DAP_TRACE, request.node.name)
    assert not violations, "tbdap sent VS Code messages the DAP schema rejects:\n" + "\n".join(violations[:20])
