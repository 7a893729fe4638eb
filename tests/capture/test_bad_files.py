"""Files that are not good dumps: one clear DumpError, and exit status 2 on the command line."""
from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import pytest

import tbdump
from tbdump.container import END_MAGIC, MAGIC, ContainerReader, manifest_mac
from tbdump.model import FORMAT_VERSION
from tbdump.objindex import ENTRY, Entry, pack
from ..conftest import PYTHON, REPO, env_for_child, rewrite_safe_layer, run, texts_inline, write
from ..crafted import TIMEOUT, memory_cap
from ..trust.test_xversion import _interpreter


@pytest.fixture(scope="module")
def good_dump(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    work = tmp_path_factory.mktemp("good")
    (work / "divide.py").write_text((REPO / "examples" / "divide.py").read_text())
    run([PYTHON, "-m", "tbdump", "divide.py", "5", "0"], work)
    return (work / "traceback.pkl").read_bytes()


def _newer_format(data: bytes) -> bytes:
    length, _ = struct.unpack("<Q8s", data[-16:])
    manifest = json.loads(data[-16 - length:-16])
    manifest["format"] = 99
    body = json.dumps(manifest).encode()
    return data[:-16 - length] + body + struct.pack("<Q8s", len(body), END_MAGIC)


def _member(data: bytes, name: str) -> dict:
    length, _ = struct.unpack("<Q8s", data[-16:])
    return json.loads(data[-16 - length:-16])["members"][name]


def _flip(data: bytes, member: str) -> bytes:
    i = _member(data, member)["offset"] + 5
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


def _retyped(change: Callable[[dict], None]) -> Callable[[bytes, Path], bytes]:
    """A dump whose safe layer ``change`` damages, with valid checksums: a crafted file,
    or one from a buggy writer, that only a check of its fields can catch."""
    def make(data: bytes, tmp: Path) -> bytes:
        (tmp / "good.pkl").write_bytes(data)
        return rewrite_safe_layer(tmp / "good.pkl", tmp / "crafted.pkl", change).read_bytes()
    return make


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A change that puts ``value`` at ``path`` (keys and indices, split by "/")."""
    *parents, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split("/")]
    def change(safe: dict) -> None:
        node: Any = safe
        for step in parents:
            node = node[step]
        node[last] = value
    return change


def _first_variable(safe: dict) -> dict:
    return next(v for f in safe["frames"] for v in f["vars"].values())


def _zip_bytes(tmp: Path) -> bytes:
    with zipfile.ZipFile(tmp / "x.zip", "w") as zf:
        zf.writestr("a.txt", "hello")
    return (tmp / "x.zip").read_bytes()


DAMAGED = "the dump's safe layer is damaged"
LINE = "expected a line or column number (-2**31 to 2**31-1)"


def _named(field: str) -> str:
    """The refusal of a safe layer whose ``field`` is wrong: the message names it."""
    return "%s (%s)" % (DAMAGED, field)


CASES: dict = {
    "empty": (lambda d, t: b"", "the file is empty"),
    "text": (lambda d, t: b"hello world\n", "not a tbdump file (it looks like a text file)"),
    "plain pickle": (lambda d, t: pickle.dumps({"a": 1}), "not a tbdump file (it looks like a plain pickle)"),
    "zip": (lambda d, t: _zip_bytes(t), "not a tbdump file (it looks like a zip archive)"),
    # As docs/FORMAT.md names them: cut where the trailer should be, or before it fits.
    "truncated": (lambda d, t: d[: len(d) // 2], "the dump is truncated or damaged (no valid end marker)"),
    "magic only": (lambda d, t: MAGIC, "the dump is truncated (8 bytes)"),
    "cut inside the magic": (lambda d, t: MAGIC[:4], "the dump is truncated (4 bytes)"),
    "corrupted": (lambda d, t: _flip(d, "safe"), "corrupted"),
    "newer format": (lambda d, t: _newer_format(d), "written by a newer tbdump"),
    "crafted pid": (_retyped(_set("metadata/pid", "x")), _named("metadata.pid: expected an integer, found a string")),
    "crafted version": (_retyped(_set("metadata/version_info", 3)),
                        _named("metadata.version_info: expected a list of integers, found an integer")),
    "crafted no exception": (_retyped(_set("exceptions", [])),
                             _named("exceptions: expected at least the exception that was raised")),
    "crafted cause": (_retyped(_set("exceptions/0/cause", 7)),
                      _named("exceptions[0].cause: expected an index into exceptions (0 to 0)")),
    "crafted frame index": (_retyped(_set("exceptions/0/frames/0", 99)),
                            _named("exceptions[0].frames[0]: expected an index into frames (0 to 1)")),
    "crafted line": (_retyped(_set("frames/-1/line", "ten")), _named("frames[1].line: %s, found a string" % LINE)),
    "crafted repr": (_retyped(lambda safe: _first_variable(safe).update(r=5)),
                     _named("frames[1].vars['x'].r: expected a string, found an integer")),
    "crafted source": (_retyped(lambda safe: next(iter(safe["sources"].values())).update(text=[1])),
                       "text: expected a string or null, found a list)"),
    # Each of these was read, and a viewer failed on it: tbpeep on the group, tbdap on the version.
    "crafted child group": (_retyped(lambda safe: _first_variable(safe).update(
        c=[["a", {"t": "int", "r": "1"}, ".a", "bogus"]], e=1)),
        _named("frames[1].vars['x'].c[0][3]: expected null, 'special', 'function' or 'class', found a string")),
    "crafted package version": (_retyped(_set("metadata/packages", {"tbdump": 5})),
                                _named("metadata.packages['tbdump']: expected a string, found an integer")),
    "crafted length": (_retyped(lambda safe: _first_variable(safe).update(n=-1)),
                       _named("frames[1].vars['x'].n: expected a count (0 to 2**63-1) or null, found one out of "
                              "range")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_gives_one_clear_line(case: str, good_dump: bytes, tmp_path: Path) -> None:
    make, expected = CASES[case]
    path = tmp_path / "bad.pkl"
    path.write_bytes(make(good_dump, tmp_path))
    with pytest.raises(tbdump.DumpError) as info:
        tbdump.load(path).load_objects()
    message = str(info.value)
    assert expected in message and "\n" not in message
    for tool in ("tbdump.report", "tbdebug", "tbpeep"):
        proc = run([PYTHON, "-m", tool, str(path)], tmp_path)
        assert proc.returncode == 2, (tool, proc)
        assert proc.stdout == "" and proc.stderr.count("\n") == 1 and expected in proc.stderr, (tool, proc)


def test_a_pipe_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until something writes to it: no viewer may hang there.
    os.mkfifo(tmp_path / "pipe.pkl")
    expected = "%s: %s: not a regular file (a pipe or a device): save the dump to a file first\n"
    for tool in ("tbdump.report", "tbdebug", "tbpeep"):
        proc = run([PYTHON, "-m", tool, str(tmp_path / "pipe.pkl")], tmp_path, timeout=30)
        assert proc.returncode == 2 and proc.stdout == "", (tool, proc)
        assert proc.stderr == expected % (tool, tmp_path / "pipe.pkl"), proc


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(tbdump.DumpError, match="no such file"):
        tbdump.load(tmp_path / "nope.pkl")
    with pytest.raises(tbdump.DumpError, match="is a directory"):
        tbdump.load(tmp_path)
    proc = run([PYTHON, "-m", "tbdump.report", "nope.pkl"], tmp_path)
    assert (proc.returncode, proc.stderr) == (2, "tbdump.report: nope.pkl: no such file\n")


def test_a_files_name_cannot_act_on_the_terminal(tmp_path: Path) -> None:
    """A name with an escape sequence (a file of a downloaded artifact, named by a glob) is
    shown escaped by every tool, as tbdebug shows a dump's strings: the terminal's title stays."""
    name = "nope\x1b]0;owned\x07.pkl"
    shown = "nope\\x1b]0;owned\\x07.pkl: no such file\n"
    for tool in ("tbdump.report", "tbdebug", "tbpeep"):
        proc = run([PYTHON, "-m", tool, name], tmp_path)
        assert (proc.returncode, proc.stderr) == (2, f"{tool}: {shown}"), proc
    proc = run([PYTHON, "-m", "tbdap", "--port", "0", name], tmp_path)
    assert (proc.returncode, proc.stderr) == (2, f"tbdap: {tmp_path}/{shown}"), proc


def test_load_takes_a_path_as_text_bytes_or_path_like_and_nothing_else(good_dump: bytes, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "crash.pkl").write_bytes(good_dump)
    monkeypatch.chdir(tmp_path)
    for path in ("crash.pkl", b"crash.pkl", Path("crash.pkl")):
        dump = tbdump.load(path)
        assert dump.path == "crash.pkl" and "crash.pkl" in repr(dump), path   # text, whatever it was given as
        dump.close()
    for wrong in (42, None, ["crash.pkl"]):
        with pytest.raises(TypeError) as info:
            tbdump.load(wrong)  # type: ignore[arg-type]
        assert str(info.value) == ("tbdump.load() takes the dump's path (str, bytes or os.PathLike), not %s"
                                   % type(wrong).__name__)
    for nul in ("crash.pkl\0", b"crash.pkl\0"):
        with pytest.raises(tbdump.DumpError, match=r"^'crash.pkl\\x00': not a file name \(it holds a NUL"):
            tbdump.load(nul)


def test_a_programs_type_checker_knows_what_load_takes(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(
        "import pathlib\nimport tbdump\n"
        "tbdump.load(pathlib.Path('a.pkl')).close()\ntbdump.load(b'a.pkl').close()\ntbdump.load('a.pkl').close()\n"
        "tbdump.load(42)\n")
    done = subprocess.run([PYTHON, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
                           "user.py"], cwd=str(tmp_path), env=env_for_child({"MYPYPATH": str(REPO)}),
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines() == [
        'user.py:6: error: Argument 1 to "load" has incompatible type "int"; expected '
        '"str | bytes | PathLike[str] | PathLike[bytes]"  [arg-type]'], done


@pytest.mark.parametrize("entry", [{"offset": 10 ** 30}, {"size": -1}, {"offset": "8"}])
def test_a_damaged_entry_of_the_object_layer_still_opens_the_safe_layer(parts: "Parts", tmp_path: Path,
                                                                        entry: Dict[str, Any]) -> None:
    """The manifest's entry of an object member out of range is that member damaged, not the
    whole file: the safe layer opens, and the values say why they have no object."""
    path = _container(tmp_path / "half.pkl", _members(parts), edit=lambda m: m["members"]["objects"].update(entry))
    dump = tbdump.load(path)
    assert dump.frames[-1].variables["x"].repr == "5"
    value = dump.frames[-1].locals["x"]
    assert isinstance(value, tbdump.Placeholder) and "member 'objects' is out of bounds" in value.reason, value
    report = run([PYTHON, "-m", "tbdump.report", str(path)], tmp_path)
    assert report.returncode == 0 and "ZeroDivisionError: division by zero" in report.stdout, report


def test_object_layer_corruption_still_opens_the_safe_layer(good_dump: bytes, tmp_path: Path) -> None:
    """A damaged object member leaves the dump readable in safe mode, with the reason."""
    path = tmp_path / "half.pkl"
    path.write_bytes(_flip(good_dump, "objects"))
    dump = tbdump.load(path)
    assert dump.frames[-1].variables["x"].repr == "5"
    value = dump.frames[-1].locals["x"]
    assert isinstance(value, tbdump.Placeholder) and "fails its checksum" in value.reason



# Two crashes of one program, "a" and "b": a dump of each.  Its locals past the 64 KB a reader
# buffers, so that a value read late is read from the disk.
WRITTEN_OVER = """
    WHERE = %r
    def f():
        pad = list(range(100000))
        word = "from " + WHERE
        raise ValueError(word)
    f()
"""


def two_crashes(folder: Path) -> Tuple[Path, Path]:
    """The dumps of crashes "a" and "b" of one program, in ``folder``'s a/ and b/."""
    for run_name in "ab":
        (folder / run_name).mkdir()
        write(folder / run_name / "prog.py", WRITTEN_OVER % run_name)
        run([PYTHON, "-m", "tbdump", "prog.py"], folder / run_name)
    return folder / "a" / "traceback.pkl", folder / "b" / "traceback.pkl"


def test_a_dump_written_over_in_place_while_open_is_not_read_as_the_first(tmp_path: Path) -> None:
    """cp, or a CI artifact fetched again, writes a new dump into the inode a viewer has open:
    what the viewer reads after, as it is asked for, must not be the new dump's bytes at the
    first one's offsets (its values were the second crash's: 'from b' beside a preview 'from a')."""
    first, second = two_crashes(tmp_path)
    path = tmp_path / "traceback.pkl"
    shutil.copyfile(first, path)
    dump = tbdump.load(path)
    dump.load_objects()   # verified and opened: each value is read when it is asked for
    shutil.copyfile(second, path)
    frame = dump.frames[-1]
    replaced = "%s: the file was replaced while it was open" % path
    assert frame.variables["word"].repr == "'from a'"
    word = frame.locals["word"]
    assert isinstance(word, tbdump.Placeholder) and replaced in word.reason, word
    assert dict(dump.globals_of(frame))["<globals>"].missing == "not readable: %s" % replaced


# -- Hostile files: built to exhaust a reader (nesting, size, holes) or to trip a viewer on
# a field no capture writes.  Each is opened in a child under a time and a memory limit,
# so a regression fails the test instead of taking the machine down.


# What tbdump.load gives, one line each: a refusal, or what the crashing frame's values
# resolve to, why objects are not loaded, and the stand-in exception classes.
LOAD = r"""
import sys, tbdump
from tbdump.standins import standin_exceptions
try:
    dump = tbdump.load(sys.argv[1])
except tbdump.DumpError as exc:
    print("DumpError: %s" % exc)
else:
    print("values:", {n: getattr(o, "reason", o) for n, o in dump.frames[-1].locals.items()})
    print("reason:", dump.safe_reason)
    print("classes:", [type(e).__name__ for e in standin_exceptions(dump)])
"""


class _RedactingAsBefore(pickle.Pickler):
    """How tbdump wrote a dict holding a secret before it kept the dict's identity: as the
    persistent id of its items, the secret's value already replaced."""

    def persistent_id(self, obj: Any) -> Any:
        return ("R", list(obj.items())) if type(obj) is dict and "password" in obj else None


def test_a_dict_redacted_by_an_earlier_tbdump_loads_as_the_dict(parts: Parts, tmp_path: Path) -> None:
    # Guards what always worked: dumps written now give the dict itself (see docs/FORMAT.md).
    record = io.BytesIO()
    _RedactingAsBefore(record, 5).dump({"user": "bob", "password": "<redacted: name matches 'password'>"})
    data = record.getvalue()
    entries = [(n * len(data), len(data), 1, 0) for n in range(len(parts[2]))]
    path = _container(tmp_path / "before.pkl", _members(parts, idx=pack(entries), stored={
        "objects": (data * len(entries), "raw")}))
    loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path)
    shown = "{'user': 'bob', 'password': \"<redacted: name matches 'password'>\"}"
    assert _clean(loaded) and "values: {'x': %s, 'y': %s}" % (shown, shown) in loaded.stdout, loaded


