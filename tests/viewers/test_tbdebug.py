"""tbdebug as a person uses it: real dumps of crashing programs, opened in pdb in a real terminal."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from ..capture.test_failed_records import CYCLE, program
from ..conftest import globals_unreadable
from ..trust.test_xversion import _interpreter, _venv
from .children import child_env, run
from .conftest import PROGRAMS, _unavailable

PDB = r"\(Pdb\)"


def squash(text: str) -> str:
    """Runs of blanks as one space: a terminal shows pdb's tabs as spaces."""
    return re.sub(r"[ \t]+", " ", text)


def tbdebug(dump: Path, *options: str, python: str = sys.executable) -> list:
    return [python, "-m", "tbdebug", *options, str(dump)]


# The reference: the same program crashing live into pdb.post_mortem() (3.13's takes
# the exception, so its `exceptions` and `$_exception` work as in `python -m pdb`), of
# the exception raised or of one chained to it.
LIVE = ("import pdb, runpy, sys\n"
        "sys.argv = sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except Exception as exc:\n"
        "    chosen = {chosen}\n"
        "    pdb.post_mortem(chosen if sys.version_info >= (3, 13) else chosen.__traceback__)\n")


def live_pdb(program: str, *args: str, cwd: Path, stdin: str, python: str = sys.executable,
             chosen: str = "exc", env: Optional[Dict[str, str]] = None):
    """pdb's post-mortem of the crash itself (of ``chosen``, an expression of the exception
    raised, ``exc``); `crash` has put the program in cwd."""
    return run([python, "-c", LIVE.format(chosen=chosen), program, *args], cwd, env=env, stdin=stdin)


def python_3_13() -> str:
    """The venv of Python 3.13, whose pdb shows exception objects (`exceptions`, `$_exception`)."""
    if not _interpreter("3.13.0").is_file():
        _unavailable("Python 3.13.0 is needed for pdb's `exceptions` (pyenv install 3.13.0)")
    return str(_venv("3.13.0"))


def answers(stdout: str) -> list:
    """What pdb printed for each command fed on stdin, in order (a pipe echoes no commands)."""
    return stdout.split("(Pdb) ")[1:]


def test_a_program_python_read_from_stdin_is_named_by_its_interpreter(tmp_path):
    # Python at its prompt, or reading the program from stdin, has sys.argv == [''].
    program = "import tbdump\ntbdump.set_excepthook()\n1 / 0\n"
    crashed = run([sys.executable], tmp_path, stdin=program)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr
    interpreter = Path(sys.executable).name
    opened = run(tbdebug(tmp_path / "traceback.pkl"), tmp_path, stdin="q\n")
    assert re.search(rf"^tbdebug: \S+traceback.pkl: {re.escape(interpreter)} crashed at 20\d\d-", opened.stdout, re.M), \
        opened.stdout
    report = run([sys.executable, "-m", "tbdump.report", "traceback.pkl"], tmp_path)
    assert re.search(rf"^  command   {re.escape(interpreter)}$", report.stdout, re.M), report.stdout


def test_an_argument_with_a_line_break_keeps_the_command_on_one_line(tmp_path):
    """The crashed program's argv is any text: an argument holding a line break split tbdebug's
    start-up line and the report's `command` line in two, the second free to pass for a line of
    the viewer's own.  Such an argument is shown as bash reads it back, $'...'."""
    (tmp_path / "prog.py").write_text("import sys\nraise SystemError(len(sys.argv))\n")
    argument = "5\ntbdebug: signature verified \x1b[2J"
    crashed = run([sys.executable, "-m", "tbdump", "prog.py", argument, "it's"], tmp_path)
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr
    shown = "prog.py $'5\\ntbdebug: signature verified \\x1b[2J' 'it'\"'\"'s'"
    said = subprocess.run(["bash", "-c", 'printf "%s|" ' + shown], capture_output=True, text=True).stdout
    assert said == "prog.py|%s|it's|" % argument        # what a shell reads: the argv itself
    opened = run(tbdebug(tmp_path / "traceback.pkl"), tmp_path, stdin="q\n")
    assert re.search(r"^tbdebug: \S+traceback.pkl: %s crashed at 20" % re.escape(shown), opened.stdout, re.M), \
        opened.stdout
    assert "\ntbdebug: signature" not in opened.stdout
    report = run([sys.executable, "-m", "tbdump.report", "traceback.pkl"], tmp_path)
    assert "\n  command   %s\n  cwd " % shown in report.stdout, report.stdout


@pytest.mark.parametrize("way", ["-c", "-"])
def test_the_code_of_c_or_stdin_is_shown_from_the_dump_without_a_note(tmp_path, way):
    """No file holds the code of `-c` or of stdin (`<string>`, `<stdin>`): start-up said
    "<string>: the local file is not used (missing here); showing the dump's copy", sending the
    reader to look for a file that never was."""
    code = "x = 5\n1 / (x - 5)\n"
    crashed = run([sys.executable, "-m", "tbdump", *(["-c", code] if way == "-c" else ["-"])], tmp_path,
                  stdin=code if way == "-" else "")
    assert "Traceback dumped into: traceback.pkl" in crashed.stderr, crashed.stderr
    opened = run(tbdebug(tmp_path / "traceback.pkl"), tmp_path, stdin="list\nq\n")
    start, listed = opened.stdout.split("(Pdb) ")[:2]
    assert "local file" not in opened.stdout + opened.stderr, opened.stdout
    assert re.search(r"^tbdebug: \S+traceback.pkl: .* crashed at ", start, re.M), start
    assert squash(listed).startswith(" 1 x = 5\n 2 -> 1 / (x - 5)\n"), listed


def test_lands_at_the_crash_and_walks_the_stack(crash, terminal):
    dump = crash("divide.py", "5", "0")
    pdb = terminal(tbdebug(dump))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert "ZeroDivisionError: division by zero" in opened      # the traceback, as Python printed it
    assert re.search(rf"^tbdebug: {dump}: divide.py 5 0 crashed at 20\d\d-.* on .* "
                     rf"\(pid \d+, Python {sys.version_info.major}\.", opened, re.M)
    assert f"> {dump.parent}/divide.py(5)div()\n-> return x / y" in opened

    where = pdb.ask("where", PDB)
    assert "divide.py(11)<module>()\n-> print(div(x, y))" in where
    assert where.rstrip().endswith("divide.py(5)div()\n-> return x / y")
    assert pdb.ask("p x, y", PDB) == "(5, 0)"
    assert pdb.ask("args", PDB) == "x = 5\ny = 0"
    assert pdb.ask("x * 10 + y", PDB) == "50"                  # a plain expression
    assert pdb.ask("whatis y", PDB) == "<class 'int'>"
    assert pdb.ask("display x", PDB) == "display x: 5"
    assert " 4 def div(x, y):\n 5 -> return x / y" in squash(pdb.ask("longlist", PDB))

    assert "divide.py(11)<module>()\n-> print(div(x, y))" in pdb.ask("up", PDB)
    assert pdb.ask("p __name__, x", PDB) == "('__main__', 5)"
    listing = squash(pdb.ask("list", PDB))
    assert " 8 if __name__ == '__main__':\n" in listing and " 11 -> print(div(x, y))" in listing
    assert pdb.ask("whatis div", PDB) == "Function div"
    assert "divide.py(5)div()" in pdb.ask("down", PDB)

    pdb.line("interact")
    pdb.wait_transcript(r">>>\s*\Z")
    pdb.line("x / (y + 4)")
    pdb.wait_transcript(r"^1\.25$")
    pdb.press("C-d")
    pdb.wait_transcript(PDB + r"\Z")
    pdb.line("quit")
    assert pdb.exit_status() == 0


