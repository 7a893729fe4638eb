"""Crashes of programs holding the objects of popular libraries, dumped and looked at as a user does.

Each program in programs/ crashes holding what real programs hold: a pandas DataFrame of
10 000 rows and its Series (frames.py), a requests Session with credentials and the
request and response of its failed call (web.py), nested pydantic models with SecretStr
fields (models.py), a SQLAlchemy engine on sqlite with a session and ORM instances, and
one for a server with a password in its URL (database.py), attrs classes (records.py).
Each runs under ``python -m tbdump``; then the dump is loaded in another process
(``tbdump.load``, an audit hook watching for sockets, database connections, files
written), and replayed by tbdap next to the same program live under debugpy.

pandas, requests, pydantic and SQLAlchemy are not in the test venv: they are in one of
their own (requirements.txt), made once and cached under ~/.cache/tbdump (failing where
it cannot be made, offline); attrs is in the test venv, which runs records.py.

Where tbdap shows something other than debugpy on purpose, the difference is applied
here, by name (the rules of tests/dap/test_live_vs_replay.py apply too):

- REDACTED: a row named as the programs name their secrets (password, cookies, auth,
  api key) may be redacted, whole or in part, and all inside it; any other row only in part
  (never a Session hidden whole), where debugpy shows a secret of the program in it or tbdap
  marks a secret's field ("<redacted: name matches 'password'>").  No secret of the
  programs appears anywhere in tbdap's variables.
- OWN_PICKLING: a requests Response pickles itself without ``_next`` and with its content
  marked consumed (its ``__getstate__``/``__setstate__``): those rows are left out.
- BARE_ADDRESS: SQLAlchemy writes addresses without "0x" ("ClassManager ... at 7f12..."),
  normalised as the 0x ones are.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import tbdump
from ..conftest import REPO, cached_venv, env_for_child
from ..dap.dapclient import DapClient
from ..dap.test_live_vs_replay import FLAGS, variable_tree

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
# The modules each program imports, imported before the loading is watched.
IMPORTS = {"frames": "pandas", "web": "requests", "models": "pydantic,schemas",
           "database": "sqlalchemy,ledger,offline_dbapi", "records": "attr"}
SECRETS = ["basic-pass-1234", "sk-live-abcdef123456", "header-key-31337", "url-pass-5678", "query-key-2468",
           "cookie-value-4242", "model-pass-1357", "model-key-8642", "db-pass-9753", "attrs-pass-2468"]
BARE_ADDRESS = re.compile(r"\bat [0-9a-f]{9,}\b")
OWN_PICKLING = {"Response": {"next", "_next", "_content_consumed"}}
# What the programs name their secrets (REDACTED): the rows hidden whole, and all inside them.
SECRET_NAME = re.compile(r"(?i)password|cookie|auth|api.?key")
WHOLE = re.compile(r"""["']?<redacted""")


@pytest.fixture(scope="module")
def venv_python() -> Path:
    try:
        return cached_venv(HERE / "requirements.txt", "libraries")
    except RuntimeError as exc:  # offline: a skip would pass a run that tested no library
        pytest.fail(str(exc))


def python_for(scenario: str, venv_python: Path) -> Path:
    return Path(sys.executable) if scenario == "records" else venv_python


def child_env() -> Dict[str, str]:
    # The programs' own modules (ledger.py, schemas.py) importable where the dump is opened, as a
    # developer's checkout of the program makes them; one hash seed, so sets list alike.
    return env_for_child({"PYTHONPATH": "%s:%s" % (REPO, PROGRAMS), "PYTHONHASHSEED": "0"})


def crash(scenario: str, python: Path, folder: Path) -> Path:
    """Run the program under ``python -m tbdump`` in ``folder``, as a user would; its dump."""
    folder.mkdir()
    dump = folder / "traceback.pkl"
    ran = subprocess.run([str(python), *FLAGS, "-m", "tbdump", str(PROGRAMS / (scenario + ".py"))], cwd=str(folder),
                         env=child_env(), capture_output=True, text=True, timeout=60)
    assert (ran.returncode, ran.stderr.splitlines()[-1:]) == (1, ["Traceback dumped into: traceback.pkl"]), ran
    # Within the capture's budgets: nothing cut (how long it takes is benchmarks/' to measure).
    assert not tbdump.load(dump, objects=False).metadata.partial
    return dump


