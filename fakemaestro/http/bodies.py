"""Request bodies parsed as production's Fastify does it, before authentication
(CONTRACT.md §1.2, §1.7): JSON through JSON.parse (V8 messages on failure),
text/plain as a string, multipart accepted but unread, anything else 415,
over 1 MiB 413."""
from __future__ import annotations

from typing import Any

from .. import messages
from .errors import FrameworkError
from .js import UNDEFINED
from .v8json import JSONSyntaxError, parse as v8_parse

BODY_LIMIT = 1_048_576  # Fastify's default bodyLimit
NO_BODY_METHODS = ("GET", "HEAD")


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def declares_body(headers: dict[str, str]) -> bool:
    """Fastify treats a request as bodiless without transfer-encoding and with
    content-length absent or 0."""
    if "transfer-encoding" in headers:
        return True
    return headers.get("content-length", "0") not in ("0", "")


def too_large(headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "")
    return length.isdigit() and int(length) > BODY_LIMIT


def parse_body(method: str, headers: dict[str, str], raw: bytes, malformed_json_500: bool = True) -> Any:
    """The body as production's parsers leave it, or the Fastify error they raise.
    `malformed_json_500=False` is the intended behaviour (quirk malformed_json_500 off)."""
    if method in NO_BODY_METHODS:
        return UNDEFINED
    content_type = headers.get("content-type")
    if method in ("DELETE", "OPTIONS") and (content_type is None or (
            "transfer-encoding" not in headers and "content-length" not in headers)):
        return UNDEFINED  # Fastify parses these only with a content type and a declared body
    if content_type is None:
        if not declares_body(headers):
            return UNDEFINED
        raise unsupported("undefined")
    if len(raw) > BODY_LIMIT:
        raise FrameworkError(413, messages.BODY_TOO_LARGE, code="FST_ERR_CTP_BODY_TOO_LARGE", close=True)
    kind = media_type(content_type)
    if kind == "application/json":
        return parse_json(raw, malformed_json_500)
    if kind == "text/plain":
        return raw.decode("utf-8", errors="replace")
    if kind == "multipart/form-data":
        return UNDEFINED
    raise unsupported(content_type)


def unsupported(content_type: str) -> FrameworkError:
    return FrameworkError(415, messages.UNSUPPORTED_MEDIA_TYPE.format(content_type=content_type),
                          code="FST_ERR_CTP_INVALID_MEDIA_TYPE", close=True)


def parse_json(raw: bytes, malformed_json_500: bool = True) -> Any:
    # Production's parser: an empty body is {}, anything else goes to JSON.parse. Its
    # SyntaxError carries no status, so Fastify answers 500 and closes the connection;
    # Fastify's own JSON parser (the intended behaviour) marks it 400.
    if not raw:
        return {}
    try:
        return v8_parse(raw.decode("utf-8", errors="replace"))
    except JSONSyntaxError as exc:
        if malformed_json_500:
            raise FrameworkError(500, exc.message, close=True) from exc
        raise FrameworkError(400, exc.message) from exc
