"""The stateful walks through openapi.yaml's links (webhook create -> get -> patch ->
deliveries -> delete -> get 404; agent -> thread -> message -> messages -> delete;
workflow -> execute -> execution -> cancel; trigger -> execute -> execution) get
through, and every answer on the way conforms."""
from __future__ import annotations

import pytest

from fakemaestro.conform.chains import CHAINS

from .conftest import explain

ENDINGS = {
    "webhook": [("deleteWebhook", 200), ("getWebhook", 404)],
    "agent": [("sendThreadMessage", 200), ("listThreadMessages", 200), ("deleteThread", 200)],
    "workflow": [("executeWorkflow", 202), ("getExecution", 200), ("cancelExecution", 200)],
    "trigger": [("executeTrigger", 202), ("getExecution", 200)],
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_chain_gets_through(report, target, name):
    result = next(c for c in report.chains if c.name == name)
    if result.skipped and not target.is_fake():
        pytest.skip(result.skipped)
    assert result.completed, f"{result.failure or result.skipped}: {result.steps}"
    walked = [(s.operation, s.status) for s in result.steps]
    assert walked[-len(ENDINGS[name]):] == ENDINGS[name], walked


def test_chain_answers_conform(report):
    new = [f for f in report.new_findings if f.phase == "chains"]
    assert not new, explain(new)
