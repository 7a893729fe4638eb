"""A port that is not a number, reported as a configuration error `from None`: Python prints
only the ConfigError, though it holds the ValueError as its __context__."""


class ConfigError(Exception):
    pass


def parse_port(text):
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"port {text!r} is not a number") from None


def main():
    setting = "80a"
    return parse_port(setting)


main()
