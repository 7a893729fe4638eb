"""Content-Length framing of DAP messages on a byte stream (headers in ASCII, bodies in UTF-8 JSON)."""
from __future__ import annotations

import json
import threading
from typing import Any, BinaryIO, Dict, List, Optional

# A client message larger than this is refused: DAP requests are small, and a
# bogus length must not make us allocate (or wait for) gigabytes.
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_HEADER_LINE = 4096


class BadMessage(Exception):
    """One message could not be read, but the stream is still in step: reading may go on."""


class BrokenStream(Exception):
    """The stream cannot be followed any more (its framing is lost): the connection must close."""


class Unencodable(Exception):
    """A message has no JSON form (a bug in tbdap); nothing was written, the stream is still in step."""


def _parse_int(text: str) -> Any:
    # Python refuses to convert an integer of more than 4300 digits.  No DAP argument
    # is one, but its request must still be answered: the number becomes inf, which
    # every handler refuses as "not an integer", instead of the message being dropped.
    try:
        return int(text)
    except ValueError:
        return float(text)


class Framing:
    """Reads and writes whole DAP messages on a pair of binary streams."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self._reader = reader
        self._writer = writer
        self._write_lock = threading.Lock()

    def read(self) -> Optional[Dict[str, Any]]:
        """The next message; None at end of stream.  Raises BadMessage or BrokenStream."""
        length = self._read_header()
        if length is None:
            return None
        body = self._read_exactly(length)
        try:
            message = json.loads(body.decode("utf-8"), parse_int=_parse_int)
        except UnicodeDecodeError as exc:
            raise BadMessage("a message body is not valid UTF-8 (%s)" % exc.reason) from None
        except ValueError as exc:
            raise BadMessage("a message body is not valid JSON (%s)" % exc) from None
        if not isinstance(message, dict):
            raise BadMessage("a message body is JSON but not an object")
        return message

    def write(self, message: Dict[str, Any]) -> None:
        """Writes one message whole.  Raises Unencodable (nothing written) or OSError."""
        try:
            # ensure_ascii: a string from a dump may hold a lone surrogate ("\ud800"),
            # which has no UTF-8 form but has a JSON escape, as every character does.
            # allow_nan=False: NaN and Infinity are not JSON; a client's parser stops on them.
            body = json.dumps(message, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError, RecursionError) as exc:
            raise Unencodable("%s: %s" % (type(exc).__name__, exc)) from None
        data = b"Content-Length: %d\r\n\r\n" % len(body) + body
        with self._write_lock:
            if self._writer.closed:   # the client's session is over (a stream it lent still written to)
                raise BrokenPipeError("the connection is closed")
            self._writer.write(data)
            self._writer.flush()

    def _read_header(self) -> Optional[int]:
        length: Optional[int] = None
        garbage: List[bytes] = []
        seen_any = False
        while True:
            line = self._reader.readline(MAX_HEADER_LINE)
            if not line:
                if seen_any:
                    raise BrokenStream("the stream ended inside a message header")
                return None
            seen_any = True
            if not line.endswith(b"\n") and len(line) >= MAX_HEADER_LINE:
                raise BrokenStream("a header line is longer than %d bytes" % MAX_HEADER_LINE)
            text = line.strip()
            if not text:
                if length is not None:
                    return length
                if garbage:
                    raise BadMessage("ignored input that is not a DAP message header: %r"
                                     % b" ".join(garbage)[:200])
                seen_any = False  # a stray blank line between messages
                continue
            # After a Content-Length shorter than its body, the body's rest runs on into the
            # next header line ('"}Content-Length: 60').  Finding the header there puts the
            # stream back in step; otherwise every message after that one is lost, unsaid.
            found = text.lower().find(b"content-length:")
            if found > 0:
                garbage.append(text[:found])
                text = text[found:]
            name, sep, value = text.partition(b":")
            if not sep:
                garbage.append(text)
                continue
            if name.strip().lower() == b"content-length":
                length = self._parse_length(value.strip())

    @staticmethod
    def _parse_length(value: bytes) -> int:
        try:
            length = int(value)
        except ValueError:
            length = -1
        if length < 0:
            raise BrokenStream("Content-Length %r is not a byte count" % value.decode("ascii", "replace"))
        if length > MAX_BODY_BYTES:
            raise BrokenStream("a message of %d bytes is over the %d-byte limit" % (length, MAX_BODY_BYTES))
        return length

    def _read_exactly(self, length: int) -> bytes:
        chunks = []
        left = length
        while left:
            chunk = self._reader.read(left)
            if not chunk:
                raise BrokenStream("the stream ended %d bytes short of a message body" % left)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