def test_methods_arguments_objects_and_completion(crash, terminal):
    dump = crash("bank.py", "10", "200")
    pdb = terminal(tbdebug(dump))
    pdb.wait_transcript(PDB + r"\Z")
    assert pdb.ask("args", PDB).splitlines() == [
        "self = " + pdb.ask("p self", PDB), "amount = 200", "fee = 2", "notes = ('rent',)",
        "extra = {'channel': 'atm'}"]
    assert pdb.ask("pp history", PDB) == "{'last': 202, 'notes': ['rent']}"
    assert pdb.ask("whatis self", PDB) == "<class '__main__.Account'>"
    start = len(pdb.transcript()) - 1
    pdb.type("p self.bala")
    pdb.press("Tab")                   # readline completes from the captured object
    pdb.press("Enter")
    assert pdb.wait_answer(PDB, start).splitlines()[:2] == [
        "(Pdb) p self.balance", "88"]
    assert "bank.py(22)run()" in pdb.ask("up", PDB)
    assert pdb.ask("p account.owner, requests", PDB) == "('ada', [10, 200])"
    pdb.line("q")
    assert pdb.exit_status() == 0


def test_chained_exceptions_are_reachable(crash, terminal):
    dump = crash("chained.py")
    pdb = terminal(tbdebug(dump))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert "#0 ConfigError: bad config: '{broken'  (raised; 3 frames)" in opened
    assert "#1 json.decoder.JSONDecodeError: Expecting property name" in opened
    assert "(the direct cause of #0; 5 frames)" in opened
    assert "chained.py(18)load_config()" in opened
    assert pdb.ask("p defaults, text", PDB) == "({'retries': 3}, '{broken')"
    # `exceptions` on every Python: 3.13's pdb has it, tbdebug gives it to the older ones.
    listed = pdb.ask("exceptions", PDB)
    assert "JSONDecodeError" in listed and "> " in listed
    assert "decoder.py" in pdb.ask("exceptions 0", PDB)
    pdb.line("q")
    assert pdb.exit_status() == 0

    cause = terminal(tbdebug(dump, "--exception", "1"))
    opened = cause.wait_transcript(PDB + r"\Z")
    assert "json/decoder.py" in opened and "raw_decode()" in opened
    assert cause.ask("p s, idx", PDB) == "('{broken', 0)"
    where = cause.ask("where", PDB)
    assert where.index("chained.py(16)load_config()") < where.index("chained.py(10)parse()")
    cause.line("q")
    assert cause.exit_status() == 0


def test_sources_come_from_the_dump_when_the_local_file_is_gone_or_changed(crash, terminal):
    dump = crash("divide.py", "5", "0")
    program = dump.parent / "divide.py"
    program.unlink()
    pdb = terminal(tbdebug(dump))
    pdb.wait_transcript(PDB + r"\Z")
    assert " 5 -> return x / y" in squash(pdb.ask("list", PDB))
    pdb.line("q")
    assert pdb.exit_status() == 0

    program.write_text("# rewritten since the crash\n" * 20)
    pdb = terminal(tbdebug(dump))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert (f"tbdebug: {program}: the local file is not used (differs from the file that ran); "
            "showing the dump's copy") in squash(opened)
    assert " 5 -> return x / y" in squash(pdb.ask("list", PDB))
    assert "rewritten" not in pdb.ask("longlist", PDB)
    pdb.line("q")
    assert pdb.exit_status() == 0


def test_the_dumps_copy_is_numbered_as_python_numbers_lines(crash, tmp_path):
    """A form feed stays inside its line: the crash line pdb marks is the one that ran."""
    dump = crash("pagebreak.py")
    (dump.parent / "pagebreak.py").unlink()   # the dump's copy is what pdb shows
    done = run(tbdebug(dump), tmp_path, stdin="list\nq\n")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s*7\s+->\s+return amount / \(fee - fee\)$", done.stdout, re.M), done.stdout


def test_a_source_with_carriage_returns_is_numbered_as_python_numbers_lines(tmp_path):
    """\\r\\n and a lone \\r end lines for Python as \\n does: the crash line pdb marks in the
    dump's copy is the one that ran."""
    program = tmp_path / "returns.py"
    program.write_bytes(b"def settle(amount):\r\n    # saved on Windows, one line by an old Mac editor\r"
                        b"    fee = amount // 10\r\n    return amount / (fee - fee)\r\n\r\n\r\nsettle(30)\r\n")
    assert run([sys.executable, "-m", "tbdump", program.name], tmp_path).returncode == 1
    program.unlink()   # the dump's copy is what pdb shows
    done = run(tbdebug(tmp_path / "traceback.pkl"), tmp_path, stdin="list\nq\n")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s*4\s+->\s+return amount / \(fee - fee\)$", done.stdout, re.M), done.stdout


def test_safe_mode_shows_previews_and_runs_nothing(crash, terminal):
    dump = crash("bank.py", "10", "200")
    pdb = terminal(tbdebug(dump, "--safe"))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert "tbdebug: safe mode" in opened and "placeholders showing their previews" in opened
    amount = pdb.ask("p amount", PDB)
    assert amount.startswith("<int: safe mode") and amount.endswith(" 200>")
    assert "extra = <dict: safe mode" in pdb.ask("args", PDB)
    assert "<__main__.Account object at" in pdb.ask("p self", PDB)   # the preview, not the object
    # What the preview holds answers as the value would; what it does not says so.
    assert pdb.ask("p len(notes)", PDB) == "1"
    assert pdb.ask("p notes[-1]", PDB) == "<str: safe mode 'rent'>"
    assert pdb.ask("p history['gone']", PDB) == (
        "*** LookupError: 'gone' is not in the captured preview of this dict (safe mode)")
    start = len(pdb.transcript()) - 1
    pdb.type("p self.bala")
    pdb.press("Tab")                   # readline completes from the preview's attributes
    pdb.press("Enter")
    assert pdb.wait_answer(PDB, start).splitlines()[:2] == ["(Pdb) p self.balance", "<int: safe mode 88>"]
    pdb.line("q")
    assert pdb.exit_status() == 0


def test_values_are_true_or_false_as_they_were_in_safe_mode_too(crash, tmp_path):
    dump = crash("flags.py")
    names = "count, name, items, options, nothing, flag, ratio, blob, account, total, label, rows".split(", ")
    commands = "p %s\np 'taken' if rows else 'skipped'\nq\n" % ", ".join("bool(%s)" % n for n in names)
    live = answers(live_pdb("flags.py", cwd=tmp_path, stdin=commands).stdout)
    assert live[:2] == ["(False, False, False, False, False, False, False, False, True, True, True, True)\n",
                        "'taken'\n"]
    for options in ((), ("--safe",)):   # a safe-mode value is its preview: `if x:` still goes its way
        replay = answers(run(tbdebug(dump, *options), tmp_path, stdin=commands).stdout)
        assert replay[:2] == live[:2], options


def test_a_name_of_a_module_whose_globals_the_dump_cannot_read_says_so(crash, tmp_path):
    # A module's globals are read when first asked for: damaged, pdb's NameError alone would
    # say the program had no such name.
    damaged = globals_unreadable(crash("bank.py", "10", "200"), tmp_path / "damaged.pkl")
    done = run(tbdebug(damaged), tmp_path, stdin="p amount\np Account\nq\n")
    assert done.returncode == 0, done.stderr
    amount, account = answers(done.stdout)[:2]
    assert amount == "200\n"
    assert re.fullmatch(r"\*\*\* NameError: name 'Account' is not defined \(this module's globals are not in "
                        r"the dump: not readable: the dump's member 'globals\.\d+' is damaged \(not JSON\)\)\n",
                        account), account


