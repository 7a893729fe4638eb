"""``python -m tbdump.report DUMP``: the crash in the terminal, from the safe layer only.

Metadata, the whole chained traceback with its code lines and, per frame,
every variable's preview.  Nothing is unpickled, so any dump can be shown.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, TextIO, Tuple

from .dumpfile import Dump, load
from .errors import DumpError
from .model import ExceptionRecord, Frame, Value

CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"


class Style:
    """ANSI colours on a terminal, plain text elsewhere."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def _wrap(self, code: str, text: str) -> str:
        return "\x1b[%sm%s\x1b[0m" % (code, text) if self.colour else text

    def title(self, text: str) -> str:
        return self._wrap("1", text)

    def error(self, text: str) -> str:
        return self._wrap("1;31", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def name(self, text: str) -> str:
        return self._wrap("36", text)

    def where(self, text: str) -> str:
        return self._wrap("33", text)


def chain_order(dump: Dump) -> List[Tuple[ExceptionRecord, Optional[str]]]:
    """The chain in the order Python prints it, oldest first, each with its introduction."""
    records: List[ExceptionRecord] = []
    intros: List[str] = []   # intros[i] links records[i] to the older records[i + 1]
    index: Optional[int] = 0
    seen = set()
    while index is not None and index not in seen:
        seen.add(index)
        record = dump.exceptions[index]
        records.append(record)
        if record.cause is not None:
            intros.append(CAUSE)
            index = record.cause
        elif record.context is not None:
            intros.append(CONTEXT)
            index = record.context
        else:
            index = None
    return [(records[i], intros[i] if i < len(intros) else None)
            for i in reversed(range(len(records)))]


def render(dump: Dump, out: TextIO, style: Style, show_globals: bool = False) -> None:
    meta = dump.metadata
    out.write(style.title("tbdump report of %s\n" % dump.path))
    out.write("  written   %s on %s (pid %d), Python %s %s\n" % (
        meta.time, meta.hostname, meta.pid, ".".join(map(str, meta.version_info)), meta.implementation))
    out.write("  command   %s\n" % " ".join(meta.argv))
    out.write("  cwd       %s\n" % meta.cwd)
    if meta.packages:
        out.write("  packages  %s\n" % ", ".join("%s %s" % kv for kv in sorted(meta.packages.items())))
    if meta.partial or meta.cut:
        out.write(style.where("  partial   %s\n" % ("; ".join(meta.cut) or "yes")))
    if dump.version_note:
        out.write(style.where("  note      %s\n" % dump.version_note))
    out.write("\n")
    for record, intro in chain_order(dump):
        if intro:
            out.write("\n%s\n\n" % intro)
        _render_exception(dump, record, out, style, show_globals)
    if len(dump.threads) > 1:
        out.write(style.title("\nOther threads\n"))
        for thread in dump.threads[1:]:
            out.write("  %s (id %d)%s\n" % (thread.name, thread.ident, ", daemon" if thread.daemon else ""))
            for frame in thread.frames:
                out.write("    File %s, line %d, in %s\n" % (frame.filename, frame.lineno, frame.name))


def _render_exception(dump: Dump, record: ExceptionRecord, out: TextIO, style: Style,
                      show_globals: bool) -> None:
    out.write("Traceback (most recent call last):\n")
    for frame in record.frames:
        _render_frame(dump, frame, out, style, show_globals)
    out.write(style.error("%s: %s\n" % (record.type, record.message) if record.message else "%s\n" % record.type))
    for note in record.notes:
        out.write("%s\n" % note)
    for i, member in enumerate(record.members):
        sub = dump.exceptions[member]
        out.write(style.dim("  +---------------- %d ----------------\n" % (i + 1)))
        out.write("  %s: %s\n" % (sub.type, sub.message))
        for frame in sub.frames:
            out.write("    File %s, line %d, in %s\n" % (frame.filename, frame.lineno, frame.name))


def _render_frame(dump: Dump, frame: Frame, out: TextIO, style: Style, show_globals: bool) -> None:
    marker = style.dim(" (caller of the handler)") if frame.above_handler else ""
    out.write('  File "%s", line %s, in %s%s\n' % (
        style.where(frame.filename), frame.lineno, style.name(frame.name), marker))
    line = _source_line(dump, frame)
    if line is not None:
        out.write("    %s\n" % line.strip())
    _render_vars(frame.variables, out, style, "      ")
    if show_globals:
        _render_vars(dump.globals_of(frame), out, style, "      (global) ")


def _render_vars(variables: Dict[str, Value], out: TextIO, style: Style, indent: str) -> None:
    for name, value in variables.items():
        text = value.repr if len(value.repr) <= 200 else value.repr[:197] + "..."
        out.write("%s%s = %s %s\n" % (indent, style.name(name), text, style.dim("(%s)" % value.type)))


def _source_line(dump: Dump, frame: Frame) -> Optional[str]:
    src = dump.sources.get(frame.filename)
    if src is None or src.text is None:
        return None
    lines = src.text.splitlines()
    return lines[frame.lineno - 1] if 0 < frame.lineno <= len(lines) else None


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tbdump.report",
                                     description="Show a tbdump dump in the terminal (safe: runs nothing from it).")
    parser.add_argument("dump", nargs="?", default="traceback.pkl", help="the dump file (default: traceback.pkl)")
    parser.add_argument("--globals", action="store_true", help="also list each frame's module globals")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    args = parser.parse_args(argv)
    try:
        dump = load(args.dump, objects=False)
    except DumpError as exc:
        sys.stderr.write("tbdump: %s\n" % exc)
        raise SystemExit(2)
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                        and not os.environ.get("NO_COLOR"))
    render(dump, sys.stdout, Style(colour), args.globals)


if __name__ == "__main__":
    main()
