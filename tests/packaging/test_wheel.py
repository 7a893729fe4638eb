"""The distribution as a user gets it: a wheel built from this tree, installed into a fresh venv,
every tool run from there, outside the clone."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

import tbdump
from ..conftest import locked

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["tbdump", "tbdap", "tbdebug", "tbpeep", "tblsp"]
SCRIPTS = PACKAGES                                   # one console script per package
VERSION = tbdump.__version__
DIVIDE = (REPO / "examples" / "divide.py").read_text()
# What the build copies from the clone: all of it but what builds, editors and tests leave there.
NOT_SOURCE = shutil.ignore_patterns(".git", "node_modules", "build", "dist", "*.egg-info", "__pycache__",
                                    ".mypy_cache", ".pytest_cache", "artifacts", "*.vsix", "*.pkl")


def _step(args: List[str], cwd: Path, timeout: float = 300) -> None:
    done = subprocess.run(args, cwd=str(cwd), env=_user_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"


def _user_env() -> Dict[str, str]:
    """A user's environment: nothing points into the clone, no tbdump settings of the test runner."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONBREAKPOINT", "PYTHONHOME", "VIRTUAL_ENV")
            and not k.startswith("TBDUMP_")}


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Path]:
    """The folder with the wheel and the venv it is installed in; made once for all test workers."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent   # xdist workers share their parent
    folder = shared / "packaging"
    with locked(shared / "packaging.lock"):
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            # Built from a copy: the build writes build/ and tbdump.egg-info beside its source.
            shutil.copytree(REPO, folder / "source", ignore=NOT_SOURCE)
            _step([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "dist"),
                   str(folder / "source")], folder)
            _step([sys.executable, "-m", "venv", str(folder / "venv")], folder)
            [wheel] = (folder / "dist").glob("*.whl")
            _step([str(folder / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], folder)
            (folder / ".done").touch()
    yield folder


@pytest.fixture(scope="session")
def with_pytest(built: Path) -> Path:
    """The installed venv with pytest added, as the test lock pins it: where a user runs their tests."""
    with locked(built / "pytest.lock"):
        if not (built / ".pytest-done").exists():
            _step([str(built / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "pytest",
                   "-c", str(REPO / "requirements-test.lock")], built)
            (built / ".pytest-done").touch()
    return built


@pytest.fixture
def user(built: Path, tmp_path: Path):
    """Runs a command of the installed venv in an empty folder outside the clone."""
    def run(command: str, *args: str, stdin: str = "") -> "subprocess.CompletedProcess[str]":
        exe = built / "venv" / "bin" / command
        return subprocess.run([str(exe), *args], cwd=str(tmp_path), env=_user_env(), input=stdin,
                              capture_output=True, text=True, timeout=60)
    return run


def test_the_wheel_holds_the_five_packages_typed_and_licensed_and_no_tests(built: Path) -> None:
    [wheel] = (built / "dist").glob("*.whl")
    assert wheel.name == f"tbdump-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"tbdump-{VERSION}.dist-info"
        assert {name.split("/")[0] for name in names} == set(PACKAGES) | {dist_info}
        for package in PACKAGES:
            modules = {f"{package}/{p.name}" for p in (REPO / package).glob("*.py")}
            assert modules <= names, modules - names
            assert f"{package}/py.typed" in names
        assert not [name for name in names if "/tests/" in name or name.startswith("tests/")]
        licence = [name for name in names if name.startswith(dist_info) and name.endswith("/LICENSE")]
        assert licence and archive.read(licence[0]) == (REPO / "LICENSE").read_bytes()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert f"\nVersion: {VERSION}\n" in metadata and "\nLicense-Expression: MIT\n" in metadata
    assert "\nRequires-Dist: dill>=0.3.6\n" in metadata
    assert "[pytest11]\ntbdump = tbdump.pytest_plugin\n" in entry_points   # `pytest --tbdump`


def test_every_console_script_answers_version_and_help(user) -> None:
    for script in SCRIPTS:
        done = user(script, "--version")
        assert (done.returncode, done.stdout, done.stderr) == (0, f"{script} {VERSION}\n", ""), script
        done = user(script, "--help")
        assert done.returncode == 0 and done.stdout.startswith(f"usage: {script} "), (script, done.stdout)
    done = user("tbdebug", "--bogus")      # named as the person typed it
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "tbdebug: error: unrecognized arguments: --bogus"


def test_a_crash_is_dumped_reported_and_debugged_from_the_installed_tools(user, tmp_path: Path) -> None:
    done = user("python", "-c", "import tbdump, tblsp; print(tbdump.__file__, tblsp.__version__)")
    where, version = done.stdout.split()
    assert "site-packages" in where and not where.startswith(str(REPO)) and version == VERSION
    (tmp_path / "divide.py").write_text(DIVIDE)
    done = user("python", "-m", "tbdump", "divide.py", "5", "0")
    assert done.returncode == 1
    assert done.stderr == "ZeroDivisionError: division by zero\nTraceback dumped into: traceback.pkl\n"
    done = user("python", "-m", "tbdump.report", "traceback.pkl")
    assert done.returncode == 0, done.stderr
    assert f'File "{tmp_path / "divide.py"}", line 5, in div' in done.stdout
    assert "x = 5 (int)" in done.stdout and "y = 0 (int)" in done.stdout
    done = user("tbdebug", "traceback.pkl", stdin="p x, y\nq\n")
    assert done.returncode == 0, done.stderr
    assert "(5, 0)" in done.stdout


def test_a_missing_optional_part_is_one_line_naming_it(user, tmp_path: Path) -> None:
    """Installed without extras: tblsp and tbpeep name what is missing, and how to get it by its
    own name (`pip install 'tbdump[...]'` would bring the `tbdump` on PyPI, another project)."""
    done = user("tblsp")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "tblsp: pygls is not installed; install it with: pip install 'pygls>=2,<3'\n"
    (tmp_path / "divide.py").write_text(DIVIDE)
    user("python", "-m", "tbdump", "divide.py", "5", "0")
    done = user("tbpeep", "traceback.pkl")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "tbpeep: peepshow is not installed; install it with: pip install peepshow==0.3.0\n"


def test_pytest_loads_the_plugin_by_its_entry_point(with_pytest: Path, user, tmp_path: Path) -> None:
    """Installing tbdump is all `pytest --tbdump` needs; without the option the run writes nothing."""
    (tmp_path / "divide.py").write_text(DIVIDE)
    (tmp_path / "test_divide.py").write_text("from divide import div\n\n\ndef test_div():\n    assert div(1, 0)\n")
    done = user("pytest", "-p", "no:cacheprovider")
    assert done.returncode == 1 and f"\nplugins: tbdump-{VERSION}\n" in done.stdout   # pytest's header says so
    assert "Traceback dumped" not in done.stdout and not (tmp_path / "tbdumps").exists()
    done = user("pytest", "--tbdump", "-p", "no:cacheprovider")
    assert done.returncode == 1, done.stdout + done.stderr
    [dump] = (tmp_path / "tbdumps").glob("*.tbdump")
    assert dump.name.startswith("test_divide.test_div-")
    assert f"\nTraceback dumped into: tbdumps/{dump.name}\n" in done.stdout
    done = user("tbdebug", str(dump), stdin="p x, y\nq\n")
    assert done.returncode == 0 and "(1, 0)" in done.stdout, done.stderr
