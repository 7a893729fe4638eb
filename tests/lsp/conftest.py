"""Fixtures for tblsp's end-to-end tests: a real LSP client driving `python -m tblsp` over stdio."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_support import ENV, SERVER


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient):
    lsp_client.refreshes = []   # type: ignore[attr-defined]

    for method in (types.WORKSPACE_CODE_LENS_REFRESH, types.WORKSPACE_INLAY_HINT_REFRESH,
                   types.WORKSPACE_INLINE_VALUE_REFRESH):
        def refreshed(ls: LanguageClient, params: Any, method: str = method) -> None:
            ls.refreshes.append(method)   # type: ignore[attr-defined]
        lsp_client.feature(method)(refreshed)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations = params.registrations   # type: ignore[attr-defined]

    yield
    await lsp_client.shutdown_session()
    server = lsp_client._server
    if server is not None and server.returncode is None:
        # Never initialized (the test failed first): pytest-lsp would wait for it forever.
        server.kill()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


