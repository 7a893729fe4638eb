"""tbdap on fuzzed dumps (tests/trust/fuzz_dumps.py): a damaged one is refused at launch with one
error response; one whose fields were changed within their types is browsed whole.

Every message is checked against the protocol's schema by the real DAP client, and every
request waits a bounded time: an internal error, a traceback or a hang fails the test.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from ..crafted import memory_cap
from ..trust import fuzz_dumps
from .dapclient import DapClient

SEED = 4242
VARIABLES = 150   # variables requests per dump: the first levels of every scope


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> List[fuzz_dumps.Seed]:
    return fuzz_dumps.make_seeds(tmp_path_factory.mktemp("seeds"))


def _answered(client: DapClient, command: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """The body of a request's response; a failure must be a sentence for the user, never a bug."""
    response = client.request(command, arguments)
    if not response["success"]:
        assert "Internal error" not in response["message"], (command, arguments, response["message"])
        return {}
    return response.get("body") or {}


def test_a_launch_of_a_damaged_dump_gets_one_error_response(
        seeds: List[fuzz_dumps.Seed], tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    for dump in fuzz_dumps.sample(seeds, tmp_path, 8, SEED, refused=True):
        client = tbdap(preexec_fn=memory_cap())
        client.initialize()
        response = client.request("launch", {"dumpFile": str(dump)})
        assert not response["success"], (dump.name, response)
        error = response["body"]["error"]
        assert error["showUser"] and error["format"] == response["message"], (dump.name, response)
        assert response["message"].startswith("%s: " % dump) and "\n" not in response["message"], response
        assert "Internal error" not in response["message"], response
        assert not client.events("initialized") and "Traceback" not in client.stderr, (dump.name, client.stderr)


def test_a_dump_whose_fields_were_changed_within_their_types_is_browsed_whole(
        seeds: List[fuzz_dumps.Seed], tbdap: Callable[..., DapClient], tmp_path: Path) -> None:
    for dump in fuzz_dumps.sample(seeds, tmp_path, 8, SEED, refused=False, only=fuzz_dumps.READABLE):
        client = tbdap(preexec_fn=memory_cap())
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(dump)})
        _answered(client, "exceptionInfo", {"threadId": stopped["body"]["threadId"]})
        _answered(client, "modules", {})
        _answered(client, "loadedSources", {})
        budget = [VARIABLES]

        def expand(reference: int) -> None:
            for variable in _answered(client, "variables", {"variablesReference": reference}).get("variables", []):
                if variable["variablesReference"] and budget[0] > 0:
                    budget[0] -= 1
                    expand(variable["variablesReference"])
        for thread in client.ok("threads")["threads"]:
            for frame in _answered(client, "stackTrace", {"threadId": thread["id"]}).get("stackFrames", [])[:20]:
                source = frame.get("source") or {}
                if source.get("sourceReference"):
                    _answered(client, "source", {"source": source, "sourceReference": source["sourceReference"]})
                if frame.get("presentationHint") == "label":
                    continue
                for scope in _answered(client, "scopes", {"frameId": frame["id"]}).get("scopes", []):
                    expand(scope["variablesReference"])
        assert "Traceback" not in client.stderr and "internal error" not in client.stderr, (dump.name, client.stderr)
