"""Transports: one DAP client over stdio, or one client after another on a TCP port."""
from __future__ import annotations

import gc
import io
import os
import socket
import sys
from typing import BinaryIO, Callable, Protocol

from tbdump.heldsignals import HeldSignals, deliver
from tbdump.listening import announce, listen

from .console import program_streams
from .framing import Framing
from .messaging import Connection, log


class Handler(Protocol):
    """The request handler of one connection (its `<command>_request` methods are looked up)."""

    def close(self) -> None:
        """Frees what the connection's session holds, once it has ended."""


# Builds the request handler for one connection (a fresh replay per client).
HandlerFactory = Callable[[Connection], Handler]


def serve_stdio(make_handler: HandlerFactory) -> None:
    """Serves the client on stdin/stdout; anything else printed goes to stderr."""
    protocol_in, protocol_out = _claim_stdin(), _claim_stdout()
    connection = Connection(Framing(protocol_in, protocol_out))
    handler = make_handler(connection)
    try:
        _serve(connection, handler)
    except BrokenPipeError:
        pass  # the client went away while we answered
    finally:
        handler.close()
        # Closed now, not left to the collector, which under -X dev warns of each file it
        # closes at exit. The input through its raw file: after a disconnect the reader thread
        # still waits in a read, holding the buffered stream's lock, and closing that stream
        # would wait until the client closed its end. (Unbuffered, the output flushes nothing.)
        protocol_in.raw.close()
        protocol_out.close()


def _serve(connection: Connection, handler: Handler) -> None:
    """Serves one client; what the replay's code prints meanwhile shows in its debug console."""
    def output(category: str, text: str) -> None:
        connection.send_output(category, text, as_written=True)

    with program_streams(output) as console:
        # A line still without its end goes before the answer to the request that wrote it: the
        # answer to a disconnect is the last message the client reads.
        connection.serve(handler, before_answer=console.send)


def _claim_stdin() -> io.BufferedReader:
    # stdin belongs to the protocol too.  Code evaluated in the REPL sees an empty
    # stdin instead: input() must not eat requests, and exit() (which closes
    # sys.stdin) must not end the session.
    fd = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # Over fd 0, now /dev/null, as Python's own stdin is over it: never closing the descriptor
    # and never warning, at exit under -X dev, of a file left open.
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    return os.fdopen(fd, "rb")


def _claim_stdout() -> BinaryIO:
    # stdout belongs to the protocol.  Keep a private copy of the descriptor
    # for DAP and point fd 1 (and sys.stdout) at stderr, so a stray print, even
    # from C code or from code evaluated in the REPL, cannot corrupt the stream.
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "wb", buffering=0)


def serve_tcp(make_handler: HandlerFactory, host: str, port: int, what: str, exposes: str) -> None:
    """Listens on host:port and serves one client after another until interrupted; ``what`` it
    serves and what anyone reaching the port ``exposes`` are said as it starts."""
    listener = listen(host, port)
    announce("tbdap", "%s to DAP clients" % what, listener, host, exposes)
    with listener:
        while True:
            client, address = listener.accept()
            log("client connected from %s:%s" % address[:2])
            _serve_socket(client, make_handler)
            _free_the_replay()
            log("client %s:%s disconnected; waiting for the next one" % address[:2])


def _free_the_replay() -> None:
    """Frees the replay of the client just gone before the next one loads its own.

    Its objects are in reference cycles (a frame's locals, the program's own objects) that only
    a full collection frees, and tbdap builds most of what it makes with the collector paused
    (tbdump.fields.collector_paused), so that one would hardly ever come: a server grew by each
    client's replay, to a GiB after 200 of them. Ctrl-C is held meanwhile: landing in a
    finalizer the collection runs, it would be "Exception ignored" and the server go on.
    """
    held = HeldSignals(lambda signum: None)
    held.hold()
    try:
        gc.collect()
    finally:
        held.release()
    deliver(held.arrived)


def _serve_socket(client: socket.socket, make_handler: HandlerFactory) -> None:
    with client:
        reader = client.makefile("rb")
        writer = client.makefile("wb")
        connection = Connection(Framing(reader, writer))
        handler = make_handler(connection)
        try:
            _serve(connection, handler)
        except OSError as exc:  # the client vanished mid-answer: the next one is still welcome
            log("connection lost: %s" % exc)
        finally:
            handler.close()
            # Ends the reader thread's wait on a client that stays connected after its
            # disconnect: closing the stream under that wait would block until the client
            # went away, and with it every client after this one.
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            for stream in (reader, writer):
                try:
                    stream.close()
                except OSError:
                    pass
