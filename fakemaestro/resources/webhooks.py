"""Outgoing webhooks, with production's field set per verb (CONTRACT.md §5.7, §8.3)."""
from __future__ import annotations

import ada_url

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import JsThrown, caught
from ..http.js import UNDEFINED, prop, truthy
from ..http.jsjson import dumps, js_value
from ..http.routing import Operation
from ..sim import webhook_sender
from ..sim.dispatcher import EVENT_TYPES
from ..store import pgtypes
from ..store.models import Delivery, Webhook
from .common import API, Call, Reply, found, listing, ok

PATCH_EVENTS_TYPEERROR = "body.events.filter is not a function"
# quirk webhook_patch_events_typeerror off: what the validation production means to have says
EVENTS_NOT_ARRAY = "Events must be an array of event types"


def render_item(h: Webhook) -> dict:
    return {"id": h.id, "name": h.name, "url": h.url, "events": h.events, "is_active": h.is_active,
            "created_at": iso(h.created_at), "updated_at": iso(h.updated_at)}


def render(h: Webhook) -> dict:
    return {"id": h.id, "name": h.name, "url": h.url, "events": h.events, "headers": h.headers,
            "is_active": h.is_active, "created_at": iso(h.created_at), "updated_at": iso(h.updated_at)}


def render_created(h: Webhook) -> dict:
    # The only response with the secret; no updated_at.
    return {"id": h.id, "name": h.name, "url": h.url, "secret": h.secret, "events": h.events,
            "headers": h.headers, "is_active": h.is_active, "created_at": iso(h.created_at)}


def render_updated(h: Webhook) -> dict:
    return {"id": h.id, "name": h.name, "url": h.url, "events": h.events, "headers": h.headers,
            "is_active": h.is_active, "updated_at": iso(h.updated_at)}


def render_delivery(d: Delivery) -> dict:
    return {"id": str(d.id), "event_type": d.event_type, "status": d.status, "attempts": d.attempts,
            "response_status": d.response_status, "error_message": d.error_message,
            "created_at": iso(d.created_at), "last_attempt_at": iso(d.last_attempt_at)}


def valid_url(url) -> bool:
    """`new URL(url)` succeeds: ada is the WHATWG URL parser Node itself uses."""
    return ada_url.check_url(js_string(url))


def hook_or_404(call: Call) -> Webhook:
    return found(call, call.store.webhook_in_workspace(call.uuid(), call.key.workspace_id), "Webhook")


async def list_webhooks(call: Call) -> Reply:
    return listing(call, lambda o, n: call.store.list_webhooks(call.key.workspace_id, o, n), render_item)


async def get_webhook(call: Call) -> Reply:
    return ok(call, render(hook_or_404(call)))


def _validate_create(body) -> None:
    name, url, events = prop(body, "name"), prop(body, "url"), prop(body, "events")
    if not truthy(name) or not isinstance(name, str):
        raise errors.validation(messages.NAME_REQUIRED)
    if not truthy(url) or not isinstance(url, str):
        raise errors.validation(messages.URL_REQUIRED)
    if not valid_url(url):
        raise errors.validation(messages.INVALID_URL)
    if not isinstance(events, list) or not events:
        raise errors.validation(messages.EVENTS_REQUIRED)
    invalid = _invalid_events(events)
    if invalid:
        raise errors.validation(messages.INVALID_EVENTS_CREATE.format(
            invalid=", ".join(invalid), valid=", ".join(EVENT_TYPES)))


def js_string(value) -> str:
    """String(value) / Array.prototype.join's view of a JSON value."""
    if value is None:
        return ""  # join writes null (and undefined) as empty; String(null) is only used for strings here
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return dumps(js_value(value))
    if isinstance(value, list):
        return ",".join(js_string(v) for v in value)
    return "[object Object]"


def _invalid_events(events: list) -> list[str]:
    return [js_string(e) for e in events if e not in EVENT_TYPES]


async def create_webhook(call: Call) -> Reply:
    _validate_create(call.body)
    headers = prop(call.body, "headers")
    now = call.now()
    with caught("internal_error", messages.CREATE_WEBHOOK_FAILED):
        name = pgtypes.varchar(prop(call.body, "name"), 255)
        url = pgtypes.varchar(prop(call.body, "url"), 2048)
        hook = Webhook(id=call.store.ids.uuid(), user_id=call.key.user_id, workspace_id=call.key.workspace_id,
                       name=name, url=url, secret=call.store.ids.webhook_secret(),
                       events=pgtypes.text_array(prop(call.body, "events")),
                       headers=js_value(headers) if truthy(headers) else None,
                       is_active=True, created_at=now, updated_at=now)
        call.store.add_webhook(hook)
    return ok(call, render_created(hook), 201)


