"""Threads started one after another while the program runs; then one of them crashes, as
sys.argv[1] says: "main" (the main thread raises), "thread" (a worker's uncaught exception),
"dump" (a worker's dump_exception) or "pool" (a ThreadPoolExecutor worker's dump_exception)."""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import tbdump

how = sys.argv[1]
idle = threading.Event()
go = threading.Event()


def load(rows):
    return [row["id"] for row in rows]


def crash():
    if how in ("dump", "pool"):
        try:
            load([{"name": "no id"}])
        except KeyError as exc:
            tbdump.dump_exception(exc, "crash.pkl", threads=True)
        idle.set()
    else:
        load([{"name": "no id"}])


def serve(started):
    started.set()
    idle.wait()


def importer(started):
    started.set()
    go.wait()    # until the threads started after it are running
    if how == "main":
        idle.wait()
    else:
        crash()


def start(name, target):
    started = threading.Event()
    thread = threading.Thread(target=target, args=(started,), name=name, daemon=True)
    thread.start()
    started.wait()
    return thread


start("uploader", serve)
if how == "pool":
    ready = threading.Barrier(3)

    def task():
        ready.wait()    # all three workers running: whichever ran this task, the middle one crashes
        if threading.current_thread().name.endswith("_1"):
            crash()
        idle.wait()
    with ThreadPoolExecutor(3) as pool:
        for _ in range(3):
            pool.submit(task)
else:
    crashing = start("importer", importer)
    start("archiver", serve)
    go.set()
    if how == "main":
        crash()
    crashing.join()
