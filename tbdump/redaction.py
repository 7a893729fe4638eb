"""Which names and values are secrets: the rules a capture redacts by, and the markers it writes."""
from __future__ import annotations

import functools
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Pattern, Tuple

from . import settings, unpatched


# At least what Sentry's default scrubber covers, compared after lower-casing
# and dropping "_" and "-" so that API_KEY, api-key and apiKey all match.
DEFAULT_DENYLIST: Tuple[str, ...] = (
    "password", "passwd", "secret", "apikey", "token", "auth", "authorization",
    "credentials", "credential", "cookie", "setcookie", "session", "sessionid", "sessid",
    "privatekey", "csrftoken", "csrf", "xsrftoken", "xsrf", "xcsrftoken", "xxsrftoken",
    "passphrase", "accesstoken", "refreshtoken", "clientsecret", "bearer", "jwt",
    "mysqlpwd", "connectionstring", "creditcard", "cardnumber",
)

# Short entries that are also parts of ordinary names (author, authority, tokens,
# max_tokens, tokenizer): these count only where a word of the name ends with them
# (auth, auth_header, oauth, AuthToken, api_token, csrfToken, session_key), words
# ending at "_", "-", ".", a space, a digit, a camelCase hump or the end.  Every
# other entry, and every name added by configuration, matches anywhere (dbpassword).
WORD_ENTRIES = frozenset(("auth", "token", "jwt", "csrf", "xsrf", "session", "bearer"))
# These words name the objects that handle a secret as often as the secret itself: a
# requests or SQLAlchemy ``session``, an ``auth`` handler, a ``csrf`` extension, a parser's
# ``token``.  Under such a name only data is hidden whole (text, bytes, numbers and the
# builtin containers, their subclasses too); an object of another class is shown, with what
# it holds under secrets' names hidden by those names, as it is where it is ``self``.
_DATA_TYPES = (str, bytes, bytearray, memoryview, int, float, complex, dict, list, tuple, set, frozenset)

# A name whose last word counts or measures what the words before it name (token_count,
# password_len, sessionSize) holds a number that is not the secret, whatever its size; one
# whose last word is "id" (session_id, tokenId) holds a number that is, when short, a row's
# or an object's number.  A longer one may be a numeric session key, and text under either
# (session_id = "3f9a..."), a session cookie's value: those stay secrets.  Words end as in
# WORD_ENTRIES, so "sessionid" (Django's cookie) stays a secret whatever it holds.
_LAST_WORD = r"(?:(?<=[^A-Za-z])|(?<=[a-z])(?=[A-Z]))(?i:%s)\Z"
# Measures of time count too: Django's SESSION_COOKIE_AGE = 1209600, PASSWORD_RESET_TIMEOUT.
_COUNT_WORD = re.compile(_LAST_WORD % "count|len|length|size|total|age|timeout|ttl")
_ID_WORD = re.compile(_LAST_WORD % "id")
SHORT_NUMBER = 100000   # ids below it are too common to be keys (Secrets.MIN_INT: to be secrets)
# A name whose last word says it holds a name (Django's SESSION_COOKIE_NAME = "sessionid",
# CSRF_HEADER_NAME = "HTTP_X_CSRFTOKEN", SESSION_CACHE_ALIAS = "default", AUTH_USER_MODEL =
# "auth.User", SESSION_COOKIE_PATH = "/", CSRF_COOKIE_SAMESITE = "Lax", CSRF_FAILURE_VIEW =
# "django.views.csrf.csrf_failure") holds the name of the cookie, header, cache, model, path or
# code that handles the secret.  Hidden, it was learned as a secret and hidden from every text:
# each "default" of the dump, the keys of DATABASES and CACHES.  Only a text that cannot be a
# generated key or token is shown: letters, "_", "-", ".", "/" and no digit, short; or the dotted
# path of code under a package the program imported.
_NAME_WORD = re.compile(_LAST_WORD % "name|alias|model|path|domain|samesite|view|serializer")
_A_NAME = re.compile(r"[A-Za-z_./-]{1,64}\Z")
# A name whose last word says it lists code (Django's PASSWORD_HASHERS, AUTH_PASSWORD_VALIDATORS,
# AUTHENTICATION_BACKENDS) holds dotted paths of code, or dicts that name it ({"NAME": path}), whose
# own keys decide what they hide.
_CODE_LIST_WORD = re.compile(_LAST_WORD % "hashers|validators|backends")
_CODE_PATH = re.compile(r"([A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)+\Z")
MAX_CODE_LIST = 64

REDACTED_PREFIX = "<redacted"
SECRET_MARKER = "<redacted>"          # what a secret becomes inside a longer text
ENVIRON_MARKER = "<redacted: environment variable>"


