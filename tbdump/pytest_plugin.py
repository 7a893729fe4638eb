"""The pytest plugin: ``pytest --tbdump`` dumps each failing test's exception into a file of its own.

Registered through the ``pytest11`` entry point, so it is loaded into every pytest run where
tbdump is installed: until ``--tbdump`` is given (and not taken back by ``--no-tbdump``) it
only adds its options, and imports nothing of tbdump's capture (nor dill).  With it, the
failures ``--pdb`` would stop at are dumped into the dump directory: a test (or subtest) whose
setup, call or teardown raises, frames from the test function (or the fixture) inwards, as
pytest's report shows them; a module or conftest that cannot be imported, from its top level.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import textwrap
import unicodedata
from pathlib import Path
from types import TracebackType
from typing import Any, Dict, Generator, Iterable, Iterator, List, Optional, Tuple, Union

import pytest

DEFAULT_DIR = "tbdumps"
SUFFIX = ".tbdump"          # a name tblsp and the VS Code extension find (DUMP_PATTERNS, DUMP_GLOB)
MAX_STEM = 100              # characters of the node id a name keeps: names stay far below 255 bytes
# The names this plugin gives, and the only files of the directory it removes.
OWN_NAME = re.compile(r"-[0-9a-f]{8}" + re.escape(SUFFIX) + r"\Z")
WORKER_KEY = "tbdump"       # what an xdist worker hands its controller in workeroutput

# (the dump's path; None when it was written, else why it could not be)
Outcome = Tuple[str, Optional[str]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tbdump", "post-mortem dumps of failing tests (tbdump)")
    group.addoption("--tbdump", action="store_true", default=False,
                    help="dump each failing test (its frames, locals and exception chain) into a "
                         "file of the dump directory, to open later with tbdap, tbdebug, tbpeep or "
                         "tbdump.load; the dumps of an earlier run there are removed first")
    group.addoption("--no-tbdump", action="store_true", default=False,
                    help="turn off --tbdump, as where the ini file's addopts gives it: nothing is "
                         "dumped, nor removed")
    group.addoption("--tbdump-dir", metavar="DIR", default=None,
                    help="the dump directory, relative to the current directory (default: the "
                         "tbdump_dir ini value)")
    parser.addini("tbdump_dir", default=DEFAULT_DIR,
                  help="the directory --tbdump writes into, relative to the rootdir (default: %s)"
                       % DEFAULT_DIR)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("tbdump") and not config.getoption("no_tbdump"):
        config.pluginmanager.register(Dumping(config, dump_directory(config, config.getoption("tbdump_dir"))),
                                      "tbdump-dumping")


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, Any, None]:
    """Dumps a conftest.py that pytest loads before the run (the rootdir's, those of the paths
    given) and cannot import: pytest then stops with a usage error, before the plugin at work
    is registered or any node collects anything."""
    outcome = yield
    from _pytest.config import ConftestImportFailure
    failure = outcome.excinfo[1] if outcome.excinfo is not None else None
    options = early_config.known_args_namespace
    if (isinstance(failure, ConftestImportFailure) and getattr(options, "tbdump", False)
            and not options.no_tbdump and not options.help):
        directory = dump_directory(early_config, options.tbdump_dir)
        remove_old_dumps(directory)
        path = str(directory / dump_name(conftest_id(early_config, failure), "collect"))
        why = dump_test_exception(failure.cause, own_traceback(None, failure.cause.__traceback__), path,
                                  (type(early_config),))
        shown_path = shown(path, early_config.invocation_params.dir)
        from .writer import dumped_line, not_written_line   # imported by the dump already
        sys.stderr.write((not_written_line(shown_path, why) if why else dumped_line(shown_path)) + "\n")


def dump_directory(config: pytest.Config, given: Optional[str]) -> Path:
    """``--tbdump-dir`` (``given``) from the directory pytest was started in, as ``--junitxml``;
    else the ini value from the rootdir, as ``cache_dir``."""
    if given:   # the shell leaves the ~ of --tbdump-dir=~/dumps, which pytest expands in --junitxml=~/...
        return _path_from(config.invocation_params.dir, given)
    return _path_from(config.rootpath, str(config.getini("tbdump_dir")))


def _path_from(start: Path, given: str) -> Path:
    """``given`` as pytest reads a path setting: ``~`` and ``$VARS`` expanded, from ``start``,
    ``..`` resolved (the summary names it as a person would type it)."""
    return Path(os.path.normpath(os.path.join(start, os.path.expanduser(os.path.expandvars(given)))))


def dump_name(nodeid: str, when: str) -> str:
    """A file name for the dump of ``nodeid``'s ``when`` phase: readable, portable and unique.

    ``tests/test_calc.py::TestDiv::test_zero[1-0]`` is ``tests.test_calc.TestDiv.test_zero_1-0``
    (as junitxml names it, its parameters after ``_``), then ``-setup``/``-teardown`` for those
    phases, then 8 hex digits of the node id's hash: every other character is left out (names go
    to any file system, shell and CI artifact store), so the hash keeps ``[a/b]`` and ``[a_b]``
    apart.  A long id keeps its end, the test's name.
    """
    digest = hashlib.sha256(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    path, inside, names = nodeid.partition("::")
    text = re.sub(r"\.py\Z", "", path).replace("/", ".") + ("." + names.replace("::", ".") if inside else "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
    stem = re.sub(r"\.{2,}", ".", text)[-MAX_STEM:].strip("._-") or "test"
    phase = "" if when == "call" else "-" + when
    return "%s%s-%s%s" % (stem, phase, digest, SUFFIX)


class Dumping:
    """The plugin at work, registered only under ``--tbdump``: dumps the failures, then lists them."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.outcomes: List[Outcome] = []
        self.worker = hasattr(config, "workerinput")

    @pytest.hookimpl(tryfirst=True)   # before xdist starts its workers, which dump into it
    def pytest_sessionstart(self) -> None:
        # Capture binds the process's environment, clocks and OS calls as it is imported
        # (tbdump.unpatched): imported at the first failure, inside the test's mocks, it took
        # them for the real ones (a monkeypatched os.environ stopped the import itself).
        from . import writer  # noqa: F401
        if not self.worker:
            remove_old_dumps(self.directory)

    # tryfirst: dumped before --pdb's debugger, whose `q` ends the run.
    @pytest.hookimpl(tryfirst=True)
    def pytest_exception_interact(self, node: Union[pytest.Item, pytest.Collector],
                                  call: pytest.CallInfo[Any], report: Any) -> None:
        # Called where --pdb stops: an exception that fails a test or a subtest (not a skip, not
        # an xfail), or the collection of a module or directory (a module or conftest that
        # cannot be imported).
        if call.excinfo is None or unexpected_success(call.excinfo.value):
            return
        exc = underlying(call.excinfo.value)
        path = str(self.directory / dump_name(dumped_id(node, call.excinfo.value, report), call.when))
        own = own_traceback(node, exc.__traceback__)
        with noted(exc, doctest_notes(exc)):
            why = dump_test_exception(exc, own, path, (type(node.config), type(node.session)))
        self.outcomes.append((path, why))

    def pytest_sessionfinish(self) -> None:
        output = getattr(self.config, "workeroutput", None)
        if output is not None:  # an xdist worker: its controller lists this worker's dumps
            output[WORKER_KEY] = self.outcomes

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        self.outcomes += [(path, why) for path, why in getattr(node, "workeroutput", {}).get(WORKER_KEY, ())]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        # Each dump once, as it was last written: every xdist worker collects, and dumps, the
        # same module that cannot be imported; --doctest-modules collects it twice.
        outcomes = dict(self.outcomes)
        if not outcomes:
            return
        from .writer import dumped_line, not_written_line
        start = self.config.invocation_params.dir
        # A directory that cannot be written (a read-only rootdir) fails every dump alike: one line.
        alike: Dict[Tuple[str, str], List[str]] = {}
        for path, why in outcomes.items():
            if why:
                alike.setdefault((os.path.dirname(path), why), []).append(path)
        failed = [not_written_line(shown(paths[0], start) if len(paths) == 1 else
                                   "%d dumps into %s" % (len(paths), shown(folder, start)), why)
                  for (folder, why), paths in alike.items()]
        written = [shown(path, start) for path, why in outcomes.items() if why is None]
        if self.config.getoption("verbose") < 0:
            lines = ["tbdump: %d traceback%s dumped into %s" % (len(written), "" if len(written) == 1 else "s",
                                                               shown(str(self.directory), start))] if written else []
        else:
            terminalreporter.write_sep("-", "tbdump")
            lines = [dumped_line(path) for path in written]
        for line in lines + failed:
            terminalreporter.write_line(line)


