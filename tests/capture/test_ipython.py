"""tbdump under IPython and Jupyter, as their users run them: a notebook executed headless by
``jupyter execute`` (nbclient, which papermill runs too) in a real kernel, IPython's prompt fed on
stdin, and ``ipython -c``; each in a subprocess of one cached venv pinned in ipython-requirements.txt.
IPython catches a cell's exception and shows it itself, never calling sys.excepthook: under
``tbdump.set_excepthook()`` the cell's crash is dumped after IPython's traceback, which shows as
without tbdump, and the session goes on to the next cell.  So is the crash of a script IPython
runs (``ipython script.py``, ``%run``), which IPython catches and shows outside any cell.
"""
from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import tbdump
from ..conftest import PYTHON, cached_venv, run, write
from ..dap.dapclient import DapClient

REQUIREMENTS = Path(__file__).with_name("ipython-requirements.txt")

CRASH_CELL = """def f(n):
    y = n + 1
    return y / 0
x = 5
f(x)"""


@pytest.fixture(scope="module")
def venv_bin() -> Path:
    try:
        return cached_venv(REQUIREMENTS, "ipython").parent
    except RuntimeError as exc:  # offline: a skip would pass a run that tested no IPython
        pytest.fail(str(exc))


def ipython_env(cwd: Path) -> Dict[str, str]:
    """IPython's profile and history in the test's folder: none of the user's, none shared by two tests."""
    return {"IPYTHONDIR": str(cwd / ".ipython")}


def typed_at_prompt(venv_bin: Path, cwd: Path, lines: List[str], **env: str) -> Any:
    """IPython's prompt in ``cwd``, ``lines`` typed at it (fed on stdin)."""
    return run([str(venv_bin / "ipython"), "--simple-prompt", "--no-banner", "--colors=nocolor"], cwd,
               env=dict(ipython_env(cwd), **env), stdin="\n".join(lines) + "\n", timeout=120)


def typed_without_and_with_tbdump(venv_bin: Path, cwd: Path, lines: List[str]) -> Tuple[Any, Any]:
    """``lines`` typed at IPython's prompt after ``import tbdump``, then after set_excepthook():
    IPython shows the same in both, and the session ends as it should."""
    plain = typed_at_prompt(venv_bin, cwd, ["import tbdump"] + lines)
    under = typed_at_prompt(venv_bin, cwd, ["import tbdump; tbdump.set_excepthook()"] + lines)
    assert under.stdout == plain.stdout and under.returncode == plain.returncode == 0, (under, plain)
    return plain, under


def execute_notebook(venv_bin: Path, cwd: Path, cells: List[str]) -> List[List[Dict[str, Any]]]:
    """Each cell's outputs once ``jupyter execute --allow-errors`` has run ``cells`` as a notebook
    in ``cwd`` (the kernel's working directory), as a night batch runs one."""
    notebook = cwd / "batch.ipynb"
    notebook.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [{"cell_type": "code", "id": "cell%d" % n, "metadata": {}, "execution_count": None,
                   "outputs": [], "source": source} for n, source in enumerate(cells)]}))
    proc = run([str(venv_bin / "jupyter-execute"), "--inplace", "--allow-errors", notebook.name], cwd,
               env=ipython_env(cwd), timeout=300)
    assert proc.returncode == 0, proc.stderr
    cells_run = json.loads(notebook.read_text())["cells"]
    for output in (output for cell in cells_run for output in cell["outputs"]):
        if isinstance(output.get("text"), list):   # a saved notebook keeps a stream's text as lines
            output["text"] = "".join(output["text"])
    return [cell["outputs"] for cell in cells_run]


def stderr_output(text: str) -> Dict[str, Any]:
    return {"output_type": "stream", "name": "stderr", "text": text}


@pytest.mark.parametrize("setup", ["tbdump.set_excepthook()", "tbdump.set_excepthook(replace=False)",
                                   "tbdump.set_excepthook(silent=True)"])
def test_a_notebook_cells_crash_is_dumped_from_the_cell_down_and_the_kernel_runs_the_next_cell(
        tmp_path: Path, venv_bin: Path, setup: str) -> None:
    plain = execute_notebook(venv_bin, tmp_path, ["import tbdump", CRASH_CELL, "print('next cell', x)"])
    assert not (tmp_path / "traceback.pkl").exists()
    outputs = execute_notebook(venv_bin, tmp_path, ["import tbdump; " + setup, CRASH_CELL, "print('next cell', x)"])
    # IPython's traceback, as without tbdump, then where the dump is.
    [error] = plain[1]
    assert error["output_type"] == "error" and error["ename"] == "ZeroDivisionError"
    said = [] if "silent" in setup else [stderr_output("Traceback dumped into: traceback.pkl\n")]
    assert outputs[1] == [error] + said
    assert outputs[2] == plain[2] == [{"output_type": "stream", "name": "stdout", "text": "next cell 5\n"}]

    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert dump.exception.type == "ZeroDivisionError"
    assert [f.name for f in dump.frames] == ["<module>", "f"]   # none of IPython's or ipykernel's
    assert dump.frames[0].locals["x"] == 5 and dump.frames[-1].locals == {"n": 5, "y": 6}
    cell = dump.frames[0].filename
    assert dump.frames[-1].filename == cell and dump.sources[cell].text == CRASH_CELL + "\n"


