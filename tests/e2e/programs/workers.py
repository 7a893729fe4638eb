# Crashes in the main thread while two worker threads wait; their stacks are in the dump.
# Lines are found by their "# MARK:" comments, never by number.
import threading

ready = threading.Barrier(3)
never = threading.Event()


def download(url, retries):
    ready.wait()
    never.wait()  # MARK: wait


def resize(width, height):
    ready.wait()
    never.wait()


threading.Thread(target=download, args=("https://example.com/a.png", 3), name="downloader", daemon=True).start()
threading.Thread(target=resize, args=(640, 480), name="resizer", daemon=True).start()
ready.wait()
queue = ["a.png", "b.png"]
print(queue[5])  # MARK: crash
