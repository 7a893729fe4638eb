"""Turns captured value previews into the short texts and Markdown an editor shows.

Every string from a dump (types, names, reprs, frame and file names, messages)
reaches the Markdown through ``code_span``, ``_code`` or ``escape``, so that it
shows as written and never becomes a link, an image (which an editor loads by
itself) or HTML.
"""
from __future__ import annotations

import re
from typing import List, Optional

from tbdump.model import Child, Value

_CHILDREN_SHOWN = 12     # per level of a hover: a hover is a glance, not a variables view
_HOVER_DEPTH = 2


def short(value: Value, limit: int = 60) -> str:
    """One line for a value: its repr, or what it stands in for when it was not captured."""
    if value.redacted is not None:
        return f"<redacted: {value.redacted}>"
    if value.missing is not None:
        text = f"<{value.type} {value.missing}>"
    else:
        text = value.repr
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Markup:
    """How a hover marks its text up: Markdown, which most editors render."""

    def code_span(self, text: str) -> str:
        return code_span(text)

    def escape(self, text: Optional[str]) -> str:
        return escape(text)

    def code_block(self, text: str) -> str:
        return _code(text)

    def strong(self, text: str) -> str:
        return f"**{text}**"

    def emphasis(self, text: str) -> str:
        return f"*{text}*"


class PlainText(Markup):
    """The same hover for an editor that shows only plain text, which shows every
    character as written: Markdown's marks and escapes would be shown, not read."""

    def code_span(self, text: str) -> str:
        return _LINE_BREAKS.sub(" ", text)

    def escape(self, text: Optional[str]) -> str:
        return _LINE_BREAKS.sub(" ", text or "")

    def code_block(self, text: str) -> str:
        return text

    def strong(self, text: str) -> str:
        return text

    def emphasis(self, text: str) -> str:
        return text


MARKDOWN = Markup()
PLAIN_TEXT = PlainText()


def describe(value: Value, markup: Markup = MARKDOWN) -> str:
    """The type line of a value: class, length and shape."""
    parts = [markup.code_span(value.qualtype or value.type)]
    if value.length is not None:
        parts.append(f"len {value.length}")
    if value.shape is not None:
        parts.append("shape " + "×".join(str(n) for n in value.shape))
    return " · ".join(parts)


def hover(expr: str, value: Value, where: str, beyond: Optional[str] = None,
          markup: Markup = MARKDOWN) -> str:
    """The text of a hover: name and type, the value, its children to a small depth.

    `beyond` names the expression the user pointed at when the preview ends before it.
    """
    m = markup
    lines = [f"{m.strong(m.escape(expr))}: {describe(value, m)}", ""]
    if beyond is not None:
        lines += [m.emphasis(f"{m.code_span(beyond)} is not in the captured preview"), ""]
    if value.redacted is not None:
        lines.append(m.emphasis(f"redacted by the capture rule {m.escape(value.redacted)}"))
    elif value.missing is not None:
        lines.append(m.emphasis(m.escape(value.missing)))
        if value.repr:
            lines += ["", m.code_block(value.repr)]
    else:
        lines.append(m.code_block(value.repr))
    tree = _children(value, 0, m)
    if tree:
        lines += [""] + tree
    lines += ["", m.emphasis(m.escape(where))]
    return "\n".join(lines)


def _children(value: Value, depth: int, markup: Markup) -> List[str]:
    if value.children is None or depth >= _HOVER_DEPTH:
        return []
    # Data children only: dunders, methods and the len() entry (in the type line) are noise here.
    data = [c for c in value.children
            if c.group is None and not (c.access is None and c.name == "len()")]
    shown: List[Child] = data[:_CHILDREN_SHOWN]
    out = []
    indent = "  " * depth
    for child in shown:
        out.append(f"{indent}- {markup.code_span(child.name)}: {markup.code_span(short(child.value))}")
        out += _children(child.value, depth + 1, markup)
    rest = len(data) - len(shown) + value.more
    if rest > 0:
        out.append(f"{indent}- … {rest} more")
    return out


def _code(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}python\n{text}\n{fence}"


_BACKTICKS = re.compile("`+")
_LINE_BREAKS = re.compile("[\r\n]+")
# What can start an inline construct (code, emphasis, link, image, HTML, entity,
# strikethrough) mid-line; CommonMark shows a backslash-escaped one as itself.
_ACTIVE = re.compile(r"([\\`*_\[\]<>&~])")


def code_span(text: str) -> str:
    """Inline code showing ``text`` as written, whatever it holds (CommonMark's rules).

    The fence is one backtick longer than the longest run inside, so no run
    closes it; a space pads text that starts or ends with a backtick or a space
    (one each side is stripped when rendered); line breaks become spaces, since
    a blank line would end the paragraph and leave the rest as live Markdown.
    """
    text = _LINE_BREAKS.sub(" ", text)
    if not text.strip(" "):
        return "` `" if not text else f"`{text}`"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def escape(text: Optional[str]) -> str:
    """Plain text for Markdown, shown as written: no link, image, HTML or emphasis can start in it."""
    return _ACTIVE.sub(r"\\\1", _LINE_BREAKS.sub(" ", text or ""))
