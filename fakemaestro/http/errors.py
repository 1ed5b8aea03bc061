"""Typed errors, each rendered in one place.

`ApiError` is production's public-API envelope error (CONTRACT.md §1.5).
`FrameworkError` is Fastify's default error body `{statusCode, code?, error, message}`
(§1.7) that production answers wherever an error escapes a v1 handler.
`JsThrown` stands for an exception thrown inside production's handler code (a
Postgres error, a TypeError, a JSON.parse failure): handlers that production wraps
in `try` turn it into an envelope error; anywhere else it escapes as a FrameworkError.
"""
from __future__ import annotations

from typing import Any

from .. import messages
from .reasons import phrase


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers or {}


def not_found(resource: str, id_: str) -> ApiError:
    return ApiError(404, "resource_not_found",
                    messages.NOT_FOUND.format(resource=resource, id=id_),
                    {"resource": resource, "id": id_})


def validation(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "internal_error", message)


class FrameworkError(Exception):
    """Fastify's default error serialisation; key order as Fastify writes it."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.close = status, message, code, close

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"statusCode": self.status}
        if self.code is not None:
            body["code"] = self.code
        body["error"] = phrase(self.status)  # Node's phrase for the status, as Fastify writes it
        body["message"] = self.message
        return body


def route_not_found(method: str, raw_url: str) -> dict[str, Any]:
    # The 404 body has its own key order (message first), CONTRACT.md §1.1.
    return {"message": messages.ROUTE_NOT_FOUND.format(method=method, url=raw_url),
            "error": "Not Found", "statusCode": 404}


class JsThrown(Exception):
    """An exception production's JavaScript would throw; `pg_code` for Postgres errors."""

    def __init__(self, message: str, pg_code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.pg_code = message, pg_code

    def escaped(self) -> FrameworkError:
        return FrameworkError(500, self.message, code=self.pg_code)


class caught:
    """`with caught("execution_failed", default):` mirrors a production `try/catch`
    that answers a 500 envelope with the thrown message."""

    def __init__(self, code: str, default: str) -> None:
        self.code, self.default = code, default

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if isinstance(exc, JsThrown):
            raise ApiError(500, self.code, exc.message or self.default) from exc
        return False
