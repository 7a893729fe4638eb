"""The seed README's capture flows, verbatim, through real subprocesses."""
from __future__ import annotations

import os
import shutil
import signal
import stat
import sys
from pathlib import Path
from typing import List

import pytest

import tbdump
from ..conftest import PYTHON, REPO, run, write

DIVIDE = (REPO / "examples" / "divide.py").read_text()
SEED_MESSAGE = "ZeroDivisionError: division by zero\nTraceback dumped into: traceback.pkl\n"


def test_run_under_tbdump_prints_seed_message_and_exits_1(workdir: Path) -> None:
    write(workdir / "divide.py", DIVIDE)
    proc = run([PYTHON, "-m", "tbdump", "divide.py", "5", "0"], workdir)
    assert proc.returncode == 1
    assert proc.stderr == SEED_MESSAGE
    dump = tbdump.load(workdir / "traceback.pkl")
    assert [f.name for f in dump.frames] == ["<module>", "div"]
    assert dump.frames[-1].locals == {"x": 5, "y": 0}
    assert dump.metadata.argv == ["divide.py", "5", "0"]


def test_script_sees_the_argv_python_would_give(workdir: Path) -> None:
    write(workdir / "argv.py", """
        import sys
        print(repr(sys.argv), __name__, __file__ == __import__('os').path.abspath('argv.py'))
    """)
    plain = run([PYTHON, "argv.py", "a", "-b"], workdir)
    under = run([PYTHON, "-m", "tbdump", "argv.py", "a", "-b"], workdir)
    assert under.stdout == plain.stdout == "['argv.py', 'a', '-b'] __main__ True\n"
    assert under.returncode == 0 and not (workdir / "traceback.pkl").exists()


def test_output_option_and_python_traceback_identical_to_python(workdir: Path) -> None:
    write(workdir / "divide.py", DIVIDE)
    plain = run([PYTHON, "divide.py", "5", "0"], workdir)
    under = run([PYTHON, "-m", "tbdump", "--traceback", "-o", "crash.tbdump", "divide.py", "5", "0"], workdir)
    assert under.returncode == plain.returncode == 1
    assert under.stderr == plain.stderr + "Traceback dumped into: crash.tbdump\n"
    assert "tbdump" not in plain.stderr and "runpy" not in under.stderr
    assert (workdir / "crash.tbdump").exists() and not (workdir / "traceback.pkl").exists()


def test_version_and_help_are_tbdumps_only_before_the_program(workdir: Path) -> None:
    """`python -m tbdump --version` is tbdump's; after the script, `--version` is the script's."""
    proc = run([PYTHON, "-m", "tbdump", "--version"], workdir)
    assert proc.returncode == 0 and proc.stdout == "tbdump %s\n" % tbdump.__version__
    write(workdir / "argv.py", "import sys\nprint(sys.argv)\n")
    proc = run([PYTHON, "-m", "tbdump", "argv.py", "--version", "--help"], workdir)
    assert proc.returncode == 0 and proc.stdout == "['argv.py', '--version', '--help']\n"
    proc = run([PYTHON, "-m", "tbdump", "-c", "import sys; print(sys.argv)", "--version"], workdir)
    assert proc.returncode == 0 and proc.stdout == "['-c', '--version']\n"
    proc = run([PYTHON, "-m", "tbdump", "--help"], workdir)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m tbdump [-o PATH]")
    assert "--version" in proc.stdout
    proc = run([PYTHON, "-m", "tbdump", "--bogus"], workdir)
    assert proc.returncode == 2
    assert proc.stderr == "tbdump: unknown option --bogus\n" \
                          "usage: python -m tbdump [-o PATH] [-t] [--no-threads] [--log-dumps DIR]\n" \
                          "                        (SCRIPT | -m MODULE | -c CODE) [ARGS...]\n"
    proc = run([PYTHON, "-m", "tbdump.report", "--version"], workdir)
    assert proc.returncode == 0 and proc.stdout == "tbdump.report %s\n" % tbdump.__version__


