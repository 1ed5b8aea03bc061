"""Outgoing webhook requests as production's Node `fetch` makes them (CONTRACT.md §8).

Used by POST /webhooks/:id/test (§8.3) and by the dispatcher (dispatcher.py, §8.2).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from dataclasses import dataclass

import ada_url

from .. import messages
from ..http.jsjson import dumps, js_number_text

TIMEOUT_S = 10.0  # AbortSignal.timeout(10000): one deadline for the whole exchange
# What Node's fetch (undici) adds when the request lacks them.
NODE_FETCH_HEADERS = {"accept": "*/*", "accept-language": "*", "sec-fetch-mode": "cors",
                      "user-agent": "node", "accept-encoding": "gzip, deflate"}
URL_UNPARSEABLE = "Failed to parse URL from {url}"  # undici's TypeError for a URL it cannot parse
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Answer:
    """What fetch gave: a response (status, statusText, body text or None when reading
    it failed) or, when fetch threw, `error`, the JavaScript error message."""

    status: int | None = None
    status_text: str = ""
    body: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:  # Response.ok
        return self.status is not None and 200 <= self.status <= 299


def json_body(value) -> bytes:
    """JSON.stringify(value) as fetch sends it: UTF-8, lone surrogates escaped
    (`\\ud800`), as the well-formed JSON.stringify of Node 12+ writes them."""
    text = dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # pairs stored as two code points are one character to JavaScript
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def header_value(value) -> str:
    """String(value), as a Headers object converts a record's values."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number_text(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list):  # Array.prototype.join: null and undefined become ""
        return ",".join("" if v is None else header_value(v) for v in value)
    return "[object Object]"


def _spread(custom) -> dict[str, str]:
    """`...custom` into an object literal: an object's entries, a string's or an array's
    by index; anything else adds nothing."""
    if isinstance(custom, dict):
        return {str(name): header_value(value) for name, value in custom.items()}
    if isinstance(custom, (str, list)) and custom:
        return {str(i): header_value(v) for i, v in enumerate(custom)}
    return {}


def merged_headers(own: dict[str, str], custom) -> dict[str, str]:
    """`new Headers({...own, ...custom})` as fetch sends it. The spread replaces only a
    key spelled the same (keeping its place); Headers then folds names that differ only
    in case into one, values joined with ", "; undici's defaults fill what is left."""
    spread = {**own, **_spread(custom)}
    folded: dict[str, tuple[str, str]] = {}
    for name, value in spread.items():
        key = name.lower()
        folded[key] = (folded[key][0], f"{folded[key][1]}, {value}") if key in folded else (name, value)
    for name, value in NODE_FETCH_HEADERS.items():
        folded.setdefault(name, (name, value))
    return dict(folded.values())


async def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float = TIMEOUT_S,
               read_body: bool = False) -> Answer:
    """POST with fetch's semantics: redirects followed, one deadline for the exchange;
    with `read_body`, the body as `response.text()` gives it (None if reading fails)."""
    if not ada_url.check_url(url):  # new Request(url) throws before any I/O
        return Answer(error=URL_UNPARSEABLE.format(url=url))
    import httpx  # here, not at the top: ~0.1 s of the fake's startup for a rarely used path

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=True, trust_env=False) as client:
            # built alone, not by the client: no httpx defaults go before production's headers
            request = httpx.Request("POST", url, content=body, headers=headers)
            response = await asyncio.wait_for(client.send(request, stream=True), timeout_s)
            try:
                text = await _text(response, deadline - loop.time()) if read_body else None
            finally:
                await response.aclose()
            return Answer(response.status_code, response.reason_phrase, text)
    except (httpx.TimeoutException, asyncio.TimeoutError):
        return Answer(error=messages.FETCH_TIMEOUT)
    except (httpx.HTTPError, ValueError):
        return Answer(error=messages.FETCH_FAILED)


async def _text(response, remaining_s: float) -> str | None:
    """response.text() of an httpx response: UTF-8 whatever the charset, a leading BOM
    dropped; a read that fails (or outlasts the deadline) is caught by production as null."""
    import httpx

    try:
        raw = await asyncio.wait_for(response.aread(), max(remaining_s, 0.001))
    except (httpx.HTTPError, asyncio.TimeoutError):
        return None
    text = raw.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text