def _limited(args: List[str], cwd: Path, env: Optional[Dict[str, str]] = None, stdin: str = "",
             timeout: float = TIMEOUT) -> "subprocess.CompletedProcess[str]":
    """``run`` with the child's memory capped (a hang fails the test by its timeout)."""
    return subprocess.run(args, cwd=str(cwd), env=env_for_child(env), capture_output=True, text=True,
                          errors="replace", timeout=timeout, input=stdin, preexec_fn=memory_cap())


def _clean(proc: "subprocess.CompletedProcess[str]", status: int = 0) -> bool:
    """Exited with ``status`` and printed no traceback of its own (stdout shows the dump's)."""
    return proc.returncode == status and "Traceback" not in proc.stderr


Parts = Tuple[Dict[str, Any], bytes, List[Entry]]
Stored = Tuple[Union[bytes, int], str]  # a member's bytes (or a number of bytes of holes), its encoding


@pytest.fixture(scope="module")
def parts(good_dump: bytes, tmp_path_factory: pytest.TempPathFactory) -> Parts:
    """The good dump's safe layer, object member and index, to build hostile files from."""
    path = tmp_path_factory.mktemp("parts") / "good.pkl"
    path.write_bytes(good_dump)
    reader = ContainerReader(str(path))
    try:
        return (texts_inline(json.loads(reader.read("safe")), reader.read), reader.read("objects"),
                list(ENTRY.iter_unpack(reader.read("objects.idx"))))
    finally:
        reader.close()


