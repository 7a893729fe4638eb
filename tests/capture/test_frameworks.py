"""``tbdump.DumpHandler`` and ``python -m tbdump --log-dumps`` under the servers the README names, as
their users run them: Django's runserver, FastAPI under uvicorn, gunicorn's sync workers, each on
its own command line in a subprocess (pinned in frameworks-requirements.txt, one cached venv),
answering real HTTP requests; the README's logging recipe in each framework's own setting.
"""
from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pytest

import tbdump
from tbdump.container import ContainerReader
from ..conftest import cached_venv, write
from .test_logging import Server, dumps_in, said

REQUIREMENTS = Path(__file__).with_name("frameworks-requirements.txt")
LISTENING = re.compile(r"http://127\.0\.0\.1:(\d+)")   # how each of them says the port it took
LOG_DUMPS = ("-m", "tbdump", "--log-dumps", "tbdumps")

# The README's recipe, as a Django LOGGING setting or a dictConfig holds it.
RECIPE: Dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"tbdump": {"class": "tbdump.DumpHandler", "directory": "tbdumps"}},
    "root": {"handlers": ["tbdump"]},
}

SECRET_KEY = "django-insecure-k3y-that-signs-sessions-0123456789"
SESSION_COOKIE = "q8v1sessioncookievalue0123456789abcdef"
CSRF_COOKIE = "Zr7csrfcookievalue0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def python() -> str:
    try:
        return str(cached_venv(REQUIREMENTS, "frameworks"))
    except RuntimeError as exc:  # offline: a skip would pass a run that tested no framework
        pytest.fail(str(exc))


def framework_server(cwd: Path, python: str, args: Sequence[str], log_dumps: bool) -> Server:
    """The framework's own command line, under ``python -m tbdump --log-dumps tbdumps`` or not."""
    return Server(cwd, None, {}, python=python, runner=LOG_DUMPS if log_dumps else (), args=args,
                  announced=LISTENING)


def accepting(port: int) -> None:
    """Wait until ``port`` takes connections: uvicorn says its port when it has bound it, and its
    --workers listen on it later."""
    for _ in range(1200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=60).close()
            return
        except ConnectionRefusedError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on port %d" % port)


def member_texts(path: Path) -> bytes:
    """Every member of the dump at ``path``, decompressed: where a secret could be."""
    reader = ContainerReader(str(path))
    try:
        return b"\0".join(reader.read(name) for name in reader.manifest["members"])
    finally:
        reader.close()


def frame_names(dump: Any, above: bool) -> List[str]:
    return [f.name for f in dump.frames if f.above_handler == above]


def django_site(cwd: Path, logging: Dict[str, Any], settings: str = "") -> None:
    """A Django project in ``cwd``: GET /price/N answers prices[N] (a KeyError but for 1), with
    sessions and a CSRF token; ``logging`` its LOGGING setting, ``settings`` more of its settings."""
    write(cwd / "settings.py", settings + """
        SECRET_KEY = %r
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1"]
        ROOT_URLCONF = "shop"
        INSTALLED_APPS = ["django.contrib.sessions"]
        MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
                      "django.middleware.csrf.CsrfViewMiddleware"]
        SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
        LOGGING = %r
    """ % (SECRET_KEY, logging))
    write(cwd / "shop.py", """
        from django.http import HttpResponse
        from django.middleware.csrf import get_token
        from django.urls import path

        def price(request, item_id):
            token = get_token(request)
            prices = {1: 3}
            return HttpResponse(str(prices[item_id]))

        urlpatterns = [path("price/<int:item_id>", price)]
    """)
    write(cwd / "manage.py", """
        import os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """)


