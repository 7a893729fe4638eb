"""The dump file's container: named members with hashes, a signed manifest, atomic writes.

Layout (docs/FORMAT.md): an 8-byte magic, the members' bytes one after the
other, the manifest (JSON), its length as 8 bytes little-endian, and an
8-byte end magic.  The manifest lists every member's offset, size, checksum
(SHA-256 when signed, else CRC-32) and encoding, and carries the optional
HMAC-SHA256 over itself.
"""
from __future__ import annotations

import _io  # the C module: test mocks of builtins.open / io.open don't reach it
import hashlib
import io
import hmac
import json
import os
import posixpath
import re
import stat
import time
import struct
import threading
import zlib
from typing import Any, BinaryIO, Dict, Optional, Protocol, Set, Tuple

from . import unpatched
from .errors import CorruptDumpError, DumpError, NewerFormatError, NotADumpError, system_words
from .model import FORMAT_VERSION
from .native import task_ident

MAGIC = b"\x89TBDUMP\n"
END_MAGIC = b"\nTBDEND\x1a"
_TRAILER = struct.Struct("<Q8s")

# The most a member read whole into memory (the safe layer, the object index)
# may hold, stored or decompressed.  A 900-frame recursion's safe layer is
# about 2 MB, and capture bounds what goes in it (previews, 5000 globals per
# module, sources up to 4 MB, a 10 s budget), so real dumps stay far below;
# loaded, JSON takes some 8 times its size, so this much is already 2 GB.
# Beyond it a file is refused before anything is hashed or inflated: a zlib
# bomb or a member of holes in a sparse file must not cost gigabytes or minutes.
MAX_READ_BYTES = 256 << 20

# Bound now, so a test that mocks os.replace or os.unlink cannot break a dump.
_osimpl = unpatched.osimpl
_replace = _osimpl.replace
_unlink = _osimpl.unlink
_getpid = _osimpl.getpid
_urandom = _osimpl.urandom
_stat = _osimpl.stat
_lstat = _osimpl.lstat
_open = _osimpl.open
_mkdir = _osimpl.mkdir
_fchmod = getattr(_osimpl, "fchmod", None)  # Windows: no permissions to set
_close = _osimpl.close
_ftruncate = _osimpl.ftruncate
_lseek = _osimpl.lseek
_scandir = _osimpl.scandir
_kill = _osimpl.kill
try:
    from fcntl import F_DUPFD_CLOEXEC as _DUPFD_CLOEXEC, fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]
json_dumps = json.dumps  # bound now too: a leaked mock of json.dumps must not break a dump


