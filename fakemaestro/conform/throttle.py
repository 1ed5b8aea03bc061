"""Pacing from the target's own X-RateLimit-* headers, so a run never meets a 429.

Production counts every authenticated request in a fixed per-minute window and a
per-day window per key (CONTRACT.md §3). After each answer the throttle remembers,
per key, how many requests the window has left and when it resets; before the next
request it waits for the reset once the remainder is down to `reserve` (kept back
for the probe requests some checks send). Times are the server's: the reset is
compared with the answer's `meta.timestamp` (or its `Date` header), so a target with
a shifted or frozen clock is paced by its own clock. A daily remainder at the reserve
stops the run rather than wait for midnight.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

from .checks import body_of, header

MAX_WAIT_S = 61.0  # a minute window never needs more


class DailyQuotaExhausted(RuntimeError):
    pass


@dataclass
class _Window:
    remaining: int
    reset_s: float        # server time of the minute window's end
    server_now_s: float   # server time of the answer that told us
    local_at: float       # our monotonic time when it arrived
    remaining_day: int | None


class Throttle:
    def __init__(self, reserve: int = 2, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.reserve, self.sleep, self.monotonic = reserve, sleep, monotonic
        self.windows: dict[str, _Window] = {}
        self.waits: list[float] = []  # every pause taken, in seconds (for the report)

    def before(self, key: str | None) -> None:
        window = self.windows.get(key or "")
        if window is None:
            return
        if window.remaining_day is not None and window.remaining_day <= self.reserve:
            raise DailyQuotaExhausted(
                f"the key's daily quota is down to {window.remaining_day}; stopping rather than waiting "
                "for midnight UTC")
        if window.remaining > self.reserve:
            return
        elapsed = self.monotonic() - window.local_at
        wait = min(MAX_WAIT_S, window.reset_s - window.server_now_s - elapsed + 0.25)
        if wait > 0:
            self.waits.append(wait)
            self.sleep(wait)
        del self.windows[key or ""]  # a new window: the next answer tells its state

    def after(self, key: str | None, response) -> None:
        remaining, reset = header(response, "x-ratelimit-remaining"), header(response, "x-ratelimit-reset")
        if not (remaining and reset and remaining.isdigit() and reset.isdigit()):
            return
        day = header(response, "x-ratelimit-remaining-day")
        self.windows[key or ""] = _Window(int(remaining), float(reset), _server_now(response), self.monotonic(),
                                          int(day) if day and day.isdigit() else None)
        if response.status_code == 429:
            wait = header(response, "retry-after")
            if wait and wait.isdigit() and int(wait) <= MAX_WAIT_S:  # somebody else spent the window
                self.waits.append(float(wait))
                self.sleep(float(wait))
                del self.windows[key or ""]


def _server_now(response) -> float:
    body = body_of(response)
    stamp = body.get("meta", {}).get("timestamp") if isinstance(body, dict) and isinstance(body.get("meta"), dict) \
        else None
    if isinstance(stamp, str):
        try:
            return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    date = header(response, "date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time()
