"""What a fired fault does to the exchange: answer with an error from production's
catalogue (rendered exactly as production renders it) or a custom response, drop
the connection, or damage the real answer (truncate, corrupt, drip, cut a stream).
"""
from __future__ import annotations

import asyncio
import math

from .. import messages
from ..http.errors import ApiError, FrameworkError
from ..store.models import ApiKey

# The 404 production renders for each operation: (resource name, path parameter(s) that
# make the id). Memory get/delete have two 404s (CONTRACT.md §5.3): the Agent's when
# the agent is not in the key's workspace, else the Working memory's, whose id is
# "<agentId>/<userId>" -- `catalogue_error` picks the one production would render.
NOT_FOUND_OF: dict[str, tuple[str, tuple[str, ...]]] = {
    "getWorkflow": ("Workflow", ("id",)), "executeWorkflow": ("Workflow", ("id",)),
    "getExecution": ("Execution", ("id",)), "cancelExecution": ("Execution", ("id",)),
    "streamExecutionEvents": ("Execution", ("id",)),
    "getAgent": ("Agent", ("id",)), "createThread": ("Agent", ("id",)),
    "listAgentMemory": ("Agent", ("agentId",)), "getAgentMemoryStats": ("Agent", ("agentId",)),
    "searchAgentMemory": ("Agent", ("agentId",)), "putAgentMemory": ("Agent", ("agentId",)),
    "getAgentMemory": ("Working memory", ("agentId", "userId")),
    "deleteAgentMemory": ("Working memory", ("agentId", "userId")),
    "getThread": ("Thread", ("id",)), "deleteThread": ("Thread", ("id",)),
    "listThreadMessages": ("Thread", ("id",)), "sendThreadMessage": ("Thread", ("id",)),
    "executeTrigger": ("Trigger", ("id",)),
    "getKnowledgeBase": ("Knowledge Base", ("id",)), "queryKnowledgeBase": ("Knowledge Base", ("id",)),
    "getWebhook": ("Webhook", ("id",)), "updateWebhook": ("Webhook", ("id",)), "deleteWebhook": ("Webhook", ("id",)),
    "testWebhook": ("Webhook", ("id",)), "listWebhookDeliveries": ("Webhook", ("id",)),
}
# Codes production only sends once authentication and the rate limiter have passed
# (the scope check, handlers): a faked one carries the X-RateLimit-* headers and counts
# toward the limit, as production's would (CONTRACT.md §1.2, §3). The others are
# answered as before authentication, with no rate headers and no count: the 401s
# (the auth hook), rate_limit_exceeded (the limiter itself; its own headers), and
# framework_* (a DB failure as the key is looked up, or a gateway in front).
AFTER_AUTH = frozenset({"insufficient_scope", "resource_not_found", "validation_error", "execution_failed",
                        "internal_error", "not_implemented", "timeout", "service_unavailable"})
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


def catalogue_error(action: dict, operation, params: dict, key: ApiKey | None, limiter, now_ms: int,
                    store=None):
    """The exception production would raise for this error code."""
    code = action["error"]
    message = action.get("message")
    if code.startswith("framework_"):
        return FrameworkError(int(code[-3:]), message or DEFAULT_MESSAGES[code])
    if code == "rate_limit_exceeded":
        return _rate_limited(action, key, limiter, now_ms)
    if code == "insufficient_scope":
        return _scope_error(operation, key, message)
    if code == "resource_not_found":
        resource, ident = _not_found_target(operation, params, key, store)
        return ApiError(404, code, message or messages.NOT_FOUND.format(resource=resource, id=ident),
                        {"resource": resource, "id": ident})
    if code == "timeout":
        return ApiError(408, code, message or messages.AGENT_TIMEOUT.format(
            timeout=120000, thread_id=params.get("id", "")))
    return ApiError(STATUS[code], code, message or DEFAULT_MESSAGES[code])


def _not_found_target(operation, params: dict, key: ApiKey | None, store) -> tuple[str, str]:
    """(resource, id) of the 404 production renders for this request; ids as the client
    sent them, as production's handlers echo them."""
    target = NOT_FOUND_OF.get(operation.operation_id) if operation is not None else None
    if target is None:  # an operation production never answers 404 (lists, createWebhook)
        return _resource_name(operation), str(next(iter(params.values()), "")) if params else ""
    resource, names = target
    if resource == "Working memory" and not _agent_visible(params.get("agentId", ""), key, store):
        return "Agent", params.get("agentId", "")
    return resource, "/".join(str(params.get(name, "")) for name in names)