def _name_rule(entry: str) -> str:
    return "name matches %r" % entry


_WORD_RULES = frozenset(map(_name_rule, WORD_ENTRIES))
_UNDECIDED = "<a name not met yet>"  # no rule's text: rules are _name_rule's


def rule_marker(rule: str) -> str:
    """What a value redacted by ``rule`` shows instead: ``<redacted: name matches 'token'>``."""
    return "<redacted: %s>" % rule


def _fold(name: str) -> str:
    return _unseparated(name.lower())


def _unseparated(text: str) -> str:
    # "in" finds a character with memchr; replace() counts it first, char by char, even where
    # it is not there: a long dict's joined keys read twice for nothing.
    if "_" in text:
        text = text.replace("_", "")
    return text.replace("-", "") if "-" in text else text


@dataclass(frozen=True)
class Redaction:
    """The rules in force for one capture."""

    enabled: bool = True
    names: Tuple[str, ...] = DEFAULT_DENYLIST   # folded; WORD_ENTRIES by word, the rest as substrings
    patterns: Tuple[Pattern[str], ...] = ()      # on string values, wherever they are
    keep_environ: bool = False                   # store environment variable values
    # Names repeat across frames and objects (attributes above all): decide each once.
    _rules: Dict[str, Optional[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, add: Iterable[str] = (), remove: Iterable[str] = (),
                 patterns: Iterable[str] = (), enabled: Optional[bool] = None,
                 keep_environ: Optional[bool] = None) -> "Redaction":
        """Defaults, changed by ``TBDUMP_REDACT*`` variables, then by the arguments."""
        for name, given in (("add", add), ("remove", remove), ("patterns", patterns)):
            # A string is iterable too: each of its letters would become a name to redact.
            if isinstance(given, (str, bytes)):
                raise TypeError("Redaction: %s= takes a list of strings, not one string: %r" % (name, given))
        for name, switch in (("enabled", enabled), ("keep_environ", keep_environ)):
            # A configuration file's "no" is a true value: keep_environ="no" would keep them.
            if switch is not None and not isinstance(switch, bool):
                raise TypeError("Redaction: %s= takes True, False or None, not %r" % (name, switch))
        add = list(add) + settings.items("TBDUMP_REDACT_ADD", ",")
        remove = {_fold(n) for n in list(remove) + settings.items("TBDUMP_REDACT_REMOVE", ",")}
        pats = list(patterns) + settings.items("TBDUMP_REDACT_PATTERNS", "\n")
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
            return self._rule_for_new_name(str.__str__(name))
        try:
            return self._rules[name]
        except KeyError:
            rule = self._rules[name] = self._rule_for_new_name(name)
            return rule

    def rule_for(self, name: Any, value: Any) -> Optional[str]:
        """The rule that hides ``value``, reached by ``name``: ``rule_for_name``'s, except for
        a number that the name counts or numbers with (``token_count = 7``, ``session_id = 42``,
        or ``"7"`` written after it in a text), or a name it names (``SESSION_COOKIE_NAME =
        "sessionid"``), which is not the secret."""
        # Asked for every variable and every child previewed: a name decided before is read
        # from the cache here, without a second call.
        rule = self._rules.get(name, _UNDECIDED) if type(name) is str else _UNDECIDED
        if rule is _UNDECIDED:
            rule = self.rule_for_name(name)
        if rule is not None and (value is None or type(value) is bool   # one bit, or nothing
                                 or _counts_or_numbers(str.__str__(name), value)
                                 or _names_a_name(str.__str__(name), value)
                                 or _lists_code(str.__str__(name), value)
                                 or (rule in _WORD_RULES and not issubclass(type(value), _DATA_TYPES))):
            return None
        return rule

    def _rule_for_new_name(self, name: str) -> Optional[str]:
        folded = _fold(name)
        pattern = _names_pattern(self.names)
        if pattern is None or pattern.search(folded) is None:
            return None  # the common case, decided by one C-level search
        for rule in self.names:
            if rule in folded and (rule not in WORD_ENTRIES or _words_pattern((rule,)).search(name)):
                return _name_rule(rule)
        return None

    def any_name_in(self, names: Iterable[Any]) -> bool:
        """Whether any string among ``names`` (a dict's keys) is a secret's name."""
        if not self.enabled or not self.names:
            return False
        return self.any_name_in_joined(joined_names(names))

    def any_name_in_joined(self, joined: str) -> bool:
        """``any_name_in`` of names already joined by "\\0"."""
        pattern = _names_pattern(self.names)
        if not self.enabled or pattern is None:
            return False
        folded = _fold_if_may_hold(joined, self.names)
        found = pattern.search(folded) if folded is not None else None
        if folded is None or found is None:
            return False  # the common case: C-level searches, every entry taken as a substring
        # A hit may be a word entry inside an ordinary word (author, max_tokens): each
        # name hit is decided by itself, found by counting the separators before it.
        names: Optional[List[str]] = None
        while found is not None:
            if names is None:
                names = joined.split("\0")
            index = folded.count("\0", 0, found.start())
            if index < len(names) and self.rule_for_name(names[index]):
                return True
            end = folded.find("\0", found.end())
            found = None if end < 0 else pattern.search(folded, end)
        return False

    def may_name_a_secret(self, text: str) -> bool:
        """Whether a denylist entry occurs anywhere in ``text`` (a source), words or not:
        one C-level search before its names are decided one by one."""
        pattern = _names_pattern(self.names)
        if not self.enabled or pattern is None:
            return False
        folded = _fold_if_may_hold(text, self.names)
        return folded is not None and pattern.search(folded) is not None

    def rule_for_text(self, text: str) -> Optional[str]:
        """The value pattern that ``text`` hits, if any."""
        if not self.enabled:
            return None
        for pat in self.patterns:
            if pat.search(text):
                return "value matches /%s/" % pat.pattern
        return None

    def text_or_marker(self, text: str) -> str:
        """A text the dump shows whole (an exception's message, a note), or the redaction
        marker in its place when a value pattern hits it."""
        rule = self.rule_for_text(text)
        return rule_marker(rule) if rule else text

    def describe(self) -> dict:
        return {"enabled": self.enabled, "names": list(self.names),
                "words": [n for n in self.names if n in WORD_ENTRIES],
                "patterns": [p.pattern for p in self.patterns], "environ_values": self.keep_environ}


# What a secret's name may hold without holding a secret: code.  `def get_token()`,
# a dataclass's `token` Field, the `str` in `token: str` stay what they are.
_CODE_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType,
               types.MethodDescriptorType, types.WrapperDescriptorType, types.GetSetDescriptorType,
               types.MemberDescriptorType, property, classmethod, staticmethod)


