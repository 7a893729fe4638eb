"""Unusual ways of running Python that real crashing programs use: each crash is dumped with
the source of its frames and every viewer shows that code, or Python's own report stands."""
from __future__ import annotations

import os
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import List

import pytest

import tbdump
from ..conftest import PYTHON, REPO, env_for_child, run, write
from ..dap.dapclient import DapClient

PROG = """
import sys
def last(items):
    return items[3]
print(sys.argv, __file__)
last([1])
"""


def shown_by_every_viewer(dump: Path, cwd: Path) -> List[str]:
    """Each frame's line, as the dump holds it, is shown by the report, by tbdebug's `where`,
    and in the source tbdap serves for the frame; returns those lines, outermost first."""
    loaded = tbdump.load(dump)
    lines = [loaded.sources[f.filename].lines[f.lineno - 1].strip() for f in loaded.frames]
    report = run([PYTHON, "-m", "tbdump.report", str(dump)], cwd)
    assert (report.returncode, report.stderr) == (0, "")
    where = run([PYTHON, "-m", "tbdebug", str(dump)], cwd, stdin="where\nq\n")
    assert where.returncode == 0, where.stderr
    for line in lines:
        assert line in report.stdout, report.stdout
        assert "-> " + line in where.stdout.split("(Pdb) ")[1], where.stdout
    client = DapClient.tbdap(cwd=str(cwd), env={"PYTHONPATH": str(REPO)})
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(dump)})
        thread = client.ok("threads")["threads"][0]["id"]
        frames = client.ok("stackTrace", {"threadId": thread})["stackFrames"]
        served = []
        for frame in frames:
            source = frame["source"]
            if source.get("sourceReference"):
                text = client.ok("source", {"source": source, "sourceReference": source["sourceReference"]})["content"]
            else:
                text = Path(source["path"]).read_text()
            served.append(text.splitlines()[frame["line"] - 1].strip())
        assert served == lines[::-1]
    finally:
        client.close()
    return lines


# -- what runs: stdin, pipes, bytecode, zip apps -------------------------------------------

