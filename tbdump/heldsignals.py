"""The program's signals while capture runs in the main thread: held until the dump is written,
then delivered as if they had come just after it."""
from __future__ import annotations

import contextlib
import signal
from types import FrameType
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from . import unpatched

# Run where they land, the program's handlers would run inside capture, in a value's repr or
# pickling: what they raise (SystemExit from a SIGTERM handler, KeyboardInterrupt) would be taken
# for that value's failure and lost.  SIGTERM's and SIGHUP's default actions (a container's stop,
# a closed terminal) would end the process mid-write, leaving a temporary file and no dump.
_ENDS_BY_DEFAULT = frozenset(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_ALL = signal.valid_signals()
# Asks the program to stop, whatever handles it: the dump is cut short, not waited for.
_STOPS = frozenset(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


def signal_name(signum: int) -> str:
    """How a user names the signal: Ctrl-C for SIGINT, else its name (SIGTERM)."""
    if signum == signal.SIGINT:
        return "Ctrl-C"
    try:
        return signal.Signals(signum).name
    except ValueError:  # a real-time signal
        return "signal %d" % signum


class HeldSignals:
    """Takes over, while held, every signal the program handles in Python and those whose default
    would end the process; records which arrived, and calls ``on_stop`` for one that asks the
    program to stop (Ctrl-C, SIGTERM, or a signal that would have ended it)."""

    def __init__(self, on_stop: Callable[[int], None]) -> None:
        self._on_stop = on_stop
        self._handlers: Dict[int, Any] = {}
        self.arrived: List[int] = []
        self._wakeup_fd = -1

    def hold(self, skip: Iterable[int] = ()) -> None:
        """In the main thread, where Python lets handlers be set; ``skip``: signals the caller owns."""
        # The program's wakeup fd (asyncio's, which runs the handlers added with add_signal_handler
        # for each signal number written there) is told nothing meanwhile: a held signal, told at
        # once and again as delivered, ran its handler twice, and capture's own ticks ran the
        # loop's SIGALRM handler.  Back with Python's default warn_on_full_buffer, which cannot be read.
        self._wakeup_fd = signal.set_wakeup_fd(-1)
        for signum in set(signal.valid_signals()) - set(skip):
            try:
                handler = signal.getsignal(signum)
                if callable(handler) or (handler == signal.SIG_DFL and signum in _ENDS_BY_DEFAULT):
                    self._handlers[signum] = signal.signal(signum, self._arrive)
            except (OSError, ValueError):  # SIGKILL, SIGSTOP and the like
                pass

    def release(self) -> None:
        """Give the program its handlers back."""
        for signum, handler in list(self._handlers.items()):
            signal.signal(signum, handler)
            del self._handlers[signum]  # given back: broken off by a handler, it goes on from here
        wakeup_fd, self._wakeup_fd = self._wakeup_fd, -1
        if wakeup_fd != -1:
            try:
                signal.set_wakeup_fd(wakeup_fd)
            except (OSError, ValueError):  # the program closed it meanwhile
                pass

    def let_go(self) -> None:
        """Hold no longer, in the main thread: the handlers back and the signals that arrived
        delivered now, as if the dump were written."""
        self.release()
        arrived, self.arrived[:] = list(self.arrived), []
        deliver(arrived)

    def _arrive(self, signum: int, frame: Optional[FrameType]) -> None:
        if signum not in self.arrived:  # as Python runs a handler once for signals that came at once
            self.arrived.append(signum)
        if signum in _STOPS or self._program_handler(signum) == signal.SIG_DFL:
            self._on_stop(signum)

    def _program_handler(self, signum: int) -> Any:
        """The program's handler of ``signum``, from under the holds that took it first (a dump's
        inside held_to_the_end's)."""
        handler = self._handlers.get(signum)
        outer = getattr(handler, "__self__", None)
        return outer._program_handler(signum) if isinstance(outer, HeldSignals) else handler


def held_to_the_end() -> Callable[[], None]:
    """For a crash that ends the process, in the main thread, from when tbdump takes it: the
    program's signal handlers run nothing of tbdump's report, as Python runs none between an
    uncaught exception and its traceback printed (an alarm's handler that raised, handed back as
    the dump was written, came out of tbdump as a raw traceback, the dump's line lost).  What comes
    meanwhile is dropped, as what comes during the dump: the crash ends the process.  Returns what
    gives the handlers back, for tbdump's last step before Python's own ending, where they run as
    without tbdump (threading's shutdown, atexit)."""
    held = HeldSignals(lambda signum: None)
    # Taken and given back while blocked: one at a time, a signal could come between two, its
    # handler the program's.  Let in at once, what came meanwhile runs its handler in that call.
    with blocked():
        try:
            held.hold()
        except ValueError:  # not the main thread: Python takes no handler from there
            return lambda: None

    def give_back() -> None:
        # What a handler raises as they come back (let in at the end, or its signal taken in
        # another thread meanwhile) is let go, as Python lets go of what one raises as it ends.
        for attempt in range(3):
            try:
                with blocked():
                    held.release()
                return
            except BaseException:
                pass
    return give_back


@contextlib.contextmanager
def blocked(signums: Iterable[int] = _ALL) -> Iterator[None]:
    """``signums`` (every signal) blocked in this thread meanwhile (nothing where there are no masks)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = unpatched.signals.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        unpatched.signals.pthread_sigmask(signal.SIG_SETMASK, mask)


def deliver(signums: List[int]) -> None:
    """Raise ``signums`` again, the program's handlers back: each runs as Python runs handlers,
    and a default action ends the process.  Raised while blocked and unblocked at once, so that
    one handler's exception leaves the others to run at Python's next check, as it would."""
    if not signums:
        return
    with blocked(signums):
        for signum in signums:
            signal.raise_signal(signum)
