"""The VS Code extension in a real VS Code (code-server + headless Chromium), used as a person uses it.

Each test opens its own workspace in a fresh browser profile, crashes a real
program under `python -m tbdump` to get a dump, and works through VS Code's
UI. Screenshots land in artifacts/e2e/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .dumps import copy_program, make_dump, marked_line
from .vscode import SESSION_TIMEOUT, VSCode

# `make test-e2e` runs them in one pytest process: one code-server for all of them.
pytestmark = [pytest.mark.e2e]


@pytest.fixture
def shop(workspace: Path) -> Path:
    """The workspace with shop.py and the dump of its crash (traceback.pkl)."""
    program = copy_program("shop.py", workspace)
    make_dump(program, workspace)
    return program


def open_dump_from_explorer(vscode: VSCode, folder: Path, dump: str = "traceback.pkl") -> None:
    vscode.open_folder(folder)
    vscode.explorer_context_menu(dump, "Open tbdump file")


def test_open_from_explorer_shows_the_crash(vscode: VSCode, workspace: Path, shop: Path) -> None:
    open_dump_from_explorer(vscode, workspace)
    vscode.wait_stopped("checkout")

    # CALL STACK: the dump's frames, innermost first, the crashing one selected.
    # VS Code shows the top frame first and fetches the rest right after.
    vscode.call_stack_frame("<module>").wait_for()
    assert vscode.call_stack_names()[:3] == ["checkout", "main", "<module>"], vscode.call_stack_labels()

    # The editor: shop.py at the crashing line, highlighted, with the exception widget.
    expect(vscode.active_tab()).to_contain_text("shop.py")
    crash_line = marked_line(shop, "crash")
    expect(vscode.top_stack_line()).to_have_count(1)
    expect(vscode.exception_widget).to_contain_text("ZeroDivisionError")
    expect(vscode.exception_widget).to_contain_text("division by zero")
    expect(vscode.editor_line("(items - len(cart))")).to_be_visible()
    expect(vscode.page.locator(".monaco-editor .line-numbers.active-line-number").first).to_have_text(str(crash_line))

    # VARIABLES: the locals with their values.
    vscode.ensure_scope_expanded("Locals", "total")
    expect(vscode.variable("total", "8")).to_be_visible()
    expect(vscode.variable("items", "2")).to_be_visible()
    expect(vscode.variable("cart", "['apple', 'pear']")).to_be_visible()


def test_palette_command_with_file_picker(vscode: VSCode, workspace: Path, shop: Path) -> None:
    vscode.open_folder(workspace)
    # VS Code's own file dialog (a quick input in the browser): type the path, press Enter.
    dialog = vscode.open_dump_dialog()
    path_box = dialog.locator(".quick-input-box input")
    # Clicking the file picks it (VS Code's dialog accepts a file on click; the button is the other way).
    dialog.locator(".monaco-list-row", has_text="traceback.pkl").click()
    try:
        expect(dialog).to_be_hidden(timeout=5_000)
    except AssertionError:
        expect(path_box).to_have_value(re.compile(r"/traceback\.pkl$"))
        dialog.get_by_role("button", name="Open tbdump file").click()
    vscode.wait_stopped("checkout")
    expect(vscode.exception_widget).to_contain_text("ZeroDivisionError")


def test_expand_dict_object_and_page_a_long_list(vscode: VSCode, workspace: Path, shop: Path) -> None:
    open_dump_from_explorer(vscode, workspace)
    vscode.wait_stopped("checkout")
    vscode.ensure_scope_expanded("Locals", "inventory")

    vscode.expand_variable("inventory")
    expect(vscode.variable("'apple'", "3")).to_be_visible()
    expect(vscode.variable("'pear'", "0")).to_be_visible()

    vscode.expand_variable("customer")
    expect(vscode.variable("name", "'ada'")).to_be_visible()
    expect(vscode.variable("credit", "42")).to_be_visible()

    # 10 000 items: VS Code pages them in chunks of 100; open the last chunk.
    vscode.expand_variable("order_ids")
    expect(vscode.variable("len()", "10000")).to_be_visible()
    last_chunk = vscode.variable("[9900..9999]")
    vscode.scroll_variables_until(last_chunk)
    vscode.expand_variable("[9900..9999]")
    vscode.scroll_variables_until(vscode.variable("9999", "9999"))
    expect(vscode.variable("9999", "9999")).to_be_visible()


def test_debug_console_and_hover(vscode: VSCode, workspace: Path, shop: Path) -> None:
    open_dump_from_explorer(vscode, workspace)
    vscode.wait_stopped("checkout")

    answer = vscode.evaluate_in_console("total * 10 + items")
    expect(answer).to_have_text("82")

    hover = vscode.hover_word("total = sum(prices[item] for item in cart)", "total")
    expect(hover.locator(".value")).to_have_text("8")


def test_caller_frame_moves_editor_and_variables(vscode: VSCode, workspace: Path, shop: Path) -> None:
    open_dump_from_explorer(vscode, workspace)
    vscode.wait_stopped("checkout")
    vscode.ensure_scope_expanded("Locals", "total")

    vscode.select_frame("main", line=marked_line(shop, "call"))
    expect(vscode.focused_stack_line()).to_have_count(1)
    vscode.ensure_scope_expanded("Locals", "basket")
    expect(vscode.variable("basket", "['apple', 'pear']")).to_be_visible()
    expect(vscode.variable("total")).to_have_count(0)


def test_chained_exception_shows_label_and_cause_frames(vscode: VSCode, workspace: Path) -> None:
    program = copy_program("chained.py", workspace)
    make_dump(program, workspace)
    open_dump_from_explorer(vscode, workspace)
    vscode.wait_stopped("load_config")
    expect(vscode.exception_widget).to_contain_text("RuntimeError")

    label = vscode.page.locator(".debug-call-stack .monaco-list-row .stack-frame.label")
    expect(label.first).to_contain_text(re.compile("cause", re.IGNORECASE))

    cause = vscode.call_stack_frame("parse_port")
    if not cause.is_visible():
        # VS Code fetches deep stacks lazily: "Load More Stack Frames" / "Show N More".
        vscode.page.locator(".debug-call-stack .monaco-list-row", has_text=re.compile("Load More|Show")).first.click()
    vscode.select_frame("parse_port", line=marked_line(program, "cause"))
    expect(vscode.focused_stack_line()).to_have_count(1)
    expect(vscode.editor_line("return int(text)")).to_be_visible()
    vscode.ensure_scope_expanded("Locals", "text")
    expect(vscode.variable("text", "'80x'")).to_be_visible()


def test_source_missing_from_workspace_comes_from_the_dump(vscode: VSCode, workspace: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    program = copy_program("shop.py", elsewhere)
    dump = make_dump(program, elsewhere)
    shutil.move(str(dump), workspace / "traceback.pkl")
    shutil.rmtree(elsewhere)  # the source is gone: only the dump has it

    open_dump_from_explorer(vscode, workspace)
    vscode.wait_stopped("checkout")
    expect(vscode.editor_line("(items - len(cart))")).to_be_visible()
    expect(vscode.exception_widget).to_contain_text("ZeroDivisionError")
    # Read-only: typing into the editor changes nothing and VS Code says so.
    vscode.editor.locator(".view-lines").click()
    vscode.page.keyboard.type("XYZ")
    expect(vscode.page.locator(".monaco-editor-overlaymessage", has_text=re.compile("read-only|readonly", re.I))).to_be_visible()
    expect(vscode.editor_line("XYZ")).to_have_count(0)


def test_launch_json_f5(vscode: VSCode, workspace: Path, shop: Path) -> None:
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "launch.json").write_text(json.dumps({
        "version": "0.2.0",
        "configurations": [{
            "type": "tbdump", "request": "launch", "name": "Open tbdump file",
            "dumpFile": "${workspaceFolder}/traceback.pkl",
        }],
    }, indent=2))
    vscode.open_folder(workspace)
    vscode.show_run_and_debug()
    vscode.press_f5()
    vscode.wait_stopped("checkout")
    expect(vscode.exception_widget).to_contain_text("ZeroDivisionError")


def test_attach_to_tbdap_port(vscode: VSCode, workspace: Path, shop: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tbdap", "--port", "0", str(workspace / "traceback.pkl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workspace,
    )
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline()  # tbdap prints its address first, then serves
        match = re.search(r":(\d+)\b(?!.*:\d)", first_line) or re.match(r"\s*(\d+)\s*$", first_line)
        assert match, f"no port in tbdap's first line: {first_line!r}"
        (workspace / ".vscode").mkdir()
        (workspace / ".vscode" / "launch.json").write_text(json.dumps({
            "version": "0.2.0",
            "configurations": [{
                "type": "tbdump", "request": "attach", "name": "Attach to tbdap",
                "host": "127.0.0.1", "port": int(match.group(1)),
            }],
        }, indent=2))
        vscode.open_folder(workspace)
        vscode.show_run_and_debug()
        vscode.press_f5()
        vscode.wait_stopped("checkout")
        vscode.ensure_scope_expanded("Locals", "total")
        expect(vscode.variable("total", "8")).to_be_visible()
    finally:
        server.kill()
        server.wait(timeout=10)


def test_bad_dump_file_is_a_clear_error(vscode: VSCode, workspace: Path) -> None:
    (workspace / "broken.pkl").write_bytes(b"this is not a tbdump file\n" * 10)
    open_dump_from_explorer(vscode, workspace, "broken.pkl")
    error = vscode.page.locator(".notifications-toasts .notification-toast, .monaco-dialog-box").filter(
        has_text="broken.pkl")
    error.first.wait_for(timeout=SESSION_TIMEOUT)
    assert "Traceback (most recent call last)" not in error.first.inner_text()
    # No session hangs around.
    expect(vscode.toolbar).to_be_hidden()
    expect(vscode.call_stack_rows()).to_have_count(0)


def test_tbdump_missing_from_interpreter(vscode: VSCode, workspace: Path, shop: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare-venv"
    venv.create(bare, with_pip=False)
    python = bare / "bin" / "python"
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(json.dumps({"tbdump.python": str(python)}))

    open_dump_from_explorer(vscode, workspace)
    message = vscode.notification("tbdump is not installed")
    message.wait_for(timeout=SESSION_TIMEOUT)
    expect(message).to_contain_text(str(bare))
    expect(message).to_contain_text("pip install")
    expect(vscode.toolbar).to_be_hidden()

    # "Show Output" opens the tbdump channel, which says what was tried.
    message.get_by_role("button", name="Show Output").click()
    output = vscode.page.locator(".panel .output-view, .panel [id='workbench.panel.output']").first
    expect(output).to_contain_text("tbdump is not installed")


def test_crash_on_the_code_without_a_debug_session(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """tblsp (the language server), started because the workspace has a dump: Problems and hover."""
    vscode.open_folder(workspace)
    vscode.open_file("shop.py")
    crash = "per_item = total / (items - len(cart))"
    expect(vscode.editor_line(crash)).to_be_visible()

    # The Problems panel lists the exception, from tbdump, on the crash line.
    vscode.show_problems()
    problem = vscode.problem("ZeroDivisionError: division by zero")
    expect(problem).to_be_visible(timeout=SESSION_TIMEOUT)
    expect(problem).to_contain_text("tbdump")
    expect(problem).to_contain_text(f"[Ln {marked_line(shop, 'crash')}")

    # Hovering a local shows its value as captured: "**items**: `int`", then 2 in a code block.
    hover = vscode.hover_editor_word(crash, "items", re.compile(r"items\s*:\s*int"))
    value = hover.locator(".rendered-markdown", has_text=re.compile(r"^\s*items\s*:\s*int\s*2(?!\d)")).first
    expect(value).to_be_visible()
    expect(value.locator("strong")).to_have_text("items")

    # All of it with no debug session.
    expect(vscode.toolbar).to_be_hidden()


def test_dump_opened_by_command_shows_in_problems(vscode: VSCode, workspace: Path, tmp_path: Path) -> None:
    """A dump outside the workspace, opened with the command: tblsp gets it too (dumpFiles)."""
    program = copy_program("shop.py", workspace)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    dump = make_dump(program, crashes)  # the frames name workspace/shop.py; the dump lies elsewhere
    vscode.open_folder(workspace)
    dialog = vscode.open_dump_dialog()
    path_box = dialog.locator(".quick-input-box input")
    # The dialog lists the workspace folder first and then resets the path box: type once it has.
    dialog.locator(".monaco-list-row", has_text="shop.py").wait_for()
    for _ in range(5):
        path_box.fill(str(dump))
        try:
            expect(path_box).to_have_value(str(dump), timeout=2_000)
            break
        except AssertionError:
            continue
    expect(path_box).to_have_value(str(dump))
    path_box.press("Enter")
    try:
        expect(dialog).to_be_hidden(timeout=5_000)
    except AssertionError:
        dialog.get_by_role("button", name="Open tbdump file").click()
    vscode.wait_stopped("checkout")

    vscode.show_problems()
    problem = vscode.problem("ZeroDivisionError: division by zero")
    expect(problem).to_be_visible(timeout=SESSION_TIMEOUT)
    expect(problem).to_contain_text("tbdump")
