"""`pytest --tbdump` as a user runs it: a real pytest on a small project, its dumps opened with tbdump's
viewers.

The plugin is loaded by module name with entry points off (PYTEST_DISABLE_PLUGIN_AUTOLOAD), so these
tests run the same whether the venv's tbdump was installed with the ``pytest11`` entry point or before
it; the entry point itself is tested on the wheel (tests/packaging/test_wheel.py).
"""
from __future__ import annotations

import hashlib
import os
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import tbdump
from ..conftest import FREEZE_TIME, PYTHON, env_for_child, run, write
from ..dap.dapclient import DapClient

PLUGIN = ["-p", "tbdump.pytest_plugin"]
XDIST = ["-p", "xdist.plugin"]

CASES = """
    import pytest

    def lookup(table, key):
        return find(table, key)

    def find(table, key):
        return table[key]

    def test_passes():
        assert True

    def test_assert_with_locals():
        total = 40 + 1
        assert total == 42

    def test_deep_in_helpers():
        prices = {"apple": 3}
        lookup(prices, "pear")

    @pytest.fixture
    def broken_setup():
        port = 8080
        raise ConnectionError("no server on %d" % port)

    @pytest.fixture
    def broken_teardown():
        yield "resource"
        leftovers = ["a.tmp"]
        raise OSError("cannot remove " + leftovers[0])

    def test_setup_error(broken_setup):
        pass

    def test_teardown_error(broken_teardown):
        pass

    @pytest.mark.xfail(reason="known")
    def test_expected_failure():
        assert False

    @pytest.mark.xfail(strict=True)
    def test_unexpected_pass():
        pass

    def test_skipped():
        pytest.skip("not here")

    def test_explicit_fail():
        reason = "explicit"
        pytest.fail("failed: " + reason)

    def test_chained():
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc
"""
# (test, phase) of each dump CASES gives, in the order the tests run.
DUMPED = [("test_assert_with_locals", "call"), ("test_deep_in_helpers", "call"), ("test_setup_error", "setup"),
          ("test_teardown_error", "teardown"), ("test_explicit_fail", "call"), ("test_chained", "call")]


def name(test: str, when: str = "call", stem: str = "") -> str:
    """The name of the dump of test_cases.py's ``test`` as docs/PYTEST.md says: the node id as junitxml
    writes it (given as ``stem`` where it has other characters), the phase, the node id's hash."""
    return named("test_cases.py::" + test, stem or "test_cases." + test, when)


def named(nodeid: str, stem: str, when: str = "call") -> str:
    digest = hashlib.sha256(nodeid.encode()).hexdigest()[:8]
    return "%s%s-%s.tbdump" % (stem, "" if when == "call" else "-" + when, digest)


def project(folder: Path, tests: str = CASES, ini: str = "") -> Path:
    """A project as a user has one: an ini file (which makes it the rootdir) and a test module."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n" + ini)
    write(folder / "test_cases.py", tests)
    return folder


def pytest_run(cwd: Path, *args: str, plugins: List[str] = PLUGIN, preexec_fn=None,
               extra_env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """pytest in a child process, none of this run's own pytest settings leaking into it."""
    env: Dict[str, str] = {k: v for k, v in env_for_child(extra_env).items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run([PYTHON, "-m", "pytest", *plugins, "-p", "no:cacheprovider", *args], cwd=str(cwd),
                          env=env, capture_output=True, text=True, timeout=120, preexec_fn=preexec_fn)


def section(stdout: str) -> List[str]:
    """The lines of the summary's tbdump section."""
    lines = stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if re.fullmatch(r"-+ tbdump -+", line))
    end = next(n for n in range(start + 1, len(lines)) if lines[n].startswith("="))
    return lines[start + 1:end]


