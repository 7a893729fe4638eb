"""Canaries: a secret from outside the program, in ten shapes, must appear nowhere in the dump."""
from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import pytest

import tbdump
from tbdump.preview import ENVIRON_RULE

from ..hostile.harness import PYTHON, REPO, base_env, load_fresh, members, run, run_tbdump, write_program

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
        wide = {"field_%d" % i: i for i in range(60)}               # a long dict's keys
        wide["session_key"] = cli_token[::-1]                        # a secret no other name holds
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
                 "config", "use", "rows", "env", "copy_under_innocent_name", "wide"):
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
            orders = {"order_%d" % i: i for i in range(60)}
            orders["customer_number"] = os.environ["VALUE"][::-1]  # a secret no other name holds
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
    assert canary not in safe and canary[::-1].encode() not in (tmp_path / "traceback.pkl").read_bytes()
    assert other in safe  # `password` was taken off the list
    # Turned off: `password`, which the default list hides, is stored (customer_number, which
    # only the added name hid, would be stored either way).
    run_tbdump(prog, [], base_env(VALUE=canary, OTHER=other, TBDUMP_REDACT="0"))
    safe = dict(members(tmp_path / "traceback.pkl"))["safe"].decode()
    assert other in safe and canary in safe and "<redacted" not in safe



def test_added_names_of_digits_or_other_letters_are_found_among_many_keys(tmp_path: Path) -> None:
    """A long dict's joined keys are searched for an entry only where they hold the entry's
    rarest letter: an added entry with a digit or a letter beyond English ones is found too,
    past the keys its preview shows (where only that search finds it)."""
    canary = "CANARY" + secrets.token_hex(12)
    prog = write_program(tmp_path, '''
        import os
        def f():
            fields = [("field_%d" % i, i) for i in range(100)]   # keys far past 256 characters
            accented = dict(fields + [("API_CL\\u00c9", os.environ["VALUE"])])
            numbered = dict(fields + [("pin-2", os.environ["VALUE"][::-1])])
            raise RuntimeError("x")
        f()
    ''')
    run_tbdump(prog, [], base_env(VALUE=canary, TBDUMP_REDACT_ADD="cl\u00e9,pin2"))
    dump = tmp_path / "traceback.pkl"
    for name, member in members(dump):
        assert canary.encode() not in member and canary[::-1].encode() not in member, name
    variables = tbdump.load(dump).frames[-1].locals
    assert variables["accented"]["API_CL\u00c9"] == "<redacted: name matches 'cl\u00e9'>"
    assert variables["numbered"]["pin-2"] == "<redacted: name matches 'pin2'>"

# -- the red-team findings: each program crashes as a real one would, and the canary ----
# -- must appear in no member of the dump, in no encoding, nor in any loaded object ----

# Loads a dump apart, resolves every value it holds (so the object layer is unpickled),
# and says where the canary (argv[2]) shows: in a repr, an attribute, an exception's args.
HUNTER = r'''
import json, sys, tbdump
path, canary = sys.argv[1], sys.argv[2]
dump = tbdump.load(path)
hits, values = [], {}
def look(where, obj):
    if isinstance(obj, type(json)):
        return repr(obj)   # a module is this process's own
    texts = []
    for get in (repr, lambda o: repr(vars(o)), lambda o: repr(o.args), lambda o: repr(o.__notes__)):
        try:
            texts.append(get(obj))
        except BaseException:
            pass
    if any(canary in t for t in texts):
        hits.append(where)
    return texts[0] if texts else "?"
def walk_values(where, variables):
    for name, value in variables.items():
        if canary in value.repr:
            hits.append(where + "." + name + " (preview)")
        values[where + "." + name] = look(where + "." + name, dump.resolve(value))
for n, record in enumerate(dump.exceptions):
    for text in [record.message] + list(record.notes):
        if canary in text:
            hits.append("exception %d text" % n)
    if record.value is not None:
        values["exception %d" % n] = look("exception %d" % n, dump.resolve(record.value))
for thread in dump.threads:
    for frame in thread.frames:
        walk_values("%s:%s" % (thread.name, frame.name), frame.variables)
for key, names in dump.namespaces.items():
    walk_values(key, names)
print(json.dumps({"hits": hits, "values": values, "traceback": dump.traceback_text,
                  "safe_reason": dump.safe_reason}))
'''

FORMS = ("utf-8", "utf-16-le", "utf-32-le")


def new_canary() -> str:
    return "CANARY" + secrets.token_hex(12)


def dump_nowhere(tmp_path: Path, source: str, canary: str, env: Dict[str, str], args: Sequence[str] = (),
                 files: Optional[Dict[str, str]] = None, status: int = 1) -> Dict[str, Any]:
    """Run ``source`` under ``python -m tbdump``; assert the canary is in no member (as
    UTF-8, UTF-16 or UTF-32, as numpy holds text) and in no loaded object; the loaded values."""
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    prog = write_program(tmp_path, source)
    result = run_tbdump(prog, list(args), env)
    assert result.returncode == status, result
    dump = tmp_path / "traceback.pkl"
    seen = dict(members(dump))
    assert {"safe", "objects", "objects.idx"} <= set(seen)
    for name, data in seen.items():
        for form in FORMS:
            assert canary.encode(form) not in data, "the canary is in member %r as %s" % (name, form)
    loaded = run([PYTHON, "-c", HUNTER, str(dump), canary], tmp_path, dict(env, PYTHONPATH=str(REPO)))
    assert loaded.returncode == 0, loaded
    report = json.loads(loaded.stdout)
    assert report["safe_reason"] is None and report["hits"] == [], report["hits"]
    return report


