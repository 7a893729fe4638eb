"""File URIs and the paths they name, a file name that is not UTF-8 included (Linux names are bytes)."""
import os
from typing import Optional
from urllib.parse import quote, unquote_to_bytes, urlsplit


def path_of(uri: str) -> Optional[str]:
    """The path a ``file:`` URI names, None for another scheme.

    Its percent-escapes are the name's bytes: a directory named b'caf\\xe9' (Neovim sends
    ``caf%E9``) is 'caf\\udce9', as os.listdir and a dump name it. pygls's to_fs_path
    decodes them as UTF-8 with replacement, naming a file that does not exist, so such a
    workspace had no dumps and such a file no crash.
    """
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    path = os.fsdecode(unquote_to_bytes(parts.path))
    return f"//{parts.netloc}{path}" if parts.netloc and path else path


def uri_of(path: str) -> str:
    """The ``file:`` URI of a path, escaping the bytes of its name; a relative one (a dump's
    ``<stdin>``) is taken from the root, as pygls's from_fs_path takes it, which raised
    UnicodeEncodeError on a name that is not UTF-8."""
    return "file://" + quote(os.fsencode(os.path.join("/", path)))
