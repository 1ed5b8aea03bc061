"""Server-sent events in production's wire format (CONTRACT.md §7).

Production writes the SSE head with raw `writeHead`, which drops every header set
earlier (rate-limit, request ids, CORS): with quirk `sse_drops_headers` the fake sends
exactly the same four; without it, the earlier headers come first. Frames are
`event:`/`data:` pairs with no `id:` or `retry:`; keep-alives are the comment
`: keepalive`, every `settings.sse_keepalive_ms` of the fake clock (or of real time,
whichever passes first, so a frozen clock does not silence a stream for ever).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Iterable

from ..sim.world import POLL_S
from .jsjson import dumps

HEAD = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
        (b"connection", b"keep-alive"), (b"x-accel-buffering", b"no")]
KEEPALIVE = b": keepalive\n\n"
CLOSE_AFTER_MS = 500  # production ends a stream 500 ms after its terminal event (§7.3, §7.4)

Follow = Callable[[], list[tuple[str, Any]]]


def frame(event: str, payload: Any) -> bytes:
    return f"event: {event}\ndata: {dumps(payload)}\n\n".encode("utf-8")


class EventStream:
    """What an SSE handler returns: events to send now, then either a close after a
    delay (finished executions) or a hold until the client leaves, with keep-alives and,
    when `follow` is given, the events it reports as they happen (the stream closes
    CLOSE_AFTER_MS after one whose name is in `closing`)."""

    def __init__(self, state, events: list[tuple[str, Any]], close_after_ms: int | None = None,
                 follow: Follow | None = None, closing: Iterable[str] = ()) -> None:
        self.state = state
        self.events = events
        self.close_after_ms = close_after_ms
        self.follow = follow
        self.closing = frozenset(closing)

    def head(self, earlier_headers) -> list[tuple[bytes, bytes]]:
        if self.state.fidelity.on("sse_drops_headers"):
            return list(HEAD)
        return [*earlier_headers, *HEAD]

    async def run(self, send, receive, head_only: bool = False, earlier_headers=()) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.head(earlier_headers)})
        if head_only:
            await send({"type": "http.response.body", "body": b""})
            return
        for name, payload in self.events:
            await _send(send, frame(name, payload))
        if self.close_after_ms is None:
            await self._hold(send, receive)  # ends when the client leaves, or after a terminal event
            return
        await asyncio.sleep(self.close_after_ms / 1000)
        await send({"type": "http.response.body", "body": b""})

    async def _hold(self, send, receive) -> None:
        disconnected = asyncio.ensure_future(_wait_disconnect(receive))
        keepalive = _KeepAlive(self.state.clock, self.state.settings.sse_keepalive_ms)
        try:
            while True:
                done, _ = await asyncio.wait({disconnected}, timeout=POLL_S)
                if done:
                    return
                self.state.world.settle()  # bring the simulations (and so the events) up to now
                for name, payload in self.follow() if self.follow else ():
                    await _send(send, frame(name, payload))
                    if name in self.closing:
                        await asyncio.wait({disconnected}, timeout=CLOSE_AFTER_MS / 1000)
                        await send({"type": "http.response.body", "body": b""})
                        return
                if keepalive.due():
                    await _send(send, KEEPALIVE)
        finally:
            disconnected.cancel()


class _KeepAlive:
    """Production's 30 s setInterval, on the fake clock: one keep-alive when the clock
    (or real time) has moved an interval on since the last."""

    def __init__(self, clock, interval_ms: int) -> None:
        self.clock, self.interval = clock, interval_ms
        self.fake, self.real = clock.now_ms(), time.monotonic()

    def due(self) -> bool:
        fake, real = self.clock.now_ms(), time.monotonic()
        if fake - self.fake < self.interval and (real - self.real) * 1000 < self.interval:
            return False
        self.fake, self.real = fake, real
        return True


async def _send(send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _wait_disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
