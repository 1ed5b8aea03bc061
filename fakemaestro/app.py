"""create_app(scenario) -> the Starlette application serving FakeMaestro.

The production API runs through the pure-ASGI Pipeline (http/pipeline.py); the
admin API under /_fakemaestro/ is ordinary Starlette routing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources as pkg_resources

from starlette.applications import Starlette
from starlette.middleware import Middleware

from .admin import EXCEPTION_HANDLERS as ADMIN_EXCEPTION_HANDLERS
from .admin import AdminAuth, admin_routes
from .clock import Clock
from .faults import FaultEngine
from .journal import Journal
from .http.pipeline import Pipeline
from .http.ratelimit import RateLimiter
from .http.routing import Router
from .resources import operations
from .scenario import Scenario, build_store
from .scenario.defaults import default_scenario


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

    def __post_init__(self) -> None:
        self.store = build_store(self.scenario)
        self.faults = FaultEngine(self.scenario.data.get("faults"), self.scenario.seed)

    def reset(self) -> None:
        """Rebuild everything from the loaded scenario: data, rate windows, fault
        counters and the journal."""
        self.load(self.scenario)

    def load(self, scenario: Scenario) -> None:
        """Switch to another (already validated) scenario; all or nothing."""
        store = build_store(scenario)
        faults = FaultEngine(scenario.data.get("faults"), scenario.seed)
        self.scenario, self.store, self.faults = scenario, store, faults
        self.limiter.reset()
        self.journal.clear()


def openapi_text() -> str:
    return pkg_resources.files("fakemaestro").joinpath("openapi.yaml").read_text(encoding="utf-8")


def create_app(scenario: Scenario | None = None, clock: Clock | None = None,
               settings: Settings | None = None, admin_token: str | None = None) -> Starlette:
    """The fake; with `admin_token`, the admin API (all but its health) needs that token."""
    if admin_token is not None and not admin_token:
        raise ValueError("admin_token must not be empty (give None for no token)")
    scenario = scenario or default_scenario()
    clock = clock or Clock(scenario.frozen_at_ms())
    state = AppState(scenario, clock, settings or Settings())
    app = Starlette(routes=admin_routes(state),
                    middleware=[Middleware(Pipeline, state=state), Middleware(AdminAuth, token=admin_token)],
                    exception_handlers=ADMIN_EXCEPTION_HANDLERS)
    app.state.fake = state
    return app
