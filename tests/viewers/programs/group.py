"""Two failures gathered in an exception group, raised from an exception that was never raised."""


def check(name, value):
    if value < 0:
        raise ValueError(f"{name} is negative: {value}")


def validate(record):
    errors = []
    for name, value in record.items():
        try:
            check(name, value)
        except ValueError as exc:
            errors.append(exc)
    raise ExceptionGroup("invalid record", errors) from LookupError("never raised")


validate({"a": -1, "b": 2, "c": -3})
