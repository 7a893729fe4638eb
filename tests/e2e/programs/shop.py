# Crashes in checkout(); the e2e tests open its dump in VS Code.
# Lines are found by their "# MARK:" comments, never by number.


class Customer:
    def __init__(self, name, credit):
        self.name = name
        self.credit = credit


def checkout(customer, cart, prices):
    inventory = {"apple": 3, "pear": 0}
    order_ids = list(range(10000))
    items = len(cart)
    total = sum(prices[item] for item in cart)
    per_item = total / (items - len(cart))  # MARK: crash
    return per_item, inventory, order_ids


def main():
    shopper = Customer("ada", 42)
    basket = ["apple", "pear"]
    return checkout(shopper, basket, {"apple": 3, "pear": 5})  # MARK: call


main()
