"""The baseline of production's known defects (fakemaestro/conform/baseline.yaml):
reviewed entries naming real sections, checks, operations and quirks; every defect
still shows (the fake reproduces them all, production should); a fixed defect is
reported stale; an expired entry covers nothing."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from schemathesis.checks import CHECKS, load_all_checks

from fakemaestro.app import create_app
from fakemaestro.conform import Options, document, run
from fakemaestro.conform import checks as our_checks
from fakemaestro.conform.baseline import Baseline, BaselineError
from fakemaestro.profile import QUIRKS
from fakemaestro.scenario.defaults import default_scenario

from .conftest import fake_target

BASELINE = Baseline.load()
CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "CONTRACT.md"
OPERATION_IDS = {spec["operationId"] for item in document.raw()["paths"].values()
                 for spec in item.values() if isinstance(spec, dict) and "operationId" in spec}


@pytest.mark.parametrize("entry", BASELINE.entries, ids=lambda e: e.id)
def test_entry_still_shows(report, target, entry):
    status = next(s for s in report.baseline if s.entry == entry.id)
    if status.state == "not-probed" and not target.is_fake():
        pytest.skip(status.detail)
    assert status.state == "reproduced", f"{status.state}: {status.detail}"


@pytest.mark.parametrize("entry", BASELINE.entries, ids=lambda e: e.id)
def test_entry_names_real_things(entry):
    load_all_checks()
    checks = set(CHECKS.get_all_names()) | {"scope_enforcement", "differential"}
    assert entry.check in checks, f"unknown check {entry.check}"
    assert entry.operations == ("*",) or set(entry.operations) <= OPERATION_IDS, entry.operations
    for probe in entry.probes:
        assert {step["operation"] for step in probe} <= OPERATION_IDS
    assert entry.quirk is None or entry.quirk in QUIRKS, entry.quirk
    assert entry.reviewed <= entry.expires
    if CONTRACT.exists() and entry.contract.startswith("§"):
        heading = re.compile(rf"^#+ {re.escape(entry.contract[1:])}\.? ", re.M)
        assert heading.search(CONTRACT.read_text(encoding="utf-8")), f"no section {entry.contract} in CONTRACT.md"


def test_every_entry_covers_what_its_probe_shows(report, target):
    """Each probe's answer is matched by its own entry, not a neighbour's (entry order)."""
    if not target.is_fake():
        pytest.skip("the probes' answers come from the fake")
    for status in report.baseline:
        assert status.seen >= 1, f"{status.entry} covered no finding"


def test_quirk_entries_go_stale_when_the_fake_is_fixed():
    """The same probes against a fake with each defect switched off: every entry with a
    quirk is reported stale (and the run fails), the others still show."""
    quirked = {e.quirk for e in BASELINE.entries if e.quirk}
    target = fake_target("fixed", create_app(default_scenario(), quirks={q: False for q in quirked}))
    try:
        report = run(target, Options(phases=("baseline",)))
    finally:
        target.close()
    states = {s.entry: s.state for s in report.baseline}
    assert {e.id for e in BASELINE.entries if states[e.id] == "stale"} == {e.id for e in BASELINE.entries if e.quirk}
    assert {e.id for e in BASELINE.entries if states[e.id] == "reproduced"} == \
        {e.id for e in BASELINE.entries if not e.quirk}
    assert not report.ok
    assert any(line.startswith("stale baseline entry non-uuid-path-id") for line in report.problems())


def test_an_expired_entry_covers_nothing():
    entry = BASELINE.by_id("non-uuid-path-id")
    target = fake_target("expired", create_app(default_scenario()))
    try:
        report = run(target, Options(phases=("coverage", "baseline"), operations=frozenset({"getWorkflow"}),
                                     today=entry.expires + timedelta(days=1)))
    finally:
        target.close()
    expired = [f for f in report.new_findings if f.baseline == entry.id]
    assert expired and all(f.expired for f in expired)
    assert {s.state for s in report.baseline} == {"expired"}


@pytest.mark.parametrize(("text", "message"), [
    ("entries: []", "version: 1"),
    ("version: 1\nentries:\n- {id: x}", "missing summary, contract, check, operations, reviewed, expires"),
    ("version: 1\nentries:\n- {id: x, summary: s, contract: '1.7', check: c, operations: '*', reviewed: 2026-01-01,"
     " expires: 2026-02-01}", "not a CONTRACT.md section"),
    ("version: 1\nentries:\n- {id: x, summary: s, contract: '§1.7', check: c, operations: '*', reviewed: 2026-01-01,"
     " expires: 2026-02-01, sevrity: high}", "unknown keys sevrity; valid keys: id, summary"),
    ("version: 1\nentries:\n- {id: x, summary: s, contract: '§1.7', check: c, operations: '*', reviewed: 2026-01-01,"
     " expires: 2026-02-01, probes: [[{operation: getWorkflow}]]}", "exactly one step with `expect: true`"),
    ("version: 1\nentries:\n- {id: x, summary: s, contract: '§1.7', check: c, operations: '*', reviewed: 2026-01-01,"
     " expires: 2026-02-01, probes: [[{operation: getWorkflow, path: {id: '{known.wf}'}, expect: true}]]}",
     "unknown id {known.wf}"),
])
def test_a_bad_baseline_is_refused_helpfully(text, message):
    with pytest.raises(BaselineError, match=re.escape(message)):
        Baseline.parse(text)


def test_our_checks_are_registered_with_schemathesis():
    load_all_checks()
    assert {c.__name__ for c in our_checks.CHECKS} <= set(CHECKS.get_all_names())
