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
import time
import venv
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import env_for_child
from . import daptrace
from .conftest import DAP_TRACE
from .dumps import copy_program, make_dump, marked_line
from .vscode import SESSION_TIMEOUT, VSCode

# `make test-e2e` runs them in one pytest process: one code-server for all of them.
pytestmark = [pytest.mark.e2e]


def plant(folder: Path, package: str) -> None:
    """A package named like one of ours that leaves planted.marker when imported (untrusted code)."""
    (folder / package).mkdir()
    (folder / package / "__init__.py").write_text(
        "import pathlib\npathlib.Path(__file__).resolve().parents[1].joinpath('planted.marker').touch()\n")
    (folder / package / "__main__.py").write_text("")


def test_open_from_explorer_shows_the_crash(vscode: VSCode, workspace: Path, shop: Path) -> None:
    vscode.open_dump_from_explorer(workspace)
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
    vscode.open_dump_with_palette("traceback.pkl")  # VS Code's own file dialog (a quick input in the browser)
    vscode.wait_stopped("checkout")
    expect(vscode.exception_widget).to_contain_text("ZeroDivisionError")


def test_expand_dict_object_and_page_a_long_list(vscode: VSCode, workspace: Path, shop: Path) -> None:
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    vscode.ensure_scope_expanded("Locals", "inventory")

    vscode.expand_variable("inventory")
    expect(vscode.variable("'apple'", "3")).to_be_visible()
    expect(vscode.variable("'pear'", "0")).to_be_visible()

    vscode.expand_variable("customer")
    expect(vscode.variable("name", "'ada'")).to_be_visible()
    expect(vscode.variable("credit", "42")).to_be_visible()

    # 10 000 items: VS Code pages them in chunks of 100; open the last chunk.  The rows above are
    # closed first, as a person makes room (a dict's rows include its type's groups, as debugpy's).
    vscode.expand_variable("inventory", expanded=False)
    vscode.expand_variable("customer", expanded=False)
    vscode.expand_variable("order_ids")
    expect(vscode.variable("len()", "10000")).to_be_visible()
    last_chunk = vscode.variable("[9900..9999]")
    vscode.scroll_variables_until(last_chunk)
    vscode.expand_variable("[9900..9999]")
    vscode.scroll_variables_until(vscode.variable("9999", "9999"))
    expect(vscode.variable("9999", "9999")).to_be_visible()


def test_debug_console_and_hover(vscode: VSCode, workspace: Path, shop: Path) -> None:
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")

    answer = vscode.evaluate_in_console("total * 10 + items")
    expect(answer).to_have_text("82")

    hover = vscode.hover_word("total = sum(prices[item] for item in cart)", "total")
    expect(hover.locator(".value")).to_have_text("8")


def test_caller_frame_moves_editor_and_variables(vscode: VSCode, workspace: Path, shop: Path) -> None:
    vscode.open_dump_from_explorer(workspace)
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
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("load_config")
    # The widget reads as Python's own report of the chain: the cause first, then the exception.
    expect(vscode.exception_widget).to_contain_text(re.compile(
        r"^Exception has occurred: RuntimeError\s*config is broken\s*Traceback[\s\S]*"
        r"ValueError: invalid literal for int\(\) with base 10: '80x'\s*"
        r"The above exception was the direct cause of the following exception:[\s\S]*"
        r"RuntimeError: config is broken\s*$"))

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


def test_deep_recursion_pages_its_call_stack_as_with_debugpy(vscode: VSCode, workspace: Path) -> None:
    """902 frames: VS Code shows the first 20 and "Load More Stack Frames", which brings the rest down to
    <module> (what it shows for debugpy's live session of the same crash); the deepest call's variables."""
    program = copy_program("deep.py", workspace)
    make_dump(program, workspace)
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("descend")
    load_more = vscode.call_stack_rows().filter(has_text="Load More Stack Frames")
    vscode.call_stack_frame("descend").click()
    vscode.page.keyboard.press("End")  # CALL STACK is a virtual list: its last rows exist once shown
    expect(load_more).to_have_count(1)
    expect(vscode.call_stack_frame("<module>")).to_have_count(0)
    load_more.click()
    expect(load_more).to_have_count(0)  # the frames it fetched stand in its place
    calls = vscode.page.locator(".debug-call-stack").get_by_role("row", name=re.compile(r"^Stack Frame descend,"))
    calls.last.click()
    vscode.page.keyboard.press("End")
    expect(vscode.call_stack_frame("<module>")).to_be_visible()
    # The frame above <module> is the outermost call, descend(900, []).
    outermost = calls.last
    outermost.click()
    expect(vscode.variable("n", "900")).to_be_visible()
    expect(vscode.variable("trail", "[900]")).to_be_visible()


