"""FakeMaestro as a test sees it: the fake's address, its keys, and the admin API
(journal, verify, clock, scenario load/extend, fault schedules), plus the per-test
isolation the pytest plugin drives.

Scenario changes work on the app's state directly, with the same checks and the
same all-or-nothing load as the admin API (`PUT/POST /_fakemaestro/scenario`):
re-reading a large scenario over HTTP costs a YAML parse per hypothesis example.
Clock moves on a served fake go through `POST /_fakemaestro/clock`, so whatever
the move makes due (runs, webhook sends) is finished on the server's own event loop
when the call returns.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import islice
from os import PathLike
from pathlib import Path
from typing import Any

from ..clock import iso, parse_instant
from ..scenario import Scenario, ScenarioError, load_scenario_file
from ..scenario.loader import check
from .schedule import as_rules

JOURNAL_SHOWN = 60  # newest entries a failure report shows


def to_scenario(value: Any, source: str = "<dict>") -> Scenario:
    """A checked Scenario from a path, a dict of scenario data or a Scenario.
    Raises ScenarioError (every problem, positioned) when it would not load."""
    if isinstance(value, Scenario):
        return value
    if isinstance(value, (str, PathLike)):
        return load_scenario_file(Path(value))
    if isinstance(value, dict):
        return check(Scenario(value, source))
    raise TypeError(f"a scenario is a path, a dict or a Scenario; got {type(value).__name__}")


def with_overrides(scenario: Scenario, *, profile: str | None = None, seed: int | None = None,
                   quirks: dict | None = None, faults=None) -> Scenario:
    """The scenario with another profile, seed or quirks, and more fault rules after
    its own; checked as a whole."""
    rules = as_rules(faults)
    if profile is None and seed is None and not quirks and not rules:
        return scenario
    data = dict(scenario.data)
    if profile is not None:
        data["profile"] = profile
    if seed is not None:
        data["seed"] = seed
    if quirks:
        data["quirks"] = {**(data.get("quirks") or {}), **quirks}
    if rules:
        data["faults"] = list(data.get("faults") or []) + rules
    return check(Scenario(data, scenario.source))


@dataclass(frozen=True)
class _ClockMark:
    """A clock reading to come back to: frozen at `ms`, or running `ms` ahead of real time."""
    frozen: bool
    ms: int

    @classmethod
    def of(cls, clock) -> "_ClockMark":
        if clock.frozen:
            return cls(True, clock.now_ms())
        return cls(False, clock.now_ms() - int(time.time() * 1000))

    def restore(self, clock) -> None:
        if self.frozen:
            clock.freeze(self.ms)
        else:
            clock.unfreeze()
            clock.set(int(time.time() * 1000) + self.ms)


def _apply_clock_section(scenario: Scenario, clock) -> None:
    """What a scenario's `clock` section asks (as the admin API does on load)."""
    frozen_at, start_at = scenario.frozen_at_ms(), scenario.start_at_ms()
    if frozen_at is not None:
        clock.freeze(frozen_at)
    elif start_at is not None:
        clock.unfreeze()
        clock.set(start_at)


class FakeClock:
    """The fake's one clock. On a served fake every move goes through the admin API,
    which also settles what the move made due."""

    def __init__(self, fake: "FakeMaestro") -> None:
        self._fake = fake

    @property
    def _clock(self):
        return self._fake.state.clock

    @property
    def now_ms(self) -> int:
        return self._clock.now_ms()

    @property
    def now(self) -> str:
        return iso(self.now_ms)

    @property
    def frozen(self) -> bool:
        return self._clock.frozen

    def freeze(self, at: str | int | None = None) -> None:
        """Stop the clock, at `at` (ISO-8601 or epoch ms) or where it is."""
        self._move({"freeze": True, **({"set": parse_instant(at)} if at is not None else {})})

    def unfreeze(self) -> None:
        self._move({"freeze": False})

    def set(self, at: str | int) -> None:
        self._move({"set": parse_instant(at)})

    def advance(self, ms: int) -> None:
        if ms:
            self._move({"advance_ms": int(ms)})

    def virtual(self) -> "VirtualTime":
        """A stand-in for the `time` module in client code: its sleeps move this
        clock instead of waiting, and it reads the time from it (see VirtualTime)."""
        return VirtualTime(self)

    def _move(self, body: dict) -> None:
        if self._fake.base_url is None:  # in-process: apply here, settle at once
            clock = self._clock
            if body.get("freeze") is True:
                clock.freeze()
            if "set" in body:
                clock.set(body["set"])
            if body.get("advance_ms"):
                clock.advance(body["advance_ms"])
            if body.get("freeze") is False:
                clock.unfreeze()
            self._fake.state.world.settle()
            return
        self._fake._admin("POST", "/_fakemaestro/clock", body)


