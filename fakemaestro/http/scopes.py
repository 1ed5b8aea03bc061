"""Scope checks: all listed scopes are required (CONTRACT.md §4)."""
from __future__ import annotations

from .. import messages
from ..store.models import ApiKey
from .errors import ApiError

ALL_SCOPES = (
    "workflows:read", "workflows:execute", "executions:read", "executions:cancel",
    "agents:read", "agents:execute", "threads:read", "threads:write",
    "triggers:read", "triggers:execute", "knowledge-bases:read", "knowledge-bases:query",
    "webhooks:read", "webhooks:write",
)

BUNDLES = {
    "workflow-executor": ("workflows:read", "workflows:execute", "executions:read",
                          "executions:cancel", "triggers:read", "triggers:execute"),
    "agent-executor": ("agents:read", "agents:execute", "threads:read", "threads:write"),
    "knowledge-base-reader": ("knowledge-bases:read", "knowledge-bases:query"),
    "read-only": ("workflows:read", "executions:read", "agents:read", "threads:read",
                  "triggers:read", "knowledge-bases:read", "webhooks:read"),
    "full-access": ALL_SCOPES,
}


def require(key: ApiKey, required: tuple[str, ...]) -> None:
    missing = [s for s in required if s not in key.scopes]
    if missing:
        raise ApiError(403, "insufficient_scope",
                       messages.MISSING_SCOPES.format(missing=", ".join(missing)),
                       {"required_scopes": list(required), "missing_scopes": missing,
                        "your_scopes": list(key.scopes)})