def _container(path: Path, members: Dict[str, Stored], key: Optional[bytes] = None, tail: str = "",
               edit: Callable[[Dict[str, Any]], None] = lambda manifest: None) -> Path:
    """A file laid out as the writer lays one out, from members as stored; ``tail`` goes raw
    into the manifest's JSON, ``edit`` changes the manifest after signing."""
    entries = {}
    with path.open("wb") as out:
        out.write(MAGIC)
        for name, (data, encoding) in members.items():
            stored = data if isinstance(data, bytes) else b""  # holes: refused before their checksum
            check = {"sha256": hashlib.sha256(stored).hexdigest()} if key else {"crc32": "%08x" % zlib.crc32(stored)}
            size = len(data) if isinstance(data, bytes) else data
            entries[name] = {"offset": out.tell(), "size": size, "encoding": encoding, **check}
            if isinstance(data, bytes):
                out.write(data)
            else:
                out.seek(size, os.SEEK_CUR)
        manifest: Dict[str, Any] = {"format": FORMAT_VERSION, "members": entries, "hmac": None}
        if key:
            manifest["hmac"] = manifest_mac(manifest, key)
        edit(manifest)
        body = (json.dumps(manifest)[:-1] + tail + "}").encode()
        out.write(body + struct.pack("<Q8s", len(body), END_MAGIC))
    return path


