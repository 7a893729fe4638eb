"""A mutational fuzzer of dump files: real dumps, damaged every way a file can be, opened as viewers open them.

``test_fuzz.py`` (and the tbdap and tblsp suites) run a bounded, seeded number of
cases; by hand, for longer runs (findings are printed, one JSON line each)::

    python -m tests.trust.fuzz_dumps --cases 5000 --seed 7 [--keep DIR]

Every case starts from a real dump, written by ``python -m tbdump`` (``SEEDS``: a
small crash, a web handler's stack with threads and a chain, a deep recursion,
one holding secrets, a SyntaxError, a dump signed with TBDUMP_KEY), and damages
it (``MUTATIONS``): bits flipped, bytes deleted or inserted, the file cut at
every member boundary, members' offsets and sizes out of range, overlapping or
huge, encodings and checksums wrong, zlib bombs, the manifest edited or nested
100000 deep, the safe layer's text re-encoded, cut or nested 100000 deep, and
the safe layer parsed, fields given the wrong type (null for a list, a string
for an int, negative and huge numbers, NaN), keys dropped or added, and written
back with valid checksums (and a valid signature), so that only the reader's
own checks stand between the file and the viewers.  The object layer's pickle
records are damaged the same way (``object_records``: opcodes replaced, memo
indices changed, bits flipped, records cut, swapped or repeated), never where
they import; an audit hook (``ImportGuard``) refuses any import their seed's
records do not make, and a second (``EffectGuard``) any process started, network
reached or file written, created, removed or renamed while a case is read: what
a record reaches through the seeds' own callables (``getattr``, a module by name).

``exercise`` opens one file as the viewers do, in process: ``tbdump.load`` and
then every exception, frame, variable (preview and object), source, the
traceback text and the report.  A file must be refused with one DumpError line
or be read whole, writing nothing on stderr; where only the object layer was
damaged, the safe layer must still be read as the seed's ("lose nothing"), and
the values of the records before the first damaged one must still load.
Anything else is a finding.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import hashlib
import io
import json
import linecache
import os
import pickletools
import random
import re
import resource
import signal
import struct
import subprocess
import sys
import textwrap
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:   # run as a script: the tree under test, not an installed tbdump
    sys.path.insert(0, str(REPO))

import tbdump  # noqa: E402
from tbdump.container import END_MAGIC, MAGIC, manifest_mac  # noqa: E402
from tbdump.localsource import install_sources  # noqa: E402
from tbdump.model import FORMAT_VERSION, Value  # noqa: E402
from tbdump.objects import _module_stand_in  # noqa: E402
from tbdump.objindex import ENTRY, pack  # noqa: E402
from tbdump.report import Style, render  # noqa: E402
from tbpeep.view import crash_view  # noqa: E402

KEY = "fuzz-key"    # TBDUMP_KEY of the signed seed, and of the reader that opens it
CASE_SECONDS = 20   # one case longer than this is a finding (a hang)
MEMORY = 2 << 30    # bytes of address space for a fuzzing process: a reader without bounds fails

# -- the seeds: real crashes, dumped by python -m tbdump ------------------------------------

SEEDS: Dict[str, str] = {
    "small": """
        def div(x, y):
            return x / y

        div(5, 0)
        """,
    "web": """
        import datetime, threading

        class Session:
            def __init__(self, uid, name):
                self.uid, self.name, self.roles = uid, name, ["admin", "user"]
                self.created = datetime.datetime(2024, 5, 1, 12, uid)

        def handle(level):
            users = {"user%d" % i: i for i in range(30)}
            prices = [i / 3 for i in range(40)]
            session = Session(level, "alice")
            body = bytes(range(256))
            route = "/orders/%d/lines" % level
            if level == 0:
                try:
                    {}[route]
                except KeyError:
                    try:
                        raise ExceptionGroup("checks", [ValueError("price"), TypeError("user")])
                    except ExceptionGroup as group:
                        group.add_note("while checking %s" % route)
                        raise RuntimeError("handler failed") from group
            handle(level - 1)

        idle = threading.Event()
        threading.Thread(target=idle.wait, name="worker", daemon=True).start()
        handle(5)
        """,
    "deep": """
        def descend(n, path):
            node = {"id": n, "name": "node-%d" % n}
            trail = [n, n * 2, n * 3]
            if n == 0:
                raise RecursionError("tree too deep at %s" % path[-40:])
            descend(n - 1, path + "/%d" % n)

        descend(150, "")
        """,
    "secrets": """
        api_key = "sk-live-1234567890"

        def login(user, password):
            token = "abc.def.ghi"
            headers = {"Authorization": "Bearer xyz", "Accept": "*/*"}
            url = "https://bob:hunter2@example.com/x?api_key=zzz"
            raise PermissionError("bad token %s for %s" % (token, user))

        login("bob", "hunter2")
        """,
    "syntax": """
        settings = "x = = 1\\n"
        compile(settings, "settings.py", "exec")
        """,
}
SIGNED = {"signed": "web"}   # seeds written with TBDUMP_KEY set: name -> program
SEED_FILES = ["%s.pkl" % name for name in list(SEEDS) + list(SIGNED)]   # as make_seeds names them


class Seed(NamedTuple):
    name: str
    data: bytes
    key: Optional[str]   # the TBDUMP_KEY it was signed with


def make_seeds(directory: Path) -> List[Seed]:
    """Crash each seed program under ``python -m tbdump`` in ``directory``; their dumps."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBDUMP_")}
    env["PYTHONPATH"] = str(REPO)
    seeds = []
    for (name, program), dump in zip([(n, n) for n in SEEDS] + list(SIGNED.items()), SEED_FILES):
        (directory / ("%s.py" % program)).write_text(textwrap.dedent(SEEDS[program]).lstrip())
        key = KEY if name in SIGNED else None
        subprocess.run([sys.executable, "-m", "tbdump", "-o", dump, "%s.py" % program],
                       cwd=str(directory), env=dict(env, **({"TBDUMP_KEY": key} if key else {})),
                       capture_output=True, timeout=120)
        seeds.append(Seed(name, (directory / dump).read_bytes(), key))
    return seeds


# -- the container, taken apart and put back --------------------------------------------------

class Layout(NamedTuple):
    manifest: Dict[str, Any]
    members: Dict[str, bytes]      # as stored (compressed where the encoding says so)
    manifest_at: int               # where the manifest starts in the file


