"""The request journal: what each request was and how it was answered, for
assertions in client tests (`verify`) and for debugging a failing CI run."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any

MAX_ENTRIES = 100_000  # oldest entries are dropped beyond this
FILTERS = ("method", "path", "operation", "key", "status", "fault", "since", "until")


@dataclass
class Entry:
    seq: int
    time: str          # the fake's clock when the request arrived (ISO)
    method: str
    path: str
    query: str
    operation: str | None
    key: str | None    # name of the API key used, when it is a known key
    tenant: str | None
    status: int | None  # None when the connection was dropped
    fault: str | None  # name of the fault rule that fired
    latency_ms: float  # latency a fault added (deterministic)
    elapsed_ms: float  # measured time in the fake (the only field that varies between runs)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._seq = 0

    def add(self, **fields) -> Entry:
        self._seq += 1
        entry = Entry(seq=self._seq, **fields)
        self.entries.append(entry)
        if len(self.entries) > MAX_ENTRIES:
            del self.entries[: len(self.entries) - MAX_ENTRIES]
        return entry

    def clear(self) -> None:
        self.entries.clear()

    def select(self, criteria: dict[str, Any]) -> list[Entry]:
        unknown = set(criteria) - set(FILTERS)
        if unknown:
            raise ValueError(f"unknown filter(s) {', '.join(sorted(unknown))}; valid filters: {', '.join(FILTERS)}")
        return [e for e in self.entries if _matches(e, criteria)]


def _matches(entry: Entry, c: dict[str, Any]) -> bool:
    if "method" in c and entry.method != str(c["method"]).upper():
        return False
    if "path" in c and not fnmatchcase(entry.path, str(c["path"])):
        return False
    for name in ("operation", "key", "fault"):
        if name in c and getattr(entry, name) != c[name]:
            return False
    if "status" in c and str(entry.status) != str(c["status"]):
        return False
    if "since" in c and entry.time < str(c["since"]):
        return False
    return not ("until" in c and entry.time >= str(c["until"]))