def test_a_secret_inside_a_longer_string_is_scrubbed_in_the_object_layer(tmp_path: Path) -> None:
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os, threading
        class AuthError(Exception):
            pass
        class Connection:
            def __init__(self, dsn):
                self.dsn = dsn
                self.lock = threading.Lock()
            def __repr__(self):
                return "<Connection %s>" % self.dsn
            def __reduce__(self):
                raise TypeError("cannot pickle a connection to " + self.dsn)
        def login(user):
            token = os.environ["APP_TOKEN"]
            password = os.environ["APP_TOKEN"]
            dsn = f"postgres://app:{password}@db.internal/prod"   # built from a secret
            conn = Connection(dsn)                               # a placeholder, repr and reason
            try:
                raise ValueError("token rejected: " + token)
            except ValueError as first:
                error = AuthError(f"bad token {token} for {user}")
                error.add_note("while using " + token)
                group = ExceptionGroup("many", [KeyError("no " + token), ValueError(token)])
                raise error from group
        login("bob")
    ''', canary, base_env(APP_TOKEN=canary))
    assert "AuthError: bad token <redacted> for bob" in report["traceback"]
    assert report["values"]["exception 0"] == "AuthError('bad token <redacted> for bob')"
    assert report["values"]["MainThread:login.dsn"] == "'postgres://app:<redacted>@db.internal/prod'"


def test_a_secret_passed_on_under_another_name_is_hidden_from_the_first_record(tmp_path: Path) -> None:
    # The crash frame is captured first: its `pw` and `value` are pickled before the
    # caller's `password`, `config["api_key"]` and `account.secret` are met by name.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import collections, os
        Credentials = collections.namedtuple("Credentials", "user password")
        class Account:
            __slots__ = ("user", "secret")
            def __init__(self, secret):
                self.user, self.secret = "bob", secret
        class Settings:
            def __init__(self, key):
                self.api_key = key
            def __getattr__(self, name):          # never run by redaction
                raise RuntimeError("looked up " + name)
        DEFAULTS = {"client_secret": os.environ["APP_SECRET"] + "g"}
        def connect(host, pw, value, other, more, last, first):
            raise ConnectionRefusedError("cannot reach " + host)
        def main():
            password = os.environ["APP_SECRET"] + "a"
            config = {"api_key": os.environ["APP_SECRET"] + "b"}
            account = Account(os.environ["APP_SECRET"] + "c")
            settings = Settings(os.environ["APP_SECRET"] + "d")
            creds = Credentials("bob", os.environ["APP_SECRET"] + "e")
            params = [("user", "bob"), ("password", os.environ["APP_SECRET"] + "h")]   # as urlencode takes them
            connect("db", password, config["api_key"], account.secret, settings.api_key, creds.password,
                    DEFAULTS["client_secret"])
        main()
    ''', canary, base_env(APP_SECRET=canary))
    assert "<redacted" in report["values"]["MainThread:connect.pw"]