@pytest.mark.parametrize("how", ["-", "/dev/stdin"])
def test_a_program_read_from_stdin_or_a_pipe_runs_as_python_runs_it(workdir: Path, how: str) -> None:
    """`python - < prog.py`, `cat prog.py | python /dev/stdin`: python reads the program once,
    from stdin; tbdump did not take `-` and, from a pipe, ran nothing and exited 0."""
    plain = run([PYTHON, how, "a"], workdir, stdin=PROG)
    proc = run([PYTHON, "-m", "tbdump", how, "a"], workdir, stdin=PROG)
    name = "<stdin>" if how == "-" else how
    assert plain.stdout == proc.stdout == "[%r, 'a'] %s\n" % (how, name)
    assert (proc.returncode, proc.stderr) == (1, "IndexError: list index out of range\n"
                                                 "Traceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    assert [(f.name, f.filename) for f in dump.frames] == [("<module>", name), ("last", name)]
    # Python shows no lines for a program it read from stdin; the dump has kept them.
    assert shown_by_every_viewer(workdir / "traceback.pkl", workdir) == ["last([1])", "return items[3]"]


def test_a_compiled_script_runs_as_python_runs_it(workdir: Path) -> None:
    write(workdir / "prog.py", PROG)
    subprocess.run([PYTHON, "-m", "compileall", "-q", "-b", "prog.py"], cwd=workdir, check=True)
    plain = run([PYTHON, "prog.pyc"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.pyc"], workdir)
    assert plain.stdout == proc.stdout == "['prog.pyc'] %s\n" % (workdir / "prog.pyc")
    assert (proc.returncode, proc.stderr) == (1, "IndexError: list index out of range\n"
                                                 "Traceback dumped into: traceback.pkl\n")
    assert [f.name for f in tbdump.load(workdir / "traceback.pkl").frames] == ["<module>", "last"]

    (workdir / "other.pyc").write_bytes(b"\x00\x00\r\nnot the bytecode of this python")
    plain = run([PYTHON, "other.pyc"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "other.pyc"], workdir)
    assert plain.stderr == "RuntimeError: Bad magic number in .pyc file\n"
    assert (proc.returncode, proc.stderr) == (1, "tbdump: Bad magic number in .pyc file\n")


@pytest.mark.parametrize("latin1", [
    b"print('ran')\n# \xe9t\xe9 in a comment\n",   # tbdump ran it, which python refuses
    b"x = 1\ns = 'caf\xe9'\n",                       # tbdump said "(unicode error) 'utf-8' codec ..."
], ids=["comment", "string"])
def test_a_script_not_in_utf8_without_a_coding_cookie_is_refused_as_python_refuses_it(
        workdir: Path, latin1: bytes) -> None:
    (workdir / "latin.py").write_bytes(latin1)
    plain = run([PYTHON, "latin.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "latin.py"], workdir)
    assert plain.stderr.startswith("SyntaxError: Non-UTF-8 code starting with '\\xe9' in file ")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        plain.returncode, plain.stdout, plain.stderr + "Traceback dumped into: traceback.pkl\n")


@pytest.mark.parametrize("script", [
    b"# coding: ascii\nprint('caf\xc3\xa9')\n",          # tbdump: "'ascii' codec can't decode byte 0xc3"
    b"#!/usr/bin/python\n# vim: fileencoding=ascii\n# \xc3\xa9\n",   # a comment too, the cookie on line 2
    b"# coding: foobar\nprint(1)\n",                      # tbdump: "unknown encoding: foobar"
    b"# coding: rot13\nprint(1)\n",                       # a codec, of bytes: tbdump ended in a TypeError
    b"\xef\xbb\xbf# coding: latin-1\nprint(1)\n",           # the words were python's, at "line 0"
], ids=["ascii", "comment", "unknown", "bytes-codec", "bom"])
def test_a_script_its_declared_encoding_cannot_read_is_refused_as_python_refuses_it(
        workdir: Path, script: bytes) -> None:
    """``SyntaxError: encoding problem: ascii`` and no place, as python says it (tbdump said the
    codec's own words at `File "prog.py", line 0`)."""
    (workdir / "prog.py").write_bytes(script)
    plain = run([PYTHON, "prog.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert plain.stderr.startswith("SyntaxError: encoding problem: "), plain.stderr
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        plain.returncode, plain.stdout, plain.stderr + "Traceback dumped into: traceback.pkl\n")


def test_a_zip_app_and_a_package_from_a_zip_are_dumped_with_their_source(workdir: Path) -> None:
    """A guard (this worked): the zipimporter's get_source gives the lines Python shows."""
    with zipfile.ZipFile(workdir / "libs.zip", "w") as libs:
        libs.writestr("zpkg/__init__.py", "def boom(d):\n    return d['missing']\n")
    with zipfile.ZipFile(workdir / "app.pyz", "w") as app:
        app.writestr("__main__.py", "import sys\nsys.path.insert(0, 'libs.zip')\nimport zpkg\nzpkg.boom({})\n")
    proc = run([PYTHON, "-m", "tbdump", "app.pyz"], workdir)
    assert (proc.returncode, proc.stderr) == (1, "KeyError: 'missing'\nTraceback dumped into: traceback.pkl\n")
    assert shown_by_every_viewer(workdir / "traceback.pkl", workdir) == ["zpkg.boom({})", "return d['missing']"]


def test_a_module_shipped_as_bytecode_only_says_why_it_has_no_source(workdir: Path) -> None:
    (workdir / "spkg").mkdir()
    write(workdir / "spkg" / "__init__.py", "def boom(d):\n    return d['k']\n")
    subprocess.run([PYTHON, "-m", "compileall", "-q", "-b", "spkg"], cwd=workdir, check=True)
    (workdir / "spkg" / "__init__.py").unlink()
    write(workdir / "prog.py", "import spkg\nspkg.boom({})\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    source = tbdump.load(workdir / "traceback.pkl").sources[os.path.join("spkg", "__init__.py")]
    assert (source.text, source.reason) == (
        None, "no source: the module ran from bytecode only (%s)" % (workdir / "spkg" / "__init__.pyc"))
    debug = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], workdir, stdin="q\n")
    assert "tbdebug: spkg/__init__.py: no source to show: the dump holds no copy (no source: the module ran " \
           "from bytecode only (%s))" % (workdir / "spkg" / "__init__.pyc") in debug.stdout


# -- sources that change while the program runs ----------------------------------------------

def test_a_script_that_removes_itself_keeps_the_source_that_ran(workdir: Path) -> None:
    write(workdir / "gone.py", """
        import os
        os.remove(__file__)
        def f(x):
            return x + 'a'
        f(1)
    """)
    proc = run([PYTHON, "-m", "tbdump", "gone.py"], workdir)
    assert proc.returncode == 1 and not (workdir / "gone.py").exists()
    assert shown_by_every_viewer(workdir / "traceback.pkl", workdir) == ["f(1)", "return x + 'a'"]


CHANGES_ITS_MODULE = """
import time, mod
time.sleep(0.01)
with open(mod.__file__, 'w') as fh:
    fh.write('# edited while the program ran\\n\\n\\ndef f(x):\\n    return x + 1\\n')
mod.f(1)
"""


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_a_module_changed_on_disk_after_its_import_is_said_to_be_so(workdir: Path, way: str) -> None:
    """Python shows the edited file's lines for the code that ran; the dump holds the file at the
    crash and says that its lines may not be that code, and every viewer says so too."""
    write(workdir / "mod.py", "def f(x):\n    return x + 'b'\n")
    if way == "runner":
        write(workdir / "prog.py", CHANGES_ITS_MODULE)
        run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    else:
        write(workdir / "prog.py", "import tbdump; tbdump.set_excepthook()\n" + CHANGES_ITS_MODULE)
        run([PYTHON, "prog.py"], workdir)
    dump = tbdump.load(workdir / "traceback.pkl")
    module = str(workdir / "mod.py")
    note = dump.sources[module].note
    assert note is not None and note.endswith("after the program started: these lines may not be the code that ran")
    assert dump.sources[str(workdir / "prog.py")].note is None
    said = "%s: %s" % (module, note)
    report = run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], workdir)
    assert "  source    %s\n" % said in report.stdout
    debug = run([PYTHON, "-m", "tbdebug", "traceback.pkl"], workdir, stdin="q\n")
    assert "tbdebug: %s\n" % said in debug.stdout
    client = DapClient.tbdap(cwd=str(workdir), env={"PYTHONPATH": str(REPO)})
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(workdir / "traceback.pkl")})
        thread = client.ok("threads")["threads"][0]["id"]
        innermost = client.ok("stackTrace", {"threadId": thread})["stackFrames"][0]
        assert innermost["source"]["origin"] == note
        assert "Sources that may not be the code that ran:\n  %s\n" % said in client.output_text()
    finally:
        client.close()