def without_section(stdout: str) -> str:
    """pytest's own output: the tbdump section out, the durations as one."""
    lines = stdout.splitlines()
    kept = [line for line in lines if not re.fullmatch(r"-+ tbdump -+", line) and
            not line.startswith(("Traceback dumped into: ", "tbdump: "))]
    return re.sub(r"=+ (.*) in [0-9.]+s =+", r"\1", "\n".join(kept))


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project after `pytest --tbdump` ran in it; its output in run.out."""
    folder = project(tmp_path_factory.mktemp("cases") / "app")
    done = pytest_run(folder, "--tbdump")
    (folder / "run.out").write_text(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    return folder


def test_each_failing_test_and_fixture_error_is_dumped_and_nothing_else(cases: Path) -> None:
    files = sorted(p.name for p in (cases / "tbdumps").iterdir())
    assert files == sorted([".gitignore"] + [name(test, when) for test, when in DUMPED])
    assert (cases / "tbdumps" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert section((cases / "run.out").read_text()) == \
        ["Traceback dumped into: tbdumps/%s" % name(test, when) for test, when in DUMPED]


def test_a_dump_holds_the_tests_frames_from_the_test_function_in(cases: Path) -> None:
    def load(test: str, when: str = "call") -> tbdump.Dump:
        return tbdump.load(cases / "tbdumps" / name(test, when))

    dump = load("test_assert_with_locals")
    assert [f.name for f in dump.frames] == ["test_assert_with_locals"]
    assert dump.frames[0].locals["total"] == 41
    assert (dump.exception.type, dump.exception.message) == ("AssertionError", "assert 41 == 42")

    dump = load("test_deep_in_helpers")
    assert [f.name for f in dump.frames] == ["test_deep_in_helpers", "lookup", "find"]
    assert dump.frames[-1].locals == {"table": {"apple": 3}, "key": "pear"}
    assert (dump.exception.type, dump.exception.message) == ("KeyError", "'pear'")
    assert len(dump.threads) == 1       # dump_exception's default: the failing test's thread only

    dump = load("test_setup_error", "setup")
    assert [f.name for f in dump.frames] == ["broken_setup"] and dump.frames[0].locals == {"port": 8080}
    assert (dump.exception.type, dump.exception.message) == ("ConnectionError", "no server on 8080")

    dump = load("test_teardown_error", "teardown")
    assert [f.name for f in dump.frames] == ["broken_teardown"]
    assert dump.frames[0].locals == {"leftovers": ["a.tmp"]}

    dump = load("test_explicit_fail")      # opens on the test's line, not in pytest.fail
    assert [f.name for f in dump.frames] == ["test_explicit_fail"]
    assert dump.exception.message == "failed: explicit" and dump.frames[0].locals == {"reason": "explicit"}

    dump = load("test_chained")
    assert [(e.type, e.message) for e in dump.exceptions] == [("RuntimeError", "lookup failed"),
                                                             ("KeyError", "'missing'")]
    assert dump.exception.cause == 1 and [f.name for f in dump.exceptions[1].frames] == ["test_chained"]
    assert dump.traceback_text.startswith("Traceback (most recent call last):\n  File ")
    for test, when in DUMPED:
        frames = load(test, when).frames
        assert not [f.filename for f in frames if "_pytest" in f.filename or "pluggy" in f.filename]


def test_the_run_reports_and_ends_as_without_the_plugin(cases: Path) -> None:
    plain = pytest_run(cases, plugins=[])
    assert plain.returncode == 1
    dumped = (cases / "run.out").read_text()
    assert without_section(dumped) == without_section(plain.stdout)
    assert "5 failed, 2 passed, 1 skipped, 1 xfailed, 2 errors in" in dumped


def test_a_dump_opens_in_vs_codes_adapter_at_the_failing_line(cases: Path) -> None:
    client = DapClient.tbdap()
    try:
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(cases / "tbdumps" / name(*DUMPED[1]))})
        assert stopped["body"]["text"] == "KeyError"
        frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
        assert [(f["name"], f["line"]) for f in frames] == [("find", 7), ("lookup", 4), ("test_deep_in_helpers", 18)]
        assert frames[0]["source"]["path"] == str(cases / "test_cases.py")
        scope = client.ok("scopes", {"frameId": frames[2]["id"]})["scopes"][0]
        shown = {v["name"]: v["value"] for v in client.ok("variables", {"variablesReference":
                                                                         scope["variablesReference"]})["variables"]}
        assert shown["prices"] == "{'apple': 3}"
        answer = client.ok("evaluate", {"expression": "prices['apple'] * 2", "frameId": frames[2]["id"],
                                        "context": "repl"})
        assert answer["result"] == "6"
    finally:
        client.close()   # fails the test on any message the DAP schema rejects


def test_a_fixtures_dump_opens_in_pdb_through_tbdebug(cases: Path) -> None:
    dump = cases / "tbdumps" / name("test_setup_error", "setup")
    done = subprocess.run([PYTHON, "-m", "tbdebug", str(dump)], cwd=str(cases), env=env_for_child(),
                          input="where\np port\nq\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ConnectionError: no server on 8080" in done.stdout
    assert "test_cases.py(23)broken_setup()\n-> raise ConnectionError" in done.stdout
    assert "(Pdb) 8080\n" in done.stdout


def test_the_summary_is_brief_with_q_and_silent_without_dumps(tmp_path: Path) -> None:
    folder = project(tmp_path / "app")
    quiet = pytest_run(folder, "--tbdump", "-q")
    assert "\ntbdump: 6 tracebacks dumped into tbdumps\n" in quiet.stdout
    assert "Traceback dumped into" not in quiet.stdout

    passing = project(tmp_path / "green", "def test_ok():\n    assert True\n")
    done = pytest_run(passing, "--tbdump")
    assert done.returncode == 0 and "tbdump" not in done.stdout + done.stderr
    assert not (passing / "tbdumps").exists()


PARAMETRIZED = """
    import pytest

    @pytest.mark.parametrize("path", ["a/b", "a_b", "[x]", "café", "дом", pytest.param("x" * 300, id="x" * 300),
                                      "../up", "CON"])
    def test_id(path):
        assert not path

    def test_café():
        path = "é"
        assert not path