def test_named_fields_of_nested_containers_are_redacted(tmp_path: Path) -> None:
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import collections, dataclasses, os, types
        Creds = collections.namedtuple("Creds", "user password")
        @dataclasses.dataclass(frozen=True, slots=True)
        class Cfg:
            host: str
            token: str
        def c(tag):
            return os.environ["VALUE"] + tag
        def main():
            services = {"db": [Creds("u", c("1")), Cfg("h", c("2")),
                               collections.OrderedDict(password=c("3")),
                               collections.defaultdict(str, {"token": c("4")}),
                               types.MappingProxyType({"secret": c("5")})]}
            raise RuntimeError("x")
        main()
    ''', canary, base_env(VALUE=canary))
    services = report["values"]["MainThread:main.services"]   # each loads, its secret replaced
    for shown in ("Creds(user='u', password=\"<redacted: name matches 'password'>\")",
                  "Cfg(host='h', token=\"<redacted: name matches 'token'>\")",
                  "OrderedDict([('password', \"<redacted: name matches 'password'>\")])",
                  "{'token': \"<redacted: name matches 'token'>\"}"):
        assert shown in services, services


def test_a_value_holding_a_secret_is_one_object_wherever_it_is_held_and_may_hold_itself(tmp_path: Path) -> None:
    # What held a secret was written as a persistent id, which pickle writes again at each
    # reference and never memoizes: the request came back as another copy at each, and the
    # state, which holds itself, was lost whole ("nested too deeply to pickle"), `seen` with it.
    canary = new_canary()
    env = base_env(VALUE=canary)
    dump_nowhere(tmp_path, '''
        import os
        def inner(seen, depth):
            if depth:
                return inner(seen, depth - 1)
            raise RuntimeError("request failed")
        def handler():
            request = {"user": "bob", "password": os.environ["VALUE"]}
            state = {"token": os.environ["VALUE"], "requests": [request]}
            state["self"] = state
            body = bytearray(os.environ["VALUE"].encode())
            seen = [request, request, body, body]
            inner(seen, 3)
        handler()
    ''', canary, env)
    asked = ('p seen[0] is seen[1], seen[2] is seen[3]\n'
             'p seen[0]["password"]\n'
             'up 4\n'
             'p request is seen[0], state["self"] is state, state["requests"][0] is request, state["token"]\n')
    shown = subprocess.run([PYTHON, "-m", "tbdebug", "traceback.pkl"], cwd=str(tmp_path), input=asked,
                           env=dict(env, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=120)
    answers = shown.stdout.split("(Pdb) ")[1:]
    assert answers[0] == "(True, True)\n", shown
    assert answers[1] == "\"<redacted: name matches 'password'>\"\n", shown
    assert answers[3] == "(True, True, True, \"<redacted: name matches 'token'>\")\n", shown


def test_values_other_than_strings_under_a_secrets_name_are_hidden_in_reprs(tmp_path: Path) -> None:
    card = str(secrets.randbelow(9 * 10 ** 15) + 10 ** 15)   # 16 digits, as a card number
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os, urllib.parse
        def get(url, **kwargs):
            raise ConnectionError("refused")
        def charge(payment):
            form = urllib.parse.parse_qs("user=bob&password=" + os.environ["VALUE"] + "q")
            nested = {"password": [os.environ["VALUE"] + "l"], "ok": 1}
            get("https://api", auth=("bob", os.environ["VALUE"] + "t"), params={"q": 1})
        charge({"amount": 10, "card_number": int(os.environ["CARD"]), "cvv": 737})
    ''', canary, base_env(VALUE=canary, CARD=card))
    assert report["values"]["MainThread:charge.payment"] == (
        "{'amount': 10, 'card_number': \"<redacted: name matches 'cardnumber'>\", 'cvv': 737}")
    safe = dict(members(tmp_path / "traceback.pkl"))["safe"]
    assert card.encode() not in safe and card.encode() not in (tmp_path / "traceback.pkl").read_bytes()
    assert "'auth': ('bob', '<redacted>')" in safe.decode()


def test_copies_of_the_environment_keep_names_only(tmp_path: Path) -> None:
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os, subprocess
        def run(cmd, **kwargs):
            raise FileNotFoundError(cmd[0])
        def main():
            env = os.environ.copy()
            env2 = dict(os.environ)
            holder = [os.environ, 1]
            run(["migrate"], env={**os.environ, "MODE": "1"})
        main()
    ''', canary, base_env(APP_CONFIG=canary))   # an innocent name: only the environment holds it
    dump = tbdump.load(tmp_path / "traceback.pkl", objects=False)
    shown = dump.exception.frames[-2].variables
    for copy in ("env", "env2"):
        items = [child.value for child in shown[copy].children or [] if child.name != "len()"]
        assert items and all(item.redacted == ENVIRON_RULE for item in items), shown[copy]
    # What the program added is its own, shown as any dict's items are.
    assert "'MODE': '1'" in report["values"]["MainThread:run.kwargs"]
    assert "'APP_CONFIG': '<redacted: environment variable>'" in report["values"]["MainThread:run.kwargs"]


# A WSGI app served by wsgiref (as Django's runserver serves it): its server copies the process's
# environment into each request's environ, next to the request's own items.
WSGI_SERVER = '''
    import os, threading, urllib.error, urllib.request
    from wsgiref.simple_server import WSGIRequestHandler, make_server
    failed = []
    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass
    def view(environ):
        prices = {1: 3}
        return prices[int(environ["PATH_INFO"].rsplit("/", 1)[1])]
    def app(environ, start_response):
        try:
            body = b"%d" % view(environ)
        except KeyError as exc:
            failed.append(exc)   # raised again, uncaught, once the server has answered
            raise
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    serving = threading.Thread(target=server.handle_request)
    serving.start()
    with open("secret.txt") as fh:   # not in the environment: the loader's wsgiref would hold it
        password = fh.read()
    request = urllib.request.Request("http://127.0.0.1:%d/price/7?q=1" % server.server_port, headers={
        "Cookie": "sessionid=" + password + "c", "Authorization": "Bearer " + password + "a", "X-Mode": "1"})
    try:
        urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        status = error.code
    serving.join()
    raise failed[0]
