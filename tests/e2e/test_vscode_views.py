"""What a person does daily with a paused dump in a real VS Code: other threads, WATCH, Set Value,
Copy Value, the toolbar's Restart and Stop, a source edited since the crash.

As test_vscode.py: a real program crashed under `python -m tbdump`, its dump opened through VS Code's
UI on the session's code-server; screenshots land in artifacts/e2e/.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Callable, List

import pytest
from playwright.sync_api import expect

from .dumps import copy_program, make_dump, marked_line
from .vscode import VSCode

pytestmark = [pytest.mark.e2e]


def test_other_threads_stacks_variables_and_watch(vscode: VSCode, workspace: Path) -> None:
    """The main thread crashed while two workers waited: each worker is a thread of CALL STACK whose
    frames show their own code and locals, and WATCH evaluates in the frame selected."""
    program = copy_program("workers.py", workspace)
    make_dump(program, workspace)
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("<module>")
    expect(vscode.thread("MainThread")).to_have_attribute("aria-label", re.compile("Paused on exception"))
    for name in ("downloader", "resizer"):
        expect(vscode.thread(name)).to_have_attribute("aria-label", re.compile(r"Paused$"))

    # Another thread: its frame moves the editor to its line, VARIABLES to its locals.
    vscode.expand_thread("downloader")
    vscode.select_frame("download", line=marked_line(program, "wait"))
    vscode.ensure_scope_expanded("Locals", "url")
    expect(vscode.variable("url", "'https://example.com/a.png'")).to_be_visible()
    expect(vscode.variable("retries", "3")).to_be_visible()
    expect(vscode.variable("queue")).to_have_count(0)  # the main thread's

    # WATCH: typed expressions, one that fails saying why, one added from VARIABLES.
    vscode.add_watch("retries * 2")
    vscode.add_watch("missing + 1")
    vscode.variable_context_menu("url", "Add to Watch")
    expect(vscode.watch("retries * 2")).to_have_attribute("aria-label", "retries * 2, value 6")
    expect(vscode.watch("missing + 1")).to_have_attribute(
        "aria-label", "missing + 1, value NameError: name 'missing' is not defined")
    expect(vscode.watch("url")).to_have_attribute("aria-label", "url, value 'https://example.com/a.png'")

    # The main thread's frame: the same watches, evaluated there.
    vscode.select_frame("<module>", line=marked_line(program, "crash"))
    expect(vscode.watch("retries * 2")).to_have_attribute(
        "aria-label", "retries * 2, value NameError: name 'retries' is not defined")
    vscode.add_watch("queue[-1]")
    expect(vscode.watch("queue[-1]")).to_have_attribute("aria-label", "queue[-1], value 'b.png'")


def test_set_value_shows_in_console_and_watch_copy_value_is_whole(vscode: VSCode, workspace: Path,
                                                                   shop: Path) -> None:
    """Set Value changes the replay (VARIABLES, console, WATCH agree, a dict entry too); Copy Value
    copies the whole value, not the shortened one VARIABLES shows; Copy as Expression its path."""
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    vscode.ensure_scope_expanded("Locals", "total")
    vscode.add_watch("total * 10 + items")
    expect(vscode.watch("total * 10 + items")).to_have_attribute("aria-label", "total * 10 + items, value 82")

    vscode.set_value("total", "total + 1")
    expect(vscode.variable("total", "9")).to_be_visible()
    expect(vscode.watch("total * 10 + items")).to_have_attribute("aria-label", "total * 10 + items, value 92")
    expect(vscode.evaluate_in_console("total")).to_have_text("9")
    # The console says once that the dump file itself is untouched.
    expect(vscode.page.locator(".repl")).to_contain_text("Changed in this replay only")

    vscode.expand_variable("inventory")
    vscode.set_value("'pear'", "7")
    expect(vscode.variable("'pear'", "7")).to_be_visible()
    expect(vscode.evaluate_in_console("inventory")).to_have_text("{'apple': 3, 'pear': 7}")
    vscode.variable_context_menu("'pear'", "Copy as Expression")
    vscode.wait_clipboard("inventory['pear']")

    # 10 000 ids: VARIABLES shortens the list, Copy Value has all of them.
    vscode.expand_variable("inventory", expanded=False)
    row = vscode.variable("order_ids")
    expect(row).to_have_attribute("aria-label", re.compile(r"\.\.\.\]$"))
    vscode.variable_context_menu("order_ids", "Copy Value")
    vscode.wait_clipboard(repr(list(range(10000))))


def tbdaps(folder: Path) -> List[int]:
    """The tbdap processes running in `folder` (the extension starts tbdap in the dump's folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:  # gone meanwhile, or another user's
            continue
        if b"tbdap" in args and b"-m" in args and Path(cwd) == folder:
            found.append(int(entry.name))
    return found


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)  # polling the process table, not synchronising the UI


def test_restart_reopens_the_dump_and_stop_ends_tbdap(vscode: VSCode, workspace: Path, shop: Path) -> None:
    """Restart reads the dump again (the program crashed anew since) in a new tbdap, the old one ending
    by itself, not killed; Stop ends the session and its tbdap, leaving no process behind."""
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    [first] = tbdaps(workspace)

    # The program crashed again, elsewhere: its new dump replaces the one open.
    make_dump(copy_program("chained.py", workspace), workspace)
    vscode.toolbar_button("Restart").click()
    vscode.wait_stopped("load_config")
    expect(vscode.exception_widget).to_contain_text("RuntimeError")
    wait_until(lambda: first not in tbdaps(workspace), "the first tbdap still runs after Restart")
    assert len(tbdaps(workspace)) == 1, "Restart runs one new tbdap"

    vscode.toolbar_button("Stop").click()
    expect(vscode.toolbar).to_be_hidden()
    wait_until(lambda: not tbdaps(workspace), "tbdap still runs after Stop")
    # Each tbdap ended as a session ends, by itself: none had to be killed.
    output = vscode.output_channel("tbdump")
    exited = r"adapter\sexited\swith\scode\s0"  # (\s: the Output view draws spaces as no-break spaces)
    expect(output).to_contain_text(re.compile(rf"{exited}[\s\S]*{exited}"))
    expect(output).not_to_contain_text("killed")


def test_source_edited_since_the_crash_shows_the_code_that_ran(vscode: VSCode, workspace: Path,
                                                              shop: Path) -> None:
    """shop.py edited after the crash (a line added above, the crash line fixed): the editor shows the
    dump's copy at the crash line, not the edited file, and the Debug Console says why."""
    edited = "# a line added after the crash\n" + shop.read_text().replace("(items - len(cart))", "max(1, items)")
    shop.write_text(edited)
    vscode.open_dump_from_explorer(workspace)
    vscode.wait_stopped("checkout")
    # The line the crash had when it ran: one above its mark in the edited file.
    expect(vscode.active_line_number()).to_have_text(str(marked_line(shop, "crash") - 1))
    # (the crash line as it ran; VS Code draws its stop marker inside it, after "total ")
    expect(vscode.editor_line("/ (items - len(cart))")).to_be_visible()
    expect(vscode.editor_line("a line added after the crash")).to_have_count(0)
    expect(vscode.page.locator(".repl")).to_contain_text(
        f"{shop}: the local file is not used (differs from the file that ran); showing the dump's copy")
