"""A crash in a thread while the main thread waits for it."""
import threading


def work(items):
    total = 0
    for i in items:
        total += 10 / i


worker = threading.Thread(target=work, args=([1, 0],))
worker.start()
worker.join()