'''


def test_a_wsgi_requests_environ_hides_the_environments_values_and_the_requests_secrets_alone(
        tmp_path: Path) -> None:
    # The request's environ is a copy of the environment: it was hidden whole, PATH_INFO and
    # REQUEST_METHOD with it. Only the environment's variables and the secrets' names are hidden.
    canary = new_canary()
    # A few variables, whatever the machine's: wsgiref puts the environment's before the
    # request's items, and the preview's repr stops after 20 (a CI runner's or xdist's
    # environment pushed PATH_INFO past it).
    env = {k: v for k, v in base_env(APP_MODE="blue").items()
           if k in ("PATH", "HOME", "APP_MODE", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE")}
    dump_nowhere(tmp_path, WSGI_SERVER, canary, env, files={"secret.txt": canary})
    dump = tbdump.load(tmp_path / "traceback.pkl")
    view = dump.exception.frames[-1]
    shown = view.variables["environ"]
    assert view.name == "view" and shown.redacted is None, shown
    environment = [child.value for child in shown.children or [] if child.name.strip("'") in env]
    assert environment and all(item.redacted == ENVIRON_RULE for item in environment), shown
    assert "'PATH_INFO': '/price/7'" in shown.repr and "'REQUEST_METHOD': 'GET'" in shown.repr
    environ = view.locals["environ"]
    assert (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"]) == ("GET", "/price/7", "q=1")
    assert environ["HTTP_COOKIE"] == "<redacted: name matches 'cookie'>"
    assert environ["HTTP_AUTHORIZATION"] == "<redacted: name matches 'authorization'>"
    assert environ["HTTP_X_MODE"] == "1"
    assert environ["APP_MODE"] == environ["PATH"] == "<redacted: environment variable>"


def test_sources_are_stored_without_the_secrets_they_hold(tmp_path: Path) -> None:
    canary = new_canary()
    original = "SECRET_KEY = %r\nMAIL_PASSWORD = %r\nDATABASE_URI = %r\nDEBUG = Flase =\n" % (
        canary + "1", canary + "2", "postgres://app:%s3@db/prod" % canary)
    report = dump_nowhere(tmp_path, '''
        API_KEY = "sk_live_%s"
        STRIPE_KEY = API_KEY
        def load(filename):
            namespace = {}
            with open(filename) as fh:
                exec(compile(fh.read(), filename, "exec"), namespace)
        load("instance_secrets.py")
    ''' % canary, canary, base_env(), files={"instance_secrets.py": original})
    dump = tbdump.load(tmp_path / "traceback.pkl", objects=False)
    stored = {Path(name).name: source for name, source in dump.sources.items()}
    config = stored["instance_secrets.py"]
    assert config.sha256 == hashlib.sha256(original.encode()).hexdigest()  # of the file that ran
    assert config.text.count("\n") == original.count("\n") and "DEBUG = Flase =" in config.text
    assert 'API_KEY = "sk_live_<redacted>"' in stored["prog.py"].text or \
        'API_KEY = "<redacted>"' in stored["prog.py"].text
    assert dump.namespaces["__main__"]["STRIPE_KEY"].redacted == "the value of a redacted name"
    assert "<redacted" in report["values"]["__main__.STRIPE_KEY"]


def test_command_line_secrets_are_learned_and_patterns_apply_to_it(tmp_path: Path) -> None:
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import sys
        def run(args):
            raise RuntimeError("unknown command " + args[0])
        run(sys.argv[1:])
    ''', canary, base_env(TBDUMP_REDACT_PATTERNS=r"PATTERN\w+"),
        args=["sync", "--token", canary + "a", "--x=PATTERN" + canary, "DB_PASSWORD=" + canary + "b"])
    dump = tbdump.load(tmp_path / "traceback.pkl", objects=False)
    assert dump.metadata.argv[1:] == ["sync", "--token", "<redacted>", "--x=<redacted>",
                                      "DB_PASSWORD=<redacted>"]
    assert "<redacted" in report["values"]["MainThread:run.args"]


def test_command_line_secrets_given_as_bytes_or_paths_are_learned_too(tmp_path: Path) -> None:
    # A program (or a test driving it) may set sys.argv to bytes or paths: the secret they carry
    # is hidden from the metadata and from the copies the program holds under innocent names.
    canary = new_canary()
    dump_nowhere(tmp_path, '''
        import os, pathlib, sys
        sys.argv[1:] = [b"--token", os.environb[b"VALUE"] + b"a", b"--api-key=" + os.environb[b"VALUE"] + b"b",
                        pathlib.Path("DB_PASSWORD=" + os.environ["VALUE"] + "c")]
        def run(first, second, third):
            raise RuntimeError("unknown command")
        run(os.environ["VALUE"] + "a", os.environb[b"VALUE"] + b"b", str(sys.argv[-1]).split("=")[1])
    ''', canary, base_env(VALUE=canary))
    dump = tbdump.load(tmp_path / "traceback.pkl", objects=False)
    assert dump.metadata.argv[1:] == ["--token", "<redacted>", "--api-key=<redacted>", "DB_PASSWORD=<redacted>"]


def test_default_argument_values_named_like_secrets_are_not_pickled(tmp_path: Path) -> None:
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os
        def fetch(url, token=os.environ["VALUE"] + "d", *, password=os.environ["VALUE"] + "k", retries=3):
            return url                                   # never called: no frame names its defaults
        def main(handler):
            raise TimeoutError("https://api")
        main(fetch)
    ''', canary, base_env(VALUE=canary))
    assert report["values"]["MainThread:main.handler"].startswith("<function fetch")


def test_bytes_and_numpy_arrays_holding_a_secret(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    canary = new_canary()
    dump_nowhere(tmp_path, '''
        import os
        import numpy as np
        def main():
            password = os.environ["VALUE"].encode()
            buf = bytes(password)                      # an equal copy, under an innocent name
            mutable = bytearray(password)
            body = b'{"password": "' + password + b'"}'
            text = password.decode()
            words = np.array([text, "other"])          # UTF-32 inside
            raw = np.array([password, b"other"])
            raise ValueError("bad")
        main()
    ''', canary, base_env(VALUE=canary))


def test_urls_keep_everything_but_their_password_and_bearer_tokens_are_learned(tmp_path: Path) -> None:
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os
        def connect(url):
            raise ConnectionError("could not connect to " + url)
        def main():
            tok = os.environ["VALUE"] + "t"
            headers = {"Authorization": "Bearer " + tok}
            copy = tok
            db_url = "postgres://app:" + os.environ["VALUE"] + "@db.internal:5432/prod"
            connect(db_url)
        main()
    ''', canary, base_env(VALUE=canary))
    assert "could not connect to postgres://app:<redacted>@db.internal:5432/prod" in report["traceback"]
    assert report["values"]["MainThread:main.db_url"] == "'postgres://app:<redacted>@db.internal:5432/prod'"


