"""Fidelity profiles and quirks.

Production has defects. By default (profile `production`) the fake reproduces
every one of them; profile `intended` gives the behaviour production means to
have. A scenario's `quirks: {name: true|false}` (or `--quirk NAME=on|off`)
switches single behaviours on top of the profile: `true` = reproduce the
production defect, `false` = behave as intended.

Every quirk is listed here once, with what production does, what `intended`
does and the CONTRACT.md section; the README's fidelity table is checked
against this registry by the tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

PROFILES = ("production", "intended")


@dataclass(frozen=True)
class Quirk:
    name: str
    section: str
    production: str
    intended: str


QUIRKS: dict[str, Quirk] = {q.name: q for q in (
    Quirk("sse_live_events_silent", "§7.4",
          "a live execution's stream sends `connected`, then only `: keepalive`, never closes",
          "node and terminal events as they happen; the stream closes 500 ms after the terminal one"),
    Quirk("webhook_dispatch_dead", "§8.1",
          "subscribed events are never delivered (only `/test` sends)",
          "execution, thread-message and agent-execution events are signed, sent and retried "
          "at 2/4/8/16 min, with delivery records"),
    Quirk("non_uuid_id_500", "§1.7",
          "a path id that is not a Postgres UUID gives the 500 `22P02` Fastify body "
          "(envelope 500 on execute, trigger execute and cancel)",
          "404 `resource_not_found`, as for any unknown id"),
    Quirk("malformed_json_500", "§1.7",
          "malformed JSON gives a 500 Fastify body with `connection: close`",
          "400 Fastify body with the same message, connection kept"),
    Quirk("executions_list_window", "§5.2",
          "without `workflow_id`, `total_count` <= page*per_page and `has_next` is always false; "
          "with it, `status` filters the page after pagination",
          "true `total_count` over the workspace's executions, status filtered before pagination"),
    Quirk("string_inputs_poison", "recordings 175-177",
          "executing with string `inputs` answers 500, stores the execution and breaks the "
          "executions list until reset",
          "400 `validation_error`; nothing stored"),
    Quirk("execute_orphan_pending", "§5.1, §5.5",
          "workflow or trigger execute with an invalid definition format answers 400 and leaves a "
          "`pending` execution behind (trigger execute also counts the trigger)",
          "the 400 without a stored execution or trigger count"),
    Quirk("cancel_keeps_completed_at_null", "§5.2",
          "cancel sets `cancelled` but leaves `completed_at` null and publishes no event",
          "`completed_at` set; `execution:cancelled` published (SSE, webhooks)"),
    Quirk("kb_chunk_count_inflated", "§5.6",
          "`chunk_count` = chunks x documents (join inflation)",
          "`chunk_count` = the number of chunks"),
    Quirk("kb_top_k_coercion", "§5.6",
          "`top_k: null` gives 0 results; `{}`, negative or non-integer values give a 500",
          "`null` means the default 5; other non-positive-integer values give 400 `validation_error`"),
    Quirk("webhook_patch_events_typeerror", "§5.7",
          "PATCH with non-array `events` gives the 500 `body.events.filter is not a function`",
          "400 `validation_error`"),
    Quirk("sse_drops_headers", "§7.1",
          "the SSE head carries only its four headers: no CORS, rate-limit or request-id headers",
          "the SSE head also carries CORS, `X-RateLimit-*`, `X-Request-ID` and `X-Trace-ID`"),
    Quirk("memory_search_get_shadowed", "§1.1",
          "`GET /agents/:id/memory/search` is memory-get with userId `search` (500 `22P02`)",
          "404 route not found (search is POST only)"),
)}


class UnknownQuirk(ValueError):
    pass


@dataclass(frozen=True)
class Fidelity:
    """Which production defects are reproduced: `fidelity.on("name")`."""

    profile: str = "production"
    overrides: Mapping[str, bool] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; expected one of {', '.join(PROFILES)}")
        overrides = dict(self.overrides or {})
        unknown = sorted(set(overrides) - set(QUIRKS))
        if unknown:
            raise UnknownQuirk(f"unknown quirk {unknown[0]!r}; known quirks: {', '.join(sorted(QUIRKS))}")
        object.__setattr__(self, "overrides", overrides)

    def on(self, name: str) -> bool:
        """True when the production defect `name` is reproduced."""
        if name not in QUIRKS:
            raise UnknownQuirk(name)
        return self.overrides.get(name, self.profile == "production")

    def describe(self) -> dict:
        return {"profile": self.profile, "quirks": {name: self.on(name) for name in QUIRKS}}
