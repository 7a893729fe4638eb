"""An exception raised while handling another (implicit context)."""


def cleanup(resource):
    return resource["handle"].close()


def work():
    resource = {"name": "db"}
    try:
        return 1 / 0
    except ZeroDivisionError:
        cleanup(resource)


work()