"""


def test_odd_parametrized_ids_give_distinct_portable_bounded_names(tmp_path: Path) -> None:
    folder = project(tmp_path / "app", PARAMETRIZED)
    done = pytest_run(folder, "--tbdump")
    assert done.returncode == 1 and "9 failed" in done.stdout
    names = [line.split("tbdumps/")[1] for line in section(done.stdout)]
    assert len(set(names)) == 9 and sorted(names) == sorted(p.name for p in (folder / "tbdumps").glob("*.tbdump"))
    for written in names:   # what every file system, shell and artifact store takes; far below 255 bytes
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*-[0-9a-f]{8}\.tbdump", written) and len(written) <= 120
    assert name("test_id[a/b]", stem="test_cases.test_id_a_b") in names
    assert name("test_id[a_b]", stem="test_cases.test_id_a_b") in names
    assert name("test_id[[x]]", stem="test_cases.test_id_x") in names
    assert name("test_id[../up]", stem="test_cases.test_id_._up") in names
    assert name("test_café", stem="test_cases.test_cafe") in names
    assert name("test_id[%s]" % ("x" * 300), stem="x" * 99) in names   # the id's end, 100 characters at most
    values = {tbdump.load(folder / "tbdumps" / n).frames[0].locals["path"] for n in names}
    assert values == {"a/b", "a_b", "[x]", "café", "дом", "x" * 300, "../up", "CON", "é"}


MODULES = """
    import sys

    def pytest_unconfigure(config):
        loaded = [name for name in ("tbdump.pytest_plugin", "tbdump.hooks", "tbdump.capture", "dill")
                  if name in sys.modules]
        with open("modules.txt", "w") as out:
            out.write(" ".join(loaded))
