"""A newest-first index: page reads cost O(page size), never O(N)."""
from __future__ import annotations

from bisect import bisect_left, insort


class NewestFirst:
    """Ids ordered by (time, insertion sequence); read back in descending order,
    as production's `ORDER BY created_at DESC`."""

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: list[tuple[int, int, str]] = []

    def add(self, time_ms: int, seq: int, id_: str) -> None:
        insort(self._keys, (time_ms, seq, id_))

    def remove(self, time_ms: int, seq: int, id_: str) -> None:
        i = bisect_left(self._keys, (time_ms, seq, id_))
        if i < len(self._keys) and self._keys[i] == (time_ms, seq, id_):
            del self._keys[i]

    def __len__(self) -> int:
        return len(self._keys)

    def page(self, offset: int, limit: int) -> list[str]:
        end = len(self._keys) - offset
        if end <= 0 or limit <= 0:
            return []
        start = max(0, end - limit)
        return [k[2] for k in reversed(self._keys[start:end])]
