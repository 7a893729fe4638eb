"""Capture budgets (bytes, time, preview size) and the clock that enforces them."""
from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, fields, replace
from types import FrameType
from typing import Any, Callable, Dict, List, Optional


class BudgetExceeded(BaseException):
    """Raised into capture when its time runs out.

    A BaseException so that ``except Exception`` in hostile user code (a
    ``__repr__``, a ``__reduce__``) does not swallow it.
    """


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
    max_globals: int = 5000           # previewed globals per module (all are pickled)

    @classmethod
    def from_env(cls, **overrides: Any) -> "Budgets":
        """Defaults, then ``TBDUMP_*`` variables, then explicit keyword overrides."""
        values: Dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get("TBDUMP_" + f.name.upper())
            if raw:
                try:
                    number = float(raw)
                    values[f.name] = int(number) if f.type == "int" else number
                except ValueError:
                    pass  # a bad variable must not break a crash dump; the default stands
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


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
        self.start_time = time.monotonic()
        self.deadline = self.start_time + budgets.max_seconds
        self.value_seconds = budgets.value_seconds
        self.expired = False
        self._step_deadline: Optional[float] = None
        self._armed = False
        self._old_handler: Any = None
        self._old_timer: Any = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        if self.expired or time.monotonic() > self.deadline:
            self.expired = True
            raise BudgetExceeded("time budget")

    def run(self, fn: Callable[[], Any], seconds: Optional[float] = None) -> Any:
        """Run one bounded step of capture: ``seconds`` (default ``value_seconds``), never
        past the deadline nor past an enclosing step's bound."""
        self.check()
        outer = self._step_deadline
        limit = min(time.monotonic() + (self.value_seconds if seconds is None else seconds), self.deadline)
        self._step_deadline = limit if outer is None else min(limit, outer)
        try:
            return fn()
        finally:
            self._step_deadline = outer

    def run_isolated(self, fn: Callable[[], Any]) -> Any:
        """A step that only reads (a repr, a preview): bounded in every thread.

        Where no alarm can interrupt it (capture in a thread other than the main
        one), it runs in a helper thread that is abandoned, still blocked, when
        the step's time is up; abandoning is safe because the step writes nothing.
        """
        if self._armed or threading.current_thread() is threading.main_thread():
            return self.run(fn)
        self.check()
        limit = max(min(self.value_seconds, self.remaining()), 0.001)
        outcome: List[Any] = []

        def step() -> None:
            try:
                outcome.append((True, fn()))
            except BaseException as exc:  # handed to the capturing thread below
                outcome.append((False, exc))

        helper = threading.Thread(target=step, name="tbdump-step", daemon=True)
        helper.start()
        helper.join(limit)
        if not outcome:
            if time.monotonic() > self.deadline:
                self.expired = True
            raise BudgetExceeded("time budget")
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return
        try:
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            self._old_timer = signal.setitimer(signal.ITIMER_REAL, self.TICK, self.TICK)
        except (ValueError, OSError):
            return
        self._armed = True

    def stop(self) -> None:
        if not self._armed:
            return
        self._armed = False
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self._old_handler)
        if self._old_timer and self._old_timer[0] > 0:
            signal.setitimer(signal.ITIMER_REAL, *self._old_timer)

    def _on_alarm(self, signum: int, frame: Optional[FrameType]) -> None:
        step = self._step_deadline
        if step is None:
            return
        now = time.monotonic()
        if now > self.deadline:
            self.expired = True
        if now > step:
            raise BudgetExceeded("time budget")
