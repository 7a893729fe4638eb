"""A 10 000-item list in the crashing frame."""


def crunch():
    data = list(range(10000))
    words = ["w%d" % i for i in range(150)]
    return data[10000]


crunch()
