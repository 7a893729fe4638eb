"""A crash caused by an error whose pickle is a lazy proxy (lazyproxy.py, beside it): the
proxy stands for the cause where the dump is opened, and its __class__ is the program's code."""
from lazyproxy import RemoteError


def report(address):
    try:
        raise RemoteError(address)
    except RemoteError as exc:
        raise RuntimeError("report failed") from exc


report("db.internal:5432")
