"""The server's response cache: response bodies by request digest, bounded in entries and in
bytes (keys, bodies and a fixed allowance per entry for the Python objects around them, so the
bound is what memory holds)."""

from __future__ import annotations

from ..lru import LruCache

ENTRY_OVERHEAD_BYTES = 200  # the dict slot and the two bytes objects around a key and a body


def response_size(key: bytes, body: bytes) -> int:
    return len(key) + len(body) + ENTRY_OVERHEAD_BYTES


class ResponseCache(LruCache[bytes, bytes]):
    def __init__(self, max_entries: int, max_bytes: int) -> None:
        super().__init__(max_entries, max_bytes, response_size)
