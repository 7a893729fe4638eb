# A small program that crashes; the adapter tests open its dump.
# Lines are found by their "# MARK:" comments, never by number.


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def average(values, weights):
    total = sum(v * w for v, w in zip(values, weights))
    return total / sum(weights)  # MARK: crash


def main():
    config = {"name": "demo", "retries": 3}
    origin = Point(1, 2)
    numbers = list(range(10000))
    return average([1, 2, 3], [0, 0, 0])  # MARK: call


main()