"""


def test_a_tests_mocks_do_not_get_into_the_dumps_making(tmp_path: Path) -> None:
    # A failure inside the test's mocks of the OS, the environment, signals and a clock frozen
    # as freezegun freezes it (every module's reference to time.monotonic and time.time) is
    # dumped with the real ones: a frozen clock never cut the looping repr (a hang).
    project(tmp_path, tests=FREEZE_TIME + textwrap.dedent("""
        import os
        from unittest import mock

        class Hang:
            def __repr__(self):
                while True:
                    pass

        def test_mocked(monkeypatch):
            monkeypatch.setattr(os, "environ", {"HOME": 1})
            hang = Hang()
            with mock.patch("os.getpid", return_value="mocked"), mock.patch("signal.signal"):
                freeze_time()
                raise ValueError("boom")
    """))
    done = pytest_run(tmp_path, "--tbdump", "-q")
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout + done.stderr
    dump = tbdump.load(tmp_path / "tbdumps" / name("test_mocked"))
    assert (dump.exception.type, dump.frames[0].name) == ("ValueError", "test_mocked")
    assert isinstance(dump.metadata.pid, int) and not dump.metadata.time.startswith("2020-01-01")
    assert "not captured" in (dump.frames[0].variables["hang"].missing or ""), dump.frames[0].variables["hang"]


def test_without_the_option_nothing_is_written_nor_imported(tmp_path: Path) -> None:
    folder = project(tmp_path / "app")
    write(folder / "conftest.py", MODULES)
    done = pytest_run(folder)
    assert done.returncode == 1 and "tbdump" not in done.stdout + done.stderr
    assert not (folder / "tbdumps").exists()
    assert (folder / "modules.txt").read_text() == "tbdump.pytest_plugin"   # loaded, and only that

    pytest_run(folder, "--tbdump")     # which the check above would see
    assert (folder / "modules.txt").read_text().startswith("tbdump.pytest_plugin tbdump.capture")

    done = pytest_run(folder, "--help")
    assert done.returncode == 0
    assert re.search(r"^  --tbdump +dump each failing test", done.stdout, re.M)
    assert re.search(r"^  --tbdump-dir=DIR", done.stdout, re.M)
    assert re.search(r"^  tbdump_dir \(string\): +the directory --tbdump writes into", done.stdout, re.M)


def test_a_new_run_removes_the_dumps_of_the_last_one_and_nothing_else(tmp_path: Path) -> None:
    folder = project(tmp_path / "app", "def test_flaky():\n    assert False\n")
    pytest_run(folder, "--tbdump")
    stale = folder / "tbdumps" / name("test_flaky")
    assert stale.exists()
    mine = ["notes.txt", "crash.tbdump", "traceback.pkl", "crash.12345.tbdump", "run-1.tbdump"]
    for other in mine:
        (folder / "tbdumps" / other).write_text("not the plugin's")
    write(folder / "test_cases.py", "def test_flaky():\n    assert True\n")

    assert pytest_run(folder).returncode == 0
    assert stale.exists()                                   # without --tbdump, nothing is touched
    assert pytest_run(folder, "--tbdump").returncode == 0
    assert not stale.exists()
    assert sorted(p.name for p in (folder / "tbdumps").iterdir()) == sorted(mine + [".gitignore"])


def test_the_directory_from_the_ini_file_and_from_the_command_line(tmp_path: Path) -> None:
    folder = project(tmp_path / "app", "def test_red():\n    assert False\n",
                     ini="addopts = --tbdump\ntbdump_dir = build/dumps\n")
    (folder / "sub").mkdir()
    dump = name("test_red")
    done = pytest_run(folder / "sub", "..")              # the ini's: from the rootdir, wherever pytest starts
    assert (folder / "build" / "dumps" / dump).exists()
    assert section(done.stdout) == ["Traceback dumped into: %s" % (folder / "build" / "dumps" / dump)]

    done = pytest_run(folder / "sub", "--tbdump-dir", "here", "..")   # the option's: from the current one
    assert (folder / "sub" / "here" / dump).exists()
    assert section(done.stdout) == ["Traceback dumped into: here/%s" % dump]


def test_the_command_lines_directory_is_read_as_pytest_reads_junitxmls(tmp_path: Path) -> None:
    """`--tbdump-dir=~/dumps` (a shell leaves the ~ after `=`) went into a folder named `~` in
    the current directory while the summary said ~/dumps; a `..` was shown unresolved."""
    folder = project(tmp_path / "app", "def test_red():\n    assert False\n")
    home, dump = tmp_path / "home", name("test_red")
    done = pytest_run(folder, "--tbdump", "--tbdump-dir=~/dumps", extra_env={"HOME": str(home)})
    assert (home / "dumps" / dump).exists() and not (folder / "~").exists()
    assert section(done.stdout) == ["Traceback dumped into: %s" % (home / "dumps" / dump)]
    done = pytest_run(folder, "--tbdump", "--tbdump-dir", "../elsewhere")
    assert section(done.stdout) == ["Traceback dumped into: %s" % (tmp_path / "elsewhere" / dump)]


XDIST_CASES = """
    import os
    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_on_a_worker(n):
        worker = os.environ["PYTEST_XDIST_WORKER"]
        assert n < 0
"""


def test_under_xdist_each_worker_dumps_its_tests_and_the_summary_lists_all(tmp_path: Path) -> None:
    folder = project(tmp_path / "app", XDIST_CASES)
    done = pytest_run(folder, "--tbdump", "-n", "2", plugins=PLUGIN + XDIST)
    assert done.returncode == 1 and "6 failed" in done.stdout, done.stdout + done.stderr
    expected = {name("test_on_a_worker[%d]" % n, stem="test_cases.test_on_a_worker_%d" % n) for n in range(6)}
    assert {line.split("tbdumps/")[1] for line in section(done.stdout)} == expected
    assert len(section(done.stdout)) == 6
    dumps = [tbdump.load(folder / "tbdumps" / n) for n in expected]
    assert {d.frames[0].locals["worker"] for d in dumps} == {"gw0", "gw1"}
    assert len({d.metadata.pid for d in dumps}) == 2


# pytest-timeout's signal method, as a conftest: an alarm for each test, whose handler fails it.
TIMEOUT_CONFTEST = """
    import signal, pytest
    def on_timeout(signum, frame):
        pytest.fail("Timeout >1s")
    @pytest.fixture(autouse=True)
    def timeout():
        old = signal.signal(signal.SIGALRM, on_timeout)
        signal.setitimer(signal.ITIMER_REAL, 1)
        yield
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
"""

TIMED_CASES = """
    import time
    class Slow:
        def __repr__(self):
            time.sleep(0.6)
            return "Slow()"
    def test_fails_with_slow_values():
        a, b = Slow(), Slow()   # its dump outlasts the test's time
        assert False
    def test_hangs():
        time.sleep(30)
    def test_passes():
        pass
