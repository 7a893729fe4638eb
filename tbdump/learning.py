"""Learning, before any record is written, the values a crashed program holds under
secrets' names: read from its frames as the interpreter stores them, never by running its code."""
from __future__ import annotations

import itertools
import types
from typing import Any, Dict, List, Optional, Set

from .budget import Clock
from .preview import SCALARS
from .redaction import split_argv
from .scrubbing import Secrets


class Learner:
    """The values a program holds under secrets' names, learned from frames before capture.

    Reads only what the interpreter stores (a frame's locals, a module's globals,
    and one level below through ``Secrets.named``), bounded by a count and the
    capture clock, so it runs no code of the program and cannot hang.
    """

    MAX_VALUES = 50000
    SEQUENCE_ITEMS = 64   # a list this short may be a command line, or name-value pairs

    def __init__(self, secrets: Secrets, clock: Optional[Clock]) -> None:
        self.secrets = secrets
        self.clock = clock
        self.left = self.MAX_VALUES
        self._namespaces: Set[int] = set()
        self._keep: List[Any] = []   # the ids above stay theirs
        self._codes: Dict[types.CodeType, bool] = {}

    def frame(self, f: types.FrameType) -> None:
        g = f.f_globals
        if type(g) is dict and id(g) not in self._namespaces:
            self._namespaces.add(id(g))
            self._keep.append(g)
            self.namespace(g)
        if not is_module_level(f):
            try:
                self.namespace(f.f_locals, f.f_code)
            except Exception:
                pass

    def exception(self, exc: BaseException) -> None:
        """An exception's own attributes (``self.request_headers``, ``self.cmd``)."""
        self.value(exc)

    def namespace(self, names: Dict[Any, Any], code: Optional[types.CodeType] = None) -> None:
        if self.left <= 0 or (self.clock is not None and self.clock.expired):
            return
        pairs = list(itertools.islice(names.items(), self.left))
        self.left -= len(pairs)
        redaction = self.secrets.redaction
        if code is not None:  # a function's locals are named by its code: decided once per code
            secret_names = self._codes.get(code)
            if secret_names is None:
                secret_names = self._codes[code] = redaction.any_name_in(
                    code.co_varnames + code.co_cellvars + code.co_freevars)
        else:
            secret_names = redaction.any_name_in([name for name, _ in pairs if type(name) is str])
        if secret_names:
            rule_of = redaction.rule_for
            named = [(name, value) for name, value in pairs if type(name) is str and rule_of(name, value)]
            for name, value in named:
                self.secrets.learn_named(name, value)
            shown = {id(value) for _, value in named}
            pairs = [(name, value) for name, value in pairs if id(value) not in shown]
        for _, value in pairs:
            t = type(value)
            if t not in SCALARS:
                self.value(value)
            elif t is str and (":" in value or "=" in value):
                self.secrets.learn_named_values(value)
            elif t is bytes and (b":" in value or b"=" in value) and value.isascii():
                self.secrets.learn_named_values(value.decode("ascii"))  # a request's body or headers

    def value(self, obj: Any) -> None:
        """What ``obj`` (under an innocent name) holds under secrets' names."""
        t = type(obj)
        if t in SCALARS:
            return
        if t is list or t is tuple or t is set or t is frozenset:
            self._sequence(obj if t is list or t is tuple else list(itertools.islice(obj, self.SEQUENCE_ITEMS + 1)))
            return
        if t is dict and not self.secrets.key_facts(obj)[0]:
            return  # the common case, decided by one C-level pass over the keys
        try:
            for _, found in self.secrets.named(obj):
                self.secrets.learn(found)
            # A command line kept in an attribute: CompletedProcess.args, CalledProcessError.cmd.
            getter = self.secrets.layout(t)[1]
            own = getter.__get__(obj, t) if getter is not None else None
            if type(own) is dict and len(own) <= 256:
                if "args" in own:   # a LogRecord: its message's fields name its arguments
                    self.secrets.learn_logged(own.get("msg"), own["args"])
                for item in own.values():
                    if type(item) is list or type(item) is tuple:
                        self._sequence(item)
        except Exception:
            pass

    def _sequence(self, items: Any) -> None:
        """A short list that may be a command line (``--password X``) or name-value pairs
        (``[("password", X)]``, as urlencode and HTTP clients take them)."""
        if not 0 < len(items) <= self.SEQUENCE_ITEMS:
            return
        first = items[0]
        if type(first) is str and len(items) > 1:
            for hidden in split_argv(list(items), self.secrets.redaction)[1]:
                self.secrets.learn(hidden)
        elif type(first) is tuple and len(first) == 2:
            rule_of = self.secrets.redaction.rule_for
            for pair in items:
                if type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and rule_of(*pair):
                    self.secrets.learn(pair[1])


def is_module_level(f: types.FrameType) -> bool:
    """Whether ``f`` runs a module's top level, its locals being its globals."""
    return f.f_code.co_name == "<module>" and f.f_locals is f.f_globals