@pytest.mark.parametrize("log_dumps", [False, True], ids=["LOGGING", "log-dumps"])
def test_a_django_views_exception_is_dumped_with_djangos_frames_and_the_request_its_secrets_hidden(
        tmp_path: Path, python: str, log_dumps: bool) -> None:
    django_site(tmp_path, {} if log_dumps else RECIPE)
    server = framework_server(tmp_path, python, ["manage.py", "runserver", "--noreload", "127.0.0.1:0"], log_dumps)
    cookies = {"Cookie": "sessionid=%s; csrftoken=%s" % (SESSION_COOKIE, CSRF_COOKIE)}
    assert [server.get("/price/7", cookies), server.get("/price/8"), server.get("/price/1")] == [500, 500, 200]
    output = server.stop()
    paths = dumps_in(tmp_path / "tbdumps")
    assert len(paths) == 2 and said(output, "Traceback dumped into") == ["Traceback dumped into: %s" % p for p in paths]

    dump = tbdump.load(paths[0])
    assert dump.metadata.log == {"logger": "django.request", "level": "ERROR", "message": "Internal Server Error: /price/7"}
    view = dump.frames[-1]
    assert view.name == "price" and view.locals["item_id"] == 7
    # Django's handler that caught it and the view's callers, then its WSGI handler and the server's.
    assert frame_names(dump, above=False)[0] == "inner" and "_get_response" in frame_names(dump, above=False)
    assert {"get_response", "handle_one_request", "process_request_thread"} <= set(frame_names(dump, above=True))
    assert dump.metadata.packages.get("django") == "5.2.19"

    request = view.variables["request"]
    assert request.repr == "<WSGIRequest: GET '/price/7'>"
    assert [request.child(a).repr for a in (".method", ".path")] == ["'GET'", "'/price/7'"]   # type: ignore[union-attr]
    assert "kwargs={'item_id': 7}" in request.child(".resolver_match").repr   # type: ignore[union-attr]
    assert request.child(".COOKIES").redacted and view.variables["token"].redacted   # type: ignore[union-attr]
    # runserver's environ is a copy of the environment, with the request's own items: those show.
    meta = view.locals["request"].META
    assert (meta["REQUEST_METHOD"], meta["PATH_INFO"]) == ("GET", "/price/7")
    assert meta["HTTP_COOKIE"] == "<redacted: name matches 'cookie'>" and meta["PATH"] == "<redacted: environment variable>"
    # The session store shows as its class, though SESSION_ENGINE, which names its module, is hidden.
    assert request.child(".session").repr.startswith(   # type: ignore[union-attr]
        "<django.contrib.sessions.backends.signed_cookies.SessionStore object"), request.child(".session")
    # The settings that name the cookies and header holding secrets, and the cache: names, shown and not
    # hidden from other texts ("default" was, the keys of DATABASES and CACHES); SECRET_KEY stays hidden.
    [handler] = [f for f in dump.frames if f.name == "_get_response"]
    settings = dump.globals_of(handler)["settings"]
    names = ("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "CSRF_HEADER_NAME", "SESSION_CACHE_ALIAS")
    assert [settings.child("." + name).repr for name in names] == [   # type: ignore[union-attr]
        "'sessionid'", "'csrftoken'", "'HTTP_X_CSRFTOKEN'", "'default'"]
    assert settings.child(".CACHES").repr.startswith("{'default': ")   # type: ignore[union-attr]
    assert settings.child(".SECRET_KEY").redacted   # type: ignore[union-attr]
    # Settings whose last word says what they hold (a time, a model, code, a flag) hold no secret.
    kinds = ("AUTH_USER_MODEL", "SESSION_COOKIE_AGE", "PASSWORD_RESET_TIMEOUT", "SESSION_COOKIE_PATH",
             "CSRF_COOKIE_SECURE")
    assert [settings.child("." + name).repr for name in kinds] == [   # type: ignore[union-attr]
        "'auth.User'", "1209600", "259200", "'/'", "False"]
    assert settings.child(".PASSWORD_HASHERS").repr.startswith(   # type: ignore[union-attr]
        "['django.contrib.auth.hashers.PBKDF2PasswordHasher', ")
    assert settings.child(".EMAIL_HOST_PASSWORD").redacted   # type: ignore[union-attr]
    texts = member_texts(paths[0])
    for secret in (SECRET_KEY, SESSION_COOKIE, CSRF_COOKIE):
        assert secret.encode() not in texts, secret
    assert tbdump.load(paths[1]).frames[-1].locals["item_id"] == 8


def crashes_before_and_after_reload(server: Server, cwd: Path) -> Tuple[Any, Any]:
    """After /price/7 failed and the app's prices became {1: 4} in a reloaded server: /price/8 fails,
    /price/1 answers, and the server's two dumps, each said, of processes of their own."""
    assert [server.get("/price/8"), server.get("/price/1")] == [500, 200]
    output = server.stop()
    paths = dumps_in(cwd / "tbdumps")
    assert len(paths) == 2 and said(output, "Traceback dumped into") == ["Traceback dumped into: %s" % p for p in paths]
    first, reloaded = (tbdump.load(p) for p in paths)
    assert [(d.frames[-1].locals["item_id"], d.frames[-1].locals["prices"]) for d in (first, reloaded)] == \
        [(7, {1: 3}), (8, {1: 4})]
    assert first.metadata.pid != reloaded.metadata.pid
    return first, reloaded


# Django's autoreloader says when it has taken a file's modification time (changed after that, the
# file reloads the site), in a line of each file: shop.py's alone, or they fill the output's pipe.
SHOP_ONLY = """
        import logging

        class ShopOnly(logging.Filter):
            def filter(self, record):
                return "shop.py" in record.getMessage()
"""
AUTORELOAD_DEBUG = {"version": 1, "disable_existing_loggers": False,
                    "filters": {"shop": {"()": "settings.ShopOnly"}},
                    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["shop"]}},
                    "loggers": {"django.utils.autoreload": {"handlers": ["console"], "level": "DEBUG"}}}


