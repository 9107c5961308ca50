"""Run the zsc command line as a user does, in a subprocess."""

from __future__ import annotations

import subprocess
import sys

ZSC = [sys.executable, "-m", "zsc.engine.cli"]


def zsc(*args: str, timeout: int = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*ZSC, *args], capture_output=True, text=True, timeout=timeout, **kwargs)
