"""A form feed inside a comment: Python keeps it in its line, str.splitlines would not."""


def settle(amount):
    # totals below  (a page break, as old editors left them)
    fee = amount // 10
    return amount / (fee - fee)


settle(30)
