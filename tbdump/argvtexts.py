"""The program's command line as texts, read without its code: what the dump's metadata shows
and what redaction learns the command line's secrets from, one reading for both."""
from __future__ import annotations

import os
import sys
from typing import Any, List, Optional


def argv_texts() -> List[str]:
    """``sys.argv`` as texts, whatever the program put there (a Path, bytes, a number, None for
    the list): the dump's metadata holds texts, or no viewer could open it, and a secret given
    as bytes (``b"--token=X"``) is a secret as much as one given as text."""
    argv = sys.argv
    if not isinstance(argv, (list, tuple)):
        return []
    texts = []
    for arg in argv:
        text = text_of(arg)
        if text is None and type(arg) in (int, float, bool):
            text = repr(arg) if type(arg) is not int or arg.bit_length() < 64 else "<int>"
        texts.append("<%s>" % type(arg).__name__ if text is None else text)
    return texts


def text_of(value: Any) -> Optional[str]:
    """A text, bytes or path as a plain ``str`` (never through the value's own ``__str__``,
    which is the program's code); None for anything else."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, os.PathLike)):
        try:
            return os.fsdecode(value)
        except Exception:   # a path whose __fspath__ raises or returns no path
            return None
    return None
