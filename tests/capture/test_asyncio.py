"""Crashes of asyncio and concurrent.futures programs, dumped as a user runs them and read
back: the coroutines' frames, the tasks' exceptions, asyncio's own objects among the locals.

The programs run under 3.11 (the suite's Python) and 3.13 (a cached venv of the
cross-version suite): asyncio's frames and its C types differ between them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest

import tbdump
from ..conftest import PYTHON, run, write
from ..hostile.harness import run_tbdump, write_program
from ..trust.test_xversion import _env
from .test_traceback_text import TASK_GROUP, python

WRITERS = ["3.11", "3.13"]


def crash(workdir: Path, writer: str, source: str) -> tbdump.Dump:
    proc = run_tbdump(write_program(workdir, source), [], _env(), python=python(writer), traceback=False)
    assert proc.returncode == 1, proc
    return tbdump.load(workdir / "traceback.pkl")


SERVER = """
    import asyncio, contextvars

    request_id = contextvars.ContextVar("request_id", default="-")

    async def echo(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()

    async def lookup(routes, path):
        await asyncio.sleep(0)
        return routes[path]

    async def route(request):
        path = request.decode().strip()
        return await lookup({"/": "index"}, path)

    async def main():
        request_id.set("req-42")
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        writer.write(b"hello\\n")
        line = await reader.readline()
        queue = asyncio.Queue()
        queue.put_nowait(line)
        lock = asyncio.Lock()
        await lock.acquire()
        current = asyncio.current_task()
        sleeper = asyncio.create_task(asyncio.sleep(100), name="sleeper")
        await route(b"/missing\\n")

    asyncio.run(main())
"""


@pytest.mark.parametrize("writer", WRITERS)
def test_a_coroutine_crash_holds_each_coroutine_frame_in_order_with_its_locals(workdir: Path, writer: str) -> None:
    """The frames awaited one in another follow asyncio's (runners, base_events), as Python prints
    them; those are library frames, the program's are not."""
    dump = crash(workdir, writer, SERVER)
    frames = [(f.name, f.library) for f in dump.frames]
    mine = [(name, library) for name, library in frames if not library]
    assert mine == [("<module>", False), ("main", False), ("route", False), ("lookup", False)], frames
    assert {"run", "run_until_complete"} <= {name for name, library in frames if library}, frames
    assert [f.name for f in dump.frames][-3:] == ["main", "route", "lookup"]
    main, route, lookup = dump.frames[-3:]
    assert (lookup.locals, route.locals) == ({"routes": {"/": "index"}, "path": "/missing"},
                                             {"request": b"/missing\n", "path": "/missing"})
    assert main.locals["line"] == b"hello\n" and main.locals["queue"].get_nowait() == b"hello\n"
    assert main.locals["lock"].locked()
    assert "line 11, in lookup\n    return routes[path]\n" in dump.traceback_text


@pytest.mark.parametrize("writer", WRITERS)
def test_every_frame_that_holds_the_crashed_task_says_it_is_not_captured(workdir: Path, writer: str) -> None:
    """The main task is a local of the program's frame and of asyncio's (the Runner's, the loop's):
    each shows its preview and why its object is missing, not only the frame met first."""
    dump = crash(workdir, writer, SERVER)
    holders = [(f.name, name, v) for f in dump.frames for name, v in f.variables.items()
               if v.type == "Task" and "name='Task-1'" in v.repr]
    assert len(holders) >= 3 and ("main", "current") in [(f, n) for f, n, _ in holders], holders
    for frame, name, value in holders:
        assert value.missing and "not captured" in value.missing, (frame, name, value)
        assert "coro=<main() done" in value.repr and "exception=KeyError('/missing')" in value.repr
    report = run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], workdir).stdout
    shown = [line for line in report.splitlines() if "(Task)" in line and "name='Task-1'" in line]
    assert len(shown) == len(holders) and all("[not captured: " in line for line in shown), shown


def test_loading_a_dump_of_a_server_opens_no_socket_and_starts_no_loop(workdir: Path) -> None:
    """The streams, the server and the loop come back as the objects they were (their sockets as
    placeholders): opening the dump and reading every value connects and listens to nothing."""
    crash(workdir, "3.11", SERVER)
    proc = run([PYTHON, "-c", """if 1:
        import asyncio, json, os, threading, tbdump
        before = set(os.listdir("/proc/self/fd"))
        dump = tbdump.load("traceback.pkl")
        values = {name: dump.resolve(v) for f in dump.frames for name, v in f.variables.items()}
        kinds = sorted(os.readlink("/proc/self/fd/" + fd) for fd in set(os.listdir("/proc/self/fd")) - before
                       if os.path.exists("/proc/self/fd/" + fd))
        try:
            asyncio.get_running_loop()
            running = True
        except RuntimeError:
            running = False
        writer = values["writer"]
        print(json.dumps({"fds": kinds, "threads": threading.active_count(), "running": running,
                          "writer": type(writer).__name__, "reader": type(values["reader"]).__name__,
                          "socket": repr(writer.transport.get_extra_info("socket"))[:40]}))
    """], workdir)
    seen = json.loads(proc.stdout)
    assert seen["fds"] == [str(workdir / "traceback.pkl")] and seen["threads"] == 1 and not seen["running"], seen
    assert (seen["writer"], seen["reader"]) == ("StreamWriter", "StreamReader"), seen
    assert ": not captured: " in seen["socket"], seen  # its socket, or the wrapper of it


