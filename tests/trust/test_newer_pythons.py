"""What Python 3.12 and 3.13 changed, end to end: programs that use it crash under those
Pythons, and their dumps open there and under the suite's 3.11.

- PEP 695 generics and `type` aliases (3.12) come back from the dump as the program held them;
- `python -i -m tbdump` opens Python's prompt on the crash, kept in `sys.last_exc` (3.12), as
  `python -i` does;
- a crash typed at 3.13's new REPL, which is Python code calling `sys.excepthook`, is dumped
  with the typed code's frames, as the REPL prints it;
- capture reads a frame without changing it, though 3.13's `f_locals` writes through (PEP 667);
- tblsp finds the names in an f-string that nests its own quotes (PEP 701), whichever Python
  runs it;
- 3.13's coloured traceback (PYTHON_COLORS) is Python's under `-t`, and plain text in the dump.

Each Python runs this tree from the venv test_xversion.py makes for it; a Python that is not
installed skips its cases, saying which.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from ..conftest import PYTHON, env_for_child, write
from ..lsp.lsp_support import ENV, WAIT, col_of, hover_text, open_file, served, start
from ..viewers.conftest import tmux  # noqa: F401  (the fixture)
from ..viewers.terminal import Terminal
from .test_xversion import _interpreter, _venv

NEWER = ["3.12.1", "3.13.0"]


def newer(version: str) -> str:
    """The python of ``version``'s venv; the test is skipped where pyenv has no such Python."""
    if not _interpreter(version).is_file():
        pytest.skip("Python %s is not installed here (pyenv install %s)" % (version, version))
    return str(_venv(version))


