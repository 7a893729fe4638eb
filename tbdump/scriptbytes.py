"""Python's refusal of a script whose bytes are not UTF-8 and that declares no encoding, in python's words."""
from __future__ import annotations

import codecs
import sys
import tokenize
from typing import Optional

# Python's tokenizer says where to read about source encodings; the page moved in 3.11.
_PEP_263 = ("https://peps.python.org/pep-0263/" if sys.version_info >= (3, 11)
            else "https://python.org/dev/peps/pep-0263/")


def non_utf8_error(path: str, data: bytes) -> Optional[SyntaxError]:
    """The SyntaxError ``python script.py`` ends in before running any of it when the script has
    no BOM and no coding cookie and its bytes are not UTF-8 (a Latin-1 'é', even in a comment);
    None for any other script.

    compile() of the bytes, which the runner uses, does not say this: it lets a bad byte in a
    comment pass and runs the program python refuses, and says "(unicode error) 'utf-8' codec
    can't decode" of one in a string. With a BOM or a cookie both say the same, so those are
    left to compile().
    """
    if data.startswith(codecs.BOM_UTF8) or any(tokenize.cookie_re.match(line.decode("latin-1"))
                                                  for line in data.split(b"\n", 2)[:2]):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # 3.10's tokenizer has read the next line when it says so, and names that one.
        line = data.count(b"\n", 0, exc.start) + (2 if sys.version_info[:2] == (3, 10) else 1)
        return SyntaxError(f"Non-UTF-8 code starting with '\\x{data[exc.start]:02x}' in file {path} "
                           f"on line {line}, but no encoding declared; see {_PEP_263} for details")
    return None