def test_a_dump_written_in_a_kernel_restores_the_cells_names_where_no_jupyter_is_installed(
        tmp_path: Path, venv_bin: Path) -> None:
    """IPython's shell and kernel are placeholders: the cell's names reach them (get_ipython,
    exit), and a value of theirs that failed to load here (a dateutil time zone) made every
    name of the cell a placeholder too.  Loaded here, where neither IPython, ipykernel nor
    dateutil is installed (requirements-test.lock)."""
    [[output]] = execute_notebook(venv_bin, tmp_path, ["""import tbdump
x = 5
try:
    1/0
except ZeroDivisionError as exc:
    print(tbdump.dump_exception(exc, above_handler=False))"""])
    assert output["text"] == "traceback.pkl\n"
    names = tbdump.load(tmp_path / "traceback.pkl").frames[0].locals
    assert names["x"] == 5 and names["In"] == ["", names["_i1"]] and names["tbdump"] is tbdump


def test_a_cell_dumped_in_a_kernel_shows_its_source_in_tbdebug_and_tbdap(tmp_path: Path, venv_bin: Path) -> None:
    """The cell's file (/tmp/ipykernel_<pid>/<hash>.py) never existed on disk: its lines are the dump's."""
    execute_notebook(venv_bin, tmp_path, ["import tbdump; tbdump.set_excepthook()", CRASH_CELL])
    proc = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], tmp_path, stdin="ll\nq\n")
    assert "  1  \tdef f(n):\n  2  \t    y = n + 1\n  3  ->\t    return y / 0\n" in proc.stdout, proc
    client = DapClient.tbdap()
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(tmp_path / "traceback.pkl")})
        crash = client.ok("stackTrace", {"threadId": 1})["stackFrames"][0]
        source = crash["source"]
        assert (crash["name"], crash["line"]) == ("f", 3)
        assert client.ok("source", {"source": source, "sourceReference": source["sourceReference"]})["content"] \
            == CRASH_CELL + "\n"
    finally:
        client.shutdown()


def test_each_crash_of_a_notebook_is_dumped_once_a_keyboard_interrupt_too_and_a_cell_that_does_not_compile_is_not(
        tmp_path: Path, venv_bin: Path) -> None:
    """The first cell run twice sets the hook twice; a cell interrupted (the kernel's interrupt, as
    nbclient's timeout sends) is dumped as ``python -m tbdump`` dumps a Ctrl-C; a cell that does not
    compile never ran, and IPython says so as ever."""
    cells = ["1/0", "raise KeyboardInterrupt", "x = (1 +", "print('next cell')"]
    setup = "import tbdump; tbdump.set_excepthook()"
    plain = execute_notebook(venv_bin, tmp_path, ["import tbdump", "import tbdump"] + cells)
    outputs = execute_notebook(venv_bin, tmp_path, [setup, setup] + cells)
    second = re.fullmatch(r"Traceback dumped into: (traceback\.\d+\.pkl)\n", outputs[3][-1].get("text", ""))
    assert second is not None, outputs[3]
    assert outputs == plain[:2] + [plain[2] + [stderr_output("Traceback dumped into: traceback.pkl\n")],
                                   plain[3] + [stderr_output(second.group(0))]] + plain[4:]
    assert plain[4][0]["ename"] == "SyntaxError" and plain[5][0]["text"] == "next cell\n"
    assert sorted(p.name for p in tmp_path.glob("traceback*.pkl")) == sorted(["traceback.pkl", second.group(1)])
    assert tbdump.load(tmp_path / "traceback.pkl").exception.type == "ZeroDivisionError"
    interrupted = tbdump.load(tmp_path / second.group(1))
    assert interrupted.exception.type == "KeyboardInterrupt" and [f.name for f in interrupted.frames] == ["<module>"]


# Lines typed at IPython's prompt: a custom exception handler of the program's own shows
# LookupErrors; what it shows stays, and they are dumped too.
PROMPT_LINES = [
    "get_ipython().set_custom_exc((LookupError,), lambda shell, etype, value, tb, tb_offset=None: print('custom:', value))",
    "",   # the line that sets tbdump up, or not
    "x = 5",
    "1/0",
    "print('alive', x)",
    "[][x]",
]