async def update_webhook(call: Call) -> Reply:
    hook = hook_or_404(call)  # checked before any validation
    body = call.body
    url, events = prop(body, "url"), prop(body, "events")
    if truthy(url) and not valid_url(url):
        raise errors.validation(messages.INVALID_URL)
    if truthy(events):
        if not isinstance(events, list):
            _refuse_non_array_events(call)
        invalid = _invalid_events(events)
        if invalid:
            raise errors.validation(messages.INVALID_EVENTS_PATCH.format(invalid=", ".join(invalid)))
    with caught("internal_error", "Failed to update webhook"):
        _apply_update(call, hook, body)
    return ok(call, render_updated(hook))


def _refuse_non_array_events(call: Call) -> None:
    if call.state.fidelity.on("webhook_patch_events_typeerror"):
        # production calls body.events.filter(...): the TypeError escapes as a framework 500 (§5.7)
        raise JsThrown(PATCH_EVENTS_TYPEERROR)
    raise errors.validation(EVENTS_NOT_ARRAY)


COLUMNS = {  # column -> how Postgres takes the value production passes
    "name": lambda v: pgtypes.varchar(v, 255),
    "url": lambda v: pgtypes.varchar(v, 2048),
    "events": pgtypes.text_array,
    "headers": js_value,
    "is_active": pgtypes.boolean,
}
NOT_NULL = ("name", "url", "events", "is_active")


def _apply_update(call: Call, hook: Webhook, body) -> None:
    """Only keys present in the body are written; a value Postgres refuses fails the
    whole update (500 internal_error with its message), nothing changes."""
    changes = {name: prop(body, name) for name in COLUMNS}
    changes = {k: v for k, v in changes.items() if v is not UNDEFINED}
    if not changes:
        return  # production returns the webhook unchanged
    stored = {name: None if value is None else COLUMNS[name](value) for name, value in changes.items()}
    for name in NOT_NULL:
        if name in stored:
            pgtypes.not_null(stored[name], name, pgtypes.TABLE_WEBHOOKS)
    for name, value in stored.items():
        setattr(hook, name, value)
    hook.updated_at = call.now()


async def delete_webhook(call: Call) -> Reply:
    hook = hook_or_404(call)
    call.store.delete_webhook(hook, call.now())
    return ok(call, {"id": hook.id, "deleted": True})


async def test_webhook(call: Call) -> Reply:
    hook = hook_or_404(call)  # inactive webhooks can be tested too
    now = call.now()
    test_id = f"test_{now}"
    payload = {"id": test_id, "event": "test", "created_at": iso(now),
               "data": {"message": messages.TEST_WEBHOOK_TEXT, "webhook_id": hook.id}}
    body = webhook_sender.json_body(payload)
    headers = webhook_sender.merged_headers(
        {"Content-Type": "application/json",
         "X-FlowMaestro-Signature": webhook_sender.signature(hook.secret, body),
         "X-FlowMaestro-Delivery-ID": test_id},
        hook.headers)
    answer = await webhook_sender.post(hook.url, body, headers)
    if answer.status is None:
        return ok(call, {"success": False, "error": answer.error, "message": messages.TEST_NOT_DELIVERED})
    if answer.ok:
        return ok(call, {"success": True, "status_code": answer.status, "message": messages.TEST_DELIVERED})
    return ok(call, {"success": False, "status_code": answer.status,
                     "message": messages.TEST_FAILED_STATUS.format(status=answer.status)})


async def list_deliveries(call: Call) -> Reply:
    hook = hook_or_404(call)
    return listing(call, lambda o, n: call.store.list_deliveries(hook.id, o, n), render_delivery)


OPERATIONS = [
    Operation("GET", f"{API}/webhooks", "listWebhooks", ("webhooks:read",), list_webhooks, trailing_slash=True),
    Operation("POST", f"{API}/webhooks", "createWebhook", ("webhooks:write",), create_webhook, trailing_slash=True),
    Operation("GET", f"{API}/webhooks/{{id}}", "getWebhook", ("webhooks:read",), get_webhook),
    Operation("PATCH", f"{API}/webhooks/{{id}}", "updateWebhook", ("webhooks:write",), update_webhook),
    Operation("DELETE", f"{API}/webhooks/{{id}}", "deleteWebhook", ("webhooks:write",), delete_webhook),
    Operation("POST", f"{API}/webhooks/{{id}}/test", "testWebhook", ("webhooks:write",), test_webhook),
    Operation("GET", f"{API}/webhooks/{{id}}/deliveries", "listWebhookDeliveries", ("webhooks:read",),
              list_deliveries),
]
