"""Objects that say they are of another class: a lazy object's __class__ property names the class of
what it stands for (as Django's SimpleLazyObject and wrapt's proxies do), a badge says
`__class__ = Account`.  debugpy shows the class they say."""


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


def serve():
    user = LazyUser(fetch)
    badge = Badge()
    seen = [user, badge]
    if isinstance(user, Account):
        raise PermissionError("%s may not enter" % user._wrapped.owner)


serve()
