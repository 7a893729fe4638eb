"""Turns captured value previews into the short texts and Markdown an editor shows."""
from __future__ import annotations

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


def describe(value: Value) -> str:
    """The type line of a value: class, length and shape."""
    parts = [f"`{value.qualtype or value.type}`"]
    if value.length is not None:
        parts.append(f"len {value.length}")
    if value.shape is not None:
        parts.append("shape " + "×".join(str(n) for n in value.shape))
    return " · ".join(parts)


def hover(expr: str, value: Value, where: str, beyond: Optional[str] = None) -> str:
    """The Markdown of a hover: name and type, the value, its children to a small depth.

    `beyond` names the expression the user pointed at when the preview ends before it.
    """
    lines = [f"**{_escape(expr)}**: {describe(value)}", ""]
    if beyond is not None:
        lines += [f"*`{inline_code(beyond)}` is not in the captured preview*", ""]
    if value.redacted is not None:
        lines.append(f"*redacted by the capture rule {_escape(value.redacted)}*")
    elif value.missing is not None:
        lines.append(f"*{_escape(value.missing)}*")
        if value.repr:
            lines += ["", _code(value.repr)]
    else:
        lines.append(_code(value.repr))
    tree = _children(value, 0)
    if tree:
        lines += [""] + tree
    lines += ["", f"*{where}*"]
    return "\n".join(lines)


def _children(value: Value, depth: int) -> List[str]:
    if value.children is None or depth >= _HOVER_DEPTH:
        return []
    # Data children only: dunders, methods and the len() entry (in the type line) are noise here.
    data = [c for c in value.children
            if c.group is None and not (c.access is None and c.name == "len()")]
    shown: List[Child] = data[:_CHILDREN_SHOWN]
    out = []
    indent = "  " * depth
    for child in shown:
        out.append(f"{indent}- `{inline_code(child.name)}`: `{inline_code(short(child.value))}`")
        out += _children(child.value, depth + 1)
    rest = len(data) - len(shown) + value.more
    if rest > 0:
        out.append(f"{indent}- … {rest} more")
    return out


def _code(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}python\n{text}\n{fence}"


def inline_code(text: str) -> str:
    """`text` made safe inside inline code, which cannot hold a backtick."""
    return text.replace("`", "ˋ")


def _escape(text: Optional[str]) -> str:
    text = text or ""
    for ch in "\\`*_[]<>":
        text = text.replace(ch, "\\" + ch)
    return text