def test_a_urls_query_parameters_named_like_secrets_are_hidden(tmp_path: Path) -> None:
    # An HTTP client's error names the URL it asked for: "?api_key=..." hides the value of
    # a secret that no variable of the program named (it came in as `key`).
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os
        class HTTPError(Exception):
            pass
        def fetch(base, key):
            url = base + "/v1/orders?page=2&api_key=" + key + "&sort=asc"
            raise HTTPError("401 Client Error: Unauthorized for url: " + url)
        fetch("https://api.example.com", os.environ["VALUE"])
    ''', canary, base_env(VALUE=canary))
    shown = "https://api.example.com/v1/orders?page=2&api_key=<redacted>&sort=asc"
    assert "Unauthorized for url: " + shown in report["traceback"]
    assert report["values"]["MainThread:fetch.url"] == repr(shown)


def test_values_a_text_writes_after_a_secrets_name_are_hidden(tmp_path: Path) -> None:
    # The secret came in as `key` and `value`, names no rule knows: only the texts the program
    # built say what it is, as a form body, JSON, an HTTP header, a log line, a config file.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import collections, json, os
        Login = collections.namedtuple("Login", "user password")   # its repr format: password=%r
        FORM = "user=%s&password=%s"                               # a template, not a secret
        def send(body, payload, request, line, config, key):
            raise PermissionError("rejected: " + body + " / " + line)
        def main():
            key = os.environ["VALUE"]
            value = os.environ["VALUE"] + "2"
            body = "user=bob&password=" + key + "&remember=1"
            payload = json.dumps({"user": "bob", "api_key": value})
            request = "POST /login HTTP/1.1\\r\\nHost: shop\\r\\nAuthorization: Token " + key + "\\r\\n\\r\\n"
            line = f"login failed user=bob session={value}3"
            raw = b"GET /v1 HTTP/1.1\\r\\nX-Api-Key: " + key.encode() + b"5\\r\\n\\r\\n"   # as a socket gives it
            with open("app.ini") as fh:
                config = fh.read()
            login = Login("bob", "x")
            send(body, payload, request, line, config, key)
        main()
    ''', canary, base_env(VALUE=canary), files={"app.ini": "[db]\nhost = db.internal\npassword = %s4\n" % canary})
    assert ("PermissionError: rejected: user=bob&password=<redacted>&remember=1 / login failed user=bob"
            " session=<redacted>") in report["traceback"]
    values = {name.split(".")[-1]: shown for name, shown in report["values"].items()
              if name.startswith("MainThread:main.")}
    assert values["body"] == "'user=bob&password=<redacted>&remember=1'"
    assert values["payload"] == """'{"user": "bob", "api_key": "<redacted>"}'"""
    assert values["request"] == "'POST /login HTTP/1.1\\r\\nHost: shop\\r\\nAuthorization: <redacted>\\r\\n\\r\\n'"
    assert values["raw"] == "b'GET /v1 HTTP/1.1\\r\\nX-Api-Key: <redacted>\\r\\n\\r\\n'"
    assert values["config"] == "'[db]\\nhost = db.internal\\npassword = <redacted>\\n'"
    assert "<redacted" in values["key"] and "<redacted" in values["value"]
    # Placeholders are code's: the template and a restored namedtuple's repr still work.
    assert values["login"] == "Login(user='bob', password=\"<redacted: name matches 'password'>\")"
    assert report["values"]["__main__.FORM"] == "'user=%s&password=%s'"


