"""tbpeep as a person uses it: real dumps of crashing programs, explored in peepshow in a real terminal."""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from tbpeep.loader import PEEPSHOW

from ..conftest import rewrite_safe_layer
from ..crafted import name_file
from ..trust.test_xversion import _venv
from .children import run
from .conftest import PROGRAMS

PROMPT = r"^(list|dict|int) [*i]+ > $"


def tbpeep(dump: Path, *options: str, python: str = sys.executable) -> list:
    return [python, "-m", "tbpeep", *options, str(dump)]


# The reference: peepshow's peep() called in the frame that raised, on the live crash
# (what `peep()` does there: the caller's globals covered by its locals, explored whole).
LIVE = ("import runpy, sys\n"
        "from tbpeep.loader import import_peepshow\n"
        "sys.argv = sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except Exception as exc:\n"
        "    tb = exc.__traceback__\n"
        "    while tb.tb_next is not None:\n"
        "        tb = tb.tb_next\n"
        "    import_peepshow()\n"
        "    from peepshow.core.env import Env\n"
        "    from peepshow.core.peep import peep\n"
        "    from peepshow.core.trans import GloLoc\n"
        "    env = Env(tb.tb_frame.f_globals, tb.tb_frame.f_locals)\n"
        "    peep(GloLoc(env.initial), env)\n")


def live_peep(program: str, *args: str) -> list:
    """peepshow on the crash itself; `crash` has put the program in the terminal's folder."""
    return [sys.executable, "-c", LIVE, program, *args]


def opened(terminal, dump: Path, *options: str):
    """tbpeep on ``dump`` at its first prompt; with --safe, past the notes it shows until Enter."""
    peep = terminal(tbpeep(dump, *options))
    if "--safe" in options:
        peep.wait_screen(r"press Enter to open peepshow")
        peep.press("Enter")
    peep.wait_screen(r"^list \* >\s*$")
    return peep


def exception_attribute(peep, name: str) -> str:
    """The screen of ``crash.exception.<name>``, walked to as a user walks there."""
    peep.line(".exception")
    peep.wait_screen(r"crash\.exception\s*$")
    peep.line("." + name)
    # The title is drawn first, the attributes under it after: a screen read in between had
    # the title alone (failed once in CI).
    return peep.wait_screen(r"crash\.exception\.%s\s*$[\s\S]*^TYPE\s+: " % re.escape(name))


def test_frames_and_variables_are_one_step_away(crash, terminal):
    peep = terminal(tbpeep(crash("divide.py", "5", "0")))
    screen = peep.wait_screen(r"^list \* >\s*$")
    assert "REPR         : 'ZeroDivisionError: division by zero  (2 frames)'" in screen
    peep.press("Enter")                                  # the suggested action: list the frames
    screen = peep.wait_screen(r"^list i >\s*$")
    assert "[    0] []* <module>  divide.py:11  print(div(x, y))" in screen
    assert "[    1] []* div  divide.py:5  return x / y" in screen
    peep.line("1")                                       # open the crashing frame
    screen = peep.wait_screen(r"^dict \*\* >\s*$")
    assert "REPR         : 'div  divide.py:5  return x / y'" in screen
    peep.press("Enter")                                  # list its variables
    screen = peep.wait_screen(r"^dict i >\s*$")
    assert "[    0] 'x' : 5" in screen and "[    1] 'y' : 0" in screen
    peep.line("1")                                       # open a variable
    screen = peep.wait_screen(r"^int pp >\s*$")
    assert "crash<1>['y']" in screen and "TYPE         : <class 'int'>" in screen
    assert "REPR         : '0'" in screen
    peep.line("q")
    assert peep.exit_status() == 0


