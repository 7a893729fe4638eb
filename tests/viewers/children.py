"""The viewers as child processes: the environment they get, and one-shot runs of their CLIs."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]


def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """This tree importable; no tbdump keys, debugger choice or terminal size from the runner."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TBDUMP_") and k not in ("PYTHONBREAKPOINT", "COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def console_script(directory: Path, name: str) -> Path:
    """A script like the one pip installs for `name = "name.__main__:main"` in pyproject."""
    script = directory / name
    script.write_text("import sys\n"
                      f"from {name}.__main__ import main\n"
                      "if __name__ == '__main__':\n"
                      "    sys.exit(main())\n")
    return script


def run(args: Sequence[str], cwd: Path, env: Optional[Dict[str, str]] = None,
        stdin: Optional[str] = None, preexec_fn: Optional[Callable[[], None]] = None
        ) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(list(args), cwd=str(cwd), env=child_env(env), input=stdin,
                          capture_output=True, text=True, timeout=120, preexec_fn=preexec_fn)

