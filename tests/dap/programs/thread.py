"""A crash in a worker thread while the main thread waits."""
import threading


def worker(jobs):
    done = []
    for job in jobs:
        done.append(job["id"])
    return done


jobs = [{"id": 1}, {"name": "no id"}]
t = threading.Thread(target=worker, args=(jobs,), name="worker-1")
t.start()
t.join()
