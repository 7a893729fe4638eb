"""An error raised from another, in whose frame a value reconnects as it is restored (its
__setstate__ never returns in the replay): the cause is restored after the error itself."""
import time


class Reconnecting:
    def __init__(self, host):
        self.host = host

    def __setstate__(self, state):
        self.__dict__.update(state)
        time.sleep(3600)  # connecting to the host


def fetch(host):
    conn = Reconnecting(host)
    raise ConnectionError(f"{host} is gone")


def load(host):
    try:
        fetch(host)
    except ConnectionError as exc:
        raise RuntimeError(f"cannot load from {host}") from exc


load("db.internal")
