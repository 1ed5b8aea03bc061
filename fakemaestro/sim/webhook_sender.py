"""Outgoing webhook requests, signed as production signs them (CONTRACT.md §8)."""
from __future__ import annotations

import hashlib
import hmac

import httpx

from .. import messages

TIMEOUT_S = 10.0
# What Node's fetch (undici) adds on its own; production's test request carries them.
NODE_FETCH_HEADERS = {"accept": "*/*", "accept-language": "*", "sec-fetch-mode": "cors",
                      "user-agent": "node", "accept-encoding": "gzip, deflate"}


def merged_headers(own: dict[str, str], custom) -> dict[str, str]:
    """Fetch's view of a plain headers object: names are case-insensitive, later
    entries replace earlier ones, and undici's defaults fill what is left."""
    merged: dict[str, tuple[str, str]] = {}
    for name, value in own.items():
        merged[name.lower()] = (name, value)
    for name, value in (custom or {}).items() if isinstance(custom, dict) else ():
        merged[name.lower()] = (name, value if isinstance(value, str) else str(value))
    for name, value in NODE_FETCH_HEADERS.items():
        merged.setdefault(name, (name, value))
    return dict(merged.values())


def signature(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


async def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float = TIMEOUT_S) -> tuple[int | None, str | None]:
    """POST and return (status, None), or (None, the JavaScript fetch error message)."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=True, trust_env=False) as client:
            response = await client.post(url, content=body, headers=headers)
            return response.status_code, None
    except httpx.TimeoutException:
        return None, messages.FETCH_TIMEOUT
    except (httpx.HTTPError, ValueError):
        return None, messages.FETCH_FAILED
