"""Ctrl-C pressed in the tools as a person presses it, at the stages where it hurt: while a dump's
values are restored, and while the tool starts.  The signal is sent once the tool shows it is
at that stage (a value of the crashed program says so on stderr as it is restored; a module
the tool imports at start-up, held, says so as it is imported); what is asserted holds
whichever instant it lands: no traceback, the tool ends as Python ends on Ctrl-C, a session
goes on with right values."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import pytest

from .children import child_env

READY = "restoring\n"   # what slow_restore.py's Ready writes on stderr as it is restored


def _interrupted(command: Sequence[str], cwd: Path, first: str = "", then: str = "", ready: str = READY,
                 env: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """Run ``command`` and type ``first``; press Ctrl-C once stderr says ``ready`` (the dump's
    restoring has begun), then type ``then`` and close stdin.  The status, stdout and stderr."""
    proc = subprocess.Popen(list(command), cwd=str(cwd), env=child_env(env), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(first)
    proc.stdin.flush()
    out: List[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))   # type: ignore[union-attr]
    reader.start()
    err = []
    for line in proc.stderr:
        err.append(line)
        if line.endswith(ready):
            break
    proc.send_signal(signal.SIGINT)
    proc.stdin.write(then)
    proc.stdin.close()
    err.append(proc.stderr.read())
    proc.wait(timeout=120)
    reader.join()
    return proc.returncode, "".join(out), "".join(err)


@pytest.mark.parametrize("tool, prompt", [("tbdebug", "(Pdb) "), ("tbpeep", "[")])
def test_ctrl_c_while_a_viewer_restores_the_crash_ends_it_as_python_ends_on_ctrl_c_without_a_traceback(
        crash: Callable[..., Path], tool: str, prompt: str) -> None:
    # It ended in a KeyboardInterrupt traceback out of the unpickling of the object layer.
    dump = crash("slow_restore.py")
    status, out, err = _interrupted([sys.executable, "-m", tool, str(dump)], dump.parent)
    assert READY in err and "Traceback" not in err, err
    # Killed by SIGINT after its exit handlers, as Python ends (a shell's status 130); or, had
    # Ctrl-C come once restoring was done, at the debugger's prompt, which goes on.
    assert status == -signal.SIGINT or (status == 0 and prompt in out), (status, out, err)


@pytest.mark.parametrize("tool", ["tbdebug", "tbpeep"])
def test_ctrl_c_inside_a_values_own_code_as_a_viewer_restores_the_crash_ends_it_as_python_ends_on_ctrl_c(
        crash: Callable[..., Path], tool: str) -> None:
    # The Ctrl-C landed in the value's slow __setstate__ and was taken for that value's own
    # KeyboardInterrupt: the viewer went on to its prompt, the value "not restored: KeyboardInterrupt".
    dump = crash("slow_value.py", "setstate")
    status, out, err = _interrupted([sys.executable, "-m", tool, str(dump)], dump.parent, ready="slow\n")
    assert status == -signal.SIGINT and "slow\n" in err and "Traceback" not in err, (status, out, err)


@pytest.mark.parametrize("raises", ["KeyboardInterrupt", "SystemExit"])
def test_a_value_whose_own_code_raises_an_interruption_while_restored_is_not_restored_and_the_session_goes_on(
        crash: Callable[..., Path], raises: str) -> None:
    # Taken for Ctrl-C (or let through as SystemExit), it ended tbdebug before its prompt, status 130
    # and no word, and tbdump.load's frame.locals raised it.  Only the key is lost, as a key whose
    # __hash__ raises any other error is: the dict holds its item under a placeholder key.
    dump = crash("raising_key.py", raises)
    done = subprocess.run([sys.executable, "-m", "tbdebug", str(dump)], cwd=str(dump.parent), env=child_env(),
                          input="p keyed\np 6 * 7\nq\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done
    assert "(Pdb) {<__main__.Key: not restored: %s>: 'value'}\n" % raises in done.stdout, done.stdout
    assert "(Pdb) 42\n" in done.stdout, done.stdout
    loaded = subprocess.run([sys.executable, "-c", "import tbdump; print([(k.reason, v) for k, v in tbdump.load("
                             "'traceback.pkl').frames[-1].locals['keyed'].items()])"], cwd=str(dump.parent),
                            env=child_env(), capture_output=True, text=True, timeout=120)
    assert loaded.stdout == "[('not restored: %s', 'value')]\n" % raises, loaded


# A program of the user's that opens a dump with its own SIGINT handler set, in its main thread
# and in another: the key whose own __hash__ raises KeyboardInterrupt is not restored, and the
# handler stays the program's own, the very function.
OWN_HANDLER = """\
import signal, threading, tbdump
def own(signum, frame):
    print('own handler')
