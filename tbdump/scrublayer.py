"""The last pass of a capture with redaction on: hiding, in every text the safe layer holds,
the secrets met anywhere while it was made."""
from __future__ import annotations

from typing import Callable, List, Set

from .model import SafeLayer, Source, Value, all_frames
from .scrubbing import Secrets
from .spool import SpooledGlobals

__all__ = ["scrub"]


def scrub(layer: SafeLayer, secrets: Secrets) -> None:
    """Hide, in every text of the safe layer, the secrets met anywhere during capture, the
    passwords of URLs and, once the program was seen holding the environment, its items.

    Reprs are taken before all secrets are known (a dict's repr comes before
    its denylisted key is seen), so this runs once at the end.  Sources lose
    what value patterns hit too; each keeps the SHA-256 of the file that ran.
    """
    hide = secrets.scrub
    for record in layer.exceptions:
        record.message = hide(record.message)
        record.notes = [hide(n) for n in record.notes]
        if record.syntax is not None:
            record.syntax.msg = None if record.syntax.msg is None else hide(record.syntax.msg)
            if record.syntax.text is not None:  # a line of code, not a program's text
                record.syntax.text = secrets.scrub_source(record.syntax.text)
    # Previews hid URLs' passwords as they were made: they need this pass (thousands of
    # values) only for the secrets learned meanwhile, or the items of an environment.
    if secrets.texts or secrets.environ_seen:
        stack: List[Value] = []
        for ns in layer.namespaces.values():
            if isinstance(ns, SpooledGlobals):  # read back one at a time, written again
                ns.change(lambda values: _scrub_values(list(values.values()), hide))
            else:
                stack += ns.values()
        stack += [record.value for record in layer.exceptions if record.value is not None]
        for frame in all_frames(layer.exceptions, layer.threads):
            stack.extend(frame.variables.values())
        _scrub_values(stack, hide)
    for thread in layer.threads:
        thread.name = hide(thread.name)
    meta = layer.metadata
    meta.argv = [hide(a) for a in meta.argv]
    meta.cut = [hide(line) for line in meta.cut]
    if "message" in meta.log:
        meta.log["message"] = hide(meta.log["message"])
    for filename, source in list(layer.sources.items()):
        if source.text is not None:
            text = secrets.scrub_source(source.text)
            if text != source.text:
                layer.sources[filename] = Source(source.filename, text, source.sha256, source.reason, source.note)


def _scrub_values(stack: List[Value], hide: Callable[[str], str]) -> None:
    """``hide`` in the texts of these values and all below them, each value once."""
    seen: Set[int] = set()
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        value.repr = hide(value.repr)
        if value.missing is not None:
            value.missing = hide(value.missing)
        for child in value.children or ():
            child.name = hide(child.name)
            if child.access is not None:
                child.access = hide(child.access)
            stack.append(child.value)