def underlying(exc: BaseException) -> BaseException:
    """The exception ``--pdb`` opens on: a test module's ImportError or SyntaxError, not the
    error pytest reports it as; a conftest's own exception; a doctest example's."""
    from _pytest.config import ConftestImportFailure
    if isinstance(exc, ConftestImportFailure):
        return exc.cause
    if isinstance(exc, pytest.Collector.CollectError) and exc.__cause__ is not None:
        return exc.__cause__
    doctest = sys.modules.get("doctest")
    if doctest is not None and isinstance(exc, doctest.UnexpectedException):
        return exc.exc_info[1]    # its traceback, __traceback__, is the example's
    return exc


def unexpected_success(exc: BaseException) -> bool:
    """Whether ``exc`` is how pytest fails a unittest test that passed under ``@expectedFailure``:
    ``pytest.fail("Unexpected success")`` in its own addUnexpectedSuccess, once the test has
    returned (older pytest reported it with no exception at all).  Not dumped, as a strict xpass
    is not: the test raised nothing, its frames are gone, and the dump would hold pytest's one
    frame."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "addUnexpectedSuccess" and frame.f_globals.get("__name__") == "_pytest.unittest":
            return True
        tb = tb.tb_next
    return False


def doctest_notes(exc: BaseException) -> List[str]:
    """What a doctest's failed examples were, as doctest reports them, for a failure whose
    exception says none of it: an example whose output differs (DocTestFailure's str() is the
    docstring's name, its frames are doctest's), or each example that failed under
    ``--doctest-continue-on-failure`` (pytest's MultipleDoctestFailures, raised by pytest)."""
    import traceback
    # Not imported here: a run without doctests has no such failure, and an import now would
    # run inside the failed test's mocks.
    doctest = sys.modules.get("doctest")
    if doctest is None:
        return []
    several = getattr(sys.modules.get("_pytest.doctest"), "MultipleDoctestFailures", ())
    notes = []
    for failure in exc.failures if isinstance(exc, several) else [exc]:
        if isinstance(failure, doctest.DocTestFailure):
            said = doctest.OutputChecker().output_difference(failure.example, failure.got, 0)
        elif isinstance(failure, doctest.UnexpectedException):
            said = "Exception raised:\n" + textwrap.indent(
                "".join(traceback.format_exception_only(*failure.exc_info[:2])), "    ")
        else:
            continue
        test, example = failure.test, failure.example
        line = "?" if test.lineno is None or example.lineno is None else test.lineno + example.lineno + 1
        notes.append('File "%s", line %s, in %s\nFailed example:\n%s%s' % (
            test.filename, line, test.name, textwrap.indent(example.source, "    "), said.rstrip("\n")))
    return notes


@contextlib.contextmanager
def noted(exc: BaseException, notes: List[str]) -> Iterator[None]:
    """``exc`` with ``notes`` after its own while it is dumped; as it was after, for pytest's
    report and the other plugins."""
    if not notes:
        yield
        return
    missing = object()
    own = getattr(exc, "__notes__", missing)
    exc.__notes__ = (list(own) if isinstance(own, list) else []) + notes  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if own is missing:
            del exc.__notes__  # type: ignore[attr-defined]
        else:
            exc.__notes__ = own  # type: ignore[attr-defined]


def dumped_id(node: Union[pytest.Item, pytest.Collector], exc: BaseException, report: Any) -> str:
    """The node id a dump is named by: the test's, with a subtest's message and parameters as
    pytest shows them (``[msg] (i=1)``: each subtest's failure a dump of its own); for a
    conftest that cannot be imported, its path, as a test module's node id is its path."""
    from _pytest.config import ConftestImportFailure
    if isinstance(exc, ConftestImportFailure):
        return conftest_id(node.config, exc)
    context = getattr(report, "context", None)   # a subtest's (pytest 9's and pytest-subtests')
    if context is not None:
        msg, params = getattr(context, "msg", None), dict(getattr(context, "kwargs", None) or {})
        described = ["[%s]" % msg] if msg is not None else []
        described += ["(%s)" % ", ".join("%s=%s" % pair for pair in params.items())] if params else []
        return "%s %s" % (node.nodeid, " ".join(described) or "(<subtest>)")
    return node.nodeid


def conftest_id(config: pytest.Config, failure: Any) -> str:
    """A conftest's path, as a test module's node id is its: from the rootdir, with ``/``."""
    conftest = Path(failure.path)
    inside = config.rootpath in conftest.parents
    return conftest.relative_to(config.rootpath).as_posix() if inside else conftest.as_posix()


def shown(path: str, start: Path) -> str:
    """``path`` as the person who started pytest types it: relative below their directory."""
    try:
        relative = os.path.relpath(path, start)
    except ValueError:  # on another drive
        return path
    return path if relative.startswith(os.pardir) else relative


def remove_old_dumps(directory: Path) -> None:
    """The dumps an earlier run left in ``directory``, only those: a file named as this plugin
    names them.  A dump of a test that passes now would say it still fails."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return  # none yet; or not readable, which writing the first dump will say
    for entry in entries:
        if OWN_NAME.search(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def dump_test_exception(exc: BaseException, own: Optional[TracebackType], path: str,
                        run_kinds: Iterable[type]) -> Optional[str]:
    """Dump ``exc``, with the frames of ``own`` (the test's, or the collected module's), into
    ``path``, the objects of ``run_kinds`` and pytest's others of the whole run left out; None
    when it is written, else why not.  Never raises but Ctrl-C (or a signal handler's
    SystemExit), and leaves the exception as it found it: pytest, --pdb and the other plugins
    still read it."""
    from .chain import set_slot
    from .dumpdir import make_directory_of
    from .saferepr import describe_exception
    from .writer import DumpWriteError, SignalsArrived, write_dump
    original = exc.__traceback__
    arrived: List[int] = []
    try:
        make_directory_of(path, "tbdump's pytest plugin: dumps of failing tests")
        # The dump starts where the traceback enters the test; pytest's and pluggy's frames
        # above it, and above the handler, are the runner's, not the test's.
        set_slot(exc, "__traceback__", own)
        with run_objects_left_out(run_kinds):
            write_dump(exc, path, above_handler=False, other_threads=False)
        return None
    except SignalsArrived as held:
        arrived = held.signals
        return None
    except DumpWriteError as err:
        return err.reason
    except Exception as err:  # capture falls back to a smaller dump: only writing fails
        return describe_exception(err)
    finally:
        set_slot(exc, "__traceback__", original)
        _deliver_to_pytest(arrived)


def _deliver_to_pytest(signals: List[int]) -> None:
    """The signals held while a failure was dumped, delivered now: a Ctrl-C stops the run as
    pytest stops it.  What another handler raises here is dropped: the test's own timer
    (pytest-timeout's signal method) that ran out during its dump would fail a test that has
    failed already, from inside pytest's hook, which ends the run with an internal error."""
    from .heldsignals import deliver
    try:
        deliver(signals)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        pass


def own_traceback(node: Union[pytest.Item, pytest.Collector, None],
                  tb: Optional[TracebackType]) -> Optional[TracebackType]:
    """The part of ``tb`` that is the test's, as pytest's report shows it: from the test function
    (past a decorator's wrapper too), else from the first frame that is neither pytest's nor
    pluggy's nor unittest's (a fixture's, in its setup or teardown; a TestCase's ``setUp``; a
    module's top level, past importlib's frames too, where ``node`` is a collector or None); to
    the last such frame, so that a dump of ``pytest.fail()``, ``pytest.raises`` or
    ``self.assertEqual`` opens on the test's line, as pytest's report shows it."""
    import _pytest
    import pluggy

    from .importframes import IMPORT_MACHINERY
    runner = tuple(os.path.dirname(os.path.abspath(module.__file__ or "")) + os.sep for module in (_pytest, pluggy))
    if not isinstance(node, pytest.Item):
        runner += IMPORT_MACHINERY
    entries: List[TracebackType] = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    # unittest marks its modules' frames with __unittest, as pytest's report of a TestCase prunes them.
    own = [n for n, entry in enumerate(entries) if not entry.tb_frame.f_code.co_filename.startswith(runner)
           and not entry.tb_frame.f_globals.get("__unittest")]
    if not own:   # raised by pytest itself (an unknown fixture, a doctest's several failures): there
        return entries[-1] if entries else None
    # A collector's obj would import its module again.
    code = _function_code(node) if isinstance(node, pytest.Item) else None
    first = next((n for n, entry in enumerate(entries) if entry.tb_frame.f_code is code), own[0])
    if own[-1] == len(entries) - 1:
        return entries[first]
    kept = None
    for entry in reversed(entries[first:own[-1] + 1]):
        kept = TracebackType(kept, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return kept


def _function_code(item: pytest.Item) -> Any:
    import inspect
    try:
        function = inspect.unwrap(getattr(item, "obj", None))  # type: ignore[arg-type]
        return getattr(getattr(function, "__func__", function), "__code__", None)
    except Exception:  # an item without a Python function (a doctest, a YAML test)
        return None


# pytest's objects of the whole run (module: class names, as each pytest version has them).
RUN_OBJECTS = ("_pytest.config:Config", "_pytest.config:PytestPluginManager", "_pytest.main:Session",
               "_pytest.fixtures:FixtureManager", "_pytest.fixtures:FixtureDef",
               "_pytest.assertion.rewrite:AssertionRewritingHook", "_pytest.tmpdir:TempPathFactory",
               "_pytest.legacypath:TempdirFactory")


@contextlib.contextmanager
def run_objects_left_out(run_kinds: Iterable[type]) -> Iterator[None]:
    """While a test is dumped, pytest's objects of the whole run pickle as placeholders (their
    previews stay): the config, the session with every collected test, the fixture definitions.

    A test module's ``__loader__`` (the assertion rewriter), ``request``, ``pytestconfig`` and
    every node reach them: pickled, they made each dump 10 MB and 5 s in a run of 3000 tests,
    and every fixture function of the run went through dill."""
    from .reduction import reduced_in_dumps
    kinds = set(run_kinds)
    for name in RUN_OBJECTS:
        module, _, qualname = name.partition(":")
        kind = getattr(sys.modules.get(module), qualname, None)
        if isinstance(kind, type):
            kinds.add(kind)
    with reduced_in_dumps(dict.fromkeys(kinds, _left_out)):
        yield


class PytestRunObject(Exception):
    """Why such an object is a placeholder, as the dump says it: "not captured: PytestRunObject: ..."."""


def _left_out(obj: Any) -> Any:
    raise PytestRunObject("pytest's own, shared by every test of the run")
