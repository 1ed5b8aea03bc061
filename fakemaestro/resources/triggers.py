"""Triggers (CONTRACT.md §5.5)."""
from __future__ import annotations

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import caught
from ..http.js import or_default, prop
from ..http.jsjson import js_value
from ..http.routing import Operation
from ..sim import lifecycle
from ..store.models import Trigger
from .common import API, Call, Reply, ok, page
from .executions import parsed_inputs, refuse_string_inputs
from .workflows import definition_format_ok


def render(t: Trigger) -> dict:
    return {"id": t.id, "workflow_id": t.workflow_id, "name": t.name, "trigger_type": t.trigger_type,
            "enabled": t.enabled, "last_triggered_at": iso(t.last_triggered_at), "trigger_count": t.trigger_count,
            "created_at": iso(t.created_at), "updated_at": iso(t.updated_at)}


async def list_triggers(call: Call) -> Reply:
    page_, per_page, offset = call.pagination()
    found = call.store.workspace_triggers(call.key.workspace_id)
    return page(call, [render(t) for t in found[offset:offset + per_page]], page_, per_page, len(found))


async def execute_trigger(call: Call) -> Reply:
    with caught("execution_failed", messages.TRIGGER_EXECUTION_FAILED):
        trigger = call.store.triggers.get(call.uuid())
        if trigger is None or trigger.deleted_at is not None:
            raise errors.not_found("Trigger", call.params["id"])
        workflow = call.store.workflow_in_workspace(trigger.workflow_id, call.key.workspace_id)
        if workflow is None:
            raise errors.not_found("Trigger", call.params["id"])
        if not trigger.enabled:
            raise errors.validation(messages.TRIGGER_NOT_ENABLED)
        inputs = js_value(or_default(prop(call.body, "inputs"), {}))
        if not call.state.fidelity.on("execute_orphan_pending") and not definition_format_ok(workflow.definition):
            raise errors.validation(messages.TRIGGER_BAD_DEFINITION)  # intended: before any side effect
        refuse_string_inputs(call, inputs)
        now = call.now()
        execution = call.store.create_execution(workflow.id, inputs, now)
        trigger.trigger_count += 1
        trigger.last_triggered_at = trigger.updated_at = now
        parsed_inputs(execution)
        if not definition_format_ok(workflow.definition):
            raise errors.validation(messages.TRIGGER_BAD_DEFINITION)  # side effects remain
        lifecycle.start(call.state, execution, workflow)
    return ok(call, {"execution_id": execution.id, "workflow_id": workflow.id, "trigger_id": trigger.id,
                     "status": "pending", "inputs": inputs}, 202)


OPERATIONS = [
    Operation("GET", f"{API}/triggers", "listTriggers", ("triggers:read",), list_triggers, trailing_slash=True),
    Operation("POST", f"{API}/triggers/{{id}}/execute", "executeTrigger",
              ("triggers:read", "triggers:execute"), execute_trigger),
]