def test_crash_in_library_code_only_opens_where_it_raised(vscode: VSCode, workspace: Path) -> None:
    """No frame is the program's own (a thread running json.loads): under justMyCode the library frames
    are de-emphasized, but VS Code still opens the one the exception was raised in, with its widget."""
    make_dump(copy_program("parser_thread.py", workspace), workspace)
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("raw_decode")
    expect(vscode.active_tab()).to_contain_text("decoder.py")
    expect(vscode.exception_widget).to_contain_text("JSONDecodeError")
    # The threads as the program started them, as debugpy lists them; the one that crashed opened.
    threads = vscode.page.locator(".debug-call-stack").get_by_role("row", name=re.compile(r"^Thread "))
    expect(threads).to_have_count(2)
    expect(threads.first).to_have_attribute("aria-label", re.compile(r"^Thread MainThread Paused$"))
    expect(vscode.thread("parser")).to_have_attribute("aria-label", re.compile("Paused on exception"))
    expect(vscode.thread("parser")).to_have_attribute("aria-expanded", "true")
    # The other library frames stay out of the way, folded as VS Code folds de-emphasized frames.
    expect(vscode.call_stack_rows().filter(has_text=re.compile(r"Show \d+ More Stack Frames"))).to_have_count(1)


def test_source_missing_from_workspace_comes_from_the_dump(vscode: VSCode, workspace: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    program = copy_program("shop.py", elsewhere)
    dump = make_dump(program, elsewhere)
    shutil.move(str(dump), workspace / "traceback.pkl")
    shutil.rmtree(elsewhere)  # the source is gone: only the dump has it

    vscode.open_dump_from_explorer(workspace)
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
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workspace, env=env_for_child(),
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


def failed_responses(test: str) -> list[str]:
    """The commands tbdap has answered with an error so far in `test`."""
    return [m["command"] for direction, m in daptrace.messages(DAP_TRACE, test)
            if direction == "<-" and m.get("type") == "response" and not m["success"]]


def test_stepping_in_a_replay_says_why_once(request: pytest.FixtureRequest, vscode: VSCode, workspace: Path,
                                            shop: Path) -> None:
    """F10, F11, Shift+F11 and F5, pressed as out of habit, each fail: the user is told why in one
    notification, not one per command (VS Code shows an identical notification once)."""
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    vscode.page.keyboard.press("F10")
    expect(vscode.notification("A crash dump replay cannot continue, step or pause")).to_be_visible()
    for key in ("F11", "Shift+F11", "F5", "F10"):
        vscode.page.keyboard.press(key)
    # VS Code has had every answer (a repeated toast may or may not show again: nothing to wait on in the UI).
    deadline = time.monotonic() + 20
    while failed_responses(request.node.name) != ["next", "stepIn", "stepOut", "continue", "next"]:
        assert time.monotonic() < deadline, failed_responses(request.node.name)
        time.sleep(0.1)  # polling a file the extension appends to, not synchronising the UI
    # Every notification not cleared, shown as a toast or hidden since: still the one.
    expect(vscode.notification_center().filter(has_text="replay")).to_have_count(1)
    # And the session is as it was.
    assert vscode.call_stack_names()[:3] == ["checkout", "main", "<module>"], vscode.call_stack_labels()


def test_bad_dump_file_is_a_clear_error(vscode: VSCode, workspace: Path) -> None:
    (workspace / "broken.pkl").write_bytes(b"this is not a tbdump file\n" * 10)
    vscode.open_dump_from_explorer(workspace, "broken.pkl")
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

    vscode.open_dump_from_explorer(workspace)
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


def test_code_lenses_on_the_crash_line(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """tblsp's lenses on the crash line: "Show in terminal" prints the report, "Debug this crash" debugs."""
    vscode.open_folder(workspace)
    vscode.open_file("shop.py")
    debug_lens = vscode.code_lens("Debug this crash")
    expect(debug_lens).to_be_visible(timeout=SESSION_TIMEOUT)
    expect(debug_lens).to_have_count(1)
    # On the crash line: VS Code draws a line's lenses between it and the line before.
    vscode.wait_lens_above("Debug this crash", "per_item = total / (items - len(cart))",
                           "total = sum(prices[item] for item in cart)")

    # "Show in terminal": a terminal runs the report; its last lines are the crash's locals and the error.
    vscode.click_code_lens("Show in terminal")
    terminal = vscode.terminal_text()
    expect(terminal).to_contain_text("ZeroDivisionError: division by zero", timeout=SESSION_TIMEOUT)
    expect(terminal).to_contain_text("total = 8 (int)")
    expect(vscode.page.locator(".terminal-tabs-entry, .single-terminal-tab").first).to_contain_text("tbdump report")

    # "Debug this crash": a debug session on the dump, stopped at the exception, Run and Debug shown.
    vscode.click_code_lens("Debug this crash")
    vscode.toolbar.wait_for(timeout=SESSION_TIMEOUT)
    expect(vscode.run_and_debug_icon).to_have_class(re.compile(r"\bchecked\b"))
    vscode.wait_stopped("checkout")
    vscode.call_stack_frame("<module>").wait_for()
    assert vscode.call_stack_names()[:3] == ["checkout", "main", "<module>"], vscode.call_stack_labels()
    expect(vscode.exception_widget).to_contain_text("ZeroDivisionError")


def test_lens_setting_off_shows_nothing_on_the_code(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """`tbdump.lens.enable: false` in the folder's settings: no tblsp, so no lenses and no problems."""
    settings = workspace / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"tbdump.lens.enable": False}))
    vscode.open_folder(workspace)
    vscode.open_file("shop.py")
    # The extension found the dump and, the setting off, left tblsp unstarted; its output says so.
    output = vscode.output_channel("tbdump")
    expect(output).to_contain_text("tbdump.lens.enable is off: tblsp not started")
    expect(output).not_to_contain_text("starting tblsp")
    vscode.show_problems()
    expect(vscode.problem("ZeroDivisionError")).to_have_count(0)
    expect(vscode.code_lens("Debug this crash")).to_have_count(0)

    # Turned on in the same settings file, the crash shows: what kept it away was the setting.
    settings.write_text(json.dumps({"tbdump.lens.enable": True}))
    expect(vscode.problem("ZeroDivisionError: division by zero")).to_be_visible(timeout=SESSION_TIMEOUT)
    expect(vscode.code_lens("Debug this crash")).to_be_visible()
    # And off again: tblsp stops, its problems and lenses go.
    settings.write_text(json.dumps({"tbdump.lens.enable": False}))
    expect(vscode.problem("ZeroDivisionError")).to_have_count(0, timeout=SESSION_TIMEOUT)
    expect(vscode.code_lens("Debug this crash")).to_have_count(0)


