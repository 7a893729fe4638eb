# Crashes inside the standard library (json) called from read_settings(); its dump is opened with
# justMyCode false beside the same crash under debugpy.
import json


def read_settings(text):
    settings = json.loads(text)  # MARK: call
    return settings


read_settings('{"debug": true,, }')
