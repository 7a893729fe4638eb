"""A crash caused by an error whose pickle is a lazy proxy (lazyproxy.py, beside it): the
proxy stands for the cause where the dump is opened, and its __class__ is the program's code;
with argv[1] "writing", its __setattr__ too."""
import sys

from lazyproxy import RemoteError, WritingRemoteError

ERROR = WritingRemoteError if sys.argv[1:] == ["writing"] else RemoteError


def report(address):
    error = ERROR(address)   # a variable of the crashed frame too
    try:
        raise error
    except RemoteError as exc:
        raise RuntimeError("report failed") from exc


report("db.internal:5432")
