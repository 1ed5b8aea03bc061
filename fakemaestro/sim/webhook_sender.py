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