def _members(parts: Parts, safe: Optional[str] = None, idx: Optional[bytes] = None,
             stored: Optional[Dict[str, Stored]] = None) -> Dict[str, Stored]:
    """The good dump's members; the safe layer's JSON text or the index's bytes replaced, or any as ``stored``."""
    members: Dict[str, Stored] = {
        "objects": (parts[1], "raw"),
        "objects.idx": (zlib.compress(pack(parts[2]) if idx is None else idx), "zlib"),
        "safe": (zlib.compress((json.dumps(parts[0]) if safe is None else safe).encode()), "zlib")}
    members.update(stored or {})
    return members


def _edited(parts: Parts, change: Callable[[Dict[str, Any]], None]) -> str:
    safe = copy.deepcopy(parts[0])
    change(safe)
    return json.dumps(safe)


def _nested(parts: Parts, depth: int) -> str:
    """The safe layer with ``x``'s preview a list in a list in ... ``depth`` deep."""
    deep = '{"t":"list","r":"x","c":[["0",' * depth + '{"t":"int","r":"1"}' + ',null,null]]}' * depth
    return _edited(parts, _set("frames/-1/vars/x", "DEEP")).replace('"DEEP"', deep)


def _bomb(parts: Parts) -> bytes:
    """The safe layer's JSON and 300 MiB of spaces after it (past the 256 MiB a member may
    inflate to), zlib-compressed to about 300 KB."""
    deflate = zlib.compressobj(1)
    spaces = b" " * (1 << 20)
    return b"".join([deflate.compress(json.dumps(parts[0]).encode())]
                    + [deflate.compress(spaces) for _ in range(300)] + [deflate.flush()])


