"""A crash in a thread that runs only library code (json.loads as its target): no frame is the program's own."""
import json
import threading

worker = threading.Thread(target=json.loads, args=('{"debug": true,, }',), name="parser")
worker.start()
worker.join()
