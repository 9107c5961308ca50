"""One least-recently-used cache with a lock, for every cache in zsc: hypotheses' token ids,
the embedder's short texts, the server's response bodies."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most ``max_entries`` entries and, with ``size``, at most ``max_bytes`` of them as ``size``
    counts; the least recently used go first. Safe to share between threads: the lock guards only
    the bookkeeping, never the work that computes a value."""

    def __init__(self, max_entries: int, max_bytes: int | None = None, size: Callable[[K, V], int] | None = None) -> None:
        if (max_bytes is None) != (size is None):
            raise ValueError("max_bytes and size come together")
        self.max_entries, self.max_bytes, self._size = max_entries, max_bytes, size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The cached values among ``keys`` (each marked as used)."""
        with self._lock:
            found = {}
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key] = self._items[key]
            return found

    def put(self, key: K, value: V) -> None:
        self.put_many([(key, value)])

    def put_many(self, items: Iterable[tuple[K, V]]) -> None:
        size = self._size
        with self._lock:
            for key, value in items:
                if self.max_entries <= 0 or (size is not None and self.max_bytes is not None and size(key, value) > self.max_bytes):
                    continue  # could never be held: caching it would only evict everything else
                old = self._items.pop(key, None)
                if size is not None:
                    self._bytes += size(key, value) - (size(key, old) if old is not None else 0)
                self._items[key] = value
            self._evict()

    def _evict(self) -> None:
        while len(self._items) > self.max_entries or (self.max_bytes is not None and self._bytes > self.max_bytes):
            key, value = self._items.popitem(last=False)
            if self._size is not None:
                self._bytes -= self._size(key, value)

    def __len__(self) -> int:
        return len(self._items)
