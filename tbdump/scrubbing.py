"""The secrets met during one capture: learned where a secret's name holds them, then
scrubbed from every text, blob and source the dump keeps, wherever their copies went."""
from __future__ import annotations

import ast
import base64
import gc
import itertools
import re
import sys
import types
import urllib.parse
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Pattern, Set, Tuple

from . import unpatched
from .argvtexts import argv_texts
from .redaction import (ENVIRON_MARKER, REDACTED_PREFIX, SECRET_MARKER, Redaction, is_code, joined_names,
                        repeats_name, split_argv)
from .saferepr import string_repr


# "Bearer X", "Basic X", "token X": the credential after an HTTP auth scheme.
_SCHEMES = "bearer|basic|token|digest|bot|jwt|apikey|api-key"
_AUTH_SCHEME = re.compile(r"(?i)(?:%s)\s+(\S{4,})\Z" % _SCHEMES)
# A query parameter of a URL ("?token=X", "&api_key=X"), whose name decides.
URL_QUERY_SECRET = re.compile(r"([?&;]([A-Za-z_][\w.\-\[\]]{0,80})=)(?!<redacted>)([^&#;\s'\"<>]+)")
# The password of "scheme://user:password@host" (a DSN, a proxy URL, a git remote).
# A password already masked (SQLAlchemy's URL shows "***") is left as the program shows it.
URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:'\"]*:)(?!<redacted>@|\*+@)([^\s/?#@'\"]+)@")
# A string literal bound to a name in source: NAME = "...", NAME: str = "...",
# f(name="..."), {"name": "..."}.
_NAMED_LITERAL = re.compile(
    r"""(?:(?<!\w)(?P<name>[A-Za-z_]\w*)\s*(?::\s*[\w\[\], .|]{1,80})?=(?!=)"""
    r"""|(?P<quote>["'])(?P<key>[A-Za-z_][\w.-]{0,80})(?P=quote)\s*:)"""
    r"""\s*(?P<literal>[rRbBuU]{0,2}(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))""")
