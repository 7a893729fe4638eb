"""``tbdump.DumpHandler`` as a server's owner uses it: set up by ``logging.config.dictConfig`` in a real
server (a threaded WSGI one and an asyncio one) that answers a failing request with 500 and logs its
exception as web frameworks do; real HTTP requests; the dumps opened with ``tbdump.load``, tbdebug
and tbdap.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest

import tbdump
from ..conftest import PYTHON, cached_venv, env_for_child, run, write
from ..dap.dapclient import DapClient

# A web framework's way with a view that raises: answer 500, log the exception, serve on.
# GET /price/N answers prices[N]; /pair/N waits in the view until a second /pair/ request is
# there too, so two requests fail at once.
WSGI_SERVER = """
    import json, logging.config, sys, threading
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    logging.config.dictConfig(json.loads(sys.argv[1]))
    log = logging.getLogger("app.request")
    both_in = threading.Barrier(2)

    def view(path):
        kind, _, item = path.strip("/").partition("/")
        item_id = int(item)
        if kind == "pair":
            both_in.wait(30)
        prices = {1: 3}
        return prices[item_id]

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        try:
            body, status = b"%d" % view(path), "200 OK"
        except Exception:
            log.exception("Internal Server Error: %s", path)
            body, status = b"error", "500 Internal Server Error"
        start_response(status, [("Content-Length", str(len(body)))])
        return [body]

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, app, Server, Quiet)
    print(server.server_port, flush=True)
    server.serve_forever()
"""

ASYNC_SERVER = """
    import asyncio, json, logging.config, sys

    logging.config.dictConfig(json.loads(sys.argv[1]))
    log = logging.getLogger("app.request")
    waiting = []

    async def view(path):
        item_id = int(path.rsplit("/", 1)[1])
        arrived = asyncio.Event()
        waiting.append(arrived)
        if len(waiting) % 2 == 0:   # requests come in pairs: both are in the view now
            for event in waiting[-2:]:
                event.set()
        await arrived.wait()
        prices = {1: 3}
        return prices[item_id]

    async def handle(reader, writer):
        path = (await reader.readline()).split()[1].decode()
        while (await reader.readline()) not in (b"\\r\\n", b""):
            pass
        try:
            body, status = b"%d" % await view(path), b"200 OK"
        except Exception:
            log.exception("Internal Server Error: %s", path)
            body, status = b"error", b"500 Internal Server Error"
        writer.write(b"HTTP/1.1 %s\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s" % (status, len(body), body))
        await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())
"""

# Flask's own: it answers a view's exception with 500 and logs it through app.logger.
FLASK_SERVER = """
    import json, logging.config, sys
    from flask import Flask
    from werkzeug.serving import make_server

    logging.config.dictConfig(json.loads(sys.argv[1]))
    app = Flask("shop")

    @app.route("/price/<int:item_id>")
    def price(item_id):
        prices = {1: 3}
        return str(prices[item_id])

    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.port, flush=True)
    server.serve_forever()
"""
FLASK_REQUIREMENTS = Path(__file__).with_name("flask-requirements.txt")

# A job whose failure is logged, after a program's set-up that names its logger ``log``.
FAILING_JOB = """
        def work(n):
            raise KeyError(n)
        try:
            work(1)
        except KeyError:
            log.exception("job failed")
"""

DUMP_NAME = re.compile(r"\A\d{8}T\d{6}\.\d{6}Z-KeyError-\d+-\d+\.tbdump\Z")


def logging_config(**dumps: Any) -> Dict[str, Any]:
    """What a Django LOGGING setting or a gunicorn logconfig_dict holds: Python's console handler,
    and tbdump's with ``dumps`` as its keyword arguments."""
    return {"version": 1,
            "handlers": {"console": {"class": "logging.StreamHandler"},
                         "dumps": dict({"class": "tbdump.DumpHandler", "level": "ERROR"}, **dumps)},
            "root": {"handlers": ["console", "dumps"], "level": "INFO"}}


