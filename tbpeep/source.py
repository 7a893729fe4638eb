"""peepshow's `??` (show source) over a dump: the code that ran, from the dump's copy when the local file is not it."""
import functools
import inspect
import linecache
import os
import re
import subprocess
import tempfile
from typing import Any, Callable, Optional, Tuple

from peepshow.core.exceptions import CommandError  # imported after tbpeep.loader.import_peepshow()

import tbdump
from tbdump.localsource import check_local, no_source_note
from tbdump.standins import crashed_main, locate_class

from .view import FrameView

# peepshow's own vim invocation for `??`: read-only, numbered, q or Enter leaves.
_VIM = ["vim", "--not-a-term", "-c", "map q :qa<CR>", "-c", "map <CR> :qa<CR>",
        "-c", ":set number", "-RM"]


def _where(dump: tbdump.Dump, target: Any) -> Tuple[str, int]:
    """The file and first line of what `??` shows: a captured frame at its line, else the object's definition."""
    if isinstance(target, FrameView):
        return target.frame.f_code.co_filename, target.frame.f_lineno
    with crashed_main(dump):   # a class of the program's __main__ is in its file, not tbpeep's
        locate_class(target)   # 3.13's inspect needs it
        try:
            filename = inspect.getsourcefile(target)
        except TypeError as exc:   # a builtin, an instance: no source of its own
            raise CommandError(f"Cannot find source code: {exc}") from None
        if filename is None or not linecache.getlines(filename):
            return filename or inspect.getfile(target), 0
        try:
            return filename, inspect.getsourcelines(target)[1]
        except OSError as exc:     # a class inspect cannot find in its module's source
            raise CommandError(f"Cannot find source code: {exc}") from None


def _local_file(filename: str) -> Optional[str]:
    """The local file linecache read ``filename``'s lines from, or None when it serves a copy.

    tbdump.localsource.install_sources leaves a local file to linecache only
    when it is the file that ran; any other name gets the dump's copy, which,
    like the text of a module loaded from a zip, has no modification time.
    """
    entry = linecache.cache.get(filename)
    if entry is None or len(entry) != 4 or entry[1] is None:
        return None
    return str(entry[3])


def show_source(dump: tbdump.Dump, original: Callable[..., None]) -> Callable[..., None]:
    """peepshow's `??` command, showing what tbdebug's `list` would: the local file only when
    it is the file that ran, else the dump's copy; with no copy, one line saying why.

    peepshow opened vim on the object's file name whatever it held here: an
    empty buffer for a file missing on this machine, today's text for one
    changed since the crash.
    """
    @functools.wraps(original)   # keeps peepshow's name, help text and key for the command
    def cmd_source(commands: Any) -> None:
        filename, line = _where(dump, commands.ctx.target)
        lines = linecache.getlines(filename)
        if not lines:
            source = dump.sources.get(filename)
            raise CommandError(no_source_note(filename, source, check_local(filename, source)))
        start = [f"+{max(line, 1)}", "-c", "normal zt"]
        try:
            local = _local_file(filename)
            if local is not None:
                subprocess.run(_VIM + start + [local])
                return
            with tempfile.TemporaryDirectory(prefix="tbpeep-") as folder:
                # Named as the file was, so vim's status line and syntax colours follow it.
                name = re.sub(r"[^\w.-]", "_", os.path.basename(filename)).strip(".") or "source"
                copy = os.path.join(folder, name)
                with open(copy, "w", encoding="utf-8", errors="backslashreplace") as fh:
                    fh.writelines(lines)
                subprocess.run(_VIM + start + [copy])
        except FileNotFoundError:
            raise CommandError("vim is not installed: `??` needs it") from None
    return cmd_source
