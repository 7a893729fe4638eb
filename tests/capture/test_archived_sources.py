"""Sources no file holds: a zip app's and a zipped package's members, and code a program
registered in linecache (as IPython, Jupyter and doctest do) are kept in the dump as they ran."""
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
    # ...and says why, as tbdap does, never that the member differs from what ran.
    said = listing.stdout + listing.stderr
    assert ("tbdebug: libs.zip/zpkg/__init__.py: the local file is not used (in an archive here, not a file "
            "of its own); showing the dump's copy") in said, said
    assert "differs" not in said, said


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


# Code a program compiled from a string it built, registered in linecache under a name of its
# own as IPython registers its cells (Jupyter names them as files: /tmp/ipykernel_1/2.py).
REGISTERED = """
    import linecache, sys, tbdump
    def register(name, text):
        linecache.cache[name] = (len(text), None, text.splitlines(True), name)
        return compile(text, name, "exec")
    cell = "def check(n):\\n    limit = 3\\n    assert n < limit, n\\ncheck(5)\\n"
    for n, name in enumerate(("<ipython-input-1-abc>", "/tmp/ipykernel_1/no-such-dir/2.py")):
        try:
            exec(register(name, cell), {})
        except AssertionError as exc:
            tbdump.dump_exception(exc, "cell%d.pkl" % n)
    try:
        register("<ipython-input-2-def>", "x = (1 +\\n")
    except SyntaxError as exc:
        tbdump.dump_exception(exc, "syntax.pkl")

    # A module whose loader is the program's own: linecache would call it for the source.
    class Loader:
        def get_source(self, name):
            open("loader-ran", "w").close()
            return "def f():\\n    raise KeyError(1)\\n"
    virtual = {"__name__": "virtual", "__loader__": Loader()}
    exec(compile("def f():\\n    raise KeyError(1)\\n", "/nowhere/virtual.py", "exec"), virtual)
    try:
        virtual["f"]()
    except KeyError as exc:
        tbdump.dump_exception(exc, "loader.pkl")
"""


def test_code_registered_in_linecache_is_kept_and_a_lazy_entry_is_never_called(workdir: Path) -> None:
    write(workdir / "prog.py", REGISTERED)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.returncode == 0, proc.stderr
    cell = "def check(n):\n    limit = 3\n    assert n < limit, n\ncheck(5)\n"
    for n, filename in enumerate(("<ipython-input-1-abc>", "/tmp/ipykernel_1/no-such-dir/2.py")):
        dump = tbdump.load(workdir / ("cell%d.pkl" % n))
        assert [f.filename for f in dump.frames[-2:]] == [filename, filename]
        assert dump.sources[filename].text == cell
    syntax = tbdump.load(workdir / "syntax.pkl")
    assert syntax.sources["<ipython-input-2-def>"].text == "x = (1 +\n"
    # The program's loader may block or fail: capture never calls it.
    assert tbdump.load(workdir / "loader.pkl").sources["/nowhere/virtual.py"].text is None
    assert not (workdir / "loader-ran").exists()
