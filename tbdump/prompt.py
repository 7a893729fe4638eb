"""Python's own interactive prompt (``python``, ``python -i``, ``code.interact``): whether a crash
of the main thread is followed by it, the session going on."""
from __future__ import annotations

import os
import sys

from . import unpatched


def inspecting() -> bool:
    """Whether python goes on to its prompt when the program ends (``-i``, or PYTHONINSPECT,
    which python reads then, so the program may set it): it then ends no process for a crash.
    Only ``-i`` or a terminal on stdin opens it: PYTHONINSPECT with stdin piped ends python
    as a crash does without it, status 1."""
    flags = unpatched.flags
    asked = bool(flags.inspect) or (not flags.ignore_environment and bool(unpatched.environ.get("PYTHONINSPECT")))
    return asked and (bool(flags.interactive) or os.isatty(0))


def prompt_running() -> bool:
    """Whether a prompt runs the lines now: Python's sets ``sys.ps1`` as it starts (3.13's new
    one and ``code.interact`` too), and a crash it reports is a typed line's."""
    return hasattr(sys, "ps1")


def prompt_follows() -> bool:
    """Whether the prompt follows a crash of the main thread reported now: a line typed at it
    crashed, or ``python -i``'s program, whose prompt opens after it."""
    return prompt_running() or inspecting()