def take_apart(data: bytes) -> Layout:
    length, _ = struct.unpack("<Q8s", data[-16:])
    start = len(data) - 16 - length
    manifest = json.loads(data[start:len(data) - 16])
    members = {name: data[m["offset"]:m["offset"] + m["size"]] for name, m in manifest["members"].items()}
    return Layout(manifest, members, start)


def put_together(members: Dict[str, bytes], encodings: Dict[str, str], key: Optional[str],
                 edit: Callable[[Dict[str, Any]], None] = lambda manifest: None,
                 manifest_text: Callable[[bytes], bytes] = lambda text: text) -> bytes:
    """A file laid out as the writer lays one out, with valid checksums (and signature, with
    ``key``); ``edit`` changes the manifest after signing, ``manifest_text`` its bytes."""
    out = bytearray(MAGIC)
    entries = {}
    for name, stored in members.items():
        check = {"sha256": hashlib.sha256(stored).hexdigest()} if key else {"crc32": "%08x" % zlib.crc32(stored)}
        entries[name] = {"offset": len(out), "size": len(stored), "encoding": encodings.get(name, "raw"), **check}
        out += stored
    manifest: Dict[str, Any] = {"format": FORMAT_VERSION, "members": entries, "tbdump": tbdump.__version__,
                                "hmac": None}
    if key:
        manifest["hmac"] = manifest_mac(manifest, key.encode())
    edit(manifest)
    text = manifest_text(json.dumps(manifest, sort_keys=True).encode())
    return bytes(out + text + struct.pack("<Q8s", len(text), END_MAGIC))


def _encodings(layout: Layout) -> Dict[str, str]:
    return {name: m.get("encoding", "raw") for name, m in layout.manifest["members"].items()}


def _with_safe_text(seed: Seed, text: bytes) -> bytes:
    """The seed with its safe layer's JSON replaced by ``text`` (compressed, checksummed, signed
    again if the seed was)."""
    layout = take_apart(seed.data)
    members = dict(layout.members, safe=zlib.compress(text, 1))
    return put_together(members, _encodings(layout), seed.key)


def safe_json(seed: Seed) -> Dict[str, Any]:
    return json.loads(zlib.decompress(take_apart(seed.data).members["safe"]))


# -- the mutations -------------------------------------------------------------------------

class Mutant(NamedTuple):
    what: str          # how the seed was damaged, for the report
    data: bytes
    objects_only: bool = False   # only the object layer was touched: the safe layer must still read
    structural: bool = False     # the safe layer's JSON, edited and written back with valid checksums
    damaged: Optional[int] = None   # the first object record damaged: the ones before must load


Mutation = Callable[[random.Random, Seed], Mutant]
MUTATIONS: Dict[str, Mutation] = {}


def mutation(fn: Mutation) -> Mutation:
    MUTATIONS[fn.__name__] = fn
    return fn


OBJECT_MEMBERS = ("objects", "objects.idx")


@mutation
def flip_bits(rng: random.Random, seed: Seed) -> Mutant:
    data = bytearray(seed.data)
    where = []
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
        where.append(i)
    return Mutant("bits flipped at %s" % where, bytes(data))


@mutation
def flip_in_member(rng: random.Random, seed: Seed) -> Mutant:
    layout = take_apart(seed.data)
    name = rng.choice(sorted(n for n, m in layout.manifest["members"].items() if m["size"]))
    m = layout.manifest["members"][name]
    i = m["offset"] + rng.randrange(m["size"])
    data = bytearray(seed.data)
    data[i] ^= 1 << rng.randrange(8)
    return Mutant("a bit flipped in member %r at %d" % (name, i), bytes(data), objects_only=name in OBJECT_MEMBERS)


@mutation
def delete_bytes(rng: random.Random, seed: Seed) -> Mutant:
    i, n = rng.randrange(len(seed.data)), rng.choice([1, 2, 7, 64, 4096])
    return Mutant("%d bytes deleted at %d" % (n, i), seed.data[:i] + seed.data[i + n:])


@mutation
def insert_bytes(rng: random.Random, seed: Seed) -> Mutant:
    i, n = rng.randrange(len(seed.data) + 1), rng.choice([1, 3, 16, 1000])
    return Mutant("%d bytes inserted at %d" % (n, i), seed.data[:i] + rng.randbytes(n) + seed.data[i:])


def boundaries(data: bytes) -> List[int]:
    """Where a dump's parts meet (magic, members, manifest, trailer), and a byte either side."""
    layout = take_apart(data)
    ends = [len(MAGIC), layout.manifest_at, len(data) - 16, len(data) - 8]
    for m in layout.manifest["members"].values():
        ends += [m["offset"], m["offset"] + m["size"]]
    return sorted({max(0, end + step) for end in ends for step in (-1, 0, 1)} - {len(data)})


@mutation
def truncate(rng: random.Random, seed: Seed) -> Mutant:
    at = rng.choice(boundaries(seed.data))
    return Mutant("cut at byte %d of %d" % (at, len(seed.data)), seed.data[:at])


@mutation
def appended(rng: random.Random, seed: Seed) -> Mutant:
    tail = rng.choice([b"\n", b"\0" * 16, rng.randbytes(100), seed.data[-16:]])
    return Mutant("%d bytes appended" % len(tail), seed.data + tail)


@mutation
def member_bounds(rng: random.Random, seed: Seed) -> Mutant:
    layout = take_apart(seed.data)
    name = rng.choice(sorted(layout.members))
    key = rng.choice(["offset", "size"])
    others = [m["offset"] for n, m in layout.manifest["members"].items() if n != name]
    value = rng.choice([-1, 0, 7, 2 ** 31, 2 ** 63, 10 ** 30, len(seed.data), layout.manifest_at,
                        rng.choice(others), "8", 8.0, None, True, [8]])
    if key == "size" and rng.random() < 0.3:
        value = layout.manifest["members"][name]["size"] + rng.choice([-1, 1])

    def edit(manifest: Dict[str, Any]) -> None:
        manifest["members"][name][key] = value
    return _manifest_edit(seed, layout, "member %r's %s set to %r" % (name, key, value), edit,
                          objects_only=name in OBJECT_MEMBERS)


def _manifest_edit(seed: Seed, layout: Layout, what: str, edit: Callable[[Dict[str, Any]], None],
                   objects_only: bool = False) -> Mutant:
    return Mutant(what, put_together(layout.members, _encodings(layout), seed.key, edit), objects_only)


