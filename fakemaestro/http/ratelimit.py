"""Two fixed windows per key, per minute and per UTC day (CONTRACT.md §3).

The counter is incremented before the decision, so rejected requests count too;
the five X-RateLimit-* headers go on every authenticated response.
"""
from __future__ import annotations

from functools import lru_cache

from .. import messages
from ..store.models import ApiKey
from .errors import ApiError


@lru_cache(maxsize=256)  # limits and the window's reset repeat from request to request
def _text(n: int) -> bytes:
    return b"%d" % n


class RateLimiter:
    def __init__(self) -> None:
        self._minute: dict[str, tuple[int, int]] = {}
        self._day: dict[str, tuple[int, int]] = {}

    def reset(self) -> None:
        self._minute.clear()
        self._day.clear()

    def minute_count(self, key: ApiKey, now_ms: int) -> int:
        """This window's count so far, without counting a request."""
        current = self._minute.get(key.id)
        return current[1] if current and current[0] == now_ms // 1000 // 60 else 0

    def day_count(self, key: ApiKey, now_ms: int) -> int:
        current = self._day.get(key.id)
        return current[1] if current and current[0] == now_ms // 1000 // 86400 else 0

    @staticmethod
    def _bump(table: dict[str, tuple[int, int]], key_id: str, window: int) -> int:
        current = table.get(key_id)
        count = current[1] + 1 if current and current[0] == window else 1
        table[key_id] = (window, count)
        return count

    def hit(self, key: ApiKey, now_ms: int) -> list[tuple[bytes, bytes]]:
        """Count one request; return the headers, or raise the 429 carrying them."""
        now = now_ms // 1000
        minute_count = self._bump(self._minute, key.id, now // 60)
        day_count = self._bump(self._day, key.id, now // 86400)
        minute_reset = (now // 60 + 1) * 60
        headers = [
            (b"x-ratelimit-limit", _text(key.per_minute)),
            (b"x-ratelimit-remaining", b"%d" % max(0, key.per_minute - minute_count)),
            (b"x-ratelimit-reset", _text(minute_reset)),
            (b"x-ratelimit-limit-day", _text(key.per_day)),
            (b"x-ratelimit-remaining-day", b"%d" % max(0, key.per_day - day_count)),
        ]
        if minute_count > key.per_minute:
            retry = minute_reset - now
            raise self._rejected(headers, retry, messages.MINUTE_LIMIT.format(seconds=retry),
                                 key.per_minute, "minute")
        if day_count > key.per_day:
            retry = 86400 - now % 86400
            raise self._rejected(headers, retry, messages.DAY_LIMIT, key.per_day, "day")
        return headers

    @staticmethod
    def _rejected(headers, retry: int, message: str, limit: int, window: str) -> ApiError:
        err = ApiError(429, "rate_limit_exceeded", message,
                       {"limit": limit, "window": window, "retry_after": retry})
        err.rate_headers = headers + [(b"retry-after", str(retry).encode())]
        return err
