"""The errors loading a dump can raise: each says in one sentence what is wrong."""


class DumpError(Exception):
    """A dump file cannot be read; ``str()`` is one sentence for a person."""


class NotADumpError(DumpError):
    """The file is not a tbdump file at all (empty, a plain pickle, a zip, text)."""


class CorruptDumpError(DumpError):
    """The file is a tbdump file but truncated or damaged."""


class NewerFormatError(DumpError):
    """The file was written by a newer tbdump whose format this one cannot read."""
