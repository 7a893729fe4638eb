"""A dump opened elsewhere: on a machine that lacks some of the crashed program's libraries.

A program crashes with its libraries importable (a module of its own beside it, or the
libraries of tests/libraries/requirements.txt in their venv); a fresh process without them
opens the dump.  Each value of a missing library is a placeholder or stand-in that names the
module missing, wherever it is held (a local, an item of a list, a dict's key or value, an
object's attribute, a datetime's tzinfo, a class attribute, a default argument, a value
shared with the caller's frame), and every other value of the dump loads as it was.
"""
from __future__ import annotations

import ast
import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ..conftest import PYTHON, REPO, cached_venv, run, write
from ..dap.dapclient import DapClient

REQUIREMENTS = Path(__file__).resolve().parent.parent / "libraries" / "requirements.txt"

# Run in the process that opens the dump: each question is (frame, expression over L, the
# frame's restored locals); printed, the repr of each answer.
ASK = """
import json, sys, tbdump
from tbdump.placeholder import MissingClass, Placeholder
dump = tbdump.load("traceback.pkl", objects=True)
frames = {f.name: f.locals for f in dump.frames}
def lost(v):
    return isinstance(v, (MissingClass, Placeholder))
print(json.dumps([repr(eval(q, {"lost": lost, "Placeholder": Placeholder}, {"L": frames[f]})) for f, q in json.loads(sys.argv[1])]))
"""


def opened_elsewhere(folder: Path, python: str, questions: List[Tuple[str, str]]) -> List[str]:
    """The answers to ``questions`` about the dump in ``folder``, asked by ``python`` in a
    process whose path holds this tree alone (not the program's folder nor its libraries)."""
    write(folder / "ask.py", ASK)
    opened = run([python, "ask.py", json.dumps(questions)], folder, env={"PYTHONSAFEPATH": "1"})
    assert opened.returncode == 0, opened.stderr
    return json.loads(opened.stdout)


def crashed(folder: Path, python: str, source: str, path: str) -> None:
    write(folder / "prog.py", source)
    ran = run([python, "-m", "tbdump", "prog.py"], folder, env={"PYTHONPATH": os.pathsep.join((str(REPO), path))})
    assert ran.stderr.splitlines()[-1:] == ["Traceback dumped into: traceback.pkl"], ran.stderr


# The program's own time zone, in a module the machine that opens the dump does not have.
ZONE_MODULE = """
import datetime
class Fixed(datetime.tzinfo):
    def utcoffset(self, dt): return datetime.timedelta(hours=2)
    def dst(self, dt): return datetime.timedelta(0)
    def tzname(self, dt): return "X"
class Zero:
    def __call__(self): return 0
"""

ZONED_PROGRAM = """
import collections, datetime, mytz
class Config:
    EPOCH = datetime.datetime(2024, 1, 2, tzinfo=mytz.Fixed())
    name = "cfg"
class Holder:
    def __init__(self, thing):
        self.thing, self.label = thing, "holder"
def work(shared, later=datetime.time(1, 2, tzinfo=mytz.Fixed())):
    a = 1
    when = datetime.datetime(2024, 1, 2, tzinfo=mytz.Fixed())
    b = [1, 2, 3]
    c = {"k": "v"}
    nested = [b, {"when": when, "n": 4}, (when, 5), {when: "as key", "plain": 6}]
    held = Holder(when)
    counts = collections.defaultdict(mytz.Zero(), {"x": 1})
    zones = {mytz.Fixed(), mytz.Fixed()}
    cfg = Config()
    shared.append(when)
    d = "after all"
    1 / 0
def outer():
    mine = ["outer", datetime.datetime(2020, 5, 6, tzinfo=datetime.timezone.utc)]
    work(mine)
outer()
"""


