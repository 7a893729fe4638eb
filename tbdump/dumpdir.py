"""The directory a run writes many dumps into: made at its first dump, kept out of git."""
from __future__ import annotations

from pathlib import Path


def make_directory(directory: Path, made_by: str) -> None:
    """``directory``, with a ``.gitignore`` of ``*`` when this call makes it (as pytest's cache
    has): dumps hold the program's values, which belong in no commit.  ``made_by`` says who made
    it, in the .gitignore's first line.  Raises OSError when it cannot be made."""
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        return
    (directory / ".gitignore").write_text("# Made by %s.\n*\n" % made_by)
