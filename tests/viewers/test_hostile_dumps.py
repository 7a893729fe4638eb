"""tbdebug and tbpeep on crafted dumps: what a dump names or says cannot hang them, fill their
memory, put local files on the screen, or act on the terminal.

Each case is a real dump with its safe layer edited (tests/crafted.py), opened
with the real command line and its commands on stdin, under a timeout and a
memory cap: a regression fails the test instead of hanging it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

from ..conftest import globals_unreadable, rewrite_safe_layer
from ..crafted import TIMEOUT, Safe, memory_cap, name_file
from .children import child_env

# pdb reads the program through these; `list` must show the code that ran.
PDB_COMMANDS = "where\nlist\nlonglist\nargs\np x\nq\n"
# peepshow: Enter lists the crash's frames (each with its source line), q leaves.
PEEP_KEYS = "\n\nq\n"


def view(viewer: str, dump: Path, stdin: str, *options: str,
         env: Optional[Dict[str, str]] = None) -> "subprocess.CompletedProcess[str]":
    """``python -m <viewer> [options] DUMP`` typed at, from the dump's folder, under the limits."""
    return subprocess.run([sys.executable, "-m", viewer, *options, str(dump)], cwd=str(dump.parent),
                          env=child_env(env), input=stdin, capture_output=True, encoding="utf-8",
                          errors="replace", timeout=TIMEOUT, preexec_fn=memory_cap())


def crafted(crash: Callable[..., Path], edit: Callable[[Safe], None]) -> Path:
    """The dump of divide.py's crash, its safe layer edited as an attacker would."""
    dump = crash("divide.py", "5", "0")
    return rewrite_safe_layer(dump, dump.with_name("crafted.pkl"), edit)


def commands(viewer: str) -> str:
    return PDB_COMMANDS if viewer == "tbdebug" else PEEP_KEYS