def crashed(python: str, folder: Path, program: str) -> None:
    write(folder / "prog.py", program)
    done = subprocess.run([python, "-m", "tbdump", "prog.py"], cwd=str(folder), env=env_for_child(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and (folder / "traceback.pkl").is_file(), done.stderr


# What the live program and a loaded dump are asked: each probe over the frame's globals and locals.
ANSWERS = '''
def answers(names, probes):
    out = {}
    for key, probe in probes.items():
        try:
            out[key] = repr(eval(probe, dict(names)))
        except Exception as exc:
            out[key] = "raised %r" % exc
    return out
'''

PROBES = {
    "pair": "(Pair.__name__, Pair.__value__, Pair.__type_params__, Pair[int])",
    "alias": "Pair",
    "box": "(type(box).__name__, box.item, Box.__type_params__, Box[int])",
    "box_item": "box.item",
    "old": "(type(old).__name__, OldBox.__parameters__, OldBox[int])",
    "local": "(Local.__value__, Local.__type_params__, Local.__value__.__args__[0] is param)",
    "param": "(type(param).__name__, param.__name__, param.__constraints__)",
    "variance": "param.__infer_variance__",
    "function": "(first.__qualname__, first.__code__.co_varnames[:1])",
    "generic_functions": "(first.__type_params__, Box.unwrap.__type_params__, keyed.__type_params__, "
                         "first.__type_params__[0] is first.__annotations__['return'], plain.__type_params__)",
    "tree": "(Tree.__name__, getattr(Tree.__value__, 'reason', Tree.__value__))",
    "missing": "(Missing.__name__, getattr(Missing.__value__, 'reason', Missing.__value__))",
}

GENERICS = ANSWERS + '''
import atexit, json, typing

type Pair[K] = tuple[K, K]
type Tree = list[Tree] | int          # names itself
T = typing.TypeVar("T")


class Box[V]:
    def __init__(self, item: V) -> None:
        self.item = item

    def unwrap[U](self, default: U) -> V | U:
        return self.item


def keyed[K, *Ks](key: K, token: str = "s3cr3t") -> K:   # its default hidden in the dump
    return key


def plain(x):
    return x


class OldBox(typing.Generic[T]):
    pass


def first[S: (int, str)](xs: list[S]) -> S:
    type Local = list[S]
    type Missing = Undefined          # a value Python cannot work out
    box = Box[int](5)
    old = OldBox[str]()
    param = S
    held = {**globals(), **locals()}
    atexit.register(lambda: json.dump(answers(held, %r), open("live.json", "w")))
    return xs[len(xs)]


first([1, 2])
''' % (PROBES,)

LOADER = ANSWERS + '''
import json, sys, tbdump
frame = tbdump.load("traceback.pkl").frames[-1]
print(json.dumps(answers({**frame.globals, **frame.locals}, json.loads(sys.argv[1]))))
'''


def loaded(python: str, folder: Path) -> Dict[str, str]:
    done = subprocess.run([python, "-c", LOADER, json.dumps(PROBES)], cwd=str(folder), env=env_for_child(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("version", NEWER)
def test_generics_and_type_aliases_of_the_program_come_back(version: str, tmp_path: Path) -> None:
    """`class Box[V]`, `def first[S]`, `type Pair[K] = ...` in the script and in a function, and a
    `typing.Generic` class: the same Python gets them back as the program held them (a class
    of Generic's could not be made again, nor the functions and instances that use it; a
    generic function or method lost its `__type_params__`, which dill does not write).  An
    alias whose value names itself, or a name never defined, keeps its name, its value a
    placeholder saying why.  Under 3.11, which has no `type` aliases, they are placeholders
    saying so; the type parameters and the instances' data still load."""
    python = newer(version)
    crashed(python, tmp_path, GENERICS)
    live = json.loads((tmp_path / "live.json").read_text())
    same = loaded(python, tmp_path)
    differ = {key: (live[key], same[key]) for key in PROBES if key not in ("tree", "missing")
              and live[key] != same[key]}
    assert not differ, differ
    assert "it names the alias itself" in same["tree"] and same["tree"].startswith("('Tree', ")
    assert "NameError" in live["missing"] and "not captured: NameError: name 'Undefined'" in same["missing"]

    old = loaded(PYTHON, tmp_path)
    assert old["param"] == live["param"] and old["box_item"] == "5", old
    assert "not restored: type aliases are Python 3.12's" in old["alias"], old["alias"]


# Python's prompt after the program, as each Python shows it: the crash, and the program's globals.
AT_PROMPT = "import sys\nprint(repr(sys.last_value), sys.last_traceback is sys.last_value.__traceback__, data)\n"
FAILS = "data = [1, 0]\n\ndef div(a, b):\n    return a / b\n\ndiv(*data)\n"
EXITS = "import sys\ndata = 3\nsys.exit(data)\n"


@pytest.mark.parametrize("version", ["3.11"] + NEWER)
def test_python_i_opens_its_prompt_on_the_crash(version: str, tmp_path: Path) -> None:
    """`python -i -m tbdump prog.py` is `python -i prog.py`: after the crash is dumped, Python's
    prompt opens in the program's globals with the crash in sys.last_value (and sys.last_exc),
    rather than a SystemExit of tbdump's own and its traceback; a SystemExit of the program's
    is printed from the program's frames, as Python prints it, and the prompt opens too."""
    python = PYTHON if version == "3.11" else newer(version)
    at_prompt = AT_PROMPT + ("print(sys.last_exc is sys.last_value)\n" if version != "3.11" else "")
    for program in (FAILS, EXITS):
        write(tmp_path / "prog.py", program)
        plain, dumped = (subprocess.run([python, "-i", *runner, "prog.py"], cwd=str(tmp_path), input=at_prompt,
                                        env=env_for_child(), capture_output=True, text=True, timeout=120)
                         for runner in ([], ["-m", "tbdump"]))
        assert dumped.stdout == plain.stdout and dumped.returncode == plain.returncode == 0, (dumped, plain)
        if program is FAILS:
            assert "ZeroDivisionError" in plain.stdout and "True" in plain.stdout
            assert dumped.stderr.startswith("ZeroDivisionError: division by zero\n"
                                            "Traceback dumped into: traceback.pkl\n>>> "), dumped.stderr
        else:
            assert "SystemExit(3)" in plain.stdout and dumped.stderr == plain.stderr, dumped.stderr


def test_a_crash_typed_at_the_new_repl_is_the_typed_code_s(tmp_path: Path, tmux: str) -> None:  # noqa: F811
    """3.13's REPL is Python code that calls sys.excepthook itself: the dump holds what the REPL
    prints, the typed lines' frames with their source, not the REPL's own frames above them."""
    python = newer("3.13.0")
    repl = Terminal(tmux, tmp_path, [python], env_for_child({"TERM": "xterm"}))
    try:
        repl.wait_screen(r"^>>>\s*$")
        for line in ('import tbdump; tbdump.set_excepthook("repl.pkl")', "def div(a, b): return a / b", "",
                     "data = [1, 0]", "div(*data)"):
            repl.line(line)
        repl.wait_screen(r"^Traceback dumped into: repl.pkl")
        repl.line("import sys; print(type(sys.last_exc).__name__)")
        repl.wait_screen(r"^ZeroDivisionError$")
    finally:
        repl.close()
    done = subprocess.run([PYTHON, "-c", "import tbdump\n"
                           "d = tbdump.load('repl.pkl')\n"
                           "print([(f.filename, f.name, d.sources[f.filename].text) for f in d.frames])\n"
                           "print(d.frames[-1].locals, d.frames[0].locals['data'])"],
                          cwd=str(tmp_path), env=env_for_child(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [
        "[('<python-input-3>', '<module>', 'div(*data)\\n'), "
        "('<python-input-1>', 'div', 'def div(a, b): return a / b\\n')]", "{'a': 1, 'b': 0} [1, 0]"]


# A handler dumps and goes on: the frame it dumped changes after, through a closure and a del.
GOES_ON = '''
import json, sys, tbdump
def handle():
    count = 1
    gone = "deleted later"
    def bump():
        nonlocal count
        count += 1
    try:
        {}["missing"]
    except KeyError as exc:
        tbdump.dump_exception(exc, "traceback.pkl", above_handler=False)
    bump()
    del gone
    print(json.dumps([count, sorted(sys._getframe().f_locals)]))
handle()
'''


@pytest.mark.parametrize("version", NEWER)
def test_capture_reads_the_frame_it_dumps_and_changes_nothing(version: str, tmp_path: Path) -> None:
    """From 3.13 `frame.f_locals` is a proxy that writes through to the frame (PEP 667), where
    3.12 gave a copy: a program that dumps and goes on keeps its variables as it had them (a
    closure's cell, a deleted name), and the dump holds them as they were when it was taken.
    (This worked before: capture only reads the frame.)"""
    python = newer(version)
    write(tmp_path / "prog.py", GOES_ON)
    done = subprocess.run([python, "prog.py"], cwd=str(tmp_path), env=env_for_child(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout) == [2, ["bump", "count"]], done
    got = subprocess.run([python, "-c", "import tbdump; print(sorted(tbdump.load('traceback.pkl').frames[-1]"
                          ".locals.items(), key=str))"], cwd=str(tmp_path), env=env_for_child(),
                         capture_output=True, text=True, timeout=120)
    assert got.stdout.startswith("[('bump', <function handle.<locals>.bump at 0x") and got.stdout.endswith(
        ">), ('count', 1), ('exc', KeyError('missing')), ('gone', 'deleted later')]\n"), got


FSTRING = '''\
def label(row, names):
    return f"{row["id"]}: {", ".join(names)} {row['name']!r:>{width}}"  # crash


width = 9
label({"id": 1}, ["a", "b"])
'''


@pytest.mark.asyncio
@pytest.mark.parametrize("reader", ["3.11", "3.12.1"])
async def test_tblsp_finds_the_names_in_an_f_string_that_nests_its_quotes(reader: str, tmp_path: Path) -> None:
    """PEP 701 lets an f-string's fields hold its own quotes (`f"{row["id"]}"`), which a tokenizer
    before 3.12 reads as strings ending there: tblsp run by 3.11 for a 3.12 program must still
    find the names after them."""
    crashed(newer("3.12.1"), tmp_path, FSTRING)
    server = [PYTHON if reader == "3.11" else newer(reader), "-m", "tblsp"]
    prog = tmp_path / "prog.py"
    async with served(server, env={**ENV, "TBLSP_CACHE_DIR": str(tmp_path / "cache")}) as client:
        await asyncio.wait_for(start(client, tmp_path), WAIT)
        uri = open_file(client, prog)
        found: List[object] = []
        for text in ('row["id"]', "names)", "row['name']", "width}"):
            found.append(await hover_text(client, uri, col_of(prog, "# crash", text)))
    row, names, row_again, width = found
    assert row is not None and row.startswith("**row**: `dict`") and row == row_again, found
    assert names is not None and names.startswith("**names**: `list`") and "'a'" in names, found
    assert width is not None and width.startswith("**width**: `int`"), found


def test_a_coloured_traceback_is_python_s_and_the_dump_s_text_plain(tmp_path: Path) -> None:
    """PYTHON_COLORS=1 has 3.13 colour its traceback even off a terminal: `-t` prints it as
    Python does, colours and all, while the dump's traceback text is Python's plain one."""
    python = newer("3.13.0")
    write(tmp_path / "prog.py", "def div(a, b):\n    return a / b\n\ndiv(1, 0)\n")

    def stderr(colours: str, *args: str) -> str:
        return subprocess.run([python, *args], cwd=str(tmp_path), env=env_for_child({"PYTHON_COLORS": colours}),
                              capture_output=True, text=True, timeout=120).stderr

    coloured = stderr("1", "prog.py")
    assert "\x1b[" in coloured
    assert stderr("1", "-m", "tbdump", "-t", "prog.py") == coloured + "Traceback dumped into: traceback.pkl\n"
    text = stderr("1", "-c", "import sys, tbdump; sys.stderr.write(tbdump.load('traceback.pkl').traceback_text)")
    assert text == stderr("0", "prog.py"), text
