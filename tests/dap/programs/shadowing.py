"""Objects whose attribute lookup is not the plain one: what a preview groups must be what loading shows."""


class Shadowed:
    def __init__(self):
        self.run = "an instance attribute named like a method"
        self.size = 2

    def run(self):
        return 1

    def stop(self):
        return 2

    @classmethod
    def make(cls):
        return cls()

    @staticmethod
    def helper():
        return 3


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x, self.y = 1, 2

    def norm(self):
        return self.x + self.y


class Intercepting:
    def __getattribute__(self, name):
        if name == "value":
            return "intercepted"
        return object.__getattribute__(self, name)

    def value(self):
        return 4

    def real(self):
        return 5


def fail(shadowed, slotted, intercepting):
    return shadowed.size / 0


fail(Shadowed(), Slotted(), Intercepting())
