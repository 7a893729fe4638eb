"""A configuration error raised from a JSON error: a chain of two exceptions."""
import json


class ConfigError(Exception):
    pass


def parse(text):
    return json.loads(text)


def load_config(text):
    defaults = {"retries": 3}
    try:
        return parse(text)
    except ValueError as exc:
        raise ConfigError(f"bad config: {text!r}") from exc


def main():
    source = "{broken"
    return load_config(source)


main()
