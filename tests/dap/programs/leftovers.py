import socket


class Order:
    def __init__(self):
        self.attr_one = 1
        self.attr_two = 2
        self.other = 3


def main():
    order = Order()
    table = {"key1": 1, "key2": 2}
    value_a = 1
    # Keys whose shortened reprs look alike: a long tuple differing in its last item, nested tuples.
    long_a, long_b = tuple(range(60)) + (1,), tuple(range(60)) + (2,)
    deep_a, deep_b = ((((("x", 1),),),),), ((((("x", 2),),),),)
    keys = {long_a: 1, long_b: 2, deep_a: 3, deep_b: 4, "outer": {long_a: 5, long_b: 6, deep_a: 7, deep_b: 8}}
    sock = socket.socket()
    try:
        raise RuntimeError("stop")
    finally:
        sock.close()


main()
