"""pytest plugin (entry point `pytest11`, name `fakemaestro`): FakeMaestro for the
tests of code that calls FlowMaestro.

Fixtures
    fakemaestro          a real server on a free 127.0.0.1 port, one per session
                         (FakeMaestro handle: base_url, keys, key(name), journal, verify,
                         clock, load, extend, apply, reset)
    fakemaestro_app      the fake in this process, an ASGI app for httpx.ASGITransport,
                         with the same handle methods (base_url is None)
    fakemaestro_scenario the session's scenario: None (the embedded default); override it
                         in a conftest.py to return a path, a dict or a Scenario

Marker
    @pytest.mark.fakemaestro(scenario=..., profile=..., faults=[...], seed=..., quirks={...})
    The test runs on that scenario (a path, relative to the test file or the rootdir,
    or a dict), with that profile, seed and quirks, and these fault rules (dicts,
    FaultSchedules or Faults) after the scenario's own; the session's comes back after.

Every test that uses a fake starts from its scenario with fresh data, journal, rate
windows and fault counters and the clock as the scenario sets it, so tests never see
each other's state. A failing test's report has a section with the journal of what
it sent the fake.

Nothing happens (no import of the app, no server) in a session whose tests use
neither fixture.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

MARKER_OPTIONS = ("scenario", "profile", "faults", "seed", "quirks")
FIXTURES = ("fakemaestro", "fakemaestro_app")
_USED = pytest.StashKey[list]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fakemaestro(scenario=None, profile=None, faults=None, seed=None, quirks=None): run this test "
                   "on that FakeMaestro scenario, profile, seed, quirks and extra fault rules")


@pytest.fixture(scope="session")
def fakemaestro_scenario():
    """The scenario every test starts from (None: the embedded default). Override
    it in a conftest.py to return a path, a dict of scenario data or a Scenario."""
    return None


def _session_scenario(value):
    from .kit.handle import to_scenario
    from .scenario.defaults import default_scenario
    return default_scenario() if value is None else to_scenario(value)


@pytest.fixture(scope="session")
def fakemaestro(fakemaestro_scenario):
    """The fake served on a free 127.0.0.1 port for the whole session; each test
    starts it afresh (see the module docstring)."""
    from .app import create_app
    from .kit.handle import FakeMaestro
    from .testing import serve_in_thread
    app = create_app(_session_scenario(fakemaestro_scenario))
    with serve_in_thread(app) as running:
        fake = FakeMaestro(app, running.base_url)
        try:
            yield fake
        finally:
            fake.close()


@pytest.fixture(scope="session")
def fakemaestro_app(fakemaestro_scenario):
    """The fake in this process: an ASGI app (for httpx.ASGITransport) with the
    FakeMaestro handle's methods; each test starts it afresh."""
    from .app import create_app
    from .kit.handle import InProcessFake
    return InProcessFake(create_app(_session_scenario(fakemaestro_scenario)))


@pytest.fixture(autouse=True)
def _fakemaestro_isolation(request: pytest.FixtureRequest):
    """Starts every fake the test uses from the test's scenario, and puts the
    session's back afterwards. (Autouse, so that the fakes can stay session-scoped,
    which hypothesis's @given tests need; it does nothing for other tests.)"""
    used = [name for name in FIXTURES if name in request.fixturenames]
    marker = request.node.get_closest_marker("fakemaestro")
    if not used:
        if marker is not None:
            pytest.fail("@pytest.mark.fakemaestro needs the fakemaestro or fakemaestro_app fixture", pytrace=False)
        yield
        return
    fakes = [(name, request.getfixturevalue(name)) for name in used]
    scenario = _marked_scenario(marker, request, fakes[0][1]) if marker is not None else None
    request.node.stash[_USED] = fakes
    for _, fake in fakes:
        fake.begin_test(scenario)
    try:
        with _hypothesis_prints_examples():
            yield
    finally:
        for _, fake in fakes:
            fake.end_test()


@contextmanager
def _hypothesis_prints_examples():
    """Hypothesis's own printer for the falsifying example. schemathesis's pytest
    plugin, when installed, swaps hypothesis.core's printer for one that prints
    nothing (a speed-up for its own runs), which blanks every counterexample of the
    session; a test that uses the fake gets the real one back while it runs."""
    core = sys.modules.get("hypothesis.core")
    if core is None:
        yield
        return
    from hypothesis.vendor.pretty import RepresentationPrinter
    swapped = getattr(core, "RepresentationPrinter", RepresentationPrinter)
    core.RepresentationPrinter = RepresentationPrinter
    try:
        yield
    finally:
        core.RepresentationPrinter = swapped


def _marked_scenario(marker: pytest.Mark, request: pytest.FixtureRequest, fake):
    from .kit.handle import to_scenario, with_overrides
    from .scenario import ScenarioError
    if marker.args:
        pytest.fail(f"@pytest.mark.fakemaestro takes keyword options only ({', '.join(MARKER_OPTIONS)}); "
                    f"got positional {marker.args!r}", pytrace=False)
    unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
    if unknown:
        pytest.fail(f"@pytest.mark.fakemaestro: unknown option(s) {', '.join(unknown)}; "
                    f"valid: {', '.join(MARKER_OPTIONS)}", pytrace=False)
    options = dict(marker.kwargs)
    given = options.pop("scenario", None)
    try:
        base = fake._session_scenario if given is None else to_scenario(_resolve(given, request))
        return with_overrides(base, **options)
    except ScenarioError as exc:
        pytest.fail(f"@pytest.mark.fakemaestro: the scenario would not load:\n{exc}", pytrace=False)


def _resolve(value, request: pytest.FixtureRequest):
    """A relative path: next to the test file, else from the rootdir."""
    if not isinstance(value, (str, Path)) or Path(value).is_absolute():
        return value
    for base in (request.path.parent, request.config.rootpath):
        candidate = base / value
        if candidate.exists():
            return candidate
    return Path(value)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    if report.failed and report.when == "call":
        for name, fake in item.stash.get(_USED, []):
            report.sections.append((f"fakemaestro journal ({name})", fake.journal_text()))
    return report
