"""Shared fixtures: apps built from scenarios, wrapped so every response is checked
against openapi.yaml; in-process clients; real servers on 127.0.0.1."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fakemaestro import messages
from fakemaestro.app import create_app
from fakemaestro.clock import Clock
from fakemaestro.scenario import load_scenario_file
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.testing import serve_in_thread

from . import spec
from .recordings import SCENARIO as RECORDINGS_SCENARIO


def make_app(scenario=None, clock: Clock | None = None, **kwargs):
    """A FakeMaestro app (default scenario unless given) wrapped in the spec checker."""
    return spec.SpecCheckingApp(create_app(scenario or default_scenario(), clock=clock, **kwargs))


def keys_of(app) -> dict[str, str]:
    return {k.name: k.raw for k in app.state.fake.store.keys.values()}


@pytest.fixture(autouse=True)
def _responses_match_the_spec(request):
    start = len(spec.VIOLATIONS)
    yield
    new = spec.VIOLATIONS[start:]
    del spec.VIOLATIONS[start:]
    # openapi.yaml is production's contract; an intended behaviour may answer outside it
    if request.node.get_closest_marker("beyond_contract"):
        return
    assert not new, "responses that contradict openapi.yaml:\n" + "\n".join(new)


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def keys(app) -> dict[str, str]:
    return keys_of(app)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def c(client):
    """`client` under the short name the resource tests use, with `h` their headers."""
    return client


@pytest.fixture
def h(keys) -> dict[str, dict[str, str]]:
    """{key name: {"X-API-Key": raw key}} for the app's keys."""
    return {name: {"X-API-Key": raw} for name, raw in keys.items()}


def assert_error(response, status: int, code: str, message: str | None = None, details=None) -> dict:
    """The answer is production's error envelope with this status and code; with `message`,
    `error` is exactly {code, message[, details]}. Returns `error`."""
    assert response.status_code == status, response.text
    err = response.json()["error"]
    assert err["code"] == code
    if message is not None:
        expected = {"code": code, "message": message}
        if details is not None:
            expected["details"] = details
        assert err == expected
    return err


def assert_not_found(response, resource: str, id_: str) -> None:
    assert_error(response, 404, "resource_not_found", messages.NOT_FOUND.format(resource=resource, id=id_),
                 {"resource": resource, "id": id_})


@pytest.fixture
def recordings_app():
    """The production-recordings state with a clock frozen at the recording day."""
    clock = Clock(frozen_at_ms=1795872774000)  # 2026-11-28T13:32:54Z, when the recordings were made
    return make_app(load_scenario_file(RECORDINGS_SCENARIO), clock=clock)


@pytest.fixture
def recordings_client(recordings_app):
    with TestClient(recordings_app, base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def server():
    """A real hypercorn server on 127.0.0.1 with the default scenario (shared by a module)."""
    with serve_in_thread(make_app()) as running:
        yield running
