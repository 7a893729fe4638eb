"""tbdump under IPython and Jupyter, as their users run them: a notebook executed headless by
``jupyter execute`` (nbclient, which papermill runs too) in a real kernel, in a subprocess of one cached
venv pinned in ipython-requirements.txt.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import tbdump
from ..conftest import cached_venv, run

REQUIREMENTS = Path(__file__).with_name("ipython-requirements.txt")

@pytest.fixture(scope="module")
def venv_bin() -> Path:
    try:
        return cached_venv(REQUIREMENTS, "ipython").parent
    except RuntimeError as exc:  # offline: a skip would pass a run that tested no IPython
        pytest.fail(str(exc))


def ipython_env(cwd: Path) -> Dict[str, str]:
    """IPython's profile and history in the test's folder: none of the user's, none shared by two tests."""
    return {"IPYTHONDIR": str(cwd / ".ipython")}


def execute_notebook(venv_bin: Path, cwd: Path, cells: List[str]) -> List[List[Dict[str, Any]]]:
    """Each cell's outputs once ``jupyter execute --allow-errors`` has run ``cells`` as a notebook
    in ``cwd`` (the kernel's working directory), as a night batch runs one."""
    notebook = cwd / "batch.ipynb"
    notebook.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [{"cell_type": "code", "id": "cell%d" % n, "metadata": {}, "execution_count": None,
                   "outputs": [], "source": source} for n, source in enumerate(cells)]}))
    proc = run([str(venv_bin / "jupyter-execute"), "--inplace", "--allow-errors", notebook.name], cwd,
               env=ipython_env(cwd), timeout=300)
    assert proc.returncode == 0, proc.stderr
    cells_run = json.loads(notebook.read_text())["cells"]
    for output in (output for cell in cells_run for output in cell["outputs"]):
        if isinstance(output.get("text"), list):   # a saved notebook keeps a stream's text as lines
            output["text"] = "".join(output["text"])
    return [cell["outputs"] for cell in cells_run]


def test_a_dump_written_in_a_kernel_restores_the_cells_names_where_no_jupyter_is_installed(
        tmp_path: Path, venv_bin: Path) -> None:
    """IPython's shell and kernel are placeholders: the cell's names reach them (get_ipython,
    exit), and a value of theirs that failed to load here (a dateutil time zone) made every
    name of the cell a placeholder too.  Loaded here, where neither IPython, ipykernel nor
    dateutil is installed (requirements-test.lock)."""
    [[output]] = execute_notebook(venv_bin, tmp_path, ["""import tbdump
x = 5
try:
    1/0
except ZeroDivisionError as exc:
    print(tbdump.dump_exception(exc, above_handler=False))"""])
    assert output["text"] == "traceback.pkl\n"
    names = tbdump.load(tmp_path / "traceback.pkl").frames[0].locals
    assert names["x"] == 5 and names["In"] == ["", names["_i1"]] and names["tbdump"] is tbdump