def test_a_cycle_pickle_rebuilds_in_part_and_the_values_after_it_read_as_in_the_crash(tmp_path):
    """A dict keyed by a cycle of objects whose hash reads their state (pickle rebuilt one's
    edges before the other's name) was "not restored", and so was every value after it in the
    dump, `before` two frames up a plain string: `p` of each answers as pdb in the crash."""
    (tmp_path / "graph.py").write_text(program(CYCLE))
    commands = ("p later, [(n.name, list(n.edges.values())) for n in value]\n"
                "up\np b.edges[a], a.edges[b], [p.name for p in b.peers], list(value)[0] is a, value[a]\n"
                "up\np before\nq\n")
    live, replay = live_and_replayed("graph.py", tmp_path, commands, 5)
    assert replay == live


def live_and_replayed(program: str, cwd: Path, commands: str, count: int) -> tuple:
    """pdb's answers to the first ``count`` of ``commands`` in the crash of ``program`` itself
    (none an error) and in tbdebug on its dump."""
    live = answers(live_pdb(program, cwd=cwd, stdin=commands).stdout)[:count]
    assert "Error" not in "".join(live), live
    assert run([sys.executable, "-m", "tbdump", program], cwd).returncode == 1
    return live, answers(run(tbdebug(cwd / "traceback.pkl"), cwd, stdin=commands).stdout)[:count]


def replays_as_in_the_crash(cwd: Path, program: str, source: str, commands: str) -> None:
    """tbdebug on the dump of ``source``'s crash, written as ``program``, answers each of
    ``commands`` (one a line) as pdb on the crash itself."""
    (cwd / program).write_text(source)
    live, replay = live_and_replayed(program, cwd, commands + "q\n", commands.count("\n"))
    assert replay == live


# A script whose classes refer to one another: a base, a class attribute, a method's and a
# function's globals, an Enum compared by identity, a singleton held by its class, a registry.
SHARED_CLASSES = """
import enum

class Base:
    pass

class Child(Base):
    pass

class OutOfStock(Exception):
    pass

class Status(enum.Enum):
    OK = 1
    LATE = 2

class Config:
    def __init__(self, name):
        self.name = name

Config.default = Config("default")

class Color:
    registry = {}
    def __init__(self, name):
        self.name = name
        Color.registry[name] = self

RED = Color("red")

class Shelf:
    kind = Base
    def make(self):
        return Child()

def take():
    raise OutOfStock("none left")

def attempt(action):
    try:
        action()
    except OutOfStock:
        return "handled"

def on_time(status):
    return status is Status.OK

def order():
    child, shelf, cfg, status, red = Child(), Shelf(), Config.default, Status.OK, RED
    try:
        take()
    except OutOfStock as exc:
        err = exc
    raise RuntimeError("order failed")

order()
"""


def test_the_scripts_classes_are_one_class_wherever_the_dump_refers_to_them(tmp_path):
    """Each class of the script was its own dill pickle, holding a copy of every class it
    named: a subclass's base, a class attribute, the globals of a method or function.  So
    `except OutOfStock` in the script's own function let the script's OutOfStock through,
    `isinstance(child, Base)` and `status is Status.OK` were False, and a singleton or registry
    held by its class was another object than the frame's.  pdb on the crash itself answers."""
    (tmp_path / "shop.py").write_text(SHARED_CLASSES)
    commands = ("p attempt(take)\n"
                "p isinstance(child, Base), type(child).__bases__[0] is Base, isinstance(err, OutOfStock)\n"
                "p on_time(status), shelf.kind is Base, type(shelf.make()) is Child\n"
                "p cfg is Config.default, type(cfg) is Config, red is Color.registry['red']\nq\n")
    live, replay = live_and_replayed("shop.py", tmp_path, commands, 4)
    assert replay == live



def test_an_enum_member_whose_class_says_it_is_another_is_the_member(tmp_path):
    """An Enum of the script whose ``__class__`` property names another class (int, str: a
    lazy value's way) pickled its members as that class's value, as Enum's __reduce_ex__ reads
    ``self.__class__``: `level` came back as the int 2.  pdb on the crash itself answers."""
    replays_as_in_the_crash(tmp_path, "menu.py", """
import enum

class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2
    @property
    def __class__(self):
        return int

class Flavour(enum.Enum):
    SWEET = "sweet"
    @property
    def __class__(self):
        return str

def serve(level, flavour):
    raise ValueError("no %s" % flavour.value)

serve(Level.HIGH, Flavour.SWEET)
""", "p level is Level.HIGH, type(level).__name__, flavour is Flavour.SWEET, type(flavour).__name__\n")


def test_a_class_whose_metaclass_redefines_dict_keeps_its_methods(tmp_path):
    """A metaclass of the script whose ``__dict__`` property shows only some names: dill
    rebuilt the class from that, so `box.label()` said "'Box' object has no attribute 'label'".
    pdb on the crash itself answers."""
    replays_as_in_the_crash(tmp_path, "boxes.py", """
class Public(type):
    @property
    def __dict__(cls):
        return {"public": True}

class Box(metaclass=Public):
    size = 3
    def label(self):
        return "box of %d" % self.size

def pack(box):
    raise ValueError("full")

pack(Box())
""", "p box.label(), Box.size, type(box) is Box, Box.__dict__\n")


def test_a_base_classes_init_subclass_runs_once_for_each_subclass(tmp_path):
    """The script's classes are made again at load, then filled: the __init_subclass__ of a base
    ran then for each subclass, on the restored base, so its registry held every subclass twice,
    and a subclass whose class statement gave it keywords was lost (its __init_subclass__ wants
    them).  pdb on the crash itself answers."""
    replays_as_in_the_crash(tmp_path, "plugins.py", """
class Plugin:
    names = []
    def __init_subclass__(cls, /, tag, **keywords):
        super().__init_subclass__(**keywords)
        Plugin.names.append(cls.__name__)
        cls.tag = tag

class Csv(Plugin, tag="csv"):
    def load(self):
        return "rows"

class Json(Plugin, tag="json"):
    pass

def run(plugin):
    raise ValueError("no input for %s" % plugin.tag)

run(Csv())
""", "p Plugin.names, plugin.tag, Json.tag, plugin.load(), type(plugin) is Csv\n")


def test_an_enum_of_the_script_keeps_its_methods(tmp_path):
    """An Enum class of the script came back from its members alone (Enum's functional API):
    `level.bump()` said "'Level' object has no attribute 'bump'".  Its methods, properties,
    class methods, its own __str__ and what its __init__ set on a member are pdb's on the crash
    itself."""
    replays_as_in_the_crash(tmp_path, "levels.py", """
import enum

class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2
    def __init__(self, value):
        self.label = "level %d of %d" % (value, 2)
    def bump(self):
        return Level(min(self + 1, Level.HIGH))
    @property
    def loud(self):
        return self.name + "!"
    @classmethod
    def top(cls):
        return max(cls)
    def __str__(self):
        return "level %d" % self

def alert(level):
    raise ValueError("too high: %s" % level)

alert(Level.LOW)
""", "p level.bump() is Level.HIGH, level.loud, Level.top(), str(level), level.label\n")


def test_an_enum_of_the_script_keeps_its_attributes_that_are_not_functions(tmp_path):
    """Of an Enum class's statement only its functions came back: `__str__ = str.__str__` (a str
    mix-in's value as its str before StrEnum) was Enum's, so str() and f-strings of a member read
    "Color.RED" where the crash read "red"; its docstring and a class attribute set after it were
    gone.  pdb on the crash itself answers."""
    replays_as_in_the_crash(tmp_path, "colors.py", '''
import enum

class Color(str, enum.Enum):
    """The palette's colours."""
    RED = "red"
    BLUE = "blue"
    __str__ = str.__str__
    __format__ = str.__format__

Color.default = Color.BLUE

def paint(color):
    raise ValueError("no paint for %s" % color)

paint(Color.RED)
''', "p str(color), f'{color}', Color.__doc__, Color.default is Color.BLUE, list(Color)\n")


