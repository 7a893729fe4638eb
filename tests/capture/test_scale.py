"""Crash shapes of big programs (many threads, modules, files, exceptions), captured as a user runs them."""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any, Callable, Dict

import tbdump
from tbdump.container import ContainerReader
from tbdump.placeholder import Placeholder
from ..conftest import PYTHON, biglobals_dump, globals_entries_damaged, run, write


def test_a_server_with_a_hundred_threads_is_dumped_whole_and_tbdumps_hooks_stay_out_of_it(workdir: Path) -> None:
    # Every Thread holds the threading.excepthook of its start; tbdump's, pickled by value,
    # cost 30 ms a thread (a 300-thread server's whole time budget) and carried the signing key.
    write(workdir / "server.py", """
        import threading, tbdump
        tbdump.set_excepthook(key=b'the-signing-key')
        ready, stop = threading.Barrier(101), threading.Event()
        def serve(n):
            conn = {'peer': n, 'buf': b'x' * 100}
            ready.wait()
            stop.wait()
        for n in range(100):
            threading.Thread(target=serve, args=(n,), name='conn-%d' % n, daemon=True).start()
        ready.wait()
        def handle(worker):
            raise RuntimeError('bad request')
        handle(threading.enumerate()[-1])
    """)
    proc = run([PYTHON, "server.py"], workdir)
    assert proc.stderr == "RuntimeError: bad request\nTraceback dumped into: traceback.pkl\n"
    assert b"the-signing-key" not in (workdir / "traceback.pkl").read_bytes()
    dump = tbdump.load(workdir / "traceback.pkl", key=b"the-signing-key")
    assert not dump.metadata.partial, dump.metadata.cut
    serving = [t for t in dump.threads if t.name.startswith("conn-")]
    assert len(serving) == 100
    assert all(f.variables["conn"].ref is not None for t in serving for f in t.frames if f.name == "serve")
    worker = dump.frames[-1].locals["worker"]
    hooks = [c.cell_contents for c in worker._invoke_excepthook.__closure__
             if isinstance(c.cell_contents, Placeholder)]
    assert sorted(map(repr, hooks)) == [  # threading.excepthook and sys.excepthook, as the thread started
        "<function: not captured: tbdump's own hook, not the program's <tbdump's sys.excepthook>>",
        "<function: not captured: tbdump's own hook, not the program's <tbdump's threading.excepthook>>"]


def test_a_handler_threads_crash_while_twenty_threads_compute_is_dumped_whole(workdir: Path) -> None:
    # Each of capture's steps was a trip to its helper thread and back, each waiting for the GIL
    # behind the threads that compute: a few requests' worth of locals outlasted the time budget.
    # (The budget is raised from 10 s so that a loaded test host cannot cut the dump: before, it
    # was cut at 30 s too.)
    write(workdir / "server.py", """
        import datetime, threading, tbdump
        tbdump.set_excepthook()
        stop = threading.Event()
        def spin():
            n = 0
            while not stop.is_set():
                n += 1
        for k in range(20):
            threading.Thread(target=spin, name='busy-%d' % k, daemon=True).start()
        class Request:
            def __init__(self, n):
                self.path = '/orders/%d' % n
                self.headers = {'host': 'example.com', 'x-id': str(n), 'accept': ['json', 'html']}
                self.when = datetime.datetime(2024, 5, 1, 12, n)
        def handle(request, sessions):
            cart = sessions[request.headers['x-id']]['cart']
            raise RuntimeError('bad request')
        def route(pending):
            sessions = {str(n): {'orders': [n, n + 1], 'cart': {'items': [n]}} for n in range(20)}
            handle(pending[3], sessions)
        def serve():
            pending = [Request(n) for n in range(10)]
            route(pending)
        handler = threading.Thread(target=serve, name='handler')
        handler.start()
        handler.join()
        stop.set()
    """)
    proc = run([PYTHON, "server.py"], workdir, env={"TBDUMP_MAX_SECONDS": "30"}, timeout=120)
    assert proc.stderr.endswith("RuntimeError: bad request\nTraceback dumped into: traceback.pkl\n"), proc.stderr
    dump = tbdump.load(workdir / "traceback.pkl")
    assert (dump.metadata.partial, dump.metadata.cut) == (False, [])
    frames = {f.name: f for f in dump.frames}
    variables = [v for name in ("serve", "route", "handle") for v in frames[name].variables.values()]
    assert all(v.missing is None and v.ref is not None for v in variables)
    assert frames["handle"].locals["cart"] == {"items": [3]}
    assert frames["handle"].locals["request"].when == datetime.datetime(2024, 5, 1, 12, 3)
    assert [c.name for c in frames["handle"].variables["request"].children] == ["headers", "path", "when"]
    assert frames["route"].variables["sessions"].length == 20 and frames["serve"].variables["pending"].length == 10
    busy = [t for t in dump.threads if t.name.startswith("busy-")]
    assert len(busy) == 20 and all("spin" in [f.name for f in t.frames] for t in busy)