"""


def test_a_tests_timeout_alarm_while_the_plugin_dumps_fails_no_run_and_the_next_test_still_times_out(
        tmp_path: Path) -> None:
    # Worked before (capture kept the test's timer as it was); guards the program's handlers being
    # run once the dump is written: this one would fail, inside pytest's hook, a test that failed already.
    folder = project(tmp_path / "app", TIMED_CASES)
    write(folder / "conftest.py", TIMEOUT_CONFTEST)
    done = pytest_run(folder, "--tbdump", "-q")
    assert done.returncode == 1 and "INTERNALERROR" not in done.stdout, done.stdout + done.stderr
    assert "FAILED test_cases.py::test_fails_with_slow_values - assert False" in done.stdout
    assert "FAILED test_cases.py::test_hangs - Failed: Timeout >1s" in done.stdout
    assert "2 failed, 1 passed" in done.stdout
    slow = tbdump.load(folder / "tbdumps" / name("test_fails_with_slow_values"))
    assert slow.frames[0].variables["a"].repr == "Slow()"
    assert tbdump.load(folder / "tbdumps" / name("test_hangs")).exception.message == "Timeout >1s"


def _small_files() -> None:
    """The disk that is full: no file grows past 100 bytes (the .gitignore fits)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))


def test_dumps_that_cannot_be_written_are_one_line_and_change_nothing(tmp_path: Path) -> None:
    """Each dump was a line of its own, the same reason each time: a read-only rootdir, or a
    --tbdump-dir that is a file, gave as many lines as failed tests."""
    folder = project(tmp_path / "app", "def test_one():\n    assert False\n\ndef test_two():\n    assert False\n")
    plain = pytest_run(folder, plugins=[])
    (folder / "blocker").write_text("a file where the directory would be")

    blocked = pytest_run(folder, "--tbdump", "--tbdump-dir", "blocker")
    full = pytest_run(folder, "--tbdump", preexec_fn=_small_files)
    for done, where, why in ((blocked, "blocker", "not a directory"), (full, "tbdumps", "file too large")):
        assert done.returncode == plain.returncode == 1 and done.stderr == ""
        assert "INTERNALERROR" not in done.stdout and "Traceback dumped into" not in done.stdout
        assert section(done.stdout) == ["tbdump: cannot write 2 dumps into %s: %s" % (where, why)]
        assert without_section(done.stdout) == without_section(plain.stdout)
    assert not list((folder / "tbdumps").glob("*.tbdump*"))
    one = pytest_run(folder, "--tbdump", "--tbdump-dir", "blocker", "-k", "test_one")
    assert section(one.stdout) == ["tbdump: cannot write blocker/%s: not a directory" % name("test_one")]


FIXTURES = """
    import pytest

    @pytest.mark.parametrize("n", range(300))
    def test_many(n, request, pytestconfig, tmp_path):
        assert n != 299
"""


def test_pytests_objects_of_the_whole_run_are_previews_not_pickles(tmp_path: Path) -> None:
    """`request`, `pytestconfig` and the module's `__loader__` reach the session with every
    collected test: pickled, they made the dump grow with the suite."""
    folder = project(tmp_path / "app", FIXTURES)
    done = pytest_run(folder, "--tbdump")
    assert "1 failed, 299 passed" in done.stdout
    dump_file = folder / "tbdumps" / name("test_many[299]", stem="test_cases.test_many_299")
    assert dump_file.stat().st_size < 50_000
    test = tbdump.load(dump_file).frames[0]
    assert test.locals["request"].node.name == "test_many[299]"     # the test's own objects load
    config = test.locals["pytestconfig"]
    assert isinstance(config, tbdump.Placeholder) and "pytest's own" in config.reason
    assert test.variables["pytestconfig"].repr.startswith("<_pytest.config.Config object at ")
    assert isinstance(test.globals["__loader__"], tbdump.Placeholder)


def test_no_tbdump_turns_off_the_inis_tbdump_and_no_plugin_is_one_usage_error(tmp_path: Path) -> None:
    """As pytest-cov's --no-cov turns off the --cov of addopts: a run to debug by hand, say."""
    folder = project(tmp_path / "app", "def test_red():\n    assert False\n", ini="addopts = --tbdump\n")
    pytest_run(folder)
    earlier = folder / "tbdumps" / name("test_red")
    assert earlier.exists()
    write(folder / "conftest.py", MODULES)

    done = pytest_run(folder, "--no-tbdump")
    assert done.returncode == 1 and done.stderr == "" and "Traceback dumped" not in done.stdout, done.stdout
    assert "1 failed" in done.stdout and earlier.exists()    # nothing written, nothing removed
    assert (folder / "modules.txt").read_text() == "tbdump.pytest_plugin"

    # Worked before: without the plugin, pytest's own usage error names the option and the ini file.
    done = pytest_run(folder, plugins=["-p", "no:tbdump"])
    assert done.returncode == 4 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith("ERROR: usage: ")
    assert "error: unrecognized arguments: --tbdump\n  inifile: %s" % (folder / "pytest.ini") in done.stderr


