"""What every resource module shares: the call context and reply helpers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..clock import Clock
from ..http import envelope, errors
from ..http.pagination import parse_pagination
from ..store import Store
from ..store.models import ApiKey
from ..store.pguuid import pg_uuid

API = "/api/v1"


@dataclass(slots=True)
class Call:
    """One authenticated request as a handler sees it."""
    state: Any  # the AppState (store, clock, settings)
    key: ApiKey
    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]

    @property
    def store(self) -> Store:
        return self.state.store

    @property
    def clock(self) -> Clock:
        return self.state.clock

    def now(self) -> int:
        return self.state.clock.now_ms()

    def uuid(self, name: str = "id") -> str:
        """The path id as Postgres would read it; a non-UUID raises its 22P02."""
        return self.pg_uuid(self.params[name])

    def pg_uuid(self, value: str) -> str:
        """An id as Postgres reads it, or (quirk non_uuid_id_500 off) as given."""
        return pg_uuid(value, strict=self.state.fidelity.on("non_uuid_id_500"))

    def pagination(self) -> tuple[int, int, int]:
        return parse_pagination(self.query)


def found(call: Call, record, resource: str, param: str = "id"):
    """The record, or production's 404 naming the id exactly as the client sent it."""
    if record is None:
        raise errors.not_found(resource, call.params[param])
    return record


@dataclass(slots=True)
class Reply:
    status: int
    body: dict


def ok(call: Call, data: Any, status: int = 200) -> Reply:
    return Reply(status, envelope.success(data, call.now()))


def page(call: Call, items: list, page_: int, per_page: int, total: int) -> Reply:
    return Reply(200, envelope.paginated(items, page_, per_page, total, call.now()))


def listing(call: Call, fetch: Callable[[int, int], tuple[list, int]], render: Callable) -> Reply:
    """The common paginated list: parse the query, fetch a page, render each item."""
    page_, per_page, offset = call.pagination()
    rows, total = fetch(offset, per_page)
    return page(call, [render(r) for r in rows], page_, per_page, total)
