"""Postgres' `uuid` input rules (string_to_uuid), because production passes path ids
straight to Postgres: whatever it refuses becomes error 22P02 (CONTRACT.md §1.7)."""
from __future__ import annotations

import re

from ..http.errors import JsThrown
from .. import messages

_HEX = set("0123456789abcdefABCDEF")
# already canonical: lowercase 8-4-4-4-12 (every id the fake hands out), returned as is
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(value: str) -> str | None:
    """Canonical lowercase form of what Postgres accepts as a UUID, else None.

    Accepted: optional braces, 32 hex digits in any case, and a single hyphen
    after any group of 4 digits except the last.
    """
    if _CANONICAL.fullmatch(value):
        return value
    src, pos = value, 0
    braces = src.startswith("{")
    if braces:
        pos = 1
    digits = []
    for byte_index in range(16):
        pair = src[pos:pos + 2]
        if len(pair) < 2 or pair[0] not in _HEX or pair[1] not in _HEX:
            return None
        digits.append(pair)
        pos += 2
        if byte_index % 2 == 1 and byte_index < 15 and src[pos:pos + 1] == "-":
            pos += 1
    if braces:
        if src[pos:pos + 1] != "}":
            return None
        pos += 1
    if pos != len(src):
        return None
    h = "".join(digits).lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def pg_uuid(value: str, strict: bool = True) -> str:
    """Canonical UUID or the Postgres error production lets escape (quirk
    non_uuid_id_500). Not strict (the intended behaviour), a non-UUID comes back
    as given: no record has such an id, so every lookup ends in its ordinary 404."""
    canonical = canonical_uuid(value) if isinstance(value, str) else None
    if canonical is None:
        if not strict:
            return value
        raise JsThrown(messages.INVALID_UUID.format(value=value), pg_code="22P02")
    return canonical
