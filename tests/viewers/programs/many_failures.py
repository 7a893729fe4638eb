"""A batch whose 500 tasks all failed, gathered in one exception group."""


def task(number):
    raise ValueError(f"task {number} failed")


def run_all(count):
    errors = []
    for number in range(count):
        try:
            task(number)
        except ValueError as exc:
            errors.append(exc)
    raise ExceptionGroup(f"{count} tasks failed", errors)


run_all(500)
