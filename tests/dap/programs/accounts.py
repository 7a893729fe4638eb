"""An object whose property raises when read."""


class Account:
    def __init__(self):
        self.owner = "ada"

    @property
    def balance(self):
        raise RuntimeError("ledger offline")


def close(account):
    return account.balance


close(Account())
