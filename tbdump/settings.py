"""``TBDUMP_*`` settings read from the environment: a bad value is said once, on stderr, and
the default is used, so a typo never costs a crash its dump.  Every setting is read here, one
reader per kind (on/off, number, octal mode), each taking its value without the spaces around it."""
from __future__ import annotations

import contextlib
import math
import sys
from typing import Iterator, List, Optional, Union

from . import unpatched

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_said: List[str] = []   # in the order said: a few lines at most

# A signing key from code: bytes, or text read as TBDUMP_KEY's is (UTF-8).
Key = Union[bytes, str]


def say_once(text: str) -> None:
    """One line on stderr, once per process (per listener: ``said_afresh``), about a setting
    that is not used as given."""
    if text in _said:
        return
    _said.append(text)
    try:
        sys.stderr.write("tbdump: %s\n" % text)
        sys.stderr.flush()
    except Exception:  # a closed or broken stderr must not stop a dump
        pass


@contextlib.contextmanager
def said_afresh() -> Iterator[List[str]]:
    """Meanwhile ``say_once`` says each line again, once: stderr is shown to someone new (a DAP
    server's next client, in its debug console), who has heard none of them.  Yields the list of
    the lines said meanwhile, to be told again to whoever was not listening then."""
    global _said
    saved, _said = _said, []
    try:
        yield _said
    finally:
        _said = saved


def ignored(name: str, raw: str, why: str) -> None:
    say_once("ignoring %s=%r: %s" % (name, raw, why))


def given(name: str) -> str:
    """The setting's value; spaces around it are no part of it (an env file's ``NAME=0 ``
    read as a bad value would leave redaction on), and one of spaces only is unset."""
    return unpatched.environ.get(name, "").strip()


def items(name: str, separator: str) -> List[str]:
    """A list setting, its items without the spaces around them: a pattern per line indented in
    a YAML block or a shell script was its indent too, a line of spaces only a pattern that hid
    every value with such a run of spaces, and '    Bearer \\S+' missed 'Bearer abc'."""
    return [item.strip() for item in given(name).split(separator) if item.strip()]


def flag(name: str, default: bool) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off, any case."""
    raw = given(name)
    if not raw:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    ignored(name, raw, "expected 1/true/yes/on or 0/false/no/off; the default (%s) is used"
            % ("on" if default else "off"))
    return default


def report_own_error() -> None:
    """With ``TBDUMP_DEBUG`` on, the traceback of an error inside tbdump that capture got
    past, on stderr, for a bug report; off, the crash's output stays exactly Python's."""
    if flag("TBDUMP_DEBUG", False):
        import traceback
        traceback.print_exc()


def number(name: str, default: float) -> float:
    """A budget's setting, ``default`` when unset or bad (then said): seconds where ``default``
    is a float, else a count or bytes (see budget_value)."""
    raw = given(name)
    if not raw:
        return default
    integer = isinstance(default, int)
    try:
        value = float(raw)   # 1e9, as the README shows; 1_000 as Python reads it
    except ValueError:
        value = math.nan
    try:
        return budget_value(value, integer)
    except ValueError as exc:
        ignored(name, raw, "%s; the default (%s) is used" % (exc, format(default, "d" if integer else "g")))
        return default


def budget_value(value: object, integer: bool) -> float:
    """``value`` as a budget, from the environment or from code alike: a finite number of 0
    or more, and a whole one where ``integer`` (1e9 bytes is one; a depth of 1.5 cut to 1 would
    not be what was asked).  ValueError saying what is expected otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        if not integer:
            return float(value)
        if float(value).is_integer():
            return int(value)
    raise ValueError("expected %s, 0 or more" % ("a whole number" if integer else "a number of seconds"))


def signing_key(given: Optional[Key]) -> Optional[bytes]:
    """The key that signs dumps and checks them: ``given``, else ``TBDUMP_KEY``, else None.
    Taken whole, spaces and all: a secret's spaces may be part of it."""
    if given:
        return given.encode("utf-8") if isinstance(given, str) else bytes(given)
    env = unpatched.environ.get("TBDUMP_KEY")
    return env.encode("utf-8") if env else None


# A dump holds the program's memory: like a core dump, it is for its owner alone
# unless the machine's owner says otherwise.
DEFAULT_FILE_MODE = 0o600


def file_mode() -> int:
    """``TBDUMP_FILE_MODE``: the permissions a dump is written with, in octal (600, 640, 644)."""
    raw = given("TBDUMP_FILE_MODE")
    if not raw:
        return DEFAULT_FILE_MODE
    try:
        mode = int(raw, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        ignored("TBDUMP_FILE_MODE", raw, "expected permissions in octal, such as 600 or 644; %o is used"
                % DEFAULT_FILE_MODE)
        return DEFAULT_FILE_MODE
    return mode
