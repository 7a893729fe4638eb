"""Loads a dump as a user does (tbdump.load, then frame.locals) in the libraries' venv, run by
test_libraries.py, and prints as JSON what each question asked of a restored value answered
and what the loading did that an audit hook sees: a socket, a database connection, a file
written, a process started.

argv: the dump, the modules the program imported (imported first: what importing them does,
urllib3 binding a socket to ::1 to see whether IPv6 works, is theirs, not the loading's), and
the questions as JSON: [[frame, variable, expression of v], ...].
"""
import json
import sys

WATCHED = ("socket.", "sqlite3.connect", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.fork")


def main() -> None:
    path, modules, questions = sys.argv[1], sys.argv[2].split(","), json.loads(sys.argv[3])
    for name in filter(None, modules):
        __import__(name)
    import dill  # noqa: F401  (its import opens /dev/null, to learn the types of files)
    import tbdump
    events = []

    def hook(event, args):
        if event.startswith(WATCHED) or (event == "open" and args[1] not in (None, "r", "rb")):
            events.append("%s %r" % (event, args[:2]))

    sys.addaudithook(hook)
    dump = tbdump.load(path)
    frames = {f.name: f for f in dump.frames}
    answers = []
    for frame, variable, expression in questions:
        try:
            value = frames[frame].locals[variable]
            answers.append(repr(eval(expression, {"v": value, "tbdump": tbdump})))
        except Exception as exc:
            answers.append("error: %s: %s" % (type(exc).__name__, exc))
    print(json.dumps({"answers": answers, "events": events}))


main()
