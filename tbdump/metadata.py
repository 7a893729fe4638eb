"""The dump's metadata: when and where the crash happened, what ran it, and the log record
that carried it."""
from __future__ import annotations

import datetime
import sys
from typing import Dict, Iterable, List, Optional

from . import __version__, unpatched
from .argvtexts import argv_texts, text_of
from .distributions import package_versions
from .model import Frame, Metadata
from .redaction import Redaction, split_argv

__all__ = ["metadata"]


def metadata(redaction: Redaction, frames: Iterable[Frame], log: Optional[Dict[str, str]] = None) -> Metadata:
    """The dump's metadata; ``log``: the log record that carried the exception (Metadata.log)."""
    now = unpatched.now(datetime.timezone.utc)
    return Metadata(
        time=now.isoformat(), python=unpatched.version, version_info=list(unpatched.version_info[:3]),
        implementation=_IMPLEMENTATIONS.get(unpatched.implementation, unpatched.implementation),
        platform=_platform(), hostname=_hostname(), pid=unpatched.getpid(), argv=_redact_argv(argv_texts(), redaction),
        cwd=_safe_cwd(), executable=text_of(sys.executable) or "", tbdump_version=__version__,
        packages=package_versions(frames), redaction=redaction.describe(), log=_log_record(log, redaction))


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM", "ironpython": "IronPython"}


# The platform and socket modules take tens of milliseconds to import (a crash
# dump should not wait for them); os.uname says the same where it exists.
def _platform() -> str:
    if unpatched.uname is not None:
        u = unpatched.uname()
        return "%s-%s-%s" % (u.sysname, u.release, u.machine)
    import platform
    return platform.platform(terse=True)


def _hostname() -> str:
    if unpatched.uname is not None:
        return unpatched.uname().nodename
    import socket
    return socket.gethostname()


def _safe_cwd() -> str:
    try:
        return unpatched.getcwd()
    except OSError:
        return "?"


def _redact_argv(argv: List[str], redaction: Redaction) -> List[str]:
    """``--password X`` and ``--token=X`` keep their flag and lose their value; what a value
    pattern hits is hidden (``Secrets`` learns the values, so copies are hidden too)."""
    return split_argv(argv, redaction)[0] if redaction.enabled else argv


def _log_record(log: Optional[Dict[str, str]], redaction: Redaction) -> Dict[str, str]:
    """Metadata.log of the log record that carried the exception: its message redacted as the
    exception's is."""
    return dict(log, message=redaction.text_or_marker(log.get("message", ""))) if log else {}