def test_values_named_in_texts_past_what_a_preview_shows_are_hidden_too(tmp_path: Path) -> None:
    # The preview reads a container's first items and a long text's ends; the pickling reads
    # all of them: texts past the 20th item of a long list, set or dict, bytes among them,
    # and the middle of a long bytes value, each with the only copy of its secret.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os
        def secret(n):
            return os.environ["VALUE"] + str(n)
        def main():
            lines = ["line %d" % i for i in range(100)] + ["user=bob&password=" + secret(1)]
            counts = {"k%d" % i: i for i in range(100)}
            counts["last"] = "api_key=" + secret(2)
            bodies = tuple(b"body %d" % i for i in range(100)) + (b"token=" + secret(3).encode(),)
            mixed = frozenset(range(100)) | {"password: " + secret(4)}
            raw = b"x" * 5000 + b" password=" + secret(5).encode() + b" " + b"y" * 5000
            raise RuntimeError("x")
        main()
    ''', canary, base_env(VALUE=canary))
    values = {name.split(".")[-1]: shown for name, shown in report["values"].items()
              if name.startswith("MainThread:main.")}
    assert values["lines"].endswith("'user=bob&password=<redacted>']")
    assert "'api_key=<redacted>'" in values["counts"]
    assert values["bodies"].endswith("b'token=<redacted>')")
    assert "'password: <redacted>'" in values["mixed"]


def test_ordinary_names_and_environment_values_are_not_taken_for_secrets(tmp_path: Path) -> None:
    prog = write_program(tmp_path, '''
        def parse(src):
            tokens = src.split()
            max_tokens = 2048
            author = "Jane Smith"
            authority = "registry"
            tokenizer = "words"
            record = {"user": "bob", "author": "Jane Smith", "platform": "ubuntu", "mode": "wayland"}
            api_token, oauth, authToken = "t-1234567", "o-1234567", "a-1234567"
            raise SyntaxWarning("unexpected word for user Jane Smith on ubuntu")
        parse("print x while y")
    ''')
    env = base_env(XDG_SESSION_CLASS="user", DESKTOP_SESSION="ubuntu", XDG_SESSION_TYPE="wayland",
                   GIT_AUTHOR_NAME="Jane Smith")
    assert run_tbdump(prog, [], env).returncode == 1
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert dump.exception.message == "unexpected word for user Jane Smith on ubuntu"
    frame = dump.exception.frames[-1]
    shown = {name: value.repr for name, value in frame.variables.items()}
    assert shown["tokens"] == "['print', 'x', 'while', 'y']" and shown["max_tokens"] == "2048"
    assert shown["author"] == shown["authority"].replace("registry", "Jane Smith") == "'Jane Smith'"
    assert shown["tokenizer"] == "'words'"
    assert shown["record"] == "{'user': 'bob', 'author': 'Jane Smith', 'platform': 'ubuntu', 'mode': 'wayland'}"
    assert frame.locals["record"]["user"] == "bob"           # keys stay keys in the object layer
    for name in ("api_token", "oauth", "authToken"):
        assert frame.variables[name].redacted, name


def test_command_options_cookie_strings_and_basic_auth_name_their_secrets(tmp_path: Path) -> None:
    # Round 2 of the red team: the secret came in as `key` and `pw`, innocent names; a command
    # line held as one string, a cookie string with an auth scheme, and an HTTP Basic header
    # (base64 of "user:password") are what say it is one.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import base64, os
        def run(cmd, prefs, headers):
            raise RuntimeError("deploy failed: " + cmd)
        def main():
            key = os.environ["VALUE"]
            pw = os.environ["VALUE"] + "2"
            cmd = "deploy --host db.internal --password=" + key + " --verbose"
            prefs = "theme=dark; Authorization=Bearer " + key + "3; lang=en"
            headers = {"Authorization": "Basic " + base64.b64encode(("bob:" + pw).encode()).decode()}
            line = "author=Jane tokens=5 max_tokens=2048"
            template = "Authorization: Bearer {token}"                # a format, not a secret
            run(cmd, prefs, headers)
        main()
    ''', canary, base_env(VALUE=canary))
    values = {name.split(".")[-1]: shown for name, shown in report["values"].items()
              if name.startswith("MainThread:main.")}
    assert "deploy failed: deploy --host db.internal --password=<redacted> --verbose" in report["traceback"]
    assert values["cmd"] == "'deploy --host db.internal --password=<redacted> --verbose'"
    assert values["prefs"] == "'theme=dark; Authorization=<redacted>; lang=en'"
    assert values["line"] == "'author=Jane tokens=5 max_tokens=2048'"   # ordinary names stay
    assert values["template"] == "'Authorization: Bearer {token}'"


def test_an_object_under_a_secrets_name_gives_up_what_it_holds(tmp_path: Path) -> None:
    # A cookie's Morsel and the program's own wrapper keep the secret in an attribute, not in
    # a container: reached by a secret's name, what they hold is a secret too, so the copy the
    # crash frame holds under an innocent name (pickled first) is hidden.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os
        from http.cookies import SimpleCookie
        class Key:
            def __init__(self, raw):
                self.raw, self.label = raw, "deploy key"
        def send(value, other):
            raise PermissionError("rejected")
        def main():
            cookie = SimpleCookie()
            cookie["sessionid"] = os.environ["VALUE"] + "1"
            api_key = Key(os.environ["VALUE"] + "2")
            send(cookie["sessionid"].value, api_key.raw)
        main()
    ''', canary, base_env(VALUE=canary))
    sent = {name.split(".")[-1]: shown for name, shown in report["values"].items()
            if name.startswith("MainThread:send.")}
    assert "<redacted" in sent["value"] and "<redacted" in sent["other"], sent


def test_a_log_records_arguments_are_read_with_its_message(tmp_path: Path) -> None:
    # logging keeps a call's message and arguments apart until a handler formats them: the
    # secret came in as `key`, and only "password=%s" says what the argument after it is.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import logging, os
        def emit(first, second, third):   # copies under innocent names, pickled first
            raise ConnectionError("log server down")
        def main():
            key = os.environ["VALUE"]
            record = logging.LogRecord("app", logging.INFO, __file__, 5, "login user=%s password=%s",
                                       ("bob", key), None)
            keyed = logging.LogRecord("app", logging.INFO, __file__, 6, "user=%(user)s api_key=%(k)r",
                                      ({"user": "bob", "k": key + "2"},), None)
            header = logging.LogRecord("app", logging.INFO, __file__, 7, "Authorization: Bearer %s",
                                       (key + "3",), None)
            plain = logging.LogRecord("app", logging.INFO, __file__, 8, "user=%s tries=%d", ("bob", 3), None)
            emit(key, key + "2", key + "3")
        main()
    ''', canary, base_env(VALUE=canary))
    assert "ConnectionError: log server down" in report["traceback"]
    frame = [f for f in tbdump.load(tmp_path / "traceback.pkl").frames if f.name == "main"][0]
    records = frame.locals
    hidden = "<redacted: a secret's value>"
    assert records["record"].getMessage() == "login user=bob password=" + hidden
    assert records["keyed"].getMessage() == "user=bob api_key=%r" % hidden
    assert records["header"].getMessage() == "Authorization: Bearer " + hidden
    assert records["plain"].getMessage() == "user=bob tries=3"     # what no secret's name precedes stays