def test_module_and_command_modes(workdir: Path) -> None:
    pkg = workdir / "pkg"
    pkg.mkdir()
    write(pkg / "__init__.py", "")
    write(pkg / "mod.py", """
        import sys
        def main(args):
            return int(args[0]) / int(args[1])
        main(sys.argv[1:])
    """)
    proc = run([PYTHON, "-m", "tbdump", "-m", "pkg.mod", "4", "0"], workdir)
    assert proc.returncode == 1 and proc.stderr == SEED_MESSAGE
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.frames[-1].name == "main" and dump.frames[-1].locals["args"] == ["4", "0"]
    assert dump.frames[0].filename.endswith(os.path.join("pkg", "mod.py"))

    command = "import sys\nn = len(sys.argv)\n1/0\n"
    proc = run([PYTHON, "-m", "tbdump", "-o", "c.pkl", "-c", command, "x"], workdir)
    assert proc.returncode == 1
    assert proc.stderr == "ZeroDivisionError: division by zero\nTraceback dumped into: c.pkl\n"
    dump = tbdump.load(workdir / "c.pkl")
    assert dump.frames[-1].locals["n"] == 2
    # The command is the frame's source, as a file would be: viewers show its lines.
    assert dump.sources["<string>"].text == command
    assert '  File "<string>", line 3, in <module>\n    1/0\n' in dump.traceback_text


def test_options_joined_to_their_values_are_read_as_python_reads_them(workdir: Path) -> None:
    """`python -mpkg.mod` and `python -c'CODE'` run under tbdump as under python, and so do
    tbdump's own `-ocrash.pkl` and `-t` joined to the next option: each was 'unknown option'."""
    (workdir / "pkg").mkdir()
    write(workdir / "pkg" / "__init__.py", "")
    write(workdir / "pkg" / "mod.py", "import sys\nprint(sys.argv[1:])\n1/0\n")
    plain = run([PYTHON, "-mpkg.mod", "a"], workdir)
    under = run([PYTHON, "-m", "tbdump", "-ocrash.pkl", "-mpkg.mod", "a"], workdir)
    assert (under.returncode, under.stdout) == (plain.returncode, plain.stdout) == (1, "['a']\n")
    assert under.stderr == "ZeroDivisionError: division by zero\nTraceback dumped into: crash.pkl\n", under
    assert tbdump.load(workdir / "crash.pkl").frames[-1].filename.endswith(os.path.join("pkg", "mod.py"))
    plain = run([PYTHON, "-cx = 5; x / 0"], workdir)
    under = run([PYTHON, "-m", "tbdump", "-tcx = 5; x / 0"], workdir)
    assert under.returncode == plain.returncode == 1
    assert under.stderr == plain.stderr + "Traceback dumped into: traceback.pkl\n", under
    assert tbdump.load(workdir / "traceback.pkl").frames[-1].locals["x"] == 5
    proc = run([PYTHON, "-m", "tbdump", "-tx", "pkg/mod.py"], workdir)
    assert proc.returncode == 2 and proc.stderr.startswith("tbdump: unknown option -tx\n"), proc


def test_a_symlinked_script_imports_beside_its_real_file_as_under_python(workdir: Path) -> None:
    (workdir / "real").mkdir()
    (workdir / "bin").mkdir()
    write(workdir / "real" / "helpers.py", "def helper(x):\n    return x['k']\n")
    write(workdir / "real" / "tool.py", "from helpers import helper\nhelper({})\n")
    (workdir / "bin" / "tool").symlink_to(workdir / "real" / "tool.py")
    plain = run([PYTHON, "bin/tool"], workdir)
    under = run([PYTHON, "-m", "tbdump", "-t", "bin/tool"], workdir)
    assert "KeyError: 'k'" in plain.stderr
    assert under.stderr == plain.stderr + "Traceback dumped into: traceback.pkl\n"


def test_the_dump_goes_where_it_was_named_though_the_program_changes_directory(workdir: Path) -> None:
    (workdir / "sub").mkdir()
    write(workdir / "app.py", "import os\nos.chdir('sub')\nopen('missing.cfg')\n")
    proc = run([PYTHON, "-m", "tbdump", "app.py"], workdir)
    where = workdir / "traceback.pkl"
    assert proc.stderr.splitlines()[-1] == "Traceback dumped into: %s" % where
    assert tbdump.load(where).exception.type == "FileNotFoundError"
    assert not (workdir / "sub" / "traceback.pkl").exists()

    write(workdir / "hooked.py", """
        import os, tbdump
        tbdump.set_excepthook(filename="out/hook.pkl")
        os.chdir("sub")
        1/0
    """)
    (workdir / "out").mkdir()
    proc = run([PYTHON, "hooked.py"], workdir)
    assert proc.stderr.splitlines()[-1] == "Traceback dumped into: %s" % (workdir / "out" / "hook.pkl")
    assert tbdump.load(workdir / "out" / "hook.pkl").exception.type == "ZeroDivisionError"