def _with_safe(safe: Callable[[Parts], str]) -> Callable[[Parts, Path], Path]:
    return lambda parts, path: _container(path, _members(parts, safe(parts)))


def _with_stored(name: str, stored: Callable[[Parts], Stored]) -> Callable[[Parts, Path], Path]:
    return lambda parts, path: _container(path, _members(parts, stored={name: stored(parts)}))


TERABYTE = 1 << 40
NESTED = "the dump's safe layer is damaged (nested too deeply)"
TOO_BIG = "the dump's member 'safe' is over 256 MiB"
REFUSED: Dict[str, Tuple[Callable[[Parts, Path], Path], str]] = {
    "value nested 900 deep": (_with_safe(lambda p: _nested(p, 900)), NESTED),
    "value nested 100000 deep": (_with_safe(lambda p: _nested(p, 100000)), NESTED),
    "manifest nested 100000 deep": (
        lambda p, path: _container(path, _members(p), tail=', "x": ' + "[" * 100000 + "]" * 100000),
        "the dump's manifest is damaged"),
    "zlib bomb": (_with_stored("safe", lambda p: (_bomb(p), "zlib")), TOO_BIG),
    "sparse safe layer": (_with_stored("safe", lambda p: (TERABYTE, "zlib")), TOO_BIG),
    "line 10**100": (_with_safe(lambda p: _edited(p, _set("frames/-1/line", 10 ** 100))),
                     _named("frames[1].line: %s, found one out of range" % LINE)),
    "module line 10**100": (_with_safe(lambda p: _edited(p, _set("frames/0/line", 10 ** 100))),
                            _named("frames[0].line: %s, found one out of range" % LINE)),
    "column 10**100": (_with_safe(lambda p: _edited(p, _set("frames/-1/pos", [5, 5, 0, 10 ** 100]))),
                       _named("frames[1].pos: expected [line, end_line, col, end_col], numbers from -2**31 to "
                              "2**31-1")),
    "syntax offset 10**100": (_with_safe(lambda p: _edited(p, _set("exceptions/0/syntax", dict(
        SYNTAX, end_offset=10 ** 100)))), _named("exceptions[0].syntax.end_offset: %s or null, found one out of "
                                                 "range" % LINE)),
}
SYNTAX = {"msg": "invalid syntax", "file": "settings.py", "line": 1, "offset": 1, "end_line": 1,
          "end_offset": 2, "text": ""}