# A field of a %-format, as logging formats a record's message: "%s", "%(user)r", "%-8d".
_STAR_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d*\.\*)")   # "%*d": a width from the arguments
_FORMAT_FIELD = re.compile(r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*\d*(?:\.\d+)?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")
_FIELD_MARK = "\ue000%d\ue001"   # private-use characters: no program's format holds them
_FIELD_MARKS = re.compile("\ue000(\\d+)\ue001")
_SPACE = re.compile(r"\s")
_DIGIT = re.compile(r"\d")
# How `os.environ` shows inside another repr (cut there, so its edges cannot be matched).
_ENVIRON_REPR = re.compile(r"environ\(\{.*?\}\)", re.DOTALL)


class Secrets:
    """The secret values met during one capture, so their copies are hidden wherever they are.

    A value reached by a denylisted name (or held by a denylisted environment
    variable, or hidden from the command line) is learned here: strings, bytes,
    big ints, and the items of containers holding them.  Reprs and messages
    that show one (the dict or dataclass around it, a copy under an innocent
    name, an f-string built from it) are scrubbed, and pickled strings and
    bytes holding one are pickled scrubbed.
    """

    MIN_LENGTH = 4           # shorter values are too common to scrub from other text
    ENVIRON_MIN_LENGTH = 8   # from the environment: "user", "ubuntu", "wayland" are no secrets
    MIN_INT = 100000         # ints of 6 digits and more (a card number); shorter ones are too common
    LEARN_ITEMS = 256        # items looked at inside one learned container
    LEARN_DEPTH = 4
    LONG_TEXT = 1024         # past this, one C search per secret beats one regular expression
    SOURCE_MIN_LENGTH = 8    # shorter secrets are hidden from sources only as whole string literals

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        self.texts: Set[str] = set()      # every secret as text, and as a repr shows it
        self.blobs: Set[bytes] = set()    # every secret as bytes
        self.ints: Set[int] = set()
        # Learned only from environment variables or source literals, on weaker
        # evidence: never replaced where a dict holds it as a key.
        self.weak: Set[str] = set()
        self.environ_seen = False          # os.environ or a copy of it was met: scrub its items
        self.min_length = sys.maxsize      # of the shortest text
        self._values: Set[Any] = set()     # what was learned, as learned
        self._text_re: Optional[Pattern[str]] = None
        self._edges: Optional[Tuple[Tuple[str, ...], Tuple[str, ...]]] = None  # see _scrub_cuts
        self._environ_re: Optional[Tuple[Pattern[str], Dict[str, str]]] = None
        self._layouts: Dict[type, Tuple[Any, ...]] = {}
        self._dict_getters: Dict[type, Any] = {}  # see _attributes
        self._keys: Dict[int, Tuple[dict, int, bool, bool]] = {}   # see key_facts
        # The containers in the namespaces of classes pickled by value, by id (see
        # ReducePolicy._hides): shared by the picklers of one capture, as the secrets are.
        self.class_parts: Dict[int, Any] = {}
        if redaction.enabled:
            for name, value in list(unpatched.environ.items()):
                if len(value) >= self.ENVIRON_MIN_LENGTH and redaction.rule_for(name, value):
                    self._learn_text(value, weak=True)
            for value in split_argv(argv_texts(), redaction)[1]:
                self.learn(value)

    # -- learning ------------------------------------------------------------------
    def learn(self, obj: Any) -> None:
        """Remember ``obj`` (reached by a secret's name) and what it holds, bounded."""
        self._learn(obj, 0, [self.LEARN_ITEMS])

    def learn_named(self, name: Any, obj: Any) -> None:
        """``learn`` what the secret's ``name`` holds, but for the name itself where a pair or
        list repeats it (see ``repeats_name``)."""
        if type(obj) in (tuple, list) and any(repeats_name(name, item) for item in obj):
            obj = [item for item in obj if not repeats_name(name, item)]
        self.learn(obj)

    def _learn(self, obj: Any, depth: int, budget: List[int]) -> None:
        t = type(obj)
        if t is str:
            self._learn_text(obj)
        elif t is bytes or t is bytearray:
            self._learn_blob(bytes(obj))
        elif t is int:
            if (obj >= self.MIN_INT or obj <= -self.MIN_INT) and obj not in self._values:
                self._values.add(obj)
                self.ints.add(obj)
                try:
                    self._learn_text(str(obj))
                except ValueError:  # too many digits for str()
                    pass
        elif issubclass(t, str):
            self._learn_text(str.__str__(obj))  # the text itself, without the subclass's code
        elif depth < self.LEARN_DEPTH:
            for item in itertools.chain(_items(obj, t), self._attributes(obj, t)):
                if budget[0] <= 0:
                    return
                budget[0] -= 1
                self._learn(item, depth + 1, budget)

    def _attributes(self, obj: Any, t: type) -> Iterator[Any]:
        """The texts and numbers an object reached by a secret's name holds in its own
        attributes (a cookie's Morsel, a SecretStr, the program's ApiKey), read through the
        class's ``__dict__`` descriptor, so none of its code runs.  Not deeper: a ``session``
        (requests', SQLAlchemy's) would give up every header and URL it holds, to be hidden
        everywhere.  Not code's either (a module's globals)."""
        getter = self._dict_getters.get(t, False)
        if getter is False:
            getter = self._dict_getters[t] = None if is_code(obj) else _dict_descriptor(t)
        if getter is None:
            return iter(())
        try:
            own = getter.__get__(obj, t)
        except Exception:
            return iter(())
        if type(own) is not dict:
            return iter(())
        return (v for v in itertools.islice(dict.values(own), self.LEARN_ITEMS) if type(v) in _SCALAR_SECRETS)

    def _learn_text(self, text: str, weak: bool = False) -> None:
        if len(text) < self.MIN_LENGTH or text.startswith(REDACTED_PREFIX) or text in sys.modules:
            # A module the program imported is named in the code, not a secret: a setting such as
            # Django's SESSION_ENGINE names one, and its copies include every class's __module__.
            return
        if weak:
            if len(text) < self.ENVIRON_MIN_LENGTH:
                return
            if text not in self._values:
                self.weak.add(text)
        else:
            self.weak.discard(text)
        if text in self._values:
            return
        self._values.add(text)
        self._add_text(text)
        self._add_text(repr(text)[1:-1])   # as it shows inside a repr
        try:
            self._add_blob(text.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate
            pass
        scheme = _AUTH_SCHEME.match(text)
        if scheme is not None:  # "Bearer X": X alone is the secret too
            self._learn_text(scheme.group(1), weak)
            if text[:5].lower() == "basic":
                self._learn_basic(scheme.group(1), weak)

    def _learn_basic(self, credential: str, weak: bool) -> None:
        """HTTP Basic auth is base64 of "user:password": the program holds the password
        (and "user:password") in clear elsewhere, and those copies are secrets too."""
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except Exception:  # not base64, or not text
            return
        self._learn_text(decoded, weak)
        self._learn_text(decoded.partition(":")[2], weak)

    def _learn_blob(self, blob: bytes) -> None:
        if len(blob) < self.MIN_LENGTH or blob.startswith(b"<redacted") or blob in self._values:
            return
        self._values.add(blob)
        self._add_blob(blob)
        self._add_text(repr(blob)[2:-1])
        try:
            self._learn_text(blob.decode("utf-8"))  # the same secret, decoded
        except UnicodeDecodeError:
            pass

    def _add_text(self, text: str) -> None:
        if len(text) >= self.MIN_LENGTH and text not in self.texts:
            self.texts.add(text)
            self.min_length = min(self.min_length, len(text))
            self._text_re = None
            self._edges = None

    def _add_blob(self, blob: bytes) -> None:
        if len(blob) >= self.MIN_LENGTH and blob not in self.blobs:
            self.blobs.add(blob)

    def learn_named_values(self, text: str) -> bool:
        """Learn the passwords of the URLs in ``text`` and the values it writes after secrets'
        names (NAMED_VALUE), so that a copy held apart (the ``key`` a URL was built from) is
        hidden too; whether there were any."""
        if ":" not in text and "=" not in text:
            return False  # most texts: two C-level searches
        found = [m.group(2) for m in URL_CREDENTIALS.finditer(text)] if "://" in text else []
        found += [text[start:end] for start, end in named_secret_spans(text, self.redaction)]
        for value in found:
            self._learn_text(value)
            if "%" in value or "+" in value:
                self._learn_text(urllib.parse.unquote_plus(value))  # as the program held it
            if "\\" in value:
                try:
                    self._learn_text(ast.literal_eval('"%s"' % value))  # as JSON or a repr escaped it
                except Exception:
                    pass
        return bool(found)

    def learn_logged(self, msg: Any, args: Any) -> None:
        """Learn the arguments a logging call's message writes after secrets' names
        (``"password=%s"`` with ``("hunter2",)``): a LogRecord holds them apart, where no
        name says what they are, until something formats it."""
        if type(msg) is not str or "%" not in msg or not args or type(args) not in (tuple, dict):
            return
        if "*" in msg and _STAR_FIELD.search(msg):
            return   # its widths take arguments too: which is which is not worth guessing
        fields: List[Any] = []   # the argument of each field, by position or by key

        def mark(field: "re.Match[str]") -> str:
            if field.group("conv") == "%":
                return field.group(0)
            fields.append(field.group("key") if field.group("key") is not None else len(fields))
            return _FIELD_MARK % (len(fields) - 1)

        # Each field becomes a mark that names its argument, and the text is read as any other.
        marked = _FORMAT_FIELD.sub(mark, msg)
        for start, end in named_secret_spans(marked, self.redaction):
            for number in _FIELD_MARKS.findall(marked, start, end):
                field = fields[int(number)]
                if type(args) is tuple and type(field) is int and field < len(args):
                    self.learn(args[field])
                elif type(args) is dict and type(field) is str and field in args:
                    self.learn(dict.__getitem__(args, field))

    def learn_fields(self, obj: Any) -> None:
        """Learn what ``obj`` holds under secrets' names (see ``named``)."""
        for name, value in self.named(obj):
            self.learn_named(name, value)

    def named(self, obj: Any) -> List[Tuple[str, Any]]:
        """(name, value) one level below ``obj`` for every denylisted name: the keys of a
        dict (or subclass) or mapping proxy, the attributes in its ``__dict__`` and
        ``__slots__``, a namedtuple's fields.  Read as the interpreter stores them:
        no ``__getattr__``, property, ``__iter__`` or ``__getitem__`` of the class runs."""
        t = type(obj)
        kind, getter, slots, fields = self.layout(t)
        if kind is None and getter is None and not slots and not fields:
            return []
        out: List[Tuple[str, Any]] = []
        found: Any = None
        try:
            if kind == "dict":
                found = obj
            elif kind == "proxy":
                inside = gc.get_referents(obj)   # the mapping behind the proxy, without calling it
                found = inside[0] if len(inside) == 1 else None
            elif getter is not None:
                found = getter.__get__(obj, t)
        except Exception:
            found = None
        rule_of = self.redaction.rule_for
        if found is not None and issubclass(type(found), dict) and self.key_facts(found)[0]:
            out += [(k, v) for k, v in itertools.islice(dict.items(found), 10000)
                    if type(k) is str and rule_of(k, v)]
        for name, descriptor in slots:
            try:
                out.append((name, descriptor.__get__(obj, t)))
            except Exception:  # an empty slot
                pass
        for index, name in fields:
            try:
                out.append((name, tuple.__getitem__(obj, index)))
            except Exception:
                pass
        # The slots and fields were chosen by name alone: their values decide too (token_count = 7).
        return [(name, value) for name, value in out if not is_code(value) and rule_of(name, value)]

    def layout(self, t: type) -> Tuple[Any, ...]:
        """Where instances of ``t`` keep named values (see ``_layout``), found once per type."""
        layout = self._layouts.get(t)
        if layout is None:
            layout = self._layouts[t] = _layout(t, self.redaction)
        return layout

    def key_facts(self, d: dict) -> Tuple[bool, bool]:
        """Whether a dict's keys hold a secret's name, and a URL; found once per dict
        and capture (the learning pass and the pickling both ask), in C-speed passes."""
        entry = self._keys.get(id(d))
        if entry is not None and entry[0] is d and entry[1] == len(d):
            return entry[2], entry[3]
        joined = joined_names(dict.keys(d))
        # ":" first, by memchr: most keys hold none, and "://" is a slower search.
        facts = (self.redaction.any_name_in_joined(joined), ":" in joined and "://" in joined)
        self._keys[id(d)] = (d, len(d), facts[0], facts[1])
        return facts

    def learn_source(self, text: str) -> None:
        """Learn the string literals a source binds to secrets' names (``API_KEY = "..."``,
        ``login(password="...")``, ``{"token": "..."}``), when they look like keys or passwords
        (8 characters or more, a digit, no space): the dump keeps a copy of the source."""
        if not self.redaction.may_name_a_secret(text):
            return
        rule_of = self.redaction.rule_for
        for match in _NAMED_LITERAL.finditer(text):
            name = match.group("name") or match.group("key")
            if self.redaction.rule_for_name(name):
                try:
                    value = ast.literal_eval(match.group("literal"))
                except Exception:
                    continue
                if not rule_of(name, value):
                    continue
                if type(value) is bytes:
                    value = value.decode("utf-8", "replace")
                # Code names its constants after secrets too (AUTH_HEADER = "Authorization",
                # TOKEN_URL = "https://..."): only what looks like a key or password counts.
                if type(value) is str and not _SPACE.search(value) and _DIGIT.search(value):
                    self._learn_text(value, weak=True)

    # -- finding and hiding ------------------------------------------------------------
    def contains(self, text: str) -> bool:
        """Whether a secret occurs in ``text``."""
        if len(text) < self.min_length:
            return False
        if len(text) > self.LONG_TEXT:
            return any(secret in text for secret in self.texts)
        return self._texts_re().search(text) is not None

    def contains_blob(self, blob: Any) -> bool:
        """Whether a secret occurs in ``blob`` (bytes or bytearray)."""
        if len(blob) < self.MIN_LENGTH or not self.blobs:
            return False
        return any(secret in blob for secret in self.blobs)

    def scrub(self, text: str) -> str:
        """``text`` without the secrets, the passwords of URLs, and environment items."""
        if self.texts and len(text) >= self.min_length and self.contains(text):
            pattern = self._texts_re()
            for _ in range(3):  # a secret made of the marker's own letters could reappear
                text = pattern.sub(SECRET_MARKER, text)
                if pattern.search(text) is None:
                    break
            else:
                return SECRET_MARKER
        if self.texts and "..." in text:
            text = self._scrub_cuts(text)
        text = hide_named_values(text, self.redaction)
        if self.environ_seen and "': " in text:
            text = self._scrub_environ(text)
        return text

    def _scrub_cuts(self, text: str) -> str:
        """Where a repr was cut in the middle (``...``), the part of a secret on either side
        (4 characters at least: shorter parts say little and are everywhere)."""
        if self._edges is None:
            secrets = [secret for secret in self.texts if len(secret) > self.MIN_LENGTH]
            self._edges = (tuple({s[:k] for s in secrets for k in range(self.MIN_LENGTH, len(s))}),
                           tuple({s[-k:] for s in secrets for k in range(self.MIN_LENGTH, len(s))}))
        heads, tails = self._edges
        cut = text.find("...")
        while cut >= 0 and heads:
            if text.endswith(heads, 0, cut):   # one C call; which one, only when one is there
                k = max(len(h) for h in heads if text.endswith(h, 0, cut))
                text = text[:cut - k] + SECRET_MARKER + text[cut:]
                cut += len(SECRET_MARKER) - k
            if text.startswith(tails, cut + 3):
                k = max(len(t) for t in tails if text.startswith(t, cut + 3))
                text = text[:cut + 3] + SECRET_MARKER + text[cut + 3 + k:]
            cut = text.find("...", cut + 3)
        return text

    def scrub_blob(self, blob: bytes) -> bytes:
        marker = SECRET_MARKER.encode()
        for secret in sorted(self.blobs, key=len, reverse=True):
            blob = blob.replace(secret, marker)
        return marker if self.contains_blob(blob) else blob

    def scrub_source(self, text: str) -> str:
        """A source without the secrets and what value patterns hit; its lines stay where they were.

        Code is full of short words a secret may equal (``token = "while"``): a secret
        shorter than ``SOURCE_MIN_LENGTH`` is hidden only as a whole string literal.
        """
        if self.texts and self.contains(text):
            long = [t for t in self.texts if len(t) >= self.SOURCE_MIN_LENGTH]
            short = [t for t in self.texts if len(t) < self.SOURCE_MIN_LENGTH]
            if long:
                text = _alternation(long).sub(_keep_lines, text)
            if short:
                quoted = r"""(?<=(?P<q>["']))(?:%s)(?=(?P=q))""" % _alternation(short).pattern
                text = re.sub(quoted, SECRET_MARKER, text)
        if "://" in text:
            text = hide_url_secrets(text, self.redaction.rule_for)
        for pattern in self.redaction.patterns:
            text = pattern.sub(_keep_lines, text)
        return text

    def hide_environ(self) -> None:
        """os.environ, or a copy of it, is held by the program: its items are scrubbed from reprs."""
        self.environ_seen = True

    def _texts_re(self) -> Pattern[str]:
        if self._text_re is None:
            self._text_re = _alternation(self.texts)
        return self._text_re

    def _scrub_environ(self, text: str) -> str:
        if "environ({" in text:
            text = _ENVIRON_REPR.sub("environ({%s})" % ENVIRON_MARKER, text)
        if self._environ_re is None:
            items: Dict[str, str] = {}
            for name, value in list(unpatched.environ.items()):
                key = repr(name) + ": "
                for shown in (repr(value), string_repr(value, 1)):
                    items[key + shown] = key + repr(ENVIRON_MARKER)
            alternatives = "|".join(map(re.escape, sorted(items, key=len, reverse=True)))
            self._environ_re = (unpatched.compile_pattern(alternatives or "(?!)"), items)
        pattern, replacements = self._environ_re
        return pattern.sub(lambda m: replacements[m.group(0)], text)


def hide_url_secrets(text: str, rule_for: Optional[Callable[[Any, Any], Optional[str]]] = None) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` in it hidden, and
    with ``rule_for`` (the redaction's) the value of every query parameter named like a
    secret (``?api_key=X``, ``&access_token=X``: an HTTP error's message names its URL)."""
    text = URL_CREDENTIALS.sub(r"\1%s@" % SECRET_MARKER, text)
    if rule_for is not None and "=" in text:
        text = URL_QUERY_SECRET.sub(lambda m: m.group(1) + SECRET_MARKER if rule_for(m.group(2), m.group(3))
                                    else m.group(0), text)
    return text


_QUOTED = r""""(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'"""
# A value written after its name in a text, the name deciding as a variable's would: a
# form body, query string, log line or keyword argument ("user=bob&password=X", "token=X",
# "password='X'"), JSON or a dict's repr ('"password": "X"'), an HTTP header or a YAML line
# ("Authorization: Basic X"), a command line's option ("--password=X").
# Values are looked ahead at, not consumed, so that a name inside another's value, or after
# an ordinary header's name ("Error: token=X"), is found too.
NAMED_VALUE = re.compile(
    r"""(?<![\w.\-\[\]])-{0,2}(?P<name>[A-Za-z_][\w.\-\[\]]{0,80})[ \t]*=(?!=)[ \t]*(?=(?P<value>%s|[^&#;\s'"<>,\\]+))"""
    r"""|(?P<quote>["'])(?P<key>[A-Za-z_][\w.\- ]{0,80})(?P=quote) ?: ?(?=(?P<json>%s))"""
    r"""|^[ \t]*(?P<field>[A-Za-z_][\w.\-]{0,80}):[ \t]+(?=(?P<line>\S[^\r\n]*))""" % (_QUOTED, _QUOTED),
    re.MULTILINE)
_FIELD_FIRST = re.compile(r"[ \t]*[A-Za-z_][\w.\-]{0,80}:[ \t]")


def _may_write_named_values(text: str) -> bool:
    """Whether NAMED_VALUE can match at all, by what each form needs: a few C-level searches
    that the long repr of a dict of numbers passes none of, where the search for the
    denylist's names costs ten times as much."""
    return ("=" in text or ":'" in text or ": '" in text or ':"' in text or ': "' in text
            or "\n" in text or _FIELD_FIRST.match(text) is not None)


# A value that is a placeholder of a format or a query ("password=%s", "token={}",
# "Authorization: ${AUTH}", "pw = ?", "key=:key") is code's, not a secret: hiding it
# would break the format a restored object holds (a namedtuple's repr).
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]|\{[^{}]*\}|\$\{?\w+\}?|\?|:\w+")

# An auth scheme written as a value ("Authorization=Bearer X" in a cookie string), where
# the value's pattern stops at the space: the credential after it goes with it.
_SCHEME_VALUE = re.compile(r"(?i)(%s)[ \t]+([^&#;\s'\"<>,\\]+)" % _SCHEMES)
_SCHEME_ONLY = re.compile(r"(?i)(?:%s)" % _SCHEMES)

# Longer texts (a whole log in memory) are not read for names: at some 20 ms a megabyte,
# and more where names hit, a few of them would take a capture's whole time budget.
NAMED_TEXT_LIMIT = 256 << 10


def hide_named_values(text: str, redaction: Redaction) -> str:
    """``text`` with the password of every URL in it hidden, and every value it writes after
    a secret's name (NAMED_VALUE): what a program's texts say, where code is not meant."""
    if ":" not in text and "=" not in text:
        return text  # most texts: two C-level searches
    if "://" in text:
        text = hide_url_secrets(text)  # the passwords; query parameters are named values here
    for start, end in reversed(named_secret_spans(text, redaction)):
        text = text[:start] + SECRET_MARKER + text[end:]
    return text


def may_name_values(text: str, redaction: Redaction) -> bool:
    """Whether ``text`` may write a value after a secret's name (``named_secret_spans``), by
    C-level searches; whatever its length (joined texts are read by their parts)."""
    return (":" in text or "=" in text) and _may_write_named_values(text) and redaction.may_name_a_secret(text)


def named_secret_spans(text: str, redaction: Redaction) -> List[Tuple[int, int]]:
    """Where ``text`` writes a value after a secret's name (its quotes left out)."""
    if len(text) > NAMED_TEXT_LIMIT or not may_name_values(text, redaction):
        return []
    spans: List[Tuple[int, int]] = []
    for match in NAMED_VALUE.finditer(text):
        kind = match.lastgroup or "value"  # the value's group: value, json or line
        name = match.group({"value": "name", "json": "key", "line": "field"}[kind])
        start, end = match.span(kind)
        if end - start >= 2 and text[start] in "'\"" and text[end - 1] == text[start]:
            start, end = start + 1, end - 1
        call = text.find("(", start, end) if kind == "value" else -1
        if call >= 0:
            end = _call_end(text, call + 1)  # a repr's call, password=SecretStr('...'): the whole call
        if _MASKED.match(text, start, end) is not None:
            continue  # already masked by the program (a SecretStr's '**********')
        scheme = _SCHEME_VALUE.match(text, start)
        if scheme is not None and _PLACEHOLDER.match(text, scheme.start(2)) is not None:
            continue  # "Authorization: Bearer {token}" is a template: code's, like "password=%s"
        if scheme is None and _SCHEME_ONLY.fullmatch(text, start, end) is not None:
            continue  # "Authorization=Bearer " + key: the scheme alone, its credential still to come
        if (end > start and not text.startswith(REDACTED_PREFIX, start) and _PLACEHOLDER.match(text, start) is None
                and redaction.rule_for(name, text[start:end])):
            if scheme is not None and scheme.end(1) == end:  # "Authorization=Bearer X": X is the secret
                end = scheme.end()
            if spans and start < spans[-1][1]:  # inside the value before it: hidden with it
                before = spans.pop()
                start, end = before[0], max(end, before[1])
            spans.append((start, end))
    return spans


# A value its program masked already: "***", or a call on one, SecretStr('**********').
_MASKED = re.compile(r"""(?:[A-Za-z_][\w.]*\()?(["']?)\*+\1\)?\Z""")


def _call_end(text: str, start: int) -> int:
    """Where the call whose arguments begin at ``start`` ends (after its ")"); the end of the
    text when it does not (a cut repr)."""
    depth = 1
    for index in range(start, min(len(text), start + 4096)):
        ch = text[index]
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return index + 1
    return len(text)


def _alternation(texts: Iterable[str]) -> Pattern[str]:
    # Longest first, so a secret that contains another is replaced whole.
    return unpatched.compile_pattern("|".join(map(re.escape, sorted(texts, key=len, reverse=True))) or "(?!)")


def _keep_lines(match: "re.Match[str]") -> str:
    return SECRET_MARKER + "\n" * match.group(0).count("\n")


def _items(obj: Any, t: type) -> Iterator[Any]:
    """The items of a builtin container or a subclass, read with the builtin's own C code."""
    n = Secrets.LEARN_ITEMS
    if issubclass(t, dict):
        return itertools.islice(dict.values(obj), n)
    if issubclass(t, (list, tuple)):
        return itertools.islice(list.__iter__(obj) if issubclass(t, list) else tuple.__iter__(obj), n)
    if issubclass(t, (set, frozenset)):
        return itertools.islice(set.__iter__(obj) if issubclass(t, set) else frozenset.__iter__(obj), n)
    if t is types.MappingProxyType:
        inside = gc.get_referents(obj)
        if len(inside) == 1 and issubclass(type(inside[0]), dict):
            return itertools.islice(dict.values(inside[0]), n)
    return iter(())


_SCALAR_SECRETS = (str, bytes, bytearray, int)


def _dict_descriptor(t: type) -> Any:
    """The descriptor of the instance ``__dict__`` of ``t``'s instances, from the class dicts
    alone (None: they have none)."""
    try:
        for klass in _MRO.__get__(t):
            found = _CLASS_DICT.__get__(klass).get("__dict__")
            if type(found) is types.GetSetDescriptorType:
                return found
    except Exception:
        pass
    return None


_MRO = type.__dict__["__mro__"]
_CLASS_DICT = type.__dict__["__dict__"]
_CLASS_NAME = type.__dict__["__name__"]


def _layout(t: type, redaction: Redaction) -> Tuple[Any, ...]:
    """Where instances of ``t`` keep what ``Secrets.named`` reads: (kind, the ``__dict__``
    descriptor, the denylisted slots' descriptors, the denylisted namedtuple fields'
    indices).  From the class dicts alone, so no code of the class runs."""
    kind: Optional[str] = None
    getter: Any = None
    slots: List[Tuple[str, Any]] = []
    fields: List[Tuple[int, str]] = []
    try:
        if issubclass(t, dict):
            kind = "dict"
        elif t is types.MappingProxyType:
            kind = "proxy"
        if kind is not None or not redaction.enabled:
            return kind, None, (), ()
        rule_of = redaction.rule_for_name
        getter = _dict_descriptor(t)
        for klass in _MRO.__get__(t):
            own = _CLASS_DICT.__get__(klass)
            declared = own.get("__slots__")
            names = ((declared,) if type(declared) is str
                     else tuple(declared) if type(declared) in (tuple, list, dict) else ())
            for name in names:
                if type(name) is not str or not rule_of(name):
                    continue
                stored = name
                if name.startswith("__") and not name.endswith("__"):
                    stored = "_%s%s" % (_CLASS_NAME.__get__(klass).lstrip("_"), name)
                descriptor = own.get(stored)
                if type(descriptor) is types.MemberDescriptorType:
                    slots.append((name, descriptor))
            if issubclass(t, tuple) and not fields:
                declared_fields = own.get("_fields")
                if type(declared_fields) is tuple:
                    fields = [(i, n) for i, n in enumerate(declared_fields) if type(n) is str and rule_of(n)]
    except Exception:
        pass
    return kind, getter, tuple(slots), tuple(fields)


_PROBES = ("PATH", "HOME", "USER", "LANG", "SHELL", "PWD")


def environ_probes() -> Tuple[Tuple[str, str], ...]:
    """Up to three variables of this environment that a copy of it would hold."""
    env = unpatched.environ
    found = [(name, env[name]) for name in _PROBES if name in env][:3]
    if not found:
        found = list(itertools.islice(env.items(), 3))
    return tuple(found)


def is_environ_copy(d: dict, probes: Tuple[Tuple[str, str], ...]) -> bool:
    """Whether the exact dict ``d`` is a copy of the environment (``os.environ.copy()``,
    ``dict(os.environ)``, ``{**os.environ, "X": "1"}``): it holds the probed variables
    with this environment's values.  One lookup for a dict that is not."""
    # Compared as exact strings: a value of the program's own class would run its __eq__.
    if not probes or not _same_text(d.get(probes[0][0]), probes[0][1]):
        return False
    return all(_same_text(d.get(name), value) for name, value in probes[1:])


def environ_masked(d: dict, hide: Callable[[Any], Any]) -> dict:
    """A copy of the environment ``d`` with ``hide`` of the values of this environment's
    variables: what the program added to it is its own, shown as any dict's items are (a WSGI
    server's request: PATH_INFO, REQUEST_METHOD; HTTP_COOKIE is hidden by its name)."""
    env = unpatched.environ
    return {k: hide(v) if type(k) is str and k in env else v for k, v in d.items()}


def _same_text(found: Any, value: str) -> bool:
    return type(found) is str and found == value
