"""Items rejected as a group, reported as one configuration error `from None`: the group
and its members are in the dump, off the traceback Python prints."""


class ConfigError(Exception):
    pass


def validate(items):
    errors = [ValueError(f"item {item} is negative") for item in items if item < 0]
    if errors:
        raise ExceptionGroup("invalid items", errors)


def load(items):
    try:
        validate(items)
    except ExceptionGroup:
        raise ConfigError("the configuration has invalid items") from None


load([1, -2, -3])