def test_log_dumps_reaches_the_site_djangos_autoreloader_serves_and_reloads(tmp_path: Path, python: str) -> None:
    # runserver serves from a child it starts with the program's command line, python manage.py
    # runserver, and starts again when a file changes.
    django_site(tmp_path, AUTORELOAD_DEBUG, SHOP_ONLY)
    server = framework_server(tmp_path, python, ["manage.py", "runserver", "127.0.0.1:0"], log_dumps=True)
    assert server.get("/price/7") == 500
    server.read_until(re.compile(r"File .*shop\.py first seen"))
    edited = len(server.said)
    shop = tmp_path / "shop.py"
    shop.write_text(shop.read_text().replace("prices = {1: 3}", "prices = {1: 4}"))
    server.port = int(server.read_until(LISTENING, edited).group(1))   # the reloaded site's own port
    first, reloaded = crashes_before_and_after_reload(server, tmp_path)
    assert first.metadata.argv == reloaded.metadata.argv == ["manage.py", "runserver", "127.0.0.1:0"]
    assert "_run_file" not in frame_names(reloaded, above=True)   # nothing of the runner's


FASTAPI_APP = """
    import json, logging.config
    from fastapi import FastAPI

    %s
    app = FastAPI()

    @app.get("/price/{item_id}")
    def price(item_id: int):          # run in a worker thread
        prices = {1: 3}
        return prices[item_id]

    @app.get("/async-price/{item_id}")
    async def async_price(item_id: int):   # run on the event loop
        prices = {1: 3}
        return prices[item_id]
"""

# uvicorn's loggers do not propagate to the root logger: its "Exception in ASGI application"
# reaches the recipe's handler named on its error logger (docs/SERVERS.md).
UVICORN_RECIPE = dict(RECIPE, loggers={"uvicorn.error": {"handlers": ["tbdump"]}})


# uvicorn's --workers, and the server its --reload runs, are spawned (multiprocessing), not forked:
# --log-dumps goes with them.
@pytest.mark.parametrize("log_dumps, how", [(False, "--workers=1"), (True, "--workers=1"), (True, "--workers=2"),
                                            (True, "--reload")],
                         ids=["dictConfig", "log-dumps", "log-dumps-workers", "log-dumps-reload"])
