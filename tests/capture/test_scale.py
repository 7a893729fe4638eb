"""Crash shapes of big programs (many threads, modules, files, exceptions), captured as a user runs them."""
from __future__ import annotations

from pathlib import Path

import tbdump
from tbdump.placeholder import Placeholder
from ..conftest import PYTHON, run, write


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