def squash(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


@pytest.mark.parametrize("viewer", ["tbdebug", "tbpeep"])
@pytest.mark.parametrize("named", ["fifo", "/dev/zero", "/dev/stdin"])
def test_a_named_file_that_is_not_a_regular_file_is_never_read(crash: Callable[..., Path],
                                                              tmp_path: Path, viewer: str,
                                                              named: str) -> None:
    # Opening a FIFO waited for a writer forever, /dev/zero was read until memory ran
    # out, /dev/stdin ate pdb's commands: the dump's copy is shown instead.
    if named == "fifo":
        named = str(tmp_path / "fifo")
        os.mkfifo(named)
    dump = crafted(crash, lambda safe: name_file(safe, named, sha256="0" * 64))
    done = view(viewer, dump, commands(viewer), "--safe")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert " 5 -> return x / y" in squash(done.stdout) if viewer == "tbdebug" else \
        "div  " + os.path.basename(named) + ":5  return x / y" in done.stdout


SECRET = "".join(f"TOP SECRET line {n}\n" for n in range(1, 21))


@pytest.mark.parametrize("viewer", ["tbdebug", "tbpeep"])
@pytest.mark.parametrize("how", ["no copy, no hash", "relative name", "not in sources"])
def test_a_local_file_the_dump_has_no_copy_of_is_not_shown(crash: Callable[..., Path],
                                                           tmp_path: Path, viewer: str,
                                                           how: str) -> None:
    # Only a local file whose SHA-256 is the dump's may be shown: any other name in a
    # dump could put this machine's files (/etc/passwd, ~/.ssh/...) on the screen.
    (tmp_path / "notes.txt").write_text(SECRET)
    named = "notes.txt" if how == "relative name" else str(tmp_path / "notes.txt")
    dump = crafted(crash, lambda safe: name_file(safe, named, text=None, sha256=None,
                                                 listed=how != "not in sources"))
    done = view(viewer, dump, commands(viewer), "--safe")
    assert done.returncode == 0, done.stderr
    assert "TOP SECRET" not in done.stdout + done.stderr
    assert f"{named}: no source to show: the dump holds no copy" in done.stdout + done.stderr


def test_longlist_of_a_frame_without_source_whose_module_globals_are_damaged(crash: Callable[..., Path],
                                                                            tmp_path: Path) -> None:
    # pdb hands `longlist`'s error to Pdb.error as the OSError itself, not a str: tbdebug's
    # note for a module whose globals the dump cannot read took it for text and died of an
    # AttributeError, a traceback instead of pdb's own line.
    gone = str(tmp_path / "gone.py")
    dump = globals_unreadable(crafted(crash, lambda safe: name_file(safe, gone, text=None, sha256=None)),
                              tmp_path / "damaged.pkl")
    done = view("tbdebug", dump, "longlist\np undefined_name\nq\n")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "*** could not get source code" in done.stdout
    assert "*** NameError: name 'undefined_name' is not defined (this module's globals are not in the dump" \
        in done.stdout


ESC = "\x1b]0;PWNED\x07\x1b[2J\x1b[H"       # retitle the window, clear the screen
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"   # OSC 52: write the clipboard
BIDI = "\u202e\u2066evil\u2069\u200b"              # reorder and hide text: "Trojan Source"


def unseen(text: str) -> List[str]:
    """The format characters and line or paragraph separators in ``text``."""
    return [c for c in text if unicodedata.category(c) in ("Cf", "Zl", "Zp")]


def hostile_strings(safe: Safe) -> None:
    """Escape sequences everywhere a dump has text that tbdebug shows."""
    raised = safe["exceptions"][0]
    raised["message"] = "harmless" + ESC + CLIPBOARD + "\rFAKE: all good" + BIDI + "\u2028\u2029"
    raised["type"] = raised["name"] = "ZeroDivisionError\x1b[31m"
    inner = safe["frames"][raised["frames"][-1]]
    source = safe["sources"][inner["file"]]
    source["text"] = source["text"].replace("return x / y", "return x / y  # \x1b[2J\x9b2J" + BIDI)
    name_file(safe, inner["file"] + "\x1b[1A\x1b[2K", sha256=None)
    inner["name"] = inner["qualname"] = "div" + ESC
    inner["vars"]["x"]["r"] = "5" + ESC
    inner["vars"]["evil\x1b[2Jname"] = {"t": "int", "r": "1\x1b[5m"}
    meta = safe["metadata"]
    meta["argv"], meta["hostname"], meta["cwd"] = ["prog\x1b[2J", "arg"], "host" + ESC, "/\x1b[41m"


@pytest.mark.parametrize("options", [("--safe",), ()])
def test_escape_sequences_in_a_dump_do_not_reach_the_terminal_from_tbdebug(
        crash: Callable[..., Path], options: tuple) -> None:
    dump = crafted(crash, hostile_strings)
    done = view("tbdebug", dump, PDB_COMMANDS, *options)
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    assert not set(shown) & {"\x1b", "\x07", "\r", "\x9b"} and not unseen(shown), shown
    # Shown as escapes, as repr writes them: the start-up lines, the traceback, and pdb.
    assert "on host\\x1b]0;PWNED\\x07" in shown and "'prog\\x1b[2J' arg crashed" in shown
    assert "ZeroDivisionError\\x1b[31m: harmless\\x1b]0;PWNED" in shown
    assert "(5)div\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[H()" in shown          # where
    assert "return x / y  # \\x1b[2J\\x9b2J\\u202e\\u2066evil\\u2069\\u200b" in shown  # list, longlist
    assert "all good\\u202e\\u2066evil\\u2069\\u200b\\u2028\\u2029" in shown


def test_escape_sequences_in_frame_names_and_sources_are_escaped_by_tbpeep(
        crash: Callable[..., Path]) -> None:
    dump = crafted(crash, hostile_strings)
    done = view("tbpeep", dump, PEEP_KEYS, "--safe", env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "\x1b]0;PWNED" not in done.stdout and "\x1b[1A" not in done.stdout
    assert not unseen(done.stdout), done.stdout
    assert "div\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[H  divide.py\\x1b[1A\\x1b[2K:5  return x / y" \
        in done.stdout


def test_escape_sequences_in_values_are_escaped_by_tbpeep(crash: Callable[..., Path]) -> None:
    # In safe mode a value is its preview, which is the dump's text: in the frame's listing
    # and as an expression's result.
    dump = crafted(crash, hostile_strings)
    done = view("tbpeep", dump, "\n\n1\n\n!x\nq\n", "--safe", env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert not set(done.stdout) & {"\x07", "\r", "\x9b"}, done.stdout
    assert "'x' : []* <int: safe mode 5\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[H>" in done.stdout   # the listing
    assert "> <int: safe mode 5\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[H>\n" in done.stdout          # !x


@pytest.mark.parametrize("encoding", [None, "latin-1"])
def test_text_no_encoding_can_print_is_shown_escaped(crash: Callable[..., Path],
                                                     encoding: Optional[str]) -> None:
    # A lone surrogate has no UTF-8 form; 雪 has no Latin-1 form: both used to end
    # tbdebug with a UnicodeEncodeError before pdb opened.
    def edit(safe: Safe) -> None:
        safe["exceptions"][0]["message"] = "div \ud800 zero \u96ea"
    dump = crafted(crash, edit)
    done = view("tbdebug", dump, PDB_COMMANDS, "--safe",
                env={"PYTHONIOENCODING": encoding} if encoding else None)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "ZeroDivisionError: div \\ud800 zero " in done.stdout and "(Pdb)" in done.stdout


@pytest.mark.parametrize("viewer", ["tbdebug", "tbpeep"])
def test_an_exception_whose_object_is_not_an_exception(crash: Callable[..., Path], viewer: str) -> None:
    # The dump's exception names the object of another value (the int 5): tbpeep set the
    # exception's __traceback__ on it, which an int refuses, and ended on a traceback.
    def edit(safe: Safe) -> None:
        safe["exceptions"][0]["value"]["ref"] = safe["frames"][-1]["vars"]["x"]["ref"]
    done = view(viewer, crafted(crash, edit), commands(viewer))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "division by zero" in done.stdout, done.stdout
