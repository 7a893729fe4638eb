"""``python -m tbdump.report DUMP``: the crash in the terminal, from the safe layer only.

Metadata, the whole chained traceback with its code lines and, per frame,
every variable's preview.  Nothing is unpickled, so any dump can be shown.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Mapping, Optional, TextIO

from .command import add_version, dump_name, prog_name, quiet_interrupt, require_stdout, silence_stdout
from .dumpfile import Dump, load
from .errors import DumpError, system_words
from .model import OMITTED_GLOBAL, Frame, Value, cut, plural
from .termtext import printable
from .tracetext import Piece, frame_text, padded, printout

PROG = "tbdump.report"   # the name its own lines start with, as tbdebug's and tbpeep's do


class Style:
    """ANSI colours on a terminal, plain text elsewhere.

    Every text it is given comes from the dump (messages, names, paths, reprs,
    source lines): it is escaped first (termtext.printable), so a crafted dump
    cannot clear the screen, retitle the window, rewrite a line or paint with
    colour codes of its own; the report's own codes are the only ones written.
    """

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def _wrap(self, code: str, text: str) -> str:
        if not self.colour:
            return printable(text)
        # The line ends stay outside the colour: each line closes what it opens, so a line
        # taken alone (`| head -1`, grep) leaves the terminal as it found it.
        body = text.strip("\n")
        lead = text[:len(text) - len(text.lstrip("\n"))]
        return "%s\x1b[%sm%s\x1b[0m%s" % (lead, code, printable(body), text[len(lead) + len(body):])

    def plain(self, text: str) -> str:
        return printable(text)

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


def render(dump: Dump, out: TextIO, style: Style, show_globals: bool = False) -> None:
    meta = dump.metadata
    out.write(style.title("tbdump report of %s\n" % dump.path))
    if dump.signature_problem:   # what follows is not vouched for: said before it
        out.write(style.where("  trust     %s\n" % dump.signature_problem))
    out.write(style.plain("  written   %s on %s (pid %d), Python %s %s\n" % (
        meta.time, meta.hostname, meta.pid, ".".join(map(str, meta.version_info)), meta.implementation)))
    out.write(style.plain("  command   %s\n" % meta.command))
    out.write(style.plain("  cwd       %s\n" % meta.cwd))
    if meta.log:
        out.write(style.plain("  logged    %s %s: %s\n" % (meta.log.get("level", ""), meta.log.get("logger", ""),
                                                         meta.log.get("message", ""))))
    if meta.packages:
        out.write(style.plain("  packages  %s\n" % ", ".join("%s %s" % kv for kv in sorted(meta.packages.items()))))
    for note in meta.cut_notes():
        out.write(style.where("  %s\n" % note))
    if dump.version_note:
        out.write(style.where("  note      %s\n" % dump.version_note))
    for source in dump.sources.values():
        if source.note:
            out.write(style.where("  source    %s: %s\n" % (source.filename, source.note)))
    out.write("\n")
    _render_exceptions(dump, out, style, show_globals)
    if len(dump.threads) > 1:
        out.write(style.title("\nOther threads\n"))
        for thread in dump.threads[1:]:
            out.write(style.plain("  %s (id %d)%s\n" % (thread.name, thread.ident, ", daemon" if thread.daemon else "")))
            for frame in thread.frames:
                out.write(style.plain('    File "%s", line %d, in %s\n' % (frame.filename, frame.lineno, frame.name)))


def _render_exceptions(dump: Dump, out: TextIO, style: Style, show_globals: bool) -> None:
    """The chain as Python printed it, with the frames above the handler and every frame's values."""
    paint = {"member": style.dim, "exception": style.error}
    # With --globals: the frame each module's globals were listed under, by namespace key.
    listed: Optional[Dict[str, Frame]] = {} if show_globals else None
    for piece in printout(dump.safe, above_handler=True):
        if piece.frame is not None:
            _render_frame(dump, piece, out, style, listed)
        else:
            body = piece.text.rstrip("\n")   # painted without its line end, where the pad goes
            out.write(padded(piece._replace(text=paint.get(piece.kind, style.plain)(body) + piece.text[len(body):])))


def _render_frame(dump: Dump, piece: Piece, out: TextIO, style: Style,
                  listed: Optional[Dict[str, Frame]]) -> None:
    frame, pad = piece.frame, piece.pad
    assert frame is not None
    marker = style.dim(" (caller of the handler)") if frame.above_handler else ""
    out.write('%s  File "%s", line %s, in %s%s\n' % (
        pad, style.where(frame.filename), frame.lineno, style.name(frame.name), marker))
    out.write(style.plain(frame_text(dump.safe, piece, header=False)))
    # A module's locals are its globals: its dunders (__loader__, __spec__...) are noise here.
    _render_vars(_without_dunders(frame.variables) if frame.module_level else frame.variables,
                 out, style, pad + "      ")
    if listed is not None:
        _render_globals(dump, frame, listed, out, style, pad + "      ")