def test_an_enum_of_the_script_keeps_its_own_generate_next_value(tmp_path):
    """What EnumType puts in every Enum class was left out of its functions by name, so a class's
    own _generate_next_value_ (which auto() calls) was Enum's at load: a member the viewer adds
    by it, or a call of it, differed from the crash's.  pdb on the crash itself answers."""
    replays_as_in_the_crash(tmp_path, "compass.py", """
import enum

class Compass(enum.Enum):
    def _generate_next_value_(name, start, count, last_values):
        return name.lower()
    NORTH = enum.auto()
    SOUTH = enum.auto()

def head(direction):
    raise ValueError("cannot head %s" % direction.value)

head(Compass.NORTH)
""", "p Compass._generate_next_value_('WEST', 1, 2, []), direction.value, Compass('south')\n")


def test_an_enum_of_the_script_keeps_the_methods_of_its_own_enum_base(tmp_path):
    """An Enum class of the script was rebuilt on the library's Enum nearest to it, past an Enum
    base of the script holding the methods of several (no members): `perm.has(...)` said
    "'Perm' object has no attribute 'has'", and a member was no instance of that base.  pdb on the
    crash itself answers."""
    replays_as_in_the_crash(tmp_path, "perms.py", """
import enum

class Flags(enum.IntFlag):
    def has(self, other):
        return other in self

class Perm(Flags):
    R = 4
    W = 2

class Named(str, enum.Enum):
    def shout(self):
        return self.value.upper()

class Tone(Named):
    LOW = "low"

def check(perm, tone):
    raise PermissionError("%s needs %s" % (tone, perm))

check(Perm.R | Perm.W, Tone.LOW)
""", "p perm.has(Perm.R), isinstance(perm, Flags), Perm(6), tone.shout(), isinstance(tone, Named)\n")


def test_a_class_of_the_script_lists_its_names_in_the_order_of_its_class_statement(tmp_path):
    """A class of the script came back with its methods after every other attribute, so code
    reading a class's names in order (a form's fields and validators, as declared) read another
    order than in the crash.  pdb on the crash itself answers."""
    replays_as_in_the_crash(tmp_path, "form.py", """
class Signup:
    name = "text"
    def check_name(self, value):
        return bool(value)
    email = "email"
    def check_email(self, value):
        return "@" in value

Signup.terms = "checkbox"

def submit(form):
    raise ValueError("invalid")

submit(Signup())
""", "p [name for name in vars(Signup) if not name.startswith('__')]\n")

@pytest.mark.parametrize("program, options, names", [
    (("bank.py", "10", "200"), ("--safe",), ["amount", "self", "history", "notes"]),
    (("unpicklable.py",), (), ["sock", "pending", "port"]),
])
def test_whatis_names_the_class_a_placeholder_stands_for(crash, tmp_path, program, options, names):
    """Every value in safe mode, values no pickle holds in any mode: pdb names the class they had,
    asked by `whatis x`, `p type(x)` or `pp type(x)` (these two printed tbdump's Placeholder)."""
    dump = crash(*program)
    asked = [ask.format(name) for name in names for ask in ("whatis {}", "p type({})", "pp type({})")]
    commands = "".join(a + "\n" for a in asked) + "q\n"
    live = answers(live_pdb(*program, cwd=tmp_path, stdin=commands).stdout)[:len(asked)]
    assert len(live) == len(asked) and all(answer.startswith("<class '") for answer in live), live
    replayed = answers(run(tbdebug(dump, *options), tmp_path, stdin=commands).stdout)[:len(asked)]
    assert dict(zip(asked, replayed)) == dict(zip(asked, live))


def test_source_shows_the_programs_classes_and_says_what_a_placeholder_lacks(crash, tmp_path):
    dump = crash("bank.py", "10", "200")
    # The reference: `python -m pdb`, which runs the program as __main__ and opens its post-mortem.
    live = answers(run([sys.executable, "-m", "pdb", "bank.py", "10", "200"], tmp_path,
                       stdin="continue\nsource Account\nq\nq\n").stdout)
    assert live[1].startswith("  5  \tclass Account:\n"), live
    assert answers(run(tbdebug(dump), tmp_path, stdin="source Account\nq\n").stdout)[0] == live[1]
    # In safe mode there is no class or function to read: one line says so.
    safe = answers(run(tbdebug(dump, "--safe"), tmp_path, stdin="source Account\nsource div\nq\n").stdout)
    assert safe[0] == ("*** source code not available: Account is a placeholder for the value: "
                       "<type: safe mode <class '__main__.Account'>>\n")
    assert safe[1] == "*** NameError: name 'div' is not defined\n"     # not a placeholder: pdb's answer


def test_the_seed_helper_script_flow(crash, terminal):
    dump = crash("divide.py", "5", "0")
    script = dump.parent / "helper.py"
    script.write_text("import tbdump\ndump = tbdump.load('traceback.pkl')\n"
                      "# any preprocessing here\nbreakpoint()\n")
    pdb = terminal([sys.executable, str(script)])
    pdb.wait_transcript(PDB + r"\Z")
    assert pdb.ask("p dump", PDB).startswith("<tbdump.Dump traceback.pkl: ZeroDivisionError")
    start = len(pdb.transcript()) - 1
    pdb.type("p dump.excep")
    pdb.press("Tab")
    pdb.type(".message")
    pdb.press("Enter")
    assert pdb.wait_answer(PDB, start).splitlines()[:2] == [
        "(Pdb) p dump.exception.message", "'division by zero'"]
    assert "divide.py(5)div()" in pdb.ask("import tbdebug; tbdebug.debug(dump)", PDB)
    assert pdb.ask("p x, y", PDB) == "(5, 0)"
    pdb.ask("quit", PDB)               # leaves the post-mortem, back in the script
    pdb.line("continue")
    assert pdb.exit_status() == 0


def test_a_missing_exception_number_is_one_line(crash, tmp_path):
    done = run(tbdebug(crash("divide.py", "5", "0"), "--exception", "3"), tmp_path)
    assert done.returncode == 2
    assert done.stderr == "tbdebug: there is no exception #3: this dump has 1 (#0-#0)\n"
    assert done.stdout == ""


def test_pythonbreakpoint_0_disables_it_as_python_does(crash, tmp_path):
    done = run(tbdebug(crash("divide.py", "5", "0")), tmp_path, env={"PYTHONBREAKPOINT": "0"},
               stdin="p x\n")
    assert done.returncode == 0
    assert done.stderr == "tbdebug: PYTHONBREAKPOINT=0 disables the debugger; nothing opened\n"
    assert "(Pdb)" not in done.stdout


def test_an_unimportable_pythonbreakpoint_is_one_line(crash, tmp_path):
    done = run(tbdebug(crash("divide.py", "5", "0")), tmp_path,
               env={"PYTHONBREAKPOINT": "no_such_debugger.set_trace"})
    assert done.returncode == 2
    # Not Python's "Ignoring ...": breakpoint() goes on without it, tbdebug ends.
    assert done.stderr == ('tbdebug: $PYTHONBREAKPOINT "no_such_debugger.set_trace" cannot be imported: '
                           'nothing opened\n')


def test_a_pythonbreakpoint_that_is_no_debugger_is_one_line(crash, tmp_path):
    """It imports, but fails when called as breakpoint() calls it: one line and status 2, as
    for a name that does not import, not a traceback of tbdebug's."""
    done = run(tbdebug(crash("divide.py", "5", "0")), tmp_path, env={"PYTHONBREAKPOINT": "json.dumps"})
    assert done.returncode == 2
    assert done.stderr == ('tbdebug: $PYTHONBREAKPOINT "json.dumps" fails when breakpoint() calls it: '
                           "TypeError: dumps() missing 1 required positional argument: 'obj'\n")


