"""pyproject.toml and the code agree: one version, and the install hints name the extras' packages."""
from __future__ import annotations

import re
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