def test_a_log_record_deep_in_a_handlers_queue_keeps_its_secret_too(tmp_path: Path) -> None:
    # Past what the learning pass reads (a frame's values and one level below): the record is
    # read as it is pickled, before its arguments are.
    canary = new_canary()
    dump_nowhere(tmp_path, '''
        import logging, os
        class Outbox:
            def __init__(self):
                self.queues = {"audit": [logging.LogRecord("app", logging.INFO, __file__, 5, "token=%s",
                                                           (os.environ["VALUE"],), None)]}
        def flush(outbox):
            raise ConnectionError("log server down")
        flush(Outbox())
    ''', canary, base_env(VALUE=canary))
    queued = tbdump.load(tmp_path / "traceback.pkl").frames[-1].locals["outbox"].queues["audit"][0]
    assert queued.getMessage() == "token=<redacted: a secret's value>"


def test_counts_and_ids_named_after_a_secret_are_numbers_not_secrets(tmp_path: Path) -> None:
    # A name whose last word counts (count, len, length, size, total) or numbers (id) what the
    # rest names holds a number that is not the secret; text under it is still one, as is a
    # long id (a numeric session key), and so is anything under "sessionid", one word.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import collections, os
        Usage = collections.namedtuple("Usage", "token_count sessionId")
        def bill(token_count, session_id, password_len, api_key_size, usage, stats, line,
                 session_id_text, big_session_id, sessionid):
            raise RuntimeError("over quota")
        bill(7, 99999, 12, 2.5, Usage(7, 42), {"token_count": 7, "session_id": 42, "api_token": os.environ["VALUE"]},
             "sent token_count=7 session_id=42", os.environ["VALUE"] + "1", 100000, 42)
    ''', canary, base_env(VALUE=canary), args=["--token-count", "7", "--session-id=42", "--password", canary])
    shown = {name.split(".")[-1]: value for name, value in report["values"].items()
             if name.startswith("MainThread:bill.")}
    # An id of 5 digits is shown, one of 6 (big_session_id below) is a secret: SECURITY.md's bound.
    assert (shown["token_count"], shown["session_id"], shown["password_len"], shown["api_key_size"]) == (
        "7", "99999", "12", "2.5")
    assert shown["usage"] == "Usage(token_count=7, sessionId=42)"
    assert shown["stats"] == """{'token_count': 7, 'session_id': 42, 'api_token': "<redacted: name matches 'token'>"}"""
    assert shown["line"] == "'sent token_count=7 session_id=42'"
    for secret, kind in (("session_id_text", "str"), ("big_session_id", "int"), ("sessionid", "int")):
        assert shown[secret].startswith("<%s: redacted (name matches 'session" % kind), (secret, shown[secret])
    dump = tbdump.load(tmp_path / "traceback.pkl", objects=False)
    assert dump.metadata.argv[-5:] == ["--token-count", "7", "--session-id=42", "--password", "<redacted>"]


def test_a_setting_that_names_a_cookie_header_or_cache_shows_the_name_not_a_secret_under_such_a_name(
        tmp_path: Path) -> None:
    # Django's SESSION_COOKIE_NAME, CSRF_HEADER_NAME and SESSION_CACHE_ALIAS hold names: hidden, they
    # were learned as secrets, and "default" was hidden from every text (the keys of CACHES). Under a
    # name ending in "name" or "alias", only a text no key could be is shown: a key (digits), a
    # passphrase (spaces) stay hidden.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import os
        def read(SESSION_COOKIE_NAME, CSRF_HEADER_NAME, SESSION_CACHE_ALIAS, caches, cookie_name, sessionAlias):
            raise KeyError(SESSION_COOKIE_NAME)
        read("sessionid", "HTTP_X_CSRFTOKEN", "default", {"default": {"BACKEND": "locmem"}},
             os.environ["VALUE"], "correct horse battery staple")
    ''', canary, base_env(VALUE=canary))
    shown = {name.split(".")[-1]: value for name, value in report["values"].items()
             if name.startswith("MainThread:read.")}
    assert [shown[name] for name in ("SESSION_COOKIE_NAME", "CSRF_HEADER_NAME", "SESSION_CACHE_ALIAS", "caches")] == [
        "'sessionid'", "'HTTP_X_CSRFTOKEN'", "'default'", "{'default': {'BACKEND': 'locmem'}}"]
    for secret in ("cookie_name", "sessionAlias"):
        assert shown[secret].startswith("<str: redacted (name matches "), (secret, shown[secret])
    dump = tbdump.load(tmp_path / "traceback.pkl", objects=False)
    assert dump.exception.message == "'sessionid'"


