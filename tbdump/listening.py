"""How the servers (tbdap, tblsp) listen on TCP: the socket, and the lines that say where."""
from __future__ import annotations

import ipaddress
import socket
import sys

from .errors import system_words
from .termtext import printable


# What anyone who reaches a server that opens the dump each client names can do (see announce).
READS_ANY_DUMP = "read any crash dump this account can open"


class CannotListen(Exception):
    """The system refuses to listen where asked; ``str()`` is the line to say after "PROG: ",
    ``cannot listen on 127.0.0.1:5678: address already in use``."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port; ``""`` is every address, IPv6 as well where the system
    has both. CannotListen as the system refuses (a port in use, an address not of this machine,
    a name that does not resolve)."""
    try:
        if host == "" and socket.has_dualstack_ipv6():
            return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server((_resolved(host, port), port), family=_family(host))
    except OSError as exc:
        raise CannotListen("cannot listen on %s: %s" % (address(host, port), system_words(exc))) from None


def _resolved(host: str, port: int) -> str:
    """A host name's address, resolved here: resolved by create_server, a name that does not
    resolve gets no words of its own (create_server puts its own around the system's)."""
    if not host or _is_address(host):
        return host
    return str(socket.getaddrinfo(host, port, _family(host), socket.SOCK_STREAM)[0][4][0])


def address(host: str, port: int) -> str:
    """host:port as a person reads it (an IPv6 address in brackets); the empty host, which is
    every address, said so."""
    if not host:
        return "port %d of every address" % port
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def announce(tool: str, serving: str, listener: socket.socket, host: str, exposes: str) -> None:
    """Says on stdout where ``tool`` serves ``serving``, with the port it got (--port 0 picks
    one, which a person or an editor's configuration needs); warns on stderr of an address
    that is not loopback, where anyone who can reach the port can do what ``exposes`` says."""
    port = listener.getsockname()[1]
    # A file's name may hold control characters: shown as escapes, as in the tools' errors.
    print(printable("%s: serving %s on %s (Ctrl+C to stop)" % (tool, serving, address(host, port))), flush=True)
    if not _is_loopback(host):
        print("%s: WARNING: listening on %s, not on loopback: anyone who can reach port %d can %s."
              % (tool, host or "every address", port, exposes), file=sys.stderr, flush=True)


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_INET


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host == "localhost" or _is_address(host) and ipaddress.ip_address(host).is_loopback
