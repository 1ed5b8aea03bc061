"""Pagination query parsing exactly as production's parsePaginationQuery (CONTRACT.md §1.6):
invalid values are clamped silently, never rejected."""
from __future__ import annotations

import math

from .js import parse_int, to_string


def _int_or(value, default: int) -> int:
    if not value:  # absent or empty (most requests): parsing the default gives the default
        return default
    text = to_string(value)
    number = parse_int(text or str(default))
    return default if (isinstance(number, float) and math.isnan(number)) or number == 0 else int(number)


def parse_pagination(query: dict[str, str | list[str]]) -> tuple[int, int, int]:
    """(page, per_page, offset)."""
    page = max(1, _int_or(query.get("page"), 1))
    per_page = min(100, max(1, _int_or(query.get("per_page"), 20)))
    return page, per_page, (page - 1) * per_page
