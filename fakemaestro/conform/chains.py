"""Stateful walks through openapi.yaml's links: each step's path parameters come from
the previous step's request or answer, by the link the document declares for the
status that came back (`$response.body#/...`, `$request.path.NAME`).

A walk that starts from a list tries its first items in turn (a link into `/data/0/`
reads `/data/1/`, ... as well) while nothing has been written yet: production's data
decides which workflow can run, so the walk looks for one. After the first successful
write, any unexpected status breaks the chain.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from . import document

CANDIDATES = 5  # list items a walk tries
HOOK_URL = "http://127.0.0.1:9/fakemaestro-conform"  # the discard port: nothing is ever delivered
SEND_TIMEOUT_MS = 15_000  # send-message's wait for the agent (production's default is 120 s)


@dataclass(frozen=True)
class Step:
    operation: str
    via: str | None = None      # the link, on the previous step's answer, that leads here
    body: dict | None = None
    expect: str = "2xx"         # statuses that go on, comma-separated: "2xx", "404", "2xx,408"

    def accepts(self, status: int | None) -> bool:
        return status is not None and any(
            200 <= status < 300 if wanted == "2xx" else str(status) == wanted for wanted in self.expect.split(","))


CHAINS: dict[str, tuple[Step, ...]] = {
    "webhook": (
        Step("createWebhook", body={"name": "fakemaestro conform", "url": HOOK_URL, "events": ["execution.completed"]}),
        Step("getWebhook", via="GetWebhook"),
        Step("updateWebhook", via="UpdateWebhook", body={"name": "fakemaestro conform (renamed)"}),
        Step("listWebhookDeliveries", via="ListWebhookDeliveries"),
        Step("deleteWebhook", via="DeleteWebhook"),
        Step("getWebhook", via="GetWebhook", expect="404"),
    ),
    "agent": (
        Step("listAgents"),
        Step("getAgent", via="GetAgent"),
        Step("createThread", via="CreateThread"),
        # an agent may take longer than the wait it is given: its 408 says to read the
        # messages later (§5.4), and the walk goes on from there
        Step("sendThreadMessage", via="SendThreadMessage", expect="2xx,408",
             body={"content": "Hello from fakemaestro conform", "timeout": SEND_TIMEOUT_MS}),
        Step("listThreadMessages", via="ListThreadMessages"),
        Step("deleteThread", via="DeleteThread"),
    ),
    "workflow": (
        Step("listWorkflows"),
        Step("getWorkflow", via="GetWorkflow"),
        Step("executeWorkflow", via="ExecuteWorkflow", body={"inputs": {}}),
        Step("getExecution", via="GetExecution"),
        Step("cancelExecution", via="CancelExecution"),
    ),
    "trigger": (
        Step("listTriggers"),
        Step("executeTrigger", via="ExecuteTrigger", body={"inputs": {}}),
        Step("getExecution", via="GetExecution"),
    ),
}

EXPRESSION = re.compile(r"^\$(request\.path\.(?P<param>\w+)|response\.body#(?P<pointer>/.*))$")
FIRST_ITEM = "/data/0/"


class Unresolved(Exception):
    """A link's value is not in the answer it points into."""


@dataclass
class Previous:
    """What a link may read: the previous step's operation, path parameters and answer."""

    operation: str
    path: dict
    status: int
    body: object


def link(prev: Previous, step: Step) -> dict:
    """The link object leading from `prev` to `step` (KeyError naming what is missing)."""
    links = document.links(prev.operation, prev.status)
    if step.via not in links:
        raise KeyError(f"openapi.yaml declares no link {step.via!r} on {prev.operation} {prev.status}")
    found = links[step.via]
    if found.get("operationId") != step.operation:
        raise KeyError(f"link {step.via!r} of {prev.operation} leads to {found.get('operationId')}, "
                       f"not {step.operation}")
    return found


def candidates(prev: Previous, found: dict) -> int:
    """How many list items the link may be read at (1 unless it reads into /data/0/)."""
    if any(FIRST_ITEM in str(v) for v in found.get("parameters", {}).values()):
        items = prev.body.get("data") if isinstance(prev.body, dict) else None
        return min(CANDIDATES, len(items)) if isinstance(items, list) else 0
    return 1


def parameters(prev: Previous, found: dict, index: int = 0) -> dict:
    """The link's parameters evaluated on `prev`, reading list item `index`."""
    values = {}
    for name, expression in found.get("parameters", {}).items():
        match = EXPRESSION.match(str(expression).replace(FIRST_ITEM, f"/data/{index}/"))
        if match is None:
            raise Unresolved(f"unsupported runtime expression {expression!r}")
        if match["param"]:
            if match["param"] not in prev.path:
                raise Unresolved(f"{expression}: no path parameter {match['param']!r}")
            values[name] = prev.path[match["param"]]
        else:
            values[name] = _pointer(prev.body, match["pointer"], expression)
    return values


def _pointer(body, pointer: str, expression: str):
    node = body
    for token in pointer.strip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise Unresolved(f"{expression}: nothing at {pointer}")
    return node


class Broken(Exception):
    pass


def walk(steps: tuple[Step, ...], send: Callable[[int, Step, list[dict]], list[Previous]]) -> bool:
    """Walk `steps`; `send(i, step, params_per_side)` sends step i on every side and returns
    their answers (the first side decides). True when the walk got through, False when
    no list item led anywhere; raises Broken after a write when a step goes wrong."""
    def go(i: int, prevs: list[Previous] | None, wrote: bool) -> bool:
        if i == len(steps):
            return True
        step = steps[i]
        if prevs is None:
            options = [[{}]]
        else:
            found = link(prevs[0], step)
            count = candidates(prevs[0], found)
            options = []
            for index in range(count):
                try:
                    options.append([parameters(prev, found, index) for prev in prevs])
                except Unresolved as exc:
                    if wrote:
                        raise Broken(str(exc)) from None
        for params in options:
            answers = send(i, step, params)
            if not step.accepts(answers[0].status):
                if wrote:
                    raise Broken(f"{step.operation} answered {answers[0].status}, expected {step.expect}")
                continue
            writes = wrote or document.raw_method(step.operation) not in document.SAFE_METHODS
            if go(i + 1, answers, writes):
                return True
        return False

    return go(0, None, False)
