"""The directory a run writes many dumps into: made at its first dump, kept out of git."""
from __future__ import annotations

from pathlib import Path

from .errors import system_words
from .writer import DumpWriteError


def make_directory_of(path: str, made_by: str) -> None:
    """The directory of the dump ``path``, with a ``.gitignore`` of ``*`` when this call makes it
    (as pytest's cache has): dumps hold the program's values, which belong in no commit.
    ``made_by`` says who made it, in the .gitignore's first line.  Raises DumpWriteError, as
    writing the dump would, when it cannot be made."""
    directory = Path(path).parent
    try:
        directory.mkdir(parents=True)
        (directory / ".gitignore").write_text("# Made by %s.\n*\n" % made_by)
    except FileExistsError:   # made already (by another worker too)
        return
    except OSError as err:
        raise DumpWriteError(path, system_words(err)) from None