def test_the_crashes_of_lines_typed_at_ipythons_prompt_are_dumped_and_ipython_shows_them_as_ever(
        tmp_path: Path, venv_bin: Path) -> None:
    def prompt(setup: str) -> Any:
        return typed_at_prompt(venv_bin, tmp_path, PROMPT_LINES[:1] + [setup] + PROMPT_LINES[2:])
    plain = prompt("import tbdump")
    under = prompt("import tbdump; tbdump.set_excepthook()")
    assert under.stdout == plain.stdout and under.returncode == plain.returncode == 0
    assert "ZeroDivisionError" in plain.stdout and "custom: list index out of range" in plain.stdout
    assert "alive 5" in plain.stdout
    lookup = tmp_path / ("traceback.%d.pkl" % tbdump.load(tmp_path / "traceback.pkl").metadata.pid)
    assert under.stderr == "Traceback dumped into: traceback.pkl\nTraceback dumped into: %s\n" % lookup.name
    crash = tbdump.load(tmp_path / "traceback.pkl")
    assert crash.exception.type == "ZeroDivisionError" and [f.name for f in crash.frames] == ["<module>"]
    assert crash.frames[0].locals["x"] == 5 and crash.sources[crash.frames[0].filename].text == "1/0\n"
    assert tbdump.load(lookup).exception.type == "IndexError"


def test_ipython_c_dumps_the_crash_of_its_code(tmp_path: Path, venv_bin: Path) -> None:
    code = "import tbdump; tbdump.set_excepthook()\nx = 5\n1/0"
    # Without tbdump: the same code, its tbdump a module that does nothing (IPython shows line 1 too).
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    (plain_dir / "tbdump.py").write_text("def set_excepthook():\n    pass\n")
    plain = run([str(venv_bin / "ipython"), "-c", code], plain_dir,
                env=dict(ipython_env(plain_dir), PYTHONPATH=str(plain_dir)))
    under = run([str(venv_bin / "ipython"), "-c", code], tmp_path, env=ipython_env(tmp_path))
    assert under.stdout == plain.stdout and "ZeroDivisionError" in plain.stdout and plain.stderr == ""
    assert under.returncode == plain.returncode and under.stderr == "Traceback dumped into: traceback.pkl\n"
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert dump.frames[0].locals["x"] == 5 and dump.sources[dump.frames[0].filename].text == code + "\n"


# A module of the test's folder: a value whose repr sends this process a signal, once, so that it
# arrives exactly while a crash is dumped (the cell's names are captured: their repr runs then).
PRESSED = """
import os

class Pressed:
    def __init__(self, signum):
        self.signum = signum

    def __repr__(self):
        signum, self.signum = self.signum, None
        if signum:
            os.kill(os.getpid(), signum)
        return 'Pressed()'
"""


# A value whose repr swallows every interruption of capture (as tests/hostile's Stubborn), until
# the watchdog has given up on it and written its dump: it then sends its process a signal, once,
# and lets go of the thread at a KeyboardInterrupt.  The loop in a loop: an interruption landing
# between an except and its loop's next turn leaves the inner loop only.
STUBBORN = """
import os

class Stubborn:
    def __init__(self, signum):
        self.signum = signum

    def __repr__(self):
        while True:
            try:
                while True:
                    try:
                        if self.signum and os.path.exists("traceback.pkl"):
                            signum, self.signum = self.signum, None
                            os.kill(os.getpid(), signum)
                        sum(range(10 ** 5))
                    except KeyboardInterrupt:
                        return "Stubborn()"
                    except BaseException:
                        pass
            except KeyboardInterrupt:
                return "Stubborn()"
            except BaseException:
                pass

def stuck(signum):
    stubborn = Stubborn(signum)
    return 1 / 0
"""

GAVE_UP = "Traceback dumped into: traceback.pkl (capture was still running 5 s after its time budget"


def test_sigterm_while_a_cells_crash_is_dumped_ends_ipython_once_the_dump_is_written(
        tmp_path: Path, venv_bin: Path) -> None:
    """A kernel manager's or a container's SIGTERM: it was held for the dump, then dropped, and the
    session went on as if it never came."""
    write(tmp_path / "pressed.py", PRESSED)
    lines = ["import tbdump; tbdump.set_excepthook()", "import signal; from pressed import Pressed",
             "pressed = Pressed(signal.SIGTERM)", "1/0", "print('alive')"]
    proc = typed_at_prompt(venv_bin, tmp_path, lines)
    # Ended by SIGTERM's default action, after IPython's traceback and the dump's line.
    assert proc.returncode == -signal.SIGTERM and "ZeroDivisionError" in proc.stdout, proc
    assert "alive" not in proc.stdout
    assert proc.stderr == "Traceback dumped into: traceback.pkl (partial: capture interrupted by SIGTERM)\n"
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert dump.exception.type == "ZeroDivisionError" and dump.metadata.partial
    assert [f.name for f in dump.frames] == ["<module>"] and dump.sources[dump.frames[0].filename].text == "1/0\n"