def test_a_time_zone_of_a_module_missing_here_costs_only_its_datetime(tmp_path: Path) -> None:
    """A datetime whose tzinfo's class is missing where the dump is opened was restored by
    datetime's own constructor, which refused the stand-in: the values written after it were
    lost too ("it shares objects with a value that failed to load"), a plain list as well; so
    were those after a defaultdict whose factory is such a class's callable object."""
    (tmp_path / "lib").mkdir()
    write(tmp_path / "lib" / "mytz.py", ZONE_MODULE)
    crashed(tmp_path, PYTHON, ZONED_PROGRAM, str(tmp_path / "lib"))
    missing = "it holds a mytz.Fixed, not importable here (ModuleNotFoundError: No module named 'mytz')"
    answers = opened_elsewhere(tmp_path, PYTHON, [
        ("work", "(L['a'], L['b'], L['c'], L['d'])"),
        ("work", "L['when']"),
        ("work", "L['later']"),
        ("work", "(L['nested'][1]['when'] is L['nested'][2][0] is L['when'], L['nested'][2][1], "
                 "L['nested'][0] is L['b'], L['nested'][1]['n'])"),
        ("work", "sorted((lost(k), v) for k, v in L['nested'][3].items())"),
        ("work", "(lost(L['held'].thing), L['held'].label)"),
        ("work", "L['counts']"),
        ("work", "[lost(x) for x in L['zones']]"),
        ("work", "(L['cfg'].name, type(L['cfg']).name, lost(type(L['cfg']).EPOCH))"),
        ("work", "(L['shared'][0], str(L['shared'][1]), lost(L['shared'][2]), L['shared'] is L['shared'])"),
        ("outer", "(L['mine'][:2] == [*L['mine'][:1], L['mine'][1]], str(L['mine'][1]), len(L['mine']))"),
    ])
    assert answers[0] == repr((1, [1, 2, 3], {"k": "v"}, "after all"))
    # Each with what the program's repr of it was, the part of the preview no missing module changes.
    assert answers[1].startswith("<datetime.datetime: not restored: %s datetime.datetime(2024, 1, 2, 0, 0, "
                                 "tzinfo=<mytz.Fixed object at 0x" % missing), answers[1]
    assert answers[2].startswith("<datetime.time: not restored: %s datetime.time(1, 2, "
                                 "tzinfo=<mytz.Fixed object at 0x" % missing), answers[2]
    answers[6] = answers[6][:answers[6].index(" at 0x") + 6]   # up to the address of the program's object
    assert answers[3:] == [
        "(True, 5, True, 4)",
        "[(False, 6), (True, 'as key')]",
        "(True, 'holder')",
        "<collections.defaultdict: not restored: %s defaultdict(<mytz.Zero object at 0x" % (
            missing.replace("Fixed", "Zero")),
        "[True, True]",
        "('cfg', 'cfg', True)",
        "('outer', '2020-05-06 00:00:00+00:00', True, True)",
        "(True, '2020-05-06 00:00:00+00:00', 3)",
    ]


LIBRARY_PROGRAM = """
import datetime, json
import numpy as np, pandas as pd, pydantic, requests, sqlalchemy
from dateutil import relativedelta, tz
class Holder:
    def __init__(self, thing):
        self.thing, self.label = thing, "holder"
def seen(values):
    # What the program knew of each value: its class (a datetime's: its zone's) and repr.
    def kind(v):
        t = type(v.tzinfo if type(v) in (datetime.datetime, datetime.time) else v)
        return "%s.%s" % (t.__module__, t.__qualname__)
    with open("seen.json", "w") as out:
        json.dump({name: [kind(v), repr(v)] for name, v in values.items()}, out)
def work(shared, arr):
    p0 = "start"
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    p1 = [1, 2, 3]
    stamp = pd.Timestamp("2024-01-02", tz="Europe/Paris")
    series = frame["a"]
    p2 = {"k": "v"}
    paris = datetime.datetime(2024, 1, 2, tzinfo=tz.gettz("Europe/Paris"))
    p3 = (4, 5)
    utc = datetime.datetime(2024, 1, 2, tzinfo=tz.tzutc())
    offset = datetime.time(3, 4, tzinfo=tz.tzoffset("X", 3600))
    later = relativedelta.relativedelta(months=1)
    p4 = "after dateutil"
    url = sqlalchemy.engine.make_url("sqlite:///x.db")
    engine = sqlalchemy.create_engine("sqlite://")
    p5 = [6]
    session = requests.Session()
    request = requests.Request("GET", "http://example.invalid/x").prepare()
    p6 = "after requests"
    link = pydantic.HttpUrl("http://example.invalid/y")
    scalar = np.float64(2.5)
    nested = [p1, {"frame": frame, "n": 7}, (paris, 8), [stamp, arr]]
    keyed = {stamp: "stamp", np.int64(3): "np key", "plain": 9}
    held = Holder(frame)
    zoned = Holder(paris)
    shared.append(paris)
    inner = [pd.Timestamp("2025-03-04"), {"when": datetime.datetime(2025, 1, 1, tzinfo=tz.tzutc())}]
    box = Holder(pd.Series([5, 6], name="s"))
    p7 = "end"
    seen(dict(locals(), **{"inner[0]": inner[0], "inner[1]['when']": inner[1]["when"], "box.thing": box.thing}))
    1 / 0
def outer():
    arr = np.arange(4.0)
    mine = ["outer", arr]
    work(mine, arr)
outer()
"""

