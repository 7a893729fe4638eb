"""A million-item list, for paging."""


def scan():
    numbers = list(range(1000000))
    threshold = 0x2A
    return numbers[-1] / (threshold - 42)


scan()