def test_an_interrupt_while_a_cells_crash_is_dumped_is_shown_and_the_notebook_goes_on_dumping(
        tmp_path: Path, venv_bin: Path) -> None:
    """The kernel's interrupt (SIGINT, a notebook's stop button or nbclient's timeout) held for the
    dump was dropped.  Its KeyboardInterrupt comes once the dump is written, shown as IPython shows
    a cell's exception; raised out of IPython's custom exception handler it would have made IPython
    unregister tbdump's ("Custom TB Handler failed"), and no later crash would be dumped."""
    write(tmp_path / "pressed.py", PRESSED)
    cells = ["import signal; from pressed import Pressed\npressed = Pressed(signal.SIGINT)", "1/0",
             "print('next cell')", "[][1]"]
    plain = execute_notebook(venv_bin, tmp_path, ["import tbdump"] + cells)
    outputs = execute_notebook(venv_bin, tmp_path, ["import tbdump; tbdump.set_excepthook()"] + cells)
    later = re.fullmatch(r"Traceback dumped into: (traceback\.\d+\.pkl)\n", outputs[4][-1].get("text", ""))
    assert later is not None, outputs[4]
    [interrupt] = outputs[2][2:]
    assert outputs[2][:2] == plain[2] + [
        stderr_output("Traceback dumped into: traceback.pkl (partial: capture interrupted by Ctrl-C)\n")]
    assert interrupt["output_type"] == "error" and interrupt["ename"] == "KeyboardInterrupt", outputs[2]
    assert outputs[3] == plain[3] == [{"output_type": "stream", "name": "stdout", "text": "next cell\n"}]
    assert outputs[4] == plain[4] + [stderr_output(later.group(0))]
    assert tbdump.load(tmp_path / "traceback.pkl").metadata.partial
    assert tbdump.load(tmp_path / later.group(1)).exception.type == "IndexError"


def _stuck_ipython(tmp_path: Path, venv_bin: Path, signame: str) -> Any:
    """Lines typed at IPython's prompt: a crash holding a value whose repr swallows every
    interruption (STUBBORN), capture's time budget 1 s."""
    write(tmp_path / "stubborn.py", STUBBORN)
    lines = ["import signal, tbdump; from stubborn import stuck; tbdump.set_excepthook()", "x = 42",
             "stuck(signal.%s)" % signame, "print('alive', x)"]
    return typed_at_prompt(venv_bin, tmp_path, lines, TBDUMP_MAX_SECONDS="1")


def test_a_capture_that_hangs_at_ipythons_prompt_is_given_up_on_and_the_session_goes_on_once_the_code_lets_go(
        tmp_path: Path, venv_bin: Path) -> None:
    """A cell's crash was dumped with no watchdog: the session hung for good, deaf to Ctrl-C, which
    capture held.  Now, as at Python's prompt, the watchdog writes its minimal dump, hands the
    signals back, and the prompt comes back, its names kept, once the stuck code lets go (here at
    the Ctrl-C)."""
    proc = _stuck_ipython(tmp_path, venv_bin, "SIGINT")
    assert proc.returncode == 0 and "alive 42" in proc.stdout and "ZeroDivisionError" in proc.stdout, proc
    assert proc.stderr.count("Traceback dumped into") == 1 and GAVE_UP in proc.stderr, proc.stderr
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert dump.exception.type == "ZeroDivisionError" and dump.metadata.partial
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ipython", "stubborn.py", "traceback.pkl"]


def test_a_sigterm_ends_ipython_whose_capture_was_given_up_on(tmp_path: Path, venv_bin: Path) -> None:
    """Stuck for good, the session ends as without tbdump: by SIGTERM, which capture no longer holds."""
    proc = _stuck_ipython(tmp_path, venv_bin, "SIGTERM")
    assert proc.returncode == -signal.SIGTERM and "alive" not in proc.stdout, proc
    assert proc.stderr.count("Traceback dumped into") == 1 and GAVE_UP in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ipython", "stubborn.py", "traceback.pkl"]


def test_a_kernel_whose_capture_hangs_runs_the_next_cell_once_the_interrupt_reaches_the_stuck_code(
        tmp_path: Path, venv_bin: Path) -> None:
    """The kernel's interrupt (a notebook's stop button, nbclient's timeout) was held by the capture
    that hung: the kernel never answered again.  Now the watchdog's dump is said in the cell's
    output, the interrupt lands in the stuck code, and the notebook goes on."""
    write(tmp_path / "stubborn.py", STUBBORN)
    cells = ["import tbdump; from tbdump.budget import Budgets; tbdump.set_excepthook(budgets=Budgets(max_seconds=1))",
             "import signal; from stubborn import stuck\nx = 42", "stuck(signal.SIGINT)", "print('next cell', x)"]
    outputs = execute_notebook(venv_bin, tmp_path, cells)
    error, said = outputs[2]
    assert error["ename"] == "ZeroDivisionError" and said["name"] == "stderr" and said["text"].startswith(GAVE_UP)
    assert outputs[3] == [{"output_type": "stream", "name": "stdout", "text": "next cell 42\n"}]
    assert tbdump.load(tmp_path / "traceback.pkl").metadata.partial


