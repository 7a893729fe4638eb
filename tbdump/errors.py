"""The errors loading a dump can raise, each one sentence saying what is wrong, and the
system's words for an OSError as those sentences (and the tools' other lines) quote them."""
import os


class DumpError(Exception):
    """A dump file cannot be read; ``str()`` is one sentence for a person."""


class NotADumpError(DumpError):
    """The file is not a tbdump file at all (empty, a plain pickle, a zip, text)."""


class CorruptDumpError(DumpError):
    """The file is a tbdump file but truncated or damaged."""


class NewerFormatError(DumpError):
    """The file was written by a newer tbdump whose format this one cannot read."""


def system_words(exc: OSError) -> str:
    """The system's words for ``exc`` as a clause, as ``cat`` says them after a file's name
    (``permission denied``, ``address already in use``), without the ``[Errno 13]`` and the
    file name Python puts around them."""
    text = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror or str(exc)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
