"""schemathesis's own stateful testing through openapi.yaml's links, against the fake in
process: random sequences of linked calls (create -> read -> update -> delete ...),
every answer through the suite's checks, including schemathesis's stateful ones
(use_after_free, ensure_resource_availability)."""
from __future__ import annotations

import hypothesis
from hypothesis import HealthCheck, Phase

from fakemaestro.app import create_app
from fakemaestro.conform import Options, document
from fakemaestro.conform.runner import Runner
from fakemaestro.scenario.defaults import default_scenario

from .conftest import explain, fake_target


def test_linked_sequences_conform():
    target = fake_target("stateful", create_app(default_scenario()))
    runner = Runner(target, Options(), None)

    # test-webhook makes the fake POST to the webhook's URL: never at the seeded hosts
    schema = runner.schema.exclude(operation_id="testWebhook")

    linked = []  # (operation, status) of the calls on an id a link brought

    class Machine(schema.as_state_machine()):
        def call(self, case, **kwargs):
            authorized = runner.authorize(case)
            response = target.send(case, target.api_key if authorized else None)
            if case.path_parameters:
                linked.append((document.operation_id(case.operation), response.status_code))
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            runner.check("stateful", document.operation_id(case.operation), case, response, recorder=self.recorder)

    settings = hypothesis.settings(max_examples=25, stateful_step_count=6, deadline=None, database=None,
                                   derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    try:
        Machine.run(settings=settings)
    finally:
        target.close()
    reached = {op for op, status in linked if 200 <= status < 300}
    assert reached, linked  # links led to real resources, not only to made-up ids
    new = [f for f in runner.report.findings if f.phase == "stateful" and f.is_new]
    assert not new, explain(new)