COLLECTION_ERRORS = {
    "test_imports.py": "import settings\n\ndef test_never():\n    pass\n",
    "settings.py": "import os\nMODE = 'strict'\nfrom missing_package import driver\n",
    "test_undefined.py": "LIMIT = 3\nVALUES = [n * LIMIT for n in range(LIMIT)]\nTOTAL = undefined + sum(VALUES)\n",
    "test_syntax.py": "def test_x(:\n    pass\n",
    "sub/conftest.py": "SETTING = 'x'\nraise RuntimeError('bad conftest ' + SETTING)\n",
    "sub/test_in_sub.py": "def test_in_sub():\n    pass\n",
}
COLLECTION_DUMPS = {"test_imports.py": named("test_imports.py", "test_imports", "collect"),
                    "test_undefined.py": named("test_undefined.py", "test_undefined", "collect"),
                    "test_syntax.py": named("test_syntax.py", "test_syntax", "collect"),
                    "sub/conftest.py": named("sub/conftest.py", "sub.conftest", "collect")}


@pytest.mark.parametrize("options", [[], ["-n", "2"], ["--doctest-modules"]], ids=["plain", "xdist", "doctest"])
def test_a_module_or_conftest_that_cannot_be_imported_is_dumped_at_its_top_level(
        tmp_path: Path, options: List[str]) -> None:
    """A CI run that fails collecting: the dump of the import's crash, its module's frames and
    globals, named by the module's node id and `-collect`; listed once, though every xdist worker
    collects the module and --doctest-modules collects it twice."""
    folder = project(tmp_path / "app", "def test_ok():\n    pass\n")
    (folder / "sub").mkdir()
    for path, source in COLLECTION_ERRORS.items():
        (folder / path).write_text(source)
    done = pytest_run(folder, "--tbdump", *options, plugins=PLUGIN + XDIST)
    plain = pytest_run(folder, *options, plugins=XDIST)
    assert done.returncode == plain.returncode != 0 and "errors" in done.stdout, done.stdout + done.stderr
    # pytest's own output, in the order xdist's workers happened to report
    assert sorted(without_section(done.stdout).splitlines()) == sorted(without_section(plain.stdout).splitlines())
    dumps = dict(COLLECTION_DUMPS)
    if "--doctest-modules" in options:   # which imports settings.py too, to find its doctests
        dumps["settings.py"] = named("settings.py", "settings", "collect")
    assert sorted(section(done.stdout)) == sorted("Traceback dumped into: tbdumps/" + n for n in dumps.values())

    def load(path: str) -> tbdump.Dump:
        return tbdump.load(folder / "tbdumps" / dumps[path])

    dump = load("test_imports.py")      # pytest reports it as its own CollectError
    assert (dump.exception.type, dump.exception.message) == ("ModuleNotFoundError", "No module named 'missing_package'")
    assert [(Path(f.filename).name, f.name) for f in dump.frames] == [("test_imports.py", "<module>"),
                                                                      ("settings.py", "<module>")]
    assert dump.frames[1].globals["MODE"] == "strict"
    dump = load("test_undefined.py")
    assert [f.name for f in dump.frames] == ["<module>"] and dump.exception.type == "NameError"
    assert dump.frames[0].globals["VALUES"] == [0, 3, 6]
    dump = load("sub/conftest.py")      # pytest reports it as the directory's ConftestImportFailure
    assert (dump.exception.type, dump.exception.message) == ("RuntimeError", "bad conftest x")
    assert [f.name for f in dump.frames] == ["<module>"] and dump.frames[0].globals["SETTING"] == "x"
    assert load("test_syntax.py").exception.type == "SyntaxError"
    for path in dumps:
        assert not [f.filename for f in load(path).frames if "_pytest" in f.filename or "importlib" in f.filename]


def test_a_conftest_that_stops_pytest_before_the_run_is_dumped(tmp_path: Path) -> None:
    """The rootdir's conftest.py is imported before the run: one that raises ends pytest with
    its usage error, before any node collects it.  Its dump is said above that error; the
    dumps of the last run are gone, as at the start of any run."""
    folder = project(tmp_path / "app", "def test_red():\n    assert False\n")
    pytest_run(folder, "--tbdump")
    write(folder / "conftest.py", "MODE = 'ci'\nimport missing_plugin\n")
    done = pytest_run(folder, "--tbdump")
    plain = pytest_run(folder, plugins=[])
    dump = named("conftest.py", "conftest", "collect")
    assert done.returncode == plain.returncode == 4 and done.stdout == plain.stdout == ""
    assert done.stderr == "Traceback dumped into: tbdumps/%s\n" % dump + plain.stderr
    assert sorted(p.name for p in (folder / "tbdumps").iterdir()) == [".gitignore", dump]
    conftest = tbdump.load(folder / "tbdumps" / dump)
    assert (conftest.exception.type, conftest.exception.message) == ("ModuleNotFoundError",
                                                                     "No module named 'missing_plugin'")
    assert [f.name for f in conftest.frames] == ["<module>"] and conftest.frames[0].globals["MODE"] == "ci"


