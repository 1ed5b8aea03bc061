"""The request pipeline, assembled once, in production's order (CONTRACT.md §1.2):

routing -> CORS (preflight answered here) -> request ids -> body parsing ->
authentication (401) -> rate limit (429, headers) -> scopes (403) -> handler -> envelope.

Pure ASGI: it is on every request's hot path. Paths under /_fakemaestro/ are the
admin API and go to the wrapped Starlette application.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from .. import messages
from ..faults import actions as fault_actions
from ..faults.engine import RequestFacts
from ..faults.transport import ConnectionDropped, drop
from ..resources.common import Call, Reply
from . import bodies, cors, envelope
from .auth import authenticate, extract_key
from .errors import ApiError, FrameworkError, JsThrown, route_not_found
from .jsjson import dumps_bytes
from .routing import BadUrl, Router
from .scopes import require
from .sse import EventStream

log = logging.getLogger("fakemaestro")
JSON = (b"content-type", b"application/json; charset=utf-8")
ADMIN_PREFIX = "/_fakemaestro"
# Node keeps the first of these when a request repeats them and joins the rest with ", ".
_SINGLE_VALUE_HEADERS = frozenset({
    "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host",
    "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards",
    "proxy-authorization", "referer", "retry-after", "server", "user-agent"})


def node_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1").lower(), value_b.decode("latin-1")
        if name in headers:
            if name not in _SINGLE_VALUE_HEADERS:
                headers[name] += ", " + value
        else:
            headers[name] = value
    return headers


def query_params(query_string: str) -> dict[str, Any]:
    """Like Node's querystring: a repeated key becomes a list of its values."""
    params: dict[str, Any] = {}
    if not query_string:
        return params
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in params:
            current = params[name]
            params[name] = current + [value] if isinstance(current, list) else [current, value]
        else:
            params[name] = value
    return params


class Pipeline:
    """The outermost ASGI app: production's API here, the rest (the admin API under
    /_fakemaestro/, lifespan) to `app`, the Starlette application."""

    def __init__(self, app, state) -> None:
        self.app = app
        self.state = state

    @property
    def router(self) -> Router:
        return self.state.router

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        exchange = Exchange(self.state, scope, receive, send)
        try:
            await exchange.run()
        except ConnectionDropped:
            pass  # a fault dropped the connection: nothing more to send
        except Exception as exc:  # a fake's bug outside a handler: still production's 500
            log.exception("unexpected error in %s %s", exchange.method, exchange.raw_url)
            if exchange.status is None:
                await exchange._framework(FrameworkError(500, str(exc) or type(exc).__name__))
        finally:
            exchange.record()