class VirtualTime:
    """Client code's clock on the fake's: `sleep(s)` advances the fake's clock by s
    (and returns at once), `time()`/`monotonic()`/`perf_counter()` read it in seconds;
    everything else is the real `time` module. Patch it where the client looks time
    up, e.g. `monkeypatch.setattr(my_client_module, "time", fm.clock.virtual())`.
    `slept` lists every sleep asked for, in seconds."""

    def __init__(self, clock: FakeClock) -> None:
        self._fake_clock = clock
        self.slept: list[float] = []

    def time(self) -> float:
        return self._fake_clock.now_ms / 1000

    monotonic = perf_counter = time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._fake_clock.advance(round(seconds * 1000))

    def __getattr__(self, name: str):
        return getattr(time, name)


class FakeMaestro:
    """One fake: `base_url` (None in-process), `keys`, the admin API, isolation.

    Every test starts from its scenario (the session's, or the `fakemaestro` marker's)
    with fresh data, journal, rate windows and fault counters and the clock as the
    scenario sets it. `apply(schedule)` goes back to that start and adds the schedule's
    fault rules: call it at the top of every hypothesis example."""

    def __init__(self, app, base_url: str | None = None) -> None:
        self.app, self.base_url = app, base_url
        self.clock = FakeClock(self)
        self._session_scenario = self.state.scenario
        self._session_clock = _ClockMark.of(self.state.clock)
        self._start_scenario = self._session_scenario  # where apply() goes back to
        self._start_clock = self._session_clock
        self._http = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url or 'in-process'}: {self.state.scenario.source}>"

    # ------------------------------------------------------------ what a client needs
    @property
    def state(self):
        """The app's AppState (store, clock, journal, faults...)."""
        return self.app.state.fake

    @property
    def keys(self) -> dict[str, str]:
        """Raw API keys by name."""
        return {k.name: k.raw for k in self.state.store.keys.values()}

    def key(self, name: str) -> str:
        key = self.state.store.key_by_name(name)
        if key is None:
            raise KeyError(f"no API key named {name!r}; keys: {', '.join(sorted(self.keys))}")
        return key.raw

    # ------------------------------------------------------------ scenario and faults
    def reset(self) -> None:
        """Rebuild data, rate windows, fault counters and journal from the loaded
        scenario (POST /_fakemaestro/reset); the clock stays where it is."""
        self.state.reset()

    def load(self, scenario) -> None:
        """Replace the scenario (a path, a dict or a Scenario), as PUT
        /_fakemaestro/scenario does: checked first, nothing changes when it is
        invalid (ScenarioError); its `clock` section sets the clock. It becomes
        what `apply` goes back to for the rest of the test."""
        self._start(to_scenario(scenario))

    def extend(self, overlay) -> None:
        """Lay `overlay` over the current scenario (POST /_fakemaestro/scenario):
        records and fault rules with a known name or id are replaced, others added."""
        self._start(self.state.scenario.extended(to_scenario(overlay, "<overlay>")))

    def apply(self, schedule) -> None:
        """Back to this test's start (data, journal, rate windows, fault counters,
        clock), then add the schedule's fault rules after the scenario's own. Takes a
        FaultSchedule, a Fault, a fault rule dict, or a list of them; None adds nothing."""
        self._switch(with_overrides(self._start_scenario, faults=schedule))
        self._start_clock.restore(self.state.clock)

    def faults(self) -> list[dict]:
        """Summaries of the loaded fault rules (GET /_fakemaestro/faults)."""
        return [r.summary() for r in self.state.faults.rules]

    # ------------------------------------------------------------ journal
    # A served fake journals an exchange once its answer is sent, so these ask the
    # admin API: the server reads its journal after the exchanges the client saw end.
    def journal(self, **filters) -> list[dict]:
        """Journal entries (GET /_fakemaestro/journal), oldest first; filters method,
        path (glob), operation, key, status, fault, since, until."""
        if self.base_url is not None:
            return self._admin("GET", "/_fakemaestro/journal", params=filters)["entries"]
        return [e.as_dict() for e in self.state.journal.select(filters)]

    def verify(self, count: int | None = None, **filters) -> int:
        """How many requests match the filters (POST /_fakemaestro/verify). With
        `count`, an AssertionError that lists the journal unless exactly that many do."""
        if self.base_url is not None:
            found = self._admin("POST", "/_fakemaestro/verify", filters)["count"]
        else:
            found = len(self.state.journal.select(filters))
        if count is not None and found != count:
            raise AssertionError(f"expected {count} request(s) matching {filters}, found {found}\n"
                                 + self.journal_text())
        return found

    def journal_text(self, limit: int = JOURNAL_SHOWN) -> str:
        """The journal as lines a person reads (what a failure report shows)."""
        entries = self.state.journal.entries
        if not entries:
            return "no requests reached the fake"
        shown = list(islice(entries, max(0, len(entries) - limit), None))
        head = f"{len(entries)} request(s)" + (f", the newest {len(shown)}:" if len(shown) < len(entries) else ":")
        return "\n".join([head] + [_line(e) for e in shown])

    # ------------------------------------------------------------ isolation (the plugin)
    def begin_test(self, scenario: Scenario | None = None) -> None:
        """Start a test from `scenario` (default: the session's) as if the session
        had just begun."""
        self._session_clock.restore(self.state.clock)
        self._start(scenario or self._session_scenario)

    def end_test(self) -> None:
        self._start_scenario, self._start_clock = self._session_scenario, self._session_clock
        if self.state.scenario is not self._session_scenario:
            self.state.load(self._session_scenario)
        self._session_clock.restore(self.state.clock)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _start(self, scenario: Scenario) -> None:
        self._switch(scenario)
        _apply_clock_section(scenario, self.state.clock)
        self._start_scenario, self._start_clock = scenario, _ClockMark.of(self.state.clock)

    def _switch(self, scenario: Scenario) -> None:
        if scenario is self.state.scenario:
            self.state.reset()
        else:
            self.state.load(scenario)

    def _admin(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
        import httpx
        if self._http is None:
            self._http = httpx.Client(base_url=self.base_url, timeout=30)
        response = self._http.request(method, path, json=body, params=params)
        if response.status_code >= 400:
            error = response.json().get("admin_error", {})
            raise ValueError(f"{method} {path}: {error.get('message', response.text)}")
        return response.json()


class InProcessFake(FakeMaestro):
    """The fake as an ASGI app in this process (for httpx.ASGITransport): call it
    like the app; the rest is FakeMaestro's. Clock moves settle the simulations at
    once; webhook sends they make due go out with the next request."""

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def _line(e) -> str:
    target = e.path + (f"?{e.query}" if e.query else "")
    status = "dropped" if e.status is None else e.status
    extras = [e.operation or "-", f"key={e.key}" if e.key else "no key"]
    if e.fault:
        extras.append(f"fault={e.fault}")
    if e.latency_ms:
        extras.append(f"+{e.latency_ms:g}ms")
    return f"  #{e.seq} {e.time} {e.method} {target} -> {status}  ({', '.join(extras)})"


__all__ = ["FakeClock", "FakeMaestro", "InProcessFake", "ScenarioError", "VirtualTime", "to_scenario",
           "with_overrides"]
