"""Capture budgets (bytes, time, preview size) and the clock that enforces them."""
from __future__ import annotations

import _queue
import _thread
import contextlib
import signal
import sys
from dataclasses import dataclass, fields, replace
from types import FrameType
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from . import native, settings, unpatched
from .heldsignals import HeldSignals, blocked, signal_name
from .model import not_captured


class BudgetExceeded(BaseException):
    """Raised into capture when its time runs out.

    A BaseException so that ``except Exception`` in hostile user code (a
    ``__repr__``, a ``__reduce__``) does not swallow it.
    """


_INTERRUPTED = "capture interrupted (%s)"


def was_interrupted(exc: BudgetExceeded) -> bool:
    """Whether a signal (Ctrl-C, SIGTERM) ended the step, rather than the time budget."""
    return str(exc).startswith(_INTERRUPTED.partition("(")[0])


def cut_while(exc: BudgetExceeded, doing: str) -> str:
    """A placeholder's reason when its step was ended (``doing``: "pickling it"): by the
    time budget, or by a signal."""
    why = str(exc) if was_interrupted(exc) else "time budget exceeded"
    return not_captured("%s while %s" % (why, doing))


@dataclass(frozen=True)
class Budgets:
    """How much a dump may take; every field has a ``TBDUMP_<NAME>`` variable."""

    max_bytes: int = 1 << 30          # object layer size; the 200 MB case fits, 2 GB does not
    max_seconds: float = 10.0         # whole capture; past it the dump is written as partial
    value_seconds: float = 1.0        # one value's repr or pickle
    preview_depth: int = 2            # levels of children stored in a preview
    preview_items: int = 20           # children of a value (more come from the object layer)
    preview_inner_items: int = 10     # children per level below the first
    max_string: int = 4096            # characters of one preview's repr (the object keeps all)
    max_globals: int = 5000           # globals captured per module; the rest are listed as not captured

    def __post_init__(self) -> None:
        # Checked as the TBDUMP_* variables are, here where the program sets them up: a bad one
        # found only at its crash would cost that crash its dump.
        for f in fields(self):
            value = getattr(self, f.name)
            try:
                checked = settings.budget_value(value, isinstance(f.default, int))
            except ValueError as exc:
                raise ValueError("Budgets: %s=%r: %s" % (f.name, value, exc)) from None
            object.__setattr__(self, f.name, checked)   # frozen; 1e9 bytes as the int they count

    @classmethod
    def from_env(cls, **overrides: Any) -> "Budgets":
        """Defaults, then ``TBDUMP_*`` variables, then explicit keyword overrides."""
        defaults = cls()
        values: Dict[str, Any] = {f.name: settings.number("TBDUMP_" + f.name.upper(), getattr(defaults, f.name))
                                  for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(defaults, **values)


def lock_wait(seconds: float) -> float:
    """``seconds`` as a lock's acquire takes them: a budget may be any number (1e30, for no
    limit), where acquire raises OverflowError past _thread.TIMEOUT_MAX (292 years)."""
    return min(max(seconds, 0), _thread.TIMEOUT_MAX)


# The switch interval while capture's steps cross between threads, or a watchdog gives up (HurriedSwitching).
HANDOFF_INTERVAL = 0.0001


class HurriedSwitching:
    """Hand the GIL round faster, from ``hurry`` to ``restore``: while capture runs outside the
    main thread, or a watchdog gives up on one stuck in it.

    Capture's steps go to a worker thread and back (run_isolated), and a watchdog's dump makes
    system calls: each hand-over waits for the GIL, which a thread of the program that computes
    keeps for a whole switch interval (5 ms by default) at a time, and every other such thread
    may be given it first.
    """

    def __init__(self) -> None:
        self._switching: Optional[Tuple[float, float]] = None  # (program's, ours) switch intervals

    def hurry(self) -> None:
        program = sys.getswitchinterval()
        if program <= HANDOFF_INTERVAL:  # the program's own, or a capture's in another thread
            return
        sys.setswitchinterval(HANDOFF_INTERVAL)
        self._switching = (program, sys.getswitchinterval())

    def restore(self) -> None:
        """The program's switch interval back, unless it set one of its own meanwhile."""
        if self._switching is None:
            return
        program, ours = self._switching
        self._switching = None
        if sys.getswitchinterval() == ours:
            # Kept in whole microseconds, set by truncating seconds * 1e6: the value read is
            # given back from the middle of its microsecond (as read, 86 us would set 85).
            sys.setswitchinterval((round(program * 1e6) + 0.5) / 1e6)


class Clock:
    """Tracks the capture deadline and interrupts code that blocks past it.

    While capture runs (between ``start`` and ``stop``) in the main thread, a
    50 ms interval timer checks the step in progress: one that overruns its
    share (``value_seconds``, never past the deadline) gets BudgetExceeded
    raised into it, even inside ``time.sleep``, and again every tick in case
    user code swallows it.  Elsewhere the deadline is checked between steps.
    """

    TICK = 0.05

    def __init__(self, budgets: Budgets) -> None:
        self.start_time = unpatched.monotonic()
        self.deadline = self.start_time + budgets.max_seconds
        self.value_seconds = budgets.value_seconds
        self.expired = False
        self.stopped_by: Optional[str] = None  # what cut capture short: Ctrl-C, SIGTERM, the main thread's crash
        self._step_deadline: Optional[float] = None
        self._armed = False
        self._old_handler: Any = None
        self._held = HeldSignals(self._on_stop)
        self.pickling = False  # plain data pickling in C: unbounded by time, but Ctrl-C ends it
        self._old_timer: Any = None
        self._armed_at = 0.0
        self._worker: Optional[_Worker] = None
        self._given_up: Set[int] = set()  # idents of the workers whose step outlived its time
        self._switching = HurriedSwitching()
        self._greenlet: Any = None  # the greenlet capturing, under gevent or eventlet
        self._task = (0, 0)  # and what captures in the main thread, a native.task_ident
        self.abandoned = False  # given up on while the program goes on: see abandon_main_capture
        self.let_go = Event()   # and its signals handed back

    @property
    def interrupted(self) -> Optional[str]:
        """Why capture stopped, when a signal asked the program to or its main thread's crash ends it:
        "capture interrupted (Ctrl-C)"."""
        return _INTERRUPTED % self.stopped_by if self.stopped_by else None

    @property
    def why_cut(self) -> str:
        """Why values after ``expired`` are not captured."""
        return self.interrupted or "time budget exhausted"

    @property
    def arrived(self) -> List[int]:
        """The signals that came while capture ran, held from the program until ``stop``."""
        return self._held.arrived

    def remaining(self) -> float:
        return self.deadline - unpatched.monotonic()

    def check(self) -> None:
        if self.expired or unpatched.monotonic() > self.deadline:
            self.expired = True
            # Every step after a Ctrl-C is refused for it, not for the time budget.
            raise BudgetExceeded(self.interrupted or "time budget")

    def run(self, fn: Callable[[], Any], seconds: Optional[float] = None) -> Any:
        """Run one bounded step of capture: ``seconds`` (default ``value_seconds``), never
        past the deadline nor past an enclosing step's bound."""
        self.check()
        outer = self._step_deadline
        limit = min(unpatched.monotonic() + (self.value_seconds if seconds is None else seconds), self.deadline)
        self._step_deadline = limit if outer is None else min(limit, outer)
        try:
            return fn()
        finally:
            self._step_deadline = outer

    def run_isolated(self, fn: Callable[[], Any], seconds: Optional[float] = None,
                     on_abandon: Optional[Callable[[], None]] = None) -> Any:
        """A step that may block in user code (a repr, a pickle): bounded in every thread.

        Where no alarm can interrupt it (capture in a thread other than the main
        one), it runs in a worker thread that is abandoned, still blocked, when
        the step's time is up; ``on_abandon`` then stops what the step could
        still write from doing harm.
        """
        if self._armed or native.in_main_thread():
            return self.run(fn, seconds)
        me = native.get_ident()
        if me in self._given_up:
            # A run of steps given up on (run_whole), going on once its slow step returned:
            # it ends at its next step rather than take more of the program's time.
            raise BudgetExceeded("time budget")
        self.check()
        limit = self.value_seconds if seconds is None else seconds
        if self._worker is not None and me == self._worker.thread.ident:
            # A step of a run of steps: the thread waiting for the run gives it up on this
            # step's own time (see _Worker.run).
            return self._worker.step(lambda: self.run(fn, seconds), limit)
        limit = max(min(limit, self.remaining()), 0.001)
        if self._worker is None or self._worker.stuck:
            self._worker = _Worker(lambda: self.stopped_by is not None)
            # Reused from a thread given up on, which has ended since: this one is not.
            self._given_up.discard(self._worker.thread.ident)
        try:
            return self._worker.run(fn, limit)
        except Abandoned:
            self._given_up.add(self._worker.thread.ident)
            if unpatched.monotonic() > self.deadline:
                self.expired = True
            if on_abandon is not None:
                on_abandon()
            raise BudgetExceeded(self.interrupted or "time budget") from None

    def run_whole(self, fn: Callable[[], Any]) -> Any:
        """``fn``, many steps of capture, as one trip to the worker thread where each of its
        steps would be a trip there and back (run_isolated); as it is elsewhere.

        Each trip waits for the GIL twice, against every thread of the program that computes:
        a web handler's locals (1 600 steps) outlasted the time budget with 20 threads busy.
        Each step keeps its own time (``value_seconds``), not the run's, which those threads
        slow as a whole.  BudgetExceeded when a step outlives it (the run is given up on) or
        capture's time is up.
        """
        if self._armed or native.in_main_thread():
            return fn()
        return self.run_isolated(fn, self.remaining())

    def start(self) -> None:
        if not native.in_main_thread():
            self._switching.hurry()
            _THREAD_CLOCKS[self] = native.get_ident()
            if _CUTTING_SHORT:  # the thread took the dump lock as the main thread crashed
                self.cut_short(_CUTTING_SHORT[-1])
            return
        # Alarms land in the main OS thread: under gevent or eventlet, they bound the capture of
        # every greenlet's crash, a patched threading.Thread's too.
        if not hasattr(signal, "setitimer"):
            return
        self._greenlet = native.current_greenlet()
        self._task = native.task_ident()
        try:
            self._old_handler = unpatched.signals.signal(signal.SIGALRM, self._on_alarm)
            self._old_timer = unpatched.signals.setitimer(signal.ITIMER_REAL, self.TICK, self.TICK)
        except (ValueError, OSError):
            return
        self._armed_at = unpatched.monotonic()
        self._armed = True
        # The program's signals wait for the dump (the caller delivers ``arrived``); a Ctrl-C or
        # SIGTERM ends the capture first.
        self._held.hold(skip=(signal.SIGALRM,))
        _MAIN_CLOCKS.append(self)

    def stop(self) -> None:
        _THREAD_CLOCKS.pop(self, None)
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        self._switching.restore()
        if not self._armed:
            return
        self._armed = False
        _MAIN_CLOCKS.remove(self)
        unpatched.signals.setitimer(signal.ITIMER_REAL, 0, 0)
        _run_tripped_handlers()
        _drain_alarm()
        unpatched.signals.signal(signal.SIGALRM, self._old_handler)
        self._held.release()
        self._restore_timer(unpatched.monotonic() - self._armed_at)

    def _restore_timer(self, elapsed: float) -> None:
        """The program's own timer (``signal.alarm``, ``setitimer``), set as if it had gone on
        through the ``elapsed`` seconds of capture: one that came due then is a held SIGALRM,
        its handler run once the dump is written, late rather than lost."""
        left, interval = self._old_timer
        if left <= 0:
            return
        left -= elapsed
        if left <= 0:
            self._held.arrived.append(signal.SIGALRM)
            if not interval:
                return
            left = interval - (-left % interval)  # the next of its periods
        unpatched.signals.setitimer(signal.ITIMER_REAL, left, interval)

    def cut_short(self, why: str) -> None:
        """From another thread: capture ends its step in progress at its next tick and writes what
        it has, marked partial ("capture interrupted (WHY)"), as after a Ctrl-C."""
        self.expired = True
        if self.stopped_by is None:
            self.stopped_by = why

    def _on_stop(self, signum: int) -> None:
        self.expired = True
        # A value's step or record ends now; capture then ends within a moment, so a second
        # Ctrl-C only repeats the request (raised again, it could land in the clean-up).
        if self.stopped_by is None:
            self.stopped_by = signal_name(signum)
            if self._step_deadline is not None or self.pickling:
                self._raise_in_capture(_INTERRUPTED % self.stopped_by)

    def _on_alarm(self, signum: int, frame: Optional[FrameType]) -> None:
        self._give_way()
        if self.abandoned:
            self.let_go.set()
            self._held.let_go()  # what it raises (a Ctrl-C's KeyboardInterrupt) lands in the stuck code
        step = self._step_deadline
        if step is None:
            return
        now = unpatched.monotonic()
        if now > self.deadline:
            self.expired = True
        if now > step:
            self._raise_in_capture("time budget")

    def _give_way(self) -> None:
        """Wait, in the main thread, while a watchdog gives up on the capture stuck here (see
        Watchdog); its ticks stopped meanwhile, each would take the GIL back for a moment."""
        giving_up = [watchdog for watchdog in _WATCHDOGS if watchdog.holds_main()]
        if not giving_up:
            return
        unpatched.signals.setitimer(signal.ITIMER_REAL, 0, 0)
        try:
            for watchdog in giving_up:
                watchdog.wait_main_let_go(GIVE_WAY_SECONDS)
        finally:
            unpatched.signals.setitimer(signal.ITIMER_REAL, self.TICK, self.TICK)

    def _raise_in_capture(self, why: str) -> None:
        """End the step in progress, from a signal handler."""
        current = native.current_greenlet()
        if current is self._greenlet:
            raise BudgetExceeded(why)
        # The capturing greenlet waits (a value's patched time.sleep) and the signal landed in
        # another: raised there, it would end that one (gevent's hub prints it and throws it to
        # the main greenlet).  From the hub, which the waiting greenlet will get the thread
        # back from, it is thrown into the capturing greenlet, as gevent.Timeout does;
        # elsewhere (a greenlet of the program's) the next tick tries again.
        if native.is_hub(current):
            self._greenlet.throw(BudgetExceeded(why))


# The clocks of the captures running in the main thread, armed (a value's repr may dump too).
_MAIN_CLOCKS: List[Clock] = []
# Those running in other OS threads, with the thread of each.
_THREAD_CLOCKS: Dict[Clock, int] = {}
_CUTTING_SHORT: List[str] = []  # why, while other threads' captures are cut short


@contextlib.contextmanager
def others_cut_short(why: str) -> Iterator[None]:
    """Meanwhile, the captures of the other OS threads are cut short (Clock.cut_short), those that
    start too: the thread waits for them.  A value's step left running is abandoned, what it
    would still write thrown away."""
    _CUTTING_SHORT.append(why)
    try:
        me = native.get_ident()
        for clock, thread in list(_THREAD_CLOCKS.items()):
            if thread != me:
                clock.cut_short(why)
        yield
    finally:
        _CUTTING_SHORT.remove(why)


def abandon_main_capture(task: Tuple[int, int], seconds: float) -> bool:
    """Give up on the capture stuck in the main thread while the program goes on (Python's prompt
    follows the crash): its signals reach the program from its next tick on (a SIGTERM ends it,
    a Ctrl-C lands in the code that holds the thread), and what it writes if that code ever lets
    go is thrown away.  ``task``: what runs it (native.task_ident), with the dumps it nests (a
    value's repr that dumps); another greenlet's capture, waiting in the hub, goes on.
    Called from the watchdog's thread; whether the main thread acted on it
    within ``seconds``: stuck in C code, it runs no handler, and no signal but SIGKILL ends it."""
    clocks = [clock for clock in _MAIN_CLOCKS if clock._task == task]
    for clock in clocks:
        clock.abandoned = True
    for watchdog in list(_WATCHDOGS):
        watchdog.let_main_go()  # waiting at a tick (Clock._give_way), it acts on it at once
    # The innermost ticks (a value's repr that dumps too): its handlers stand over the others'.
    return not clocks or clocks[-1].let_go.wait(seconds)


def _run_tripped_handlers() -> None:
    """Run, capture's handlers still in place, those of the signals that came at once with one
    whose handler is running still.  Python runs them in turn, and under gevent or eventlet the
    handler of a Ctrl-C or a tick that lands in the hub throws into the capture, which then goes
    on to its end inside that handler: the others would run after it, the program's handlers back
    ("OSError: Signal 14 ignored due to race condition" on stderr, a held SIGTERM lost).  Python
    runs every handler whose signal came at a signal raised here, its handler ours (a tick's);
    one the program blocks in this thread waits for _drain_alarm."""
    unpatched.signals.raise_signal(signal.SIGALRM)


def _drain_alarm() -> None:
    """Take a tick of the stopped timer that is still on its way: delivered once the program's
    handler is back, it would kill the program ("Alarm clock", the default action) or call the
    program's own handler.  Blocked in this thread, it waits in the process's pending set."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    with blocked({signal.SIGALRM}):
        if signal.SIGALRM in unpatched.signals.sigpending():
            unpatched.signals.sigwait({signal.SIGALRM})


_WORKERS: Set[int] = set()  # idents of live worker threads: not part of any dump


def is_capture_thread(ident: Optional[int]) -> bool:
    """Whether a thread is one of capture's own workers (a stuck one outlives its capture)."""
    return ident in _WORKERS


class CaptureThread:
    """A daemon OS thread of tbdump's own, which no capture lists among the program's threads.

    Made of ``_thread`` as it was before gevent or eventlet patched it: a greenlet
    would never run while the thread that started it computes (see tbdump.native).
    """

    def __init__(self, target: Callable[[], None]) -> None:
        self._running = native.allocate_lock()
        self._running.acquire()

        def run() -> None:
            _WORKERS.add(native.get_ident())
            try:
                target()
            finally:
                _WORKERS.discard(native.get_ident())
                self._running.release()
        # Started with every signal blocked, which it keeps: a signal sent to the process (the
        # clock's tick, a Ctrl-C) is then never taken here, where its C handler could run after
        # Clock.stop gave the program its handler back ("OSError: Signal 14 ignored due to race
        # condition" from the program's next line).  Python runs handlers in the main thread only.
        with blocked():
            self.ident = native.start_thread(run)
        _WORKERS.add(self.ident)

    def join(self) -> None:
        self._running.acquire()
        self._running.release()


class Event:
    """threading.Event made of an OS lock: set from one OS thread, waited for in another."""

    def __init__(self) -> None:
        self._lock = native.allocate_lock()
        self._lock.acquire()

    def set(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:  # set already
            pass

    def wait(self, seconds: float) -> bool:
        """Whether it was set within ``seconds``; it stays set."""
        if not self._lock.acquire(timeout=lock_wait(seconds)):
            return False
        # Released again, unless another set() came meanwhile (a clock abandoned sets its
        # let_go at every tick): released by it, the lock would raise at a second release.
        self.set()
        return True


# The longest the main thread waits at a tick for a watchdog's give-up, which may need it: the
# stuck code may have been stopped holding a lock the give-up takes (sys.stderr's, to say it).
GIVE_WAY_SECONDS = 1.0
_WATCHDOGS: List["Watchdog"] = []  # those watching a capture in the main thread


class Watchdog:
    """A daemon thread that calls ``give_up`` if a capture in the main thread is still running
    ``seconds`` from now (``finish`` not called by then): code in a value that swallows every
    interruption would otherwise hold it for good.

    From then until give_up returns (or lets it go: abandon_main_capture), the main thread waits at its clock's next tick
    (Clock._give_way).  The stuck code keeps the GIL but for the moments of its system calls, and
    a thread waiting for the GIL asks for it only when it has not changed hands for a whole switch
    interval, which each of those moments counts as: the watchdog got it only by winning one, at
    each system call of its dump, and a loaded machine took 30 s and more to give up.  The give-up
    runs with the switch interval hurried too, against the program's threads that compute.
    """

    def __init__(self, seconds: float, give_up: Callable[[], None]) -> None:
        self._due = unpatched.monotonic() + seconds
        self._give_up = give_up
        self._finished = Event()  # the capture returned
        self._main_let_go = Event()  # give_up returned, or let the main thread go on
        self._pid = unpatched.getpid()  # a child forked meanwhile (by another thread) has no such thread
        self._thread = CaptureThread(self._watch)
        _WATCHDOGS.append(self)

    def finish(self) -> None:
        """The capture returned: the watchdog ends (once given up, if it had begun to)."""
        self._finished.set()
        self._thread.join()
        _WATCHDOGS.remove(self)

    def holds_main(self) -> bool:
        """Whether the main thread is to wait for this watchdog now, which gives up."""
        return (unpatched.monotonic() >= self._due and not self._main_let_go.wait(0)
                and unpatched.getpid() == self._pid)

    def wait_main_let_go(self, seconds: float) -> None:
        self._main_let_go.wait(seconds)

    def let_main_go(self) -> None:
        self._main_let_go.set()

    def _watch(self) -> None:
        try:
            if self._finished.wait(self._due - unpatched.monotonic()):
                return
            switching = HurriedSwitching()
            switching.hurry()
            try:
                self._give_up()
            finally:
                switching.restore()
        finally:
            self.let_main_go()


class Abandoned(Exception):
    """A job did not finish in time."""


class Job:
    """``fn()`` run once in another thread, its value or exception handed to the thread that
    waits for it.  One that outlives its wait goes on running: no thread can be stopped from
    outside."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._done = Event()
        self._outcome: List[Any] = []

    def start(self) -> "Job":
        """Run it in a daemon OS thread of tbdump's own (CaptureThread)."""
        CaptureThread(self.run)
        return self

    def run(self) -> None:
        try:
            self._outcome.append((True, self._fn()))
        except BaseException as exc:  # handed to the waiting thread
            self._outcome.append((False, exc))
        self._done.set()

    @property
    def finished(self) -> bool:
        return self._done.wait(0)

    def wait(self, seconds: float) -> bool:
        """Whether it finished within ``seconds``."""
        return self._done.wait(seconds)

    def result(self, seconds: float) -> Any:
        """``fn``'s value, or its exception raised here; Abandoned when it runs on past ``seconds``."""
        if not self._done.wait(seconds):
            raise Abandoned()
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


class _Worker:
    """One daemon thread that runs a capture's steps one at a time.

    A step that outlives its time is left running (no thread can be stopped
    from outside); the worker is then ``stuck`` and the clock starts a new one.
    """

    def __init__(self, stopped: Callable[[], bool]) -> None:
        self.stuck = False
        self._stopped = stopped  # the capture was cut short: the step in progress is given up on
        self._step_due = float("inf")  # when the step in progress of a run of steps is due
        # _queue's, in C, waits on an OS lock: queue.SimpleQueue may be a greenlet's.
        self._jobs: "_queue.SimpleQueue[Any]" = _queue.SimpleQueue()
        self.thread = CaptureThread(self._serve_jobs)

    def run(self, fn: Callable[[], Any], seconds: float) -> Any:
        job = Job(fn)
        self._jobs.put(job)
        end = unpatched.monotonic() + seconds
        try:
            # Woken every tick, as the alarm is: a step of ``fn`` may have begun since.
            while not job.wait(min(min(end, self._step_due) - unpatched.monotonic(), Clock.TICK)):
                if self._stopped() or unpatched.monotonic() > min(end, self._step_due):
                    raise Abandoned()
            return job.result(0)
        except Abandoned:
            self.stuck = True
            self.close()  # ends the thread if the step ever returns
            raise

    def step(self, fn: Callable[[], Any], seconds: float) -> Any:
        """One step of the job in progress, run in this worker: due within ``seconds``."""
        outer = self._step_due
        self._step_due = min(outer, unpatched.monotonic() + seconds)
        try:
            return fn()
        finally:
            self._step_due = outer

    def close(self) -> None:
        self._jobs.put(None)

    def _serve_jobs(self) -> None:
        job = self._jobs.get()
        while job is not None:
            job.run()
            job = None  # holds nothing of the program between jobs (or at its shutdown)
            job = self._jobs.get()