SUBTESTS_AND_DOCTESTS = """
    import unittest

    class TestCase(unittest.TestCase):
        def test_each(self):
            for n in range(2):
                with self.subTest(n=n):
                    self.assertEqual(n, 7)

    def test_subtests(subtests):
        for n in range(2):
            with subtests.test(msg="item", n=n):
                assert n == 9

    def half(n):
        '''
        >>> half(None)
        0
        '''
        return n // 2
"""


def test_each_failing_subtest_and_a_doctests_exception_is_a_dump_of_its_own(tmp_path: Path) -> None:
    """Each subtest's failure was dumped into its test's one name, the last overwriting the
    others; a doctest example's exception was dumped as doctest's UnexpectedException, from
    doctest's frames, not the example's crash --pdb opens on."""
    if not hasattr(pytest, "Subtests"):
        pytest.skip("subtests are pytest 9's")
    folder = project(tmp_path / "app", SUBTESTS_AND_DOCTESTS)
    done = pytest_run(folder, "--tbdump", "--doctest-modules")
    assert done.returncode == 1 and "6 failed, 1 passed" in done.stdout, done.stdout
    dumps = {"test_cases.py::TestCase::test_each (n=%d)" % n: "test_cases.TestCase.test_each_n_%d" % n
             for n in range(2)}
    dumps.update({"test_cases.py::test_subtests [item] (n=%d)" % n: "test_cases.test_subtests_item_n_%d" % n
                  for n in range(2)})
    dumps["test_cases.py::test_cases.half"] = "test_cases.test_cases.half"
    files = {nodeid: named(nodeid, stem) for nodeid, stem in dumps.items()}
    assert sorted(section(done.stdout)) == sorted("Traceback dumped into: tbdumps/" + f for f in files.values())
    for n in range(2):
        each = tbdump.load(folder / "tbdumps" / files["test_cases.py::TestCase::test_each (n=%d)" % n])
        assert each.exception.message == "%d != 7" % n and each.frames[0].locals["n"] == n
        sub = tbdump.load(folder / "tbdumps" / files["test_cases.py::test_subtests [item] (n=%d)" % n])
        assert sub.exception.message == "assert %d == 9" % n and sub.frames[0].locals["n"] == n
    doctest = tbdump.load(folder / "tbdumps" / files["test_cases.py::test_cases.half"])
    assert doctest.exception.type == "TypeError" and doctest.frames[-1].name == "half"
    assert doctest.frames[-1].locals == {"n": None}
    # Worked before: test_subtests's own failure ('contains 2 failed subtests') raised nothing and
    # is not dumped; the summary counts the dumps, not the failed tests, and says nothing is missing.
    quiet = pytest_run(folder, "--tbdump", "--doctest-modules", "-q")
    assert "FAILED test_cases.py::test_subtests - contains 2 failed subtests" in quiet.stdout
    assert "\ntbdump: 5 tracebacks dumped into tbdumps\n" in quiet.stdout and "cannot" not in quiet.stdout


DOCTESTS = """
    def half(n):
        '''
        >>> half(4)
        3
        '''
        return n // 2

    def third(n):
        '''
        >>> x = 9
        >>> third(x)
        4
        >>> third(None)
        0
        '''
        return n // 3
"""


