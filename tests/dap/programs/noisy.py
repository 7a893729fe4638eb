"""A value whose restoring and whose repr print and warn, as some classes do."""
import faulthandler
import warnings


class Noisy:
    def __init__(self):
        self.size = 1

    def __setstate__(self, state):
        faulthandler.enable()  # as a library may as it is imported: sys.stderr has a descriptor
        print("restoring Noisy")
        self.__dict__.update(state)

    def __repr__(self):
        print("repr of Noisy")
        warnings.warn("Noisy is deprecated")
        return "Noisy()"


def main():
    noisy = Noisy()
    raise RuntimeError("crash with a noisy value")


main()