def test_a_hook_without_post_mortem_opens_with_the_dump_in_reach(crash, tmp_path):
    crash("divide.py", "5", "0")
    (tmp_path / "plainhook.py").write_text(
        "import sys\n"
        "def stop():\n"
        "    scope = sys._getframe(1).f_locals\n"
        "    print('in reach:', sorted(scope))\n"
        "    print('crash:', scope['traceback'].tb_next.tb_frame.f_locals)\n")
    done = run([sys.executable, "-m", "tbdebug"], tmp_path,     # traceback.pkl by default
               env={"PYTHONBREAKPOINT": "plainhook.stop"})
    assert done.returncode == 0, done.stderr
    assert "tbdebug: plainhook.stop has no post_mortem()" in done.stdout
    assert "in reach: ['dump', 'exception', 'hook', 'traceback']" in done.stdout
    assert "crash: {'x': 5, 'y': 0}" in done.stdout


def test_help_explains_every_option():
    done = run([sys.executable, "-m", "tbdebug", "--help"], Path.cwd())
    assert done.returncode == 0
    for needle in ("--safe", "--exception N", "--command COMMAND", "PYTHONBREAKPOINT", "PYTHONBREAKPOINT=0",
                   "traceback.pkl", "`exceptions`", "exit status"):
        assert needle in done.stdout, needle


# -- the other debuggers PYTHONBREAKPOINT can name, each in a venv of its own ------------------

def test_ipdb(crash, terminal, ipdb_python):
    dump = crash("divide.py", "5", "0")
    ipdb = terminal([ipdb_python, "-m", "tbdebug", str(dump)],
                    env={"PYTHONBREAKPOINT": "ipdb.set_trace"})
    prompt = r"ipdb>"
    opened = ipdb.wait_transcript(prompt + r"\Z", timeout=60)
    assert "----> 5     return x / y" in opened
    assert ipdb.ask("p x, y", prompt) == "(5, 0)"
    assert "---> 11     print(div(x, y))" in ipdb.ask("up", prompt)
    assert ipdb.ask("p __name__, x", prompt) == "('__main__', 5)"
    ipdb.line("q")
    assert ipdb.exit_status() == 0


def test_pdbpp_replaces_pdb(crash, terminal, pdbpp_python):
    dump = crash("divide.py", "5", "0")
    pdbpp = terminal([pdbpp_python, "-m", "tbdebug", str(dump)],
                     env={"PYTHONBREAKPOINT": ""})      # unset: pdb, which pdb++ has replaced
    prompt = r"\(Pdb\+\+\)"
    opened = pdbpp.wait_transcript(prompt + r"\Z", timeout=60)
    assert "divide.py(5)div()" in opened
    assert pdbpp.ask("p x, y", prompt) == "(5, 0)"
    assert "4 def div(x, y):\n5 -> return x / y" in squash(pdbpp.ask("longlist", prompt))
    pdbpp.line("q")
    assert pdbpp.exit_status() == 0


def test_pudb(crash, terminal, ipdb_python, tmp_path):
    config = tmp_path / "config" / "pudb"
    config.mkdir(parents=True)
    # A first run would greet with dialogs; a person who has used pudb once has this.
    (config / "pudb.cfg").write_text("[pudb]\nseen_welcome = z\nprompt_on_quit = False\n")
    dump = crash("divide.py", "5", "0")
    pudb = terminal([ipdb_python, "-m", "tbdebug", str(dump)],
                    env={"PYTHONBREAKPOINT": "pudb.set_trace",
                         "XDG_CONFIG_HOME": str(config.parent)})
    screen = pudb.wait_screen(r"Variables:", timeout=60)
    assert "PuDB" in screen and ">     return x / y" in screen
    assert "x: 5" in screen and "y: 0" in screen
    assert ">> div divide.py:5" in screen and "<module> divide.py:11" in screen
    pudb.press("q")
    assert pudb.exit_status() == 0


def test_a_context_raise_from_none_suppressed_is_listed_and_opens(crash, terminal):
    # Python prints only the ConfigError; the ValueError it was raised in the handler of is
    # its __context__ all the same, and the dump holds it with its frame.
    pdb = terminal(tbdebug(crash("suppressed.py"), "--exception", "1"))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert "#0 ConfigError: port '80a' is not a number  (raised; 3 frames)" in opened
    assert ("#1 ValueError: invalid literal for int() with base 10: '80a'  (being handled when #0 "
            "happened; suppressed: not in the traceback; 1 frame)") in opened
    assert "suppressed.py(11)parse_port()" in opened
    assert pdb.ask("p text", PDB) == "'80a'"
    pdb.line("q")
    assert pdb.exit_status() == 0


def test_the_members_of_a_suppressed_group_are_listed_as_members(crash, terminal):
    # Off the printed traceback, the group is still a group: its members are its own.
    pdb = terminal(tbdebug(crash("suppressed_group.py"), "--exception", "1"))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert ("#1 ExceptionGroup: invalid items (2 sub-exceptions)  (being handled when #0 happened; "
            "suppressed: not in the traceback; 2 frames)") in opened
    assert "#2 ValueError: item -2 is negative  (in exception group #1; never raised: no frames)" in opened
    assert "#3 ValueError: item -3 is negative  (in exception group #1; never raised: no frames)" in opened
    pdb.line("q")
    assert pdb.exit_status() == 0


def test_exception_group_members_and_unraised_causes(crash, terminal, tmp_path):
    dump = crash("group.py")
    pdb = terminal(tbdebug(dump, "--exception", "3"))
    opened = pdb.wait_transcript(PDB + r"\Z")
    assert "#1 LookupError: never raised  (the direct cause of #0; never raised: no frames)" in opened
    assert "#3 ValueError: c is negative: -3  (in exception group #0; 2 frames)" in opened
    assert "group.py(6)check()" in opened
    assert pdb.ask("p name, value", PDB) == "('c', -3)"
    assert pdb.ask("up", PDB).endswith("-> check(name, value)")
    # One frame, captured once: its locals as they were when the group was raised.
    assert pdb.ask("p sorted(record), len(errors)", PDB) == "(['a', 'b', 'c'], 2)"
    pdb.line("q")
    assert pdb.exit_status() == 0

    done = run(tbdebug(dump, "--exception", "1"), tmp_path)
    assert done.returncode == 2
    assert done.stderr == "tbdebug: exception #1 was never raised: it has no frames to debug\n"


def test_a_group_of_500_lists_a_few_members_and_says_which_it_leaves_out(crash, terminal):
    pdb = terminal(tbdebug(crash("many_failures.py"), "--exception", "300"))
    opened = pdb.wait_transcript(PDB + r"\Z")
    listed = [line for line in opened.splitlines() if line.startswith("tbdebug:   ")]
    assert listed == ["tbdebug:   #0 ExceptionGroup: 500 tasks failed (500 sub-exceptions)  (raised; 2 frames)"] + [
        "tbdebug:   #%d ValueError: task %d failed  (in exception group #0; 2 frames)" % (n, n - 1)
        for n in range(1, 12)] + [
        "tbdebug:   ... 288 more exceptions: #12 to #299",
        "tbdebug:   #300 ValueError: task 299 failed  (in exception group #0; 2 frames)",
        "tbdebug:   ... 198 more exceptions: #301 to #498",
        "tbdebug:   #499 ValueError: task 498 failed  (in exception group #0; 2 frames)",
        "tbdebug:   #500 ValueError: task 499 failed  (in exception group #0; 2 frames)"]
    assert pdb.ask("p number", PDB) == "299"
    pdb.line("q")
    assert pdb.exit_status() == 0


def test_jump_is_refused_as_pdb_refuses_it(crash, tmp_path):
    dump = crash("divide.py", "5", "0")
    commands = "jump 4\nwhere\nq\n"
    live = answers(live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands).stdout)
    replay = answers(run(tbdebug(dump), tmp_path, stdin=commands).stdout)
    # A live frame outside a trace function refuses too; a replay must not fake the jump.
    assert live[0].startswith("*** Jump failed: ") and replay[0].startswith("*** Jump failed: ")
    assert "the program is not running" in replay[0]
    crash_line = "divide.py(5)div()\n-> return x / y\n"
    assert live[1].endswith(crash_line) and replay[1].endswith(crash_line)