signal.signal(signal.SIGINT, own)
said = []
def read():
    said.append(list(tbdump.load('traceback.pkl').frames[-1].locals['keyed'])[0].reason)
read()
thread = threading.Thread(target=read)
thread.start()
thread.join()
print(said, signal.getsignal(signal.SIGINT) is own)
"""


def test_a_program_that_opens_a_dump_keeps_its_own_sigint_handler_and_may_open_it_in_any_thread(
        crash: Callable[..., Path]) -> None:
    # Restoring notes a Ctrl-C by setting a handler of its own for a while: it must put the
    # program's back, and not set one outside the main thread (where Python refuses it).
    dump = crash("raising_key.py", "KeyboardInterrupt")
    done = subprocess.run([sys.executable, "-c", OWN_HANDLER], cwd=str(dump.parent), env=child_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == "['not restored: KeyboardInterrupt', 'not restored: KeyboardInterrupt'] True\n", done


# Opens the dump, whose `held` a Ctrl-C cuts short; then asks for the frame's values again, and
# opens the dump again.  Printed: placeholders by their reason, objects by their state; and in a
# frame with a `shared` value, whether `held` and `after` hold that very object, and the very dict
# `held` made first.
LOAD_INTERRUPTED = """\
import signal, tbdump
def shown(value):
    if isinstance(value, tbdump.Placeholder):
        return value.reason
    if isinstance(value, dict):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return vars(value) if hasattr(value, '__dict__') else value
def said(values):
    if 'shared' not in values:
        return [shown(values)]
    held, after = values['held'], values['after']
    one = isinstance(held, list) and held[3] is values['shared'] is after[0] and held[0] is after[1]
    return [shown(values), 'one shared:', one]
dump = tbdump.load('traceback.pkl')
try:
    dump.frames[-1].locals
except KeyboardInterrupt:
    print('interrupted')
print('handler back:', signal.getsignal(signal.SIGINT) is signal.default_int_handler)
print('asked again:', *said(dump.frames[-1].locals))
print('opened again:', *said(tbdump.load('traceback.pkl').frames[-1].locals))
"""
UNHASHABLE = "{'not restored: ValueError: no hash where the dump is opened': 'value'}"
MADE = "{'made': 'in held'}"


@pytest.mark.parametrize("where, values", [
    ("setstate", "{'held': [{'n': 1}, 'beside it'], 'before': ['kept', 1], 'after': {'n': 2}}"),
    ("hash", "{'held': [%s, 'beside it'], 'before': ['kept', 1], 'after': {'n': 2}}" % UNHASHABLE),
    ("shared-setstate", "{'shared': {'n': 0}, 'held': [%s, {'n': 1}, 'beside it', {'n': 0}], 'after': [{'n': 0}, %s]} "
                        "one shared: True" % (MADE, MADE)),
    ("shared-hash", "{'shared': {'n': 0}, 'held': [%s, %s, 'beside it', {'n': 0}], 'after': [{'n': 0}, %s]} "
                    "one shared: True" % (MADE, UNHASHABLE, MADE))],
    ids=["setstate", "hash", "shared-setstate", "shared-hash"])
def test_ctrl_c_inside_a_values_own_code_stops_tbdump_load_and_the_values_restore_when_asked_again(
        crash: Callable[..., Path], where: str, values: str) -> None:
    # "setstate": the KeyboardInterrupt landed in the value's own __setstate__, whose failure the
    # tbdump function running it makes that value's placeholder: the Ctrl-C was lost, restoring
    # went on, and the value said "not restored: KeyboardInterrupt" for good.  "hash": Ctrl-C in
    # the tolerant second reading of a record that failed (guards behaviour that already held).
    # "shared-": `held`'s record is not the first, and refers to the memo of `shared`'s: asked
    # again, it was lost for good, "not restored: restoring it was interrupted, and it cannot be
    # read on from where it stopped; open the dump again to restore it".  `after`'s record refers
    # to the dict `held`'s made before the Ctrl-C: it holds the one `held` holds once read again.
    dump = crash("slow_value.py", where)
    status, out, err = _interrupted([sys.executable, "-c", LOAD_INTERRUPTED], dump.parent, ready="slow\n")
    assert status == 0 and "slow\n" in err and "Traceback" not in err, (status, out, err)
    # Asked again, `held` is read again from its start, its code running again (quick from its
    # second run on), given the objects of the records before it: what it shares is theirs.
    assert out == "interrupted\nhandler back: True\nasked again: %s\nopened again: %s\n" % (values, values), out


# A program of the user's with a SIGINT handler of its own opens a dump whose value's own code is
# slow: the handler ends it (sys.exit), or notes the Ctrl-C and raises nothing.
OWN_HANDLER_LOAD = """\
import signal, sys, tbdump
def ends(signum, frame):
    sys.exit(3)