@pytest.mark.parametrize("writer", WRITERS)
def test_a_task_groups_failed_tasks_are_members_with_their_own_frames(workdir: Path, writer: str) -> None:
    dump = crash(workdir, writer, TASK_GROUP)
    group = dump.exception
    assert (group.type, group.message) == ("ExceptionGroup", "unhandled errors in a TaskGroup (2 sub-exceptions)")
    members = [dump.exceptions[i] for i in group.members]
    assert [(m.type, m.message) for m in members] == [("ValueError", "bad item 1"), ("TypeError", "wrapped")]
    for n, member in enumerate(members, 1):
        assert [f.name for f in member.frames] == ["fetch"], member.frames
        assert member.frames[0].locals == {"n": n}
    cause = dump.exceptions[members[1].cause]
    assert (cause.type, [f.name for f in cause.frames]) == ("KeyError", ["fetch"])
    assert [f.name for f in group.frames if not f.library] == ["<module>", "main"]


def test_a_thread_pool_workers_exception_holds_the_workers_frames(workdir: Path) -> None:
    """future.result() raises the worker's exception again in the caller: its traceback runs on
    into the worker's frames, which the dump holds with their locals."""
    dump = crash(workdir, "3.11", """
        from concurrent.futures import ThreadPoolExecutor

        def parse(line):
            fields = line.split(",")
            return int(fields[1])

        def main():
            lines = ["a,1", "b,x", "c,3"]
            with ThreadPoolExecutor(2) as pool:
                futures = [pool.submit(parse, line) for line in lines]
                return sum(f.result() for f in futures)

        main()
    """)
    names: List[str] = [f.name for f in dump.frames]
    assert names[:2] == ["<module>", "main"] and names[-1] == "parse" and "result" in names, names
    assert dump.frames[-1].locals["fields"] == ["b", "x"]
    assert dump.threads[0].crashed and dump.threads[0].name == "MainThread"


# docs/LIMITATIONS.md's recipe for an error asyncio only reports (a callback's, a task nobody awaited).
HANDLER = """
    import asyncio
    from tbdump import dump_exception

    def on_error(loop, context):
        loop.default_exception_handler(context)   # Python's message, as before
        if 'exception' in context:
            dump_exception(context['exception'], 'task.pkl')

    def tick(n):
        left = 3 - n
        raise ZeroDivisionError("tick %d" % n)

    async def main():
        asyncio.get_running_loop().set_exception_handler(on_error)
        asyncio.get_running_loop().call_soon(tick, 3)
        await asyncio.sleep(0.05)
        print("went on")

    asyncio.run(main())
"""


@pytest.mark.parametrize("way", ["python", "python -m tbdump"])
def test_the_readme_recipe_dumps_a_callbacks_error_and_the_program_goes_on(workdir: Path, way: str) -> None:
    """The dump holds the callback's frame and the loop's frames that called it, up to the
    program's: under ``python -m tbdump`` not tbdump's own nor runpy's above them."""
    write(workdir / "prog.py", HANDLER)
    proc = run([PYTHON, *way.split()[1:], "prog.py"], workdir)
    assert (proc.returncode, proc.stdout) == (0, "went on\n"), proc
    assert "Exception in callback tick(3)" in proc.stderr and "ZeroDivisionError: tick 3" in proc.stderr
    dump = tbdump.load(workdir / "task.pkl")
    assert dump.frames[0].name == "<module>" and dump.frames[0].filename.endswith("prog.py"), dump.frames
    assert [(f.name, f.above_handler) for f in dump.frames[-2:]] == [("_run", False), ("tick", False)]
    assert all(f.above_handler for f in dump.frames[:-2])
    assert all("tbdump" not in f.filename and "runpy" not in f.filename for f in dump.frames), dump.frames
    assert dump.frames[-1].locals == {"n": 3, "left": 0}


def test_a_loop_the_program_left_open_closes_nothing_of_the_viewer_that_lets_it_go(workdir: Path) -> None:
    """A program that runs a loop of its own and never closes it (run_until_complete, a signal
    handled on it): restored in a viewer and collected there, its loop closed itself, which left
    "Exception ignored in ... BaseEventLoop.__del__" and a traceback on the viewer's stderr, and
    could reset the viewer's handler of that signal."""
    write(workdir / "prog.py", """
        import asyncio, signal

        async def job():
            raise RuntimeError("job failed")

        loop = asyncio.new_event_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: None)
        loop.run_until_complete(job())
    """)
    assert run([PYTHON, "-m", "tbdump", "prog.py"], workdir).returncode == 1
    pdb = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], workdir,
              stdin="up\np self.is_closed(), self.is_running(), list(self._signal_handlers), type(self).__name__\nq\n")
    assert "(False, False, [<Signals.SIGTERM: 15>], '_UnixSelectorEventLoop')" in pdb.stdout, pdb.stdout
    assert "Traceback" not in pdb.stderr and "Exception ignored" not in pdb.stderr, pdb.stderr
    viewer = run([PYTHON, "-W", "error::ResourceWarning", "-c", """if 1:
        import gc, signal, tbdump
        def mine(*args):
            pass
        signal.signal(signal.SIGTERM, mine)
        dump = tbdump.load("traceback.pkl")
        loop = dump.resolve(dump.frames[0].variables["loop"])
        del loop, dump
        gc.collect()
        print(signal.getsignal(signal.SIGTERM) is mine)
    """], workdir)
    assert (viewer.stdout, viewer.stderr) == ("True\n", ""), viewer