@pytest.mark.parametrize("command", ["next", "s", "c", "until", "r"])
def test_running_on_ends_the_post_mortem_and_says_why(crash, tmp_path, command):
    dump = crash("divide.py", "5", "0")
    commands = f"{command}\np 'still here'\n"
    live = live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands)
    replay = run(tbdebug(dump), tmp_path, stdin=commands)
    # pdb.post_mortem() ends there too; the replay also says why it cannot go on.
    assert "still here" not in live.stdout and "still here" not in replay.stdout
    assert replay.returncode == 0 and replay.stderr == ""
    assert replay.stdout.endswith(f"(Pdb) tbdebug: {command}: the program is not running, "
                                  "so it cannot go on; the post-mortem has ended\n")


def test_what_the_locale_cannot_read_is_pdbs_one_line_error(crash, tmp_path):
    """In the C locale (ASCII, PYTHONUTF8=0) a typed "é" reaches pdb as surrogates, which
    Python cannot compile: pdb says so and goes on; tbdebug ended in a traceback at `p` and `pp`."""
    dump = crash("divide.py", "5", "0")
    commands = 'p "é"\npp "é"\np x\nq\n'
    c_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    live = live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands, env=c_locale)
    replay = run(tbdebug(dump), tmp_path, env=c_locale, stdin=commands)
    assert replay.returncode == 0 and replay.stderr == "", replay.stderr
    assert answers(replay.stdout) == answers(live.stdout)
    assert answers(live.stdout)[0].startswith("*** UnicodeEncodeError: ") and answers(live.stdout)[2] == "5\n"


def test_pdbrc_files_are_run_as_pdb_runs_them_and_one_it_cannot_read_is_named(crash, tmp_path):
    dump = crash("divide.py", "5", "0")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pdbrc").write_text('alias hi p "hello from ~/.pdbrc"\nup\n')
    (tmp_path / ".pdbrc").write_text("p 'from ./.pdbrc', x\n")
    commands = "hi\nq\n"
    live = live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands, env={"HOME": str(home)})
    replay = run(tbdebug(dump), tmp_path, stdin=commands, env={"HOME": str(home)})
    assert live.stdout.split("(Pdb) ")[0].endswith("('from ./.pdbrc', 5)\n> "
                                                   f"{tmp_path}/divide.py(11)<module>()\n-> print(div(x, y))\n")
    assert replay.stdout.split("(Pdb) ")[0].endswith("('from ./.pdbrc', 5)\n> "
                                                     f"{tmp_path}/divide.py(11)<module>()\n-> print(div(x, y))\n")
    assert answers(replay.stdout) == answers(live.stdout) == ["'hello from ~/.pdbrc'\n", ""]

    # Not UTF-8 (Latin-1): pdb ends in a UnicodeDecodeError traceback; tbdebug names the file
    # and goes on without it.
    (tmp_path / ".pdbrc").write_bytes(b"p 'caf\xe9'\n")
    replay = run(tbdebug(dump), tmp_path, stdin=commands, env={"HOME": str(home)})
    assert replay.returncode == 0 and replay.stderr == "", replay.stderr
    assert "\ntbdebug: .pdbrc: not read: it is not utf-8 text (byte 6: invalid continuation byte)\n" \
        in replay.stdout
    assert answers(replay.stdout) == ["'hello from ~/.pdbrc'\n", ""]


def test_c_runs_pdb_commands_first_as_python_m_pdb_c_does(crash, tmp_path):
    """`-c`, repeated, runs its commands after the .pdbrc files, as `python -m pdb -c` runs those
    left after its `continue` at the crash: `-c 'p x' -c q` prints and leaves, with no prompt
    (for a script in CI); the commands of a debugger that is not pdb take no -c, said in one line."""
    dump = crash("divide.py", "5", "0")
    (tmp_path / ".pdbrc").write_text("p 'from ./.pdbrc'\n")
    commands = ["-c", "p x", "--command", "up", "-c", "p x, y", "-c", "q"]
    live = run([sys.executable, "-m", "pdb", "-c", "continue", *commands, "divide.py", "5", "0"], tmp_path,
               stdin="q\n")
    # pdb runs .pdbrc at its first stop, before the `continue`; the rest of -c at the crash.
    rc_lines, at_crash = live.stdout.split("Uncaught exception. Entering post mortem debugging\n"
                                           "Running 'cont' or 'step' will restart the program\n")
    at_crash = at_crash.split("Post mortem debugger finished.")[0]
    assert rc_lines + at_crash == ("'from ./.pdbrc'\n5\n"
                                   f"> {tmp_path}/divide.py(11)<module>()\n-> print(div(x, y))\n(5, 0)\n")
    replay = run(tbdebug(dump, *commands), tmp_path)   # nothing on stdin: no prompt is waiting
    assert replay.returncode == 0 and replay.stderr == "", replay.stderr
    assert replay.stdout.endswith(f"Python {'.'.join(map(str, sys.version_info[:3]))})\n" + rc_lines + at_crash)

    refused = run(tbdebug(dump, "-c", "p x"), tmp_path, env={"PYTHONBREAKPOINT": "json.dumps"})
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == ("tbdebug: -c runs pdb's commands: PYTHONBREAKPOINT names json.dumps, "
                              "whose post-mortem takes no commands\n")


@pytest.mark.parametrize("terminal_env, typed", [
    ({"PYTHONIOENCODING": "ascii"}, "é".encode("utf-8")),   # a UTF-8 terminal, an ASCII Python
    # A Latin-1 terminal, a Python reading UTF-8 strictly (as in en_US.UTF-8; C.UTF-8 escapes).
    ({"PYTHONIOENCODING": "utf-8"}, "é".encode("latin-1")),
], ids=["ascii-python", "latin1-terminal"])
def test_typed_bytes_the_encoding_cannot_decode_are_pdbs_one_line_error(crash, tmp_path, terminal_env, typed):
    """Typed bytes stdin's encoding cannot decode reach pdb as surrogates, as Python reads them
    in the C locale, and pdb answers as it does there; tbdebug, like pdb outside the C locale,
    ended in a UnicodeDecodeError traceback at `input()`."""
    dump = crash("divide.py", "5", "0")
    commands = b'p "' + typed + b'"\np x\nq\n'
    c_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    live = subprocess.run([sys.executable, "-c", LIVE.format(chosen="exc"), "divide.py", "5", "0"],
                          cwd=tmp_path, env=child_env(c_locale), input=commands, capture_output=True,
                          timeout=120)
    replay = subprocess.run(tbdebug(dump), cwd=tmp_path, env=child_env(terminal_env), input=commands,
                            capture_output=True, timeout=120)
    assert replay.returncode == 0 and replay.stderr == b"", replay.stderr.decode(errors="replace")
    assert answers(replay.stdout.decode()) == answers(live.stdout.decode())
    assert answers(live.stdout.decode())[0].startswith("*** UnicodeEncodeError: ")
    assert answers(live.stdout.decode())[1] == "5\n"


def test_a_breakpoint_says_that_only_debug_reaches_it(crash, tmp_path):
    dump = crash("divide.py", "5", "0")
    commands = "break div\ntbreak 11\nb 5\nbreak nothing_of_the_program\nq\n"
    live = answers(live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands).stdout)
    replay = answers(run(tbdebug(dump), tmp_path, stdin=commands).stdout)
    note = "tbdebug: the program is not running: a breakpoint stops only what `debug` runs\n"
    # Set as pdb sets them (`continue` would end the post-mortem, not reach them).
    assert replay[:3] == [answer + note for answer in live[:3]]
    assert [answer.split(" at ")[0] for answer in live[:3]] == ["Breakpoint 1", "Breakpoint 2", "Breakpoint 3"]
    assert replay[3] == live[3] and replay[3].startswith("*** ")   # none set: no note


