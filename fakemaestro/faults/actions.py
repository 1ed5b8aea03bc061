"""What a fired fault does to the exchange: answer with an error from production's
catalogue (rendered exactly as production renders it) or a custom response, drop
the connection, or damage the real answer (truncate, corrupt, drip, cut a stream).
"""
from __future__ import annotations

import asyncio

from .. import messages
from ..http import envelope
from ..http.errors import ApiError, FrameworkError
from ..store.models import ApiKey

# resource named in a 404 by the operation that was asked for
RESOURCE_OF = {"Workflow": "Workflow", "Execution": "Execution", "Agent": "Agent", "Thread": "Thread",
               "Trigger": "Trigger", "KnowledgeBase": "Knowledge Base", "Webhook": "Webhook",
               "AgentMemory": "Working memory"}
DEFAULT_MESSAGES = {
    "service_unavailable": "Service temporarily unavailable",
    "internal_error": "Internal server error",
    "execution_failed": messages.WORKFLOW_EXECUTION_FAILED,
    "invalid_api_key": messages.KEY_NOT_FOUND,
    "expired_api_key": messages.KEY_EXPIRED,
    "revoked_api_key": messages.KEY_REVOKED,
    "validation_error": "Invalid input data",
    "not_implemented": messages.STREAMING_NOT_IMPLEMENTED,
    "framework_500": "Connection terminated unexpectedly",
    "framework_502": "Bad Gateway",
    "framework_504": "Gateway Timeout",
}
STATUS = {"service_unavailable": 503, "internal_error": 500, "execution_failed": 500, "invalid_api_key": 401,
          "expired_api_key": 401, "revoked_api_key": 401, "validation_error": 400, "not_implemented": 501,
          "timeout": 408, "resource_not_found": 404, "insufficient_scope": 403, "rate_limit_exceeded": 429}


def catalogue_error(action: dict, operation, params: dict, key: ApiKey | None, limiter, now_ms: int):
    """The exception production would raise for this error code."""
    code = action["error"]
    message = action.get("message")
    if code.startswith("framework_"):
        return FrameworkError(int(code[-3:]), message or DEFAULT_MESSAGES[code])
    if code == "rate_limit_exceeded":
        return _rate_limited(action, key, limiter, now_ms)
    if code == "insufficient_scope":
        return _scope_error(operation, key)
    if code == "resource_not_found":
        resource = _resource_name(operation)
        ident = next(iter(params.values()), "") if params else ""
        return ApiError(404, code, message or messages.NOT_FOUND.format(resource=resource, id=ident),
                        {"resource": resource, "id": ident})
    if code == "timeout":
        return ApiError(408, code, message or messages.AGENT_TIMEOUT.format(
            timeout=120000, thread_id=params.get("id", "")))
    return ApiError(STATUS[code], code, message or DEFAULT_MESSAGES[code])


def _resource_name(operation) -> str:
    if operation is None:
        return "Resource"
    for marker, name in (("Memory", "Working memory"), ("KnowledgeBase", "Knowledge Base"), ("Webhook", "Webhook"),
                         ("Trigger", "Trigger"), ("Thread", "Thread"), ("Agent", "Agent"),
                         ("Execution", "Execution"), ("Workflow", "Workflow")):
        if marker in operation.operation_id:
            return name
    return "Resource"


def _scope_error(operation, key: ApiKey | None) -> ApiError:
    required = list(operation.scopes) if operation else ["workflows:read"]
    yours = list(key.scopes) if key else []
    missing = [s for s in required if s not in yours] or required[-1:]
    yours = [s for s in yours if s not in missing]
    return ApiError(403, "insufficient_scope", messages.MISSING_SCOPES.format(missing=", ".join(missing)),
                    {"required_scopes": required, "missing_scopes": missing, "your_scopes": yours})


def _rate_limited(action: dict, key: ApiKey | None, limiter, now_ms: int) -> ApiError:
    per_minute, per_day = (key.per_minute, key.per_day) if key else (60, 10000)
    now = now_ms // 1000
    reset = (now // 60 + 1) * 60
    if action.get("window") == "day":
        retry = action.get("retry_after", 86400 - now % 86400)
        err = ApiError(429, "rate_limit_exceeded", action.get("message") or messages.DAY_LIMIT,
                       {"limit": per_day, "window": "day", "retry_after": retry})
        remaining_minute = max(0, per_minute - limiter.minute_count(key, now_ms)) if key else per_minute
        remaining = [remaining_minute, 0]
    else:
        retry = action.get("retry_after", reset - now)
        err = ApiError(429, "rate_limit_exceeded",
                       action.get("message") or messages.MINUTE_LIMIT.format(seconds=retry),
                       {"limit": per_minute, "window": "minute", "retry_after": retry})
        remaining_day = max(0, per_day - limiter.day_count(key, now_ms)) if key else per_day
        remaining = [0, remaining_day]
    err.rate_headers = [
        (b"x-ratelimit-limit", str(per_minute).encode()), (b"x-ratelimit-remaining", str(remaining[0]).encode()),
        (b"x-ratelimit-reset", str(reset).encode()), (b"x-ratelimit-limit-day", str(per_day).encode()),
        (b"x-ratelimit-remaining-day", str(remaining[1]).encode()), (b"retry-after", str(retry).encode())]
    return err


def custom_response(action: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    from ..http.jsjson import dumps_bytes
    body = action.get("body", "")
    headers = {k.lower(): str(v) for k, v in (action.get("headers") or {}).items()}
    if isinstance(body, (dict, list)):
        payload = dumps_bytes(body)
        headers.setdefault("content-type", "application/json; charset=utf-8")
    else:
        payload = str(body).encode("utf-8")
        headers.setdefault("content-type", "text/plain; charset=utf-8")
    headers["content-length"] = str(len(payload))
    return int(action["status"]), [(k.encode(), v.encode()) for k, v in headers.items()], payload


class DamagingSend:
    """Wraps ASGI `send` to damage the real answer as a fault asks."""

    def __init__(self, send, action: dict, drop) -> None:
        self.send, self.action, self.drop = send, action, drop
        self.events = 0

    async def __call__(self, message) -> None:
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        if "sse_cut_after" in self.action:
            await self._stream(body, more)
        elif "truncate_at" in self.action:
            await self.send({"type": "http.response.body", "body": body[: self.action["truncate_at"]],
                             "more_body": True})
            self.drop(reset=False)
        elif "drip" in self.action:
            await self._drip(body, more)
        else:
            await self.send(message)

    async def _drip(self, body: bytes, more: bool) -> None:
        size, pause = self.action["drip"]["chunk_bytes"], self.action["drip"]["interval_ms"] / 1000
        for start in range(0, len(body), size):
            await self.send({"type": "http.response.body", "body": body[start:start + size], "more_body": True})
            await asyncio.sleep(pause)
        if not more:
            await self.send({"type": "http.response.body", "body": b""})

    async def _stream(self, body: bytes, more: bool) -> None:
        if body.startswith(b"event:"):
            if self.events >= self.action["sse_cut_after"]:
                self.drop(reset=False)
            self.events += 1
        await self.send({"type": "http.response.body", "body": body, "more_body": more})


def corrupt(payload: bytes) -> bytes:
    """Malformed JSON of the same kind a broken proxy produces: the document cut short."""
    return payload[: max(1, len(payload) // 2)]