def is_code(obj: Any) -> bool:
    """Whether ``obj`` is a function, class, module or descriptor: not a value to redact."""
    t = type(obj)
    return issubclass(t, _CODE_TYPES) or issubclass(t, type) or _is_field(t)


def repeats_name(name: Any, item: Any) -> bool:
    """Whether ``item``, inside a value reached by the secret's ``name``, is that name again (the
    "Authorization" of requests' ("Authorization", value) header pair): names are no secrets."""
    return type(item) is str and type(name) is str and item.lower() == name.lower()


def _counts_or_numbers(name: str, value: Any) -> bool:
    """Whether ``value`` is a number ``name`` counts or numbers with (see _COUNT_WORD)."""
    t = type(value)
    if t is str:   # as a text writes it: "token_count=7", "Usage(token_count=7)"
        value = value.rstrip(")]}")
        if not (value.isascii() and value.isdigit()) or len(value) > 30:
            return False
        value, t = int(value), int
    if t is not int and t is not float:
        return False
    if _COUNT_WORD.search(name) is not None:
        return True
    return t is int and -SHORT_NUMBER < value < SHORT_NUMBER and _ID_WORD.search(name) is not None


def _names_a_name(name: str, value: Any) -> bool:
    """Whether ``value`` is a text that ``name`` says is a name, and that no key could be (see
    _NAME_WORD)."""
    return (type(value) is str and (_A_NAME.match(value) is not None or _is_code_path(value))
            and _NAME_WORD.search(name) is not None)


def _lists_code(name: str, value: Any) -> bool:
    """Whether ``value`` is a list or tuple of code's dotted paths, or of dicts, that ``name``
    says lists code (see _CODE_LIST_WORD)."""
    t = type(value)
    return ((t is list or t is tuple) and len(value) <= MAX_CODE_LIST
            and all(type(item) is dict or (type(item) is str and _is_code_path(item)) for item in value)
            and _CODE_LIST_WORD.search(name) is not None)


def _is_code_path(text: str) -> bool:
    """Whether ``text`` is the dotted path of code under a package the program imported
    (``django.contrib.auth.hashers.PBKDF2PasswordHasher``): a token with dots (a JWT) starts
    with no module's name."""
    path = _CODE_PATH.match(text) if len(text) <= 256 else None
    return path is not None and path.group(1) in sys.modules


def _is_field(t: type) -> bool:
    dataclasses = sys.modules.get("dataclasses")
    return dataclasses is not None and t is getattr(dataclasses, "Field", None)