@mutation
def member_entry(rng: random.Random, seed: Seed) -> Mutant:
    layout = take_apart(seed.data)
    name = rng.choice(sorted(layout.members))
    key = rng.choice(["encoding", "crc32", "sha256", "offset", None])
    value = rng.choice(["gzip", "zlib", "raw", "ZLIB", "", None, 5, [], "0" * 8, "f" * 64, "\u00e9" * 8])

    def edit(manifest: Dict[str, Any]) -> None:
        entry = manifest["members"][name]
        if key is None:
            manifest["members"][name] = value
        elif value is None and rng.random() < 0.5:
            entry.pop(key, None)
        else:
            entry[key] = value
    return _manifest_edit(seed, layout, "member %r's entry: %s = %r" % (name, key, value), edit,
                          objects_only=name in OBJECT_MEMBERS)


@mutation
def manifest_fields(rng: random.Random, seed: Seed) -> Mutant:
    layout = take_apart(seed.data)
    key = rng.choice(["format", "members", "hmac", "tbdump", "extra"])
    value = rng.choice([0, -1, 2, 99, 10 ** 30, "1", 1.0, None, True, [], {}, "x", "\u00e9" * 64, {"safe": 1}])
    what = "manifest %s = %r" % (key, value)
    if key == "members" and rng.random() < 0.5:
        dropped = rng.choice(sorted(layout.members))
        return _manifest_edit(seed, layout, "member %r left out" % dropped,
                              lambda manifest: manifest["members"].pop(dropped), dropped in OBJECT_MEMBERS)
    return _manifest_edit(seed, layout, what, lambda manifest: manifest.__setitem__(key, value))


