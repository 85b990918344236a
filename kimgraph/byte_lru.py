"""Values by key within a byte budget, the least recently used dropped first.

What the parsed-document cache (kimgraph/documents.py) and the persisted-query
store (kimgraph/persisted.py) both need: bounded by what their entries weigh, not
by their count, so that a few big ones cannot hold memory a count would allow.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteBoundedLru(Generic[K, V]):
    """At most `max_total_bytes` of values; none heavier than `max_item_bytes` kept.

    `on_evict` hears of every value dropped to make room.
    """

    def __init__(
        self,
        max_total_bytes: int,
        max_item_bytes: int,
        on_evict: Callable[[V], None] | None = None,
    ) -> None:
        self.max_total_bytes = max_total_bytes
        self.max_item_bytes = max_item_bytes
        self.total_bytes = 0
        self._on_evict = on_evict
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None if not kept."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, size: int) -> bool:
        """Keep value (weighing size bytes) unless it is too heavy; True if kept."""
        if size > self.max_item_bytes:
            return False
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.total_bytes -= previous[1]
        self._entries[key] = (value, size)
        self.total_bytes += size
        while self.total_bytes > self.max_total_bytes:
            _, (evicted, weight) = self._entries.popitem(last=False)
            self.total_bytes -= weight
            if self._on_evict is not None:
                self._on_evict(evicted)
        return key in self._entries