def test_fastapi_endpoints_exceptions_under_uvicorn_are_dumped_with_the_asgi_stack_above(
        tmp_path: Path, python: str, log_dumps: bool, how: str) -> None:
    setup = "" if log_dumps else "logging.config.dictConfig(json.loads(%r))" % json.dumps(UVICORN_RECIPE)
    write(tmp_path / "app.py", FASTAPI_APP % setup)
    server = framework_server(tmp_path, python, ["-m", "uvicorn", "app:app", "--port", "0", how], log_dumps)
    accepting(server.port)
    assert [server.get("/price/7"), server.get("/async-price/8"), server.get("/price/1")] == [500, 500, 200]
    output = server.stop()
    paths = dumps_in(tmp_path / "tbdumps")
    # Two workers may say theirs in either order.
    assert len(paths) == 2 and sorted(said(output, "Traceback dumped into")) == ["Traceback dumped into: %s" % p
                                                                                 for p in paths]
    assert output.count("Exception in ASGI application") == 2   # uvicorn's own handler logged each, as before
    # Starlette answers 500 before uvicorn logs the error, so the next request may be logged
    # first by the other worker: each dump is told by its endpoint, not by its name's time.
    dumps = {dump.frames[-1].name: dump for dump in map(tbdump.load, paths)}
    assert sorted(dumps) == ["async_price", "price"], dumps
    for endpoint, item in (("price", 7), ("async_price", 8)):
        dump = dumps[endpoint]
        assert dump.metadata.log == {"logger": "uvicorn.error", "level": "ERROR",
                                     "message": "Exception in ASGI application\n"}
        assert dump.frames[-1].locals["item_id"] == item
        own = frame_names(dump, above=False)
        assert own[0] == "run_asgi" and "run_endpoint_function" in own   # uvicorn's, then FastAPI's
        assert "run_forever" in frame_names(dump, above=True)            # the event loop that ran it


# A user's own logging for uvicorn (--log-config; a file not .json nor .yaml goes to fileConfig, which
# disables the loggers it does not name): its format on stderr, for uvicorn's loggers and the root.
UVICORN_LOG_CONFIG = """
    [loggers]
    keys = root, error
    [handlers]
    keys = stderr
    [formatters]
    keys = mine
    [logger_root]
    level = INFO
    handlers = stderr
    [logger_error]
    qualname = uvicorn.error
    level = INFO
    handlers = stderr
    propagate = 0
    [handler_stderr]
    class = StreamHandler
    args = (sys.stderr,)
    formatter = mine
    [formatter_mine]
    format = MINE %(levelname)s %(name)s: %(message)s
"""