def _agent_visible(agent_id: str, key: ApiKey | None, store) -> bool:
    """Would production's agent lookup pass (so that its 404 is the memory's)? Without a
    key or a store to ask, the operation's own resource is named."""
    if key is None or store is None:
        return True
    from ..store.pguuid import pg_uuid
    try:
        return store.agent_in_workspace(pg_uuid(agent_id), key.workspace_id) is not None
    except Exception:  # not a UUID: production would not get that far either
        return False


def _resource_name(operation) -> str:
    if operation is None:
        return "Resource"
    for marker, name in (("Memory", "Working memory"), ("KnowledgeBase", "Knowledge Base"), ("Webhook", "Webhook"),
                         ("Trigger", "Trigger"), ("Thread", "Thread"), ("Agent", "Agent"),
                         ("Execution", "Execution"), ("Workflow", "Workflow")):
        if marker in operation.operation_id:
            return name
    return "Resource"


def _scope_error(operation, key: ApiKey | None, message: str | None = None) -> ApiError:
    required = list(operation.scopes) if operation else ["workflows:read"]
    yours = list(key.scopes) if key else []
    missing = [s for s in required if s not in yours] or required[-1:]
    yours = [s for s in yours if s not in missing]
    return ApiError(403, "insufficient_scope", message or messages.MISSING_SCOPES.format(missing=", ".join(missing)),
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
    headers = {str(k).lower(): _header_text(v) for k, v in (action.get("headers") or {}).items()}
    if isinstance(body, (dict, list)):
        payload = dumps_bytes(body)
        headers.setdefault("content-type", "application/json; charset=utf-8")
    else:
        payload = str(body).encode("utf-8")
        headers.setdefault("content-type", "text/plain; charset=utf-8")
    if action.get("malformed_json") and payload:
        payload = corrupt(payload)  # a complete response whose (shorter) body is broken
    headers["content-length"] = str(len(payload))
    return int(action["status"]), [(k.encode(), v.encode("latin-1")) for k, v in headers.items()], payload


def _header_text(value) -> str:
    """A scenario's header value as Node writes it: JS text for true/false and numbers,
    latin-1 bytes (the scenario check allows no other characters), without the spaces
    around it that HTTP does not count as part of a value."""
    from ..http.jsjson import js_number_text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return js_number_text(value)  # 1.0 is "1", as String(1.0)
    return str(value).strip(" \t")


DAMAGE = ("truncate_at", "drip", "sse_cut_after")


class DamagingSend:
    """Wraps ASGI `send` to damage an answer as a fault asks: production's real answer,
    or the error/custom answer the same rule gives.

    truncate_at N   the head (promising the whole body), the first N body bytes, then
                    the connection is closed (FIN).
    drip            the body in chunk_bytes pieces, interval_ms apart.
    sse_cut_after N applies to event streams only (`content-type: text/event-stream`;
                    other answers pass undamaged). An event is a complete SSE frame (up
                    to its terminating blank line) that carries a field (`event:`,
                    `data:`...); comment frames such as the `: keepalive` heartbeat are
                    not events and are not counted. The connection is closed (FIN, no
                    terminating chunk) as soon as N events have been sent, before
                    anything else; N = 0 closes it right after the head.
    """

    def __init__(self, send, action: dict, drop) -> None:
        self.send, self.action, self.drop = send, action, drop
        self.events = 0
        self.event_stream = False
        self._pending = b""  # the start of an SSE frame whose end has not been sent yet

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            self.event_stream = _content_type(message.get("headers") or []).startswith(b"text/event-stream")
            await self.send(message)
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        if "sse_cut_after" in self.action:
            if self.event_stream:
                await self._stream(body, more)
            else:
                await self.send(message)
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
        limit = self.action["sse_cut_after"]
        if self.events >= limit:  # N = 0: nothing after the head
            self.drop(reset=False)
        seen = self.events
        for end, is_event in _frames(self._pending, body):
            seen += is_event
            if seen == limit:  # send up to the end of the Nth event, then close
                await self.send({"type": "http.response.body", "body": body[:end], "more_body": True})
                self.events = seen
                self.drop(reset=False)
        self.events = seen
        text = self._pending + body
        self._pending = text[text.rfind(b"\n\n") + 2:] if b"\n\n" in text else text
        await self.send({"type": "http.response.body", "body": body, "more_body": more})


def _content_type(headers) -> bytes:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.lower()
    return b""


def _frames(pending: bytes, body: bytes):
    """(end offset in `body`, is_event) of each SSE frame that `body` completes."""
    text, start = pending + body, 0
    while (end := text.find(b"\n\n", start)) != -1:
        frame = text[start:end]
        is_event = any(line and not line.startswith(b":") for line in frame.split(b"\n"))
        yield end + 2 - len(pending), is_event
        start = end + 2


def corrupt(payload: bytes) -> bytes:
    """Malformed JSON of the same kind a broken proxy produces: the document cut short."""
    return payload[: max(1, len(payload) // 2)]