def test_help_explains_each_command_as_pdbs_does(crash, tmp_path):
    """The commands tbdebug answers in its own way keep pdb's help (`help p` said
    "No help for 'p'; __doc__ string missing", and `help` listed them as undocumented)."""
    dump = crash("divide.py", "5", "0")
    commands = "".join(f"help {command}\n" for command in
                       ("p", "pp", "whatis", "source", "debug", "break", "b", "tbreak", "jump"))
    live = answers(live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands + "q\n").stdout)
    replay = answers(run(tbdebug(dump), tmp_path, stdin=commands + "help\nq\n").stdout)
    assert replay[:9] == live[:9] and not any(answer.startswith("***") for answer in live[:9])
    assert "Documented commands" in replay[9] and "Undocumented" not in replay[9]


def test_debug_steps_through_the_dumps_code_and_the_session_goes_on_at_the_crash(crash, tmp_path):
    dump = crash("divide.py", "5", "0")
    # A breakpoint stops the code `debug` runs, in the dump's function restored.
    commands = "break div\ndebug div(6, 3)\nc\np x, y\nc\nwhere\np x, y\nq\np 'after quit'\n"
    done = run(tbdebug(dump), tmp_path, stdin=commands)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    replay = answers(done.stdout)
    assert "((Pdb)) (6, 3)\n((Pdb)) LEAVING RECURSIVE DEBUGGER\n" in replay[1]
    # pdb.post_mortem() then traces its own code (cmd.py) and `quit` ends it in a BdbQuit
    # traceback; the replay is back at the crash, its frames and values, and quits.
    assert replay[2].endswith("divide.py(11)<module>()\n-> print(div(x, y))\n"
                              f"> {dump.parent}/divide.py(5)div()\n-> return x / y\n")
    assert replay[3] == "(5, 0)\n"
    assert "after quit" not in done.stdout


@pytest.mark.parametrize("version", ["the tests' own", "3.13"])
def test_debug_leaves_the_crash_as_it_found_it(crash, tmp_path, version):
    """The code `debug` runs shares the crash frame's namespaces, where pdb keeps its books: it
    left `__return__` there (`where` then showed `div()->None` and `retval` None, as if the crashed
    call had returned), `__exception__`, and (3.12+) cleared the convenience variables as it ended
    (`p $_exception`: NameError).  pdb.post_mortem() is lost in its own code after `debug`, so the
    reference is the same session before it."""
    python = sys.executable if version != "3.13" else python_3_13()
    dump = crash("divide.py", "5", "0", python=python)
    probes = "where\nretval\np sorted(locals())\np $_frame.f_lineno, $_exception, $mark\n"
    # Stepped to the expression's return (`--Return--`), then to an exception it raises.
    commands = ("$mark = 'kept'\n" + probes + "debug div(6, 3)\nn\nc\ndebug div(1, 0)\nn\nc\n"
                + probes + "q\n")
    done = run(tbdebug(dump, python=python), tmp_path, stdin=commands)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    replay = answers(done.stdout)
    before, after = replay[1:5], replay[7:11]
    assert "--Return--" in replay[5] and "ZeroDivisionError" in replay[6]
    assert after == before
    assert before[0].endswith("divide.py(5)div()\n-> return x / y\n") and before[1] == "*** Not yet returned!\n"
    if version == "3.13":
        assert before[3] == "(5, ZeroDivisionError('division by zero'), 'kept')\n"


def test_an_assignment_stays_when_the_frame_changes_as_in_3_13s_pdb(crash, tmp_path):
    """`!x = 50` then `up` and `down`: Python 3.13's pdb keeps it (PEP 667), older ones put the
    local's value back; tbdebug keeps it on every Python, as TERMINAL.md says."""
    dump = crash("divide.py", "5", "0")
    commands = "!x = 50\n!z = 1\nup\ndown\np x, z\nq\n"
    live = answers(live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands, python=python_3_13()).stdout)
    replay = answers(run(tbdebug(dump), tmp_path, stdin=commands).stdout)
    assert replay[4] == live[4] == "(50, 1)\n"


def test_a_frames_locals_are_what_3_13s_pdb_shows(crash, tmp_path):
    """`$_frame.f_locals` of a function's frame is a FrameLocalsProxy on 3.13 (PEP 667), whose
    keys(), values() and items() are lists: `keys()[0]` raised TypeError ('dict_keys' object is
    not subscriptable) in tbdebug, where live pdb answers."""
    python = python_3_13()
    dump = crash("divide.py", "5", "0", python=python)
    commands = ("p $_frame.f_locals.keys()\np $_frame.f_locals.keys()[0]\n!x = 50\n"
                "p $_frame.f_locals.items()\np $_frame.f_locals.values()[-1]\nq\n")
    live = answers(live_pdb("divide.py", "5", "0", cwd=tmp_path, stdin=commands, python=python).stdout)
    replay = answers(run(tbdebug(dump, python=python), tmp_path, stdin=commands).stdout)
    assert replay[:5] == live[:5]
    assert live[1] == "'x'\n"


@pytest.mark.parametrize("command", ["restart", "run", "run --fast"])
def test_restart_is_one_line_not_a_traceback(crash, tmp_path, command):
    """Named as typed: pdb's `run` is its `restart` under another name (tbdebug said `restart:` of both)."""
    done = run(tbdebug(crash("divide.py", "5", "0")), tmp_path, stdin=f"{command}\n")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.endswith(f"(Pdb) tbdebug: {command.split()[0]}: a dump cannot be restarted; "
                                "the program is not running\n")


@pytest.mark.parametrize("program", ["missing_key.py", "group.py"])
def test_the_exception_shows_as_pdb_shows_it(crash, tmp_path, program):
    """Python 3.13's pdb shows the exception object: `$_exception`, `exceptions`."""
    python = python_3_13()
    dump = crash(program, python=python)
    commands = "p $_exception\np $_exception.args\nexceptions\nq\n"
    live = answers(live_pdb(program, cwd=tmp_path, stdin=commands, python=python).stdout)
    replay = answers(run(tbdebug(dump, python=python), tmp_path, stdin=commands).stdout)
    assert replay[:3] == live[:3]
    if program == "missing_key.py":
        assert live[:3] == ["KeyError('b')\n", "('b',)\n", ">   0 KeyError('b')\n"]


def test_a_groups_members_are_raised_and_chained_as_pdb_shows_them(crash, tmp_path):
    """`$_exception.exceptions`: each member with its own traceback and cause, as the live
    group's (3.13's pdb); in safe mode too, where the members are stand-ins."""
    python = python_3_13()
    dump = crash("group_of_chains.py", python=python)
    commands = ("p [(e.__traceback__.tb_lineno, e.__traceback__.tb_next.tb_lineno, e.__cause__)"
                " for e in $_exception.exceptions]\nq\n")
    live = answers(live_pdb("group_of_chains.py", cwd=tmp_path, stdin=commands, python=python).stdout)
    assert live[0] == ('[(15, 8, ValueError("invalid literal for int() with base 10: \'x\'")), '
                       '(15, 8, ValueError("invalid literal for int() with base 10: \'y\'"))]\n')
    for options in ((), ("--safe",)):
        replay = answers(run(tbdebug(dump, *options, python=python), tmp_path, stdin=commands).stdout)
        assert replay[0] == live[0], options


