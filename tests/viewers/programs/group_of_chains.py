"""Failures gathered in an exception group, each raised from the error that caused it."""


def parse(field, text):
    try:
        return int(text)
    except ValueError as exc:
        raise LookupError(f"{field}: not a number") from exc


def read(record):
    errors = []
    for field, text in record.items():
        try:
            parse(field, text)
        except LookupError as exc:
            errors.append(exc)
    raise ExceptionGroup("unreadable record", errors)


read({"a": "x", "b": "2", "c": "y"})
