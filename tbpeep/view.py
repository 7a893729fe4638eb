"""What peepshow explores: the crash's frames, one step from the start, each listing its variables."""
import linecache
import os
from typing import Any, Dict, List, Optional

import tbdump
from tbdump.chain import attach, link_chain, members_first
from tbdump.frameless import NEVER_RAISED, syntax_location
from tbdump.model import GROUP_CLASS, GROUP_FUNCTION, GROUP_SPECIAL, ExceptionRecord, plural
from tbdump.placeholder import is_placeholder
from tbdump.standins import StandinException, StandinFrame, StandinTraceback, standin_exceptions, traced
from tbdump.termtext import printable


# The preview's own entries first, then debugpy's groups, dunders last.
_GROUP_ORDER = [None, GROUP_FUNCTION, GROUP_CLASS, GROUP_SPECIAL]


class NotAvailable(Dict[str, Any]):
    """A value the dump does not hold as an object: its preview, browsable as far as it was kept.

    Shown by its repr (tbdump's Placeholder is callable, so pickles can
    rebuild through it, and peepshow would list it by a signature); Enter
    lists the children the preview recorded (attributes, items, len()).
    """

    def __init__(self, placeholder: tbdump.Placeholder) -> None:
        preview = placeholder.value
        super().__init__({
            child.name: NotAvailable(tbdump.Placeholder(child.value.type, placeholder.reason,
                                                        child.value.repr, child.value))
            for child in sorted(preview.children or [] if preview is not None else [],
                                key=lambda c: _GROUP_ORDER.index(c.group))})
        self.placeholder = placeholder

    def __repr__(self) -> str:
        return repr(self.placeholder)


class FrameView(Dict[str, Any]):
    """A captured frame: its variables by name (Enter lists them); shown as where it stopped."""

    def __init__(self, frame: StandinFrame) -> None:
        names = frame.f_locals
        if frame.f_code.co_name == "<module>":
            # A module frame's locals are the module's globals: its dunders
            # (__loader__, __spec__, __builtins__...) would bury the variables.
            names = {k: v for k, v in names.items() if not (k.startswith("__") and k.endswith("__"))}
        super().__init__({k: NotAvailable(v) if is_placeholder(v) else v
                          for k, v in names.items()})
        self.frame = frame

    def __repr__(self) -> str:
        code = self.frame.f_code
        line = linecache.getline(code.co_filename, self.frame.f_lineno).strip()
        # Printed as it is by peepshow's listing: the dump's names and source line must not
        # reach the terminal as escape sequences.
        where = f"{os.path.basename(code.co_filename)}:{self.frame.f_lineno}"
        return printable(f"{code.co_name}  {where}  {line}")


def _frames(tb: Optional[StandinTraceback]) -> List[FrameView]:
    frames = []
    while tb is not None:
        frames.append(FrameView(tb.tb_frame))
        tb = tb.tb_next
    return frames


class Crash(List[FrameView]):
    """The frames of one exception, outermost first, the one that raised last.

    Press Enter to list them and a number to open one; Enter again lists its
    variables.  Also here: .exception (the exception object), .chain (every
    exception of the chain, each a Crash like this one), .dump (the tbdump.Dump).
    """

    def __init__(self, dump: tbdump.Dump, exception: StandinException, shown: Any, record: ExceptionRecord,
                 chain: Optional[List["Crash"]] = None) -> None:
        super().__init__(_frames(exception.__traceback__))
        self.dump = dump
        self.exception: Any = shown
        self.chain: List[Crash] = [self] if chain is None else chain
        self._title = f"{type(exception).__name__}: {exception}"
        self._where = plural(len(self), "frame") if self else _no_frames(record)

    def __repr__(self) -> str:
        return printable(f"{self._title}  ({self._where})")


def _no_frames(record: ExceptionRecord) -> str:
    """What the listing says of an exception without frames: where a SyntaxError points (its
    file did not compile, so none of it ran), or that it was never raised."""
    detail = syntax_location(record)
    if detail is None:
        return NEVER_RAISED
    where = f"{os.path.basename(detail.filename or '')}:{detail.lineno}"
    return f"no frames: {where} did not compile  {(detail.text or '').strip()}"


def _shown(exception: StandinException, members: List[Any]) -> Any:
    """What ``.exception`` is for one stand-in: the captured exception with the stand-in's
    traceback (a group around ``members``, its members as shown), else its preview."""
    captured = exception.captured
    if issubclass(type(captured), BaseException):
        return traced(captured, exception.__traceback__, members)
    if captured is None:
        return exception
    # Its preview in safe mode, or an instance of a class not importable here:
    # no exception, so the traceback is a plain attribute.
    shown = NotAvailable(captured) if is_placeholder(captured) else captured
    attach(shown, "__traceback__", exception.__traceback__)
    return shown


def crash_view(dump: tbdump.Dump) -> Crash:
    """The explorer's starting point: the raised exception's frames, with the chain beside them."""
    exceptions = standin_exceptions(dump)
    shown: List[Any] = list(exceptions)
    for index in members_first(dump.exceptions):
        shown[index] = _shown(exceptions[index], [shown[m] for m in dump.exceptions[index].members])
    # Each exception object comes out of its own pickle, which keeps neither __cause__ nor
    # __context__: link them again, so `.exception.__cause__` is the cause, as on the live one
    # (in safe mode too, between the previews).
    link_chain(shown, dump.exceptions)
    chain: List[Crash] = []
    chain.extend(Crash(dump, exc, obj, record, chain)
                 for exc, obj, record in zip(exceptions, shown, dump.exceptions))
    return chain[0]
