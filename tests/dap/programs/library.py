"""A crash inside a library function (json)."""
import json


def read_settings(text):
    settings = json.loads(text)
    return settings


read_settings('{"debug": true,, }')
