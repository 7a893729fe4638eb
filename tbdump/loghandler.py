"""A logging handler that dumps each exception a program logs and goes on past: a server's failed request.

Web frameworks catch a request's exception, answer 500 and log it (``logger.exception``,
``exc_info=``); no hook sees it.  ``DumpHandler`` turns each such record into a dump of its own,
in the request's thread, while the frames that failed (and the framework's above them) are
still there to capture.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime
import inspect
import itertools
import logging
import os
import re
import threading
import time
from typing import Any, Deque, Dict, List, Mapping, Optional, Type, Union

from .budget import Budgets
from .dumpdir import make_directory_of
from .hooks import Hook, capture_options, dump_delivering, left_out, stderr_write
from .redaction import Redaction
from .reduction import DUMP_REDUCERS
from .settings import Key
from .writer import DumpWriteError, dumped_line, not_written_line

SUFFIX = ".tbdump"      # a name tblsp and the VS Code extension find
# The names this handler gives, and the only files of the directory it removes.
OWN_NAME = re.compile(r"\A\d{8}T\d{6}\.\d{6}Z-\w+-\d+-\d+" + re.escape(SUFFIX) + r"\Z", re.ASCII)
MAX_KIND = 60           # characters of the exception's type a name keeps
WINDOW = 60.0           # seconds: max_per_minute counts the dumps written in the last WINDOW


class DumpHandler(logging.Handler):
    """Write a dump of each log record that carries an exception (``exc_info``) at ``level`` or
    above into ``directory``, named by time and exception type.

    ``max_dumps``: how many of its dumps the directory keeps; writing one more removes the
    oldest (None: all).  ``max_per_minute``: how many this handler writes in any minute; the
    records past it are not dumped (None: no limit).  ``threads=True`` adds the other threads'
    stacks; ``silent=True`` prints nothing; ``budgets``, ``redaction`` and ``key`` are as for
    ``dump_exception``, and ``budgets`` and ``redaction`` may also be a mapping of the keywords
    of their ``from_env`` (``{"preview_depth": 1}``), as a logging configuration gives them.
    Each dump says on stderr where it went, in one line.
    """

    def __init__(self, directory: Union[str, "os.PathLike[str]"] = "tbdumps", level: Union[int, str] = logging.ERROR,
                 *, max_dumps: Optional[int] = 100, max_per_minute: Optional[int] = 10, threads: bool = False,
                 silent: bool = False, budgets: Union[Budgets, Mapping[str, Any], None] = None,
                 redaction: Union[Redaction, Mapping[str, Any], None] = None, key: Optional[Key] = None) -> None:
        super().__init__(level)
        for name, limit in (("max_dumps", max_dumps), ("max_per_minute", max_per_minute)):
            if limit is not None and (not isinstance(limit, int) or limit < 1):
                raise ValueError("DumpHandler: %s must be a whole number of 1 or more, or None: %r" % (name, limit))
        # From the working directory of today: a server may change directory (a daemon's "/").
        self.directory = os.path.abspath(os.fspath(directory))
        self.max_dumps = max_dumps
        self.max_per_minute = max_per_minute
        self.silent = silent
        self._options: Dict[str, Any] = {"other_threads": threads, **capture_options(
            _built("budgets", budgets, Budgets, [f.name for f in dataclasses.fields(Budgets)]),
            _built("redaction", redaction, Redaction, list(inspect.signature(Redaction.from_env).parameters)),
            key)}
        self._written: Deque[float] = collections.deque()   # when this minute's dumps were written
        self._told = False              # the minute's first record past the limit was said
        self._numbers = itertools.count(1)
        self._dumping = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        exc = logged_exception(record)
        # A value's __repr__ that logs an error while it is captured gets no dump of its own.
        if exc is None or getattr(self._dumping, "now", False):
            return
        self._dumping.now = True
        try:
            self._dump(record, exc)
        except (KeyboardInterrupt, SystemExit):
            raise   # a signal that came during the dump, delivered after it as dump_exception does
        except Exception:   # a bug of tbdump's: logging's convention, the program goes on
            self.handleError(record)
        finally:
            self._dumping.now = False

    def _dump(self, record: logging.LogRecord, exc: BaseException) -> None:
        # Handler.handle holds self.lock: one record of this handler at a time.
        if not self._allowed():
            return
        path = os.path.join(self.directory, dump_name(record.created, exc, next(self._numbers)))
        try:
            make_directory_of(path, "tbdump's DumpHandler: dumps of logged exceptions")
            path = dump_delivering(exc, path, log=log_entry(record), **self._options)
        except DumpWriteError as err:
            self._say(not_written_line(path, err.reason) + "\n")
        else:
            self._say(dumped_line(path) + "\n")
            self._make_room()

    def _allowed(self) -> bool:
        """Whether this record may be dumped under max_per_minute; the first one refused in a
        minute says so."""
        if self.max_per_minute is None:
            return True
        now = time.monotonic()
        while self._written and self._written[0] <= now - WINDOW:
            self._written.popleft()
        if len(self._written) >= self.max_per_minute:
            if not self._told:
                self._told = True
                self._say("tbdump: not dumped: %d logged exceptions were dumped in the last minute "
                          "(max_per_minute); dumping resumes as that minute passes\n" % self.max_per_minute)
            return False
        self._told = False
        self._written.append(now)
        return True

    def _make_room(self) -> None:
        """Remove this directory's oldest dumps (named as this handler names them, by any process)
        so that it keeps at most max_dumps.  After the dump is written, not before: server workers
        that dump at once would each count the directory before any of them wrote, find room, and
        all write.  Counted after, the last of them sees every dump, and each removes the oldest."""
        if self.max_dumps is None:
            return
        try:
            names = os.listdir(self.directory)
        except OSError:   # removed meanwhile: nothing left to bound
            return
        own = sorted(name for name in names if OWN_NAME.match(name))
        for name in own[:max(0, len(own) - self.max_dumps)]:
            try:
                os.unlink(os.path.join(self.directory, name))
            except OSError:   # another worker removed it first
                pass

    def _say(self, text: str) -> None:
        # On stderr, not through logging: a record of this handler's own would come back here.
        if not self.silent:
            stderr_write(text)

    def __repr__(self) -> str:
        return "<DumpHandler %s (%s)>" % (self.directory, logging.getLevelName(self.level))


def _built(option: str, value: Any, kind: Union[Type[Budgets], Type[Redaction]], keywords: List[str]) -> Any:
    """``value`` as given from code, or built by ``kind.from_env`` from a mapping of its keywords:
    dictConfig and fileConfig give a handler plain data, which cannot hold a Budgets or a Redaction."""
    if value is None or isinstance(value, kind):
        return value
    if not isinstance(value, Mapping):
        # capture_options' words would name the class alone, which a configuration file cannot give.
        raise TypeError("DumpHandler: %s= takes a %s.%s, a mapping of %s.from_env's keywords or None, not %s"
                        % (option, kind.__module__, kind.__qualname__, kind.__qualname__, type(value).__name__))
    unknown = [name for name in value if name not in keywords]
    if unknown:
        raise ValueError("DumpHandler: %s: no setting named %s (the settings: %s)"
                         % (option, ", ".join(map(repr, unknown)), ", ".join(keywords)))
    return kind.from_env(**value)


def dump_logged(directory: str) -> None:
    """Dump each exception the program logs at ERROR or above into ``directory``, whatever handlers
    its logging configuration sets (``python -m tbdump --log-dumps DIR``).

    Through the log record factory, which basicConfig and dictConfig leave as it is: a handler on
    the root logger would make the program's basicConfig() configure nothing, and a dictConfig of
    the root logger would remove it."""
    handler = DumpHandler(directory)
    make = logging.getLogRecordFactory()

    def dumped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if record.levelno >= handler.level:
            handler.handle(record)
        return record
    logging.setLogRecordFactory(Hook(dumped, "log record factory"))


def logged_exception(record: logging.LogRecord) -> Optional[BaseException]:
    """The exception ``record`` carries, if any (``logger.exception`` outside an ``except``
    carries ``(None, None, None)``)."""
    info = record.exc_info
    exc = info[1] if isinstance(info, tuple) and len(info) == 3 else None
    return exc if isinstance(exc, BaseException) else None


def log_entry(record: logging.LogRecord) -> Dict[str, str]:
    """What the dump's metadata keeps of ``record`` (Metadata.log)."""
    try:
        message = record.getMessage()
    except Exception:   # arguments its format cannot take: logging would print the same error
        message = str(record.msg)
    return {"logger": str(record.name), "level": str(record.levelname), "message": message}


def dump_name(created: float, exc: BaseException, number: int) -> str:
    """``20261127T192245.123456Z-KeyError-4242-1.tbdump``: the UTC time the record was made (names
    sort by time), the exception's type (what failed, never its message, which may hold a secret),
    then this process's pid and its count of dumps, so two made in the same microsecond stay apart."""
    stamp = datetime.datetime.fromtimestamp(created, datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    kind = re.sub(r"\W+", "_", type(exc).__name__, flags=re.ASCII)[:MAX_KIND].strip("_") or "Exception"
    return "%s-%s-%d-%d%s" % (stamp, kind, os.getpid(), number, SUFFIX)


# A dump of a server holds its loggers and their handlers: this one as a placeholder, since
# restored it would write dumps in the viewer, and it holds the signing key.
DUMP_REDUCERS[DumpHandler] = lambda handler: left_out("DumpHandler", "log handler")
