"""Builtin containers of scalars and of builtin containers of scalars, as records and batches
are: inner lists past the 20 items an inner repr shows, inner texts past its 128 characters,
one-item tuples, empty sets, tuple keys, a list that holds itself, and one level deeper."""


def store(batch, index, by_pair):
    return batch[0]["owner"] + index["missing"]  # KeyError


def load():
    batch = [
        {"id": 1, "name": "first", "tags": ["a", "b"], "scores": (9.5,), "seen": set()},
        {"id": 2, "name": "second", "tags": list(range(25)), "note": "n" * 300, "flags": frozenset({3})},
        {"id": 3, "tags": ("x" * 130, b"y" * 129), "nested": {"deep": [1, [2, [3]]]}},
    ]
    index = {"first": [1, 2, 3], "empty": [], "pair": (1, "one"), "many": {i: str(i) for i in range(30)}}
    by_pair = {(1, "a"): [True, None], (2, "b"): {"k": 0.25}}
    looped = [1, "two"]
    looped.append(looped)
    return store(batch, index, by_pair)


load()
