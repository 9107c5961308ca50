"""The connection's side of a request: a body that must arrive in time, and a client that may leave."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request
from starlette.requests import ClientDisconnect

from .errors import HttpError

T = TypeVar("T")


async def read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    """The body, up to ``limit`` plus one byte (so the caller can answer 413), within
    ``timeout_s`` (slow clients get 408)."""
    chunks: list[bytes] = []
    size = 0

    async def collect() -> None:
        nonlocal size
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return

    try:
        await asyncio.wait_for(collect(), timeout=timeout_s)
    except asyncio.TimeoutError:
        raise HttpError(408, f"request body not received within {timeout_s:g} s") from None
    except ClientDisconnect:  # the client gave up mid-upload: its mistake or its choice, not a 5xx
        raise HttpError(499, "client closed the request while sending its body") from None
    return b"".join(chunks)


async def wait_for_disconnect(request: Request) -> None:
    """Return once the client has closed the connection (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``, cancelling it (and so dropping its queued pairs) if the client goes away."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(wait_for_disconnect(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if task not in done:
        task.cancel()
        raise HttpError(499, "client closed the request")  # nobody reads this answer
    return task.result()
