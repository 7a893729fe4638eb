# Crashes with a chained exception: a RuntimeError raised from a ValueError.


def parse_port(text):
    return int(text)  # MARK: cause


def load_config(text):
    try:
        return parse_port(text)
    except ValueError as error:
        raise RuntimeError("config is broken") from error  # MARK: raise


load_config("80x")