def notes(signum, frame):
    open('handled', 'w').close()
signal.signal(signal.SIGINT, ends if sys.argv[1] == 'ends' else notes)
held = tbdump.load('traceback.pkl').frames[-1].locals['held']
print(vars(held[0]), held[1])
"""


@pytest.mark.parametrize("handler, status, out", [("ends", 3, ""), ("notes", 0, "{'n': 1} beside it\n")])
def test_ctrl_c_inside_a_values_own_code_does_what_the_handler_of_the_program_opening_the_dump_does(
        crash: Callable[..., Path], handler: str, status: int, out: str) -> None:
    # Any SIGINT that came inside the value's own code was raised again as KeyboardInterrupt out of
    # frame.locals: a traceback where the handler's SystemExit ends the program quietly, and where
    # its handler raises nothing, restoring stopped all the same.
    dump = crash("slow_value.py", "setstate")
    got = _interrupted([sys.executable, "-c", OWN_HANDLER_LOAD, handler], dump.parent, ready="slow\n")
    assert got == (status, out, "slow\n"), got


REPL_LOAD = """\
import tbdump
dump = tbdump.load('traceback.pkl')
first = dict(dump.frames[-1].locals)
"""
# Its first line is for a Ctrl-C that lands once the load has ended: the prompt, reading on,
# takes it for the line it is reading, which it drops (the line after a Ctrl-C at `>>>`).
REPL_AGAIN = """\
pass
rows = dump.frames[-1].locals['rows']
print('rows:', (len(rows), rows[0], rows[-1]) if isinstance(rows, list) else rows.reason)
print('loaded again:', tbdump.load('traceback.pkl').frames[-1].locals['rows'][-1])
"""


def test_a_restore_interrupted_in_a_repl_gives_the_right_values_the_next_time(crash: Callable[..., Path]) -> None:
    # The unpickler was left inside the interrupted record: asked again, the dump read the rest
    # of that record as if it were the record asked for.  Then `rows`, whose record is not the
    # first (it may refer to objects of `ready`'s), was lost for good: "not restored: restoring it
    # was interrupted, and it cannot be read on from where it stopped; open the dump again".
    dump = crash("slow_restore.py")
    status, out, err = _interrupted([sys.executable, "-i", "-q"], dump.parent, REPL_LOAD, REPL_AGAIN)
    assert status == 0 and READY in err, (status, out, err)
    # The dump is whole, and the session goes on.
    assert out.splitlines()[-2:] == ["rows: (3000000, '0', '2999999')", "loaded again: 2999999"], out


# Holds the import of the module HOLD_IMPORT names, saying so on stderr, until Ctrl-C: the signal
# then lands in the tool's start-up, before or inside its main() as the tool imports that module.
HOLD_IMPORT = """
    import os
    import sys
    import time

    class Hold:
        def find_spec(self, name, path=None, target=None):
            if name == os.environ["HOLD_IMPORT"]:
                sys.meta_path.remove(self)
                sys.stderr.write("importing %s\\n" % name)
                sys.stderr.flush()
                time.sleep(60)
            return None

    sys.meta_path.insert(0, Hold())
"""


@pytest.mark.parametrize("tool, module", [
    ("tbdap", "tbdap.session"), ("tblsp", "tblsp.gencache"), ("tbdebug", "tbdebug.session"),
    ("tbpeep", "tbdebug.cli")])
def test_ctrl_c_while_a_tool_starts_ends_it_without_a_traceback(tmp_path: Path, tool: str, module: str) -> None:
    # Each imported these (a good part of its start-up) before its main() and its Ctrl-C handling:
    # a KeyboardInterrupt traceback, where the same Ctrl-C a moment later ended the tool quietly.
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(HOLD_IMPORT))
    path = os.pathsep.join([str(tmp_path), child_env()["PYTHONPATH"]])
    ready = "importing %s\n" % module
    dump = [] if tool in ("tbdap", "tblsp") else ["traceback.pkl"]
    status, out, err = _interrupted([sys.executable, "-m", tool, *dump], tmp_path, ready=ready,
                                    env={"PYTHONPATH": path, "HOLD_IMPORT": module})
    assert ready in err and "Traceback" not in err, err
    # The servers end with status 0 on Ctrl-C, the viewers as Python ends (a shell's 130).
    assert status == (0 if tool in ("tbdap", "tblsp") else -signal.SIGINT), (status, out, err)