def test_the_programs_own_excepthook_still_runs(workdir: Path) -> None:
    write(workdir / "logged.py", """
        import sys
        def log_crash(kind, value, tb):
            with open("crash.log", "w") as fh:
                fh.write("logged %s: %s" % (kind.__name__, value))
            sys.__excepthook__(kind, value, tb)
        sys.excepthook = log_crash
        {"user": None}["user"]["id"]
    """)
    plain = run([PYTHON, "logged.py"], workdir)
    assert (workdir / "crash.log").read_text() == "logged TypeError: 'NoneType' object is not subscriptable"
    (workdir / "crash.log").unlink()
    under = run([PYTHON, "-m", "tbdump", "-t", "logged.py"], workdir)
    assert (workdir / "crash.log").read_text() == "logged TypeError: 'NoneType' object is not subscriptable"
    assert under.returncode == plain.returncode == 1
    assert under.stderr == plain.stderr + "Traceback dumped into: traceback.pkl\n"

    # A hook that fails, with an exception whose class refuses attributes too (python
    # prints it all the same).
    for error in ("OSError", "Refused"):
        write(workdir / "broken.py", """
            import sys
            class Refused(Exception):
                def __setattr__(self, name, value):
                    raise AttributeError("immutable")
            def hook(kind, value, tb):
                raise %s("log server down")
            sys.excepthook = hook
            1/0
        """ % error)
        plain = run([PYTHON, "broken.py"], workdir)
        under = run([PYTHON, "-m", "tbdump", "broken.py"], workdir)
        assert plain.stderr.startswith("Error in sys.excepthook:\n")
        assert "%s: log server down" % error in plain.stderr
        assert under.stderr == plain.stderr + SEED_MESSAGE
        assert tbdump.load(workdir / "traceback.pkl").exception.type == "ZeroDivisionError"

    # A hook that exits: python ends with its status and prints nothing more.
    write(workdir / "exits.py", """
        import sys
        sys.excepthook = lambda kind, value, tb: sys.exit(3)
        1/0
    """)
    plain = run([PYTHON, "exits.py"], workdir)
    under = run([PYTHON, "-m", "tbdump", "exits.py"], workdir)
    assert plain.returncode == under.returncode == 3 and plain.stderr == ""
    assert under.stderr == "Traceback dumped into: traceback.pkl\n"

    # tbdump's own hook, set by the program: one dump, the runner's, said once.
    (workdir / "traceback.pkl").unlink()
    write(workdir / "selfhooked.py", "import tbdump\ntbdump.set_excepthook('own.pkl')\n1/0\n")
    under = run([PYTHON, "-m", "tbdump", "selfhooked.py"], workdir)
    assert under.returncode == 1 and under.stderr == SEED_MESSAGE
    assert (workdir / "traceback.pkl").exists() and not (workdir / "own.pkl").exists()


def test_runner_frames_never_appear(workdir: Path) -> None:
    write(workdir / "divide.py", DIVIDE)
    run([PYTHON, "-m", "tbdump", "divide.py", "5", "0"], workdir)
    dump = tbdump.load(workdir / "traceback.pkl")
    files = {f.filename for t in dump.threads for f in t.frames} | {f.filename for f in dump.frames}
    assert not any("runpy" in f or os.sep + "tbdump" + os.sep in f for f in files)
    assert "runpy" not in dump.traceback_text and "tbdump" not in dump.traceback_text


# A program that does not compile, each way `python -m tbdump` runs one: (what is run, the file
# with the SyntaxError, its line, the program's frames above it: an import inside the program).
NOT_COMPILING = {
    "script": (["broken.py"], "broken.py", 2, []),
    "command": (["-c", "total = 1\nx = (1 +"], "<string>", 2, []),
    "module": (["-m", "pkg.broken"], os.path.join("pkg", "broken.py"), 2, []),
    "package": (["-m", "pkg"], os.path.join("pkg", "__main__.py"), 2, []),
    "directory": (["app"], os.path.join("app", "__main__.py"), 2, []),
    "zip app": (["app.pyz"], os.path.join("app.pyz", "__main__.py"), 2, []),
    "import": (["main.py"], "broken.py", 2, ["main.py"]),
}


