"""A job that fails on one of its records: attrs classes, frozen and slotted, one holding a password."""
import attr
import attrs


@attrs.frozen
class Point:
    x: int
    y: int


@attrs.define
class Login:
    user: str
    password: str
    origin: Point


@attr.s(frozen=True, slots=True, auto_attribs=True)
class Limits:
    low: int
    high: int


def check(login, limits):
    if not limits.low <= login.origin.x <= limits.high:
        raise ValueError("origin %r out of %r" % (login.origin, limits))


login = Login("alice", "attrs-pass-2468", Point(12, 3))
check(login, Limits(0, 10))
