"""A big program's crash: the stack runs through 40 modules of 3 000 globals each (ints,
strings, small dicts), which it generates beside itself (in ``biglobals_modules/``) first.
benchmarks/scenarios.py runs it in its working folder through ``run_in``."""
import os
import sys

MODULES = 40
GLOBALS = 3000


def generate(folder):
    os.makedirs(folder, exist_ok=True)
    for n in range(MODULES):
        lines = []
        for i in range(GLOBALS):
            kind = i % 3
            if kind == 0:
                lines.append("V_%d = %d" % (i, n * GLOBALS + i))
            elif kind == 1:
                lines.append("V_%d = 'text %d of module %d'" % (i, i, n))
            else:
                lines.append("V_%d = {'id': %d, 'name': 'n%d', 'tags': ['a', 'b']}" % (i, i, i))
        call = ("    __import__('m%d').step(depth + 1)\n" % (n + 1) if n + 1 < MODULES
                else "    raise RuntimeError('deep in module %d' % depth)\n")
        lines.append("\n\ndef step(depth):\n    here = depth * 2\n    name = __name__\n" + call)
        with open(os.path.join(folder, "m%d.py" % n), "w") as out:
            out.write("\n".join(lines))


def run_in(folder):
    """Write the modules into ``folder``/biglobals_modules and crash through all of them."""
    modules = os.path.join(folder, "biglobals_modules")
    generate(modules)
    sys.path.insert(0, modules)
    __import__("m0").step(0)


if __name__ == "__main__":
    run_in(os.path.dirname(os.path.abspath(__file__)))
