"""Executions (CONTRACT.md §5.2) and their SSE stream (§7)."""
from __future__ import annotations

from typing import Any

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import JsThrown, caught
from ..http.routing import Operation
from ..http.sse import EventStream
from ..http.v8json import JSONSyntaxError, parse as v8_parse
from ..sim import lifecycle
from ..store.models import Execution
from ..store.pguuid import pg_uuid
from .common import API, Call, Reply, found, ok, page

CANCELLABLE = ("pending", "running")
FINISHED = ("completed", "failed", "cancelled")
# quirk string_inputs_poison off: executing with a string `inputs` is refused up front


def _json_column(value: Any) -> Any:
    # Production's row mapper JSON.parses string column values; an execution created
    # with a string `inputs` therefore throws whenever it is read (recordings 175-177).
    if isinstance(value, str):
        try:
            return v8_parse(value)
        except JSONSyntaxError as exc:
            raise JsThrown(exc.message) from exc
    return value


def parsed_inputs(ex: Execution) -> Any:
    return _json_column(ex.inputs)


def refuse_string_inputs(call: Call, inputs: Any) -> None:
    """Quirk string_inputs_poison off: a string `inputs` is a 400 before anything is stored."""
    if isinstance(inputs, str) and not call.state.fidelity.on("string_inputs_poison"):
        raise errors.validation(messages.INPUTS_NOT_AN_OBJECT)


def render(ex: Execution) -> dict:
    return {"id": ex.id, "workflow_id": ex.workflow_id, "status": ex.status,
            "inputs": parsed_inputs(ex), "outputs": _json_column(ex.outputs), "error": ex.error,
            "started_at": iso(ex.started_at), "completed_at": iso(ex.completed_at),
            "created_at": iso(ex.created_at)}


def _query_text(call: Call, name: str) -> str | None:
    value = call.query.get(name)
    if isinstance(value, list):
        value = ",".join(value)
    return value or None  # an empty string counts as absent


async def list_executions(call: Call) -> Reply:
    page_, per_page, offset = call.pagination()
    status = _query_text(call, "status")
    workflow_id = _query_text(call, "workflow_id")
    if workflow_id is not None:
        items, total = _list_for_workflow(call, pg_uuid(workflow_id), status, offset, per_page)
    else:
        items, total = _list_for_workspace(call, status, offset, per_page)
    return page(call, items, page_, per_page, total)


def _list_for_workflow(call: Call, workflow_id: str, status, offset: int, per_page: int):
    if call.store.workflow_in_workspace(workflow_id, call.key.workspace_id) is None:
        return [], 0
    if status is not None and not call.state.fidelity.on("executions_list_window"):
        rows, total = call.store.executions_of_workflow_with_status(workflow_id, status, offset, per_page)
        return [render(r) for r in rows], total
    rows, total = call.store.executions_of_workflow(workflow_id, offset, per_page)
    items = [render(r) for r in rows]
    if status is None:
        return items, total
    # §5.2: the status filter runs in memory on the page, and total_count counts the page.
    kept = [i for i in items if i["status"] == status]
    return kept, len(kept)


def _list_for_workspace(call: Call, status, offset: int, per_page: int):
    if not call.state.fidelity.on("executions_list_window"):
        rows, total = call.store.workspace_executions(call.key.workspace_id, status, offset, per_page)
        return [render(r) for r in rows], total
    # §5.2: production reads the newest (offset + per_page) executions of *all*
    # tenants, keeps those of the workspace's first 1000 workflows, then slices.
    # total_count is the kept length, so has_next is always false.
    window = call.store.newest_executions(offset + per_page, status)
    rendered = [render(r) for r in window]  # every fetched row is mapped, even other tenants'
    own = set(call.store.workspace_workflow_ids(call.key.workspace_id))
    kept = [item for item in rendered if item["workflow_id"] in own]
    return kept[offset:offset + per_page], len(kept)


def _owned(call: Call) -> Execution:
    return found(call, call.store.execution_of_user(call.uuid(), call.key.user_id), "Execution")


async def get_execution(call: Call) -> Reply:
    return ok(call, render(_owned(call)))


async def cancel_execution(call: Call) -> Reply:
    with caught("internal_error", messages.CANCEL_FAILED):
        ex = _owned(call)
        if ex.status not in CANCELLABLE:
            raise errors.validation(messages.CANNOT_CANCEL.format(status=ex.status))
        lifecycle.cancel(call.state, ex)  # the run stops; completed_at and the event per quirk
    return ok(call, {"id": ex.id, "status": "cancelled", "message": messages.CANCELLED})


def terminal_payload(ex: Execution) -> dict:
    payload = {"execution_id": ex.id, "status": ex.status, "outputs": _json_column(ex.outputs),
               "error": ex.error}
    if ex.completed_at is not None:  # omitted, not null, when unset (§7.3)
        payload["completed_at"] = iso(ex.completed_at)
    return payload


async def stream_events(call: Call) -> EventStream:
    ex = _owned(call)
    if ex.status in FINISHED:
        return EventStream(call.state, [(f"execution:{ex.status}", terminal_payload(ex))], close_after_ms=500)
    connected = [("connected", {"execution_id": ex.id, "status": ex.status})]
    if call.state.fidelity.on("sse_live_events_silent"):
        # §7.4: production never forwards live events; the stream holds with keep-alives.
        return EventStream(call.state, connected)
    return EventStream(call.state, connected, follow=lifecycle.Follower(call.store, ex.id),
                       closing=lifecycle.TERMINAL_EVENTS)


OPERATIONS = [
    Operation("GET", f"{API}/executions", "listExecutions", ("executions:read",), list_executions, trailing_slash=True),
    Operation("GET", f"{API}/executions/{{id}}", "getExecution", ("executions:read",), get_execution),
    Operation("POST", f"{API}/executions/{{id}}/cancel", "cancelExecution",
              ("executions:read", "executions:cancel"), cancel_execution),
    Operation("GET", f"{API}/executions/{{id}}/events", "streamExecutionEvents", ("executions:read",), stream_events),
]