class Server:
    """A server program of this module, running in ``cwd``."""

    def __init__(self, cwd: Path, source: Optional[str], config: Dict[str, Any], preexec_fn: Any = None,
                 python: str = PYTHON, runner: Sequence[str] = (), args: Optional[Sequence[str]] = None,
                 announced: Optional["re.Pattern[str]"] = None) -> None:
        """``runner``: what runs the server before its name (``-m tbdump --log-dumps DIR``).  This
        module's servers print their port alone on stdout.  A framework's: ``source`` None (the
        test wrote its files), ``args`` its command line after ``runner``, and ``announced`` the
        line that says which port it took, in its output (stdout and stderr as one)."""
        cwd.mkdir(parents=True, exist_ok=True)
        if source is not None:
            write(cwd / "server.py", source)
        self.process = subprocess.Popen(
            [python, *runner, *(["server.py", json.dumps(config)] if args is None else args)], cwd=str(cwd),
            env=env_for_child({"PYTHONUNBUFFERED": "1"}), stdout=subprocess.PIPE, text=True, preexec_fn=preexec_fn,
            stderr=subprocess.PIPE if announced is None else subprocess.STDOUT)
        self.announced = announced
        self.said: List[str] = []   # a framework's output, as far as it was read
        self.port = int(self.read_until(re.compile(r"\A(\d+)\n\Z") if announced is None else announced).group(1))

    def read_until(self, pattern: "re.Pattern[str]", start: int = 0) -> "re.Match[str]":
        """What ``pattern`` finds first in the server's output from its ``start``-th line on, read
        as far as needed (this module's servers: in their first line)."""
        for line in self.said[start:]:
            found = pattern.search(line)
            if found:
                return found
        assert self.process.stdout is not None
        # A server that never says it (its logging configured away) ends the test, not the run.
        hung = threading.Timer(120, self.process.kill)
        hung.start()
        try:
            for line in self.process.stdout:
                self.said.append(line)
                found = pattern.search(line)
                if found:
                    return found
                if self.announced is None:
                    break
        finally:
            hung.cancel()
        self.process.kill()
        raise AssertionError("the server did not say %r: %s%s" % (pattern.pattern, "".join(self.said),
                                                                   self.process.communicate(timeout=60)))

    def get(self, path: str, headers: Optional[Dict[str, str]] = None) -> int:
        """The status of GET ``path``."""
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code

    def get_at_once(self, *paths: str) -> List[int]:
        statuses: List[Optional[int]] = [None] * len(paths)

        def one(n: int) -> None:
            statuses[n] = self.get(paths[n])
        threads = [threading.Thread(target=one, args=(n,)) for n in range(len(paths))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        return statuses  # type: ignore[return-value]

    def stop(self) -> str:
        """Stop the server (it is still running: it went on after every failure); its stderr (a
        framework's: all its output)."""
        assert self.process.poll() is None, "the server ended"
        self.process.terminate()
        stdout, stderr = self.process.communicate(timeout=60)
        return stderr if stderr is not None else "".join(self.said) + stdout


def dumps_in(directory: Path) -> List[Path]:
    return sorted(directory.glob("*.tbdump"))


def said(stderr: str, what: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith(what)]


def test_a_failed_request_is_dumped_with_the_view_and_the_servers_frames_above_and_the_server_goes_on(
        tmp_path: Path) -> None:
    server = Server(tmp_path, WSGI_SERVER, logging_config(directory="tbdumps"))
    assert server.get("/price/7") == 500
    assert server.get("/price/1") == 200
    stderr = server.stop()

    [path] = dumps_in(tmp_path / "tbdumps")
    assert DUMP_NAME.match(path.name)
    assert said(stderr, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    assert "Internal Server Error: /price/7" in stderr   # the console handler logged it as before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / "tbdumps" / ".gitignore").read_text().splitlines()[-1] == "*"

    dump = tbdump.load(path)
    assert (dump.exception.type, dump.exception.message) == ("KeyError", "7")
    assert dump.metadata.log == {"logger": "app.request", "level": "ERROR", "message": "Internal Server Error: /price/7"}
    own = [f for f in dump.frames if not f.above_handler]
    assert [f.name for f in own] == ["app", "view"]
    assert own[1].locals["item_id"] == 7 and own[1].locals["prices"] == {1: 3}
    assert own[0].locals["path"] == "/price/7"
    # The server's frames that called the handling one: wsgiref's, socketserver's, the thread's.
    above = [f.name for f in dump.frames if f.above_handler]
    assert {"run", "handle", "process_request_thread", "_bootstrap"} <= set(above)
    assert "emit" not in [f.name for f in dump.frames]   # nothing of logging's nor tbdump's
    assert "logged    ERROR app.request: Internal Server Error: /price/7" in run(
        [PYTHON, "-m", "tbdump.report", str(path)], tmp_path).stdout


def test_two_requests_failing_at_once_write_two_dumps_each_of_its_own(tmp_path: Path) -> None:
    server = Server(tmp_path, WSGI_SERVER, logging_config(directory="tbdumps"))
    assert server.get_at_once("/pair/5", "/pair/6") == [500, 500]
    stderr = server.stop()
    paths = dumps_in(tmp_path / "tbdumps")
    assert len(paths) == 2 and len(said(stderr, "Traceback dumped into")) == 2
    views = [[f for f in tbdump.load(p).frames if f.name == "view"][0] for p in paths]
    assert sorted(f.locals["item_id"] for f in views) == [5, 6]


def test_two_coroutines_failing_at_once_in_an_asyncio_server_write_two_dumps(tmp_path: Path) -> None:
    server = Server(tmp_path, ASYNC_SERVER, logging_config(directory="tbdumps"))
    assert server.get_at_once("/price/5", "/price/6") == [500, 500]
    assert server.get_at_once("/price/1", "/price/1") == [200, 200]
    stderr = server.stop()
    paths = dumps_in(tmp_path / "tbdumps")
    assert len(paths) == 2 and len(said(stderr, "Traceback dumped into")) == 2
    for path in paths:
        dump = tbdump.load(path)
        own = [f.name for f in dump.frames if not f.above_handler]
        assert own == ["handle", "view"]
        # Above the coroutine that handled it: the event loop that ran it, up to the program's line.
        above = [f.name for f in dump.frames if f.above_handler]
        assert above[0] == "<module>" and "run_forever" in above
    assert sorted(tbdump.load(p).frames[-1].locals["item_id"] for p in paths) == [5, 6]


def test_a_failing_endpoint_hit_again_and_again_leaves_a_bounded_number_of_dumps(tmp_path: Path) -> None:
    kept = Server(tmp_path / "kept", WSGI_SERVER, logging_config(directory="tbdumps", max_dumps=3,
                                                                 max_per_minute=None))
    assert [kept.get("/price/%d" % n) for n in range(10, 20)] == [500] * 10
    stderr = kept.stop()
    paths = dumps_in(tmp_path / "kept" / "tbdumps")
    assert len(said(stderr, "Traceback dumped into")) == 10
    # The latest three: a server that runs for months keeps its recent failures.
    assert [tbdump.load(p).exception.message for p in paths] == ["17", "18", "19"]

    rated = Server(tmp_path / "rated", WSGI_SERVER, logging_config(directory="tbdumps", max_per_minute=4))
    assert [rated.get("/price/%d" % n) for n in range(10, 20)] == [500] * 10
    stderr = rated.stop()
    paths = dumps_in(tmp_path / "rated" / "tbdumps")
    assert [tbdump.load(p).exception.message for p in paths] == ["10", "11", "12", "13"]
    assert said(stderr, "tbdump") == ["tbdump: not dumped: 4 logged exceptions were dumped in the last minute "
                                      "(max_per_minute); dumping resumes as that minute passes"]
    assert stderr.count("Internal Server Error") == 10   # the console handler logs each, as before


def _small_files() -> None:
    """The disk that is full: no file grows past 100 bytes (the .gitignore fits)."""
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))