def test_a_setting_named_like_a_secret_that_names_a_module_hides_only_itself(tmp_path: Path) -> None:
    # Django's SESSION_ENGINE names the module of the session store's class: taken for a secret
    # copied everywhere, every class of that module lost its module's name and could not load.
    prog = write_program(tmp_path, '''
        from email.mime.text import MIMEText
        SESSION_ENGINE = "email.mime.text"
        def send(body):
            message = MIMEText(body)
            raise RuntimeError("mail server refused the message")
        send("hello")
    ''')
    assert run_tbdump(prog, [], base_env()).returncode == 1
    dump = tbdump.load(tmp_path / "traceback.pkl")
    frame = dump.exception.frames[-1]
    assert frame.variables["message"].repr.startswith("<email.mime.text.MIMEText object"), frame.variables["message"]
    assert frame.locals["message"].get_payload() == "hello"
    assert dump.frames[0].variables["SESSION_ENGINE"].redacted


def test_settings_whose_last_word_says_what_they_hold_are_shown_and_secrets_are_not(tmp_path: Path) -> None:
    # Django's settings named after what they configure (PASSWORD, AUTH, COOKIE, SESSION) hold no
    # secret where their last word says what they hold: a time, a model's or cookie's name, a path,
    # code, a flag. Each was hidden, and its text learned and hidden from every text ("auth.User").
    # A secret's shape under those names, and the genuine secrets beside them, stay hidden.
    canary = new_canary()
    report = dump_nowhere(tmp_path, '''
        import json.decoder, os
        def c(tag):
            return os.environ["VALUE"] + tag
        def configure(AUTH_USER_MODEL, PASSWORD_HASHERS, AUTH_PASSWORD_VALIDATORS, SESSION_COOKIE_AGE,
                      PASSWORD_RESET_TIMEOUT, CSRF_COOKIE_NAME, SESSION_COOKIE_PATH, SESSION_COOKIE_DOMAIN,
                      SESSION_COOKIE_SECURE, SESSION_COOKIE_HTTPONLY, SESSION_COOKIE_SAMESITE, user_repr,
                      SECRET_KEY, DATABASES, API_TOKEN, AUTH_TOKEN, API_KEY, WEBHOOK_SECRET, cookie, headers,
                      TOKEN_MODEL, SESSION_TOKEN_AGE, COOKIE_PATH, LEGACY_PASSWORD_HASHERS, AUTH_BACKENDS):
            raise RuntimeError("misconfigured")
        configure("auth.User", ["json.decoder.JSONDecoder", "json.JSONEncoder"],
                  [{"NAME": "json.decoder.JSONDecoder", "OPTIONS": {"min_length": 9}}], 1209600, 259200,
                  "csrftoken", "/", None, True, False, "Lax", "<User: auth.User bob>",
                  c("1"), {"default": {"NAME": "shop", "PASSWORD": c("2")}}, c("3"), c("4"), c("5"), c("6"),
                  "sessionid=" + c("7"), {"Authorization": "Bearer " + c("8")},
                  c("9"), c("10"), "/" + c("11"), [c("12")], ["json.decoder", c("13") + ".x.y"])
    ''', canary, base_env(VALUE=canary))
    shown = {name.split(".")[-1]: value for name, value in report["values"].items()
             if name.startswith("MainThread:configure.")}
    assert [shown[name] for name in ("AUTH_USER_MODEL", "PASSWORD_HASHERS", "AUTH_PASSWORD_VALIDATORS",
                                     "SESSION_COOKIE_AGE", "PASSWORD_RESET_TIMEOUT", "CSRF_COOKIE_NAME",
                                     "SESSION_COOKIE_PATH", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_SECURE",
                                     "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "user_repr")] == [
        "'auth.User'", "['json.decoder.JSONDecoder', 'json.JSONEncoder']",
        "[{'NAME': 'json.decoder.JSONDecoder', 'OPTIONS': {'min_length': 9}}]", "1209600", "259200",
        "'csrftoken'", "'/'", "None", "True", "False", "'Lax'", "'<User: auth.User bob>'"]
    assert shown["DATABASES"] == """{'default': {'NAME': 'shop', 'PASSWORD': "<redacted: name matches 'password'>"}}"""
    assert shown["headers"] == """{'Authorization': "<redacted: name matches 'authorization'>"}"""
    for secret in ("SECRET_KEY", "API_TOKEN", "AUTH_TOKEN", "API_KEY", "WEBHOOK_SECRET", "cookie", "TOKEN_MODEL",
                   "SESSION_TOKEN_AGE", "COOKIE_PATH", "LEGACY_PASSWORD_HASHERS", "AUTH_BACKENDS"):
        assert shown[secret].startswith("<"), (secret, shown[secret])
        assert "redacted" in shown[secret], (secret, shown[secret])
