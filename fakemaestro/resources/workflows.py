"""Workflows (CONTRACT.md §5.1)."""
from __future__ import annotations

import re

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import caught
from ..http.js import or_default, prop, truthy
from ..http.jsjson import js_value
from ..http.routing import Operation
from ..sim import lifecycle
from ..store.models import Workflow
from .common import API, Call, Reply, found, listing, ok
from .executions import parsed_inputs, refuse_string_inputs


def render_item(wf: Workflow) -> dict:
    return {"id": wf.id, "name": wf.name, "description": wf.description, "version": wf.version,
            "created_at": iso(wf.created_at), "updated_at": iso(wf.updated_at)}


def render(wf: Workflow) -> dict:
    return {"id": wf.id, "name": wf.name, "description": wf.description, "version": wf.version,
            "inputs": derived_inputs(wf.definition), "created_at": iso(wf.created_at),
            "updated_at": iso(wf.updated_at)}


def derived_inputs(definition) -> dict | None:
    """Inputs keyed by *node id*, only from backend-format (object) node maps whose
    input nodes carry a `config`; array-format definitions give null (§5.1)."""
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    if not isinstance(nodes, dict):
        return None
    inputs = {}
    for node_id, node in nodes.items():
        config = node.get("config") if isinstance(node, dict) else None
        if node.get("type") != "input" or not truthy(config) or not isinstance(config, dict):
            continue
        entry = {"type": or_default(config.get("inputType"), "text"),
                 "label": or_default(config.get("label"), node_id),
                 "required": True if config.get("required") is None else config.get("required")}
        if "description" in config:
            entry["description"] = config["description"]
        inputs[node_id] = entry
    return inputs or None


_TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_VARIABLE_KEYS = ("variableName", "inputVariable", "inputName", "outputName", "outputVariable")


def validation_errors(definition) -> list[str]:
    """A simplified pre-execution check: every `{{variable}}` a node uses must be
    defined by some node (an input's variable, a node's output name or id)."""
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    if isinstance(nodes, list):
        nodes = {n.get("id"): {**n, "config": n.get("data")} for n in nodes if isinstance(n, dict)}
    if not isinstance(nodes, dict):
        return []
    defined = set(nodes)
    for node in nodes.values():
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict):
            defined.update(str(config[k]) for k in _VARIABLE_KEYS if config.get(k))
    problems = []
    for node in nodes.values():
        config = node.get("config") if isinstance(node, dict) else None
        for text in _strings(config):
            for expr in _TEMPLATE.findall(text):
                root = re.split(r"[.\[]", expr, maxsplit=1)[0]
                if root not in defined:
                    problems.append(f'Node "{node.get("type")}" references undefined variable "{{{{{expr}}}}}"')
    return problems


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def definition_format_ok(definition) -> bool:
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    return isinstance(nodes, (dict, list))


async def list_workflows(call: Call) -> Reply:
    return listing(call, lambda o, n: call.store.list_workflows(call.key.workspace_id, o, n), render_item)


async def get_workflow(call: Call) -> Reply:
    return ok(call, render(found(call, call.store.workflow_of_user(call.uuid(), call.key.user_id), "Workflow")))


async def execute_workflow(call: Call) -> Reply:
    with caught("execution_failed", messages.WORKFLOW_EXECUTION_FAILED):
        wf = found(call, call.store.workflow_of_user(call.uuid(), call.key.user_id), "Workflow")
        if not truthy(wf.definition):
            raise errors.validation(messages.WORKFLOW_NO_DEFINITION)
        problems = validation_errors(wf.definition)
        if problems:
            raise errors.validation(messages.WORKFLOW_VALIDATION_FAILED.format(errors=", ".join(problems)))
        inputs = js_value(or_default(prop(call.body, "inputs"), {}))
        if not call.state.fidelity.on("execute_orphan_pending") and not definition_format_ok(wf.definition):
            raise errors.validation(messages.WORKFLOW_BAD_FORMAT)  # intended: before anything is stored
        refuse_string_inputs(call, inputs)
        execution = call.store.create_execution(wf.id, inputs, call.now())
        parsed_inputs(execution)  # production maps the new row back; a string input throws here
        if not definition_format_ok(wf.definition):
            # The pending execution stays behind, orphaned, as in production.
            raise errors.validation(messages.WORKFLOW_BAD_FORMAT)
        lifecycle.start(call.state, execution, wf)  # production starts its orchestration here
    return ok(call, {"execution_id": execution.id, "workflow_id": wf.id, "status": "pending",
                     "inputs": inputs}, 202)


OPERATIONS = [
    Operation("GET", f"{API}/workflows", "listWorkflows", ("workflows:read",), list_workflows, trailing_slash=True),
    Operation("GET", f"{API}/workflows/{{id}}", "getWorkflow", ("workflows:read",), get_workflow),
    Operation("POST", f"{API}/workflows/{{id}}/execute", "executeWorkflow",
              ("workflows:read", "workflows:execute"), execute_workflow),
]