# A script that sets tbdump up itself; its module-level names and its function's locals are what a
# dump of it must hold.
SCRIPT = """import tbdump; tbdump.set_excepthook()
import sys
def f(n):
    y = n + 1
    return y / 0
x = 5
args = sys.argv[1:]
print('argv', args)
f(x)
"""
# The same, set up by the session that runs it.
SCRIPT_IN_SESSION = SCRIPT.replace("import tbdump; tbdump.set_excepthook()", "import os")


def _stub_tbdump(tmp_path: Path) -> Dict[str, str]:
    """PYTHONPATH of a tbdump module that does nothing: the run as IPython gives it without tbdump."""
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "tbdump.py").write_text("def set_excepthook():\n    pass\n")
    return {"PYTHONPATH": str(stub)}


@pytest.mark.parametrize("args", [["crash.py", "a1"], ["-m", "crash", "a1"],
                                  ["-c", "%run crash.py a0\n%run crash.py a1"], ["-c", "%run -m crash a1"]])
def test_a_script_ipython_runs_is_dumped_after_ipythons_traceback_with_its_frames_and_exit_status(
        tmp_path: Path, venv_bin: Path, args: List[str]) -> None:
    """``ipython script.py``, ``ipython -m``, ``%run`` and ``%run -m``: IPython catches the script's
    exception and shows it itself, calling no custom exception handler nor sys.excepthook, and
    nothing was dumped.  A script %run again sets tbdump up again: its crash takes the dump's name,
    as ``python script.py`` run again does."""
    write(tmp_path / "crash.py", SCRIPT)
    ipython = [str(venv_bin / "ipython"), "--colors=nocolor"] + args
    plain = run(ipython, tmp_path, env=dict(ipython_env(tmp_path), **_stub_tbdump(tmp_path)))
    assert not list(tmp_path.glob("traceback*.pkl"))
    under = run(ipython, tmp_path, env=ipython_env(tmp_path))
    assert under.stdout == plain.stdout and under.returncode == plain.returncode, (under, plain)
    runs = plain.stdout.count("ZeroDivisionError: division by zero")
    assert runs == max(1, args[-1].count("%run")) and "argv ['a1']" in plain.stdout
    dumped = "Traceback dumped into: traceback.pkl\n"
    assert under.stderr == dumped * runs + plain.stderr
    assert [p.name for p in tmp_path.glob("traceback*.pkl")] == ["traceback.pkl"]
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert dump.exception.type == "ZeroDivisionError"
    # The script's frames, none of IPython's or runpy's, of its last run.
    script = str(tmp_path / "crash.py")
    assert [(f.name, f.filename) for f in dump.frames] == [("<module>", script), ("f", script)]
    assert dump.frames[0].locals["args"] == ["a1"] and dump.frames[-1].locals == {"n": 5, "y": 6}
    assert dump.frames[-1].globals["x"] == 5 and dump.sources[script].text == SCRIPT


# Lines typed at IPython's prompt, tbdump set up there or not: scripts %run that crash, that
# do not compile, that end with sys.exit(3), and a %tb that shows the last crash again.
RUN_LINES = [
    "%run crash.py",
    "print('alive', x)",
    "%tb",
    "%run bad.py",
    "%run exits.py",
    "%run -m crash",
]


def test_scripts_run_at_ipythons_prompt_are_dumped_once_each_and_those_that_never_ran_are_not(
        tmp_path: Path, venv_bin: Path) -> None:
    write(tmp_path / "crash.py", SCRIPT_IN_SESSION)
    write(tmp_path / "bad.py", "x = (1 +\n")
    write(tmp_path / "exits.py", "import sys\nsys.exit(3)\n")
    plain, under = typed_without_and_with_tbdump(venv_bin, tmp_path, RUN_LINES)
    assert plain.stdout.count("ZeroDivisionError: division by zero") == 3 and "alive 5" in plain.stdout
    assert "SyntaxError" in plain.stdout and "SystemExit: 3" in plain.stdout
    dumps = sorted(tmp_path.glob("traceback*.pkl"))
    assert [p.name for p in dumps] == ["traceback.%d.pkl" % tbdump.load(dumps[0]).metadata.pid, "traceback.pkl"]
    assert under.stderr.startswith("Traceback dumped into: traceback.pkl\nTraceback dumped into: %s\n"
                                   % dumps[0].name) and under.stderr.endswith(plain.stderr), under.stderr
    for dump in map(tbdump.load, dumps):
        assert [f.name for f in dump.frames] == ["<module>", "f"] and dump.frames[-1].locals == {"n": 5, "y": 6}