def _as_313(change: Callable[[Dict[str, Any]], None]) -> Callable[[Dict[str, Any]], None]:
    """``change``, in a dump that says Python 3.13 wrote it (its rules draw the carets)."""
    def both(safe: Dict[str, Any]) -> None:
        safe["metadata"]["version_info"] = [3, 13, 0]
        change(safe)
    return both


# Numbers inside the bounds a real dump has, at their far ends: shown, in bounded time and memory.
SHOWN: Dict[str, Callable[[Dict[str, Any]], None]] = {
    "position from line -2**31": _as_313(_set("frames/-1/pos", [-(1 << 31), 5, 0, 5])),
    "syntax caret to 2**31 - 1": _as_313(_set("exceptions/0/syntax", dict(SYNTAX, end_offset=(1 << 31) - 1))),
    "syntax caret past its text": _as_313(_set("exceptions/0/syntax", dict(SYNTAX, text="x = = 1\n",
                                                                           offset=5, end_offset=10 ** 9))),
}


@pytest.mark.parametrize("case", sorted(SHOWN))
def test_far_positions_are_shown_within_bounds(case: str, parts: Parts, tmp_path: Path) -> None:
    path = _with_safe(lambda p: _edited(p, SHOWN[case]))(parts, tmp_path / "far.pkl")
    report = _limited([PYTHON, "-m", "tbdump.report", str(path)], tmp_path, timeout=30)
    assert _clean(report) and len(report.stdout) < 100_000, (report.stderr, report.stdout[-2000:])


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_file_is_refused_in_one_line(case: str, parts: Parts, tmp_path: Path) -> None:
    make, expected = REFUSED[case]
    path = make(parts, tmp_path / "hostile.pkl")
    try:
        loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path)
        assert _clean(loaded) and loaded.stdout.startswith("DumpError: %s: " % path), loaded
        assert expected in loaded.stdout and loaded.stdout.count("\n") == 1, loaded
        report = _limited([PYTHON, "-m", "tbdump.report", str(path)], tmp_path)
        assert _clean(report, 2) and report.stdout == "", report
        assert report.stderr.startswith("tbdump.report: ") and report.stderr.count("\n") == 1, report
        assert expected in report.stderr, report
    finally:
        path.unlink()  # a terabyte of holes should not wait for pytest's clean-up


def test_a_sparse_object_member_is_not_read_for_the_safe_layer(parts: Parts, tmp_path: Path) -> None:
    """Only the safe member is mapped and hashed: a terabyte of holes after it costs nothing
    until objects are asked for (docs/SECURITY.md says what that costs)."""
    path = _with_stored("objects", lambda p: (TERABYTE, "raw"))(parts, tmp_path / "hostile.pkl")
    try:
        report = _limited([PYTHON, "-m", "tbdump.report", str(path)], tmp_path)
        assert _clean(report) and "ZeroDivisionError: division by zero" in report.stdout, report
    finally:
        path.unlink()


