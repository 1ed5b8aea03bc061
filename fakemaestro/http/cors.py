"""CORS as production's @fastify/cors setup answers it (CONTRACT.md §1.8)."""
from __future__ import annotations

from .. import messages

ALLOW_METHODS = b"GET, POST, PUT, DELETE, PATCH, OPTIONS"
ALLOW_HEADERS = b"Content-Type, Authorization, X-Session-ID, X-Workspace-Id, X-Requested-With, Accept, Origin"
_BASE = [(b"access-control-allow-credentials", b"true"),
         (b"access-control-expose-headers", b"X-Correlation-ID")]


def cors_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"vary", b"Origin")]
    if origin:
        headers.append((b"access-control-allow-origin", origin.encode("latin-1", "replace")))
    return headers + _BASE


def preflight(headers: dict[str, str]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Any OPTIONS request: 204 with the preflight headers, or 400 text/plain when
    Origin or Access-Control-Request-Method is missing (strict preflight)."""
    base = cors_headers(headers.get("origin"))
    if not headers.get("origin") or not headers.get("access-control-request-method"):
        body = messages.INVALID_PREFLIGHT.encode()
        return 400, base + [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())], body
    return 204, base + [(b"access-control-allow-methods", ALLOW_METHODS),
                        (b"access-control-allow-headers", ALLOW_HEADERS),
                        (b"content-length", b"0")], b""
