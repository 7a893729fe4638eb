"""A text longer than a preview keeps: the Variables view shows as much of it as debugpy does."""


def parse(payload):
    header = payload[:10]
    return int(header)


parse("x" * 50_000 + "-" * 50_000)
