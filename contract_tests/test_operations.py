"""Every operation of openapi.yaml, fuzzed (coverage cases, positive and negative
generated cases, cases on the target's real ids), answers as the document and
CONTRACT.md say: no check fails outside the reviewed baseline of production defects."""
from __future__ import annotations

import pytest

from fakemaestro.conform import document

from .conftest import ONLY, explain

OPERATIONS = [spec["operationId"] for item in document.raw()["paths"].values()
              for spec in item.values() if isinstance(spec, dict) and "operationId" in spec]


def test_the_run_completed(report):
    assert report.aborted is None
    assert not [note for note in report.notes if "could not" in note], report.notes


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_conforms(report, target, operation):
    if ONLY and operation not in ONLY:
        pytest.skip("not in FAKEMAESTRO_CONFORM_OPERATIONS")
    phases = report.per_operation.get(operation, {})
    if not phases:
        assert not target.is_fake(), f"{operation} was never called"
        pytest.skip(f"{operation} writes; writes are not allowed on {target.describe()}")
    if target.is_fake():  # every generated phase reached it
        assert {"coverage", "fuzz"} <= set(phases), phases
    new = [f for f in report.new_findings if f.operation == operation]
    assert not new, explain(new)


def test_all_checks_ran(report, target):
    """Known defects prove schemathesis's checks ran; the suite's own checks ran on every answer
    (a deliberately broken fake makes each of them fail: test_drift.py)."""
    if not target.is_fake():
        pytest.skip("the fake's defects are what this counts")
    tripped = {f.check for f in report.known_findings}
    assert {"not_a_server_error", "unsupported_method", "pagination_arithmetic"} <= tripped, tripped