# The object index as stored, under the format the manifest gives; each is a damaged object layer,
# not a crash.  Format 1 wrote JSON, format 2 packs entries of ENTRY.size bytes.
BAD_INDEX: Dict[str, Tuple[int, Callable[[Parts], bytes]]] = {
    "entries of one number": (1, lambda p: json.dumps([[0]] * len(p[2])).encode()),
    "negative offsets": (1, lambda p: json.dumps([[-100000, 10, 1, 0]] * len(p[2])).encode()),
    "strings": (1, lambda p: json.dumps([["a", "b", "c", 0]] * len(p[2])).encode()),
    "records past the member": (1, lambda p: json.dumps([[len(p[1]) + 10, 5, 1, 0]] * len(p[2])).encode()),
    "a dict": (1, lambda p: b'{"a": 1}'),
    "a number": (1, lambda p: b"5"),
    "nested 100000 deep": (1, lambda p: b"[" * 100000 + b"]" * 100000),
    "an entry cut short": (FORMAT_VERSION, lambda p: pack(p[2])[:-1]),
    "a byte past the last entry": (FORMAT_VERSION, lambda p: pack(p[2]) + b"\0"),
}


@pytest.mark.parametrize("case", sorted(BAD_INDEX))
def test_a_damaged_object_index_leaves_the_safe_layer(case: str, parts: Parts, tmp_path: Path) -> None:
    version, index = BAD_INDEX[case]
    path = _container(tmp_path / "hostile.pkl", _members(parts, idx=index(parts)),
                      edit=lambda manifest: manifest.update(format=version))
    damaged = "safe mode: the dump's object index is damaged"
    loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path)
    assert _clean(loaded) and "values: {'x': \"%s\", 'y': \"%s\"}" % (damaged, damaged) in loaded.stdout, loaded
    assert "reason: %s\n" % damaged in loaded.stdout, loaded
    debug = _limited([PYTHON, "-m", "tbdebug", str(path)], tmp_path, stdin="p x\nq\n")
    assert _clean(debug) and "(Pdb) <int: %s 5>" % damaged in debug.stdout, debug


# A format 2 entry is checked when its record is read: one that cannot be followed is its value's
# placeholder (and, as for a record that fails, the values sharing its memo after it).
BAD_ENTRY: Dict[str, Callable[[Entry, int], Entry]] = {
    "its record past the member": lambda e, size: (size - 1, 2, e[2], e[3]),
    "a huge length": lambda e, size: (e[0], 2 ** 64 - 1, e[2], e[3]),
    "a fresh flag of 2": lambda e, size: (e[0], e[1], 2, e[3]),
    "an alone flag of 255": lambda e, size: (e[0], e[1], e[2], 255),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRY))
def test_a_damaged_entry_of_the_object_index_is_its_values_placeholder(case: str, parts: Parts,
                                                                       tmp_path: Path) -> None:
    x, y = (parts[0]["frames"][-1]["vars"][name]["ref"] for name in "xy")
    assert x < y   # x's record is read before y's
    entries = list(parts[2])
    entries[y] = BAD_ENTRY[case](entries[y], len(parts[1]))
    path = _container(tmp_path / "hostile.pkl", _members(parts, idx=pack(entries)))
    damaged = "not restored: the dump's object index entry %d is damaged" % y
    loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path)
    assert _clean(loaded) and "values: {'x': 5, 'y': \"%s\"}" % damaged in loaded.stdout, loaded
    assert "reason: None\n" in loaded.stdout, loaded
    debug = _limited([PYTHON, "-m", "tbdebug", str(path)], tmp_path, stdin="p x\np y\nq\n")
    assert _clean(debug) and "(Pdb) 5\n(Pdb) <int: %s 0>" % damaged in debug.stdout, debug


def test_a_value_naming_a_record_not_in_the_index_is_a_placeholder(parts: Parts, tmp_path: Path) -> None:
    """-1 must not be read as the last record loaded, nor a number past the end as anything."""
    def change(safe: Dict[str, Any]) -> None:
        variables = safe["frames"][-1]["vars"]
        variables["y"]["ref"] = -1   # asked after x: Python's [-1] would be x's record
        variables["z"] = {"t": "int", "r": "7", "ref": len(parts[2])}
    path = _with_safe(lambda p: _edited(p, change))(parts, tmp_path / "hostile.pkl")
    loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path)
    assert _clean(loaded) and "values: {'x': 5, 'y': 'not restored: the dump has no object record -1', " \
        "'z': 'not restored: the dump has no object record %d'}" % len(parts[2]) in loaded.stdout, loaded
    debug = _limited([PYTHON, "-m", "tbdebug", str(path)], tmp_path, stdin="p y\nq\n")
    assert _clean(debug) and "<int: not restored: the dump has no object record -1 0>" in debug.stdout, debug