def manifest_mac(manifest: Dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 over the manifest without its own ``hmac`` field."""
    body = {k: v for k, v in manifest.items() if k != "hmac"}
    text = json_dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()


class Checksum(Protocol):
    """What a member's checksum is: hashlib's SHA-256 or Crc32."""

    def update(self, data: Any, /) -> None: ...

    def hexdigest(self) -> str: ...


class Crc32:
    """CRC-32 with hashlib's interface: what an unsigned dump's members carry.

    Without a signature a checksum can only catch accidents (a truncated copy,
    a flipped bit), which CRC-32 does nine times faster than SHA-256; a signed
    dump's manifest needs SHA-256, or its members could be swapped under it.
    """

    name = "crc32"

    def __init__(self, data: Any = b"") -> None:
        self.value = unpatched.crc32(data)

    def update(self, data: Any) -> None:
        self.value = unpatched.crc32(data, self.value)

    def hexdigest(self) -> str:
        return "%08x" % self.value


def deflate(data: bytes) -> bytes:
    """A member's bytes as the container stores them compressed (encoding "zlib")."""
    return unpatched.compress(data, 1)  # level 1: 3x faster, JSON still shrinks ~8x


def new_checksum(signed: bool, data: Any = b"") -> Checksum:
    """The checksum a member carries: SHA-256 in a signed dump, else CRC-32."""
    return hashlib.sha256(data) if signed else Crc32(data)


def _checksum_key(signed: bool) -> str:
    """The manifest key a member's checksum is stored under."""
    return "sha256" if signed else Crc32.name


def _member_checksum(member: Dict[str, Any]) -> Tuple[Checksum, Optional[str]]:
    """A fresh checksum of the kind a member's entry names, and the expected value."""
    signed = _checksum_key(True) in member
    return new_checksum(signed), member.get(_checksum_key(signed))


def checksum_of_range(f: Any, offset: int, size: int, checksum: Checksum) -> str:
    """``checksum`` over ``size`` bytes of an open file from ``offset``, read in 1 MB chunks."""
    f.seek(offset)
    left = size
    while left:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            break
        checksum.update(chunk)
        left -= len(chunk)
    return str(checksum.hexdigest())


class ContainerWriter:
    """Writes members to a temporary file beside the target, then renames it into place."""

    def __init__(self, path: str, signed: bool, mode: int) -> None:
        """``mode``: the file's permissions, set as given whatever the umask."""
        path = _writable_target(path)
        self.path = path
        self.signed = signed
        directory = posixpath.dirname(os.fspath(path)) or "."
        self.tmp = posixpath.join(directory, ".%s.%d.%s.tmp" % (
            posixpath.basename(path), _getpid(), _urandom(4).hex()))
        # Created for its owner only and never through a link planted at the name, so no
        # one else can read the program's memory while it is written; renamed into place,
        # the dump keeps these permissions.
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = _open(self.tmp, flags, 0o600)
        except FileNotFoundError:
            # A folder of the path is missing: made now, as --log-dumps makes its directory and
            # pytest --junitxml its report's, rather than lose the crash's dump to it.
            _make_folders(directory)
            fd = _open(self.tmp, flags, 0o600)
        fd = _above_std(fd)
        _UNFINISHED[self.tmp] = (_getpid(), task_ident())
        _remove_leftovers(directory, posixpath.basename(path))
        self.file = _io.FileIO(fd, "r+")
        try:
            if _fchmod is not None:
                _fchmod(fd, mode)
        except OSError:  # a file system without permissions (FAT, some shares): keep the dump
            pass
        self.file.write(MAGIC)
        self.members: Dict[str, Dict[str, Any]] = {}

    def begin_member(self) -> int:
        return self.file.tell()

    def end_member(self, name: str, offset: int, digest: Optional[str], encoding: str = "raw") -> None:
        """Record a member written in place; ``digest`` None means hash it from the file."""
        size = self.file.tell() - offset
        if digest is None:
            digest = checksum_of_range(self.file, offset, size, new_checksum(self.signed))
            self.file.seek(0, 2)
        self.members[name] = {"offset": offset, "size": size, _checksum_key(self.signed): digest,
                              "encoding": encoding}

    def add(self, name: str, data: bytes, compress: bool = True) -> None:
        self.add_encoded(name, deflate(data) if compress else data, "zlib" if compress else "raw")

    def add_encoded(self, name: str, payload: bytes, encoding: str) -> None:
        """A member whose bytes are already in their ``encoding`` ("zlib": made by deflate)."""
        offset = self.begin_member()
        self.file.write(payload)
        self.end_member(name, offset, new_checksum(self.signed, payload).hexdigest(), encoding)

    def finish(self, key: Optional[bytes], info: Dict[str, Any]) -> None:
        manifest: Dict[str, Any] = {"format": FORMAT_VERSION, "members": self.members, **info,
                                    "hmac": None}
        if key:
            manifest["hmac"] = manifest_mac(manifest, key)
        body = json_dumps(manifest, sort_keys=True).encode()
        self.file.write(body)
        self.file.write(_TRAILER.pack(len(body), END_MAGIC))
        self.file.close()
        _replace(self.tmp, self.path)
        _UNFINISHED.pop(self.tmp, None)

    def abort(self) -> None:
        try:
            self.file.close()
        finally:
            _remove(self.tmp)


def _make_folders(directory: str) -> None:
    """Make ``directory`` and the folders above it that are missing, as ``mkdir -p`` does, with
    the permissions the umask leaves (the dump inside keeps its own mode).  Raises the OSError
    of the first that cannot be made (no permission, a regular file in the way)."""
    missing = []
    while True:  # up to the first folder that is there or can be made
        try:
            _mkdir(directory, 0o777)
        except FileNotFoundError:
            parent = posixpath.dirname(directory)
            if parent in ("", directory):  # a relative path in a removed working directory
                raise
            missing.append(directory)
            directory = parent
            continue
        except FileExistsError:  # made meanwhile by another crash's dump
            pass
        break
    # Then down, once each: a name that is there but leads nowhere (a dangling symlink) makes
    # the folder below it fail for good, which going up again would retry forever.
    for folder in reversed(missing):
        try:
            _mkdir(folder, 0o777)
        except FileExistsError:
            pass


def _above_std(fd: int) -> int:
    """``fd`` of a file just made, moved above 0-2: where a program closed its stdin, stdout
    or stderr (a daemon does), the dump would take that number, and what the program or its
    threads write there while the dump is written would land in the dump.  What they wrote
    in the moment before the move is cut off again."""
    if fd > 2 or _fcntl is None:
        return fd
    try:
        moved = _fcntl(fd, _DUPFD_CLOEXEC, 3)
    except OSError:  # out of descriptors: the dump as it is
        return fd
    _close(fd)
    _ftruncate(moved, 0)
    _lseek(moved, 0, os.SEEK_SET)
    return moved


# Temporary files of dumps being written, with the pid and the thread (greenlet) writing each: a
# capture that never returns is given up on while its file is half written (tbdump.hooks).
_UNFINISHED: Dict[str, Tuple[int, Tuple[int, int]]] = {}


def remove_unfinished(task: Optional[Tuple[int, int]] = None) -> None:
    """Remove this process's temporary files of the dumps still being written (not those a
    parent was writing when it forked this one): those ``task`` (a native.task_ident) writes,
    its capture given up on while other threads' and greenlets' dumps go on, or all before the
    process ends."""
    for tmp, (pid, writer) in list(_UNFINISHED.items()):
        if pid == _getpid() and task in (None, writer):
            _remove(tmp)


def _remove(tmp: str) -> None:
    _UNFINISHED.pop(tmp, None)
    try:
        _unlink(tmp)
    except OSError:
        pass


# A writer killed in mid-write (SIGKILL, a signal's default action in a thread's dump, another
# thread's os._exit) leaves its temporary file: the next dump of the same name removes it, once
# its writer is gone and it is an hour old, far beyond any capture's time budget (a writer in
# another container or on another host, whose pid means nothing here, still writes it).
LEFTOVER_SECONDS = 3600
# A temporary file's name: its dump's, the writer's pid.  Compiled once: a test's mock of re.compile
# still active at the crash is the program's.
_LEFTOVER = re.compile(r"\.(.*)\.(\d+)\.[0-9a-f]{8}\.tmp\Z", re.DOTALL)


def _remove_leftovers(directory: str, name: str) -> None:
    """Remove the temporary files of dumps named ``name`` in ``directory`` that no one writes."""
    if _osimpl.__name__ != "posix":  # Windows' os.kill(pid, 0) would end that process
        return
    try:
        entries = list(_scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _LEFTOVER.match(entry.name)
        try:
            if match is None or match.group(1) != name or _alive(int(match.group(2))) or \
                    entry.stat(follow_symlinks=False).st_mtime > time.time() - LEFTOVER_SECONDS:
                continue
            _unlink(entry.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        _kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: alive
        return True
    return True


def _writable_target(path: str) -> str:
    """Where the dump really goes: through a symlink to its file, and never over a
    device, pipe or directory (renaming over /dev/null would replace it)."""
    try:
        if stat.S_ISLNK(_lstat(path).st_mode):
            path = posixpath.realpath(path)
        mode = _stat(path).st_mode
    except OSError:
        return path  # nothing there yet (or a dangling link, resolved above)
    if not stat.S_ISREG(mode):
        raise OSError(0, "not a regular file")
    return path


class ContainerReader:
    """Reads and verifies members; opens the file read-only and never writes anywhere."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            mode = _stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG  # open() below says what is wrong
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a directory: open() below says so
            # Opening a pipe blocks until a writer comes, and a stream cannot be seeked.
            raise DumpError("%s: not a regular file (a pipe or a device): save the dump to a file first" % path)
        try:
            self.file = _io.FileIO(path, "r")
        except FileNotFoundError:
            raise DumpError("%s: no such file" % path) from None
        except IsADirectoryError:
            raise DumpError("%s: is a directory, not a dump file" % path) from None
        except OSError as exc:
            raise self._unreadable(exc) from None
        self._reading = threading.Lock()
        try:
            self._identity = _identity(self.file)
            self.manifest = self._read_manifest()
        except OSError as exc:   # a read the system fails (a bad disk, /proc/self/mem)
            self.file.close()
            raise self._unreadable(exc) from None
        except BaseException:
            self.file.close()
            raise

    def _read_manifest(self) -> Dict[str, Any]:
        size = os.fstat(self.file.fileno()).st_size
        head = self.file.read(len(MAGIC))
        if head != MAGIC and not (head and MAGIC.startswith(head)):   # a dump cut inside its magic is one
            raise NotADumpError("%s: not a tbdump file (%s)" % (self.path, _sniff(head, size)))
        if size < len(MAGIC) + _TRAILER.size:
            raise CorruptDumpError("%s: the dump is truncated (%d bytes)" % (self.path, size))
        self.file.seek(size - _TRAILER.size)
        length, end = _TRAILER.unpack(self.file.read(_TRAILER.size))
        if end != END_MAGIC or length > size - len(MAGIC) - _TRAILER.size:
            raise CorruptDumpError("%s: the dump is truncated or damaged (no valid end marker)" % self.path)
        self.file.seek(size - _TRAILER.size - length)
        try:
            manifest = json.loads(self.file.read(length).decode("utf-8"))
            fmt = manifest["format"]
            members = manifest["members"]
            if type(fmt) is not int or fmt < 1 or not isinstance(members, dict):   # versions start at 1
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
            raise CorruptDumpError("%s: the dump's manifest is damaged" % self.path) from None
        if fmt > FORMAT_VERSION:
            raise NewerFormatError(
                "%s: written by a newer tbdump (format %d; this tbdump reads up to %d) - upgrade tbdump"
                % (self.path, fmt, FORMAT_VERSION))
        end_of_members = size - _TRAILER.size - length
        # A member whose entry is damaged is refused when it is read, not the file when it is
        # opened: a damaged object layer leaves the safe layer to read (safe mode).
        self.out_of_bounds: Set[str] = {
            name for name, m in members.items()
            if not (isinstance(m, dict) and type(m.get("offset")) is int and type(m.get("size")) is int
                    and len(MAGIC) <= m["offset"] and 0 <= m["size"] and m["offset"] + m["size"] <= end_of_members)}
        return manifest

    def entry(self, name: str) -> Dict[str, Any]:
        """The manifest's entry of a member, its offset and size within the file."""
        if name in self.out_of_bounds:
            raise CorruptDumpError("%s: the dump's member %r is out of bounds" % (self.path, name))
        m = self.manifest["members"].get(name)
        if m is None:
            raise CorruptDumpError("%s: the dump has no %r member" % (self.path, name))
        return m

    def raw(self, name: str, file: Optional[BinaryIO] = None) -> Tuple[bytes, str]:
        """The member's stored bytes, read from ``file`` (default: the file opened) and verified
        against its hash.

        Read, not mapped: a page of a mapping whose file another process truncated meanwhile
        (a new dump copied over it) ends the viewer with SIGBUS, no message at all; a read
        comes back short.  Only the member is read: the file may be far larger (a 200 MB
        object layer, or a crafted terabyte of holes)."""
        m = self.entry(name)
        source = file or self.file
        self._unchanged(source)
        with self._reading:   # the file's position is shared by a viewer's threads
            try:
                source.seek(m["offset"])
                data = source.read(m["size"])
                while 0 < len(data) < m["size"]:   # a read a signal cut short
                    more = source.read(m["size"] - len(data))
                    if not more:
                        break
                    data += more
            except OSError as exc:
                raise self._unreadable(exc) from None
        if len(data) != m["size"]:
            self._unchanged(source)   # cut short since it was opened: said as any change is
            raise CorruptDumpError("%s: the dump is truncated (member %r ends past the file's end)" % (self.path, name))
        checksum, expected = _member_checksum(m)
        checksum.update(data)
        if checksum.hexdigest() != expected:
            raise self._fails_checksum(name)
        return data, m.get("encoding", "raw")

    def open_member(self, name: str) -> Tuple[BinaryIO, int]:
        """A fresh read-only file and the member's offset in it, after verifying its hash.

        The hash is read in chunks, not through a mapping: a 200 MB member must
        not count twice in the reader's memory while its objects are built.
        """
        m = self.entry(name)
        stream = self.reopen()
        checksum, expected = _member_checksum(m)
        try:
            digest = checksum_of_range(stream, m["offset"], m["size"], checksum)
        except OSError as exc:
            stream.close()
            raise self._unreadable(exc) from None
        if digest != expected:
            stream.close()
            raise self._fails_checksum(name)
        return stream, m["offset"]

    def _fails_checksum(self, name: str) -> CorruptDumpError:
        return CorruptDumpError("%s: the dump is corrupted (member %r fails its checksum)" % (self.path, name))

    def _unreadable(self, exc: OSError) -> DumpError:
        """A read of the file that the system failed, said as opening it failed: as cat says it."""
        return DumpError("%s: %s" % (self.path, system_words(exc)))

    def reopen(self) -> BinaryIO:
        """Another read-only stream on the same file, for reading a member in two places at once.

        Opened by path, so it is checked to be the file opened first: a new dump
        written to the same name meanwhile must not be read as this one.
        """
        try:
            raw = _WatchedFile(self.path, self)
        except OSError as exc:
            raise CorruptDumpError("%s: the file is gone (%s)" % (self.path, system_words(exc))) from None
        try:
            self._unchanged(raw)
        except CorruptDumpError:
            raw.close()
            raise
        return io.BufferedReader(raw, 1 << 16)

    def _unchanged(self, file: Any) -> None:
        """Refuse to read on from ``file`` (open on this dump's path) once it is not the file this
        reader opened, as it was: another dump written over it in place (``cp``, a CI artifact
        fetched again) keeps its inode, and its bytes read at this dump's offsets would be
        shown as this dump's values.  Renamed over it (tbdump's own writer), the open file is
        the old one, still whole; opened again by path, it is the new one."""
        if _identity(file) != self._identity:
            raise CorruptDumpError("%s: the file was replaced while it was open" % self.path)

    def superseded(self) -> bool:
        """Whether the path no longer holds the file opened as it was: written over or cut short
        in place, or another file put there.  A file removed since is not: nothing newer is
        there to read, and the open file is still whole."""
        try:
            return _identity_of(_stat(self.path)) != self._identity
        except OSError:
            return False

    def member_size(self, name: str) -> int:
        """The member's size in the file; 0 when the dump has none (or its entry is damaged)."""
        m = self.manifest["members"].get(name)
        return m["size"] if m and name not in self.out_of_bounds else 0

    def read(self, name: str) -> bytes:
        """The member's bytes, verified and decoded: at most MAX_READ_BYTES, else refused.

        Once the reader is closed, from the file opened again (``reopen``): a viewer that must
        not hold the file open (a new crash replaces it) still reads what it asks for later."""
        if self.entry(name)["size"] > MAX_READ_BYTES:  # before hashing: a terabyte of holes takes minutes
            raise self._too_big(name)
        if self.file.closed:
            with self.reopen() as again:
                return self._decoded(name, *self.raw(name, again))
        return self._decoded(name, *self.raw(name))

    def _decoded(self, name: str, stored: bytes, encoding: str) -> bytes:
        if encoding != "zlib":
            return stored
        inflater = zlib.decompressobj()
        try:
            data: Optional[bytes] = inflater.decompress(stored, MAX_READ_BYTES + 1)  # a zlib bomb stops here
        except zlib.error:
            data = None
        if data is not None and len(data) > MAX_READ_BYTES:
            raise self._too_big(name)
        if data is None or not inflater.eof:
            raise CorruptDumpError("%s: the dump's member %r does not decompress" % (self.path, name))
        return data

    def _too_big(self, name: str) -> CorruptDumpError:
        return CorruptDumpError("%s: the dump's member %r is over %d MiB, more than any dump's (damaged or crafted)"
                                % (self.path, name, MAX_READ_BYTES >> 20))

    def signature_ok(self, key: bytes) -> bool:
        mac = self.manifest.get("hmac")
        # Only SHA-256 makes the signed manifest bind the members' contents.
        strong = all(isinstance(m, dict) and _checksum_key(True) in m for m in self.manifest["members"].values())
        # compare_digest raises on a str that is not ASCII: a crafted one is a wrong signature too.
        return strong and isinstance(mac, str) and mac.isascii() and hmac.compare_digest(
            mac, manifest_mac(self.manifest, key))

    def close(self) -> None:
        self.file.close()


class _WatchedFile(_io.FileIO):
    """The dump file opened again, which checks it is still the dump opened first before
    each read from the disk (a buffer's fill): the object layer is read long after it was
    verified, as its values are asked for."""

    def __init__(self, path: str, reader: ContainerReader) -> None:
        super().__init__(path, "r")
        self._reader = reader

    def readinto(self, buffer: Any) -> Optional[int]:
        self._reader._unchanged(self)
        return super().readinto(buffer)


def _identity(file: Any) -> Tuple[int, int, int, int]:
    """What tells an open file from another put at its name since (a new dump written over it)."""
    return _identity_of(os.fstat(file.fileno()))


def _identity_of(st: os.stat_result) -> Tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _sniff(head: bytes, size: int) -> str:
    """A hint at what a foreign file is, for the error message."""
    if size == 0:
        return "the file is empty"
    if head[:1] == b"\x80":
        return "it looks like a plain pickle"
    if head[:4] == b"PK\x03\x04":
        return "it looks like a zip archive"
    try:
        head.decode("utf-8")
        return "it looks like a text file"
    except UnicodeDecodeError:
        return "unrecognised content"