def _render_globals(dump: Dump, frame: Frame, listed: Dict[str, Frame], out: TextIO, style: Style,
                    indent: str) -> None:
    """A module's globals once, under its first frame in the report (a module's top level lists
    them as its variables); its other frames, often dozens in a recursion, point there."""
    variables = _without_dunders(dump.globals_of(frame))
    if frame.globals_key is None or not variables:
        return
    first = listed.get(frame.globals_key)
    if first is None:
        listed[frame.globals_key] = frame
        if not frame.module_level:
            _render_vars(variables, out, style, indent + "(global) ")
    else:
        out.write(indent + style.dim("(globals of %s: listed above, in %s at line %d)\n" % (
            frame.module, first.name, first.lineno)))


def _without_dunders(variables: Mapping[str, Value]) -> Dict[str, Value]:
    return {n: v for n, v in variables.items() if not (n.startswith("__") and n.endswith("__"))}


def _render_vars(variables: Mapping[str, Value], out: TextIO, style: Style, indent: str) -> None:
    omitted = 0
    for name, value in variables.items():
        if value is OMITTED_GLOBAL:   # a generated module's 45 000: counted, not listed
            omitted += 1
            continue
        # A value whose preview was kept but whose object was not: said where it is shown.
        why = " [%s]" % value.missing if value.missing and value.missing not in value.repr else ""
        out.write("%s%s = %s %s\n" % (indent, style.name(name), style.plain(cut(value.repr, _SHOWN)),
                                      style.dim("(%s)%s" % (cut(value.type, _SHOWN), why))))
    if omitted:
        out.write(indent + style.dim("(%s %s)\n" % (plural(omitted, "more global"), OMITTED_GLOBAL.missing)))


# What a report line shows of a value's repr or type (a class may be named by ten thousand characters).
_SHOWN = 200


def _colour(choice: str) -> bool:
    """Whether to colour: ``auto`` decides as Python 3.13 does for the traceback it prints
    (_colorize.can_colorize), so a setting that turns Python's colours on or off does the same
    here; the terminal asked about is stdout, where the report goes."""
    if choice != "auto":
        return choice == "always"
    env = {} if sys.flags.ignore_environment else os.environ
    if env.get("PYTHON_COLORS") in ("0", "1"):
        return env["PYTHON_COLORS"] == "1"
    if "NO_COLOR" in env:      # set at all, even empty, as Python reads it
        return False
    if "FORCE_COLOR" in env:
        return True
    return env.get("TERM") != "dumb" and sys.stdout.isatty()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog=prog_name(PROG),
                                     description="Show a tbdump dump in the terminal (safe: runs nothing from it).")
    parser.add_argument("dump", nargs="?", default="traceback.pkl", type=dump_name, metavar="DUMP",
                        help="the dump file (default: traceback.pkl)")
    parser.add_argument("--globals", action="store_true",
                        help="also list the module globals, each module's once: under its first frame")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the output; auto (the default): as Python 3.13 colours its tracebacks "
                             "(PYTHON_COLORS, NO_COLOR, FORCE_COLOR, TERM=dumb, else on a terminal)")
    # The other viewers' --safe: the README gives it to every command-line tool, and a report
    # is safe always, so it is taken and changes nothing rather than refused.
    parser.add_argument("--safe", action="store_true",
                        help="accepted as tbdebug and tbpeep take it; the report is always safe")
    add_version(parser, PROG)
    args = parser.parse_args(argv)
    require_stdout(PROG)
    with quiet_interrupt():
        _report(args)


def _report(args: argparse.Namespace) -> None:
    try:
        dump = load(args.dump, objects=False)
    except DumpError as exc:
        sys.stderr.write("%s: %s\n" % (PROG, printable(str(exc))))   # a name's control characters too
        raise SystemExit(2)
    try:
        # What a terminal's encoding cannot show (an ASCII one: LC_ALL=C with PYTHONUTF8=0)
        # is escaped, as Python escapes it in the traceback it prints on stderr.
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    except (AttributeError, ValueError):  # not a text file of io's
        pass
    try:
        render(dump, sys.stdout, Style(_colour(args.color)), args.globals)
        sys.stdout.flush()
    except OSError as exc:
        # The reader went away (``| head -1``): stop quietly, as the Python docs advise; the
        # disk is full (``> report.txt``): say so.
        silence_stdout()
        if not isinstance(exc, BrokenPipeError):
            sys.stderr.write("%s: cannot write the report: %s\n" % (PROG, system_words(exc)))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
