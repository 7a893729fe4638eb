"""Hover: the captured value of a name, attribute chain or literal subscript, from a real dump."""
from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from ..trust.test_xversion import _venv
from .lsp_support import col_of, crash, diagnostics, hover_text, line_of, open_file, start

pytestmark = pytest.mark.asyncio

CART = """\
    LIMITS = {"max": 10, "min": 1}


    class Cart:
        def __init__(self):
            self.items = ["apple", "pear"]
            self.owner = "ann"

        def total(self, prices):
            api_token = "hunter2-secret"
            count = len(self.items)  # count line
            table = {"key": [1, 2, 3], "deep": {"a": {"b": {"c": 1}}}}
            leaf = table["deep"]["a"]["b"]["c"]  # leaf line
            limit = LIMITS["max"]  # limit line
            return prices[self.items[0]] / (count - 2 + table["key"][0] - 1)  # crash


    def unused(value):
        return value  # not captured


    cart = Cart()
    print(cart.total({"apple": 3}))  # call
    """


@pytest_asyncio.fixture
async def cart(client: LanguageClient, workspace: Path) -> Path:
    crash(workspace, CART)
    prog = workspace / "prog.py"
    await start(client, workspace)
    await diagnostics(client, open_file(client, prog))
    return prog


async def hover_at(client: LanguageClient, prog: Path, marker: str, text: str,
                   offset: int = 0) -> str:
    pos = col_of(prog, marker, text)
    got = await hover_text(client, prog.as_uri(),
                           types.Position(pos.line, pos.character + offset))
    assert got is not None, f"no hover on {text!r}"
    return got


async def test_local_value_with_type(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "# crash", "count")
    assert text.startswith("**count**: `int`")
    assert "```python\n2\n```" in text
    assert "local in Cart.total()" in text and "innermost frame" in text


async def test_range_is_the_expression(client: LanguageClient, cart: Path) -> None:
    pos = col_of(cart, "# crash", "self.items[0]")
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(cart.as_uri()), types.Position(pos.line, pos.character + 6)))
    assert result is not None and result.range is not None
    assert (result.range.start.character, result.range.end.character) == \
        (pos.character, pos.character + len("self.items"))


async def test_attribute_chain(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "# crash", "items[0]", offset=1)
    assert text.startswith("**self.items**: `list` · len 2")
    assert "['apple', 'pear']" in text
    assert "- `0`: `'apple'`" in text


async def test_literal_subscripts(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "# crash", '"key"')
    assert text.startswith('**table\\["key"\\]**: `list` · len 3')
    assert "[1, 2, 3]" in text
    text = await hover_at(client, cart, "# crash", "[0] - 1")
    assert text.startswith('**table\\["key"\\]\\[0\\]**: `int`') and "\n1\n" in text
    text = await hover_at(client, cart, "# crash", "[self.items[0]]", offset=len("[self.items["))
    assert text.startswith("**self.items\\[0\\]**: `str`") and "'apple'" in text


async def test_chain_past_the_preview(client: LanguageClient, cart: Path) -> None:
    """Previews hold two levels of children: the hover shows how far the chain reaches."""
    text = await hover_at(client, cart, "# leaf line", '"c"')
    assert text.startswith("**table\\['deep'\\]\\['a'\\]**: `dict` · len 1")
    assert "*`table['deep']['a']['b']` is not in the captured preview*" in text
    assert "{'b': {'c': 1}}" in text


async def test_dict_value_shows_children(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "# crash", "prices")
    assert text.startswith("**prices**: `dict` · len 1")
    assert "- `'apple'`: `3`" in text


async def test_global_through_a_frame(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "# limit line", "LIMITS")
    assert text.startswith("**LIMITS**: `dict` · len 2") and "global in Cart.total()" in text
    text = await hover_at(client, cart, "# limit line", '"max"')
    assert text.startswith('**LIMITS\\["max"\\]**: `int`') and "\n10\n" in text


