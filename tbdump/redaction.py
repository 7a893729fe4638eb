"""Which names and values are secrets, so capture can replace them before they are written."""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Pattern, Set, Tuple

from . import settings

# At least what Sentry's default scrubber covers, compared after lower-casing
# and dropping "_" and "-" so that API_KEY, api-key and apiKey all match.
DEFAULT_DENYLIST: Tuple[str, ...] = (
    "password", "passwd", "secret", "apikey", "token", "auth", "authorization",
    "credentials", "credential", "cookie", "setcookie", "session", "sessionid", "sessid",
    "privatekey", "csrftoken", "csrf", "xsrftoken", "xsrf", "xcsrftoken", "xxsrftoken",
    "passphrase", "accesstoken", "refreshtoken", "clientsecret", "bearer", "jwt",
    "mysqlpwd", "connectionstring", "creditcard", "cardnumber",
)


REDACTED_PREFIX = "<redacted"


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


@dataclass(frozen=True)
class Redaction:
    """The rules in force for one capture."""

    enabled: bool = True
    names: Tuple[str, ...] = DEFAULT_DENYLIST   # folded; matched as substrings of folded names
    patterns: Tuple[Pattern[str], ...] = ()      # on string values, wherever they are
    keep_environ: bool = False                   # store environment variable values
    # Names repeat across frames and objects (attributes above all): decide each once.
    _rules: Dict[str, Optional[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, add: Iterable[str] = (), remove: Iterable[str] = (),
                 patterns: Iterable[str] = (), enabled: Optional[bool] = None,
                 keep_environ: Optional[bool] = None) -> "Redaction":
        """Defaults, changed by ``TBDUMP_REDACT*`` variables, then by the arguments."""
        env = os.environ
        add = list(add) + _split(env.get("TBDUMP_REDACT_ADD", ""))
        remove = {_fold(n) for n in list(remove) + _split(env.get("TBDUMP_REDACT_REMOVE", ""))}
        pats = list(patterns) + [p for p in env.get("TBDUMP_REDACT_PATTERNS", "").split("\n") if p]
        if enabled is None:
            enabled = settings.flag("TBDUMP_REDACT", True)
        if keep_environ is None:
            keep_environ = settings.flag("TBDUMP_KEEP_ENVIRON", False)
        names = tuple(n for n in DEFAULT_DENYLIST + tuple(_fold(a) for a in add) if n not in remove)
        return cls(enabled, names, tuple(_compile(p) for p in pats), keep_environ)

    def rule_for_name(self, name: Any) -> Optional[str]:
        """The denylist entry that ``name`` (a variable, key or attribute) hits, if any."""
        if not self.enabled or not isinstance(name, str):
            return None
        if type(name) is not str:  # a subclass may hash or compare in its own way
            return self._rule_for_new_name(name)
        try:
            return self._rules[name]
        except KeyError:
            rule = self._rules[name] = self._rule_for_new_name(name)
            return rule

    def _rule_for_new_name(self, name: str) -> Optional[str]:
        folded = _fold(name)
        pattern = _names_pattern(self.names)
        if pattern is None or pattern.search(folded) is None:
            return None  # the common case, decided by one C-level search
        for rule in self.names:
            if rule in folded:
                return "name matches %r" % rule
        return None

    def any_name_in(self, names: Iterable[Any]) -> bool:
        """Whether any string among ``names`` (a dict's keys) is a secret's name."""
        pattern = _names_pattern(self.names)
        if not self.enabled or pattern is None:
            return False
        # "\0" keeps two keys from matching across their boundary.
        try:
            joined = "\0".join(names)  # all-string keys, the common case, at C speed
        except TypeError:
            joined = "\0".join(n for n in names if type(n) is str)
        return pattern.search(_fold(joined)) is not None

    def rule_for_text(self, text: str) -> Optional[str]:
        """The value pattern that ``text`` hits, if any."""
        if not self.enabled:
            return None
        for pat in self.patterns:
            if pat.search(text):
                return "value matches /%s/" % pat.pattern
        return None

    def describe(self) -> dict:
        return {"enabled": self.enabled, "names": list(self.names),
                "patterns": [p.pattern for p in self.patterns], "environ_values": self.keep_environ}


class Secrets:
    """The secret values met during one capture, so their copies are hidden wherever they are.

    A value reached by a denylisted name (or held by a denylisted environment
    variable) is learned here; reprs that show it from elsewhere (the dict or
    dataclass around it, a copy under an innocent name) are scrubbed, and a
    string equal to it is pickled as the redaction marker.
    """

    MIN_LENGTH = 4  # shorter values are too common to scrub from other text

    def __init__(self, redaction: Redaction) -> None:
        self.texts: Set[str] = set()
        if redaction.enabled:
            for name, value in list(os.environ.items()):
                if redaction.rule_for_name(name):
                    self.learn(value)

    def learn(self, obj: Any) -> None:
        if type(obj) is str and obj.startswith(REDACTED_PREFIX):
            return  # already our marker (a redacted dict is pickled again inside its id)
        if type(obj) is str and len(obj) >= self.MIN_LENGTH:
            self.texts.add(obj)
            self.texts.add(repr(obj)[1:-1])   # as it shows inside a repr
        elif type(obj) in (bytes, bytearray) and len(obj) >= self.MIN_LENGTH:
            self.texts.add(repr(bytes(obj))[2:-1])

    def knows(self, obj: Any) -> bool:
        """Whether ``obj`` is itself one of the secrets."""
        return type(obj) is str and obj in self.texts

    def scrub(self, text: str) -> str:
        # Longest first, so a secret that contains another is replaced whole.
        for secret in sorted(self.texts, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, "<redacted>")
        return text


@functools.lru_cache(maxsize=None)
def _names_pattern(names: Tuple[str, ...]) -> Optional[Pattern[str]]:
    """All denylist entries as one regular expression, shaped as a trie of their letters:
    twice as fast as a flat alternation over a dict's joined keys."""
    if not names:
        return None
    trie: dict = {}
    for name in names:
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}
    return re.compile(_trie_regex(trie))


def _trie_regex(node: dict) -> str:
    branches = [re.escape(ch) + _trie_regex(sub) for ch, sub in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:%s)" % "|".join(branches)
    # A name may end here: what follows is optional (an entry that is a prefix of
    # another, "csrf" of "csrftoken"; a search only needs the shorter one to match).
    return "" if "" in node else body


def _split(text: str) -> List[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _compile(pattern: str) -> Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        settings.say_once("redaction pattern %r is not a regular expression (%s): it is matched as "
                          "plain text" % (pattern, exc))
        return re.compile(re.escape(pattern))
