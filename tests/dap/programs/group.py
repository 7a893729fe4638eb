def check(n):
    raise ValueError("bad item %d" % n)


def validate(items):
    errors = []
    for n in items:
        try:
            check(n)
        except ValueError as e:
            errors.append(e)
    raise ExceptionGroup("validation failed", errors)


validate([1, 2])
