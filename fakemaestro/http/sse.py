"""Server-sent events in production's wire format (CONTRACT.md §7).

Production writes the SSE head with raw `writeHead`, which drops every header set
earlier (rate-limit, request ids, CORS): the fake sends exactly the same four.
Frames are `event:`/`data:` pairs with no `id:` or `retry:`; keep-alives are the
comment `: keepalive`.
"""
from __future__ import annotations

import asyncio
from typing import Any

from .jsjson import dumps

HEAD = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
        (b"connection", b"keep-alive"), (b"x-accel-buffering", b"no")]
KEEPALIVE = b": keepalive\n\n"


def frame(event: str, payload: Any) -> bytes:
    return f"event: {event}\ndata: {dumps(payload)}\n\n".encode("utf-8")


class EventStream:
    """What an SSE handler returns: events to send now, then either a close after a
    delay (finished executions) or keep-alives until the client leaves."""

    def __init__(self, state, events: list[tuple[str, Any]], close_after_ms: int | None = None) -> None:
        self.state = state
        self.events = events
        self.close_after_ms = close_after_ms

    async def run(self, send, receive, head_only: bool = False) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HEAD})
        if head_only:
            await send({"type": "http.response.body", "body": b""})
            return
        for name, payload in self.events:
            await send({"type": "http.response.body", "body": frame(name, payload), "more_body": True})
        if self.close_after_ms is None:
            await self._hold(send, receive)  # ends only when the client leaves
            return
        await asyncio.sleep(self.close_after_ms / 1000)
        await send({"type": "http.response.body", "body": b""})

    async def _hold(self, send, receive) -> None:
        interval = self.state.settings.sse_keepalive_ms / 1000
        disconnected = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            while True:
                done, _ = await asyncio.wait({disconnected}, timeout=interval)
                if done:
                    return
                await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
        finally:
            disconnected.cancel()


async def _wait_disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
