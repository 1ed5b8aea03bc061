"""The only code that shapes public-API JSON bodies (CONTRACT.md §1.4, §1.5).

Key order is production's: `data`, `pagination`, `meta`; `error` then `meta`;
inside `error`: `code`, `message`, `details` (only when given).
"""
from __future__ import annotations

import math
import uuid
from typing import Any

from ..clock import iso


def meta(now_ms: int) -> dict[str, str]:
    # meta.request_id is a fresh random UUID, unrelated to the X-Request-ID header.
    return {"request_id": str(uuid.uuid4()), "timestamp": iso(now_ms)}


def success(data: Any, now_ms: int) -> dict[str, Any]:
    return {"data": data, "meta": meta(now_ms)}


def pagination(page: int, per_page: int, total_count: int) -> dict[str, Any]:
    total_pages = math.ceil(total_count / per_page)
    return {"page": page, "per_page": per_page, "total_count": total_count,
            "total_pages": total_pages, "has_next": page < total_pages, "has_prev": page > 1}


def paginated(items: list, page: int, per_page: int, total_count: int, now_ms: int) -> dict[str, Any]:
    return {"data": items, "pagination": pagination(page, per_page, total_count),
            "meta": meta(now_ms)}


def error(code: str, message: str, details: dict | None, now_ms: int) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err, "meta": meta(now_ms)}
