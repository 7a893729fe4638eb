"""What the viewers say when they cannot do their job: a dump that cannot be opened, a stdout that
cannot be written, a port that cannot be listened on, a dump cut short while it is read."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from ..conftest import rewrite_members
from .children import child_env, run


def _command(tool: str, dump: Path) -> List[str]:
    port = ["--port", "0"] if tool == "tbdap" else []   # tbdap opens a named dump before it serves
    return [sys.executable, "-m", tool, *port, str(dump)]


def _in_every_tool(dump: Path) -> Dict[str, List[str]]:
    """Each tool's command line, named as TOOLS names it."""
    return {"tbdebug": _command("tbdebug", dump), "tbpeep": _command("tbpeep", dump),
            "tbdump.report": _command("tbdump.report", dump), "tbdap": [sys.executable, "-m", "tbdap"],
            "tbdap --port": _command("tbdap", dump), "tblsp": [sys.executable, "-m", "tblsp"],
            "tblsp --tcp": [sys.executable, "-m", "tblsp", "--tcp", "--port", "0"]}


TOOLS = ["tbdebug", "tbpeep", "tbdump.report", "tbdap", "tbdap --port", "tblsp", "tblsp --tcp"]


@pytest.mark.parametrize("tool", TOOLS)
def test_a_closed_stdout_is_one_line_and_status_1(crash: Callable[..., Path], tool: str) -> None:
    """`tbdebug dump >&-`: Python's sys.stdout is None, and the first print was a traceback
    (tbdap --port 0 served on a port nobody could learn)."""
    dump = crash("divide.py", "5", "0")
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *_in_every_tool(dump)[tool]], cwd=dump.parent,
                          env=child_env(), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    prog = tool.split()[0]
    assert (done.returncode, done.stderr) == (1, f"{prog}: cannot write to stdout: it is closed\n")


@pytest.mark.parametrize("tool", ["tbdebug", "tbpeep", "tbdump.report", "tbdap --port", "tblsp --tcp"])
def test_a_reader_gone_from_stdout_ends_the_tool_quietly(crash: Callable[..., Path], tool: str) -> None:
    """`tbdebug dump | head -1`: as `cat` ends, status 1 and no word (a traceback before)."""
    dump = crash("divide.py", "5", "0")
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(_in_every_tool(dump)[tool], cwd=dump.parent, env=child_env(), stdout=write,
                              stderr=subprocess.PIPE, input="q\n", text=True, timeout=60)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize("tool", [["tbdap", "--port"], ["tblsp", "--tcp", "--port"]])
def test_a_port_in_use_is_said_in_words(tool: List[str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run([sys.executable, "-m", *tool, str(port)], tmp_path)
    assert (done.returncode, done.stderr) == (2, f"{tool[0]}: cannot listen on 127.0.0.1:{port}: address already in use\n")


@pytest.mark.parametrize("tool", [["tbdap", "--port"], ["tblsp", "--tcp", "--port"]])
def test_a_host_that_does_not_resolve_is_said_in_words(tool: List[str], tmp_path: Path) -> None:
    """The resolver's words (they vary: no name, no network), without what Python's create_server
    puts around them ("(while attempting to bind on address ('nosuch.invalid', 5678))")."""
    done = run([sys.executable, "-m", *tool, "5678", "--host", "nosuch.invalid"], tmp_path)
    prefix = f"{tool[0]}: cannot listen on nosuch.invalid:5678: "
    assert done.returncode == 2 and done.stderr.startswith(prefix), done.stderr
    words = done.stderr[len(prefix):]
    assert words.rstrip("\n").replace(" ", "").isalpha() and words[0].islower() and "\n" not in words[:-1], words


def test_a_dump_cut_short_while_a_member_is_read_is_said_damaged(crash: Callable[..., Path]) -> None:
    """Another process truncates the dump (a new one copied over it) while a viewer reads a
    module's globals: read through a memory mapping, the viewer died of SIGBUS, without a word."""
    dump = crash("divide.py", "5", "0")

    def swell(members: Dict[str, bytes]) -> None:   # 100 MiB of globals: inflated and parsed for a while
        for name in members:
            if name.startswith("globals."):
                members[name] = json.dumps({"g%d" % i: {"t": "str", "r": repr("x%d" % i * 30)}
                                            for i in range(400000)}).encode()
    big = rewrite_members(dump, dump.parent / "big.pkl", swell)
    program = """if True:
        import os, sys, threading, tbdump
        dump = tbdump.load(sys.argv[1], objects=False)
        namespace = dump.globals_of(dump.frames[-1])
        cut = threading.Thread(target=os.truncate, args=(sys.argv[1], 4096))
        cut.start()     # while the globals are read: when exactly does not matter
        names = list(namespace)
        cut.join()
        print(len(names), tbdump.lazymembers.unreadable(namespace))
    """
    for _ in range(3):
        copy = dump.parent / "cut.pkl"
        copy.write_bytes(big.read_bytes())
        done = run([sys.executable, "-c", program, str(copy)], dump.parent)
        assert done.returncode == 0 and done.stderr == "", done
        # Read before the cut, or said damaged as any change under an open dump is.
        assert done.stdout in ("400000 None\n", "1 not readable: %s: the file was replaced while it was open\n" % copy)