class Exchange:
    """One request/response as production's hooks would process it."""

    __slots__ = ("state", "receive", "send", "_direct", "method", "raw_path", "raw_url", "query", "headers",
                 "base_headers", "scope", "started", "arrived_ms", "status", "operation", "key", "decision",
                 "corrupt_json", "recorded")

    def __init__(self, state, scope, receive, send) -> None:
        self.state, self.receive, self.send = state, receive, send
        self.method: str = scope["method"]
        self.raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        self.raw_url = self.raw_path + ("?" + query if query else "")
        self.query = query
        self.headers = node_headers(scope["headers"])
        self.base_headers: list[tuple[bytes, bytes]] = []
        self.scope = scope
        self.started = time.perf_counter()
        self.arrived_ms = state.clock.now_ms()
        self.status: int | None = None
        self.operation = None
        self.key = None
        self.decision = None
        self.corrupt_json = False
        self.recorded = False
        # Plain answers go straight to the server (_respond journals them); the paths that
        # send on their own (event streams, damaging faults) get a tracking send.
        self._direct = send

    def _tracking(self, send):
        async def tracked(message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # journal first: a client that reads the journal right after its response sees it
                self.record()
            await send(message)
        return tracked

    def record(self) -> None:
        """Journal this exchange once (at the last body part, or when it ends without one)."""
        if self.recorded:
            return
        self.recorded = True
        key = self.key or self._presented_key()
        decision = self.decision
        self.state.journal.record(
            self.arrived_ms, self.method, self.raw_path, self.query,
            self.operation.operation_id if self.operation else None,
            key.name if key else None, key.workspace_id if key else None, self.status,
            decision.rule.name if decision else None, round(decision.latency_ms, 3) if decision else 0.0,
            round((time.perf_counter() - self.started) * 1000, 3))

    def _presented_key(self):
        """The known key a request presents, looked up without authenticating it."""
        try:
            raw = extract_key(self.headers)
        except ApiError:
            return None
        return self.state.store.key_for(raw) if raw else None

    async def run(self) -> None:
        try:
            match = self.state.router.match(self.method, self.raw_path)
        except BadUrl:
            await self._framework(FrameworkError(400, messages.BAD_URL.format(path=self.raw_url),
                                                 code="FST_ERR_BAD_URL"), bad_url=True)
            return
        if self.method == "OPTIONS":
            status, headers, body = cors.preflight(self.headers)
            await self._respond(status, headers, body)
            return
        self.base_headers = cors.cors_headers(self.headers.get("origin")) + self._request_ids()
        if match is not None and match[0].operation_id == "getAgentMemory" and match[1]["userId"] == "search" \
                and not self.state.fidelity.on("memory_search_get_shadowed"):
            match = None  # intended: search is POST only, so GET .../memory/search is no route
        if match is None:
            await self._unrouted()
            return
        operation, params = match
        self.operation = operation
        try:
            # GET and HEAD bodies are never read (Fastify ignores them)
            raw = b"" if self.method in bodies.NO_BODY_METHODS else await self._read_body()
            body = bodies.parse_body(self.method, self.headers, raw, self.state.fidelity.on("malformed_json_500"))
        except FrameworkError as exc:
            await self._framework(exc)
            return
        if self.state.faults.rules and await self._fault(operation, params, body):
            return
        await self._authorized(operation, params, body)

    async def _fault(self, operation, params, body) -> bool:
        """Apply the first fault rule that fires; True when it answered the request."""
        key = self._presented_key()
        facts = RequestFacts(operation.operation_id, self.method, self.raw_path, key.name if key else None,
                             key.workspace_id if key else None, self.headers, query_params(self.query), body,
                             self.state.clock.now_ms())
        decision = self.decision = self.state.faults.decide(facts)
        if decision is None:
            return False
        if decision.latency_ms:
            await asyncio.sleep(decision.latency_ms / 1000)
        action = decision.action
        if "connection" in action:
            drop(self.scope, reset=action["connection"] == "reset")
        # damage applies to whatever is answered: production's answer or the rule's own
        self.corrupt_json = bool(action.get("malformed_json"))
        if any(k in action for k in fault_actions.DAMAGE):
            self.send = fault_actions.DamagingSend(self._tracking(self.send), action,
                                                   lambda reset: drop(self.scope, reset))
        if "error" in action:
            rate_headers = self._counted() if action["error"] in fault_actions.AFTER_AUTH else []
            exc = fault_actions.catalogue_error(action, operation, params, self.key or key, self.state.limiter,
                                                self.state.clock.now_ms(), self.state.store)
            if isinstance(exc, FrameworkError):
                await self._framework(exc)
            else:
                await self._json(exc.status, envelope.error(exc.code, exc.message, exc.details,
                                                            self.state.clock.now_ms()),
                                 getattr(exc, "rate_headers", None) or rate_headers)
            return True
        if "status" in action:
            status, headers, payload = fault_actions.custom_response(action)
            await self._respond(status, self.base_headers + headers, b"" if self.method == "HEAD" else payload)
            return True
        return False

    def _counted(self) -> list[tuple[bytes, bytes]]:
        """For a faked error production raises after authentication: authenticate and
        count the request as production's hooks would, and return the X-RateLimit-*
        headers its answer carries. A key that does not authenticate gets none and is
        not counted (the fault still answers); a key over its limit is counted and gets
        the headers with nothing remaining (the fault still answers, without Retry-After)."""
        state = self.state
        try:
            key = authenticate(state.store, self.headers, state.clock.now_ms())
        except ApiError:
            return []
        self.key = key
        try:
            return state.limiter.hit(key, state.clock.now_ms())
        except ApiError as exc:  # over the limit: production would answer its 429 instead
            return [h for h in getattr(exc, "rate_headers", []) if h[0] != b"retry-after"]

    def _request_ids(self) -> list[tuple[bytes, bytes]]:
        trace = self.headers.get("x-trace-id") or envelope.random_uuid()
        request = self.headers.get("x-request-id") or envelope.random_uuid()
        return [(b"x-trace-id", trace.encode("latin-1")), (b"x-request-id", request.encode("latin-1"))]

    async def _unrouted(self) -> None:
        if self.raw_path == "/health" and self.method in ("GET", "HEAD"):
            # production's own root route, outside the v1 API
            body = {"success": True, "data": {"status": "healthy", "timestamp": envelope.iso(self.state.clock.now_ms())}}
            await self._json(200, body, [])
            return
        await self._json(404, route_not_found(self.method, self.raw_url), [])

    async def _read_body(self) -> bytes:
        if bodies.too_large(self.headers):
            raise FrameworkError(413, messages.BODY_TOO_LARGE, code="FST_ERR_CTP_BODY_TOO_LARGE", close=True)
        chunks, size = [], 0
        while True:
            message = await self.receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > bodies.BODY_LIMIT:
                raise FrameworkError(413, messages.BODY_TOO_LARGE, code="FST_ERR_CTP_BODY_TOO_LARGE", close=True)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _authorized(self, operation, params, body) -> None:
        state = self.state
        rate_headers: list[tuple[bytes, bytes]] = []
        try:
            now = state.clock.now_ms()
            key = self.key = authenticate(state.store, self.headers, now)
            rate_headers = state.limiter.hit(key, now)
            require(key, operation.scopes)
            call = Call(state, key, params, query_params(self.query), body, self.headers)
            state.world.settle()  # the handler sees every simulation up to the clock's now
            result = await operation.handler(call)
        except ApiError as exc:
            extra = getattr(exc, "rate_headers", None) or rate_headers
            await self._json(exc.status, envelope.error(exc.code, exc.message, exc.details, state.clock.now_ms()), extra)
            return
        except FrameworkError as exc:
            await self._framework(exc, rate_headers)
            return
        except JsThrown as exc:
            await self._framework(exc.escaped(), rate_headers)
            return
        except Exception as exc:  # a fake's bug must still look like production's 500
            log.exception("unexpected error in %s %s", self.method, self.raw_url)
            await self._framework(FrameworkError(500, str(exc) or type(exc).__name__), rate_headers)
            return
        if isinstance(result, EventStream):
            # production's raw writeHead drops these (quirk sse_drops_headers, §7.1)
            await result.run(self._tracking(self.send), self.receive, head_only=self.method == "HEAD",
                             earlier_headers=self.base_headers + list(rate_headers))
            return
        await self._reply(result, rate_headers)

    async def _reply(self, reply: Reply, rate_headers) -> None:
        await self._json(reply.status, reply.body, rate_headers)

    async def _framework(self, exc: FrameworkError, rate_headers=(), bad_url: bool = False) -> None:
        extra = list(rate_headers) + ([(b"connection", b"close")] if exc.close else [])
        if bad_url:
            # Fastify answers a bad URL before any hook runs, with a raw writeHead:
            # its own key order, no charset, no CORS or request-id headers.
            payload = dumps_bytes({"error": "Bad Request", "code": exc.code, "message": exc.message,
                                   "statusCode": 400})
            await self._respond(400, [(b"content-type", b"application/json"),
                                      (b"content-length", str(len(payload)).encode())], payload)
            return
        await self._json(exc.status, exc.body(), extra)

    async def _json(self, status: int, body: dict, extra) -> None:
        payload = dumps_bytes(body)
        if self.corrupt_json:
            payload = fault_actions.corrupt(payload)
        headers = self.base_headers + list(extra) + [JSON, (b"content-length", str(len(payload)).encode())]
        await self._respond(status, headers, b"" if self.method == "HEAD" else payload)

    async def _respond(self, status: int, headers, body: bytes) -> None:
        start = {"type": "http.response.start", "status": status, "headers": headers}
        if self.send is not self._direct:  # a fault's damage: it decides what is sent
            await self.send(start)
            await self.send({"type": "http.response.body", "body": body})
            return
        self.status = status
        await self.send(start)
        self.record()  # journal first: a client that reads the journal right after its response sees it
        await self.send({"type": "http.response.body", "body": body})
