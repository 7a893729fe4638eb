"""Canaries: a secret from outside the program, in ten shapes, must appear nowhere in the dump."""
from __future__ import annotations

import secrets
from pathlib import Path

from ..hostile.harness import base_env, load_fresh, members, run_tbdump, write_program

# The secret enters as real secrets do: an environment variable, a file, argv.
PROGRAM = '''
    import dataclasses, os, sys
    DB_PASSWORD = os.environ["APP_PASSWORD"]                     # global
    class Account:
        def __init__(self, key): self.api_key = key               # object attribute
    class Slotted:
        __slots__ = ("secret", "user")
        def __init__(self, v): self.secret = v; self.user = "bob"  # __slots__ attribute
    @dataclasses.dataclass
    class Config:
        user: str
        token: str                                                  # dataclass field
    def make_closure(v):
        auth_token = v                                              # closure cell
        def use():
            return auth_token
        return use
    def handler(**kwargs):                                          # kwargs
        with open(sys.argv[1]) as fh:
            client_secret = fh.read().strip()                       # local, from a file
        password = os.environ["APP_PASSWORD"]                       # local, from the environment
        cli_token = sys.argv[sys.argv.index("--token") + 1]        # local, from argv
        nested = {"db": {"primary": {"password": client_secret}}}   # nested dict key
        account = Account(password)
        slotted = Slotted(cli_token)
        config = Config("bob", password)
        use = make_closure(password)
        rows = [{"user": "a", "secret": password}, {"user": "b", "passwd": password}]  # list of dicts
        env = os.environ                                            # env var (via os.environ)
        copy_under_innocent_name = password
        raise RuntimeError("request failed")
    handler(user="bob", api_key=os.environ["APP_PASSWORD"])
'''


def test_canary_appears_nowhere_in_the_dump(tmp_path: Path) -> None:
    canary = "CANARY" + secrets.token_hex(12)
    (tmp_path / "secret.txt").write_text(canary + "\n")
    prog = write_program(tmp_path, PROGRAM)
    env = base_env(APP_PASSWORD=canary)
    result = run_tbdump(prog, ["secret.txt", "--token", canary], env)
    assert result.returncode == 1, result
    dump = tmp_path / "traceback.pkl"
    assert canary.encode() not in dump.read_bytes()
    seen = dict(members(dump))
    assert {"safe", "objects", "objects.idx"} <= set(seen)
    for name, data in seen.items():
        for form in (canary.encode(), canary.encode("utf-16-le"), canary.encode()[::-1]):
            assert form not in data, "the canary is in member %r" % name

    # Redacted values stay visible as redacted, with name and type, never a gap.
    loaded, report = load_fresh(dump, tmp_path, env)
    assert report is not None, loaded
    handler = [f for f in report["frames"] if f["name"] == "handler"][0]
    for name in ("password", "client_secret", "cli_token", "kwargs", "nested", "account", "slotted",
                 "config", "use", "rows", "env", "copy_under_innocent_name"):
        assert name in handler["vars"]
    assert handler["resolved"]["password"] == ["Placeholder", True]
    assert handler["resolved"]["config"] == ["Config", False]   # the object loads, its token does not
    assert handler["resolved"]["rows"] == ["list", False]


def test_redaction_can_be_configured_and_turned_off(tmp_path: Path) -> None:
    canary = "CANARY" + secrets.token_hex(12)
    prog = write_program(tmp_path, '''
        import os
        def f():
            customer_number = os.environ["VALUE"]
            header = "Bearer " + os.environ["VALUE"]
            password = os.environ["OTHER"]
            raise RuntimeError("x")
        f()
    ''')
    # Added name and value pattern hide it; "password" removed from the list shows it.
    other = "OTHER" + secrets.token_hex(12)
    env = base_env(VALUE=canary, OTHER=other, TBDUMP_REDACT_ADD="customer_number",
                   TBDUMP_REDACT_PATTERNS=r"Bearer \S+", TBDUMP_REDACT_REMOVE="password")
    run_tbdump(prog, [], env)
    safe = dict(members(tmp_path / "traceback.pkl"))["safe"].decode()
    assert "name matches 'customernumber'" in safe and "value matches /Bearer \\\\S+/" in safe
    assert canary not in safe
    assert other in safe  # `password` was taken off the list
    run_tbdump(prog, [], base_env(VALUE=canary, OTHER=other, TBDUMP_REDACT="0"))
    assert canary.encode() in (tmp_path / "traceback.pkl").read_bytes()
