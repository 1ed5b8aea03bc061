"""create_app(scenario) -> the Starlette application serving FakeMaestro.

The production API runs through the pure-ASGI Pipeline (http/pipeline.py); the
admin API under /_fakemaestro/ is ordinary Starlette routing.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources as pkg_resources
from typing import Mapping

from starlette.applications import Starlette
from starlette.middleware import Middleware

from .admin import EXCEPTION_HANDLERS as ADMIN_EXCEPTION_HANDLERS
from .admin import AdminAuth, admin_routes
from .clock import Clock
from .faults import FaultEngine
from .journal import Journal
from .profile import Fidelity
from .http.pipeline import Pipeline
from .http.ratelimit import RateLimiter
from .http.routing import Router
from .resources import operations
from .scenario import Scenario, build_store
from .scenario.defaults import default_scenario
from .sim import install_simulations
from .sim.world import World, tick


@dataclass
class Settings:
    sse_keepalive_ms: int = 30_000  # production's heartbeat interval (§7.2)


@dataclass
class AppState:
    scenario: Scenario
    clock: Clock
    settings: Settings = field(default_factory=Settings)
    router: Router = field(default_factory=lambda: Router(operations()))
    limiter: RateLimiter = field(default_factory=RateLimiter)

    journal: Journal = field(default_factory=Journal)
    # --profile / --quirk given when the app was made: they win over every loaded scenario
    profile_override: str | None = None
    quirk_overrides: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fidelity = self._fidelity(self.scenario)
        self.store = build_store(self.scenario)
        self.faults = FaultEngine(self.scenario.data.get("faults"), self.scenario.seed)
        self.world = self._world()

    def _fidelity(self, scenario: Scenario) -> Fidelity:
        profile = self.profile_override or scenario.data.get("profile") or "production"
        return Fidelity(profile, {**(scenario.data.get("quirks") or {}), **self.quirk_overrides})

    def _world(self) -> World:
        world = World(self.clock)
        install_simulations(self, world)
        return world

    def reset(self) -> None:
        """Rebuild everything from the loaded scenario: data, rate windows, fault
        counters and the journal."""
        self.load(self.scenario)

    def load(self, scenario: Scenario) -> None:
        """Switch to another (already validated) scenario; all or nothing."""
        fidelity = self._fidelity(scenario)
        store = build_store(scenario)
        faults = FaultEngine(scenario.data.get("faults"), scenario.seed)
        self.scenario, self.store, self.faults, self.fidelity = scenario, store, faults, fidelity
        self.world.clear()  # simulations of the old data stop here
        self.world = self._world()
        self.limiter.reset()
        self.journal.clear()


def openapi_text() -> str:
    return pkg_resources.files("fakemaestro").joinpath("openapi.yaml").read_text(encoding="utf-8")


def scenario_clock(scenario: Scenario) -> Clock:
    """The clock a scenario's `clock` section asks for: frozen at `frozen_at`; running
    from `start_at` (the fake's now is start_at when the app is made, then ticks in real
    time); real time without either. (frozen_at wins if both are given, as when a
    scenario is loaded through the admin API.)"""
    frozen_at = scenario.frozen_at_ms()
    if frozen_at is not None:
        return Clock(frozen_at)
    clock = Clock()
    start_at = scenario.start_at_ms()
    if start_at is not None:
        clock.set(start_at)
    return clock


def _lifespan(state: AppState):
    @asynccontextmanager
    async def lifespan(app):
        # A served app moves its simulations with the clock even when no request comes.
        # (state.world is replaced on reset and load: the ticker asks for the current one)
        ticker = asyncio.create_task(tick(lambda: state.world))
        try:
            yield
        finally:
            ticker.cancel()
    return lifespan


class FakeMaestroApp(Starlette):
    """A Starlette application (the admin API, lifespan, `app.state`) whose every request
    enters through the Pipeline: production's API requests never pass Starlette's
    middleware stack, whose cost per request the benchmark shows (bench/)."""

    def __init__(self, state: AppState, **kwargs) -> None:
        super().__init__(**kwargs)
        self._pipeline = Pipeline(super().__call__, state)

    async def __call__(self, scope, receive, send) -> None:
        await self._pipeline(scope, receive, send)


def create_app(scenario: Scenario | None = None, clock: Clock | None = None,
               settings: Settings | None = None, admin_token: str | None = None,
               profile: str | None = None, quirks: Mapping[str, bool] | None = None) -> Starlette:
    """The fake; with `admin_token`, the admin API (all but its health) needs that token.
    Without `clock`, the scenario's `clock` section sets it (see scenario_clock)."""
    if admin_token is not None and not admin_token:
        raise ValueError("admin_token must not be empty (give None for no token)")
    scenario = scenario or default_scenario()
    clock = clock or scenario_clock(scenario)
    state = AppState(scenario, clock, settings or Settings(), profile_override=profile,
                     quirk_overrides=dict(quirks or {}))
    app = FakeMaestroApp(state, routes=admin_routes(state), lifespan=_lifespan(state),
                         middleware=[Middleware(AdminAuth, token=admin_token)],
                         exception_handlers=ADMIN_EXCEPTION_HANDLERS)
    app.state.fake = state
    return app
