"""Sources no file holds: a zip app's and a zipped package's members are kept in the dump as they ran."""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Dict

import tbdump
from ..conftest import PYTHON, run, write

ZIPPED = {
    "__main__.py": "# -*- coding: latin-1 -*-\nimport sys\nsys.path.insert(0, 'libs.zip')\nimport zpkg\n"
                   "zpkg.boom({'caf\xe9': 1})\n",
}
LIBS = {"zpkg/__init__.py": "def boom(d):\n    key = 'missing'\n    return d[key]\n"}


def make_zip(path: Path, members: Dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def encoded(members: Dict[str, str]) -> Dict[str, bytes]:
    return {name: text.encode("latin-1") for name, text in members.items()}


def assert_kept(dump: tbdump.Dump, filename: str, data: bytes, text: str) -> None:
    """The dump holds the member's text as Python decoded it, and the SHA-256 of its bytes."""
    source = dump.sources[filename]
    assert (source.text, source.sha256, source.reason) == (text, hashlib.sha256(data).hexdigest(), None)


def test_a_zip_app_and_a_zipped_package_keep_their_members_source_and_hash(workdir: Path) -> None:
    app, libs = encoded(ZIPPED), encoded(LIBS)
    make_zip(workdir / "app.pyz", app)
    make_zip(workdir / "libs.zip", libs)
    proc = run([PYTHON, "-m", "tbdump", "app.pyz"], workdir)
    assert (proc.returncode, proc.stderr) == (1, "KeyError: 'missing'\nTraceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    main, package = (str(workdir / "app.pyz" / "__main__.py"),
                     os.path.join("libs.zip", "zpkg", "__init__.py"))   # as sys.path named it: relative
    assert [f.filename for f in dump.frames] == [main, package]
    assert_kept(dump, main, app["__main__.py"], ZIPPED["__main__.py"])
    assert_kept(dump, package, libs["zpkg/__init__.py"], LIBS["zpkg/__init__.py"])
    # A viewer cannot take a member for a local file: tbdebug lists the dump's copy.
    listing = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], workdir, stdin="l\nq\n")
    assert "3  ->\t    return d[key]" in listing.stdout, listing.stdout
    assert "not used" not in listing.stdout + listing.stderr


def test_dump_exception_in_a_package_imported_from_an_egg_keeps_its_source(workdir: Path) -> None:
    """Not under `python -m tbdump`: the program imports from an egg on sys.path and dumps."""
    libs = encoded(LIBS)
    make_zip(workdir / "zpkg-1.0-py3.egg", libs)
    write(workdir / "prog.py", """
        import os, sys, tbdump
        sys.path.insert(0, os.path.abspath("zpkg-1.0-py3.egg"))
        import zpkg
        try:
            zpkg.boom({})
        except KeyError as exc:
            tbdump.dump_exception(exc, "dump.pkl")
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.returncode == 0, proc.stderr
    dump = tbdump.load(workdir / "dump.pkl")
    inner = str(workdir / "zpkg-1.0-py3.egg" / "zpkg" / "__init__.py")
    assert dump.frames[-1].filename == inner
    assert_kept(dump, inner, libs["zpkg/__init__.py"], LIBS["zpkg/__init__.py"])


def test_a_zip_app_that_does_not_compile_keeps_the_source_tbdebug_lists(workdir: Path) -> None:
    broken = "total = 1\nitems = (total,\n"
    make_zip(workdir / "app.pyz", {"__main__.py": broken.encode()})
    proc = run([PYTHON, "-m", "tbdump", "app.pyz"], workdir)
    assert proc.returncode == 1 and proc.stderr.endswith("Traceback dumped into: traceback.pkl\n"), proc.stderr
    main = str(workdir / "app.pyz" / "__main__.py")
    assert_kept(tbdump.load(workdir / "traceback.pkl"), main, broken.encode(), broken)
    listing = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], workdir, stdin="")
    assert "  2 >>\titems = (total,\n" in listing.stdout, listing.stdout

