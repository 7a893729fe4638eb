"""A class that reconnects as it is restored, to a host that is gone: its __setstate__ never
returns in the replay, and the values restored after it wait for it."""
import time


class Reconnecting:
    def __init__(self, host):
        self.host = host

    def __setstate__(self, state):
        self.__dict__.update(state)
        time.sleep(3600)  # connecting to the host


def work(conn, numbers):
    return numbers[0] / 0


work(Reconnecting("db.internal"), list(range(300)))