def test_a_doctest_whose_output_differs_is_dumped_naming_the_example_expected_and_got(tmp_path: Path) -> None:
    """doctest's DocTestFailure says only the docstring's name, and its frames are doctest's: the
    dump said nothing of which example failed, nor how.  Each failed example is now a note, as
    doctest reports it; under --doctest-continue-on-failure, pytest's MultipleDoctestFailures (raised
    by pytest, none of the test's frames) opens where it was raised, not at pluggy's outermost frame."""
    folder = project(tmp_path / "app", DOCTESTS)
    source = str(folder / "test_cases.py")
    half = 'File "%s", line 3, in test_cases.half\nFailed example:\n    half(4)\nExpected:\n    3\nGot:\n    2' % source
    third = 'File "%s", line 11, in test_cases.third\nFailed example:\n    third(x)\nExpected:\n    4\nGot:\n    3' % source
    unexpected = ('File "%s", line 13, in test_cases.third\nFailed example:\n    third(None)\nException raised:\n'
                  "    TypeError: unsupported operand type(s) for //: 'NoneType' and 'int'" % source)

    done = pytest_run(folder, "--tbdump", "--doctest-modules", "-q")
    assert done.returncode == 1 and "2 failed" in done.stdout, done.stdout + done.stderr
    dump = tbdump.load(folder / "tbdumps" / named("test_cases.py::test_cases.half", "test_cases.test_cases.half"))
    assert (dump.exception.type, dump.exception.notes) == ("doctest.DocTestFailure", [half])
    assert dump.frames[-1].locals["got"] == "2\n" and dump.frames[-1].locals["example"].source == "half(4)\n"
    report = run([PYTHON, "-m", "tbdump.report", str(folder / "tbdumps" / named("test_cases.py::test_cases.third",
                                                                                   "test_cases.test_cases.third"))],
                 folder)
    assert report.returncode == 0
    assert third in report.stdout, report.stdout   # shown before 3.11 too (test_traceback_text.py)

    done = pytest_run(folder, "--tbdump", "--doctest-modules", "--doctest-continue-on-failure", "-q")
    assert done.returncode == 1 and "2 failed" in done.stdout, done.stdout + done.stderr
    dump = tbdump.load(folder / "tbdumps" / named("test_cases.py::test_cases.third", "test_cases.test_cases.third"))
    assert (dump.exception.type, dump.exception.notes) == ("_pytest.doctest.MultipleDoctestFailures", [third, unexpected])
    assert [f.name for f in dump.frames] == ["runtest"] and len(dump.frames[0].locals["failures"]) == 2


TEST_CASES = """
    import unittest

    class TestValues(unittest.TestCase):
        def test_equal(self):
            value = 3
            self.assertEqual(value, 4)

    class TestSetUp(unittest.TestCase):
        def setUp(self):
            host = "db"
            raise ConnectionError("no " + host)

        def test_a(self):
            pass

    class TestTearDown(unittest.TestCase):
        def tearDown(self):
            path = "a.tmp"
            raise OSError("cannot remove " + path)

        def test_b(self):
            pass
"""


EXPECTED_FAILURES = """
    import unittest

    class TestKnown(unittest.TestCase):
        @unittest.expectedFailure
        def test_fixed_now(self):
            value = 2 + 2
            self.assertEqual(value, 4)

        @unittest.expectedFailure
        def test_still_broken(self):
            self.assertEqual(2 + 2, 5)

        def test_broken(self):
            value = 2 + 2
            self.assertEqual(value, 5)
"""


def test_a_unittest_expected_failure_that_passes_fails_the_run_but_is_not_dumped(tmp_path: Path) -> None:
    """pytest fails it ("Unexpected success") with pytest.fail() in its own addUnexpectedSuccess,
    after the test returned: the dump held that one frame of pytest's, none of the test.  As for a
    strict xpass, nothing is dumped: the test raised nothing.  The failing test beside it still is."""
    folder = project(tmp_path / "app", EXPECTED_FAILURES)
    done = pytest_run(folder, "--tbdump", "-q")
    assert done.returncode == 1 and "2 failed, 1 xfailed" in done.stdout, done.stdout + done.stderr
    assert "FAILED test_cases.py::TestKnown::test_fixed_now - Failed: Unexpected success" in done.stdout
    assert "tbdump: 1 traceback dumped into tbdumps" in done.stdout, done.stdout
    dumps = sorted(p.name for p in (folder / "tbdumps").glob("*.tbdump"))
    assert dumps == [name("TestKnown::test_broken", stem="test_cases.TestKnown.test_broken")]


def test_a_unittest_testcases_failure_opens_on_its_own_line_not_in_unittests_frames(tmp_path: Path) -> None:
    """An assertEqual's dump opened in unittest's _baseAssertEqual, a setUp's or tearDown's in
    unittest's run and testPartExecutor: frames pytest's report of a TestCase leaves out."""
    folder = project(tmp_path / "app", TEST_CASES)
    done = pytest_run(folder, "--tbdump", "-q")
    assert done.returncode == 1 and "3 failed" in done.stdout, done.stdout + done.stderr

    def load(test: str) -> tbdump.Dump:
        return tbdump.load(folder / "tbdumps" / name(test, stem="test_cases." + test.replace("::", ".")))

    dump = load("TestValues::test_equal")
    assert [f.name for f in dump.frames] == ["test_equal"] and dump.frames[0].locals["value"] == 3
    assert (dump.exception.type, dump.exception.message) == ("AssertionError", "3 != 4")
    dump = load("TestSetUp::test_a")
    assert [f.name for f in dump.frames] == ["setUp"] and dump.frames[0].locals["host"] == "db"
    dump = load("TestTearDown::test_b")
    assert [f.name for f in dump.frames] == ["tearDown"] and dump.frames[0].locals["path"] == "a.tmp"
