import tbdump


def risky(x):
    return 10 // x


def guarded(x):
    try:
        return risky(x)
    except ZeroDivisionError as exc:
        tbdump.dump_exception(exc, "handled.pkl")
        return None


def main():
    guarded(0)


main()
