"""pyproject.toml and the code agree: one version, and the install hints name the extras' packages;
the public names of tbdump and tbdebug are there for dir() and star imports."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib      # the tests run on 3.11+ (the Makefile's PYTHON_MIN)
from pathlib import Path

import tbdump
import tblsp
from tblsp.__main__ import PYGLS
from tbpeep.loader import INSTALL_HINT, PEEPSHOW

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_version_is_written_once() -> None:
    assert "version" in PROJECT["project"]["dynamic"] and "version" not in PROJECT["project"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tbdump.__version__"}
    assert tblsp.__version__ is tbdump.__version__
    written = [str(path.relative_to(REPO)) for package in PROJECT["tool"]["setuptools"]["packages"]
               for path in (REPO / package).glob("*.py")
               if re.search(r"^__version__\s*=", path.read_text(encoding="utf-8"), re.M)]
    assert written == ["tbdump/__init__.py"]


def test_the_hints_install_what_the_extras_require() -> None:
    extras = PROJECT["project"]["optional-dependencies"]
    assert extras == {"peep": [PEEPSHOW], "lsp": [PYGLS]}
    assert INSTALL_HINT.endswith(f"pip install {PEEPSHOW}")


def test_the_public_names_are_listed_and_imported_only_when_used() -> None:
    """Imported on first use, the public names are still what dir() (a REPL's Tab) and
    `from tbdump import *` find; listing them imports none of the capture machinery."""
    shown = subprocess.run([sys.executable, "-c", """if True:
        import sys, tbdump, tbdebug
        print(sorted(set(tbdump.__all__) - set(dir(tbdump))), "tbdump.hooks" in sys.modules)
        from tbdump import *
        from tbdebug import *
        print(load.__module__, dump_exception.__module__, debug.__module__)
        try:
            tbdebug.nothing
        except AttributeError as exc:
            print(exc)
    """], capture_output=True, text=True, cwd=str(REPO), timeout=60)
    assert shown.stdout.splitlines() == ["[] False", "tbdump.dumpfile tbdump.hooks tbdebug.session",
                                         "module 'tbdebug' has no attribute 'nothing'"], shown
