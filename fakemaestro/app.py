"""create_app(scenario) -> the Starlette application serving FakeMaestro.

The production API runs through the pure-ASGI Pipeline (http/pipeline.py); the
admin API under /_fakemaestro/ is ordinary Starlette routing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources as pkg_resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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


def _admin_routes(state: AppState) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "scenario": state.scenario.source})

    async def openapi(request: Request) -> Response:
        return Response(openapi_text(), media_type="application/yaml")

    return [Route("/_fakemaestro/health", health), Route("/_fakemaestro/openapi.yaml", openapi)]


def create_app(scenario: Scenario | None = None, clock: Clock | None = None,
               settings: Settings | None = None) -> Starlette:
    scenario = scenario or default_scenario()
    clock = clock or Clock(scenario.frozen_at_ms())
    state = AppState(scenario, clock, settings or Settings())
    app = Starlette(routes=_admin_routes(state), middleware=[Middleware(Pipeline, state=state)])
    app.state.fake = state
    return app
