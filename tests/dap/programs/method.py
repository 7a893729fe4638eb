"""A method with self fails on an attribute."""


class Account:
    rate = 0.05

    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance
        self._history = [balance]

    def withdraw(self, amount):
        if amount > self.balance:
            raise ValueError("insufficient funds: %s < %s" % (self.balance, amount))
        self.balance -= amount


acct = Account("ada", 10)
acct.withdraw(25)
