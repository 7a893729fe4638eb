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
        def refreshed(client: LanguageClient, params: Any, method: str = method) -> None:
            client.refreshes.append(method)   # type: ignore[attr-defined]
        lsp_client.feature(method)(refreshed)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations = params.registrations   # type: ignore[attr-defined]

    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