@pytest.fixture(scope="module")
def dumps(venv_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    folder = tmp_path_factory.mktemp("crashes")
    return {scenario: crash(scenario, python_for(scenario, venv_python), folder / scenario) for scenario in IMPORTS}


def loaded(scenario: str, python: Path, dump: Path, questions: List[Tuple[str, str, str]]) -> Dict[str, Any]:
    """What each question about a value restored from ``dump`` answers, in a process of its own;
    and what the loading did (probe.py)."""
    ran = subprocess.run([str(python), str(HERE / "probe.py"), str(dump), IMPORTS[scenario], json.dumps(questions)],
                         env=child_env(), capture_output=True, text=True, timeout=60, cwd=str(dump.parent))
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


# What the values restored from each dump answer: the program's data, its secrets redacted,
# each object working as the library's (a headers dict, a DataFrame's dtypes).
RESTORED: Dict[str, List[Tuple[str, str, str, str]]] = {
    "frames": [
        ("summarise", "frame", "(type(v).__name__, v.shape, [str(t) for t in v.dtypes])",
         "('DataFrame', (10000, 6), ['int64', 'float64', 'str', 'datetime64[us]', 'category', 'bool'])"),
        ("summarise", "frame", "(v['name'].iloc[-1], str(v['when'].iloc[-1]), v['amount'].sum())",
         "('row9999', '2024-01-07 22:39:00', np.float64(5000.0))"),
        ("summarise", "late", "(type(v).__name__, len(v), v.name)", "('Series', 0, 'id')"),
    ],
    "web": [
        ("fetch", "session", "(type(v).__module__, type(v).__name__, v.auth)",
         "('requests.sessions', 'Session', (\"<redacted: name matches 'auth'>\", \"<redacted: name matches 'auth'>\"))"),
        ("fetch", "session", "(v.headers['Authorization'], v.headers['Accept'], len(v.headers))",
         "(\"<redacted: name matches 'authorization'>\", '*/*', 5)"),
        ("fetch", "response", "(v.status_code, v.json(), dict(v.headers))",
         "(500, {'error': 'boom'}, {'Content-Type': 'application/json', "
         "'Set-Cookie': \"<redacted: name matches 'cookie'>\"})"),
        ("fetch", "prepared", "(v.method, v.url, v.headers['X-Api-Key'], v.body)",
         "('POST', 'https://bob:<redacted>@api.example.com/v1/items?api_key=<redacted>', "
         "\"<redacted: name matches 'apikey'>\", b'{\"item\": 1}')"),
    ],
    "models": [
        ("register", "user", "(type(v).__module__, v.name, v.address, v.key, v.password)",
         "('schemas', 'alice', Address(street='1 Main St', city='Springfield'), SecretStr('**********'), "
         "\"<redacted: name matches 'password'>\")"),
        ("register", "user", "v.key.get_secret_value()", "\"<redacted: name matches 'secret'>\""),
    ],
    "database": [
        ("<module>", "engine", "(type(v).__name__, str(v.url))", "('Engine', 'sqlite:///ledger.sqlite')"),
        ("<module>", "remote", "(repr(v), v.url.password)",
         "('Engine(postgresql+pg8000://app:***@db.internal:5432/prod)', \"<redacted: name matches 'password'>\")"),
        ("<module>", "first", "(type(v).__module__, v.id, v.name)", "('ledger', 1, 'alice')"),
        ("find", "session", "(type(v).__module__, type(v).__name__, v.bind.url.database, v.is_active)",
         "('sqlalchemy.orm.session', 'Session', 'ledger.sqlite', True)"),
    ],
    "records": [
        ("check", "login", "(type(v).__name__, v.user, v.password, v.origin)",
         "('Login', 'alice', \"<redacted: name matches 'password'>\", Point(x=12, y=3))"),
        ("check", "limits", "(v, type(v).__slots__)", "(Limits(low=0, high=10), ('low', 'high', '__weakref__'))"),
    ],
}


@pytest.mark.parametrize("scenario", sorted(RESTORED))
def test_values_are_restored_redacted_with_nothing_opened(scenario: str, venv_python: Path,
                                                          dumps: Dict[str, Path]) -> None:
    questions = [(frame, variable, expression) for frame, variable, expression, _ in RESTORED[scenario]]
    got = loaded(scenario, python_for(scenario, venv_python), dumps[scenario], questions)
    assert got["answers"] == [answer for *_, answer in RESTORED[scenario]]
    # No socket, no database connection (the sqlite file is in the dump's folder, the server's
    # engine holds a password), no file written, no process: loading runs nothing of the program's.
    assert got["events"] == []


def test_secrets_are_in_no_layer_of_any_dump(dumps: Dict[str, Path]) -> None:
    from tbdump.container import ContainerReader
    for scenario, dump in dumps.items():
        reader = ContainerReader(str(dump))
        try:
            layers = {name: reader.read(name) for name in ("safe", "objects")}
        finally:
            reader.close()
        for name, data in layers.items():
            for secret in SECRETS:
                assert secret.encode() not in data, (scenario, name, secret)


def test_a_dataframe_preview_shows_its_shape_and_columns_without_its_transpose(dumps: Dict[str, Path]) -> None:
    frame = [f for f in tbdump.load(dumps["frames"], objects=False).frames if f.name == "summarise"][0]
    value = frame.variables["frame"]
    assert value.repr.endswith("[10000 rows x 6 columns]"), value
    assert "id  amount     name                when kind   flag" in value.repr
    children = {c.name: c.value for c in value.children or []}
    # debugpy's pandas view: a transposed copy and a Series per column are not made to be shown.
    assert children["T"].repr == "'<transposed dataframe -- debugger:skipped eval>'"
    assert children["_series"].repr == "'<dict[index:Series] -- debugger:skipped eval>'"


def test_a_pydantic_model_of_the_script_comes_back_and_its_schema_hides_nothing_else(
        venv_python: Path, tmp_path: Path) -> None:
    """A model class defined in the crashed script is pickled with its schema, which names its
    fields: a ``password`` field's schema is no secret, and its words ("string_type") are not
    hidden from the exception's message.  The class comes back as a stand-in (docs/LIMITATIONS.md,
    Limitations), not as a placeholder of a pickle that cannot load."""
    program = tmp_path / "signup.py"
    program.write_text(
        "from pydantic import BaseModel, SecretStr\n"
        "class Signup(BaseModel):\n"
        "    name: str\n"
        "    password: SecretStr\n"
        "def check(payload):\n"
        "    return Signup.model_validate(payload)\n"
        "check({'name': 7, 'password': 'signup-pass-7531'})\n")
    ran = subprocess.run([str(venv_python), "-m", "tbdump", str(program)], cwd=str(tmp_path), env=child_env(),
                         capture_output=True, text=True, timeout=60)
    assert ran.stderr.endswith("Traceback dumped into: traceback.pkl\n"), ran.stderr
    got = loaded("models", venv_python, tmp_path / "traceback.pkl",
                 [("<module>", "Signup", "(isinstance(v, tbdump.Placeholder), v.__name__)")])
    assert got == {"answers": ["(False, 'Signup')"], "events": []}
    text = tbdump.load(tmp_path / "traceback.pkl", objects=False).traceback_text
    assert "[type=string_type, input_value=7, input_type=int]" in text, text
    assert "signup-pass-7531" not in (tmp_path / "traceback.pkl").read_bytes().decode("latin-1")


# -- tbdap against debugpy ---------------------------------------------------------------------

def shown(client: DapClient, stopped: Dict[str, Any]) -> List[Tuple[str, List[Tuple[Any, ...]]]]:
    """Each frame of the program: its name, and its locals down to depth 2 as test_live_vs_replay
    reads them."""
    paged = client.name == "tbdap"
    frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
    out = []
    for f in frames:
        if (f.get("source") or {}).get("path", "").startswith(str(PROGRAMS)):
            ref = client.ok("scopes", {"frameId": f["id"]})["scopes"][0]["variablesReference"]
            out.append((f["name"], comparable(variable_tree(client, ref, 2, paged_like_vscode=paged))))
    return out


def comparable(rows: List[Tuple[Any, ...]], parent_type: str = "") -> List[Tuple[Any, ...]]:
    out: List[Tuple[Any, ...]] = []
    for row in rows:
        if len(row) == 1 or row[0] in OWN_PICKLING.get(parent_type, ()):  # a group; OWN_PICKLING
            out.extend([row] if len(row) == 1 else [])
            continue
        name, value, kind, named, kids = row
        out.append((name, BARE_ADDRESS.sub("at 0x…", value), kind, named, kids and comparable(kids, kind)))
    return out


def redacted_alike(tbdap: List[Tuple[Any, ...]], debugpy: List[Tuple[Any, ...]],
                   in_secret: bool = False) -> List[Tuple[Any, ...]]:
    """debugpy's rows, with each row that tbdap may show redacted (REDACTED) as tbdap shows it."""
    theirs = {row[0]: row for row in tbdap}
    out = []
    for row in debugpy:
        mine = theirs.get(row[0])
        if len(row) == 1 or mine is None or len(mine) == 1:
            out.append(row)
            continue
        secret = in_secret or SECRET_NAME.search(row[0]) is not None
        whole = WHOLE.match(mine[1]) is not None   # nothing of it shown: nothing inside either
        shows = "<redacted: name matches" in mine[1] or any(text in row[1] for text in SECRETS)
        if "<redacted" in mine[1] and (secret or (shows and not whole)):
            kids = mine[4] if whole else (redacted_alike(mine[4] or [], row[4], secret) if row[4] else row[4])
            out.append(mine[:4] + (kids,))
        else:
            out.append(row[:4] + ((redacted_alike(mine[4] or [], row[4], secret) if row[4] else row[4]),))
    return out


def live(scenario: str, python: Path, cwd: Path) -> List[Tuple[str, List[Tuple[Any, ...]]]]:
    client = DapClient.spawn([sys.executable, "-m", "debugpy.adapter"], name="debugpy")
    try:
        client.initialize()
        stopped = client.start("launch", {"program": str(PROGRAMS / (scenario + ".py")), "python": [str(python)],
                                          "cwd": str(cwd), "env": {"PYTHONHASHSEED": "0"},
                                          "console": "internalConsole", "justMyCode": True})
        return shown(client, stopped)
    finally:
        client.violations.clear()  # debugpy's own conformance is not tested here
        client.close()


def replayed(python: Path, dump: Path) -> List[Tuple[str, List[Tuple[Any, ...]]]]:
    client = DapClient.spawn([str(python), *FLAGS, "-m", "tbdap"], name="tbdap", env=child_env())
    try:
        client.initialize()
        return shown(client, client.start("launch", {"dumpFile": str(dump), "justMyCode": True}))
    finally:
        client.close()


@pytest.mark.parametrize("scenario", sorted(IMPORTS))
def test_tbdap_shows_what_debugpy_shows_live(scenario: str, venv_python: Path, dumps: Dict[str, Path],
                                            tmp_path: Path) -> None:
    python = python_for(scenario, venv_python)
    expected = live(scenario, python, tmp_path)
    actual = replayed(python, dumps[scenario])
    assert [name for name, _ in actual] == [name for name, _ in expected]
    for (name, got), (_, want) in zip(actual, expected):
        assert got == redacted_alike(got, want), "the locals of %s differ" % name
    text = json.dumps(actual)
    assert not [secret for secret in SECRETS if secret in text]