def test_log_dumps_under_uvicorns_log_config_leaves_the_users_logging_as_it_set_it(tmp_path: Path,
                                                                                    python: str) -> None:
    write(tmp_path / "app.py", FASTAPI_APP % "")
    write(tmp_path / "logging.ini", UVICORN_LOG_CONFIG)
    server = framework_server(tmp_path, python, ["-m", "uvicorn", "app:app", "--port", "0", "--log-config",
                                                 "logging.ini"], log_dumps=True)
    assert [server.get("/price/7"), server.get("/price/1")] == [500, 200]
    output = server.stop()
    [path] = dumps_in(tmp_path / "tbdumps")
    assert said(output, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    assert said(output, "MINE ERROR") == ["MINE ERROR uvicorn.error: Exception in ASGI application"]
    assert not said(output, "ERROR:")   # uvicorn's own format is not back
    dump = tbdump.load(path)
    assert dump.metadata.log == {"logger": "uvicorn.error", "level": "ERROR",
                                 "message": "Exception in ASGI application\n"}
    assert dump.frames[-1].name == "price" and dump.frames[-1].locals["item_id"] == 7


GUNICORN_APP = """
    import os, time
    WORKERS = %d

    def view(path):
        item_id = int(path.rsplit("/", 1)[1])
        if item_id >= 100:   # /pair/: wait until each worker holds one, so that all fail at once
            os.makedirs("arrived", exist_ok=True)
            open("arrived/%%d" %% item_id, "w").close()
            while len(os.listdir("arrived")) < WORKERS:
                time.sleep(0.01)
        prices = {1: 3}
        return prices[item_id]

    def app(environ, start_response):
        body = b"%%d" %% view(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
"""
WORKERS = 3
# No control socket: it would be one in $HOME for every test at once.
GUNICORN = ["-m", "gunicorn", "--workers", str(WORKERS), "--bind", "127.0.0.1:0", "--no-control-socket", "app:app"]


def test_gunicorn_workers_failing_at_once_write_dumps_of_their_own_and_keep_max_dumps(tmp_path: Path,
                                                                                      python: str) -> None:
    write(tmp_path / "app.py", GUNICORN_APP % WORKERS)
    # gunicorn lays logconfig_dict over its defaults key by key: its loggers name these handlers (docs/SERVERS.md).
    config = dict(RECIPE, handlers=dict(RECIPE["handlers"], console={"class": "logging.StreamHandler"},
                                        error_console={"class": "logging.StreamHandler"}))
    config["handlers"]["tbdump"] = dict(config["handlers"]["tbdump"], max_dumps=2)
    write(tmp_path / "gunicorn.conf.py", "logconfig_dict = %r\n" % config)
    server = framework_server(tmp_path, python, GUNICORN, log_dumps=False)
    paths = ["/pair/%d" % n for n in range(100, 100 + WORKERS)]
    assert server.get_at_once(*paths) == [500] * WORKERS
    output = server.stop()

    written = said(output, "Traceback dumped into")
    assert len(written) == WORKERS
    # Each worker inherited the master's handler: its pid in the name keeps its dump apart.
    assert len({re.search(r"-(\d+)-1\.tbdump$", line).group(1) for line in written}) == WORKERS  # type: ignore[union-attr]
    kept = dumps_in(tmp_path / "tbdumps")
    assert len(kept) == 2, kept
    assert all(tbdump.load(p).metadata.log["logger"] == "gunicorn.error" for p in kept)


def test_log_dumps_reaches_gunicorns_workers(tmp_path: Path, python: str) -> None:
    write(tmp_path / "app.py", GUNICORN_APP % WORKERS)
    server = framework_server(tmp_path, python, GUNICORN, log_dumps=True)
    assert [server.get("/price/7"), server.get("/price/1")] == [500, 200]
    output = server.stop()
    [path] = dumps_in(tmp_path / "tbdumps")
    assert said(output, "Traceback dumped into") == ["Traceback dumped into: %s" % path]
    dump = tbdump.load(path)
    assert dump.metadata.log == {"logger": "gunicorn.error", "level": "ERROR",
                                 "message": "Error handling request GET /price/7"}
    assert frame_names(dump, above=False) == ["handle", "handle_request", "app", "view"]
    assert {"spawn_worker", "init_process"} <= set(frame_names(dump, above=True))   # forked by the master


def test_log_dumps_reaches_the_worker_gunicorns_reload_starts_again(tmp_path: Path, python: str) -> None:
    # --reload: a worker whose file changed ends (its reloader thread's sys.exit) and the master
    # forks a new one, which loads the edited app.
    write(tmp_path / "app.py", GUNICORN_APP % 1)
    server = framework_server(tmp_path, python, ["-m", "gunicorn", "--reload", "--bind", "127.0.0.1:0",
                                                 "--no-control-socket", "app:app"], log_dumps=True)
    assert server.get("/price/7") == 500
    edited = len(server.said)
    app = tmp_path / "app.py"
    app.write_text(app.read_text().replace("prices = {1: 3}", "prices = {1: 4}"))
    # The reloader takes each file's time on its first pass, which may come after the edit: the
    # file's time goes on moving until it says it saw the change.
    seen = threading.Event()

    def touch_until_seen() -> None:
        while not seen.wait(0.2):
            os.utime(app)
    touching = threading.Thread(target=touch_until_seen)
    touching.start()
    try:
        reloading = server.read_until(re.compile(r"Worker reloading: (.*) modified"), edited)
    finally:
        seen.set()
        touching.join()
    assert reloading.group(1) == str(app)
    server.read_until(re.compile(r"Booting worker with pid"), len(server.said) - 1)
    first, reloaded = crashes_before_and_after_reload(server, tmp_path)
    assert reloaded.metadata.log["message"] == "Error handling request GET /price/8"
