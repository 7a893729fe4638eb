"""tblsp on fuzzed dumps (tests/trust/fuzz_dumps.py) found in the workspace: at most one message
per bad file, and the server keeps serving every request on the crashed programs, also where
the damage is found only when a hover reads a module's globals.

Each request waits at most WAIT seconds: a server that hangs, fails a request or dies fails
the test.
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from lsprotocol import types

from ..trust import fuzz_dumps
from .lsp_support import WAIT, ask_about, capped_server, messages, open_file, start, until

pytestmark = pytest.mark.asyncio

SEED = 977


async def test_fuzzed_dumps_in_the_workspace(workspace: Path) -> None:
    seeds = fuzz_dumps.make_seeds(workspace)   # the crashed programs, beside their dumps (*.pkl: not shown)
    bad = fuzz_dumps.sample(seeds, workspace, 6, SEED, refused=True, suffix=".tbdump")
    read = fuzz_dumps.sample(seeds, workspace, 6, SEED, refused=False, only=fuzz_dumps.READABLE,
                             suffix=".tbdump")
    # Damaged where a hover first reads: a module's globals, a source's text.
    read += fuzz_dumps.sample(seeds, workspace, 6, SEED, refused=False, only=fuzz_dumps.LAZY, suffix=".tbdump")
    async with capped_server() as client:
        await asyncio.wait_for(start(client, workspace), WAIT)
        await until(lambda: all(any(p.name in m for m in messages(client)) for p in bad), "a message per bad dump")
        for dump in bad + read:
            said = [m for m in messages(client) if dump.name in m]
            assert len(said) <= 1, (dump.name, said)
            assert all("\n" not in m and "Traceback" not in m and "internal error" not in m for m in said), said
        for program in sorted(workspace.glob("*.py")):
            uri = open_file(client, program)
            lines = program.read_text().split("\n")
            for n, line in enumerate(lines):
                for name in re.finditer(r"[A-Za-z_]\w*", line):
                    await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
                        types.TextDocumentIdentifier(uri), types.Position(n, name.start()))), WAIT)
            await ask_about(client, uri, len(lines))
