"""Webhooks for subscribed events: production's WebhookDispatcher as if it were called
(CONTRACT.md §8.1, §8.2; quirk `webhook_dispatch_dead`).

Nothing in production calls its dispatcher (§8.1). With the quirk on (profile
`production`) `install` adds nothing, so no event leaves the fake and only /test sends.
With it off, every DomainEvent of the ten webhook types goes to the event's *user's*
active, live webhooks subscribed to it (findByUserAndEvent: by user, not workspace).
Each gets a `pending` delivery and its own payload `{id, event, created_at, data}`; the
first attempt POSTs `JSON.stringify(payload)`, signed; the outcome moves the delivery to
`success`, `retrying` (again 2, 4, 8 and 16 minutes after failures 1 to 4) or `failed`.
A retry re-sends the payload as Postgres's jsonb hands it back (keys reordered, so the
body is `{"id","data","event","created_at"}`), signed again; a webhook gone, inactive or
deleted by then fails the delivery without a request.

Time: an attempt is stamped with the instant it fell due (the event's instant, then
`next_retry_at`), never with when its bytes went out, so the same scenario, seed and
clock moves give the same records. Production's retry processor polls every 30 s and so
retries up to 30 s after `next_retry_at`; the fake retries at `next_retry_at` exactly,
and a clock moved past several due instants sends them all, in order.

Threads: `on_event` may run in any thread (a handler, the World's settle, a test); it
writes the delivery and queues the send. `settle(now)` queues the retries due. Only
`flush()`, in the server's event loop, sends, one request at a time; it returns once
every send queued before it was called is done (the admin clock move awaits it).
"""
from __future__ import annotations

import asyncio
import copy
import heapq
import itertools
import re
import threading
from dataclasses import dataclass

from ..clock import iso
from ..http import v8json
from ..http.jsjson import dumps, js_value
from ..store import Store
from ..store.models import Delivery, Webhook
from . import webhook_sender
from .webhook_sender import Answer
from .world import DomainEvent, World

EVENT_TYPES = (
    "execution.started", "execution.completed", "execution.failed", "execution.cancelled",
    "thread.message.created", "thread.message.completed", "thread.message.failed",
    "agent.execution.started", "agent.execution.completed", "agent.execution.failed",
)
RETRY_DELAYS_S = (0, 120, 240, 480, 960)  # indexed by the attempts made so far
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
RESPONSE_BODY_LIMIT = 10_000
ERROR_MESSAGE_LIMIT = 1000
USER_AGENT = "FlowMaestro-Webhook/1.0"
TIMEOUT_S = webhook_sender.TIMEOUT_S
WAIT_S = 0.005  # how often a flush looks whether another one has finished sending
# What Postgres's jsonb refuses: \u0000 and a lone surrogate (JSON.stringify escapes both).
_JSONB_REFUSES = re.compile(rb'(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})')


@dataclass(frozen=True)
class Target:
    """Where a send goes and how it is signed."""

    url: str
    secret: str
    headers: object  # the webhook's custom headers (any JSON), spread last

    @classmethod
    def of(cls, hook: Webhook) -> "Target":
        return cls(hook.url, hook.secret, hook.headers)


@dataclass(frozen=True)
class Send:
    due_ms: int
    delivery_id: int
    target: Target | None  # the first attempt's, found at dispatch; None: a retry looks it up


class Dispatcher:
    """One store's deliveries: what is due to be sent, and the sending (see the module doc)."""

    def __init__(self, store: Store, clock) -> None:
        self.store, self.clock = store, clock
        self._lock = threading.Lock()
        self._ready: list[tuple[int, int, Send]] = []  # heap of due sends (due_ms, order, send)
        self._retries: list[tuple[int, int]] = []      # heap of (next_retry_at, delivery id)
        self._order = itertools.count()
        self._sending = False
        for delivery in store.delivery_rows.values():  # a scenario's `retrying` deliveries too
            self._schedule_retry(delivery)

    # ------------------------------------------------------------ the World's hooks
    def on_event(self, event: DomainEvent) -> None:
        if event.type not in EVENT_TYPES:
            return
        with self._lock:
            for hook in self.store.webhooks_for_event(event.user_id, event.type):
                self._create_delivery(hook, event)

    def settle(self, now_ms: int) -> None:
        with self._lock:
            self._promote(now_ms)

    async def flush(self) -> None:
        while not self._claim():
            await asyncio.sleep(WAIT_S)
        try:
            while (send := self._next()) is not None:
                await self._attempt(send)
        finally:
            self._sending = False

    # ------------------------------------------------------------ queueing
    def _create_delivery(self, hook: Webhook, event: DomainEvent) -> None:
        payload = {"id": self.store.ids.uuid(), "event": event.type, "created_at": iso(event.at_ms),
                   "data": copy.deepcopy(event.data)}
        if _JSONB_REFUSES.search(webhook_sender.json_body(js_value(payload))):
            return  # the insert fails; production's Promise.allSettled swallows it: no delivery
        delivery = self.store.new_delivery(hook.id, event.type, payload, event.at_ms)
        self._queue(Send(event.at_ms, delivery.id, Target.of(hook)))

    def _queue(self, send: Send) -> None:
        heapq.heappush(self._ready, (send.due_ms, next(self._order), send))

    def _schedule_retry(self, delivery: Delivery) -> None:
        if delivery.status == "retrying" and delivery.next_retry_at is not None:
            heapq.heappush(self._retries, (delivery.next_retry_at, delivery.id))

    def _promote(self, now_ms: int) -> None:
        """Queue the retries due by `now_ms` (findPendingRetries: `next_retry_at <= now`)."""
        while self._retries and self._retries[0][0] <= now_ms:
            due, delivery_id = heapq.heappop(self._retries)
            delivery = self.store.delivery_rows.get(delivery_id)
            if delivery is not None and delivery.status == "retrying" and delivery.next_retry_at == due:
                self._queue(Send(due, delivery_id, None))

    def _claim(self) -> bool:
        with self._lock:
            if self._sending:
                return False
            self._sending = True
            return True

    def _next(self) -> Send | None:
        with self._lock:
            self._promote(self.clock.now_ms())  # retries an attempt just scheduled into the past
            return heapq.heappop(self._ready)[2] if self._ready else None

    # ------------------------------------------------------------ sending
    async def _attempt(self, send: Send) -> None:
        delivery = self.store.delivery_rows[send.delivery_id]
        if send.target is not None:
            target, payload = send.target, delivery.payload
        else:
            hook = self.store.webhooks.get(delivery.webhook_id)
            if hook is None or hook.deleted_at is not None or hook.is_active is not True:
                with self._lock:
                    mark_failed(delivery)
                return
            target, payload = Target.of(hook), as_jsonb_returns(delivery.payload)
        body = webhook_sender.json_body(js_value(payload))
        headers = webhook_sender.merged_headers(
            {"Content-Type": "application/json",
             "X-FlowMaestro-Signature": webhook_sender.signature(target.secret, body),
             "X-FlowMaestro-Delivery-ID": str(delivery.id),
             "X-FlowMaestro-Event": _event_header(payload),
             "User-Agent": USER_AGENT},
            target.headers)
        answer = await webhook_sender.post(target.url, body, headers, TIMEOUT_S, read_body=True)
        with self._lock:
            if record(delivery, send.due_ms, answer):
                self._schedule_retry(delivery)


