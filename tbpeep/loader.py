"""Import peepshow 0.3.0 on every Python tbdump supports, without touching site-packages.

peepshow's package ``__init__`` refuses any Python but 3.6-3.8 with a bare
version check, although its modules run on later versions.  We execute that
``__init__`` ourselves with the check left out, in this process only.
"""
import ast
import importlib.util
import sys
from types import ModuleType

# The extra `peep` of pyproject.toml, installed by its own name: the `tbdump` on PyPI
# is another project, so `pip install 'tbdump[peep]'` would install that one.
PEEPSHOW = "peepshow==0.3.0"
INSTALL_HINT = f"peepshow is not installed; install it with: pip install {PEEPSHOW}"


class PeepshowMissing(Exception):
    """peepshow cannot be imported; str() is one line saying what to do."""


def _is_version_guard(node: ast.stmt) -> bool:
    """The ``if <version not supported>: raise RuntimeError(...)`` statement, and only that."""
    return (isinstance(node, ast.If) and not node.orelse
            and len(node.body) == 1 and isinstance(node.body[0], ast.Raise)
            and "version" in ast.dump(node.test))


def import_peepshow() -> ModuleType:
    """Return the ``peepshow`` package, imported with its version guard neutralised."""
    loaded = sys.modules.get("peepshow")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("peepshow")
    if spec is None or spec.origin is None or spec.loader is None:
        raise PeepshowMissing(INSTALL_HINT)
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), spec.origin)
    tree.body = [node for node in tree.body if not _is_version_guard(node)]
    module = importlib.util.module_from_spec(spec)
    # Registered before running, as the import system does, so the package's
    # own ``from peepshow.x import y`` lines find it.
    sys.modules["peepshow"] = module
    try:
        exec(compile(tree, spec.origin, "exec"), module.__dict__)
    except Exception as exc:  # a broken install, or a peepshow whose guard we did not recognise
        del sys.modules["peepshow"]
        raise PeepshowMissing(f"peepshow cannot be imported ({type(exc).__name__}: {exc}); "
                              f"reinstall it with: pip install --force-reinstall {PEEPSHOW}") from None
    return module
