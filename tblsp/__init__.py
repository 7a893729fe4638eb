"""tblsp: a language server that shows a tbdump crash dump on the source, in any editor.

It reads only a dump's safe layer (previews), so opening a dump runs nothing from it.
"""
from tbdump import __version__

__all__ = ["__version__"]
