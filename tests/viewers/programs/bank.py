"""A withdrawal that fails deep in a method, with positional, keyword and variadic arguments."""
import sys


class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance

    def withdraw(self, amount, *notes, fee=1, **extra):
        total = amount + fee
        history = {"last": total, "notes": list(notes)}
        if total > self.balance:
            raise ValueError(f"insufficient funds: {self.balance} < {total}")
        self.balance -= total
        return history


def run(requests):
    account = Account("ada", 100)
    for amount in requests:
        account.withdraw(amount, "rent", fee=2, channel="atm")


if __name__ == "__main__":
    run([int(a) for a in sys.argv[1:]])
