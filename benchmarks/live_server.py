"""A `zsc serve` process on loopback for the server benchmarks: start it, wait for it, read its memory."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, threads: int, *options: str) -> subprocess.Popen:
    """The embedded model as model id "default", response cache off, plus ``options``."""
    command = [sys.executable, "-m", "zsc.engine.cli", "serve", "--port", str(port), "--cache-entries", "0",
               "--threads", str(threads), "--model-id", "default", *options]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A /proc/<pid>/status figure in MB: VmRSS (now) or VmHWM (peak)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_ready(client, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (await client.get(base + "/health")).json()["models"]["default"] == "ready":
                return
        except Exception:  # server not listening yet
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("server did not become ready")
