"""A service whose worker threads, started one after another, are waiting when the main thread
crashes."""
import threading

idle = threading.Event()


def serve(started):
    started.set()
    idle.wait()


for name in ("uploader", "indexer", "archiver"):
    started = threading.Event()
    threading.Thread(target=serve, args=(started,), name=name, daemon=True).start()
    started.wait()
raise ConnectionError("lost the database")