def test_module_frame_lists_its_variables_without_dunders(crash, terminal):
    peep = terminal(tbpeep(crash("divide.py", "5", "0")))
    peep.wait_screen(r"^list \* >\s*$")
    peep.press("Enter")
    peep.wait_screen(r"^list i >\s*$")
    peep.line("0")
    peep.wait_screen(r"^dict \*\* >\s*$")
    peep.press("Enter")
    screen = peep.wait_screen(r"^dict i >\s*$")
    assert "'x' : 5" in screen and "'y' : 0" in screen and "'sys' :" in screen
    assert "__loader__" not in screen and "__builtins__" not in screen
    peep.press("C-d")                                    # peepshow's Continue: leave too
    assert peep.exit_status() == 0


def test_the_chain_and_the_dump_are_reachable(crash, terminal):
    peep = terminal(tbpeep(crash("chained.py")))
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("?")
    assert ".chain (every" in peep.wait_screen(r"\.dump \(the tbdump\.Dump\)")
    peep.line(".chain")
    peep.wait_screen(r"crash\.chain")
    peep.press("Enter")
    screen = peep.wait_screen(r"^list i >\s*$")
    assert "[    1] []* JSONDecodeError: Expecting property name" in screen
    peep.line("1")
    peep.wait_screen(r"crash\.chain<1>")
    peep.press("Enter")
    screen = peep.wait_screen(r"^list i >\s*$")
    assert "raw_decode  decoder.py:353  obj, end = self.scan_once(s, idx)" in screen
    peep.line("!dump.exception.message")
    peep.wait_screen(r"^\"bad config: '\{broken'\"$")
    peep.line("q")
    assert peep.exit_status() == 0


def test_an_exception_of_one_frame_says_one_frame(crash, terminal):
    peep = terminal(tbpeep(crash("suppressed.py")))
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("!crash.chain")
    screen = peep.wait_screen(r"\(1 frames?\)\]$")
    assert ("[ConfigError: port '80a' is not a number  (3 frames), "
            "ValueError: invalid literal for int() with base 10: '80a'  (1 frame)]") in screen.replace("\n", "")
    peep.line("q")
    assert peep.exit_status() == 0


