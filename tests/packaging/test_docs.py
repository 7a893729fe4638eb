"""The user documentation and the code name the same settings: every environment variable the
tools and the VS Code extension read is documented, and every one the documents name is read."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Iterable, Set

from tbdump.budget import Budgets

REPO = Path(__file__).resolve().parents[2]
CODE = [*(REPO / package for package in ("tbdump", "tbdap", "tbdebug", "tbpeep", "tblsp")),
        REPO / "vscode-extension" / "src"]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "vscode-extension" / "README.md"]
# A whole name; one that ends in "_" is a prefix ("TBDUMP_" + name, `TBDUMP_PREVIEW_*`), not a variable.
VARIABLE = re.compile(r"\b(?:TBDUMP|TBLSP)_[A-Z0-9_]+")


def _named(files: Iterable[Path]) -> Set[str]:
    return {name for path in files for name in VARIABLE.findall(path.read_text(encoding="utf-8"))
            if not name.endswith("_")}


def test_every_variable_the_code_reads_is_documented_and_no_other() -> None:
    code = _named(path for folder in CODE for path in folder.rglob("*") if path.suffix in (".py", ".ts"))
    code |= {"TBDUMP_" + f.name.upper() for f in fields(Budgets)}   # read as "TBDUMP_" + the field
    documented = _named(DOCS)
    assert sorted(code - documented) == [], "read by the code, documented nowhere"
    assert sorted(documented - code) == [], "documented, read by nothing"
