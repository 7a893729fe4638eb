"""Files that are not good dumps: one clear DumpError, and exit status 2 on the command line."""
from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest

import tbdump
from tbdump.container import END_MAGIC, MAGIC
from ..conftest import PYTHON, REPO, rewrite_safe_layer, run


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
CASES: dict = {
    "empty": (lambda d, t: b"", "the file is empty"),
    "text": (lambda d, t: b"hello world\n", "not a tbdump file (it looks like a text file)"),
    "plain pickle": (lambda d, t: pickle.dumps({"a": 1}), "not a tbdump file (it looks like a plain pickle)"),
    "zip": (lambda d, t: _zip_bytes(t), "not a tbdump file (it looks like a zip archive)"),
    "truncated": (lambda d, t: d[: len(d) // 2], "truncated"),
    "magic only": (lambda d, t: MAGIC, "truncated"),
    "corrupted": (lambda d, t: _flip(d, "safe"), "corrupted"),
    "newer format": (lambda d, t: _newer_format(d), "written by a newer tbdump"),
    "crafted pid": (_retyped(_set("metadata/pid", "x")), DAMAGED),
    "crafted version": (_retyped(_set("metadata/version_info", 3)), DAMAGED),
    "crafted no exception": (_retyped(_set("exceptions", [])), DAMAGED),
    "crafted cause": (_retyped(_set("exceptions/0/cause", 7)), DAMAGED),
    "crafted frame index": (_retyped(_set("exceptions/0/frames/0", 99)), DAMAGED),
    "crafted line": (_retyped(_set("frames/-1/line", "ten")), DAMAGED),
    "crafted repr": (_retyped(lambda safe: _first_variable(safe).update(r=5)), DAMAGED),
    "crafted source": (_retyped(lambda safe: next(iter(safe["sources"].values())).update(text=[1])), DAMAGED),
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
    expected = "tbdump: %s: not a regular file (a pipe or a device): save the dump to a file first\n"
    for tool in ("tbdump.report", "tbdebug", "tbpeep"):
        proc = run([PYTHON, "-m", tool, str(tmp_path / "pipe.pkl")], tmp_path, timeout=30)
        assert proc.returncode == 2 and proc.stdout == "", (tool, proc)
        assert proc.stderr == expected.replace("tbdump", tool.split(".")[0], 1) % (tmp_path / "pipe.pkl"), proc


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(tbdump.DumpError, match="no such file"):
        tbdump.load(tmp_path / "nope.pkl")
    with pytest.raises(tbdump.DumpError, match="is a directory"):
        tbdump.load(tmp_path)
    proc = run([PYTHON, "-m", "tbdump.report", "nope.pkl"], tmp_path)
    assert (proc.returncode, proc.stderr) == (2, "tbdump: nope.pkl: no such file\n")


def test_object_layer_corruption_still_opens_the_safe_layer(good_dump: bytes, tmp_path: Path) -> None:
    """A damaged object member leaves the dump readable in safe mode, with the reason."""
    path = tmp_path / "half.pkl"
    path.write_bytes(_flip(good_dump, "objects"))
    dump = tbdump.load(path)
    assert dump.frames[-1].variables["x"].repr == "5"
    value = dump.frames[-1].locals["x"]
    assert isinstance(value, tbdump.Placeholder) and "fails its checksum" in value.reason
