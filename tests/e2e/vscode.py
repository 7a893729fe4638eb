"""Drives VS Code's UI in the browser the way a person does: explorer, palette, F5, debug views.

Every wait is on a DOM condition; nothing here sleeps for a fixed time.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Callable, List, Optional
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .daptrace import Message, refetched_paused_stack

def literal(text: str) -> str:
    """`text` as a regular expression for a locator's accessible name: Playwright's selector parser
    ends the pattern at a bare "/" ('https://...'), which re.escape leaves bare."""
    return re.escape(text).replace("/", r"\/")


# How long a debug session may take to show its first stop (tbdap starts, loads the dump).
SESSION_TIMEOUT = 45_000


class VSCode:
    def __init__(self, page: Page, url: str, dap_messages: Callable[[], List[Message]]) -> None:
        self.page = page
        self.url = url
        # The DAP messages of this test so far (the extension's trace: none for an attached tbdap).
        self.dap_messages = dap_messages

    # ---- workbench -------------------------------------------------------------------------

    def open_folder(self, folder: Path) -> None:
        """Opens the folder and waits until the extension host has registered extensions."""
        self.page.goto(f"{self.url}/?folder={quote(str(folder))}")
        self.page.locator(".explorer-folders-view").wait_for()
        self.wait_for_extension()
        self.wait_for_startup_finished()

    def open_dump_from_explorer(self, folder: Path, dump: str = "traceback.pkl") -> None:
        """Opens the folder and the dump in it with the Explorer's "Open tbdump file"."""
        self.open_folder(folder)
        self.explorer_context_menu(dump, "Open tbdump file")

    def wait_for_startup_finished(self) -> None:
        """Waits until the workbench has created its last ("Eventually") contributions.

        VS Code (1.139) registers the provider of debug: editors (sources a session serves, such
        as a dump's copy of a missing file) among them, one per idle slot or per 3 s when the page
        is busy: on a loaded 2-core machine a minute after the window opened. A stop shown before
        then opens its editor as "could not be opened" (Unable to resolve resource debug:…).
        """
        self.page.wait_for_function(
            "performance.getEntriesByName('code/didCreateWorkbenchContributions/4').length > 0",
            timeout=180_000, polling=250)

    def wait_for_extension(self, attempts: int = 30) -> None:
        """Readiness: the command palette lists the extension's command (F5 too early does nothing).

        The palette computes its list when opened, so it is reopened until the
        extension host has registered the extension.
        """
        for attempt in range(attempts):
            self.open_palette(">tbdump: Open tbdump file")
            row = self.palette_row("tbdump: Open tbdump file")
            try:
                row.wait_for(timeout=2_000)
                found = True
            except PlaywrightTimeout:
                found = False
            self.page.keyboard.press("Escape")
            expect(self.page.locator(".quick-input-widget")).to_be_hidden()
            if found:
                return
        raise AssertionError("the tbdump extension never registered its command")

    def open_palette(self, text: str) -> None:
        self.page.keyboard.press("Control+Shift+P")
        box = self.page.locator(".quick-input-widget .quick-input-box input")
        box.wait_for()
        box.fill(text)

    def palette_row(self, label: str) -> Locator:
        return self.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", has_text=label).first

    def run_command(self, label: str) -> None:
        """Runs a command from the palette, as a person types it."""
        self.open_palette(">" + label)
        row = self.palette_row(label)
        row.wait_for()
        row.click()

    def open_dump_dialog(self) -> Locator:
        """Runs "tbdump: Open tbdump file" and waits for VS Code's file dialog (a quick input)."""
        self.run_command("tbdump: Open tbdump file")
        dialog = self.page.locator(".quick-input-widget", has=self.page.locator(
            ".quick-input-title", has_text="Open tbdump file"))
        dialog.wait_for()
        expect(dialog.locator(".quick-input-box input")).to_have_value(re.compile("^/"))  # it lists a folder
        return dialog

    def open_dump_with_palette(self, name: str) -> None:
        """"tbdump: Open tbdump file" from the palette, then a click on the file in the dialog's list."""
        dialog = self.open_dump_dialog()
        # VS Code's dialog accepts a file on click; its button is the other way.
        dialog.locator(".monaco-list-row", has_text=name).click()
        try:
            expect(dialog).to_be_hidden(timeout=5_000)
        except AssertionError:
            expect(dialog.locator(".quick-input-box input")).to_have_value(re.compile(rf"/{re.escape(name)}$"))
            dialog.get_by_role("button", name="Open tbdump file").click()
        expect(dialog).to_be_hidden()

    def explorer_row(self, name: str) -> Locator:
        return self.page.locator(".explorer-folders-view .monaco-list-row", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))

    def explorer_context_menu(self, name: str, item: str) -> None:
        """Right-clicks a file in the Explorer and chooses a menu item."""
        self.context_menu(self.explorer_row(name), name, item)

    def context_menu(self, row: Locator, name: str, item: str) -> None:
        """Right-clicks `row` (a file, a variable: `name` in messages) and chooses a menu item."""
        row.wait_for()
        # The item's label alone: an item shows its keybinding beside it ("Set Value F2").
        entry = self.page.locator(".context-view .action-item", has=self.page.locator(
            ".action-label", has_text=re.compile(rf"^\s*{re.escape(item)}\s*$")))
        for _ in range(3):
            try:
                # A hover left open (a path shown over the Explorer) would take the click.
                self.page.mouse.move(1, 1)
                row.click(button="right", timeout=5_000)
                entry.wait_for(timeout=5_000)
                # VS Code's menus act on a real press and release over the item.
                entry.hover(timeout=5_000)
                entry.click(delay=80, timeout=5_000)
                break
            except PlaywrightTimeout:
                # The menu closed before the click (the view re-rendered under it, on a busy
                # machine), or a hover covered the row: nothing was chosen, so a person tries again.
                warnings.warn(f"the context menu of {name!r} closed before {item!r} was clicked; again")
                self.page.keyboard.press("Escape")
        else:
            raise AssertionError(f"could not choose {item!r} in the context menu of {name!r}")
        expect(self.page.locator(".context-view .monaco-menu")).to_be_hidden()

    def notification(self, pattern: str | re.Pattern) -> Locator:
        """A notification toast whose text matches."""
        return self.page.locator(".notifications-toasts .notification-toast", has_text=pattern)

    def notification_center(self) -> Locator:
        """Opens the notification center; returns its entries (every notification not cleared, toast or not)."""
        self.run_command("Notifications: Show Notifications")
        center = self.page.locator(".notifications-center")
        expect(center).to_be_visible()
        return center.locator(".notification-list-item")

    def dialog(self, pattern: str | re.Pattern) -> Locator:
        return self.page.locator(".monaco-dialog-box", has_text=pattern)

    # ---- debugging -------------------------------------------------------------------------

    @property
    def toolbar(self) -> Locator:
        return self.page.locator(".debug-toolbar")

    def is_debugging(self) -> bool:
        return self.toolbar.is_visible()

    def press_f5(self) -> None:
        """Starts the selected launch configuration; pressed again only if no session appeared.

        (F5 while paused would mean Continue, so the state is checked before every press.)
        """
        for _ in range(5):
            if self.is_debugging():
                return
            self.page.keyboard.press("F5")
            try:
                self.toolbar.wait_for(timeout=8_000)
                return
            except PlaywrightTimeout:
                continue
        self.toolbar.wait_for(timeout=1)

    def wait_stopped(self, top_frame: str) -> None:
        """Waits for a paused session whose selected frame is `top_frame`, with Run and Debug shown."""
        self.toolbar.wait_for(timeout=SESSION_TIMEOUT)
        self.show_run_and_debug()
        self.page.locator(".debug-call-stack").wait_for()
        frame = self.call_stack_frame(top_frame)
        frame.wait_for(timeout=SESSION_TIMEOUT)
        try:
            expect(frame).to_have_attribute("aria-selected", "true", timeout=10_000)
        except AssertionError:
            # Only VS Code's own race may leave the frame unselected (daptrace.refetched_paused_stack);
            # a person then clicks the frame. Anything else is a failure.
            refetched = refetched_paused_stack(self.dap_messages())
            if refetched is False:
                raise
            why = ("CALL STACK fetched the paused stack a second time and replaced the frame VS Code had "
                   "focused (VS Code's own race, which debugpy's stops lose too: no exception widget "
                   "either, unless it opened before)" if refetched else
                   "an attached tbdap is not traced, so whether that was VS Code's race is unknown")
            warnings.warn(f"VS Code did not select the paused frame {top_frame!r}: {why}; clicking it")
            frame.click()
            expect(frame).to_have_attribute("aria-selected", "true")
        # The exception widget comes last when VS Code opens a stop (after it focused the editor):
        # only then is the UI settled enough to type into.
        expect(self.exception_widget).to_be_visible()

    @property
    def run_and_debug_icon(self) -> Locator:
        """The activity bar's Run and Debug icon (its class has "checked" while the view shows)."""
        return self.page.locator(".activitybar .action-item", has=self.page.locator("a[aria-label^='Run and Debug']"))

    def show_run_and_debug(self) -> None:
        """Opens the Run and Debug view (CALL STACK, VARIABLES) as a person clicks its icon."""
        item = self.run_and_debug_icon
        checked = re.compile(r"\bchecked\b")
        for _ in range(3):
            # Clicking the icon of the view already shown would hide the side bar: only click when it is not.
            if "checked" in (item.get_attribute("class") or "").split():
                return
            item.click()
            try:
                expect(item).to_have_class(checked, timeout=5_000)
                return
            except AssertionError:
                # The view opened by itself (a session starting shows it) just before the click, which
                # then hid it again: a person clicks once more.
                warnings.warn("Run and Debug opened as it was clicked, and the click closed it; again")
        expect(item).to_have_class(checked)

    # call stack

    def call_stack_rows(self) -> Locator:
        return self.page.locator(".debug-call-stack .monaco-list-row")

    def call_stack_frame(self, name: str) -> Locator:
        return self.page.locator(".debug-call-stack").get_by_role(
            "row", name=re.compile(rf"^Stack Frame {re.escape(name)},")).first

    def call_stack_labels(self) -> list[str]:
        """The CALL STACK rows as screen readers read them ("Stack Frame main, line 23, shop.py")."""
        return [row.get_attribute("aria-label") or row.inner_text() for row in self.call_stack_rows().all()]

    def call_stack_names(self) -> list[str]:
        """The function names of the frames shown in CALL STACK, top first."""
        names = []
        for label in self.call_stack_labels():
            match = re.match(r"Stack Frame (.+?), line", label)
            if match:
                names.append(match.group(1))
        return names

    def active_line_number(self) -> Locator:
        return self.page.locator(".editor-group-container.active .monaco-editor .line-numbers.active-line-number").first

    def select_frame(self, name: str, line: Optional[int] = None) -> None:
        """Clicks a frame in CALL STACK; with `line`, until the editor shows that line.

        On a busy machine VS Code sometimes selects the frame without moving the
        editor; a person clicks again, and so does this.
        """
        frame = self.call_stack_frame(name)
        for _ in range(3):
            frame.click()
            expect(frame).to_have_attribute("aria-selected", "true")
            if line is None:
                return
            try:
                expect(self.active_line_number()).to_have_text(str(line), timeout=5_000)
                return
            except AssertionError:
                warnings.warn(f"VS Code did not move the editor to frame {name!r}; clicking it again")
        expect(self.active_line_number()).to_have_text(str(line))

    # variables

    def variable(self, name: str, value: Optional[str] = None) -> Locator:
        """The VARIABLES row of `name` (with `value` when given), found by its accessible label."""
        # (accessible names are trimmed: a row with an empty value reads "name, value")
        label = rf"^{literal(name)}, value" + (rf" {literal(value)}$" if value is not None else r"( |$)")
        return self.page.locator(".debug-variables").get_by_role("treeitem", name=re.compile(label)).first

    def ensure_scope_expanded(self, scope: str, probe: str) -> None:
        """Expands a scope (Locals is not always expanded) until `probe` is visible in it."""
        if self.variable(probe).is_visible():
            return
        header = self.page.locator(".debug-variables").get_by_role("treeitem", name=f"Scope {scope}", exact=True)
        header.wait_for()
        if header.get_attribute("aria-expanded") != "true":
            header.click()
        self.variable(probe).wait_for()

    def expand_variable(self, name: str, expanded: bool = True) -> None:
        """Opens (or, ``expanded=False``, closes) the VARIABLES row of `name` by its twistie."""
        row = self.variable(name)
        row.wait_for()
        state = "true" if expanded else "false"
        if row.get_attribute("aria-expanded") != state:
            row.locator(".monaco-tl-twistie").click()
        expect(row).to_have_attribute("aria-expanded", state)

    def scroll_variables_until(self, target: Locator, attempts: int = 200) -> None:
        """Scrolls the VARIABLES list (it is virtual: rows exist only when shown) until target shows."""
        view = self.page.locator(".debug-variables .monaco-list")
        box = view.bounding_box()
        assert box, "VARIABLES is not visible"
        self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(attempts):
            if target.count() and target.is_visible():
                return
            self.page.mouse.wheel(0, 400)
            # the next check waits on the DOM; a wheel event renders synchronously in VS Code's list
        target.wait_for(timeout=1)

    def variable_context_menu(self, name: str, item: str) -> None:
        """Right-clicks the VARIABLES row of `name` and chooses a menu item ("Copy Value", "Add to Watch")."""
        self.context_menu(self.variable(name), name, item)

    def set_value(self, name: str, text: str) -> None:
        """"Set Value" on the VARIABLES row of `name`: types `text` over the value and presses Enter."""
        self.variable_context_menu(name, "Set Value")
        # (a row edited before keeps its input box, hidden)
        box = self.variable(name).locator("input[aria-label='Type new variable value']")
        expect(box).to_be_focused()
        box.fill(text)
        box.press("Enter")
        expect(box).to_be_hidden()

    def wait_clipboard(self, text: str) -> None:
        """Waits until the clipboard holds `text` (VS Code writes it once tbdap has answered; the page
        may read it: see the vscode fixture)."""
        try:
            self.page.wait_for_function("async (text) => (await navigator.clipboard.readText()) === text",
                                        arg=text, polling=100, timeout=10_000)
        except PlaywrightTimeout:
            held = self.page.evaluate("navigator.clipboard.readText()")
            raise AssertionError(f"the clipboard holds {held[:200]!r}, not {text[:200]!r}") from None

    # threads

    def thread(self, name: str) -> Locator:
        """The CALL STACK row of a thread ("Thread downloader Paused")."""
        return self.page.locator(".debug-call-stack").get_by_role("row", name=re.compile(rf"^Thread {re.escape(name)} "))

    def expand_thread(self, name: str) -> None:
        """Opens a thread's frames in CALL STACK by its twistie."""
        row = self.thread(name)
        row.wait_for()
        if row.get_attribute("aria-expanded") != "true":
            row.locator(".monaco-tl-twistie").click()
        expect(row).to_have_attribute("aria-expanded", "true")

    # watch

    def add_watch(self, expression: str) -> None:
        """Adds a WATCH expression with the view's "Add Expression" button, as a person types it."""
        header = self.page.locator(".pane-header", has_text=re.compile(r"^\s*Watch"))
        header.hover()  # the view's buttons show while the pointer is over its header
        header.get_by_role("button", name="Add Expression").click()
        box = self.page.locator(".debug-watch input[aria-label='Type watch expression']")
        expect(box).to_be_focused()
        box.fill(expression)
        box.press("Enter")
        expect(box).to_be_hidden()

    def watch(self, expression: str) -> Locator:
        """The WATCH row of `expression` (its accessible label: "expression, value VALUE")."""
        label = rf"^{literal(expression)}, value( |$)"
        return self.page.locator(".debug-watch").get_by_role("treeitem", name=re.compile(label)).first

    # toolbar

    def toolbar_button(self, name: str) -> Locator:
        """A button of the debug toolbar by its name ("Restart", "Stop")."""
        return self.toolbar.get_by_role("button", name=re.compile(rf"^{re.escape(name)}\b"))

    # editor

    @property
    def editor(self) -> Locator:
        return self.page.locator(".editor-group-container.active .monaco-editor").first

    def active_tab(self) -> Locator:
        return self.page.locator(".editor-group-container.active .tab.active")

    def top_stack_line(self) -> Locator:
        """The editor line VS Code highlights for the paused (top) frame."""
        return self.page.locator(".monaco-editor .view-overlays .debug-top-stack-frame-line")

    def focused_stack_line(self) -> Locator:
        """The editor line VS Code highlights for a selected caller frame."""
        return self.page.locator(".monaco-editor .view-overlays .debug-focused-stack-frame-line")

    def editor_line(self, text: str) -> Locator:
        return self.page.locator(".monaco-editor .view-lines .view-line", has_text=text).first

    @property
    def exception_widget(self) -> Locator:
        return self.page.locator(".monaco-editor .exception-widget")

    def word_center(self, line_text: str, word: str) -> dict:
        """The on-screen centre of `word` in the editor line containing `line_text`."""
        line = self.editor_line(line_text)
        line.wait_for()
        # The word's on-screen box, from the text node that holds it.
        box = line.evaluate(
            r"""(line, word) => {
                const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const text = node.textContent.replace(/\u00a0/g, ' ');
                    const match = new RegExp('\\b' + word + '\\b').exec(text);
                    if (match) {
                        const range = document.createRange();
                        range.setStart(node, match.index);
                        range.setEnd(node, match.index + word.length);
                        const r = range.getBoundingClientRect();
                        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
                    }
                }
                return null;
            }""",
            word,
        )
        assert box, f"no {word!r} in the editor line {line_text!r}"
        return box

    def _hover_until(self, line_text: str, word: str, hover: Locator) -> Locator:
        # The word is found again before each try: lines move when code lenses or inlay hints arrive.
        for _ in range(5):
            box = self.word_center(line_text, word)
            self.page.mouse.move(box["x"], box["y"])
            try:
                hover.wait_for(timeout=5_000)
                break
            except PlaywrightTimeout:
                self.page.mouse.move(0, 0)  # off and on again for a new hover
        return hover

    def hover_word(self, line_text: str, word: str) -> Locator:
        """Hovers `word` in the editor line containing `line_text`; returns the debug hover widget."""
        return self._hover_until(line_text, word, self.page.locator(".debug-hover-widget"))

    def hover_editor_word(self, line_text: str, word: str, has_text: str | re.Pattern) -> Locator:
        """Hovers `word` (no debug session); returns the editor's hover once it shows `has_text`.

        The language server answers after VS Code opened the hover, so the hover is
        retried (mouse off and on) until its text has arrived.
        """
        return self._hover_until(
            line_text, word, self.page.locator(".monaco-editor .monaco-hover", has_text=has_text).first)

    def open_file(self, name: str) -> None:
        """Opens a file from the Explorer (a double click: a pinned tab) and waits for its tab."""
        row = self.explorer_row(name)
        row.wait_for()
        row.dblclick()
        expect(self.active_tab()).to_contain_text(name)
        self.editor.wait_for()

    # code lenses and the terminal

    def code_lens(self, title: str) -> Locator:
        """A code lens of the active editor, by its title ("Debug this crash")."""
        return self.editor.locator(".codelens-decoration a", has_text=re.compile(rf"^\s*{re.escape(title)}\s*$"))

    def wait_lens_above(self, title: str, line_text: str, before_text: str) -> None:
        """Waits until lens `title` is drawn between the line holding `before_text` and the one holding
        `line_text`: VS Code lays a lens out in a view zone that can settle after the lens shows."""
        geometry = """([title, lineText, beforeText]) => {
            const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
                                  return {top: r.top, bottom: r.bottom}; };
            const lines = [...document.querySelectorAll('.monaco-editor .view-lines .view-line')];
            const line = (text) => lines.find(
                (el) => el.textContent.replace(/\u00a0/g, ' ').includes(text));  // Monaco draws spaces as NBSP
            const lens = [...document.querySelectorAll('.monaco-editor .codelens-decoration a')]
                .find((el) => el.textContent.trim() === title);
            const g = {lens: box(lens), line: box(line(lineText)), before: box(line(beforeText))};
            // Lines drawn between the two: none when they are neighbours in the editor.
            g.between = g.line && g.before ? lines.map(box)
                .filter((b) => b.top >= g.before.bottom - 1 && b.bottom <= g.line.top + 1).length : null;
            return g;
        }"""
        arguments = [title, line_text, before_text]
        try:
            self.page.wait_for_function(
                f"""(args) => {{ const g = ({geometry})(args);
                    return !!(g.lens && g.line && g.before) && g.between === 0 && g.before.bottom <= g.lens.top + 1
                           && g.lens.bottom <= g.line.top + 1; }}""", arg=arguments, timeout=10_000)
        except PlaywrightTimeout:
            raise AssertionError(f"lens {title!r} is not drawn above {line_text!r}: "
                                 f"{self.page.evaluate(geometry, arguments)}") from None

    def click_code_lens(self, title: str) -> None:
        lens = self.code_lens(title)
        lens.wait_for(timeout=SESSION_TIMEOUT)
        lens.click()

    def terminal_text(self) -> Locator:
        """The rows the visible terminal shows (DOM rows: terminal.integrated.gpuAcceleration is off)."""
        return self.page.locator(".terminal-wrapper.active .xterm-rows")

    def output_channel(self, name: str) -> Locator:
        """Shows an output channel, picked in the Output view's channel list as a person does;
        returns its text."""
        self.run_command("Output: Focus on Output View")
        channels = self.page.locator(".panel select.monaco-select-box").first
        expect(channels).to_be_visible()
        channels.select_option(label=name)
        return self.output_text()

    def output_text(self) -> Locator:
        """The lines the Output view shows (of the channel selected in it)."""
        return self.page.locator(".panel .output-view .view-lines").first

    # problems

    def show_problems(self) -> Locator:
        """Opens the Problems panel (Ctrl+Shift+M toggles it: pressed only when it is not shown)."""
        panel = self.page.locator(".markers-panel")
        if not panel.is_visible():
            self.page.keyboard.press("Control+Shift+M")
        expect(panel).to_be_visible()
        return panel

    def problem(self, pattern: str | re.Pattern) -> Locator:
        """A row of the Problems panel whose text matches."""
        return self.page.locator(".markers-panel .monaco-list-row", has_text=pattern).first

    # debug console

    def evaluate_in_console(self, expression: str) -> Locator:
        """Types an expression into the Debug Console; returns its last output row (the answer)."""
        repl = self.page.locator(".repl")
        if not repl.is_visible():
            self.run_command("Debug: Focus on Debug Console View")
        repl.wait_for()
        input_editor = self.page.locator(".repl-input-wrapper .monaco-editor")
        # The editor may take focus back as it reveals the paused line: click until the input has it.
        for _ in range(10):
            input_editor.locator(".view-lines").click()
            try:
                expect(input_editor).to_have_class(re.compile(r"\bfocused\b"), timeout=1_000)
                break
            except AssertionError:
                continue
        expect(input_editor).to_have_class(re.compile(r"\bfocused\b"))
        self.page.keyboard.type(expression)
        expect(input_editor.locator(".view-lines")).to_have_text(expression)
        self.page.keyboard.press("Enter")
        rows = self.page.locator(".repl .monaco-list-row")
        # The console echoes the expression, then answers below it.
        rows.filter(has_text=expression).last.wait_for()
        expect(rows.last).not_to_have_text(expression)
        return rows.last