@pytest.mark.parametrize("case", NOT_COMPILING)
def test_a_syntax_error_is_said_as_python_says_it_and_dumped_at_the_programs_file_and_line(
        workdir: Path, case: str) -> None:
    """A module, directory or zip app that does not compile raised in importlib's or zipimport's
    frames, and its dump opened there, in code that ran none of the program."""
    args, filename, line, frames = NOT_COMPILING[case]
    broken = "total = 1\ndef f(:\n    pass\n"
    write(workdir / "broken.py", broken)
    write(workdir / "main.py", "import broken\n")
    for folder in (workdir / "pkg", workdir / "app"):
        folder.mkdir()
        write(folder / "__init__.py", "")
        write(folder / "broken.py", broken)
        write(folder / "__main__.py", broken)
    (workdir / "app" / "__init__.py").unlink()
    shutil.make_archive(str(workdir / "app"), "zip", str(workdir / "app"))
    (workdir / "app.zip").rename(workdir / "app.pyz")
    where = filename if filename.startswith("<") else str(workdir / filename)

    plain = run([PYTHON, *args], workdir)
    under = run([PYTHON, "-m", "tbdump", *args], workdir)
    said = plain.stderr[plain.stderr.index('  File "%s", line %d\n' % (where, line)):]
    assert said.endswith("^\nSyntaxError: invalid syntax\n" if case != "command" else "SyntaxError: '(' was never closed\n"
                         if sys.version_info >= (3, 10) else "SyntaxError: unexpected EOF while parsing\n"), said
    assert under.returncode == plain.returncode == 1
    assert under.stderr == said + "Traceback dumped into: traceback.pkl\n"
    traced = run([PYTHON, "-m", "tbdump", "-t", *args], workdir)    # python's, without its launch's frames
    assert traced.stderr == (plain.stderr if frames else said) + "Traceback dumped into: traceback.pkl\n"

    dump = tbdump.load(workdir / "traceback.pkl")
    assert [Path(f.filename).name for f in dump.frames] == frames
    syntax = dump.exception.syntax
    assert (dump.exception.type, syntax.filename, syntax.lineno) == ("SyntaxError", where, line)
    assert dump.sources[where].text == (broken if case != "command" else args[1])
    report = run([PYTHON, "-m", "tbdump.report", "traceback.pkl"], workdir)
    assert report.returncode == 0 and said.rstrip("\n").split("\n")[0] in report.stdout
    assert "frozen" not in report.stdout and "runpy" not in report.stdout


def test_shebang(workdir: Path) -> None:
    script = write(workdir / "divide", "#!/usr/bin/env -S python -m tbdump\n" + DIVIDE)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    shim = workdir / "bin"
    shim.mkdir()
    (shim / "python").symlink_to(PYTHON)
    proc = run([str(script), "5", "0"], workdir, env={"PATH": str(shim) + os.pathsep + os.environ["PATH"]})
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == SEED_MESSAGE


