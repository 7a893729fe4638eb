# Crashes in a thread whose target is json.loads: no frame of the crash is this program's own.
import json
import threading

settings = '{"debug": true,, }'
threading.Thread(target=json.loads, args=(settings,), name="parser").start()
