"""A local that pickles but cannot be rebuilt when the dump is opened: its class refuses its state."""


class Ledger:
    def __init__(self):
        self.entries = [1, 2, 3]

    def __repr__(self):
        return "Ledger(3 entries)"

    def __setstate__(self, state):
        raise RuntimeError("ledgers cannot be restored")


def close(ledger, count):
    return count / 0


close(Ledger(), 2)