def test_safe_mode_shows_placeholders(crash, terminal):
    peep = terminal(tbpeep(crash("bank.py", "10", "200"), "--safe"))
    peep.wait_screen(r"tbpeep: safe mode.*placeholders showing their previews")
    peep.press("Enter")                                  # the notes stay until Enter
    peep.wait_screen(r"^list \* >\s*$")
    peep.press("Enter")
    peep.wait_screen(r"^list i >\s*$")
    peep.line("2")
    peep.wait_screen(r"^dict \*\* >\s*$")
    peep.press("Enter")
    screen = peep.wait_screen(r"^dict i >\s*$")
    assert "[    1] 'amount' : []* <int: safe mode" in screen
    assert "safe mode 200>" in screen                         # ...with the captured preview
    peep.line("0")                                       # self: its preview can be browsed
    peep.wait_screen(r"^dict \*\* >\s*$")
    peep.press("Enter")
    screen = peep.wait_screen(r"'owner' :")
    assert "[    0] 'balance' : []* <int: safe mode" in screen and "safe mode 88>" in screen
    peep.wait_screen(r"^dict i >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0


def test_missing_vim_man_and_clear_are_said_and_survived(crash, terminal, tmp_path):
    bare = tmp_path / "bin"                              # a PATH where nothing is found
    bare.mkdir()
    peep = terminal(tbpeep(crash("divide.py", "5", "0")), env={"PATH": str(bare)})
    screen = peep.wait_screen(r"press Enter to open peepshow")
    assert "tbpeep: vim is not installed: `??` (show source) needs it" in screen
    assert "tbpeep: man is not installed: `MANual` needs it" in screen
    assert "tbpeep: clear is not installed" in screen
    peep.press("Enter")
    screen = peep.wait_screen(r"^list \* >\s*$")
    assert "tbpeep:" not in screen                       # cleared all the same
    peep.line("man")
    peep.wait_screen(r"man: not found")
    peep.line("i")
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0


def test_without_peepshow_one_line_says_how_to_install_it(crash, tmp_path, ipdb_python):
    # The debuggers' venv has tbdump's dependencies but not the peep extra.
    done = run(tbpeep(crash("divide.py", "5", "0"), python=ipdb_python), tmp_path)
    assert done.returncode == 2
    # By its own name: `pip install 'tbdump[peep]'` would bring the `tbdump` on PyPI, another project.
    assert done.stderr == ("tbpeep: peepshow is not installed; install it with: "
                           "pip install peepshow==0.3.0\n")


def test_help_explains_it():
    done = run([sys.executable, "-m", "tbpeep", "--help"], Path.cwd())
    assert done.returncode == 0
    for needle in ("--safe", "traceback.pkl", ".chain", f"pip install {PEEPSHOW}", "--version",
                   "vim", "man", "clear"):
        assert needle in done.stdout, needle


def test_safe_mode_unpickles_nothing(crash, terminal, tmp_path, monkeypatch):
    marker = tmp_path / "unpickled.marker"
    monkeypatch.setenv("TRAP_MARKER", str(marker))
    dump = crash("trap.py")
    peep = terminal(tbpeep(dump, "--safe"), env={"TRAP_MARKER": str(marker)})
    peep.wait_screen(r"tbpeep: safe mode")
    peep.press("Enter")
    peep.wait_screen(r"^list \* >\s*$")
    peep.press("Enter")                                  # the frames
    peep.wait_screen(r"^list i >\s*$")
    peep.line("1")                                       # fail(): the frame holding the trap
    peep.wait_screen(r"^dict \*\* >\s*$")
    peep.press("Enter")
    screen = peep.wait_screen(r"^dict i >\s*$")
    assert "'trap' : []* <Trap: safe mode" in screen
    peep.line("q")
    assert peep.exit_status() == 0
    assert not marker.exists()
    # The control: without --safe the same dump sets the trap off (else the above proves nothing).
    assert run(tbpeep(dump), tmp_path, stdin="q\n").returncode == 0
    assert marker.exists()


def test_typed_text_the_encoding_cannot_decode_is_an_unknown_command(crash, terminal):
    """In a UTF-8 terminal, a Python whose stdin is ASCII reads "données" as surrogates (as
    in the C locale): peepshow says it knows no such command and goes on, where tbpeep
    ended in a UnicodeDecodeError traceback."""
    peep = terminal(tbpeep(crash("divide.py", "5", "0")), env={"PYTHONIOENCODING": "ascii"})
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("données")
    peep.wait_transcript(r"^Unknown command 'donn\\udcc3\\udca9es'\.$")
    peep.wait_screen(r"^list i >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0
    assert not any("Traceback" in line for line in peep.transcript())


def test_ctrl_c_or_ctrl_d_at_the_notes_leaves_without_a_traceback(crash, terminal):
    dump = crash("divide.py", "5", "0")
    for key in ("C-c", "C-d"):
        peep = terminal(tbpeep(dump, "--safe"))
        peep.wait_screen(r"tbpeep: press Enter to open peepshow")
        peep.press(key)
        assert peep.exit_status() == 0, key
        assert not any("Traceback" in line or "Error" in line for line in peep.transcript()), key


def test_ctrl_c_stops_a_slow_command_and_the_prompt_comes_back(crash, terminal):
    peep = terminal(tbpeep(crash("divide.py", "5", "0")))
    peep.wait_screen(r"^list \* >\s*$")
    # Pressed once the command runs: at the prompt Ctrl-C leaves peepshow (status 0).
    peep.line("!import time; print('sleep' + 'ing'); time.sleep(60)")
    peep.wait_screen(r"^sleeping\s*$")
    peep.press("C-c")
    screen = peep.wait_screen(r"^list i >\s*$")
    assert "Interrupted." in screen and "Traceback" not in screen
    peep.line("!6 * 7")                                  # the session goes on
    peep.wait_screen(r"^42$")
    peep.line("q")
    assert peep.exit_status() == 0


def test_the_exception_has_its_cause_and_context_as_the_live_one_has(crash, terminal):
    dump = crash("chained.py")
    peep = opened(terminal, dump)
    screen = exception_attribute(peep, "__cause__")
    assert "TYPE         : <class 'json.decoder.JSONDecodeError'>" in screen
    # `raise ... from exc` in `except ... as exc`: the context is the cause too, live, though
    # the traceback does not print it (__suppress_context__).
    peep.line("!crash.exception.__context__ is crash.exception.__cause__ and crash.exception.__suppress_context__")
    peep.wait_screen(r"^True$")
    peep.line("q")
    assert peep.exit_status() == 0
    # In safe mode the exception is its preview, browsed like a variable's (not a callable).
    peep = opened(terminal, dump, "--safe")
    peep.line(".exception")
    screen = peep.wait_screen(r"^dict \*\* >\s*$")
    assert "<ConfigError: safe mode" in screen and "CALLABLE     : False" in screen
    peep.line("q")
    assert peep.exit_status() == 0


@pytest.mark.parametrize("proxy", ["lazy", "writing"])
def test_a_cause_that_comes_back_as_no_exception_is_explored_without_running_its_code(crash, terminal, tmp_path, proxy):
    # The cause's pickle makes a lazy proxy (programs/lazyproxy.py), whose __class__ property
    # fetches what it stands for: tbpeep linked the chain with isinstance(), which read it, and
    # ended at start in the ConnectionError's traceback, where no server is.  "writing": so did
    # giving the proxy its __traceback__ and links, through its __setattr__, which fetches too.
    shutil.copy(PROGRAMS / "lazyproxy.py", tmp_path)
    peep = opened(terminal, crash("lazy_cause.py", proxy))
    peep.line("!type(crash.chain[1].exception).__name__, crash.exception.__cause__")
    peep.wait_screen(r"^\('%s', None\)$" % proxy.capitalize())
    peep.line("q")
    assert peep.exit_status() == 0
    assert not (tmp_path / "fetched").exists()


def test_a_value_that_comes_back_as_a_lazy_proxy_is_explored_and_the_session_goes_on(crash, terminal, tmp_path):
    # peepshow's prompt asks isinstance() of the object shown, which reads the proxy's __class__
    # property (programs/lazyproxy.py): opening the crashed frame's `error` ended tbpeep in the
    # traceback of the ConnectionError it raised, where no server is.
    shutil.copy(PROGRAMS / "lazyproxy.py", tmp_path)
    peep = opened(terminal, crash("lazy_cause.py", "lazy"))
    peep.line("[1]")
    peep.wait_screen(r"^dict \*\* >\s*$")
    peep.line("['error']")
    screen = peep.wait_screen(r"^d >\s*$")
    assert "TYPE         : <class 'lazyproxy.Lazy'>" in screen, screen
    # What runs the proxy's code says its error as peepshow says any command's, and goes on.
    peep.line("d")
    screen = peep.wait_screen(r"^i >\s*$")
    assert "Error while executing command 'Dir'.\nno server at db.internal:5432\n" in screen, screen
    peep.line("q")
    assert peep.exit_status() == 0


def test_expressions_see_the_crash_frames_variables_as_peep_there_does(crash, terminal):
    dump = crash("divide.py", "5", "0")
    # The frame's locals and its globals (a function, the module's name); `_` is the explored object.
    expected = {"!x, y": "(5, 0)", "!div(8, 2)": "4.0", "!__name__": "'__main__'",
                "!x * 10 + y": "50"}
    for command, prompt in ((live_peep("divide.py", "5", "0"), r"^dict \*\* >\s*$"),
                            (tbpeep(dump), r"^list \* >\s*$")):
        peep = terminal(command)
        peep.wait_screen(prompt)
        for expression, answer in expected.items():
            peep.line(expression)
            peep.wait_screen(rf"> {re.escape(expression)}\n{re.escape(answer)}$")
        peep.line("q")
        assert peep.exit_status() == 0, command


def test_show_source_is_the_code_that_ran_or_one_line_saying_why_not(crash, terminal, vim):
    dump = crash("divide.py", "5", "0")
    program = dump.parent / "divide.py"
    no_copy = rewrite_safe_layer(dump, dump.with_name("nocopy.pkl"),
                                 lambda safe: name_file(safe, str(program), text=None, sha256=None))
    program.unlink()
    # Missing here: `??` on a function (peepshow's vim) and on a frame show the dump's copy.
    peep = terminal(tbpeep(dump))
    peep.wait_screen(r"press Enter to open peepshow")   # the start-up note says it is missing
    peep.press("Enter")
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("$div")
    peep.wait_screen(r"^d >\s*$")
    peep.line("??")
    screen = peep.wait_screen(r"divide\.py.*\[readonly\]")
    assert re.search(r"^\s*4 def div\(x, y\):\n\s*5     return x / y$", screen, re.M), screen
    peep.press("q")   # vim's q (mapped to :qa); an Enter after it may reach vim or peepshow
    peep.wait_screen(r"^i >\s*$")
    peep.line("/")                                       # back to the start: the frames
    peep.wait_screen(r"^list \* >\s*$")
    peep.press("Enter")
    peep.wait_screen(r"^list i >\s*$")
    peep.line("1")
    peep.wait_screen(r"^dict \*\* >\s*$")
    peep.line("??")                                      # a frame: its source, at its line
    screen = peep.wait_screen(r"divide\.py.*\[readonly\].*\b5,")
    assert re.search(r"^\s*5     return x / y$", screen, re.M), screen
    peep.press("q")
    peep.wait_screen(r"^dict i >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0

    # Changed since the crash: what ran, not today's text.
    program.write_text("# rewritten since the crash\n" * 20)
    peep = terminal(tbpeep(dump))
    peep.wait_screen(r"press Enter to open peepshow")   # the start-up note says it differs
    peep.press("Enter")
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("$div")
    peep.wait_screen(r"^d >\s*$")
    peep.line("??")
    screen = peep.wait_screen(r"\[readonly\]")
    assert "return x / y" in screen and "rewritten" not in screen
    peep.press("q")
    peep.wait_screen(r"^i >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0

    # No copy in the dump, and the local file is not the one that ran: one line says so.
    peep = terminal(tbpeep(no_copy))
    peep.wait_screen(r"press Enter to open peepshow")
    peep.press("Enter")
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("$div")
    peep.wait_screen(r"^d >\s*$")
    peep.line("??")
    peep.wait_transcript(re.escape(f"{program}: no source to show: the dump holds no copy (not readable) "
                                   "and the local file is not used (not checked: the dump records no "
                                   "SHA-256 of the file that ran)\n"))
    peep.wait_screen(r"^i >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0


@pytest.mark.parametrize("program, last", [
    (("divide.py", "5", "0"), "ZeroDivisionError: division by zero"),
    (("chained.py",), "ConfigError: bad config: '{broken'"),
    (("immutable.py",), "Refused: no entry 'b'"),
    pytest.param(("group_of_chains.py",), "    +------------------------------------",
                 marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is 3.11+"))])
def test_the_exception_has_its_traceback_as_the_live_one_has(crash, terminal, tmp_path, program, last):
    dump = crash(*program)
    # The reference: Python's own report of the crash, which is what printing the live
    # exception gives (its __traceback__, its cause's, the line between them).  A built-in
    # exception class and the program's own, raised from a library's; one whose class refuses
    # attributes (Python links it all the same); a group, each member with its own traceback
    # and cause.
    live = run([sys.executable, *program], tmp_path).stderr
    peep = terminal(tbpeep(dump))
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("!import traceback; traceback.print_exception(crash.exception)")
    printed = peep.wait_transcript(rf"^{re.escape(last)}$")
    assert "Traceback (most recent call last):\n" in live and live.endswith(last + "\n")
    # A terminal keeps no trailing blanks (a group's empty margin line is "    | ").
    assert re.sub(r" +\n", "\n", live) in printed + "\n"
    peep.line("q")
    assert peep.exit_status() == 0


def test_the_exceptions_traceback_walks_the_captured_frames_in_safe_mode_too(crash, terminal):
    dump = crash("chained.py")
    peep = opened(terminal, dump)
    screen = exception_attribute(peep, "__traceback__")
    assert "TYPE         : <class 'tbdump.standins.StandinTraceback'>" in screen
    peep.line("q")
    assert peep.exit_status() == 0
    # In safe mode the exception is its preview, which has the captured frames all the same.
    peep = opened(terminal, dump, "--safe")
    peep.line("!tb = crash.exception.__traceback__.tb_next.tb_next")
    peep.line("!tb.tb_frame.f_code.co_name, tb.tb_lineno")
    peep.wait_screen(r"^\('load_config', 18\)$")
    peep.line("q")
    assert peep.exit_status() == 0


@pytest.mark.parametrize("reader", [None, "3.13.0"], ids=["same-python", "python-3.13"])
def test_show_source_of_a_class_of_the_program(crash, terminal, vim, reader):
    """`??` on a class the crashed program defined in __main__: its file, not tbpeep's own
    __main__; on 3.13 too, whose inspect finds a class only by a `__firstlineno__` that a
    class pickled by another Python lacks."""
    dump = crash("bank.py", "10", "200")
    peep = terminal(tbpeep(dump, python=sys.executable if reader is None else str(_venv(reader))))
    if reader is not None:   # the start-up note that another Python wrote the dump
        peep.wait_screen(r"press Enter to open peepshow")
        peep.press("Enter")
    peep.wait_screen(r"^list \* >\s*$")
    peep.line("$Account")
    peep.wait_screen(r"^type d >\s*$")
    peep.line("??")
    screen = peep.wait_screen(r"bank\.py.*\[readonly\].*\b5,")
    assert re.search(r"^\s*5 class Account:$", screen, re.M), screen
    peep.type("q")      # vim quits on q alone: an Enter after it could reach peepshow, or not
    peep.wait_screen(r"^type i >\s*$")
    peep.line("q")
    assert peep.exit_status() == 0


def test_a_weak_proxy_dead_in_the_dump_leaves_its_frame_open(tmp_path, terminal):
    """A weak proxy whose referent is not kept alive as the dump is restored (dap/programs/
    dead_proxy.py): tbpeep ended at its start with a traceback (ReferenceError: isinstance()
    read the dead proxy's __class__ as the frame's variables were gathered).  Listing them is
    peepshow's own: it says in one line that the proxy is dead."""
    source = Path(__file__).resolve().parents[1] / "dap" / "programs" / "dead_proxy.py"
    (tmp_path / "dead_proxy.py").write_text(source.read_text())
    assert run([sys.executable, "-m", "tbdump", "dead_proxy.py"], tmp_path).returncode == 1
    peep = terminal(tbpeep(tmp_path / "traceback.pkl"))
    peep.wait_screen(r"^list \* >\s*$")
    peep.press("Enter")                                  # the frames
    peep.wait_screen(r"^list i >\s*$")
    peep.line("1")                                       # work(): the frame holding the proxy
    screen = peep.wait_screen(r"^dict \*\* >\s*$")
    assert re.search(r"REPR +: 'work  dead_proxy.py:\d+  raise ValueError\(\"crashed\"\)'", screen), screen
    assert "LEN          : 2" in screen                  # proxy, refused
    peep.line("q")
    assert peep.exit_status() == 0