def test_a_script_run_in_a_notebook_is_dumped_after_its_traceback_and_the_notebook_goes_on(
        tmp_path: Path, venv_bin: Path) -> None:
    write(tmp_path / "crash.py", SCRIPT_IN_SESSION)
    cells = ["%run crash.py", "print('next cell', x)"]
    plain = execute_notebook(venv_bin, tmp_path, ["import tbdump"] + cells)
    assert not (tmp_path / "traceback.pkl").exists()
    outputs = execute_notebook(venv_bin, tmp_path, ["import tbdump; tbdump.set_excepthook()"] + cells)
    assert [output.get("ename") for output in plain[1]] == [None, "ZeroDivisionError"]
    assert outputs[1] == plain[1] + [stderr_output("Traceback dumped into: traceback.pkl\n")]
    assert outputs[2] == plain[2] == [{"output_type": "stream", "name": "stdout", "text": "next cell 5\n"}]
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert [f.name for f in dump.frames] == ["<module>", "f"] and dump.frames[-1].locals == {"n": 5, "y": 6}


def test_a_ctrl_c_that_ipython_lets_out_of_a_script_is_dumped_with_the_scripts_frames_only(
        tmp_path: Path, venv_bin: Path) -> None:
    """``ipython script.py`` catches only Exception: a KeyboardInterrupt goes on up through
    IPython's start-up to sys.excepthook, tbdump's, whose dump held every frame of IPython's above
    the script.  Its output is tbdump's hook's, in place of IPython's crash report (replace)."""
    write(tmp_path / "interrupted.py", "import tbdump; tbdump.set_excepthook()\nx = 5\nraise KeyboardInterrupt\n")
    ipython = [str(venv_bin / "ipython"), "--colors=nocolor", "interrupted.py"]
    plain = run(ipython, tmp_path, env=dict(ipython_env(tmp_path), **_stub_tbdump(tmp_path)))
    under = run(ipython, tmp_path, env=ipython_env(tmp_path))
    assert under.returncode == plain.returncode == -signal.SIGINT and "KeyboardInterrupt" in plain.stderr, plain
    assert under.stderr == "KeyboardInterrupt\nTraceback dumped into: traceback.pkl\n"
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert [(f.name, f.filename) for f in dump.frames] == [("<module>", str(tmp_path / "interrupted.py"))]
    assert dump.frames[0].locals["x"] == 5


# A program's own way of showing IPython's tracebacks, put in place after tbdump's setup: a wrapper
# on the shell, as rich.traceback.install() makes, or the class's method replaced, as
# friendly-traceback does.
SHOWN_BY_THE_PROGRAM = {
    "wrapper": "ip = get_ipython(); shown = ip.showtraceback; "
               "ip.showtraceback = lambda *args, **kwargs: shown(*args, **kwargs)",
    "class": "import sys; type(get_ipython()).showtraceback = "
             "lambda self, *args, **kwargs: print('shown by the program:', sys.exc_info()[1])",
}


@pytest.mark.parametrize("way", list(SHOWN_BY_THE_PROGRAM))
def test_a_program_that_shows_ipythons_tracebacks_its_own_way_sees_them_so_and_each_crash_is_dumped_once(
        tmp_path: Path, venv_bin: Path, way: str) -> None:
    """set_excepthook() again above the program's wrapper (a notebook's first cell run again)
    wrapped tbdump's wrapper in turn: a script's crash was dumped twice.  And tbdump's wrapper
    called IPython's own method, taken when set up: a class's method replaced later never showed."""
    write(tmp_path / "crash.py", SCRIPT_IN_SESSION)
    lines = ["import tbdump; tbdump.set_excepthook()", SHOWN_BY_THE_PROGRAM[way], "tbdump.set_excepthook()",
             "1/0", "%run crash.py", "print('alive', x)"]

    def prompt(env: Dict[str, str]) -> Any:
        return typed_at_prompt(venv_bin, tmp_path, lines, **env)
    plain = prompt(_stub_tbdump(tmp_path))
    under = prompt({})
    assert under.stdout == plain.stdout and under.returncode == plain.returncode == 0, (under, plain)
    assert "alive 5" in plain.stdout
    assert plain.stdout.count("shown by the program: division by zero") == (2 if way == "class" else 0)
    script = tmp_path / ("traceback.%d.pkl" % tbdump.load(tmp_path / "traceback.pkl").metadata.pid)
    assert under.stderr == "Traceback dumped into: traceback.pkl\nTraceback dumped into: %s\n" % script.name
    assert sorted(p.name for p in tmp_path.glob("traceback*.pkl")) == sorted(["traceback.pkl", script.name])
    assert [f.name for f in tbdump.load(script).frames] == ["<module>", "f"]


# An IPython script (magics allowed), which %run runs cell by cell through safe_execfile_ipy.
IPY_SCRIPT = """import os
%cd .
def f(n):
    y = n + 1
    return y / 0
x = 5
f(x)
"""
# Lines typed at IPython's prompt, tbdump set up there or not: magics that ran none of the
# program (a file or module not there, an unknown magic, an extension not there), an IPython
# script that does not compile, then one that crashes.
TYPOS_LINES = [
    "%run nosuch.py",
    "%run -m nosuch",
    "%nosuch",
    "%load_ext nosuchext",
    "%run bad.ipy",
    "%run crash.ipy",
    "print('alive', x)",
]


