"""A crash with a local that takes a while to restore (`rows`), and one restored just before it
(`ready`) that starts a thread which says "restoring" on stderr: the thread runs when the main
thread lets it, once it is unpickling `rows`, so a test that presses Ctrl-C on reading that line
presses it during `rows`, not during `ready`'s own restoring (which would take it as its own)."""
import _thread
import os


class Ready:
    def __reduce__(self):
        return _thread.start_new_thread, (os.write, (2, b"restoring\n"))


def work():
    ready = Ready()
    rows = [str(i) for i in range(3_000_000)]
    return 1 / 0


work()
