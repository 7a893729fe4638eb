"""A crash inside a generator expression called over two lines, below a comprehension that ran."""


def shares(parts, total):
    kept = [p for p in parts if p]          # a comprehension: its own frame before 3.12 (PEP 709)
    return sum(total / p
               for p in parts), kept


shares([4, 0], 100)
