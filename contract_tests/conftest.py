"""The contract suite's targets: by default the fake twice, in process (ASGI) and over a
real socket (hypercorn on 127.0.0.1); with FAKEMAESTRO_TARGET_URL, that API instead:

    FAKEMAESTRO_TARGET_URL            base URL, without /api/v1
    FAKEMAESTRO_TARGET_API_KEY        a key with every scope
    FAKEMAESTRO_TARGET_READONLY_KEY   optional: a key lacking some scopes (403 checks)
    FAKEMAESTRO_TARGET_ALLOW_WRITES   1: send writes to a target that is not a FakeMaestro
    FAKEMAESTRO_CONFORM_MAX_EXAMPLES  generated cases per operation and mode (default 5)
    FAKEMAESTRO_CONFORM_SEED          their seed (default 0)
    FAKEMAESTRO_CONFORM_OPERATIONS    optional: comma-separated operationIds the generated cases cover

One conformance run per target (session scope) feeds every test; the tests only read
its report, one per operation, chain and baseline entry, so a failure names its place.
"""
from __future__ import annotations

import os

import pytest

from fakemaestro.app import create_app
from fakemaestro.conform import Options, Target, run
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.testing import serve_in_thread

URL = os.environ.get("FAKEMAESTRO_TARGET_URL")
TARGETS = ("url",) if URL else ("asgi", "socket")
MAX_EXAMPLES = int(os.environ.get("FAKEMAESTRO_CONFORM_MAX_EXAMPLES", "5"))
SEED = int(os.environ.get("FAKEMAESTRO_CONFORM_SEED", "0"))
ONLY = frozenset(filter(None, os.environ.get("FAKEMAESTRO_CONFORM_OPERATIONS", "").split(","))) or None


def fake_keys(app) -> dict[str, str]:
    return {k.name: k.raw for k in app.state.fake.store.keys.values()}


def fake_target(name: str, app, **options) -> Target:
    """An in-process target on a FakeMaestro app, with the default scenario's keys."""
    keys = fake_keys(app)
    return Target(name, keys["bulk"], app=app, readonly_key=keys["read-only"], **options)


@pytest.fixture(scope="session", params=TARGETS)
def target(request):
    if request.param == "url":
        key = os.environ.get("FAKEMAESTRO_TARGET_API_KEY")
        if not key:
            pytest.fail("FAKEMAESTRO_TARGET_URL is set but FAKEMAESTRO_TARGET_API_KEY is not")
        chosen = Target("url", key, base_url=URL, readonly_key=os.environ.get("FAKEMAESTRO_TARGET_READONLY_KEY"))
        yield chosen
        chosen.close()
    elif request.param == "asgi":
        chosen = fake_target("asgi", create_app(default_scenario()))
        yield chosen
        chosen.close()
    else:
        with serve_in_thread(create_app(default_scenario())) as server:
            chosen = Target("socket", server.key("bulk"), base_url=server.base_url, readonly_key=server.key("read-only"))
            yield chosen
            chosen.close()


@pytest.fixture(scope="session")
def report(target):
    """The whole suite's run against `target`: every phase, bounded and seeded."""
    writes = True if os.environ.get("FAKEMAESTRO_TARGET_ALLOW_WRITES") == "1" else None
    return run(target, Options(max_examples=MAX_EXAMPLES, seed=SEED, writes=writes, operations=ONLY))


def explain(items) -> str:
    """Findings or differences, one paragraph each, for an assertion message."""
    paragraphs = []
    for item in items:
        head = f"[{getattr(item, 'check', getattr(item, 'where', ''))}] {getattr(item, 'title', '')}"
        paragraphs.append(f"{head} ({item.count}x), e.g. {item.exchange.line()}\n"
                          f"{getattr(item, 'message', '') or f'target {item.target} / fake {item.reference}'}\n"
                          f"answer: {item.exchange.response_body[:400]}")
    return "\n\n".join(paragraphs)
