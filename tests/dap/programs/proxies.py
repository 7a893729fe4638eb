"""Objects that say they are of another class: a lazy object's __class__ property names the class of
what it stands for (as Django's SimpleLazyObject and wrapt's proxies do), a badge says
`__class__ = Account`, a lazy record stands for a dict and passes on what is asked of it (as
SimpleLazyObject does).  debugpy shows the class they say, and opens what says it is a dict on
its items."""


class Account:
    def __init__(self, owner):
        self.owner = owner


def fetch():
    return Account("ann")


class LazyUser:
    def __init__(self, factory):
        self._factory = factory
        self._wrapped = None

    @property
    def __class__(self):
        if self._wrapped is None:
            self._wrapped = self._factory()
        return type(self._wrapped)


class Badge:
    __class__ = Account


class LazyRecord:
    def __init__(self, wrapped):
        self.__dict__["_wrapped"] = wrapped

    @property
    def __class__(self):
        return type(self._wrapped)

    def __getattr__(self, name):
        return getattr(self._wrapped, name)

    def __iter__(self):
        return iter(self._wrapped)

    def __len__(self):
        return len(self._wrapped)

    def __getitem__(self, key):
        return self._wrapped[key]

    def __repr__(self):
        return "<LazyRecord %r>" % (self._wrapped,)


def serve():
    user = LazyUser(fetch)
    badge = Badge()
    seen = [user, badge]
    record = LazyRecord({"id": 7, "tags": ["a"]})
    if isinstance(user, Account):
        raise PermissionError("%s may not enter" % user._wrapped.owner)


serve()
