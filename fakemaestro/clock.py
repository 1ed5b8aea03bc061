"""The one clock every time-dependent part of the fake reads.

Real time by default; a scenario, the admin API or a test can freeze it at an
instant, move it, or let it run from a chosen start. Rate-limit windows, key
expiry, timestamps in data and SSE keep-alives all ask this object, so moving
it moves them all.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    """Milliseconds since the Unix epoch, real, frozen or offset."""

    def __init__(self, frozen_at_ms: int | None = None) -> None:
        self._frozen_ms = frozen_at_ms
        self._offset_ms = 0

    @property
    def frozen(self) -> bool:
        return self._frozen_ms is not None

    def now_ms(self) -> int:
        if self._frozen_ms is not None:
            return self._frozen_ms
        return int(time.time() * 1000) + self._offset_ms

    def now_s(self) -> float:
        return self.now_ms() / 1000

    def freeze(self, at_ms: int | None = None) -> None:
        self._frozen_ms = self.now_ms() if at_ms is None else at_ms

    def unfreeze(self) -> None:
        """Run on from the current reading (keeps the instant, resumes ticking)."""
        if self._frozen_ms is not None:
            self._offset_ms = self._frozen_ms - int(time.time() * 1000)
            self._frozen_ms = None

    def set(self, at_ms: int) -> None:
        if self._frozen_ms is not None:
            self._frozen_ms = at_ms
        else:
            self._offset_ms = at_ms - int(time.time() * 1000)

    def advance(self, ms: int) -> None:
        self.set(self.now_ms() + ms)


def parse_instant(value: str | datetime) -> int:
    """ISO-8601 text (or a datetime) -> epoch milliseconds; naive means UTC."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip().replace(" ", "T")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(round(dt.timestamp() * 1000))


def iso(ms: int | None) -> str | None:
    """Epoch ms -> `2026-01-02T10:00:00.000Z`, as JavaScript's toISOString."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
