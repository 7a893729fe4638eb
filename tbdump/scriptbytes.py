"""Python's refusal of a script whose bytes its declared encoding (or UTF-8, when none is
declared) cannot read, in python's words."""
from __future__ import annotations

import codecs
import sys
import tokenize
from typing import Optional, Tuple

# Python's tokenizer says where to read about source encodings; the page moved in 3.11.
_PEP_263 = ("https://peps.python.org/pep-0263/" if sys.version_info >= (3, 11)
            else "https://python.org/dev/peps/pep-0263/")


def refusal(path: str, data: bytes) -> Optional[SyntaxError]:
    """The SyntaxError ``python script.py`` ends in before running any of it when the script's
    bytes are not in the encoding it declares, or not UTF-8 when it declares none; None for
    any other script (what is left, compile() says as python does).

    compile() of the bytes, which the runner uses, does not say this. Without a coding cookie
    it lets a bad byte in a comment pass and runs the program python refuses, and says
    "(unicode error) 'utf-8' codec can't decode" of one in a string. With one it says the
    codec's own words ("'ascii' codec can't decode byte 0xc3 in position 23", "unknown
    encoding: foobar") at `line 0`, where python says "encoding problem: ascii" and no place.
    """
    bom = data.startswith(codecs.BOM_UTF8)
    declared, rest = _cookie(data[len(codecs.BOM_UTF8):] if bom else data)
    if declared is None:
        return None if bom else _non_utf8(path, data)
    # Python's own names for UTF-8 and Latin-1 ("UTF_8" is utf-8); any other as written.
    name = tokenize._get_normal_name(declared)  # type: ignore[attr-defined]
    if bom:
        return None if name == "utf-8" else SyntaxError(f"encoding problem: {name} with BOM")
    if name == "utf-8":   # python reads it as it reads a script that declares nothing: compile() agrees
        return None
    try:
        codec = codecs.lookup(name)
        # Python decodes what follows the cookie's line with the codec; a codec of bytes to
        # bytes (hex, rot13) is none it reads source with.
        if getattr(codec, "_is_text_encoding", True):
            codec.decode(rest)
            return None
    except (LookupError, UnicodeError, ValueError):
        pass
    return SyntaxError(f"encoding problem: {name}")


def _cookie(data: bytes) -> Tuple[Optional[str], bytes]:
    """The encoding a coding cookie declares (on line 1, or on line 2 below a comment or blank
    line) and the bytes after its line; None and all the bytes when there is none."""
    lines = data.split(b"\n", 2)
    for number, line in enumerate(lines[:2]):
        match = tokenize.cookie_re.match(line.decode("latin-1"))
        if match:
            return match.group(1), b"\n".join(lines[number + 1:])
        if not tokenize.blank_re.match(line):
            break
    return None, data


def _non_utf8(path: str, data: bytes) -> Optional[SyntaxError]:
    """Python's refusal of a script with no BOM and no coding cookie whose bytes are not UTF-8
    (a Latin-1 'é', even in a comment)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # 3.10's tokenizer has read the next line when it says so, and names that one.
        line = data.count(b"\n", 0, exc.start) + (2 if sys.version_info[:2] == (3, 10) else 1)
        return SyntaxError(f"Non-UTF-8 code starting with '\\x{data[exc.start]:02x}' in file {path} "
                           f"on line {line}, but no encoding declared; see {_PEP_263} for details")
    return None
