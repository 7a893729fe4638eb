"""Keeps, from one start of the server to the next, the code attrs and cattrs generate.

Importing `lsprotocol.types` defines some 560 attrs classes. attrs writes the methods of
each (`__init__`, `__eq__`, `__repr__`, …) as Python source and compiles it, and that
compiling is about half of the import: the largest single cost of starting the server.
cattrs does the same for the (un)structuring functions of each message type it meets.
The sources are the same at every start, so `install()` keeps their code objects in one
marshal file per interpreter in the user's cache directory and hands them back instead
of compiling again, as Python's own `__pycache__` does for modules.

attrs and cattrs still build everything exactly as before: only `compile` of a source
already seen is skipped. An entry is found by the source's digest, the file name it is
compiled under, the mode, the compiler flags and the optimization level, so a new attrs,
cattrs or lsprotocol only misses. A cache that cannot be read, is damaged, could have
been written by another user or cannot be written means compiling as usual.
`TBLSP_CACHE_DIR` names another folder for it, or, empty, turns it off.
"""
from __future__ import annotations

import __future__
import atexit
import builtins
import hashlib
import logging
import marshal
import os
import sys
from importlib.util import MAGIC_NUMBER
from types import CodeType, ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

log = logging.getLogger(__name__)

Key = Tuple[bytes, str, str, int, int]    # digest, file name, mode, flags, optimize

ENV_DIR = "TBLSP_CACHE_DIR"


def cache_file() -> Optional[str]:
    """The cache's path for this interpreter; None when it is turned off."""
    if ENV_DIR in os.environ:
        if not os.environ[ENV_DIR]:
            return None
        # Read as a shell would have read it unquoted (`~/x`, `$HOME/x`): an editor's settings
        # pass the text as typed, and `~` taken literally made a folder named `~`.
        folder = os.path.expanduser(os.path.expandvars(os.environ[ENV_DIR]))
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") \
            or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "tblsp")
    opt = f"-O{sys.flags.optimize}" if sys.flags.optimize else ""
    return os.path.join(folder, f"generated-code.{sys.implementation.cache_tag}{opt}.marshal")


def _is_key(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 5 and isinstance(key[0], bytes) \
        and isinstance(key[1], str) and isinstance(key[2], str) \
        and isinstance(key[3], int) and isinstance(key[4], int)


class CodeCache:
    """Code objects by source, read from and written to one file."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.stored: Dict[Key, CodeType] = self._read() if path else {}
        self.used: Dict[Key, CodeType] = {}

    def _read(self) -> Dict[Key, CodeType]:
        assert self.path is not None
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                    log.info("%s: others could have written it; not used", self.path)
                    return {}
                data = f.read()
            if not data.startswith(MAGIC_NUMBER):
                return {}
            stored = marshal.loads(data[len(MAGIC_NUMBER):])
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if not isinstance(stored, dict):
            return {}
        return {k: v for k, v in stored.items() if _is_key(k) and isinstance(v, CodeType)}

    def compiler(self, module: ModuleType) -> Callable[..., Any]:
        """A `compile` that behaves as the builtin one does when `module` calls it."""
        inherited = 0      # the __future__ flags code in `module` compiles with
        for value in vars(module).values():
            if isinstance(value, __future__._Feature):
                inherited |= value.compiler_flag

        def compile(source: Any, filename: Any, mode: str, flags: int = 0,
                    dont_inherit: bool = False, optimize: int = -1, **kwargs: Any) -> Any:
            if not dont_inherit:
                flags |= inherited
            if not isinstance(source, str) or not isinstance(filename, str) \
                    or not isinstance(mode, str) or not isinstance(flags, int) \
                    or not isinstance(optimize, int) or kwargs:
                return builtins.compile(source, filename, mode, flags, True, optimize, **kwargs)
            digest = hashlib.blake2b(source.encode("utf-8", "surrogatepass"),
                                     digest_size=20).digest()
            key = (digest, filename, mode, flags,
                   sys.flags.optimize if optimize == -1 else optimize)
            code = self.stored.get(key)
            if code is None:
                code = builtins.compile(source, filename, mode, flags, True, optimize)
            self.used[key] = code
            return code
        return compile

    def worth_writing(self) -> bool:
        """Whether this process compiled what the file lacks, enough to write it again.

        Code under a name the file does not have (a message type met for the first time)
        is; so is code that differs under many names (a new attrs or lsprotocol). Code
        that differs under a few names is not: attrs puts the per-process hash of a
        string in each `__hash__` it writes, so those differ at every start.
        """
        new = [key for key in self.used if key not in self.stored]
        if not new:
            return False
        names = {key[1:] for key in self.stored}
        return any(key[1:] not in names for key in new) or len(new) > len(self.used) // 20

    def save(self) -> None:
        """Write what this process used over the file's entries of the same names, if worth it.

        The file's other entries stay: a session that met only some message types must
        not drop the others. Quietly nothing when it cannot be written.
        """
        try:
            if self.path is None or not self.worth_writing():
                return
            used = dict(self.used)
            names = {key[1:] for key in used}
            merged = {k: v for k, v in self.stored.items() if k[1:] not in names}
            merged.update(used)
            tmp = f"{self.path}.{os.getpid()}.tmp"
            try:
                os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
                # Owner-only whatever the umask: a cache others can write is never read.
                with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                    f.write(MAGIC_NUMBER + marshal.dumps(merged))
                os.replace(tmp, self.path)     # readers see the old file or the new, never half
            except OSError:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            self.stored = merged
        except Exception as exc:   # a cache must never be why the server fails
            log.info("cannot write %s: %s", self.path, exc)


def _generators() -> List[ModuleType]:
    """attrs's and cattrs's modules whose generated code goes through the module's `compile`."""
    found = []
    try:
        from attr import _make
    except ImportError:
        pass
    else:
        if hasattr(_make, "_compile_and_eval"):
            found.append(_make)
    try:
        from cattrs import gen
    except ImportError:
        pass
    else:
        if hasattr(gen, "make_dict_structure_fn") and hasattr(gen, "make_dict_unstructure_fn"):
            found.append(gen)
    return [m for m in found if "compile" not in vars(m)]   # someone else's: left alone


def install() -> Optional[CodeCache]:
    """From now on, attrs and cattrs get their generated code from the cache.

    What is new is written by `CodeCache.save()` and, again, at exit. None when there
    is nothing to install into (the cache is off, or attrs and cattrs are not as known).
    """
    path = cache_file()
    modules = _generators() if path is not None else []
    if not modules:
        return None
    cache = CodeCache(path)
    for module in modules:
        setattr(module, "compile", cache.compiler(module))
    atexit.register(cache.save)
    return cache