def _event_header(payload) -> str:
    """String(payload.event): a stored payload without `event` sends "undefined"."""
    if isinstance(payload, dict) and "event" in payload:
        return webhook_sender.header_value(payload["event"])
    return "undefined"


# ------------------------------------------------------------------ outcomes (§8.2)

def record(delivery: Delivery, at_ms: int, answer: Answer) -> bool:
    """Write an attempt's outcome; True when it leaves the delivery `retrying`."""
    if answer.ok:
        delivery.status, delivery.attempts = "success", delivery.attempts + 1
        delivery.last_attempt_at, delivery.response_status = at_ms, answer.status
        delivery.response_body = js_slice(answer.body, RESPONSE_BODY_LIMIT)
        delivery.next_retry_at = None  # error_message stays: markSuccess leaves it
        return False
    if answer.status is None:
        return _retryable_failure(delivery, at_ms, None, None, answer.error)
    if answer.status in RETRYABLE_STATUSES:
        return _retryable_failure(delivery, at_ms, answer.status, answer.body, f"HTTP {answer.status}")
    _count_attempt(delivery, at_ms, answer.status, answer.body, f"HTTP {answer.status}: {answer.status_text}")
    mark_failed(delivery)
    return False


def _retryable_failure(delivery: Delivery, at_ms: int, status, body, error) -> bool:
    _count_attempt(delivery, at_ms, status, body, error)
    if delivery.status != "retrying":
        return False  # the last attempt: next_retry_at keeps its old value, as in production
    delay_s = RETRY_DELAYS_S[min(delivery.attempts, len(RETRY_DELAYS_S) - 1)]
    delivery.next_retry_at = at_ms + delay_s * 1000
    return True


def _count_attempt(delivery: Delivery, at_ms: int, status, body, error) -> None:
    """incrementAttempt: `failed` once attempts reach max_attempts, else `retrying`."""
    delivery.status = "failed" if delivery.attempts + 1 >= delivery.max_attempts else "retrying"
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.response_status = at_ms, status
    delivery.response_body = js_slice(body, RESPONSE_BODY_LIMIT)
    delivery.error_message = js_slice(error, ERROR_MESSAGE_LIMIT)


def mark_failed(delivery: Delivery) -> None:
    delivery.status, delivery.next_retry_at = "failed", None


def js_slice(text: str | None, limit: int) -> str | None:
    """text?.slice(0, limit): JavaScript counts UTF-16 code units; a pair cut in half
    reaches Postgres as U+FFFD (Node's UTF-8 encoding of a lone surrogate)."""
    if text is None or len(text) <= limit // 2:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * limit:
        return text
    return units[:2 * limit].decode("utf-16-le", "replace")


def as_jsonb_returns(payload):
    """A payload stored in a jsonb column, as node-pg returns it: jsonb keeps an object's
    keys shorter first, then bytewise; JSON.parse puts array-index keys first."""
    return v8json.parse(dumps(js_value(_jsonb_order(payload))))


def _jsonb_order(value):
    if isinstance(value, dict):
        return {k: _jsonb_order(value[k]) for k in sorted(value, key=_jsonb_key)}
    if isinstance(value, list):
        return [_jsonb_order(v) for v in value]
    return value


def _jsonb_key(key: str) -> tuple[int, bytes]:
    raw = key.encode("utf-8", "surrogatepass")
    return len(raw), raw


def install(state, world: World) -> None:
    if state.fidelity.on("webhook_dispatch_dead"):
        return  # §8.1: production never calls its dispatcher
    dispatcher = Dispatcher(state.store, state.clock)
    world.subscribers.append(dispatcher.on_event)
    world.settlers.append(dispatcher.settle)
    world.flushers.append(dispatcher.flush)