def split_argv(argv: List[Any], redaction: Redaction) -> Tuple[List[Any], List[str]]:
    """``argv`` as a dump shows it, and the values it hides: ``--password X``,
    ``--token=X`` and ``TOKEN=X`` keep their name and lose their value; an argument
    (or a flag's value) a value pattern hits is hidden."""
    out: List[Any] = []
    hidden: List[str] = []
    flag: Optional[str] = None   # the secret's flag whose value comes next (--password X)
    for arg in argv:
        if type(arg) is not str:
            out.append(arg)
            continue
        if flag is not None:
            secret, flag = redaction.rule_for(flag, arg), None
            if secret:
                out.append(SECRET_MARKER)
                hidden.append(arg)
                continue
        name, eq, value = arg.partition("=")
        if arg.startswith("-") and redaction.rule_for_name(name.lstrip("-")):
            if not eq:
                out.append(arg)
                flag = name.lstrip("-")
                continue
            if redaction.rule_for(name.lstrip("-"), value):
                out.append(name + "=" + SECRET_MARKER)
                hidden.append(value)
                continue
        elif eq and name.isidentifier() and redaction.rule_for(name, value):
            out.append(name + "=" + SECRET_MARKER)
            hidden.append(value)
            continue
        if redaction.patterns and redaction.rule_for_text(arg):
            if eq and arg.startswith("-") and redaction.rule_for_text(value):
                out.append(name + "=" + SECRET_MARKER)
                hidden.append(value)
            else:
                out.append(SECRET_MARKER)
                hidden.append(arg)
            continue
        out.append(arg)
    return out, hidden


@functools.lru_cache(maxsize=None)
def _words_pattern(entries: Tuple[str, ...]) -> Pattern[str]:
    """The entries, in any case, where a word of a name ends (the name unfolded)."""
    alternatives = "|".join(sorted(map(re.escape, entries), key=len, reverse=True))
    return unpatched.compile_pattern(r"(?i:%s)(?=\Z|[^A-Za-z]|(?<=[a-z])[A-Z]|[A-Z][a-z])" % alternatives)


def joined_names(names: Iterable[Any]) -> str:
    """The strings among ``names`` (a dict's keys) joined by "\\0", which keeps two of them
    from matching across their boundary; at C speed when all are strings, the common case."""
    try:
        return "\0".join(names)
    except TypeError:
        return "\0".join([n for n in names if type(n) is str])


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
    return unpatched.compile_pattern(_trie_regex(trie))


def _fold_if_may_hold(text: str, names: Tuple[str, ...]) -> Optional[str]:
    """``_fold(text)``, or None when it cannot hold a denylist entry (a dict's joined keys, a
    repr): ``in`` for each entry that holds no other reads a long text in a third of the
    instructions the trie's search takes, which only a hit then runs; short texts go to
    the search.  An entry is looked for only where its two rarest letters occur, found by
    memchr passes over the text lowered but not yet folded (folding only drops "_" and
    "-"): most long texts hold none of the entries' pairs, and are not folded at all."""
    lowered = text.lower()
    if len(lowered) < 256:
        return _unseparated(lowered)
    folded = None
    for first, second, entry in _anchors(names):
        if first in lowered and second in lowered:
            if folded is None:
                folded = _unseparated(lowered)
            if entry in folded:
                return folded
    return None


# English letters, most common first: an entry's last ones here are the rarest in names.
_LETTER_FREQUENCY = "etaoinsrhldcumfpgwybvkxjqz"


@functools.lru_cache(maxsize=None)
def _anchors(names: Tuple[str, ...]) -> Tuple[Tuple[str, str, str], ...]:
    """The entries that contain no other entry, each after its two rarest letters: a text
    holds an entry only if it holds one of these, and both its letters."""
    alone = [n for n in names if not any(other != n and other in n for other in names)]
    return tuple(_rarest_two(n) + (n,) for n in alone)


def _rarest_two(entry: str) -> Tuple[str, str]:
    letters = sorted(set(entry), key=_rarity, reverse=True) or [""]
    return letters[0], letters[min(1, len(letters) - 1)]


def _rarity(letter: str) -> int:
    rank = _LETTER_FREQUENCY.find(letter)
    return len(_LETTER_FREQUENCY) if rank < 0 else rank


def _trie_regex(node: dict) -> str:
    branches = [re.escape(ch) + _trie_regex(sub) for ch, sub in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:%s)" % "|".join(branches)
    # A name may end here: what follows is optional (an entry that is a prefix of
    # another, "csrf" of "csrftoken"; a search only needs the shorter one to match).
    return "" if "" in node else body


def _compile(pattern: str) -> Pattern[str]:
    try:
        return unpatched.compile_pattern(pattern)
    except re.error as exc:
        settings.say_once("redaction pattern %r is not a regular expression (%s): it is matched as "
                          "plain text" % (pattern, exc))
        return unpatched.compile_pattern(re.escape(pattern))
