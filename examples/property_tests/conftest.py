"""What the examples share: the official SDK connected to the session's fake.

The SDK sleeps between retries (1, 2, 4 s of backoff, or what Retry-After says) and
between polls, with no way to configure either. Property tests run a call dozens of
times, so `sdk()` makes those sleeps move the fake's clock instead of waiting
(`fakemaestro.clock.virtual()`, patched where the SDK looks `time` up): the same
waits, as the fake sees them, in no time at all.
"""
from __future__ import annotations

import contextlib
from unittest import mock

import pytest
from flowmaestro import FlowMaestroClient
from flowmaestro._http import sync_client
from flowmaestro.resources import executions


@pytest.fixture(scope="session")  # session-scoped: hypothesis's @given tests reuse it for every example
def sdk(fakemaestro):
    @contextlib.contextmanager
    def connect(key: str = "full", *, max_retries: int = 3):
        """(client, clock): a FlowMaestroClient on the fake, and the virtual time its
        sleeps go to (`clock.slept` lists them, in seconds)."""
        clock = fakemaestro.clock.virtual()
        with mock.patch.object(sync_client, "time", clock), mock.patch.object(executions, "time", clock), \
                FlowMaestroClient(fakemaestro.key(key), base_url=fakemaestro.base_url,
                                  max_retries=max_retries) as client:
            yield client, clock
    return connect