async def test_a_global_is_one_value_in_a_recursion(client: LanguageClient, workspace: Path) -> None:
    """A recursion's frames each list the local they held; a global, the one value they all read, is
    not listed again for each."""
    crash(workspace, """\
        STEP = 2

        def down(depth):
            return down(depth - STEP) if depth else 1 / depth  # line

        down(4)
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    await diagnostics(client, open_file(client, prog))
    local = await hover_at(client, prog, "# line", "depth")
    assert "In the other frames of this code: `2` (frame 3 of 4), `4` (frame 2 of 4)" in local, local
    text = await hover_at(client, prog, "# line", "STEP")
    assert text.startswith("**STEP**: `int`") and "global in down() · innermost frame" in text, text
    assert "other frames" not in text, text


async def test_redacted_value_says_so(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "api_token =", "api_token")
    assert "redacted" in text
    assert "hunter2" not in text


async def test_caller_frame_values(client: LanguageClient, cart: Path) -> None:
    text = await hover_at(client, cart, "# call", "cart")
    assert text.startswith("**cart**: `__main__.Cart`")
    assert "- `owner`: `'ann'`" in text
    assert "local in \\<module\\>() · frame 1 of 2" in text   # escaped: not an HTML tag


async def test_nothing_where_nothing_was_captured(client: LanguageClient, cart: Path) -> None:
    uri = cart.as_uri()
    # A builtin is not in any frame; a function that never ran has no frame; nor has blank space.
    assert await hover_text(client, uri, col_of(cart, "# count line", "len")) is None
    assert await hover_text(client, uri, col_of(cart, "# not captured", "value")) is None
    assert await hover_text(client, uri, types.Position(line_of(cart, "# crash"), 0)) is None


async def test_a_plain_text_client_gets_plain_text(client: LanguageClient, workspace: Path) -> None:
    """A client that shows hovers only as plain text shows every character as written:
    Markdown's fences, stars and backslashes would be noise in it."""
    crash(workspace, CART)
    prog = workspace / "prog.py"
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.text_document.hover is not None
    caps.text_document.hover.content_format = [types.MarkupKind.PlainText]
    uri = prog.as_uri()
    await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)]))
    await diagnostics(client, open_file(client, prog))
    pos = col_of(prog, "# crash", '"key"')
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), pos))
    assert result is not None and isinstance(result.contents, types.MarkupContent)
    assert result.contents.kind == types.MarkupKind.PlainText
    assert result.contents.value.splitlines() == [
        'table["key"]: list · len 3', "", "[1, 2, 3]", "", "- 0: 1", "- 1: 2", "- 2: 3", "",
        "local in Cart.total() · innermost frame · traceback.pkl"]
    text = await hover_text(client, uri, col_of(prog, "# call", "cart"))
    assert text is not None and "local in <module>() · frame 1 of 2" in text
    assert not {"`", "*", "\\"} & set(text), text


async def test_names_inside_f_strings(client: LanguageClient, workspace: Path) -> None:
    """A crash line's message is often an f-string: the names in its fields have their values,
    whichever Python tblsp runs on (before 3.12 an f-string is one token); a `!r` is no name."""
    crash(workspace, """\
        def pay(total, r):
            raise ValueError(f"cannot pay {total!r:>{r}} of {r + 1}")  # crash
        pay(12, 5)
        """)
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    await diagnostics(client, uri)
    text = await hover_at(client, prog, "# crash", "total")
    assert text.startswith("**total**: `int`") and "\n12\n" in text
    for field in ("{r}", "{r + 1}"):
        text = await hover_at(client, prog, "# crash", field, offset=1)
        assert text.startswith("**r**: `int`") and "\n5\n" in text
    assert await hover_text(client, uri, col_of(prog, "# crash", "r:>")) is None


async def test_a_source_newer_than_the_servers_python(client: LanguageClient, workspace: Path) -> None:
    """A dump of a program written in syntax newer than the Python tblsp runs on (3.12's
    generics, seen from the suite's 3.11): its defs are found by their indentation, so the
    lines above the crash have their values and the call site its arguments, as when it parses."""
    crash(workspace, """\
        type Amount = int


        def withdraw[T](balance: T, amount: Amount, *, note=(1, 2)):
            fee = 2  # fee line
            raise ValueError(f"insufficient funds: {balance} < {amount + fee}")  # crash


        withdraw(88, 200)  # call
        """, python=str(_venv("3.12.1")))
    prog = workspace / "prog.py"
    await start(client, workspace)
    uri = open_file(client, prog)
    called = [d for d in await diagnostics(client, uri) if d.range.start.line == line_of(prog, "# call")]
    assert [d.message for d in called] == \
        ["called from here: `withdraw(88, 200)` with balance=88, amount=200, note=(1, 2)"]
    text = await hover_at(client, prog, "# fee line", "fee")
    assert text.startswith("**fee**: `int`") and "\n2\n" in text