def test_magics_that_ran_none_of_the_program_are_not_dumped_and_an_ipython_scripts_crash_is_dumped_once(
        tmp_path: Path, venv_bin: Path) -> None:
    """Each was dumped as a cell's crash, of IPython's frames only (%debug has nothing to show
    either); and %run of an IPython script shows its crash twice, as its cell's and again raised
    out of %run: it was dumped twice, the second time with IPython's frames above the script's."""
    write(tmp_path / "crash.ipy", IPY_SCRIPT)
    write(tmp_path / "bad.ipy", "x = (1 +\n")
    plain, under = typed_without_and_with_tbdump(venv_bin, tmp_path, TYPOS_LINES)
    for said in ("File `'nosuch.py'` not found", "'nosuch' is not a valid modulename", "`%nosuch` not found",
                 "No module named 'nosuchext'", "SyntaxError", "alive 5"):
        assert said in plain.stdout + plain.stderr, said
    assert plain.stdout.count("ZeroDivisionError: division by zero") == 2
    assert under.stderr == plain.stderr + "Traceback dumped into: traceback.pkl\n", under.stderr
    assert [p.name for p in tmp_path.glob("traceback*.pkl")] == ["traceback.pkl"]
    dump = tbdump.load(tmp_path / "traceback.pkl")
    # The script's cell, none of IPython's frames.
    assert [f.name for f in dump.frames] == ["<module>", "f"] and dump.frames[-1].locals == {"n": 5, "y": 6}
    assert str(dump.sources[dump.frames[0].filename].text).endswith("x = 5\nf(x)\n")


# An installed library's magic (as ipython-sql's %sql): its error is the program's query failing.
LIBRARY_MAGIC = """def load_ipython_extension(ipython):
    ipython.register_magic_function(query, "line", "sqlish")

def query(line):
    raise LookupError("no such table: " + line.split()[-1])
"""


def test_ipythons_magics_own_errors_through_the_standard_library_are_not_dumped_and_a_librarys_magics_are(
        tmp_path: Path, venv_bin: Path) -> None:
    """IPython's magics call the standard library and their dependencies: a typo they rejected
    there (shlex, re, traitlets) was dumped as the program's crash, of IPython's and those frames
    only.  A magic of an installed library's and an extension of the program's that does not
    import ran the program's code: dumped (as they were)."""
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    write(site / "sqlish.py", LIBRARY_MAGIC)
    write(tmp_path / "myext.py", "import nosuchdep\n")
    plain, under = typed_without_and_with_tbdump(venv_bin, tmp_path, [
        "import sys; sys.path.insert(0, %r)" % str(site),
        '%run "unclosed',
        "%reset_selective -f [",
        "%precision %q",
        "%load_ext sqlish",
        "%sqlish SELECT * FROM orders",
        "%load_ext myext",
    ])
    for said in ("ValueError: No closing quotation", "error: unterminated character set",
                 "ValueError: Precision must be int or format string", "LookupError: no such table: orders",
                 "ModuleNotFoundError: No module named 'nosuchdep'"):
        assert said in plain.stdout, said
    dumps = sorted(tmp_path.glob("traceback*.pkl"), key=lambda p: p.stat().st_mtime_ns)
    assert under.stderr == plain.stderr + "".join("Traceback dumped into: %s\n" % p.name for p in dumps)
    query, extension = map(tbdump.load, dumps)
    assert query.exception.type == "LookupError" and query.frames[-1].name == "query"
    assert extension.exception.type == "ModuleNotFoundError"
    assert str(tmp_path / "myext.py") in [f.filename for f in extension.frames]


def test_a_function_of_the_programs_whose_run_magic_fails_is_dumped_with_its_state(
        tmp_path: Path, venv_bin: Path) -> None:
    """A magic's own error was not dumped whoever called the magic: a function of the program's
    that %runs each of its scripts and passed a name not there held the program's state (what
    %debug shows going up), as a script that calls it does, and that one was dumped."""
    plain, under = typed_without_and_with_tbdump(venv_bin, tmp_path, [
        "def run_all(names):",
        "    for name in names:",
        "        get_ipython().run_line_magic('run', name)",
        "",
        "run_all(['nosuch.py'])",
    ])
    assert "File `'nosuch.py'` not found" in plain.stdout
    assert under.stderr == plain.stderr + "Traceback dumped into: traceback.pkl\n"
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert [f.name for f in dump.frames][:2] == ["<module>", "run_all"]
    assert dump.frames[1].locals == {"names": ["nosuch.py"], "name": "nosuch.py"}