def test_a_generated_module_over_the_globals_budget_keeps_those_the_crashing_function_uses(workdir: Path) -> None:
    # The module's top level names every global it assigns: the function's own names come first.
    lines = ["CONST_%d = %d" % (n, n) for n in range(6000)]
    write(workdir / "generated.py", "\n".join(lines) + """
def lookup(n):
    wanted = CONST_5999
    raise KeyError(n)
lookup(-1)
""")
    proc = run([PYTHON, "-m", "tbdump", "generated.py"], workdir)
    assert proc.stderr == "KeyError: -1\nTraceback dumped into: traceback.pkl\n"
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.metadata.cut == ["globals of __main__: 5000 of 6009 captured (budget max_globals)"]
    module = dump.globals_of(dump.frames[-1])
    assert module["CONST_5999"].repr == "5999" and module["__name__"].repr == "'__main__'"
    assert sum(1 for v in module.values() if v.missing == "not captured: over the max_globals budget") == 1009


def test_the_versions_of_a_hundred_packages_in_the_stack_read_each_distributions_metadata_once(
        workdir: Path) -> None:
    # Packages whose distribution has another name (PyYAML for yaml) are found by top_level.txt.
    site = workdir / "site-packages"
    for n in range(100):
        (site / ("top%d" % n)).mkdir(parents=True)
        write(site / ("top%d" % n) / "__init__.py", "def call(n):\n    __import__('top%d').call(n + 1)\n" % (n + 1)
              if n < 99 else "def call(n):\n    raise RuntimeError('deep')\n")
        info = site / ("Dist_%d-1.%d.dist-info" % (n, n))
        info.mkdir()
        (info / "top_level.txt").write_text("top%d\n" % n)
    write(workdir / "prog.py", """
        import sys
        sys.path.append(sys.argv[1])
        opened = []
        sys.addaudithook(lambda event, args: event == 'open' and str(args[0]).endswith('top_level.txt')
                         and opened.append(args[0]))
        import atexit, top0
        atexit.register(lambda: print(len(opened), len(set(opened))))
        top0.call(0)
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py", str(site)], workdir)
    assert proc.stderr == "RuntimeError: deep\nTraceback dumped into: traceback.pkl\n"
    opened, files = proc.stdout.split()
    assert opened == files   # each distribution's file read once at most
    packages = tbdump.load(workdir / "traceback.pkl").metadata.packages
    assert packages == {"top%d" % n: "1.%d" % n for n in range(100)}


def test_the_locals_of_every_frame_come_before_the_module_globals_that_do_not_fit_the_time_budget(
        workdir: Path) -> None:
    # Each module holds a global slow to capture: taken frame by frame with its module's globals,
    # they used the budget up before the outer frames' locals were reached.
    for n in range(6):
        write(workdir / ("stage%d.py" % n), """
            import time
            class Slow:
                def __repr__(self):
                    time.sleep(0.5)
                    return 'Slow()'
            CACHE = Slow()
            def run(n):
                state = {'stage': n}
                if n == 5:
                    raise RuntimeError('stage 5 failed')
                __import__('stage%d' % (n + 1)).run(n + 1)
        """)
    write(workdir / "prog.py", """
        import stage0
        def main():
            options = ['--fast']
            stage0.run(0)
        main()
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_MAX_SECONDS": "2"})
    assert proc.stderr == "RuntimeError: stage 5 failed\nTraceback dumped into: traceback.pkl\n"
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.metadata.partial
    assert [(f.name, {k: v.repr for k, v in f.variables.items()}) for f in dump.frames[1:]] == [
        ("main", {"options": "['--fast']"})] + [("run", {"n": str(n), "state": "{'stage': %d}" % n}) for n in range(6)]
    cut = [dump.globals_of(f)["CACHE"].missing for f in dump.frames[2:]]
    assert "not captured: time budget exhausted" in cut


def test_an_object_in_many_modules_globals_is_one_record_previewed_alike_and_a_secret_met_last_is_hidden_in_all(
        workdir: Path) -> None:
    # Each module's globals are written out as soon as they are captured (innermost module
    # first), so a big program's previews are never all held: an object met again in an
    # outer module's globals must still be the preview and the record made first (previewed
    # again after it was pickled, THING's class showed the __slotnames__ pickling adds), and
    # a secret learned in an outer module must still be hidden in the inner ones.
    write(workdir / "m0.py", """
        class Thing:
            def __init__(self):
                self.items = [1, 2, 3]
        THING = Thing()
        CONFIG = {'host': 'db.local', 'port': 5432}
        settings = {'db': {'main': {'password': 'hunter2-' + 'secret-xyz'}}}
        def step():
            import m1
            m1.step()
    """)
    write(workdir / "m1.py", """
        from m0 import THING, CONFIG
        def step():
            import m2
            m2.step()
    """)
    write(workdir / "m2.py", """
        from m0 import THING, CONFIG
        banner = 'connect with ' + 'hunter2-' + 'secret-xyz'
        def step():
            raise RuntimeError('deep')
    """)
    write(workdir / "prog.py", "import m0\nm0.step()\n")
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.stderr == "RuntimeError: deep\nTraceback dumped into: traceback.pkl\n"
    assert b"hunter2-secret-xyz" not in (workdir / "traceback.pkl").read_bytes()
    dump = tbdump.load(workdir / "traceback.pkl")
    modules = [dump.globals_of(f) for f in dump.frames[-3:]]
    for name in ("THING", "CONFIG"):
        previews = [m[name] for m in modules]
        assert previews[0].ref is not None and all(p == previews[0] for p in previews), name
    assert modules[2]["banner"].repr == "'connect with <redacted>'"
    assert dump.frames[-1].globals["THING"] is dump.frames[-3].globals["THING"]
    assert dump.frames[-1].globals["THING"].items == [1, 2, 3]


def test_a_frames_locals_read_no_modules_globals_and_each_modules_globals_are_read_alone(workdir: Path) -> None:
    # 40 generated modules of 3 000 globals took tbdump.load 2-4 s: every module's globals were
    # parsed with the stack, though the crashing frame's locals need none of them.
    for n in range(6):
        lines = ["C_%d_%d = %d" % (n, i, i) for i in range(3000)]
        call = "    __import__('m%d').step(k + 1)\n" % (n + 1) if n < 5 else "    raise RuntimeError('deep')\n"
        write(workdir / ("m%d.py" % n), "\n".join(lines) + "\ndef step(k):\n    here = k * 2\n" + call)
    write(workdir / "prog.py", "import m0\nm0.step(0)\n")
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.stderr == "RuntimeError: deep\nTraceback dumped into: traceback.pkl\n"
    path = workdir / "traceback.pkl"
    # Damage m2's globals alone: the dump still opens, and only they say so.
    member = _damage_member(path, lambda safe: safe["globals"]["m2"])
    dump = tbdump.load(path)
    assert [f.locals for f in dump.frames[-6:]] == [{"k": n, "here": 2 * n} for n in range(6)]
    steps = dump.frames[-6:]
    assert [dump.globals_of(f)["C_%d_2999" % n].repr for n, f in enumerate(steps) if n != 2] == ["2999"] * 5
    damaged = dump.globals_of(steps[2])
    assert list(damaged) == ["<globals>"]
    assert damaged["<globals>"].missing == "not readable: %s: the dump is corrupted (member %r fails its checksum)" % (
        path, member)
    report = run([PYTHON, "-m", "tbdump.report", "--globals", "traceback.pkl"], workdir)
    assert report.returncode == 0 and "Traceback (most recent call last)" in report.stdout
    assert "fails its checksum" in report.stdout and "C_4_2999 = 2999" in report.stdout


def test_a_closed_dump_still_reads_the_globals_of_its_file_and_not_those_of_another_written_over_it(
        workdir: Path) -> None:
    # tblsp closes a dump once placed (a new crash replaces the file) and shows globals later.
    write(workdir / "prog.py", "LIMIT = 10\ndef f():\n    raise ValueError(LIMIT)\nf()\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    first, second = tbdump.load(workdir / "traceback.pkl"), tbdump.load(workdir / "traceback.pkl")
    first.close()
    assert first.globals_of(first.frames[-1])["LIMIT"].repr == "10"
    second.close()
    write(workdir / "prog.py", "LIMIT = 20\ndef f():\n    raise ValueError(LIMIT)\nf()\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert second.globals_of(second.frames[-1])["<globals>"].missing == (
        "not readable: %s: the file was replaced while it was open" % (workdir / "traceback.pkl"))


def test_a_frames_locals_follow_no_index_entry_of_the_modules_globals(workdir: Path) -> None:
    # 40 modules of 3 000 globals make 120 000 object records, and their index was parsed and
    # checked whole (some 100 ms) before the first frame's locals could be read.
    refs = globals_entries_damaged(biglobals_dump(workdir), workdir / "damaged.pkl")
    assert len(refs) >= 40 * 3000
    dump = tbdump.load(workdir / "damaged.pkl")
    assert [f.locals for f in dump.frames[-40:]] == [{"depth": n, "here": 2 * n, "name": "m%d" % n} for n in range(40)]
    assert dump.safe_reason is None and dump.globals_of(dump.frames[-1])["V_2997"].repr == "119997"
    first = next(name for name, value in dump.globals_of(dump.frames[-1]).items() if value.ref == refs[0])
    missing = dump.frames[-1].globals[first]
    assert isinstance(missing, Placeholder) and missing.reason == (
        "not restored: the dump's object index entry %d is damaged" % refs[0])


def test_a_source_is_read_when_its_text_is_asked_for_and_a_damaged_one_has_none_and_says_why(
        workdir: Path) -> None:
    # The texts of a big program's 40 files, 4 MB, were most of opening its dump, and a frame's
    # locals need none of them.
    for n in range(3):
        call = "    __import__('m%d').step(k + 1)\n" % (n + 1) if n < 2 else "    raise RuntimeError('deep')\n"
        write(workdir / ("m%d.py" % n), "def step(k):\n    here = k * 2\n" + call)
    write(workdir / "prog.py", "import m0\nm0.step(0)\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    path = workdir / "traceback.pkl"
    member = _damage_member(path, lambda safe: safe["sources"][str(workdir / "m1.py")]["member"])
    dump = tbdump.load(path)
    assert [f.locals for f in dump.frames[-3:]] == [{"k": n, "here": 2 * n} for n in range(3)]
    damaged, whole = dump.sources[str(workdir / "m1.py")], dump.sources[str(workdir / "m2.py")]
    assert damaged.text is None and damaged.reason == (
        "not readable: %s: the dump is corrupted (member %r fails its checksum)" % (path, member))
    assert whole.lines == ["def step(k):", "    here = k * 2", "    raise RuntimeError('deep')"]
    report = run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], workdir)
    assert report.returncode == 0 and report.stderr == "", report
    assert "__import__('m1').step(k + 1)" in report.stdout and "__import__('m2').step(k + 1)" not in report.stdout
    assert "raise RuntimeError('deep')" in report.stdout


def _damage_member(path: Path, name: Callable[[Dict[str, Any]], str]) -> str:
    """Flip a byte of the member of the dump that ``name`` finds in its safe layer; its name."""
    reader = ContainerReader(str(path))
    try:
        member = name(json.loads(reader.read("safe")))
        at = reader.manifest["members"][member]["offset"] + 5
    finally:
        reader.close()
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return member
