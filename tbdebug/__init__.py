"""Open a tbdump file in a post-mortem debugger: pdb, or the one PYTHONBREAKPOINT names."""
from .session import debug

__all__ = ["debug"]
