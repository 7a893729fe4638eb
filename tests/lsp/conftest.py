"""Fixtures for tblsp's end-to-end tests: a real LSP client driving `python -m tblsp` over stdio."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig

from .lsp_support import ENV, SERVER, Client, make_client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV,
                                              client_factory=make_client))
async def client(lsp_client: Client) -> AsyncIterator[None]:
    yield
    await lsp_client.shutdown_session()
    server = lsp_client._server
    if server is not None and server.returncode is None:
        # Never initialized (the test failed first): pytest-lsp would wait for it forever.
        server.kill()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder; tests put crashed programs and dumps in it."""
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