@pytest.mark.parametrize("where, why", [("blocker/tbdumps", "not a directory"), ("tbdumps", "file too large")])
def test_a_dump_that_cannot_be_written_is_one_line_and_the_server_goes_on(tmp_path: Path, where: str,
                                                                          why: str) -> None:
    (tmp_path / "blocker").write_text("a file where the directory would be")
    server = Server(tmp_path, WSGI_SERVER, logging_config(directory=where),
                    preexec_fn=_small_files if why == "file too large" else None)
    assert [server.get("/price/7"), server.get("/price/8"), server.get("/price/1")] == [500, 500, 200]
    stderr = server.stop()
    lines = said(stderr, "tbdump")
    assert len(lines) == 2
    for line, n in zip(lines, (1, 2)):
        assert re.fullmatch(r"tbdump: cannot write %s/\d{8}T\d{6}\.\d{6}Z-KeyError-\d+-%d\.tbdump: %s"
                            % (re.escape(str(tmp_path / where)), n, why), line), line
    assert "Logging error" not in stderr and stderr.count("Traceback (most recent call last)") == 2
    assert not list(tmp_path.glob("**/*.tbdump*")) and not list(tmp_path.glob("**/.*.tmp"))


def test_the_smaller_dump_made_when_the_full_one_does_not_fit_keeps_the_log_record(tmp_path: Path) -> None:
    # The disk has room for the exception and its lines, not for the request's values: the last-resort
    # dump still says which logger logged it and why, its message redacted as the full dump's is.
    program = write(tmp_path / "prog.py", """
        import logging, os, resource, tbdump
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        log = logging.getLogger("api")
        log.addHandler(tbdump.DumpHandler("out"))

        def call(api_key):
            upload = os.urandom(50000)
            raise ConnectionError("refused")
        try:
            call("sk-123456789")
        except ConnectionError:
            log.exception("call failed with key %s", "sk-123456789")
    """)
    done = run([PYTHON, str(program)], tmp_path)
    assert done.returncode == 0, done.stderr
    [path] = dumps_in(tmp_path / "out")
    assert said(done.stderr, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    dump = tbdump.load(path)
    assert dump.metadata.cut == ["capture failed, only the exception and its lines are stored: "
                                 "OSError: [Errno 27] File too large"]
    assert dump.metadata.log == {"logger": "api", "level": "ERROR", "message": "call failed with key <redacted>"}


def test_only_records_at_the_handlers_level_with_an_exception_are_dumped(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import logging, tbdump
        log = logging.getLogger("job")
        log.addHandler(tbdump.DumpHandler("out", level=logging.WARNING, silent=True))
        log.error("no exception here")
        log.exception("outside any except: exc_info is (None, None, None)")
        try:
            {}["missing"]
        except KeyError:
            log.info("below the level", exc_info=True)
            log.warning("retrying", exc_info=True)
    """)
    done = run([PYTHON, str(program)], tmp_path)
    assert done.returncode == 0 and "Traceback dumped into" not in done.stderr, done.stderr
    [path] = dumps_in(tmp_path / "out")
    assert tbdump.load(path).metadata.log == {"logger": "job", "level": "WARNING", "message": "retrying"}


def test_the_logged_message_is_redacted_as_an_exception_message_is(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import logging, tbdump
        log = logging.getLogger("api")
        log.addHandler(tbdump.DumpHandler("out", silent=True))

        def call(api_key):
            raise ConnectionError("refused")
        try:
            call("sk-123456789")
        except ConnectionError:
            log.exception("call failed with key %s", "sk-123456789")
    """)
    assert run([PYTHON, str(program)], tmp_path).returncode == 0
    [path] = dumps_in(tmp_path / "out")
    message = tbdump.load(path).metadata.log["message"]
    assert "sk-123456789" not in message and message.startswith("call failed with key ")
    assert "sk-123456789" not in path.name


def test_a_logged_exceptions_dump_opens_in_pdb_and_in_vs_codes_adapter(tmp_path: Path) -> None:
    server = Server(tmp_path, WSGI_SERVER, logging_config(directory="tbdumps"))
    assert server.get("/price/9") == 500
    server.stop()
    [path] = dumps_in(tmp_path / "tbdumps")
    done = run([PYTHON, "-m", "tbdebug", str(path)], tmp_path, stdin="p item_id\nq\n")
    assert done.returncode == 0, done.stderr
    line = (tmp_path / "server.py").read_text().splitlines().index("    return prices[item_id]") + 1
    assert "server.py(%d)view()\n-> return prices[item_id]" % line in done.stdout and "(Pdb) 9\n" in done.stdout

    client = DapClient.tbdap()
    try:
        client.initialize()
        stopped = client.start("launch", {"dumpFile": str(path)})
        assert stopped["body"]["text"] == "KeyError"
        frames = client.ok("stackTrace", {"threadId": 1})["stackFrames"]
        assert [f["name"] for f in frames[:2]] == ["view", "app"]
        answer = client.ok("evaluate", {"expression": "item_id * 2", "frameId": frames[0]["id"], "context": "repl"})
        assert answer["result"] == "18"
    finally:
        client.close()   # fails the test on any message the DAP schema rejects


def test_a_bad_limit_is_refused_when_logging_is_configured(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import json, logging.config, sys
        logging.config.dictConfig(json.loads(sys.argv[1]))
    """)
    done = run([PYTHON, str(program), json.dumps(logging_config(max_dumps=0))], tmp_path)
    assert done.returncode == 1
    assert "DumpHandler: max_dumps must be a whole number of 1 or more, or None: 0" in done.stderr
    assert not os.path.exists(tmp_path / "tbdumps")


CONFIGURED_JOB = """
        import json, logging.config, sys
        if sys.argv[1] == "dict":
            logging.config.dictConfig(json.loads(sys.argv[2]))
        else:
            logging.config.fileConfig(sys.argv[2])
        log = logging.getLogger("job")

        def work(customer, items, note):
            raise KeyError(customer)
        try:
            work("ada lovelace", list(range(10)), "n" * 50)
        except KeyError:
            log.exception("job failed")
"""

FILE_CONFIG = """
    [loggers]
    keys=root
    [handlers]
    keys=dumps
    [formatters]
    keys=
    [logger_root]
    handlers=dumps
    [handler_dumps]
    class=tbdump.DumpHandler
    args=("tbdumps",)
    kwargs={"budgets": {"preview_items": 2, "max_string": 12}, "redaction": {"add": ["customer"]}, "key": "s3cret"}
"""


@pytest.mark.parametrize("how", ["dict", "file"])
def test_budgets_and_redaction_are_set_from_a_logging_configurations_plain_data(tmp_path: Path, how: str) -> None:
    """A configuration file holds data, not a Budgets or a Redaction: the handler takes a mapping
    of their keywords (dictConfig refused `budgets: {...}` with "Unable to configure handler")."""
    program = write(tmp_path / "prog.py", CONFIGURED_JOB)
    config = json.dumps(logging_config(budgets={"preview_items": 2, "max_string": 12},
                                       redaction={"add": ["customer"]}, key="s3cret"))
    if how == "file":
        config = str(write(tmp_path / "logging.ini", FILE_CONFIG))
    done = run([PYTHON, str(program), how, config], tmp_path)
    assert done.returncode == 0, done.stderr
    [path] = dumps_in(tmp_path / "tbdumps")
    dump = tbdump.load(path, key=b"s3cret")
    assert dump.signature_problem is None and dump.objects_allowed   # signed with the configured key
    variables = dump.frames[-1].variables
    assert variables["customer"].redacted == "name matches 'customer'"
    assert len(variables["items"].children or ()) == 2 and variables["items"].more == 8
    assert len(variables["note"].repr) < 20 and dump.frames[-1].locals["note"] == "n" * 50   # cut near 12


@pytest.mark.parametrize("setting, said", [
    ({"budgets": {"preview_deth": 1}}, "ValueError: DumpHandler: budgets: no setting named 'preview_deth' "
                                       "(the settings: max_bytes, max_seconds, value_seconds, preview_depth,"),
    ({"budgets": {"preview_depth": "two"}}, "ValueError: Budgets: preview_depth='two': expected a whole number, "
                                            "0 or more"),
    ({"redaction": {"add": "customer"}}, "TypeError: Redaction: add= takes a list of strings, not one string: "
                                         "'customer'"),
    ({"redaction": {"keep_environ": "no"}}, "TypeError: Redaction: keep_environ= takes True, False or None, "
                                            "not 'no'"),
    ({"budgets": "fast"}, "TypeError: DumpHandler: budgets= takes a tbdump.budget.Budgets, a mapping of "
                          "Budgets.from_env's keywords or None, not str"),
], ids=["unknown", "bad-value", "one-string", "switch-as-text", "not-a-mapping"])
def test_a_bad_setting_in_a_logging_configuration_is_refused_saying_which(tmp_path: Path, setting: Dict[str, Any],
                                                                          said: str) -> None:
    """Refused as the program configures logging, in the words Budgets and Redaction use from code;
    a lone string was taken letter by letter (every name with a "c" in it redacted), and a
    switch's "no" as true (keep_environ: "no" kept the environment's values)."""
    program = write(tmp_path / "prog.py", CONFIGURED_JOB)
    done = run([PYTHON, str(program), "dict", json.dumps(logging_config(**setting))], tmp_path)
    assert done.returncode == 1 and said in done.stderr, done.stderr
    assert not os.path.exists(tmp_path / "tbdumps")


def test_a_value_that_logs_an_exception_while_it_is_captured_gets_no_dump_of_its_own(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import logging, tbdump
        log = logging.getLogger("job")
        log.addHandler(tbdump.DumpHandler("out"))

        class Noisy:
            def __repr__(self):
                try:
                    1 / 0
                except ZeroDivisionError:
                    log.exception("repr failed")
                return "<Noisy>"

        def work(item):
            raise ValueError("bad item")
        try:
            work(Noisy())
        except ValueError:
            log.exception("job failed")
    """)
    done = run([PYTHON, str(program)], tmp_path)
    assert done.returncode == 0, done.stderr
    [path] = dumps_in(tmp_path / "out")
    assert said(done.stderr, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    dump = tbdump.load(path)
    assert dump.exception.type == "ValueError" and dump.frames[-1].variables["item"].repr == "<Noisy>"


def test_an_asyncio_tasks_exception_nobody_retrieved_is_dumped_from_the_event_loops_log(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import asyncio, gc, logging, tbdump
        logging.getLogger().addHandler(tbdump.DumpHandler("out"))

        async def fetch(url):
            raise ConnectionError("refused: " + url)

        async def main():
            task = asyncio.create_task(fetch("http://db:5432"))
            await asyncio.sleep(0.01)
            del task
            gc.collect()   # the task's end: the loop logs "Task exception was never retrieved"
        asyncio.run(main())
    """)
    done = run([PYTHON, str(program)], tmp_path)
    assert done.returncode == 0, done.stderr
    [path] = dumps_in(tmp_path / "out")
    dump = tbdump.load(path)
    assert dump.metadata.log["logger"] == "asyncio"
    assert dump.metadata.log["message"].startswith("Task exception was never retrieved")
    assert [f.name for f in dump.frames] == ["fetch"] and dump.frames[0].locals["url"] == "http://db:5432"


def test_a_flask_views_exception_is_dumped_with_flasks_and_werkzeugs_frames_above(tmp_path: Path) -> None:
    try:
        python = cached_venv(FLASK_REQUIREMENTS, "flask")
    except RuntimeError as exc:  # offline: a skip would pass a run that tested no Flask
        pytest.fail(str(exc))
    server = Server(tmp_path, FLASK_SERVER, logging_config(directory="tbdumps"), python=str(python))
    assert [server.get("/price/7"), server.get("/price/1")] == [500, 200]
    stderr = server.stop()
    [path] = dumps_in(tmp_path / "tbdumps")
    assert said(stderr, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    dump = tbdump.load(path)
    assert dump.metadata.log == {"logger": "shop", "level": "ERROR", "message": "Exception on /price/7 [GET]"}
    assert dump.frames[-1].name == "price" and dump.frames[-1].locals["item_id"] == 7
    own = [f.name for f in dump.frames if not f.above_handler]
    assert own[0] == "wsgi_app" and "dispatch_request" in own    # Flask's handler, and the view's callers
    above = [f.name for f in dump.frames if f.above_handler]
    assert {"__call__", "run_wsgi", "handle_one_request", "process_request_thread"} <= set(above)
    assert dump.metadata.packages.get("flask") == "3.1.3"


def test_a_dump_holds_the_handler_as_a_placeholder_never_its_signing_key(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import logging, tbdump
        log = logging.getLogger("job")
        log.addHandler(tbdump.DumpHandler("out", key=b"s3cret-signing-key", silent=True))
    """ + FAILING_JOB)
    assert run([PYTHON, str(program)], tmp_path).returncode == 0
    [path] = dumps_in(tmp_path / "out")
    assert b"s3cret-signing-key" not in path.read_bytes()
    dump = tbdump.load(path, key=b"s3cret-signing-key")
    [handler] = dump.frames[0].globals["log"].handlers
    assert isinstance(handler, tbdump.Placeholder) and "tbdump's log handler" in repr(handler)


PLAIN_LOGGING = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
                 "root": {"handlers": ["console"], "level": "INFO"}}


