"""A real terminal for tests: a program in a tmux pane, typed at with send-keys, read with capture-pane."""
from __future__ import annotations

import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

Pattern = str  # a regular expression
_EXIT = "[exit status]"


class Terminal:
    """One program in its own tmux server (own socket), so tests never see each other's panes."""

    def __init__(self, tmux: str, workdir: Path, command: Sequence[str], env: Dict[str, str],
                 width: int = 132, height: int = 45) -> None:
        self.tmux = tmux
        self.socket = str(workdir / f"tmux-{time.monotonic_ns()}.sock")
        conf = workdir / "tmux.conf"
        # remain-on-exit keeps the pane after the program ends, so its exit
        # status can be read; set in the config so no exit can race it.
        conf.write_text("set -g remain-on-exit on\nset -g history-limit 20000\n")
        # tmux can see the pane's pty close before it reaps the program, and
        # then reports no exit status: the shell prints it instead.
        shell = f'{shlex.join(command)}; echo "{_EXIT} $?"'
        self._tmux("-f", str(conf), "new-session", "-d", "-s", "t", "-x", str(width),
                   "-y", str(height), "-c", str(workdir), shell, env=env)

    def _tmux(self, *args: str, env: Optional[Dict[str, str]] = None) -> str:
        done = subprocess.run([self.tmux, "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=30, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    # -- typing ------------------------------------------------------------------------
    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def press(self, *keys: str) -> None:
        """Named keys, as tmux spells them: Enter, Escape, C-d, Up..."""
        self._tmux("send-keys", "-t", "t", *keys)

    def line(self, text: str) -> None:
        self.type(text)
        self.press("Enter")

    # -- reading -----------------------------------------------------------------------
    def screen(self) -> str:
        """What is on the screen now, row by row as a person sees it."""
        return self._tmux("capture-pane", "-p", "-t", "t")

    def transcript(self) -> List[str]:
        """Everything the program printed so far, scrollback included, one entry per line."""
        lines = self._tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t").split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        return [line.rstrip() for line in lines]

    def wait_screen(self, pattern: Pattern, timeout: float = 30) -> str:
        """Wait until the screen matches; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if re.search(pattern, screen, re.M):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched {pattern!r}; it shows:\n{screen}")
            time.sleep(0.1)

    def wait_transcript(self, pattern: Pattern, since: int = 0, timeout: float = 30) -> str:
        """Wait until the printed lines from `since` on match; returns those lines."""
        deadline = time.monotonic() + timeout
        while True:
            text = "\n".join(self.transcript()[since:])
            if re.search(pattern, text, re.M):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"output never matched {pattern!r}; it is:\n{text}")
            time.sleep(0.1)

    def wait_answer(self, prompt: Pattern, since: int, timeout: float = 30) -> str:
        """Wait until what was typed at the prompt on line ``since`` is answered by the next
        prompt; returns the lines from that one on.  The typed line must be followed by one: the
        prompt alone, before the program has echoed the keys, matched at once on a loaded machine."""
        return self.wait_transcript(rf"\n(?:{prompt})\Z", since=since, timeout=timeout)

    def ask(self, command: str, prompt: Pattern, timeout: float = 30) -> str:
        """Type a command at a line-oriented prompt; return what it printed before the next prompt."""
        start = max(len(self.transcript()) - 1, 0)   # the prompt line the command is typed on
        self.line(command)
        text = self.wait_answer(prompt, start, timeout)
        return text.split("\n", 1)[1].rsplit("\n", 1)[0] if text.count("\n") > 1 else ""

    # -- ending ------------------------------------------------------------------------
    def exit_status(self, timeout: float = 30) -> int:
        """Wait for the program to end; its exit status."""
        try:
            text = self.wait_transcript(rf"^{re.escape(_EXIT)} \d+$", timeout=timeout)
        except AssertionError:
            raise AssertionError(f"program still running; the screen shows:\n{self.screen()}") from None
        return int(re.findall(rf"^{re.escape(_EXIT)} (\d+)$", text, re.M)[-1])

    def close(self) -> None:
        subprocess.run([self.tmux, "-S", self.socket, "kill-server"], capture_output=True,
                       timeout=30)
