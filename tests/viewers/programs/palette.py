"""An Enum of the program in the crashing frame: dill cannot rebuild it, so it comes back from its members."""
import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2

    def describe(self):
        return self.name.lower()


def paint(color):
    raise RuntimeError(f"cannot paint {color.describe()}")


paint(Color.RED)