@pytest.mark.parametrize("name, shown", [("Zero\0Div", "Zero\\\\x00Div"), ("Zero\ud800Div", "Zero\\\\ud800Div")])
def test_a_class_name_no_class_can_have_still_gets_a_stand_in(name: str, shown: str, parts: Parts,
                                                              tmp_path: Path) -> None:
    path = _with_safe(lambda p: _edited(p, _set("exceptions/0/name", name)))(parts, tmp_path / "hostile.pkl")
    loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path)
    assert _clean(loaded) and "classes: ['%s']" % shown in loaded.stdout, loaded
    for tool in ("tbdebug", "tbpeep"):
        proc = _limited([PYTHON, "-m", tool, str(path)], tmp_path, stdin="q\n")
        assert _clean(proc) and "division by zero" in proc.stdout, (tool, proc)


def test_a_signature_that_is_not_hex_does_not_verify(parts: Parts, tmp_path: Path) -> None:
    path = _container(tmp_path / "hostile.pkl", _members(parts), key=b"k",
                      edit=lambda manifest: manifest.update(hmac="\u00e9" * 64))
    reason = "safe mode: the dump's signature does not verify with TBDUMP_KEY, so objects are not loaded"
    loaded = _limited([PYTHON, "-c", LOAD, str(path)], tmp_path, {"TBDUMP_KEY": "k"})
    assert _clean(loaded) and "reason: %s\n" % reason in loaded.stdout, loaded
    debug = _limited([PYTHON, "-m", "tbdebug", str(path)], tmp_path, {"TBDUMP_KEY": "k"}, stdin="q\n")
    assert _clean(debug) and reason in debug.stdout + debug.stderr, debug


PYTHON39 = _interpreter("3.9.18")


@pytest.mark.skipif(not PYTHON39.is_file(), reason="needs Python 3.9.18 (pyenv): its pdb reads co_lnotab")
def test_far_lines_under_python_39(parts: Parts, tmp_path: Path) -> None:
    """A module frame's line table spans every line from 1: 10**100 is refused, the largest
    line Python has (a C int) is shown (its speed is not asserted: a 10 s bound failed under load)."""
    path = _with_safe(lambda p: _edited(p, _set("frames/0/line", 10 ** 100)))(parts, tmp_path / "far.pkl")
    debug = _limited([str(PYTHON39), "-m", "tbdebug", "--safe", str(path)], tmp_path, stdin="where\nq\n")
    assert _clean(debug, 2) and debug.stderr == "tbdebug: %s: %s\n" % (
        path, _named("frames[0].line: %s, found one out of range" % LINE)), debug
    path = _with_safe(lambda p: _edited(p, _set("frames/0/line", 2 ** 31 - 1)))(parts, tmp_path / "last.pkl")
    debug = _limited([str(PYTHON39), "-m", "tbdebug", "--safe", str(path)], tmp_path, stdin="where\nq\n")
    assert _clean(debug) and "divide.py(2147483647)<module>()" in debug.stdout, debug


def test_a_dump_of_format_1_with_the_globals_in_its_safe_layer_opens_with_them(good_dump: bytes,
                                                                               tmp_path: Path) -> None:
    # Format 2 keeps each module's globals and each source's text in a member of its own and packs
    # the object index; a dump written before holds them in the safe layer, its index is JSON.
    path = tmp_path / "new.pkl"
    path.write_bytes(good_dump)
    reader = ContainerReader(str(path))
    try:
        safe = texts_inline(json.loads(reader.read("safe")), reader.read)
        safe["namespaces"] = {key: json.loads(reader.read(name)) for key, name in safe.pop("globals").items()}
        members: Dict[str, Stored] = {"objects": (reader.read("objects"), "raw"),
                                      "objects.idx": (zlib.compress(json.dumps(
                                          list(ENTRY.iter_unpack(reader.read("objects.idx")))).encode()), "zlib"),
                                      "safe": (zlib.compress(json.dumps(safe).encode()), "zlib")}
    finally:
        reader.close()
    old = tbdump.load(_container(tmp_path / "old.pkl", members, edit=lambda manifest: manifest.update(format=1)))
    new = tbdump.load(path)
    shown = [{name: v.repr for name, v in dump.globals_of(dump.frames[-1]).items()} for dump in (old, new)]
    assert shown[0] == shown[1] and shown[0]["__name__"] == "'__main__'"
    assert old.frames[-1].globals["div"].__name__ == "div"
