"""What moves on its own: the simulations that advance with the clock.

Executions progress, webhook retries fall due and agents answer on the fake's one
clock. Nothing runs on a timer of its own: every simulation registers a `settle(now_ms)`
with the World, and the World settles them all before any request is handled, while
an event stream waits, after the admin API moves the clock, and from a background
ticker while the server runs (so a real clock moves things even with no request).
Settling is idempotent and ordered by due time, so the same scenario, seed and clock
moves give the same results however often it is called.

Simulations talk to each other through domain events (`publish`): the execution
lifecycle publishes `execution.completed`, threads publish `thread.message.created`,
and the webhook dispatcher subscribes to them.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

log = logging.getLogger("fakemaestro.world")
POLL_S = 0.02  # how often a waiter looks at a frozen or moved clock


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened, in webhook terms (CONTRACT.md §8.2)."""

    type: str           # e.g. "execution.completed", "thread.message.created"
    user_id: str        # production looks subscribers up by user (§8.1)
    workspace_id: str
    data: dict          # the §8.2 data shape, keys in production's order
    at_ms: int


Settler = Callable[[int], None]
Subscriber = Callable[[DomainEvent], None]
Flusher = Callable[[], Awaitable[None]]


@dataclass
class World:
    clock: Any
    settlers: list[Settler] = field(default_factory=list)
    subscribers: list[Subscriber] = field(default_factory=list)
    flushers: list[Flusher] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()  # the test thread and the server thread may both settle

    def settle(self) -> None:
        """Bring every simulation up to the clock's now."""
        with self._lock:
            now = self.clock.now_ms()
            for settler in tuple(self.settlers):
                settler(now)

    def publish(self, event: DomainEvent) -> None:
        for subscriber in list(self.subscribers):
            subscriber(event)

    async def flush(self) -> None:
        """Settle, then finish the I/O that settling made due (webhook sends), so a
        caller that moved the clock sees the consequences when this returns."""
        self.settle()
        for flusher in list(self.flushers):
            await flusher()

    def clear(self) -> None:
        self.settlers.clear()
        self.subscribers.clear()
        self.flushers.clear()


async def sleep_on_clock(clock, ms: float) -> None:
    """Wait until the fake's clock has moved `ms` on: real time when it runs, a
    clock move (admin API, test) when it is frozen."""
    await sleep_until(clock, clock.now_ms() + ms)


async def sleep_until(clock, target_ms: float) -> None:
    while True:
        remaining = target_ms - clock.now_ms()
        if remaining <= 0:
            return
        await asyncio.sleep(POLL_S if clock.frozen else min(remaining / 1000, POLL_S * 5))


async def tick(current_world: Callable[[], World], interval_s: float = 0.1) -> None:
    """The background ticker a served app runs (see app._lifespan)."""
    while True:
        try:
            await current_world().flush()
        except Exception:  # a simulation's bug must not stop the others
            log.exception("settling the simulations failed")
        await asyncio.sleep(interval_s)