def test_an_exception_that_comes_back_as_no_exception_runs_none_of_its_code(crash, tmp_path):
    """`$_exception` of a cause whose pickle is a lazy proxy (programs/lazyproxy.py): the stand-in
    asked isinstance() of the proxy, which read its __class__ property, the program's code fetching
    what it stands for: `p $_exception.args` said the ConnectionError of a server not there."""
    python = python_3_13()
    shutil.copy(PROGRAMS / "lazyproxy.py", tmp_path)
    dump = crash("lazy_cause.py", python=python)
    commands = "exceptions 0\np $_exception.args\np $_exception.errno\nq\n"
    replay = answers(run(tbdebug(dump, python=python), tmp_path, stdin=commands).stdout)
    # The stand-in's own: its message, and no attribute an exception's class would add.
    assert replay[1:3] == ["('db.internal:5432',)\n", "*** AttributeError: errno\n"], replay
    assert not (tmp_path / "fetched").exists()


def test_source_of_a_value_that_comes_back_as_a_lazy_proxy_is_pdbs_one_line_error(crash, tmp_path):
    """`source error`, a variable whose pickle is a lazy proxy (programs/lazyproxy.py): tbdebug
    asked isinstance() of it first (3.13's inspect needs a class's __firstlineno__), outside pdb's
    handling, and ended in the traceback of the ConnectionError its __class__ property raised."""
    python = python_3_13()
    shutil.copy(PROGRAMS / "lazyproxy.py", tmp_path)
    done = run(tbdebug(crash("lazy_cause.py", python=python), python=python), tmp_path,
               stdin="source error\np 6 * 7\nq\n")
    # pdb's one line, as it says it of such a proxy live, and the session goes on.
    assert answers(done.stdout)[:2] == ["*** no server at db.internal:5432\n", "42\n"], done


def test_whatis_of_a_lazy_proxy_whose_class_raises_names_its_type_and_the_session_goes_on(crash, tmp_path):
    """`whatis error`, a variable whose pickle is a lazy proxy (programs/lazyproxy.py) whose
    __class__ property raises where its server is not: pdb asks `value.__class__ is type` outside
    any try, and its traceback ended the session (pdb's own ends so too).  pdb's answer for a
    value that is no class, its type(), and the next command is answered."""
    shutil.copy(PROGRAMS / "lazyproxy.py", tmp_path)
    done = run(tbdebug(crash("lazy_cause.py")), tmp_path, stdin="whatis error\nwhatis report\np 6 * 7\nq\n")
    assert answers(done.stdout)[:3] == ["<class 'lazyproxy.Lazy'>\n", "Function report\n", "42\n"], done
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("program, option, chosen", [
    ("chained.py", "1", "exc.__cause__"),
    ("suppressed.py", "1", "exc.__context__"),               # kept out of the traceback by `from None`
    ("group_of_chains.py", "1", "exc.exceptions[0]"),        # a group's member, raised from another
])
def test_another_exception_of_the_chain_is_what_pdb_makes_of_it(crash, tmp_path, program, option, chosen):
    """`--exception N` is pdb.post_mortem() of that exception: 3.13's `exceptions` lists it and
    the exceptions it was raised from (not the ones raised after it, as pdb cannot follow
    links back), numbered as pdb numbers them, and switches between them, as live."""
    python = python_3_13()
    dump = crash(program, python=python)
    commands = "exceptions\nexceptions 0\nwhere\np $_exception\nexceptions 1\nwhere\nexceptions 2\nq\n"
    live = answers(live_pdb(program, cwd=tmp_path, stdin=commands, python=python, chosen=chosen).stdout)
    replay = answers(run(tbdebug(dump, "--exception", option, python=python), tmp_path, stdin=commands).stdout)
    assert replay == live
    assert len(live) == 8 and "> " in live[0]


def _stdlib_lines(text: str) -> str:
    """The standard library's files and lines, which differ from one Python to the next, as one."""
    return re.sub(r"\S*/python3\.\d+/(\S+?)\(\d+\)", r"<stdlib>/\1(N)", re.sub(r"^.*<frozen .*\n", "", text, flags=re.M))


@pytest.mark.parametrize("program, option, chosen", [
    ("chained.py", "0", "exc"),
    ("suppressed.py", "1", "exc.__context__"),
    ("group_of_chains.py", "1", "exc.exceptions[0]"),
])
def test_the_exceptions_command_on_every_python_is_3_13s(crash, tmp_path, program, option, chosen):
    """Before 3.13 pdb has no `exceptions`: tbdebug's lists and switches as 3.13's does (here
    on the Python the tests run on, against a live crash in 3.13's pdb), and `help` explains it."""
    python = python_3_13()
    dump = crash(program)
    commands = ("exceptions\nexceptions 0\nup\nexceptions 1\nexceptions 2\nexceptions one\n"
                "help exceptions\nq\n")
    live = answers(live_pdb(program, cwd=tmp_path, stdin=commands, python=python, chosen=chosen).stdout)
    replay = answers(run(tbdebug(dump, "--exception", option), tmp_path, stdin=commands).stdout)
    assert [_stdlib_lines(answer) for answer in replay[:6]] == [_stdlib_lines(answer) for answer in live[:6]]
    assert re.match(r">? +0 \w+", live[0]) and live[4].startswith("*** ") and live[5].startswith("*** ")
    assert "List or change current exception in an exception chain." in replay[6]


@pytest.mark.parametrize("program, args, writer, name, line", [
    ("bank.py", ["10", "200"], "3.11.7", "Account", 5),   # pickled by 3.11: a stand-in on 3.13
    ("palette.py", [], "3.13.0", "Color", 5),             # an Enum rebuilt from its members
], ids=["foreign-class", "enum"])
def test_source_of_a_class_on_python_3_13(crash, tmp_path, program, args, writer, name, line):
    """3.13's inspect finds a class by the `__firstlineno__` 3.13 gives the classes it creates;
    a class from the dump has it only if 3.13 pickled it and pickle could rebuild it."""
    python = python_3_13()
    dump = crash(program, *args, python=str(_venv(writer)))
    shown = answers(run(tbdebug(dump, python=python), tmp_path, stdin=f"source {name}\nq\n").stdout)[0]
    assert squash(shown).startswith(f" {line} class {name}"), shown


def test_a_crash_in_a_thread_opens_at_its_frame(crash, tmp_path):
    dump = crash("worker.py")
    done = run(tbdebug(dump), tmp_path, stdin="p total, i, items\nup\nq\n")
    assert done.returncode == 0, done.stderr
    opened, values, up = done.stdout.split("(Pdb) ")[:3]
    assert "worker.py(8)work()\n-> total += 10 / i" in opened
    # The waiting main thread ran in Python's frozen modules, which have no source
    # anywhere: nothing to tell about them.
    assert "<frozen" not in opened and "no source to show" not in opened
    assert values == "(10.0, 0, [1, 0])\n"
    assert "threading.py" in up and "run()" in up


def test_a_weak_proxy_dead_in_the_dump_is_asked_its_class_as_pdb_asks_a_live_one(tmp_path):
    """A weak proxy whose referent is not kept alive as the dump is restored (dap/programs/
    dead_proxy.py): `p type(proxy)` ended tbdebug with a traceback (ReferenceError: isinstance()
    read the dead proxy's __class__).  (`whatis` is left out: pdb's own reads ``__class__``.)"""
    source = Path(__file__).resolve().parents[1] / "dap" / "programs" / "dead_proxy.py"
    (tmp_path / "dead_proxy.py").write_text(source.read_text())
    commands = "p type(proxy)\npp type(proxy)\np 'still here'\nq\n"
    live = answers(live_pdb("dead_proxy.py", cwd=tmp_path, stdin=commands).stdout)[:3]
    assert live[0].startswith("<class 'weak"), live   # its name differs between Pythons
    assert run([sys.executable, "-m", "tbdump", "dead_proxy.py"], tmp_path).returncode == 1
    done = run(tbdebug(tmp_path / "traceback.pkl"), tmp_path, stdin=commands)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert answers(done.stdout)[:3] == live
