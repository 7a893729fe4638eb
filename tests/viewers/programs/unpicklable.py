"""Values no pickle can hold (a socket, a generator): the dump keeps placeholders for them."""
import socket


def serve(port):
    sock = socket.socket()
    pending = (n for n in range(3))
    raise ConnectionError(f"cannot serve on {port}")


serve(8080)