# The library each value belongs to, which the process that opens the dump lacks.
LIBRARY_OF = {"frame": "pandas", "stamp": "pandas", "series": "pandas", "paris": "dateutil", "utc": "dateutil",
              "offset": "dateutil", "later": "dateutil", "url": "sqlalchemy", "engine": "sqlalchemy",
              "session": "requests", "request": "requests", "link": "pydantic"}
# Values of those libraries held by another only, where the program reached them.
HELD_IN = {"inner[0]": "pandas", "inner[1]['when']": "dateutil", "box.thing": "pandas"}


@pytest.fixture(scope="module")
def library_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of LIBRARY_PROGRAM's dump, written where its libraries are."""
    try:
        python = cached_venv(REQUIREMENTS, "libraries")
    except RuntimeError as exc:  # offline: a skip would pass a run that tested no library
        pytest.fail(str(exc))
    folder = tmp_path_factory.mktemp("libraries")
    crashed(folder, str(python), LIBRARY_PROGRAM, "")
    return folder


def test_the_values_of_libraries_missing_here_cost_only_themselves(library_dump: Path) -> None:
    """Written where pandas, dateutil, SQLAlchemy, requests and pydantic are, opened by the test
    venv, which has numpy only: a datetime of dateutil's zone lost every value after it."""
    tmp_path = library_dump
    questions = [("work", "lost(L[%r]) and %r in repr(L[%r])" % (name, "No module named '%s'" % lib, name))
                 for name, lib in LIBRARY_OF.items()]
    answers = opened_elsewhere(tmp_path, PYTHON, questions + [
        ("work", "sorted(name for name, v in L.items() if lost(v))"),
        ("work", "(L['p0'], L['p1'], L['p2'], L['p3'], L['p4'], L['p5'], L['p6'], L['p7'])"),
        ("work", "(L['arr'].tolist(), L['arr'] is L['shared'][1], float(L['scalar']))"),
        ("work", "(L['nested'][0] is L['p1'], L['nested'][1]['frame'] is L['frame'], L['nested'][1]['n'], "
                 "L['nested'][2][0] is L['paris'], L['nested'][2][1], L['nested'][3][1] is L['arr'])"),
        ("work", "sorted(('lost' if lost(k) else str(k), v) for k, v in L['keyed'].items())"),
        ("work", "(L['held'].thing is L['frame'], L['held'].label, L['zoned'].thing is L['paris'])"),
        ("work", "(L['shared'][0], L['shared'][2] is L['paris'], len(L['shared']))"),
        ("outer", "(L['mine'] is not None, L['arr'].tolist())"),
    ])
    assert answers[:len(LIBRARY_OF)] == ["True"] * len(LIBRARY_OF), list(zip(LIBRARY_OF, answers))
    assert answers[len(LIBRARY_OF):] == [
        repr(sorted(LIBRARY_OF)),
        repr(("start", [1, 2, 3], {"k": "v"}, (4, 5), "after dateutil", [6], "after requests", "end")),
        "([0.0, 1.0, 2.0, 3.0], True, 2.5)",
        "(True, True, 7, True, 8, True)",
        "[('3', 'np key'), ('lost', 'stamp'), ('plain', 9)]",
        "(True, 'holder', True)",
        "('outer', True, 3)",
        "(True, [0.0, 1.0, 2.0, 3.0])",
    ]


def seen_by_the_program(folder: Path) -> Dict[str, List[str]]:
    return json.loads((folder / "seen.json").read_text())


