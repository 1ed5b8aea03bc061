"""API-key authentication, every branch in production's order (CONTRACT.md §2)."""
from __future__ import annotations

from .. import messages
from ..store import Store
from ..store.models import ApiKey
from .errors import ApiError

PREFIX = "fm_live_"


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message)


def extract_key(headers: dict[str, str]) -> str | None:
    """X-API-Key wins even when invalid; Bearer only counts with an fm_live_ token."""
    header_key = headers.get("x-api-key")
    if header_key:
        if not header_key.startswith(PREFIX):
            raise _unauthorized("invalid_api_key", messages.INVALID_KEY_FORMAT)
        return header_key
    authorization = headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        token = authorization[7:]
        if token.startswith(PREFIX):
            return token
    return None


def authenticate(store: Store, headers: dict[str, str], now_ms: int) -> ApiKey:
    raw = extract_key(headers)
    if raw is None:
        raise _unauthorized("invalid_api_key", messages.MISSING_API_KEY)
    key = store.key_for(raw)
    if key is None:
        raise _unauthorized("invalid_api_key", messages.KEY_NOT_FOUND)
    if key.revoked_at is not None:
        raise _unauthorized("revoked_api_key", messages.KEY_REVOKED)
    if key.expires_at is not None and now_ms > key.expires_at:
        raise _unauthorized("expired_api_key", messages.KEY_EXPIRED)
    if not key.is_active:
        raise _unauthorized("invalid_api_key", messages.KEY_INACTIVE)
    key.last_used_at = now_ms
    return key