# -- interpreter flags -------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["-P", "PYTHONSAFEPATH=1", "-I"])
def test_a_safe_path_puts_nothing_before_the_programs_sys_path(workdir: Path, flag: str,
                                                              isolated_python: str) -> None:
    """Under -P, PYTHONSAFEPATH or -I python puts neither the script's directory nor the
    working directory first on sys.path; the runner put it there over the first real entry."""
    write(workdir / "helper.py", "")
    write(workdir / "prog.py", "import sys\nprint(sys.path)\nimport helper\n")
    python = isolated_python if flag == "-I" else PYTHON
    flags, env = ([], {flag.split("=")[0]: "1"}) if "=" in flag else ([flag], {})
    for target in (["prog.py"], ["-c", "import sys; print(sys.path); import helper"]):
        plain = run([python, *flags, *target], workdir, env=env)
        proc = run([python, *flags, "-m", "tbdump", *target], workdir, env=env)
        assert proc.stdout == plain.stdout and "ModuleNotFoundError: No module named 'helper'" in plain.stderr
        assert (proc.returncode, proc.stderr) == (1, "ModuleNotFoundError: No module named 'helper'\n"
                                                     "Traceback dumped into: traceback.pkl\n")


@pytest.fixture(scope="module")
def isolated_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv's python that imports this tree's tbdump (and dill) from its site-packages, as
    one tbdump is installed in: `python -I` reads no PYTHONPATH."""
    venv = tmp_path_factory.mktemp("isolated") / "venv"
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    dill = Path(__import__("dill").__file__).parent.parent
    Path(site, "tbdump-tree.pth").write_text("%s\n%s\n" % (REPO, dill))
    return str(python)


@pytest.mark.parametrize("flags", [["-O"], ["-OO"], ["-X", "dev"], ["-W", "error"], ["-X", "frozen_modules=off"],
                                   ["-X", "warn_default_encoding", "-W", "error"], ["-u"]])
def test_interpreter_flags_leave_capture_whole(workdir: Path, flags: List[str]) -> None:
    """A guard: tbdump relies on no assert or docstring (-O, -OO), and nothing it does warns
    (-W error would make the warning an exception that capture only gets past)."""
    write(workdir / "prog.py", "def f(x):\n    '''doc'''\n    return 1 / x\nf(0)\n")
    proc = run([PYTHON, *flags, "-m", "tbdump", "prog.py"], workdir, env={"TBDUMP_DEBUG": "1"})
    assert (proc.returncode, proc.stderr) == (1, "ZeroDivisionError: division by zero\n"
                                                 "Traceback dumped into: traceback.pkl\n")
    dump = tbdump.load(workdir / "traceback.pkl")
    assert not dump.metadata.partial and dump.frames[-1].variables["x"].repr == "0"


def test_viewers_under_dev_mode_and_warnings_as_errors_say_nothing_of_their_own(workdir: Path) -> None:
    """A loaded dump's files were left open (ResourceWarning at exit under -X dev), tbdap's
    stdin too, and dill warned as it was imported: under -W error no object was restored."""
    write(workdir / "prog.py", "def f(x):\n    return 1 / x\nf(0)\n")
    run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    strict = ["-X", "dev", "-X", "warn_default_encoding", "-W", "error"]
    report = run([PYTHON, *strict, "-m", "tbdump.report", "traceback.pkl"], workdir)
    assert (report.returncode, report.stderr) == (0, "")
    debug = run([PYTHON, *strict, "-m", "tbdebug", "traceback.pkl"], workdir, stdin="p f\nq\n")
    assert (debug.returncode, debug.stderr) == (0, "")
    assert debug.stdout.split("(Pdb) ")[1].startswith("<function f at 0x")
    client = DapClient.spawn([PYTHON, *strict, "-m", "tbdap"], env={"PYTHONPATH": str(REPO)}, cwd=str(workdir))
    try:
        client.initialize()
        client.start("launch", {"dumpFile": str(workdir / "traceback.pkl")})
        thread = client.ok("threads")["threads"][0]["id"]
        frame = client.ok("stackTrace", {"threadId": thread})["stackFrames"][-1]
        assert client.ok("evaluate", {"expression": "f", "frameId": frame["id"]})["result"].startswith("<function f")
    finally:
        client.close()
    assert client.stderr == ""


def test_the_report_on_a_terminal_that_cannot_show_a_character_escapes_it(workdir: Path) -> None:
    """PYTHONUTF8=0 under LC_ALL=C: stdout is ASCII; the report stopped at the first 'é' with a traceback."""
    (workdir / "prog.py").write_bytes(b"# -*- coding: latin-1 -*-\ndef f(s):\n    name = 'caf\xe9'\n"
                                      b"    return s + name\nf([])\n")
    ascii_terminal = {"PYTHONUTF8": "0", "LC_ALL": "C"}
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir, env=ascii_terminal)
    assert proc.returncode == 1
    report = run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], workdir, env=ascii_terminal)
    assert (report.returncode, report.stderr) == (0, "")
    assert "    name = 'caf\\xe9'\n" not in report.stdout   # that line ran before: not shown
    assert "      name = 'caf\\xe9' (str)\n" in report.stdout


# -- what the program did to its process ---------------------------------------------------

# Where no dump can be written: a regular file in the way, a folder to make whose name is too long,
# and one below a symlink to a folder that is gone (its making went up and down the path forever,
# deaf to SIGTERM, which capture holds).
UNWRITABLE = {"blocker/sub/x.pkl": "not a directory", "new/%s/x.pkl" % ("a" * 300): "file name too long",
              "dangling/sub/x.pkl": "no such file or directory"}


@pytest.mark.parametrize("path", list(UNWRITABLE), ids=["a file in the way", "a name too long", "a dangling symlink"])
@pytest.mark.parametrize("way", ["runner", "hook", "thread"])
def test_a_crash_that_cannot_be_dumped_is_reported_as_python_reports_it(workdir: Path, way: str, path: str) -> None:
    """No dump can be written there: Python's report, then one line saying why there is no
    dump, and Python's status; the exception's line alone said too little."""
    write(workdir / "prog.py", """
        import os, threading, tbdump
        if os.environ.get('HOOK'):
            tbdump.set_excepthook(os.environ['HOOK'])
        def f(x):
            return 1 / x
        %s
    """ % ("threading.Thread(target=f, args=(0,), name='worker').start()" if way == "thread" else "f(0)"))
    (workdir / "blocker").write_text("a file where a folder would be")
    (workdir / "dangling").symlink_to(workdir / "gone")
    plain = run([PYTHON, "prog.py"], workdir)
    if way == "runner":
        proc = run([PYTHON, "-m", "tbdump", "-o", path, "prog.py"], workdir)
    else:
        proc = run([PYTHON, "prog.py"], workdir, env={"HOOK": path})
    assert "Traceback (most recent call last):" in plain.stderr
    assert proc.returncode == plain.returncode == (0 if way == "thread" else 1)
    assert proc.stderr == plain.stderr + "tbdump: cannot write %s: %s\n" % (path, UNWRITABLE[path])


@pytest.mark.parametrize("way", ["runner", "hook", "thread", "dump_exception"])
def test_a_dump_into_a_missing_folder_makes_the_folder(workdir: Path, way: str) -> None:
    """`-o night/crashes/x.pkl` before night/ existed: the crash said 'tbdump: cannot write
    night/crashes/x.pkl: no such file or directory' and the night's dump was lost.  The folders
    are made as mkdir -p makes them, with the permissions the umask leaves; the dump keeps its
    own mode, and the crash says what any crash says."""
    write(workdir / "prog.py", """
        import os, sys, threading, tbdump
        os.umask(0o027)
        way = sys.argv[1]
        if way in ('hook', 'thread'):
            tbdump.set_excepthook('night/crashes/x.pkl')
        def f(x):
            return 1 / x
        if way == 'thread':
            threading.Thread(target=f, args=(0,)).start()
        elif way == 'dump_exception':
            try:
                f(0)
            except ZeroDivisionError as exc:
                print(tbdump.dump_exception(exc, 'night/crashes/x.pkl'))
        else:
            f(0)
    """)
    if way == "runner":
        proc = run([PYTHON, "-m", "tbdump", "-o", "night/crashes/x.pkl", "prog.py", way], workdir)
    else:
        proc = run([PYTHON, "prog.py", way], workdir)
    if way == "dump_exception":
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "night/crashes/x.pkl\n", ""), proc
    else:
        assert proc.returncode == (0 if way == "thread" else 1)
        assert proc.stderr == "ZeroDivisionError: division by zero\nTraceback dumped into: night/crashes/x.pkl\n"
    dump = tbdump.load(workdir / "night" / "crashes" / "x.pkl")
    assert (dump.exception.type, dump.frames[-1].name, dump.frames[-1].locals["x"]) == ("ZeroDivisionError", "f", 0)
    for folder in (workdir / "night", workdir / "night" / "crashes"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750, folder
    assert stat.S_IMODE((workdir / "night" / "crashes" / "x.pkl").stat().st_mode) == 0o600
    assert sorted(p.name for p in (workdir / "night" / "crashes").iterdir()) == ["x.pkl"]


def test_a_crash_on_a_full_disk_says_the_dump_cannot_be_written_in_words(workdir: Path) -> None:
    """The file is created but cannot grow (a full disk; here a file size limit): the same one line
    as any file that cannot be written, not "failed to dump traceback (OSError: [Errno 27] ...)"."""
    write(workdir / "prog.py", """
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
        1/0
    """)
    plain = run([PYTHON, "prog.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == plain.returncode == 1
    assert proc.stderr == plain.stderr + "tbdump: cannot write traceback.pkl: file too large\n"
    assert os.listdir(workdir) == ["prog.py"]   # nothing half written


def test_a_hook_set_up_in_a_removed_working_directory_says_so(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import os, tempfile
        gone = tempfile.mkdtemp()
        os.chdir(gone)
        os.rmdir(gone)
        import tbdump
        tbdump.set_excepthook()
        1/0
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.returncode == 1
    assert proc.stderr.endswith("ZeroDivisionError: division by zero\ntbdump: cannot write traceback.pkl: "
                                "the working directory, which the path is relative to, was removed\n")
    assert proc.stderr.startswith("Traceback (most recent call last):\n")


def test_a_closed_stderr_descriptor_is_not_taken_by_the_dump(workdir: Path) -> None:
    """A daemon closed fd 2 and a thread still writes to stderr: the dump's file took fd 2 and
    held what the thread wrote."""
    write(workdir / "prog.py", """
        import os, sys, threading, time
        os.close(2)
        def noise():
            while True:
                try:
                    sys.stderr.write(''.join(['NO', 'ISE ']) * 100); sys.stderr.flush()
                except Exception:
                    pass
        threading.Thread(target=noise, daemon=True).start()
        rows = [{'i': i} for i in range(20000)]
        time.sleep(0.05)
        1/0
    """)
    proc = run([PYTHON, "-m", "tbdump", "prog.py"], workdir)
    assert proc.returncode == 1
    assert b"NOISE" not in (workdir / "traceback.pkl").read_bytes()
    assert tbdump.load(workdir / "traceback.pkl").exception.type == "ZeroDivisionError"


@pytest.mark.parametrize("stderr", ["2>&-", "2>/dev/full"])
def test_a_crash_without_stderr_leaves_no_empty_dump_behind(workdir: Path, stderr: str) -> None:
    """A later crash's name (traceback.<pid>.pkl) is made empty before its dump is written, and
    goes when no dump takes it (a full disk).  With the shell's stderr closed or broken, saying
    so fails: the name still goes, and the crash ends as under python (guards what worked)."""
    write(workdir / "prog.py", """
        import resource, sys, threading
        if sys.argv[1] == 'full':
            resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
        def f(x):
            return 1 / x
        worker = threading.Thread(target=f, args=(0,))
        worker.start()
        worker.join()
        f(0)
    """)
    for disk in ("free", "full"):
        for launch in ("%s -m tbdump prog.py" % PYTHON, "%s -c 'import tbdump, runpy; "
                       "tbdump.set_excepthook(); runpy.run_path(\"prog.py\", run_name=\"__main__\")'" % PYTHON):
            proc = subprocess.run(["bash", "-c", "%s %s %s" % (launch, disk, stderr)], cwd=str(workdir),
                                  env=env_for_child(), capture_output=True, text=True, timeout=60)
            assert (proc.returncode, proc.stderr) == (1, ""), proc
            names = sorted(p.name for p in workdir.iterdir() if p.name != "prog.py")
            if disk == "free":
                assert len(names) == 2 and all((workdir / name).stat().st_size > 0 for name in names), names
                for name in names:
                    (workdir / name).unlink()
            else:
                assert names == [], names


@pytest.mark.parametrize("way", ["runner", "hook"])
def test_a_closed_sys_stderr_still_hears_where_the_dump_went(workdir: Path, way: str) -> None:
    """Python writes its report of a crash it cannot print on sys.stderr on fd 2 ("lost
    sys.stderr"); tbdump's lines went nowhere.  A stderr of None (pythonw) hears nothing."""
    write(workdir / "prog.py", """
        import os, sys, tbdump
        if os.environ.get('HOOK'):
            tbdump.set_excepthook()
        sys.stderr.close() if sys.argv[1] == 'closed' else setattr(sys, 'stderr', None)
        1/0
    """)
    launch = [PYTHON, "-m", "tbdump", "prog.py"] if way == "runner" else [PYTHON, "prog.py"]
    env = {} if way == "runner" else {"HOOK": "1"}
    plain = run([PYTHON, "prog.py", "closed"], workdir)
    assert plain.returncode == 1 and plain.stderr.endswith("lost sys.stderr\n")
    proc = run(launch + ["closed"], workdir, env=env)
    assert (proc.returncode, proc.stderr) == (1, "ZeroDivisionError: division by zero\n"
                                                 "Traceback dumped into: traceback.pkl\n")
    (workdir / "traceback.pkl").unlink()
    assert run([PYTHON, "prog.py", "none"], workdir).stderr == ""
    proc = run(launch + ["none"], workdir, env=env)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert tbdump.load(workdir / "traceback.pkl").exception.type == "ZeroDivisionError"
