"""Synchronising async tests on what happened, not on how long it usually takes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Return once ``condition()`` holds (checked each time the event loop comes round); fail
    naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0)  # a yield to the loop, not a guess at how long the work takes


async def event_set(event: threading.Event, what: str, timeout: float = 10.0) -> None:
    """Return once a thread has set ``event``; fail naming ``what`` after ``timeout`` seconds."""
    if not await asyncio.to_thread(event.wait, timeout):
        raise AssertionError(f"waited {timeout} s for {what}")