def test_system_exit_passes_through(workdir: Path) -> None:
    write(workdir / "bye.py", "import sys\nprint('bye')\nsys.exit(3)\n")
    proc = run([PYTHON, "-m", "tbdump", "bye.py"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "bye\n", "")
    assert not (workdir / "traceback.pkl").exists()


def test_keyboard_interrupt_is_dumped_then_ends_like_python(workdir: Path) -> None:
    write(workdir / "intr.py", "def f():\n    raise KeyboardInterrupt\nf()\n")
    plain = run([PYTHON, "intr.py"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "intr.py"], workdir)
    assert proc.returncode == plain.returncode == -signal.SIGINT
    assert proc.stderr == "KeyboardInterrupt\nTraceback dumped into: traceback.pkl\n"
    assert tbdump.load(workdir / "traceback.pkl").exception.type == "KeyboardInterrupt"


def test_set_excepthook_seed_program(workdir: Path) -> None:
    write(workdir / "divide.py", """
        import sys
        import tbdump
        tbdump.set_excepthook()

        def div(x, y):
            return x / y

        if __name__ == '__main__':
            x = int(sys.argv[1])
            y = int(sys.argv[2])
            print(div(x, y))
    """)
    proc = run([PYTHON, "divide.py", "5", "0"], workdir)
    assert proc.returncode == 1
    assert proc.stderr == SEED_MESSAGE
    dump = tbdump.load(workdir / "traceback.pkl")
    assert dump.frames[-1].locals == {"x": 5, "y": 0}


def test_set_excepthook_options(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import tbdump
        tbdump.set_excepthook(filename='crash.pkl', replace=False, silent=False)
        def f(v):
            raise ValueError('bad %r' % v)
        f(42)
    """)
    plain = run([PYTHON, "-c", "def f(v):\n    raise ValueError('bad %r' % v)\nf(42)"], workdir)
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Traceback (most recent call last):")
    assert proc.stderr.endswith("ValueError: bad 42\nTraceback dumped into: crash.pkl\n")
    assert plain.stderr.splitlines()[-1] == "ValueError: bad 42"

    write(workdir / "quiet.py", "import tbdump\ntbdump.set_excepthook(filename='q.pkl', silent=True)\n1/0\n")
    proc = run([PYTHON, "quiet.py"], workdir)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert tbdump.load(workdir / "q.pkl").exception.type == "ZeroDivisionError"


THREAD_CRASH = """
    import threading, tbdump
    tbdump.set_excepthook(filename='thread.pkl'%s)
    def work(job):
        return {'job': job}['missing']
    t = threading.Thread(target=work, args=(7,), name='worker-1')
    t.start(); t.join()
    print('main goes on')
"""


def test_thread_crash_is_dumped(workdir: Path) -> None:
    write(workdir / "threads.py", THREAD_CRASH % "")
    proc = run([PYTHON, "threads.py"], workdir)
    assert proc.returncode == 0 and proc.stdout == "main goes on\n"
    assert proc.stderr == "KeyError: 'missing'\nTraceback dumped into: thread.pkl\n"
    dump = tbdump.load(workdir / "thread.pkl")
    assert dump.threads[0].name == "worker-1" and dump.threads[0].crashed
    assert dump.frames[-1].name == "work" and dump.frames[-1].locals == {"job": 7}
    assert "MainThread" in [t.name for t in dump.threads[1:]]


def test_set_excepthook_leaves_threads_to_python_when_asked(workdir: Path) -> None:
    write(workdir / "threads.py", THREAD_CRASH % ", threads=False")
    proc = run([PYTHON, "threads.py"], workdir)
    assert (proc.returncode, proc.stdout) == (0, "main goes on\n"), proc.stderr
    assert proc.stderr.startswith("Exception in thread worker-1:\nTraceback (most recent call last):\n")
    assert proc.stderr.endswith("KeyError: 'missing'\n") and "Traceback dumped into" not in proc.stderr
    assert not (workdir / "thread.pkl").exists()


@pytest.mark.parametrize("launch", [["-m", "tbdump", "threads.py"], ["threads.py", "--hook"]])
def test_a_threads_sys_exit_ends_that_thread_alone_and_silently_as_under_python(workdir: Path, launch) -> None:
    """Python's threading.excepthook ignores SystemExit: a worker's sys.exit() is no crash."""
    write(workdir / "threads.py", """
        import sys, threading, tbdump
        if "--hook" in sys.argv:
            tbdump.set_excepthook()
        t = threading.Thread(target=sys.exit, args=(3,))
        t.start(); t.join()
        print('main goes on')
    """)
    plain = run([PYTHON, "threads.py"], workdir)
    proc = run([PYTHON, *launch], workdir)
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "main goes on\n", "")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "main goes on\n", ""), proc
    assert not (workdir / "traceback.pkl").exists()


def test_a_target_python_cannot_start_is_one_line_and_keeps_the_last_dump(workdir: Path) -> None:
    write(workdir / "divide.py", DIVIDE)
    run([PYTHON, "-m", "tbdump", "divide.py", "5", "0"], workdir)
    last = (workdir / "traceback.pkl").read_bytes()
    (workdir / "pkgdir").mkdir()
    for target, says in ((["-m", "divde"], "No module named divde"),
                         (["pkgdir"], "can't find '__main__' module in %r" % str(workdir / "pkgdir"))):
        plain = run([PYTHON, *target], workdir)
        proc = run([PYTHON, "-m", "tbdump", *target, "5", "0"], workdir)
        assert plain.stderr.endswith(": %s\n" % says), plain   # python's own words
        assert (proc.returncode, proc.stderr) == (plain.returncode, "tbdump: %s\n" % says), proc
        assert (workdir / "traceback.pkl").read_bytes() == last


def test_a_run_that_would_dump_over_the_file_to_keep_is_refused_in_one_line(workdir: Path) -> None:
    """`python -m tbdump traceback.pkl` (the dump, run by mistake) and `-o divide.py divide.py`
    would each write a crash's dump over the file the person meant to keep; an empty `-o` would
    find nowhere to write only at the crash."""
    write(workdir / "divide.py", DIVIDE)
    run([PYTHON, "-m", "tbdump", "divide.py", "5", "0"], workdir)
    last = (workdir / "traceback.pkl").read_bytes()
    proc = run([PYTHON, "-m", "tbdump", "traceback.pkl"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == \
        (2, "", "tbdump: traceback.pkl is a dump, not a program; to open it: python -m tbdebug traceback.pkl\n")
    assert (workdir / "traceback.pkl").read_bytes() == last
    proc = run([PYTHON, "-m", "tbdump", "-o", "./divide.py", "divide.py", "5", "0"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == \
        (2, "", "tbdump: -o ./divide.py is the program itself; its dump would overwrite it\n")
    assert (workdir / "divide.py").read_text() == DIVIDE
    usage = "usage: python -m tbdump [-o PATH]"
    for option, says in ((["-o", ""], "-o needs a path"), (["--output="], "--output needs a path"),
                         (["--log-dumps", ""], "--log-dumps needs a directory")):
        proc = run([PYTHON, "-m", "tbdump", *option, "divide.py", "5", "0"], workdir)
        assert proc.returncode == 2 and proc.stderr.startswith(f"tbdump: {says}\n{usage}"), proc
    assert (workdir / "traceback.pkl").read_bytes() == last



def test_tbdump_report_says_python_m_tbdump_report(workdir: Path) -> None:
    """`tbdump report DUMP`, for `python -m tbdump.report DUMP`: python's words for a file that is
    not there, then the way to show the dump."""
    plain = run([PYTHON, "report", "traceback.pkl"], workdir)
    proc = run([PYTHON, "-m", "tbdump", "report", "traceback.pkl"], workdir)
    assert proc.returncode == plain.returncode == 2
    assert proc.stderr == "tbdump" + plain.stderr[plain.stderr.index(":"):].rstrip("\n") + \
        "; to show a dump: python -m tbdump.report traceback.pkl\n", (plain.stderr, proc.stderr)


@pytest.mark.parametrize("argv, says", [
    ([], "nothing to run"), (["-t", "--no-threads"], "nothing to run"), (["--"], "nothing to run"),
    (["-m"], "argument expected for the -m option"), (["-t", "-c"], "argument expected for the -c option"),
    (["-o"], "-o needs a path"), (["--log-dumps"], "--log-dumps needs a directory"),
])
def test_a_command_line_with_nothing_to_run_is_one_usage_error(workdir: Path, argv: List[str], says: str) -> None:
    """Python's own words for -m and -c without their argument."""
    proc = run([PYTHON, "-m", "tbdump", *argv], workdir)
    assert (proc.returncode, proc.stdout) == (2, "") and proc.stderr.startswith(
        "tbdump: %s\nusage: python -m tbdump [-o PATH]" % says), proc
    assert not list(workdir.iterdir())


def test_double_dash_ends_tbdumps_options_as_it_ends_pythons(workdir: Path) -> None:
    """A script whose name starts with a dash runs after `--`, with the arguments python gives it."""
    write(workdir / "-argv.py", """
        import sys
        print(sys.argv)
        raise ValueError(sys.argv[1:])
    """)
    plain = run([PYTHON, "--", "-argv.py", "-o", "x"], workdir)
    under = run([PYTHON, "-m", "tbdump", "-o", "out.pkl", "--", "-argv.py", "-o", "x"], workdir)
    assert (under.returncode, under.stdout) == (plain.returncode, plain.stdout) == (1, "['-argv.py', '-o', 'x']\n")
    assert under.stderr == "%s\nTraceback dumped into: out.pkl\n" % plain.stderr.splitlines()[-1]
    assert tbdump.load(workdir / "out.pkl").exception.message == "['-o', 'x']"


def test_runner_keeps_other_threads_stacks_unless_told_not_to(workdir: Path) -> None:
    write(workdir / "busy.py", """
        import sys, threading
        stop = threading.Event()
        threading.Thread(target=stop.wait, name='idler', daemon=True).start()
        def work(job):
            return {'job': job}['missing']
        if sys.argv[1] == 'thread':
            t = threading.Thread(target=work, args=(7,), name='worker-1')
            t.start(); t.join()
        else:
            work(7)
    """)
    for where, crashed, others in (("main", "MainThread", {"idler"}),
                                   ("thread", "worker-1", {"MainThread", "idler"})):
        for flags, kept in (([], others), (["--no-threads"], set())):
            proc = run([PYTHON, "-m", "tbdump", *flags, "busy.py", where], workdir)
            assert proc.stderr == "KeyError: 'missing'\nTraceback dumped into: traceback.pkl\n", proc
            dump = tbdump.load(workdir / "traceback.pkl")
            assert dump.threads[0].name == crashed and dump.threads[0].crashed, dump.threads
            assert {t.name for t in dump.threads[1:]} == kept, (where, flags, dump.threads)


def test_dump_exception_seed_program_keeps_frames_above_handler(workdir: Path) -> None:
    write(workdir / "divide.py", """
        import sys
        from tbdump import dump_exception

        def div(x, y):
            return x / y

        def compute(a, b):
            try:
                x = int(a)
                y = int(b)
                print(div(x, y))
            except  Exception as exc:
                try:
                    dumpfile = 'traceback.pkl'
                    dump_exception(exc, dumpfile)
                    print(f'{type(exc).__name__}: {exc}')
                    print(f'Traceback dumped into: {dumpfile}')
                except Exception:
                    print('Failed to dump traceback')

        def main():
            compute(sys.argv[1], sys.argv[2])

        if __name__ == '__main__':
            main()
    """)
    proc = run([PYTHON, "divide.py", "5", "0"], workdir)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, SEED_MESSAGE, "")
    dump = tbdump.load(workdir / "traceback.pkl")
    assert [(f.name, f.above_handler) for f in dump.frames] == [
        ("<module>", True), ("main", True), ("compute", False), ("div", False)]
    assert dump.frames[2].locals["a"] == "5"


def test_dump_exception_leaves_the_frames_above_the_handler_out_when_asked(workdir: Path) -> None:
    write(workdir / "prog.py", """
        from tbdump import dump_exception
        def div(x, y):
            return x / y
        def compute():
            try:
                div(5, 0)
            except ZeroDivisionError as exc:
                dump_exception(exc, 'above.pkl')
                dump_exception(exc, 'alone.pkl', above_handler=False)
        def main():
            compute()
        main()
    """)
    proc = run([PYTHON, "prog.py"], workdir)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    above = tbdump.load(workdir / "above.pkl")
    assert [(f.name, f.above_handler) for f in above.frames] == [
        ("<module>", True), ("main", True), ("compute", False), ("div", False)]
    alone = tbdump.load(workdir / "alone.pkl")
    assert [(f.name, f.above_handler) for f in alone.frames] == [("compute", False), ("div", False)]


def test_dump_exception_into_unwritable_place_says_so(workdir: Path) -> None:
    write(workdir / "prog.py", """
        import tbdump
        try:
            1/0
        except Exception as e:
            try:
                tbdump.dump_exception(e, 'blocker/x.pkl')
            except tbdump.DumpWriteError as err:
                print('error:', err)
    """)
    (workdir / "blocker").write_text("a file where a folder would be")
    proc = run([PYTHON, "prog.py"], workdir)
    assert proc.stdout.startswith("error: cannot write blocker/x.pkl: not a directory")


def test_make_demo_crashes_the_calculator_and_shows_the_dump(workdir: Path) -> None:
    if shutil.which("make") is None:
        raise AssertionError("make is required")
    # -o venv: the venv step would reinstall the shared venv's editable tbdump from this tree
    # for every clone using that venv (DEVELOPMENT.md); the demo's own commands run this tree.
    proc = run(["make", "--no-print-directory", "-s", "-o", "venv", "demo"], REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == SEED_MESSAGE  # the crash's two lines, and nothing from make
    assert 'File "%s", line 5, in div' % (REPO / "examples" / "divide.py") in proc.stdout
    assert "x = 5 (int)" in proc.stdout and "y = 0 (int)" in proc.stdout
    assert "(exit status 1, as Python's own)" in proc.stdout
