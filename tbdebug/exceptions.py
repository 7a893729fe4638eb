"""Python 3.13 pdb's `exceptions` command for the pdb of older Pythons, so that tbdebug walks a
dump's chain the same way on each: listed and switched between without leaving the session."""
from typing import TYPE_CHECKING, Any, List, Tuple, cast

if TYPE_CHECKING:
    import pdb   # imported when a session starts (the one PYTHONBREAKPOINT names may be pdb++'s)

# Pdb.MAX_CHAINED_EXCEPTION_DEPTH of Python 3.13: a longer chain is cut there, as it cuts it.
MAX_DEPTH = 999


class ExceptionsCommand:
    """Mixed into a pdb.Pdb after it (``class P(pdb.Pdb, ExceptionsCommand)``): a pdb that has
    its own `exceptions` (3.13 and later) keeps it, and its own way of starting on an exception."""

    _chained_exceptions: Tuple[Any, ...] = ()
    _chained_exception_index = 0

    def post_mortem_of(self, exception: BaseException) -> None:
        """The post-mortem of ``exception``, at its traceback, as 3.13's pdb.post_mortem(exception):
        `exceptions` lists it and those it was raised from, the earliest numbered 0."""
        session = self._pdb()
        if type(self).do_exceptions is not ExceptionsCommand.do_exceptions:
            session.interaction(None, exception)   # type: ignore[arg-type]  # 3.13's takes it
            return
        self._chained_exceptions = self._raised_from(exception)
        self._chained_exception_index = len(self._chained_exceptions) - 1
        try:
            session.interaction(None, exception.__traceback__)
        finally:
            self._chained_exceptions = ()   # as 3.13 lets them go: they hold every frame
            self._chained_exception_index = 0

    def _raised_from(self, exception: BaseException) -> Tuple[Any, ...]:
        """The cause, else the context unless suppressed, back to the first: what Python's
        traceback prints (3.13's ``Pdb._get_tb_and_exceptions``)."""
        chain: List[BaseException] = []
        current = exception
        while current not in chain:
            chain.append(current)
            following = current.__cause__
            if following is None and not current.__suppress_context__:
                following = current.__context__
            if following is None:
                break
            current = following
            if len(chain) >= MAX_DEPTH:
                self._pdb().message(f"More than {MAX_DEPTH} chained exceptions found, not all "
                                    "exceptions will be browsable with `exceptions`.")
                break
        return tuple(reversed(chain))

    def do_exceptions(self, arg: str) -> None:
        """exceptions [number]

        List or change current exception in an exception chain.

        Without arguments, list all the current exception in the exception
        chain. Exceptions will be numbered, with the current exception indicated
        with an arrow.

        If given an integer as argument, switch to the exception at that index.
        """
        session = self._pdb()
        if not arg:
            for index, exc in enumerate(self._chained_exceptions):
                arrow = ">" if index == self._chained_exception_index else " "
                text = repr(exc)
                if len(text) > 80:
                    text = text[:77] + "..."
                number = "  -" if exc.__traceback__ is None else f"{index:>3}"
                session.message(f"{arrow} {number} {text}")
            return
        try:
            index = int(arg)
        except ValueError:
            session.error("Argument must be an integer")
            return
        if not 0 <= index < len(self._chained_exceptions):
            session.error("No exception with that number")
        elif self._chained_exceptions[index].__traceback__ is None:
            session.error("This exception does not have a traceback, cannot jump to it")
        else:
            self._chained_exception_index = index
            session.setup(None, self._chained_exceptions[index].__traceback__)
            session.print_stack_entry(session.stack[session.curindex])

    def _pdb(self) -> "pdb.Pdb":
        return cast("pdb.Pdb", self)   # mixed into one
