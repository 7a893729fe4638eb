"""``TBDUMP_*`` settings read from the environment: a bad value is said once, on stderr, and
the default is used, so a typo never costs a crash its dump."""
from __future__ import annotations

import math
import sys
from typing import Optional, Set

from . import unpatched

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_said: Set[str] = set()


def say_once(text: str) -> None:
    """One line on stderr, once per process, about a setting that is not used as given."""
    if text in _said:
        return
    _said.add(text)
    try:
        sys.stderr.write("tbdump: %s\n" % text)
        sys.stderr.flush()
    except Exception:  # a closed or broken stderr must not stop a dump
        pass


def ignored(name: str, raw: str, why: str) -> None:
    say_once("ignoring %s=%r: %s" % (name, raw, why))


def flag(name: str, default: bool) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off, any case."""
    raw = unpatched.environ.get(name, "")
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


def number(name: str, integer: bool) -> Optional[float]:
    """A non-negative number setting, or None when it is unset or bad (then said)."""
    raw = unpatched.environ.get(name, "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        ignored(name, raw, "not a %s; the default is used" % ("whole number" if integer else "number of seconds"))
        return None
    return int(value) if integer else value


# A dump holds the program's memory: like a core dump, it is for its owner alone
# unless the machine's owner says otherwise.
DEFAULT_FILE_MODE = 0o600


def file_mode() -> int:
    """``TBDUMP_FILE_MODE``: the permissions a dump is written with, in octal (600, 640, 644)."""
    raw = unpatched.environ.get("TBDUMP_FILE_MODE", "")
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
