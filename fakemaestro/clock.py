"""The one clock every time-dependent part of the fake reads.

Real time by default; a scenario, the admin API or a test can freeze it at an
instant, move it, or let it run from a chosen start. Rate-limit windows, key
expiry, timestamps in data and SSE keep-alives all ask this object, so moving
it moves them all.
"""
from __future__ import annotations

import time
from functools import lru_cache
from datetime import date, datetime, timezone


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


# The instants a datetime can hold, as epoch milliseconds (0001-01-01 .. 9999-12-31T23:59:59.999Z).
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999


def parse_instant(value: str | int | float | datetime | date) -> int:
    """An instant as epoch milliseconds. Accepts ISO-8601 text (naive means UTC; also
    every YAML timestamp form, e.g. `2026-01-01 10:00:00 -5`), epoch milliseconds
    (an int, or a float with no fraction), a datetime or a date (its midnight, UTC).
    Raises ValueError for anything else or an instant outside years 1..9999."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"epoch milliseconds must be a whole number; got {value!r}")
        value = int(value)
    if isinstance(value, int):
        if not MIN_MS <= value <= MAX_MS:
            raise ValueError(f"epoch milliseconds out of range (years 1 to 9999); got {value}")
        return value
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        dt = _parse_text(value)
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        ms = int(round(dt.timestamp() * 1000))
    except (OverflowError, OSError) as exc:
        raise ValueError(f"time out of range (years 1 to 9999): {value!r}") from exc
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError(f"time out of range (years 1 to 9999): {value!r}")
    return ms


def _parse_text(value: str) -> datetime:
    text = value.strip()
    iso_text = text.replace(" ", "T", 1)
    if iso_text[-1:] in ("Z", "z"):
        iso_text = iso_text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(iso_text)
    except ValueError:
        pass
    # the forms YAML 1.1 calls timestamps (one-digit hours, a zone like ` -5`, ...)
    import yaml
    if yaml.SafeLoader.timestamp_regexp.fullmatch(text):
        made = yaml.SafeLoader.construct_yaml_timestamp(
            yaml.SafeLoader(""), yaml.ScalarNode("tag:yaml.org,2002:timestamp", text))
        return made if isinstance(made, datetime) else datetime(made.year, made.month, made.day)
    raise ValueError(f"not an ISO-8601 time: {value!r}")


@lru_cache(maxsize=4096)  # a list renders the same few instants many times per request
def iso(ms: int | None) -> str | None:
    """Epoch ms -> `2026-01-02T10:00:00.000Z`, as JavaScript's toISOString."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    return f"{_second(seconds)}.{millis:03d}Z"


@lru_cache(maxsize=64)  # "now" changes its milliseconds on every request, its second rarely
def _second(seconds: int) -> str:
    t = time.gmtime(seconds)  # (strftime's %Y does not pad years before 1000 on every platform)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
