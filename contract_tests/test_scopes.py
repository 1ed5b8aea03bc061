"""A key lacking scopes is refused (403) exactly where a route needs one of them, with
the route's required scopes and exactly the missing ones in its details (§4)."""
from __future__ import annotations

import pytest

from fakemaestro.conform import document
from fakemaestro.http.scopes import BUNDLES

from .conftest import explain


def test_refusals_and_their_details(report, target):
    if not target.readonly_key:
        pytest.skip("no read-only key for this target")
    new = [f for f in report.new_findings if f.phase == "scopes"]
    assert not new, explain(new)
    if target.is_fake():  # the default scenario's read-only key holds the seven *:read scopes
        due = {spec["operationId"] for item in document.raw()["paths"].values() for spec in item.values()
               if isinstance(spec, dict) and not set(spec.get("x-required-scopes", ())) <= set(BUNDLES["read-only"])}
        assert set(report.refused) == due
        assert len(due) == 11  # the writes, less the memory routes that need only agents:read (§4.1)