def test_python_m_tbdump_log_dumps_dumps_a_logging_configuration_without_tbdumps_handler(tmp_path: Path) -> None:
    server = Server(tmp_path, WSGI_SERVER, PLAIN_LOGGING, runner=["-m", "tbdump", "--log-dumps", "tbdumps"])
    assert [server.get("/price/7"), server.get("/price/1")] == [500, 200]
    stderr = server.stop()
    [path] = dumps_in(tmp_path / "tbdumps")
    assert said(stderr, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    assert "Internal Server Error: /price/7" in stderr   # the program's own handler, as it set it up
    dump = tbdump.load(path)
    assert dump.metadata.log["message"] == "Internal Server Error: /price/7"
    assert [f.name for f in dump.frames if not f.above_handler] == ["app", "view"]
    above = [f.name for f in dump.frames if f.above_handler]
    assert "process_request_thread" in above and "_run_file" not in above   # nothing of the runner's


def test_log_dumps_leaves_the_programs_basic_config_as_it_was(tmp_path: Path) -> None:
    program = write(tmp_path / "prog.py", """
        import logging
        logging.basicConfig(format="LOGGED %(levelname)s %(message)s")
        log = logging.getLogger("job")
    """ + FAILING_JOB + """
        try:
            work(2)
        except KeyError:
            log.warning("a warning", exc_info=True)   # below ERROR: logged, not dumped
    """)
    plain = run([PYTHON, str(program)], tmp_path)
    done = run([PYTHON, "-m", "tbdump", "--log-dumps=out", str(program)], tmp_path)
    [path] = dumps_in(tmp_path / "out")
    assert done.returncode == plain.returncode == 0
    # Said as the record is made, while its frames are there: before the program's handler prints it.
    assert done.stderr == "Traceback dumped into: %s\n" % path + plain.stderr
    assert plain.stderr.startswith("LOGGED ERROR job failed\nTraceback") and "LOGGED WARNING a warning" in plain.stderr
    assert tbdump.load(path).frames[-1].locals["n"] == 1