@pytest.mark.usefixtures("restricted_mode")
def test_restricted_mode_shows_the_dump_in_safe_mode(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """An untrusted folder: VS Code starts no debug session there, so the dump opens in safe mode on the
    code (tblsp reads only the captured previews), the user is told once, and trusting the folder debugs."""
    # `python -m tblsp` run in this folder would import this instead of the installed tblsp.
    plant(workspace, "tblsp")
    vscode.open_folder(workspace)
    expect(vscode.page.locator(".statusbar-item", has_text="Restricted Mode")).to_be_visible()
    crash_line = str(marked_line(shop, "crash"))

    vscode.explorer_context_menu("traceback.pkl", "Open tbdump file")
    told = vscode.notification("Restricted Mode")
    expect(told).to_be_visible()
    expect(told).to_contain_text("safe mode")
    # The crash on the code: shop.py at the crash line, with its lens, in Problems, values on hover.
    expect(vscode.active_tab()).to_contain_text("shop.py", timeout=SESSION_TIMEOUT)
    expect(vscode.active_line_number()).to_have_text(crash_line)
    expect(vscode.code_lens("Debug this crash")).to_be_visible()
    crash = "per_item = total / (items - len(cart))"
    hover = vscode.hover_editor_word(crash, "total", re.compile(r"total\s*:\s*int"))
    expect(hover.locator(".rendered-markdown", has_text=re.compile(r"^\s*total\s*:\s*int\s*8(?!\d)")).first).to_be_visible()
    vscode.page.mouse.move(0, 0)
    vscode.show_problems()
    expect(vscode.problem("ZeroDivisionError: division by zero")).to_be_visible()
    # No debug session, and VS Code was not made to ask for trust.
    expect(vscode.toolbar).to_be_hidden()
    expect(vscode.dialog("trust")).to_have_count(0)

    # Told once: the message dismissed, the dump opened again (from the palette): no second message
    # (checked at the end, in the notification center, by when a late one would have arrived).
    told.hover()
    told.get_by_role("button", name=re.compile("Clear")).click()
    expect(told).to_have_count(0)
    vscode.run_command("View: Close All Editors")
    expect(vscode.active_tab()).to_have_count(0)
    vscode.open_dump_with_palette("traceback.pkl")
    expect(vscode.active_tab()).to_contain_text("shop.py", timeout=SESSION_TIMEOUT)
    expect(vscode.active_line_number()).to_have_text(crash_line)

    # Full values need a trusted folder: "Debug this crash" makes VS Code ask, and once trusted the
    # session evaluates (a safe-mode session could not).
    vscode.click_code_lens("Debug this crash")
    ask = vscode.dialog("Do you trust the authors")
    expect(ask).to_contain_text("Debugging executes")
    ask.get_by_role("button", name="Trust Folder & Continue").click()
    vscode.wait_stopped("checkout")
    expect(vscode.evaluate_in_console("total * 10 + items")).to_have_text("82")
    expect(vscode.notification_center().filter(has_text="Restricted Mode")).to_have_count(0)
    assert not (workspace / "planted.marker").exists(), "the extension ran Python code from the untrusted folder"


@pytest.mark.usefixtures("restricted_mode")
def test_restricted_mode_without_tblsp_shows_the_report(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """Restricted Mode with `tbdump.lens.enable: false`: the dump opens as its report, in an output channel
    (VS Code would ask for trust before starting a terminal)."""
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(json.dumps({"tbdump.lens.enable": False}))
    plant(workspace, "tbdump")  # `python -m tbdump.report` run in this folder would import it
    vscode.open_folder(workspace)
    # The folder's trust is settled (as a person sees the banner) before the dump is opened: a
    # command run while VS Code still decides it did nothing visible once, on a busy machine.
    expect(vscode.page.locator(".statusbar-item", has_text="Restricted Mode")).to_be_visible()
    vscode.explorer_context_menu("traceback.pkl", "Open tbdump file")
    expect(vscode.notification("Restricted Mode")).to_be_visible()
    report = vscode.output_text()
    expect(report).to_contain_text("ZeroDivisionError: division by zero", timeout=SESSION_TIMEOUT)
    expect(report).to_contain_text("total = 8 (int)")
    expect(vscode.toolbar).to_be_hidden()
    expect(vscode.dialog("trust")).to_have_count(0)
    assert not (workspace / "planted.marker").exists(), "the extension ran Python code from the untrusted folder"


def test_opening_an_open_dump_again_asks_as_vs_code_does(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """"Open tbdump file" on a dump a session already shows asks first, in VS Code's words for starting a
    running configuration again; Cancel starts nothing, Yes a second session (the dump may be newer)."""
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    sessions = vscode.page.locator(".debug-call-stack").get_by_role("row", name=re.compile(r"^Session "))
    question = vscode.dialog("'tbdump: traceback.pkl' is already running. Do you want to start another instance?")
    for answer, count in (("Cancel", 0), ("Yes", 2)):
        vscode.page.keyboard.press("Control+Shift+E")  # back to the Explorer, as a person clicks its icon
        vscode.explorer_context_menu("traceback.pkl", "Open tbdump file")
        question.get_by_role("button", name=answer).click()
        expect(question).to_be_hidden()
        vscode.show_run_and_debug()
        # One session shows its threads without a session row; two, a row each.
        expect(sessions).to_have_count(count, timeout=SESSION_TIMEOUT)
    for row in sessions.all():
        expect(row).to_have_attribute("aria-label", re.compile(r"^Session tbdump: traceback\.pkl\b"))


def test_two_dumps_open_side_by_side_say_which_is_which(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """A second dump opened while the first is debugged: CALL STACK lists both sessions by their dump."""
    shutil.copy(workspace / "traceback.pkl", workspace / "second.pkl")
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    vscode.page.keyboard.press("Control+Shift+E")  # back to the Explorer, as a person clicks its icon
    vscode.explorer_context_menu("second.pkl", "Open tbdump file")
    sessions = vscode.page.locator(".debug-call-stack").get_by_role("row", name=re.compile(r"^Session "))
    expect(sessions).to_have_count(2, timeout=SESSION_TIMEOUT)
    expect(sessions.nth(0)).to_have_attribute("aria-label", re.compile(r"^Session tbdump: traceback\.pkl\b"))
    expect(sessions.nth(1)).to_have_attribute("aria-label", re.compile(r"^Session tbdump: second\.pkl\b"))
