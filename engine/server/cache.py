"""An LRU cache of response bodies, bounded in entries and in bytes (keys, bodies and a fixed
allowance per entry for the Python objects around them, so the bound is what memory holds)."""

from __future__ import annotations

import threading
from collections import OrderedDict

ENTRY_OVERHEAD_BYTES = 200  # the dict slot and the two bytes objects around a key and a body


class ResponseCache:
    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def size(key: bytes, value: bytes) -> int:
        return len(key) + len(value) + ENTRY_OVERHEAD_BYTES

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: bytes, value: bytes) -> None:
        if self.max_entries <= 0 or self.size(key, value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= self.size(key, old)
            self._items[key] = value
            self._bytes += self.size(key, value)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                evicted_key, evicted = self._items.popitem(last=False)
                self._bytes -= self.size(evicted_key, evicted)

    def __len__(self) -> int:
        return len(self._items)