def test_an_ipython_script_run_in_a_notebook_is_dumped_once_and_a_script_not_there_is_not_dumped(
        tmp_path: Path, venv_bin: Path) -> None:
    write(tmp_path / "crash.ipy", IPY_SCRIPT)
    cells = ["%run nosuch.py", "%run crash.ipy", "print('next cell', x)"]
    plain = execute_notebook(venv_bin, tmp_path, ["import tbdump"] + cells)
    outputs = execute_notebook(venv_bin, tmp_path, ["import tbdump; tbdump.set_excepthook()"] + cells)
    assert [output.get("ename") for output in plain[1]] == ["Exception"]
    assert [output.get("ename") for output in plain[2]][-2:] == ["ZeroDivisionError"] * 2
    assert outputs[1] == plain[1]

    def shown(outputs: List[Dict[str, Any]]) -> List[Any]:   # a cell's file is named by the kernel's pid
        return [output.get("ename", output.get("text")) for output in outputs]
    # The dump's line after the script's cell's traceback, the first of the two IPython shows.
    assert shown(outputs[2]) == shown(plain[2])[:-1] + ["Traceback dumped into: traceback.pkl\n", "ZeroDivisionError"]
    assert outputs[3] == plain[3] == [{"output_type": "stream", "name": "stdout", "text": "next cell 5\n"}]
    assert [p.name for p in tmp_path.glob("traceback*.pkl")] == ["traceback.pkl"]
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert [f.name for f in dump.frames] == ["<module>", "f"] and dump.frames[-1].locals == {"n": 5, "y": 6}


def test_the_kernels_own_magics_errors_in_a_notebook_are_not_dumped(tmp_path: Path, venv_bin: Path) -> None:
    """ipykernel's magics, IPython's in a notebook, told a file not there (%less) or a wrong
    argument (%autosave's UsageError, which IPython shows in one line) and each was dumped as
    the notebook's crash, of IPython's, ipykernel's and the standard library's frames only."""
    cells = ["%less nosuch.py", "%autosave abc", "%run \"unclosed", CRASH_CELL]
    plain = execute_notebook(venv_bin, tmp_path, ["import tbdump"] + cells)
    outputs = execute_notebook(venv_bin, tmp_path, ["import tbdump; tbdump.set_excepthook()"] + cells)
    assert [output.get("ename") for output in plain[1]] == ["FileNotFoundError"]
    assert [output.get("text") for output in plain[2]] == ["UsageError: %autosave requires an integer, got 'abc'\n"]
    assert [output.get("ename") for output in plain[3]] == ["ValueError"]
    assert outputs[1:4] == plain[1:4]
    assert outputs[4] == plain[4] + [stderr_output("Traceback dumped into: traceback.pkl\n")]
    assert [p.name for p in tmp_path.glob("traceback*.pkl")] == ["traceback.pkl"]
    assert tbdump.load(tmp_path / "traceback.pkl").exception.type == "ZeroDivisionError"


@pytest.mark.parametrize("ipython", [["-m", "IPython"], ["ipython"]])
def test_python_m_tbdump_refuses_to_run_ipython_which_shows_every_crash_itself_in_one_line(
        tmp_path: Path, venv_bin: Path, ipython: List[str]) -> None:
    """IPython caught the script's crash and showed it: the runner saw none and dumped nothing,
    with no word of why."""
    write(tmp_path / "crash.py", SCRIPT_IN_SESSION)
    if ipython == ["ipython"]:
        ipython = [str(venv_bin / "ipython")]
    proc = run([str(venv_bin / "python"), "-m", "tbdump"] + ipython + ["crash.py"], tmp_path, env=ipython_env(tmp_path))
    assert proc.returncode == 2 and proc.stdout == "" and "argv" not in proc.stderr, proc
    assert proc.stderr == ("tbdump: IPython shows the crashes of what it runs itself, and python -m tbdump would "
                           "dump none; put `import tbdump; tbdump.set_excepthook()` first in the script or the "
                           "session and run ipython as usual\n")
    assert not list(tmp_path.glob("traceback*.pkl"))


def test_a_programs_own_script_named_ipython_runs_under_python_m_tbdump_and_its_crash_is_dumped(
        tmp_path: Path) -> None:
    """The refusal went by the script's name alone: a tool of the program's called ``ipython``,
    which is no IPython, was refused and never ran."""
    write(tmp_path / "ipython", SCRIPT_IN_SESSION)
    proc = run([PYTHON, "-m", "tbdump", "ipython", "a1"], tmp_path)
    assert proc.returncode == 1 and proc.stdout == "argv ['a1']\n", proc
    assert proc.stderr == "ZeroDivisionError: division by zero\nTraceback dumped into: traceback.pkl\n"
    dump = tbdump.load(tmp_path / "traceback.pkl")
    assert [f.name for f in dump.frames] == ["<module>", "f"] and dump.frames[-1].locals == {"n": 5, "y": 6}