def test_a_value_of_a_library_missing_here_is_named_by_its_class(library_dump: Path) -> None:
    """A pandas Timestamp was named after the function its pickle calls: `type(stamp)` was
    `pandas._libs.tslibs.timestamps._unpickle_timestamp`, and a datetime of dateutil's zone
    said it held a `dateutil.tz._tzfile._unpickle`."""
    seen = seen_by_the_program(library_dump)
    answers = opened_elsewhere(library_dump, PYTHON, [
        ("work", "'%%s.%%s' %% (type(L[%r]).__module__, type(L[%r]).__qualname__) if not isinstance(L[%r], "
                 "Placeholder) else L[%r].reason" % (name, name, name, name)) for name in LIBRARY_OF])
    for (name, lib), answer in zip(LIBRARY_OF.items(), answers):
        kind = seen[name][0]
        if name in ("paris", "utc", "offset"):   # a datetime of a zone missing here: its zone's class said
            assert "it holds a %s, not importable here" % kind in answer, (name, answer)
        else:
            assert answer == repr(kind), (name, answer)


def test_a_value_of_a_library_missing_here_reads_as_captured(library_dump: Path) -> None:
    """Each value of a library missing here read as a class and the module missing, and nothing of
    what it was: `<Timestamp (not importable here: ...)>`, where the dump holds its preview,
    `Timestamp('2024-01-02 00:00:00+0100', tz='Europe/Paris')`; held in a list, a dict or an
    attribute as well."""
    seen = seen_by_the_program(library_dump)
    held = {**LIBRARY_OF, **HELD_IN}
    answers = opened_elsewhere(library_dump, PYTHON, [("work", "repr(%s)" % reached(name)) for name in held])
    for (name, lib), answer in zip(held.items(), answers):
        shown = ast.literal_eval(answer)
        assert seen[name][1] in shown and "No module named '%s'" % lib in shown, (name, shown)


def reached(name: str) -> str:
    """``inner[1]['when']`` as ASK's question reaches it: ``L['inner'][1]['when']``."""
    local = re.match(r"\w+", name).group()  # type: ignore[union-attr]
    return "L[%r]%s" % (local, name[len(local):])


def test_tbdebug_prints_a_value_of_a_library_missing_here_as_captured(library_dump: Path) -> None:
    """tbdebug's `p` of a pandas Timestamp, of a list holding one, and of a Series held as an
    attribute, where pandas is missing."""
    seen = seen_by_the_program(library_dump)
    debugged = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], library_dump, env={"PYTHONSAFEPATH": "1"},
                   stdin="p stamp\np inner\np box.thing\nq\n")
    assert debugged.returncode == 0, debugged.stderr
    printed = debugged.stdout.split("(Pdb) ")[1:4]
    assert printed[0].startswith("<Timestamp (not importable here: ") and seen["stamp"][1] in printed[0], printed
    assert seen["inner[0]"][1] in printed[1] and seen["inner[1]['when']"][1] in printed[1], printed[1]
    assert seen["box.thing"][1] in printed[2] and "No module named 'pandas'" in printed[2], printed[2]


def test_vscode_shows_a_value_of_a_library_missing_here_held_in_another_as_captured(library_dump: Path) -> None:
    """In the Variables view a pandas Series held as an attribute (a row made from the restored
    object, not from the frame's preview) read `<Series (not importable here: ...)>`, where the
    frame's own Series reads as it was."""
    seen = seen_by_the_program(library_dump)
    client = DapClient.tbdap()
    try:
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(library_dump / "traceback.pkl")})
        frames = client.ok("stackTrace", {"threadId": stopped["body"]["threadId"]})["stackFrames"]
        scopes = client.ok("scopes", {"frameId": next(f["id"] for f in frames if f["name"] == "work")})["scopes"]

        def rows(reference: int) -> Dict[str, Dict[str, Any]]:
            return {row["name"]: row for row in client.ok("variables", {"variablesReference": reference})["variables"]}

        local = rows(scopes[0]["variablesReference"])
        thing = rows(local["box"]["variablesReference"])["thing"]
        assert (thing["type"], thing["value"]) == ("Series", seen["box.thing"][1]), thing
        assert (local["series"]["type"], local["series"]["value"]) == ("Series", seen["series"][1])
    finally:
        client.close()   # fails the test on any message the DAP schema rejects
