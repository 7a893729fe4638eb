"""The hostile-object table: one small crashing program per case.

Each program holds something hostile in its frames (locals, globals, cells)
and then dies of an uncaught exception.  Programs write only into their own
working directory, so the loader's side effects can be checked there.
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Tuple


class Case(NamedTuple):
    source: str
    env: Tuple[Tuple[str, str], ...] = ()


C = Case
CASES: Dict[str, Case] = {
    # -- OS resources ------------------------------------------------------------
    "files_every_mode": C('''
        import io, os
        def victim():
            r = open("r.txt", "w+"); r.write("x"); r.flush()
            modes = {m: open("f_%s.bin" % m.replace("+", "p"), m) for m in ("w", "a", "wb", "ab", "w+", "a+b")}
            rd = open("r.txt"); rb = open("r.txt", "rb"); rp = open("r.txt", "r+")
            xb = open("new.bin", "xb"); raw = open("r.txt", "rb", buffering=0)
            fd = os.open("r.txt", os.O_RDONLY); closed = open("r.txt"); closed.close()
            bio = io.BytesIO(b"abc"); sio = io.StringIO("abc")
            1 / 0
        victim()
    '''),
    "sockets": C('''
        import socket
        def victim():
            a, b = socket.socketpair()
            srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
            cli = socket.create_connection(srv.getsockname()); conn, _ = srv.accept()
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            closed = socket.socket(); closed.close()
            raise ConnectionError("peer went away")
        victim()
    '''),
    "pipes": C('''
        import os
        def victim():
            rfd, wfd = os.pipe()
            reader, writer = os.fdopen(rfd, "rb"), os.fdopen(wfd, "wb")
            writer.write(b"data"); writer.flush()
            raise BrokenPipeError(32, "Broken pipe")
        victim()
    '''),
    "mmap": C('''
        import mmap
        def victim():
            anon = mmap.mmap(-1, 4096); anon[:5] = b"hello"
            with open("m.bin", "wb") as fh:
                fh.write(b"\\0" * 8192)
            fh = open("m.bin", "r+b"); mapped = mmap.mmap(fh.fileno(), 0)
            view = memoryview(anon)
            raise ValueError("mmap trouble")
        victim()
    '''),
    "subprocesses": C('''
        import subprocess, sys
        def victim():
            done = subprocess.Popen([sys.executable, "-c", "pass"]); done.wait()
            piped = subprocess.Popen([sys.executable, "-c", "print(1)"], stdout=subprocess.PIPE)
            out = piped.communicate()
            result = subprocess.run([sys.executable, "-c", "pass"])
            raise RuntimeError("child failed")
        victim()
    '''),
    "locks": C('''
        import threading
        def victim():
            lock = threading.Lock(); held = threading.Lock(); held.acquire()
            rlock = threading.RLock(); rlock.acquire()
            sem = threading.Semaphore(2); bsem = threading.BoundedSemaphore(1)
            raise TimeoutError("lock timeout")
        victim()
    '''),
    "conditions_events_barriers": C('''
        import threading
        def victim():
            cond = threading.Condition(); event = threading.Event(); event.set()
            barrier = threading.Barrier(2)
            with cond:
                raise RuntimeError("inside condition")
        victim()
    '''),
    "threads": C('''
        import threading
        stop = threading.Event()
        def worker(): stop.wait(30)
        def victim():
            live = threading.Thread(target=worker, name="live-worker", daemon=True); live.start()
            unstarted = threading.Thread(target=worker)
            finished = threading.Thread(target=lambda: None); finished.start(); finished.join()
            timer = threading.Timer(60, worker)
            me = threading.current_thread()
            raise RuntimeError("thread trouble")
        victim()
    '''),
    "thread_locals": C('''
        import threading
        tls = threading.local()
        tls.user = "bob"; tls.items = [1, 2]
        def victim():
            local_tls = tls; other = threading.local()
            raise KeyError("session")
        victim()
    '''),
    "queues_and_executors": C('''
        import queue, concurrent.futures
        def victim():
            q = queue.Queue(); q.put(1); lq = queue.LifoQueue()
            pool = concurrent.futures.ThreadPoolExecutor(1)
            fut = pool.submit(lambda: 42); fut.result()
            raise RuntimeError("queue trouble")
        victim()
    '''),
    "tempfiles": C('''
        import tempfile
        def victim():
            tf = tempfile.TemporaryFile(dir="."); tf.write(b"x")
            named = tempfile.NamedTemporaryFile(dir=".", delete=False, suffix=".tmp"); named.write(b"y")
            spooled = tempfile.SpooledTemporaryFile(10)
            tdir = tempfile.TemporaryDirectory(dir=".")
            raise OSError("disk full")
        victim()
    '''),
    "sqlite_and_selectors": C('''
        import selectors, sqlite3, select
        def victim():
            db = sqlite3.connect(":memory:"); cur = db.execute("select 1")
            filedb = sqlite3.connect("app.db"); filedb.execute("create table t (x)"); filedb.commit()
            sel = selectors.DefaultSelector()
            ep = select.epoll() if hasattr(select, "epoll") else None
            raise sqlite3.OperationalError("database is locked")
        victim()
    '''),
    "zip_and_logging_handles": C('''
        import logging, zipfile
        def victim():
            zf = zipfile.ZipFile("out.zip", "w"); zf.writestr("a.txt", "hi")
            log = logging.getLogger("app"); handler = logging.FileHandler("app.log"); log.addHandler(handler)
            log.error("about to fail")
            raise RuntimeError("zip trouble")
        victim()
    '''),
    # -- generators, coroutines, async generators in every state -----------------
    "generators_every_state": C('''
        def gen():
            yield 1
            yield 2
        def victim():
            created = gen(); suspended = gen(); next(suspended)
            finished = gen(); list(finished)
            closed = gen(); closed.close()
            genexp = (x * 2 for x in range(3))
            raise StopIteration("not from a generator")
        victim()
    '''),
    "crash_inside_running_generator": C('''
        def gen():
            state = {"n": 0}
            yield 1
            raise LookupError("inside a running generator")
        def victim():
            g = gen()
            for item in g:
                pass
        victim()
    '''),
    "coroutines_every_state": C('''
        import types, warnings
        warnings.simplefilter("ignore")
        @types.coroutine
        def pause():
            yield "paused"
        async def coro():
            await pause()
        def victim():
            created = coro()
            suspended = coro(); suspended.send(None)
            finished = coro(); finished.send(None)
            try:
                finished.send(None)
            except StopIteration:
                pass
            closed = coro(); closed.close()
            raise RuntimeError("coroutine trouble")
        victim()
    '''),
    "crash_inside_asyncio": C('''
        import asyncio
        async def inner(n):
            await asyncio.sleep(0)
            raise ValueError("async failure %d" % n)
        async def main():
            task = asyncio.ensure_future(asyncio.sleep(10))
            loop = asyncio.get_running_loop(); fut = loop.create_future()
            await inner(3)
        asyncio.run(main())
    '''),
    "async_generators_every_state": C('''
        import types, warnings
        warnings.simplefilter("ignore")
        @types.coroutine
        def pause():
            yield "paused"
        async def agen():
            yield 1
            await pause()
            yield 2
        def victim():
            created = agen()
            started = agen(); step = started.asend(None)
            try:
                step.send(None)
            except StopIteration:
                pass
            awaiting = agen(); s1 = awaiting.asend(None)
            raise RuntimeError("async generator trouble")
        victim()
    '''),
    # -- frames, tracebacks, code, modules -------------------------------------------
    "frames_tracebacks_code": C('''
        import sys
        def victim():
            frame = sys._getframe(); code = frame.f_code; back = frame.f_back
            try:
                {}["missing"]
            except KeyError as e:
                caught = e; tb = e.__traceback__
            raise RuntimeError("after catching")
        victim()
    '''),
    "modules": C('''
        import json, os.path, collections.abc, importlib
        def victim():
            mods = [json, os.path, collections.abc]; me = importlib.import_module("__main__")
            import ctypes as c
            raise ImportError("no module named nothing")
        victim()
    '''),
    "exec_code_without_source": C('''
        ns = {}
        exec(compile("def f(x):\\n    y = x + 1\\n    return 1 / 0\\n", "<generated>", "exec"), ns)
        def victim():
            return ns["f"](41)
        victim()
    '''),
    # -- things defined in functions and in __main__ -------------------------------------
    "closures_and_local_classes": C('''
        def make():
            counter = [0]
            class Local:
                def __init__(self): self.v = counter
            def bump():
                counter[0] += 1
                return Local()
            return bump, Local
        def victim():
            bump, Local = make(); inst = bump(); fn = lambda x: x + 1
            def nested(): return inst
            raise TypeError("closure trouble")
        victim()
    '''),
    "enums_namedtuples_dataclasses_in_main": C('''
        import collections, dataclasses, enum, typing
        class Color(enum.Enum): RED = 1; GREEN = 2
        class Perm(enum.Flag): R = 4; W = 2
        class Level(enum.IntEnum): LOW = 1
        Point = collections.namedtuple("Point", "x y")
        class Pair(typing.NamedTuple):
            a: int
            b: str = "b"
        @dataclasses.dataclass
        class Item:
            name: str
            tags: list = dataclasses.field(default_factory=list)
        @dataclasses.dataclass(frozen=True)
        class Frozen:
            n: int
        def victim():
            c = Color.RED; p = Perm.R | Perm.W; lvl = Level.LOW
            pt = Point(1, 2); pair = Pair(1); item = Item("x", [pt]); fr = Frozen(3)
            raise ValueError("bad item")
        victim()
    '''),
    "typing_generics_typevars": C('''
        import typing
        T = typing.TypeVar("T"); K = typing.TypeVar("K", bound=str)
        class Box(typing.Generic[T]):
            def __init__(self, v: T) -> None: self.v = v
        class Proto(typing.Protocol):
            def meth(self) -> int: ...
        def victim():
            alias = typing.Dict[str, typing.List[T]]; box = Box[int](3)
            call = typing.Callable[[int], str]; opt = typing.Optional[K]; lit = typing.Literal["a"]
            union = int | str if hasattr(int, "__or__") and not isinstance(int, type(typing.List)) else None
            generic_alias = list[int]; proto = Proto
            raise TypeError("generic trouble")
        victim()
    '''),
    "namespace_package": C('''
        import os, sys
        os.makedirs("nsp/inner", exist_ok=True)
        with open("nsp/inner/mod.py", "w") as fh:
            fh.write("class Thing:\\n    def __init__(self): self.v = 7\\n")
        sys.path.insert(0, os.getcwd())
        import nsp, nsp.inner.mod
        def victim():
            pkg = nsp; thing = nsp.inner.mod.Thing()
            raise AttributeError("namespace trouble")
        victim()
    '''),
    "class_whose_module_was_deleted": C('''
        import os, sys
        with open("gone.py", "w") as fh:
            fh.write("class Ghost:\\n    def __init__(self): self.v = 1\\n")
        sys.path.insert(0, os.getcwd())
        import gone
        ghost = gone.Ghost(); Ghost = gone.Ghost
        del sys.modules["gone"]
        os.remove("gone.py")
        def victim():
            g = ghost; cls = Ghost
            raise LookupError("ghost")
        victim()
    '''),
    # -- odd objects -----------------------------------------------------------------------
    "ctypes_values": C('''
        import ctypes
        class S(ctypes.Structure):
            _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_double)]
        def victim():
            i = ctypes.c_int(5); s = S(1, 2.0); arr = (ctypes.c_int * 3)(1, 2, 3)
            ptr = ctypes.pointer(i); cp = ctypes.c_char_p(b"hi"); buf = ctypes.create_string_buffer(8)
            libc = ctypes.CDLL(None); fn = libc.strlen; null = ctypes.c_void_p()
            raise OSError("ctypes trouble")
        victim()
    '''),
    "weakrefs": C('''
        import weakref
        class T: pass
        def victim():
            alive = T(); ref = weakref.ref(alive); dead = weakref.ref(T())
            proxy = weakref.proxy(alive); dead_proxy = weakref.proxy(T())
            wvd = weakref.WeakValueDictionary({1: alive}); ws = weakref.WeakSet([alive])
            fin = weakref.finalize(alive, print, "")
            raise ReferenceError("weak trouble")
        victim()
    '''),
    "memoryviews": C('''
        def victim():
            ba = bytearray(b"abcdef"); mv = memoryview(ba); part = mv[1:3]
            ro = memoryview(b"xyz"); released = memoryview(b"q"); released.release()
            cast = memoryview(bytearray(8)).cast("i")
            raise BufferError("view trouble")
        victim()
    '''),
    "lying_about_class": C('''
        class Liar:
            @property
            def __class__(self): return int
        class Raiser:
            @property
            def __class__(self): raise RuntimeError("no class for you")
        class Nothing:
            def __getattribute__(self, name): raise AttributeError(name)
        def victim():
            liar = Liar(); raiser = Raiser(); nothing = Nothing()
            raise TypeError("liars")
        victim()
    '''),
    "builtin_subclasses_hostile": C('''
        class BadDict(dict):
            def __iter__(self): raise RuntimeError("iter")
            def keys(self): raise RuntimeError("keys")
            def items(self): raise RuntimeError("items")
            def __getitem__(self, k): raise RuntimeError("getitem")
            def __len__(self): raise RuntimeError("len")
        class BadList(list):
            def __len__(self): return -1
            def __getitem__(self, i): raise SystemExit(3)
            def __iter__(self): raise KeyboardInterrupt
        class BadStr(str):
            def __repr__(self): raise SystemExit(4)
            def __hash__(self): raise RuntimeError("hash")
        class BadInt(int):
            def __repr__(self): return 1
            def __index__(self): raise RuntimeError("index")
        def victim():
            d = BadDict(a=1); lst = BadList([1, 2]); s = BadStr("s"); n = BadInt(5)
            raise ValueError("subclasses")
        victim()
    '''),
    "hostile_dunder_methods": C('''
        class Hostile:
            def __repr__(self): raise SystemExit(5)
            def __getattr__(self, n): raise KeyboardInterrupt
            def __eq__(self, o): raise RuntimeError("eq")
            def __hash__(self): raise RuntimeError("hash")
            def __getstate__(self): raise SystemExit(6)
            def __dir__(self): raise RuntimeError("dir")
            def __len__(self): return 10 ** 30
            def __bool__(self): raise RuntimeError("bool")
        class NoDict:
            @property
            def __dict__(self): raise RuntimeError("dict")
        def victim():
            h = Hostile(); nd = NoDict(); both = [h, nd]
            raise RuntimeError("hostile dunders")
        victim()
    '''),
    "reduce_raises_systemexit_and_keyboardinterrupt": C('''
        class Exit:
            def __reduce__(self): raise SystemExit(7)
        class Interrupt:
            def __reduce_ex__(self, proto): raise KeyboardInterrupt
        class BadReduce:
            def __reduce__(self): return "not_a_global_anywhere"
        class WrongTuple:
            def __reduce__(self): return (1, 2, 3)
        def victim():
            e = Exit(); i = Interrupt(); b = BadReduce(); w = WrongTuple(); inside = {"e": e, "ok": 1}
            raise RuntimeError("reduce")
        victim()
    '''),
    "reduce_yields_forever": C('''
        import itertools
        class Endless:
            def __reduce__(self): return (list, (), None, itertools.count())
        class EndlessDict:
            def __reduce__(self): return (dict, (), None, None, zip(itertools.count(), itertools.count()))
        def victim():
            e = Endless(); ed = EndlessDict(); normal = [1, 2, 3]
            raise RuntimeError("endless")
        victim()
    ''', (("TBDUMP_VALUE_SECONDS", "0.5"),)),
    "reduce_returns_300mb": C('''
        class Huge:
            def __reduce__(self): return (bytes, (b"\\0" * (300 << 20),))
        def victim():
            h = Huge(); small = "still here"
            raise MemoryError("huge")
        victim()
    ''', (("TBDUMP_MAX_BYTES", str(64 << 20)),)),
    "repr_and_reduce_that_block": C('''
        import time
        class Slow:
            def __repr__(self): time.sleep(30); return "slow"
            def __reduce__(self): time.sleep(30); return (Slow, ())
        def victim():
            slow = Slow(); fine = 42
            raise TimeoutError("slow things")
        victim()
    ''', (("TBDUMP_VALUE_SECONDS", "0.3"), ("TBDUMP_MAX_SECONDS", "3"))),
    "recursive_repr": C('''
        class Rec:
            def __repr__(self): return "Rec(%r)" % (self,)
        def victim():
            r = Rec()
            raise RuntimeError("recursive repr")
        victim()
    '''),
    "getstate_returns_cycle_and_setstate_raises": C('''
        class Cyc:
            def __getstate__(self): return {"me": self}
        class BadSet:
            def __init__(self): self.v = 1
            def __setstate__(self, s): raise RuntimeError("cannot restore")
        def victim():
            c = Cyc(); b = BadSet()
            raise RuntimeError("states")
        victim()
    '''),
    "mutating_during_iteration": C('''
        class Growing(dict):
            def items(self):
                for i in range(3):
                    self[object()] = i
                    yield i, i
        def victim():
            g = Growing(a=1); s = set(range(5))
            raise RuntimeError("mutating")
        victim()
    '''),
    # -- exceptions ------------------------------------------------------------------------------
    "exception_str_raises": C('''
        class BadStr(Exception):
            def __str__(self): raise RuntimeError("no str")
        def victim():
            raise BadStr("x")
        victim()
    '''),
    "exception_repr_and_args_hostile": C('''
        class Weird(Exception):
            def __repr__(self): raise SystemExit(9)
            @property
            def args(self): raise RuntimeError("no args")
        def victim():
            raise Weird()
        victim()
    '''),
    "exception_whose_class_property_raises": C('''
        # isinstance() reads __class__: the runner's and capture's asked this one, and it ended
        # the process with status 3 before Python's traceback, and left a dump without locals.
        class Liar(Exception):
            @property
            def __class__(self): raise SystemExit(3)
        def victim():
            kept = [1, 2]
            cause = Liar("cause")
            try:
                raise cause
            except Liar:
                raise Liar("raised")
        victim()
    '''),
    "exception_whose_getattribute_answers_none": C('''
        # Python reads the traceback from the exception itself; the runner asked the class's
        # __getattribute__, took its None, and dumped the crash without a frame.  Python prints
        # the None it gives for __notes__, without a newline, then tbdump's line follows.
        ARMED = False
        class Boom(Exception):
            def __getattribute__(self, name):
                return None if ARMED else object.__getattribute__(self, name)
        def victim():
            global ARMED
            kept = [1, 2]
            try:
                raise KeyError("cause")
            except KeyError:
                ARMED = True
                raise Boom()
        victim()
    '''),
    "exception_chains": C('''
        def victim():
            try:
                try:
                    {}["k"]
                except KeyError as e:
                    raise ValueError("context") from None
            except ValueError as v:
                raise RuntimeError("cause") from v
        victim()
    '''),
    "exception_group": C('''
        import sys
        def victim():
            if sys.version_info < (3, 11):
                raise RuntimeError("no groups before 3.11")
            errs = [ValueError(i) for i in range(3)]
            raise ExceptionGroup("many", errs + [ExceptionGroup("inner", [KeyError("k")])])
        victim()
    '''),
    "exception_with_notes_and_cycle": C('''
        def victim():
            a = ValueError("a"); b = TypeError("b")
            a.__context__ = b; b.__context__ = a
            if hasattr(a, "add_note"):
                a.add_note("a note")
            raise a
        victim()
    '''),
    "keyboard_interrupt": C('''
        def victim():
            counter = 1
            raise KeyboardInterrupt
        victim()
    '''),
    "long_exception_chain": C('''
        def victim():
            exc = None
            for i in range(1000):
                try:
                    raise ValueError(i) from exc
                except ValueError as e:
                    exc = e
            raise exc
        import sys; sys.setrecursionlimit(5000)
        victim()
    '''),
    # -- depth and size ----------------------------------------------------------------------------------
    "recursion_error_1000_frames": C('''
        def recurse(n):
            local = [n]
            return recurse(n + 1)
        recurse(0)
    '''),
    "lowered_recursion_limit": C('''
        import sys
        def down(n):
            if n == 0:
                raise RuntimeError("bottom")
            return down(n - 1)
        sys.setrecursionlimit(60)
        down(40)
    '''),
    "self_referencing": C('''
        class Node:
            def __init__(self): self.me = self; self.peers = [self]
        def victim():
            lst = []; lst.append(lst); d = {}; d["d"] = d
            node = Node(); pair = [node, node]; t = (lst, d)
            raise RecursionError("cycles")
        victim()
    '''),
    "deep_100000_structures": C('''
        def victim():
            deep_list = []
            cur = deep_list
            for _ in range(100000):
                nxt = []; cur.append(nxt); cur = nxt
            deep_dict = {}
            cur = deep_dict
            for _ in range(100000):
                cur["k"] = {}; cur = cur["k"]
            raise RuntimeError("deep")
        victim()
    '''),
    "huge_ints_and_strings": C('''
        import sys
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(640)
        def victim():
            big = 10 ** 100000; neg = -big; s = "x" * (20 << 20); b = b"y" * (20 << 20)
            uni = "\\u2603" * 100000
            raise OverflowError("huge")
        victim()
    '''),
    "globals_200000": C('''
        globals().update(("g%d" % i, i) for i in range(200000))
        def victim():
            n = len(globals())
            raise RuntimeError("many globals")
        victim()
    '''),
    "non_string_global_keys": C('''
        globals()[1] = "one"; globals()[("t",)] = 2
        def victim():
            raise RuntimeError("odd keys")
        victim()
    '''),
    "big_plain_data": C('''
        def victim():
            ints = list(range(1000000)); d = {str(i): i for i in range(100000)}
            floats = [float(i) for i in range(100000)]
            raise RuntimeError("big data")
        victim()
    '''),
    "numpy_object_arrays": C('''
        import threading
        import numpy as np
        def victim():
            objs = np.array([object(), lambda: 1, threading.Lock(), None], dtype=object)
            floats = np.arange(10.0); rec = np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])
            view = floats[::2]; masked = np.ma.masked_array([1, 2], mask=[0, 1])
            raise FloatingPointError("numpy trouble")
        victim()
    '''),
    # -- leaked mocks of what tbdump needs ---------------------------------------------------------
    "mocked_open": C('''
        from unittest import mock
        mock.patch("builtins.open", side_effect=OSError("mocked open")).start()
        mock.patch("io.open", side_effect=OSError("mocked io.open")).start()
        def victim():
            m = mock.MagicMock(); m.anything.deep.call()
            raise RuntimeError("with open mocked")
        victim()
    '''),
    "mocked_os_replace_and_tempfile": C('''
        import os, tempfile
        from unittest import mock
        mock.patch("os.replace", side_effect=OSError("mocked replace")).start()
        mock.patch("os.rename", side_effect=OSError("mocked rename")).start()
        mock.patch("tempfile.mkstemp", side_effect=OSError("mocked mkstemp")).start()
        mock.patch("tempfile.NamedTemporaryFile", side_effect=OSError("mocked ntf")).start()
        mock.patch("os.unlink", side_effect=OSError("mocked unlink")).start()
        def victim():
            sentinel = mock.sentinel.thing; magic = mock.MagicMock(spec=dict)
            raise RuntimeError("with fs mocked")
        victim()
    '''),
    "mocked_pickle_and_json": C('''
        import json, pickle
        from unittest import mock
        mock.patch("pickle.dumps", side_effect=RuntimeError("mocked")).start()
        mock.patch("json.dumps", side_effect=RuntimeError("mocked")).start()
        def victim():
            raise RuntimeError("with serializers mocked")
        victim()
    '''),
    # -- assorted stdlib values ------------------------------------------------------------------------
    "stdlib_values": C('''
        import datetime, decimal, fractions, uuid, pathlib, collections, array, re, functools, itertools
        def victim():
            now = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
            dec = decimal.Decimal("1.10"); frac = fractions.Fraction(1, 3); uid = uuid.UUID(int=5)
            path = pathlib.Path("/tmp/x"); dq = collections.deque([1, 2], maxlen=5)
            cnt = collections.Counter("aab"); dd = collections.defaultdict(list, a=[1])
            arr = array.array("i", [1, 2]); pat = re.compile(r"a+"); match = pat.match("aa")
            part = functools.partial(int, base=2); it = iter([1, 2]); cnt_it = itertools.count(5)
            mp = map(str, [1]); view = {"a": 1}.keys(); rng = range(10); sl = slice(1, 2)
            raise ValueError("stdlib")
        victim()
    '''),
    "context_vars_and_io_streams": C('''
        import contextvars, sys
        var = contextvars.ContextVar("var", default=1)
        def victim():
            token = var.set(2); ctx = contextvars.copy_context()
            streams = [sys.stdin, sys.stdout, sys.stderr, sys.__stdout__]
            raise RuntimeError("contexts")
        victim()
    '''),
    "crash_in_signal_handler": C('''
        import os, signal
        def handler(signum, frame):
            caught_frame = frame
            raise RuntimeError("in the handler")
        signal.signal(signal.SIGUSR1, handler)
        def victim():
            here = 1
            os.kill(os.getpid(), signal.SIGUSR1)
            import time; time.sleep(5)
        victim()
    '''),
    "unbound_and_deleted_locals": C('''
        def victim(arg, *args, **kwargs):
            a = 1
            del a
            def uses_cell(): return later
            if arg:
                raise NameError("before later is bound")
            later = 2
        victim(True, 1, 2, key="v")
    '''),
    "metaclass_hostile": C('''
        class Meta(type):
            def __repr__(cls): raise SystemExit(11)
            def __getattr__(cls, n): raise RuntimeError(n)
            def __instancecheck__(cls, inst): raise RuntimeError("isinstance")
        class WithMeta(metaclass=Meta):
            pass
        def victim():
            cls = WithMeta; inst = WithMeta()
            raise TypeError("meta")
        victim()
    '''),
    "exception_class_whose_attributes_raise": C('''
        class Meta(type):
            def __getattribute__(cls, n): raise RuntimeError("no attribute " + n)
        class Broken(Exception, metaclass=Meta):
            pass
        def victim():
            earlier = Broken("held")
            raise Broken("raised")   # Python prints "<unknown>.Broken: raised"
        victim()
    '''),
    "bound_methods_and_properties": C('''
        class A:
            def m(self): return 1
            @property
            def p(self): raise RuntimeError("property")
            @staticmethod
            def s(): pass
            @classmethod
            def c(cls): pass
        def victim():
            a = A(); bm = a.m; cm = A.c; sm = A.s; builtin_m = [].append; wrapper = a.__str__
            raise AttributeError("methods")
        victim()
    '''),
    "del_prints_at_shutdown": C('''
        import sys
        class Noisy:
            def __del__(self): sys.stderr.write("Noisy deleted\\n")
        noisy = Noisy()
        def victim():
            here = noisy
            raise RuntimeError("noisy")
        victim()
    '''),
    "crash_inside_thread_and_main": C('''
        import threading
        def worker():
            inner = "thread local"
            raise ValueError("in a thread")
        def victim():
            t = threading.Thread(target=worker); t.start(); t.join()
            raise RuntimeError("main after thread")
        victim()
    '''),
}