@mutation
def manifest_text(rng: random.Random, seed: Seed) -> Mutant:
    layout = take_apart(seed.data)
    FORMAT = b'"format": %d' % FORMAT_VERSION
    change, how = rng.choice([
        (lambda t: t[:len(t) // 2], "cut"),
        (lambda t: b"[" * 100000 + b"]" * 100000, "nested 100000 deep"),
        (lambda t: t[:-1] + b', "x": ' + b"[" * 100000 + b"]" * 100000 + b"}", "with a member nested 100000 deep"),
        (lambda t: t.decode().encode("utf-16"), "in UTF-16"),
        (lambda t: b"\xef\xbb\xbf" + t, "after a BOM"),
        (lambda t: t.replace(FORMAT, b'"format": NaN'), "format NaN"),
        (lambda t: t.replace(FORMAT, FORMAT + b"0" * 5000), "format of 5000 digits"),
        (lambda t: t.replace(FORMAT, b'"format": 1e400'), "format 1e400"),
        (lambda t: b"\xff\xfe" + t[2:], "not UTF-8"),
        (lambda t: b"null", "null"),
    ])
    data = put_together(layout.members, _encodings(layout), seed.key, manifest_text=change)
    return Mutant("manifest text %s" % how, data)


@mutation
def trailer(rng: random.Random, seed: Seed) -> Mutant:
    length = struct.unpack("<Q", seed.data[-16:-8])[0]
    new = rng.choice([0, 1, length - 1, length + 1, len(seed.data), 2 ** 64 - 1, 2 ** 63])
    return Mutant("manifest length %d (was %d)" % (new, length), seed.data[:-16] + struct.pack("<Q", new)
                  + seed.data[-8:])


_BOMB: List[bytes] = []


def zlib_bomb() -> bytes:
    """300 MiB of spaces (past the 256 MiB a member may inflate to), compressed to some 300 KB."""
    if not _BOMB:
        deflate = zlib.compressobj(9)
        spaces = b" " * (1 << 20)
        _BOMB.append(b"".join([deflate.compress(spaces) for _ in range(300)] + [deflate.flush()]))
    return _BOMB[0]


@mutation
def member_content(rng: random.Random, seed: Seed) -> Mutant:
    """A member's bytes replaced, with valid checksums: a bomb, a broken or foreign stream."""
    layout = take_apart(seed.data)
    name = rng.choice(["safe", "objects.idx"] + sorted(n for n in layout.members if n.startswith(("globals.", "source."))))
    stored = layout.members[name]
    content, how = rng.choice([
        (zlib_bomb(), "a zlib bomb"),
        (stored[:len(stored) // 2], "a zlib stream cut short"),
        (stored + b"trailing", "bytes after the zlib stream"),
        (zlib.decompress(stored), "stored uncompressed, said zlib"),
        (b"", "empty"),
        (rng.randbytes(64), "random bytes"),
        (zlib.compress(b"\xff\xfe\xfa"), "not UTF-8"),
    ])
    members = dict(layout.members, **{name: content})
    return Mutant("member %r: %s" % (name, how), put_together(members, _encodings(layout), seed.key),
                  objects_only=name in OBJECT_MEMBERS)


def _lazy_content(rng: random.Random, text: bytes) -> Tuple[bytes, str]:
    """A lazily read member's JSON ``text`` damaged: its type, a field, its depth, its numbers."""
    data = json.loads(text)
    if isinstance(data, dict) and data:
        name = rng.choice(sorted(data))
        data[name] = copy.deepcopy(rng.choice(STRANGE)) if rng.random() < 0.5 else dict(
            data[name], **{rng.choice(["t", "r", "n", "c", "ref", "q", "m"]): copy.deepcopy(rng.choice(STRANGE))})
        return json.dumps(data).encode(), "%r changed" % name
    return rng.choice([
        (json.dumps(rng.choice(STRANGE)).encode(), "another JSON value"),
        (b'{"x": ' + b'{"t":"list","r":"x","c":[["0",' * 3000 + b'{"t":"int","r":"1"}' + b",null,null]]}" * 3000
         + b"}", "a value nested 3000 deep"),
        (b"[" * 100000 + b"]" * 100000, "nested 100000 deep"),
        (b"1" + b"0" * 5000, "a number of 5000 digits"),
        (text[:len(text) // 2], "cut in half"),
    ])


@mutation
def lazy_member(rng: random.Random, seed: Seed) -> Mutant:
    """A module's globals or a source's text, the members read when first asked for, damaged with
    valid checksums, or their manifest entry or safe layer entry: damage a viewer finds only in
    the middle of a session."""
    layout = take_apart(seed.data)
    name = rng.choice(sorted(n for n in layout.members if n.startswith(("globals.", "source."))))
    stored = layout.members[name]
    roll = rng.random()
    if roll < 0.4:
        text, how = _lazy_content(rng, zlib.decompress(stored))
        members = dict(layout.members, **{name: zlib.compress(text, 1)})
        return Mutant("member %r: %s" % (name, how), put_together(members, _encodings(layout), seed.key))
    if roll < 0.55:
        flipped = bytearray(stored)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        members = dict(layout.members, **{name: bytes(flipped)})
        return Mutant("member %r: a bit flipped, checksum made again" % name,
                      put_together(members, _encodings(layout), seed.key))
    if roll < 0.85:
        other = rng.choice(sorted(n for n in layout.members if n != name))
        change, how = rng.choice([
            (lambda entries: entries.pop(name), "left out"),
            (lambda entries: entries.__setitem__(name, dict(entries[other])), "the entry of %r" % other),
            (lambda entries: entries[name].update(size=1 << 30), "1 GiB long"),
        ])
        return _manifest_edit(seed, layout, "member %r: %s" % (name, how), lambda manifest: change(manifest["members"]))
    safe = safe_json(seed)
    for entries in (safe.get("globals", {}), {k: s for k, s in safe["sources"].items() if s.get("member")}):
        for key in entries:
            if isinstance(entries[key], dict):
                entries[key]["member"] = name
            else:
                entries[key] = name
    return _rewritten(seed, safe, "every module's globals and every source in member %r" % name)


@mutation
def safe_text(rng: random.Random, seed: Seed) -> Mutant:
    """The safe layer's JSON text: re-encoded, cut, nested 100000 deep, numbers JSON cannot hold."""
    text = zlib.decompress(take_apart(seed.data).members["safe"])
    changed, how = rng.choice([
        (lambda: text.decode().encode("utf-16"), "in UTF-16"),
        (lambda: text.decode().encode("utf-32"), "in UTF-32"),
        (lambda: b"\xef\xbb\xbf" + text, "after a BOM"),
        (lambda: text.replace(b'"', b"\xe9", 1), "a byte that is not UTF-8"),
        (lambda: text[:len(text) // 2], "cut in half"),
        (lambda: re.sub(rb'"line": ?-?\d+', b'"line": NaN', text, count=1), "a line NaN"),
        (lambda: re.sub(rb'"line": ?-?\d+', b'"line": Infinity', text, count=1), "a line Infinity"),
        (lambda: re.sub(rb'"line": ?-?\d+', b'"line": 1' + b"0" * 5000, text, count=1), "a line of 5000 digits"),
        (lambda: re.sub(rb'"line": ?-?\d+', b'"line": 1e400', text, count=1), "a line 1e400"),
        (lambda: re.sub(rb'"vars": ?\{', b'"vars": {"deep": ' + b"[" * 100000 + b"]" * 100000 + b",", text, count=1),
         "a variable nested 100000 deep"),
        (lambda: b"[" * 100000 + b"]" * 100000, "a list nested 100000 deep"),
        (lambda: text + b" {}", "a second document"),
        (lambda: b"[]", "a list"),
        (lambda: b"null", "null"),
    ])
    return Mutant("safe layer text: %s" % how, _with_safe_text(seed, changed()))


# Values of every JSON type, and the numbers at and past the bounds a reader holds to.
STRANGE: List[Any] = [None, True, False, 0, 1, -1, 2 ** 31 - 1, 2 ** 31, -2 ** 31 - 1, 2 ** 63, -2 ** 63, 10 ** 30,
                      1.5, float("nan"), float("inf"), "", "x", "\ud800", "\x1b[2J\u202e", "42", [], [1], ["x"],
                      [None], [[1]], {}, {"a": 1}, {"t": "int", "r": "1"}, {"t": "int", "r": "1", "ref": -1},
                      ["a", {"t": "int", "r": "1"}, None, "bogus"]]


def _nodes(node: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, path + (i,))


def _parent(safe: Any, path: Tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        safe = safe[step]
    return safe


def _edit_node(rng: random.Random, safe: Dict[str, Any], path: Tuple[Any, ...]) -> str:
    """One change at ``path``: another value (of another type), the key dropped, a key added,
    a list emptied, doubled or shuffled."""
    parent, last = _parent(safe, path), path[-1]
    where = "/".join(map(str, path))
    roll = rng.random()
    if roll < 0.12 and isinstance(parent, dict):
        del parent[last]
        return "%s dropped" % where
    if roll < 0.2 and isinstance(parent, dict):
        parent["extra%d" % rng.randrange(3)] = rng.choice(STRANGE)
        return "a key added beside %s" % where
    node = parent[last]
    if roll < 0.3 and isinstance(node, list) and node:
        choice = rng.choice(["empty", "double", "shuffle"])
        parent[last] = [] if choice == "empty" else node + node if choice == "double" else rng.sample(node, len(node))
        return "%s: list %s" % (where, {"empty": "emptied", "double": "doubled", "shuffle": "shuffled"}[choice])
    if roll < 0.35:
        parent[last] = json.loads("[" * 50 + "]" * 50)
        return "%s nested 50 deep" % where
    value = rng.choice(STRANGE)
    parent[last] = copy.deepcopy(value)
    return "%s = %s" % (where, _short(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# The fields of each record (docs/FORMAT.md), so that edits reach every one of them, not only
# the values that make up most of a layer's nodes.
def _field_paths(safe: Dict[str, Any]) -> List[Tuple[Any, ...]]:
    paths: List[Tuple[Any, ...]] = [(k,) for k in safe] + [("metadata", k) for k in safe.get("metadata", {})]
    for n, frame in enumerate(safe.get("frames", [])):
        paths += [("frames", n, k) for k in list(frame) + ["pos", "globals", "above", "lib", "modvars"]]
        paths += [("frames", n, "pos", i) for i in range(4) if "pos" in frame]
        paths += [("frames", n, "vars", name, k) for name, v in frame.get("vars", {}).items()
                  for k in list(v) + ["q", "n", "s", "c", "m", "e", "x", "red", "ref", "g"]]
    for n, exception in enumerate(safe.get("exceptions", [])):
        paths += [("exceptions", n, k) for k in list(exception) + ["syntax", "hint", "suppressed_context"]]
        paths += [("exceptions", n, "syntax", k) for k in exception.get("syntax") or {}]
        paths += [("exceptions", n, "value", k) for k in list(exception.get("value") or {}) + ["ref"]]
    for n, thread in enumerate(safe.get("threads", [])):
        paths += [("threads", n, k) for k in thread]
    paths += [("sources", name, k) for name, source in safe.get("sources", {}).items() for k in source]
    return paths


def _set_field(rng: random.Random, safe: Dict[str, Any], path: Tuple[Any, ...]) -> str:
    parent = _parent(safe, path)
    if rng.random() < 0.15 and isinstance(parent, dict):
        parent.pop(path[-1], None)
        return "%s missing" % "/".join(map(str, path))
    value = rng.choice(STRANGE)
    parent[path[-1]] = copy.deepcopy(value)
    return "%s = %s" % ("/".join(map(str, path)), _short(value))


def _rewritten(seed: Seed, safe: Dict[str, Any], what: str) -> Mutant:
    """The edited safe layer written back with valid checksums, and re-signed: only the
    reader's checks of its fields stand between it and the viewers."""
    text = json.dumps(safe).encode()   # NaN as JSON's extension spells it, lone surrogates escaped
    return Mutant(what, _with_safe_text(seed, text), structural=True)


@mutation
def safe_structure(rng: random.Random, seed: Seed) -> Mutant:
    safe = safe_json(seed)
    done = []
    for _ in range(rng.randint(1, 3)):
        path, _ = rng.choice([(p, n) for p, n in _nodes(safe) if p])
        done.append(_edit_node(rng, safe, path))
    return _rewritten(seed, safe, "safe layer: " + "; ".join(done))


@mutation
def safe_field(rng: random.Random, seed: Seed) -> Mutant:
    safe = safe_json(seed)
    path = rng.choice(_field_paths(safe))
    return _rewritten(seed, safe, "safe layer field: " + _set_field(rng, safe, path))


def _same_kind(rng: random.Random, value: Any) -> Any:
    """Another value of ``value``'s JSON type, at the far ends of what a reader takes: what gets
    past its type checks to the viewers."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([0, -1, 1, 2 ** 31 - 1, -2 ** 31, 2 ** 63 - 1, rng.randrange(-5, 500)])
    if isinstance(value, str):
        return rng.choice(["", "x" * 100000, "\x1b]0;title\x07\x1b[2J", "a\u202eb\u2066c", "\ud800", "\n\r\n",
                           "a.b.c", "<module>", "/etc/passwd", "C:\\x.py", "%s %d {0}", "def f(:\n"])
    if isinstance(value, list):
        return rng.choice([[], value + value, value[::-1], rng.sample(value, len(value))])
    return value


@mutation
def safe_values(rng: random.Random, seed: Seed) -> Mutant:
    """Values changed within their JSON type: strings, numbers, flags and lists of the right
    kind, that mean what no crash could have written."""
    safe = safe_json(seed)
    done = []
    for _ in range(rng.randint(1, 4)):
        path = rng.choice(_field_paths(safe) if rng.random() < 0.7 else [p for p, _ in _nodes(safe) if p])
        parent = _parent(safe, path)
        if isinstance(parent, (dict, list)) and (path[-1] in parent if isinstance(parent, dict)
                                                 else path[-1] < len(parent)):
            parent[path[-1]] = _same_kind(rng, parent[path[-1]])
            done.append("%s = %s" % ("/".join(map(str, path)), _short(parent[path[-1]])))
    return _rewritten(seed, safe, "safe layer values: " + "; ".join(done))


@mutation
def object_index(rng: random.Random, seed: Seed) -> Mutant:
    """``objects.idx`` edited and checksummed: not whole entries, entries outside the member or with
    flags other than 0 and 1, or real records in another order (only the seed's own pickles are
    ever read)."""
    layout = take_apart(seed.data)
    packed = zlib.decompress(layout.members["objects.idx"])
    index = list(ENTRY.iter_unpack(packed))
    size = len(layout.members["objects"])
    damage, how = rng.choice([
        (lambda: b"", "empty"),
        (lambda: packed[:-1], "its last entry cut short"),
        (lambda: packed + b"\0" * rng.randint(1, ENTRY.size - 1), "bytes past its last entry"),
        (lambda: json.dumps(index).encode(), "JSON"),
        (lambda: pack([(size, 5, 1, 0)] + index[1:]), "a record past the member"),
        (lambda: pack([(0, 2 ** 64 - 1, 1, 0)] + index[1:]), "a huge length"),
        (lambda: pack(index[:-1] + [(2 ** 64 - 1, 2 ** 64 - 1, 1, 1)]), "a last entry of all ones"),
        (lambda: pack([e[:2] + (rng.randint(2, 255), e[3]) for e in index]), "fresh flags past 1"),
        (lambda: pack(index[::-1]), "its records in reverse order"),
        (lambda: pack(index[:len(index) // 2]), "cut in half"),
    ])
    members = dict(layout.members, **{"objects.idx": zlib.compress(damage())})
    return Mutant("object index: %s" % how, put_together(members, _encodings(layout), seed.key), objects_only=True)


# What a damaged record may not do more of than its seed's: import.  GLOBAL, INST and STACK_GLOBAL
# name what they import; OBJ and REDUCE call what these gave or the memo holds, the seed's own.
_IMPORTS = frozenset(("GLOBAL", "INST", "STACK_GLOBAL"))
_OPCODES = [op for op in pickletools.opcodes if op.name not in _IMPORTS]
_MEMO_ARGUMENTS = {"BINGET": 1, "BINPUT": 1, "LONG_BINGET": 4, "LONG_BINPUT": 4}


def _ops(record: bytes) -> List[Tuple[Any, Any, int, int]]:
    """``(opcode, argument, start, end)`` of each opcode of a record, as far as it parses."""
    ops: List[Tuple[Any, Any, int, int]] = []
    try:
        for op, arg, at in pickletools.genops(record):
            ops.append((op, arg, at or 0, len(record)))
    except Exception:  # a damaged record: the unpickler stops where this does
        pass
    return [op[:3] + (end,) for op, end in zip(ops, [o[2] for o in ops[1:]] + [len(record)])]


def _imports(record: bytes) -> int:
    return sum(op.name in _IMPORTS for op, _, _, _ in _ops(record))


def _kept(ops: List[Tuple[Any, Any, int, int]]) -> Set[int]:
    """The bytes of a record left as they are: what GLOBAL, INST and STACK_GLOBAL import (the
    opcodes that push STACK_GLOBAL's module and name), and the nested dill pickles, whose code
    objects' bytecode, damaged, CPython would run unchecked (no reader can contain that)."""
    kept: Set[int] = set()
    for n, (op, arg, start, end) in enumerate(ops):
        if op.name == "STACK_GLOBAL":
            operands = [o for o in ops[:n] if o[0].name not in ("MEMOIZE", "FRAME")][-2:]
            for _, _, first, last in operands:
                kept.update(range(first, last))
        if op.name in _IMPORTS or type(arg) is bytes and arg.startswith(b"\x80"):
            kept.update(range(start, end))
    return kept


def _damaged_record(rng: random.Random, record: bytes) -> Tuple[bytes, str]:
    """``record`` with bits flipped, an opcode replaced by another or a memo index changed,
    never where it imports (_kept) and never so that it imports more."""
    ops = _ops(record)
    kept = _kept(ops)
    free = [i for i in range(len(record)) if i not in kept]
    movable = [o for o in ops if o[2] not in kept and o[0].name != "STOP"]
    memo = [o for o in movable if o[0].name in _MEMO_ARGUMENTS]
    for _ in range(20):
        data = bytearray(record)
        roll = rng.random()
        if memo and roll < 0.35:
            op, arg, start, _ = rng.choice(memo)
            size = _MEMO_ARGUMENTS[op.name]
            top = 2 ** (8 * size)
            new = rng.choice([arg + 1, arg - 1, 0, rng.randrange(top), top - 1]) % top
            data[start + 1:start + 1 + size] = new.to_bytes(size, "little")
            how = "%s %d at %d made %d" % (op.name, arg, start, new)
        elif movable and roll < 0.7:
            op, _, start, _ = rng.choice(movable)
            alike = [o for o in _OPCODES if o.arg is op.arg and o is not op]
            other = rng.choice(alike if alike and rng.random() < 0.6 else [o for o in _OPCODES if o is not op])
            data[start] = other.code.encode("latin-1")[0]
            how = "%s at %d made %s" % (op.name, start, other.name)
        elif free:
            where = sorted(rng.sample(free, min(len(free), rng.randint(1, 4))))
            for i in where:
                data[i] ^= 1 << rng.randrange(8)
            how = "bits flipped at %s" % where
        else:
            break
        if _imports(bytes(data)) <= _imports(record):
            return bytes(data), how
    cut = rng.randrange(len(record))
    return record[:cut], "cut to %d of its %d bytes" % (cut, len(record))


@mutation
def object_records(rng: random.Random, seed: Seed) -> Mutant:
    """The object member's pickle records damaged, their index following them, with valid
    checksums (and signature): a record's opcodes replaced by others, its memo indices changed,
    bits flipped in it (never where it imports, _damaged_record), or the record cut, two swapped,
    one's bytes another's.  The values of the records from the first damaged one on may be lost
    (the records after it share its memo), each said why; the ones before must load as the seed's."""
    layout = take_apart(seed.data)
    objects = layout.members["objects"]
    index = list(ENTRY.iter_unpack(zlib.decompress(layout.members["objects.idx"])))
    records = [objects[offset:offset + length] for offset, length, _, _ in index]
    number = rng.randrange(len(records))
    roll = rng.random()
    if roll < 0.7:
        records[number], how = _damaged_record(rng, records[number])
    elif roll < 0.8:
        cut = rng.randrange(len(records[number]))
        records[number], how = records[number][:cut], "cut to %d of its %d bytes" % (cut, len(records[number]))
    else:
        other = rng.choice([n for n in range(len(records)) if n != number] or [number])
        if roll < 0.9:
            records[number], records[other] = records[other], records[number]
            how, number = "swapped with record %d" % max(number, other), min(number, other)
        else:
            records[number], how = records[other], "replaced by record %d" % other
    offsets = [0]
    for record in records:
        offsets.append(offsets[-1] + len(record))
    entries = [(at, len(record), fresh, alone) for at, record, (_, _, fresh, alone) in zip(offsets, records, index)]
    members = dict(layout.members, objects=b"".join(records), **{"objects.idx": zlib.compress(pack(entries))})
    return Mutant("object record %d: %s" % (number, how), put_together(members, _encodings(layout), seed.key),
                  objects_only=True, damaged=number)


# -- cases ------------------------------------------------------------------------------------

@dataclass
class Case:
    number: int
    seed: Seed
    mutation: str
    mutant: Mutant

    def __str__(self) -> str:
        return "case %d (%s seed, %s): %s" % (self.number, self.seed.name, self.mutation, self.mutant.what)


def cases(seeds: List[Seed], count: int, seed: int, only: Optional[List[str]] = None,
          numbers: Optional[List[int]] = None) -> Iterator[Case]:
    """``count`` cases, the same for the same ``seed``: the seeds in turn, a mutation drawn for each.

    Each case draws from a generator of its own, seeded by ``seed`` and its number: the seed
    dumps differ from run to run (times, pids), and how many numbers a mutation draws may
    depend on them, but case N is always the same mutation of the same seed.
    """
    names = only or sorted(MUTATIONS)
    for number in range(count) if numbers is None else numbers:
        rng = random.Random("%d/%d" % (seed, number))
        base = seeds[number % len(seeds)]
        name = rng.choice(names)
        yield Case(number, base, name, MUTATIONS[name](rng, base))


# -- opening a file as the viewers do ---------------------------------------------------------

class Outcome(NamedTuple):
    refused: Optional[str]     # the DumpError's message, or None when the file was read
    finding: Optional[str]     # what went wrong, or None


def _walk(value: Value, seen: int = 0) -> int:
    """Every preview below ``value``, as a viewer expanding it all would read them."""
    repr(value)
    value.placeholder
    for child in value.children or ():
        value.child(child.access or "")
        seen = _walk(child.value, seen + 1)
    return seen


class Reading(NamedTuple):
    traceback_text: str
    records: Dict[int, Optional[str]]   # each object record a value refers to: why it is lost, or None


def read_whole(path: str, key: Optional[str]) -> Reading:
    """``tbdump.load`` and every part of the dump a viewer reads, the dump closed after."""
    dump = tbdump.load(path, key=key.encode() if key else None)
    try:
        repr(dump), repr(dump.metadata), dump.version_note, dump.traceback_text
        for exception in dump.exceptions:
            repr(exception)
            if exception.value is not None:
                _walk(exception.value)
        frames = [f for e in dump.exceptions for f in e.frames] + [f for t in dump.threads for f in t.frames]
        for thread in dump.threads:
            repr(thread)
        for frame in frames:
            repr(frame)
            for value in list(frame.variables.values()) + list(dump.globals_of(frame).values()):
                _walk(value)
            frame.locals, frame.globals
        for source in dump.sources.values():
            repr(source), source.lines
        for n in range(len(dump.exceptions)):
            dump.exception_object(n)
        render(dump, io.StringIO(), Style(True), show_globals=True)
        cached = dict(linecache.cache)
        try:
            install_sources(dump)   # as tbpeep does before it shows a frame's line
            for crash in crash_view(dump).chain:   # what tbpeep explores, built from both layers
                repr(crash), [repr(frame) for frame in crash]
        finally:   # the next case's files are not this one's
            linecache.cache.clear()
            linecache.cache.update(cached)
        return Reading(dump.traceback_text, _records(dump, frames))
    finally:
        dump.close()


def _records(dump: "tbdump.Dump", frames: List[Any]) -> Dict[int, Optional[str]]:
    """Each object record the dump's values refer to: None where it loaded, else the reason the
    reader gives for the values it could not restore."""
    values = [e.value for e in dump.exceptions if e.value is not None]
    values += [v for f in frames for v in list(f.variables.values()) + list(dump.globals_of(f).values())]
    records: Dict[int, Optional[str]] = {}
    for value in values:
        if value.ref is not None and value.ref not in records:
            obj = dump.resolve(value)
            lost = issubclass(type(obj), tbdump.Placeholder) and obj.value is value
            records[value.ref] = obj.reason if lost else None
    return records


class Hang(Exception):
    pass


class ImportGuard:
    """An audit hook that learns the classes and functions the seeds' records import, then
    refuses any other: a damaged record must not reach imports its seed does not name (a
    byte of a module's name flipped, a memo index giving STACK_GLOBAL other strings), nor run
    a module that ``_module_stand_in`` imports by a name the record gives.  To the reader, a
    refused one is as a class or module missing here."""

    def __init__(self) -> None:
        self.allowed: Set[Tuple[str, str]] = set()
        self.guarding = False
        self.refused: Set[str] = set()

    def __call__(self, event: str, args: Tuple[Any, ...]) -> None:
        if not self.guarding:
            if event == "pickle.find_class":
                self.allowed.add(args)
            return
        if event == "pickle.find_class" and args not in self.allowed or event in _RUNS and _standing_in():
            name = ".".join(map(str, args[:2])) if event == "pickle.find_class" else str(
                getattr(args[0], "co_filename", args[0]))   # exec's: a module's code
            self.refused.add("%s %s" % (event, name))
            raise ImportError("the fuzzer refuses %s of %s" % (event, name))


# What running an imported module's code raises: importlib.import_module raises no "import" of
# its own, but its module's code runs through exec (and its imports, "import").
_RUNS = ("exec", "import")


def _standing_in() -> bool:
    """Whether an import was asked for by ``_module_stand_in``, with a name a record gave it."""
    frame: Any = sys._getframe(2)
    while frame is not None and frame.f_code is not _module_stand_in.__code__:
        frame = frame.f_back
    return frame is not None


class EffectGuard:
    """An audit hook that, once armed, refuses every effect on the world outside the process
    (``_effect``): a process started, the network reached, a file written, created, truncated,
    removed, renamed, linked or its mode changed.  A damaged record (or a crafted one) calls the
    seeds' own callables with other arguments (``getattr`` of a module ``_module_stand_in``
    gives), which the ImportGuard lets through.  Each effect refused is noted for the case it
    came in, a finding: reading a dump never does any, tbdump's own loading included.  Outside
    a reading, the fuzzer's own writes of case files into its folders go through."""

    def __init__(self) -> None:
        self.folders: Tuple[str, ...] = ()   # where the fuzzer writes, armed: none when disarmed
        self.armed = False
        self.in_reading = False
        self.effects: List[str] = []

    def arm(self, *folders: Path) -> None:
        self.folders = tuple(os.path.realpath(folder) for folder in folders)
        self.armed = True

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        self.in_reading = True
        try:
            yield
        finally:
            self.in_reading = False

    def taken(self) -> List[str]:
        """The effects refused since the last call."""
        effects, self.effects = self.effects, []
        return effects

    def __call__(self, event: str, args: Tuple[Any, ...]) -> None:
        if not self.armed:
            return
        paths = _effect(event, args)
        if paths is None:
            return
        if not self.in_reading and paths and all(self._ours(path) for path in paths):
            return
        effect = ("%s%r" % (event, args))[:300]
        self.effects.append(effect if self.in_reading else "%s (between readings)" % effect)
        raise PermissionError("the fuzzer refuses %s" % effect)

    def _ours(self, path: Any) -> bool:
        if not isinstance(path, (str, bytes, os.PathLike)):   # a file descriptor: anyone's
            return False
        real = os.path.realpath(os.fsdecode(path))
        return any(real == folder or real.startswith(folder + os.sep) for folder in self.folders)


# The audit events that reach out of the process: starting one, the network, and the file
# system's changes, each with how many of its first arguments are the paths it changes.
_PROCESS = ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty")
_NETWORK = ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
            "socket.gethostbyname", "socket.gethostbyaddr")
_FILES = {"os.remove": 1, "os.rename": 2, "os.rmdir": 1, "os.mkdir": 1, "shutil.rmtree": 1, "os.truncate": 1,
          "os.chmod": 1, "os.chown": 1, "os.utime": 1, "os.symlink": 2, "os.link": 2}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _effect(event: str, args: Tuple[Any, ...]) -> Optional[Tuple[Any, ...]]:
    """The paths an event changes (none for a process or the network), or None when it changes
    nothing: an ``open`` for reading, any event not an effect.  ``open`` gives its flags
    (FileIO and os.open), or only its mode (io.open_code); os.unlink, os.replace, os.ftruncate,
    os.fchmod and os.lchown raise the events of their kin."""
    if event == "open":
        mode, flags = args[1], args[2]
        writes = isinstance(flags, int) and flags & _WRITE_FLAGS or isinstance(mode, str) and set(mode) & set("wax+")
        return args[:1] if writes else None
    if event in _FILES:
        return args[:_FILES[event]]
    if event in _PROCESS or event in _NETWORK:
        return ()
    return None


def exercise(path: str, case: Case, expected: Optional[Reading] = None,
             effects: Optional[EffectGuard] = None) -> Outcome:
    """Open ``path`` (the case's file) as the viewers do; ``expected``: the seed's reading, whose
    traceback text a file damaged only in its object layer must still show, and whose records
    before the first damaged one it must still load; ``effects``: the guard whose refusals,
    during the reading or since the case before, are this case's finding."""
    outcome = _exercise(path, case, expected, effects)
    done = effects.taken() if effects is not None else []
    if done:
        return Outcome(outcome.refused, "side effect: %s" % "; ".join(dict.fromkeys(done)))   # each once
    return outcome


def _exercise(path: str, case: Case, expected: Optional[Reading], effects: Optional[EffectGuard]) -> Outcome:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(CASE_SECONDS)
    try:
        with _stderr() as stray, effects.reading() if effects is not None else contextlib.nullcontext():
            reading = read_whole(path, case.seed.key)
            gc.collect()   # what the reading left in cycles goes now, its warnings with this case
        if stray.getvalue():
            return Outcome(None, "stray output on stderr: %s" % stray.getvalue()[-500:])
    except tbdump.DumpError as exc:
        message = str(exc)
        if "\n" in message or not message.startswith(path + ": "):
            return Outcome(message, "the refusal is not one line naming the file: %r" % message)
        if case.mutant.objects_only:
            return Outcome(message, "damage to the object layer lost the safe layer: %s" % message)
        if case.mutant.structural and "safe layer is damaged" in message and not message.endswith(")"):
            return Outcome(message, "the refusal does not name the bad field: %s" % message)
        return Outcome(message, None)
    except Hang:
        return Outcome(None, "no answer in %d s" % CASE_SECONDS)
    except BaseException as exc:  # noqa: B902 - anything but a DumpError is a finding, MemoryError too
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome(None, "%s: %s at %s:%d" % (type(exc).__name__, str(exc)[:300],
                                                   os.path.relpath(where.filename, REPO), where.lineno))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if expected is not None and case.mutant.objects_only and reading.traceback_text != expected.traceback_text:
        return Outcome(None, "damage to the object layer changed what the safe layer shows")
    if expected is not None and case.mutant.damaged is not None:
        for record, reason in sorted(reading.records.items()):
            if record < case.mutant.damaged and reason is not None and expected.records.get(record) is None:
                return Outcome(None, "record %d, before the damaged one, is lost: %s" % (record, reason))
    return Outcome(None, None)


@contextlib.contextmanager
def _stderr() -> Iterator[io.StringIO]:
    """What is written to stderr meanwhile, and what Python reports there (an exception in a
    ``__del__``, CPython's own SystemErrors at deallocation): a reader has nothing to say there."""
    written = io.StringIO()
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: written.write("%s: %s in %r\n" % (
        unraisable.exc_type.__name__, unraisable.exc_value, unraisable.object))
    try:
        with contextlib.redirect_stderr(written):
            yield written
    finally:
        sys.unraisablehook = hook


def run(seeds: List[Seed], count: int, seed: int, workdir: Path, keep: Optional[Path] = None,
        only: Optional[List[str]] = None, numbers: Optional[List[int]] = None,
        guard: Optional[ImportGuard] = None,
        effects: Optional[EffectGuard] = None) -> Iterator[Tuple[Case, Outcome]]:
    """Every case (or those ``numbers``), written to ``workdir`` (and kept in ``keep``), with what
    opening it gave; ``guard`` learns what the seeds import, and refuses the rest after;
    ``effects``, armed after the seeds are read, refuses any effect but the writing of the cases."""
    expected = {s.name: read_whole(_write(workdir / "seed.pkl", s.data), s.key) for s in seeds}
    if guard is not None:
        guard.guarding = True
    if effects is not None:
        # Armed after the seeds' readings, as the ImportGuard: the first one imports dill, whose
        # import opens os.devnull to write (to learn its file types), the one effect tbdump's
        # loading of the seeds has, and the device's alone.  The seeds' records are read again
        # in every case, their undamaged ones as they are.
        effects.arm(workdir, *([keep] if keep is not None else []))
    try:
        for case in cases(seeds, count, seed, only, numbers):
            path = _write(workdir / "case.pkl", case.mutant.data)
            outcome = exercise(path, case, expected[case.seed.name], effects)
            if keep is not None:
                _write(keep / ("%04d-%s-%s.pkl" % (case.number, case.seed.name, case.mutation)), case.mutant.data)
            yield case, outcome
    finally:
        if effects is not None:
            effects.armed = False


def sample(seeds: List[Seed], directory: Path, count: int, seed: int, refused: bool,
           only: Optional[List[str]] = None, suffix: str = ".pkl") -> List[Path]:
    """The first ``count`` cases that ``tbdump.load`` refuses (or reads, with ``refused`` False),
    written to ``directory``: files for the viewers' own suites to open."""
    found: List[Path] = []
    for case in cases(seeds, count * 100, seed, only):
        path = directory / ("%s-%04d-%s-%s%s" % ("bad" if refused else "read", case.number, case.seed.name,
                                                  case.mutation, suffix))
        path.write_bytes(case.mutant.data)
        if opens(path) is refused:
            path.unlink()
            continue
        found.append(path)
        if len(found) == count:
            break
    return found


def opens(path: Path) -> bool:
    """Whether ``tbdump.load`` reads the file (its safe layer), rather than refusing it."""
    try:
        tbdump.load(str(path), objects=False).close()
    except tbdump.DumpError:
        return False
    return True


# The mutations whose files get past the reader's checks: what viewers must cope with.
READABLE = ["safe_values", "safe_structure", "safe_field"]
# The ones whose damage is found only when a viewer reads a module's globals or a source's text.
LAZY = ["lazy_member"]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz tbdump's readers with damaged dumps.")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="where seeds and cases are written (default: a temporary folder)")
    parser.add_argument("--keep", type=Path, help="keep every case's file in this folder")
    parser.add_argument("--only", action="append", choices=sorted(MUTATIONS), help="these mutations only")
    parser.add_argument("--number", type=int, action="append",
                        help="this case only (given again: these cases), as a campaign numbered it")
    args = parser.parse_args(argv)
    for name in ("TBDUMP_KEY", "TBDUMP_SAFE"):   # each case says which key opens it
        os.environ.pop(name, None)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    guard, effects = ImportGuard(), EffectGuard()
    sys.addaudithook(guard)
    sys.addaudithook(effects)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        seeds = make_seeds(work)
        findings = 0
        for case, outcome in run(seeds, args.cases, args.seed, work, args.keep, args.only, args.number, guard,
                                 effects):
            if outcome.finding:
                findings += 1
                print(json.dumps({"case": str(case), "finding": outcome.finding}), flush=True)
        if guard.refused:
            print(json.dumps({"imports refused": sorted(guard.refused)}), flush=True)
        print(json.dumps({"cases": len(args.number or range(args.cases)), "findings": findings}), flush=True)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
