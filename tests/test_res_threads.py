"""Threads and messages (CONTRACT.md §5.4, §1.9): get, unpaginated messages, soft delete,
and send-message's validation order, 501, 200 reply, 408 timeouts and agent failures."""
from __future__ import annotations

import time

import pytest

from fakemaestro import messages
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario

from .conftest import assert_error, assert_not_found, make_app

API = "/api/v1"
NOW = "2026-06-01T08:30:00.125Z"
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
AG, AG_OTHER = "e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000009"
MISSING_AGENT = "e0000000-0000-4000-8000-000000000404"
T = {name: f"f0000000-0000-4000-8000-0000000000{i:02d}" for i, name in enumerate(
    ["full", "empty", "archived", "deleted", "other", "team", "orphan", "foreign_agent", "long", "ties"], 1)}
RUN = "aa000000-0000-4000-8000-000000000001"
CALL = {"id": "call_abc123", "name": "get_current_time", "arguments": {"tz": "UTC"}}
UNKNOWN = "99999999-9999-4999-8999-999999999999"
THREAD_FIELDS = ["id", "agent_id", "title", "status", "created_at", "updated_at", "last_message_at"]
MESSAGE_FIELDS = ["id", "role", "content", "tool_calls", "created_at"]
REPLY_FIELDS = ["execution_id", "thread_id", "status", "message", "iterations", "tool_calls_count"]


def _msg(n: int) -> str:
    return f"a1000000-0000-4000-8000-{n:012d}"


def scenario() -> Scenario:
    big = {"per_minute": 10**6, "per_day": 10**8}

    def thread(name, agent=AG, user=U1, workspace=W1, **extra):
        return {"id": T[name], "user": user, "workspace": workspace, "agent": agent,
                "created_at": "2026-01-10T10:00:00Z", **extra}
    full_messages = [
        {"id": _msg(1), "role": "system", "content": "Be kind.", "execution": RUN, "created_at": "2026-01-10T10:00:00Z"},
        {"id": _msg(2), "role": "user", "content": "What time is it?", "execution": RUN,
         "created_at": "2026-01-10T10:00:01Z"},
        {"id": _msg(3), "role": "assistant", "content": "", "tool_calls": [CALL], "execution": RUN,
         "created_at": "2026-01-10T10:00:02Z"},
        {"id": _msg(4), "role": "tool", "content": '{"time":"10:00"}', "execution": RUN,
         "created_at": "2026-01-10T10:00:03Z", "tool_name": "get_current_time", "tool_call_id": "call_abc123"},
        {"id": _msg(5), "role": "assistant", "content": "It is 10:00 UTC.", "execution": RUN,
         "created_at": "2026-01-10T10:00:04.500Z"},
    ]
    ties = [{"id": _msg(n), "role": "user", "content": f"tie {n}", "created_at": "2026-01-11T00:00:00Z"}
            for n in (9, 7, 8)]
    long = [{"id": _msg(100 + n), "role": "user", "content": f"m{n}",
             "created_at": f"2026-01-12T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"} for n in range(1005)]
    return Scenario({"seed": 4, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big},
                     {"name": "teammate", "user": U2, "workspace": W1, **big},
                     {"name": "other", "user": U3, "workspace": W2, **big}]},
        "data": {
            "agents": [{"id": AG, "user": U1, "workspace": W1, "name": "Support"},
                       {"id": AG_OTHER, "user": U3, "workspace": W2, "name": "Elsewhere"}],
            "threads": [
                thread("full", title="What time is it?", updated_at="2026-01-10T10:00:05Z",
                       last_message_at="2026-01-10T10:00:04.500Z",
                       runs=[{"id": RUN, "iterations": 2, "tool_calls_count": 1}], messages=full_messages),
                thread("empty"),
                thread("archived", title="Old", status="archived"),
                thread("deleted", status="deleted", deleted_at="2026-01-11T00:00:00Z"),
                thread("other", agent=AG_OTHER, user=U3, workspace=W2),
                thread("team", user=U2),
                thread("orphan", agent=MISSING_AGENT),
                thread("foreign_agent", agent=AG_OTHER),
                thread("long", messages=long),
                thread("ties", messages=ties),
            ]}})


@pytest.fixture
def app():
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant(NOW)))


def _thread_404(response, id_):
    assert_not_found(response, "Thread", id_)


def _messages_of(c, h, name):
    r = c.get(f"{API}/threads/{T[name]}/messages", headers=h["bulk"])
    assert r.status_code == 200
    return r.json()["data"]["messages"]


def _send(c, h, name, body=None, **kwargs):
    if body is not None:
        kwargs["json"] = body
    kwargs.setdefault("headers", h["bulk"])
    return c.post(f"{API}/threads/{T[name] if name in T else name}/messages", **kwargs)


# ---------------------------------------------------------------- get

def test_get_thread_fields(c, h):
    r = c.get(f"{API}/threads/{T['full']}", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == THREAD_FIELDS
    assert data == {"id": T["full"], "agent_id": AG, "title": "What time is it?", "status": "active",
                    "created_at": "2026-01-10T10:00:00.000Z", "updated_at": "2026-01-10T10:00:05.000Z",
                    "last_message_at": "2026-01-10T10:00:04.500Z"}


def test_get_untitled_and_archived_threads(c, h):
    empty = c.get(f"{API}/threads/{T['empty']}", headers=h["bulk"]).json()["data"]
    assert empty["title"] is None and empty["last_message_at"] is None and empty["status"] == "active"
    archived = c.get(f"{API}/threads/{T['archived']}", headers=h["bulk"]).json()["data"]
    assert archived["status"] == "archived" and archived["title"] == "Old"


def test_get_teammates_thread_is_visible_workspace_wide(c, h):
    assert c.get(f"{API}/threads/{T['team']}", headers=h["bulk"]).status_code == 200


@pytest.mark.parametrize("route", ["", "/messages"])
@pytest.mark.parametrize("thread_id", [UNKNOWN, T["deleted"], T["other"]])
def test_thread_reads_404(c, h, route, thread_id):
    _thread_404(c.get(f"{API}/threads/{thread_id}{route}", headers=h["bulk"]), thread_id)


def test_other_workspace_key_cannot_read_main_threads(c, h):
    _thread_404(c.get(f"{API}/threads/{T['full']}", headers=h["other"]), T["full"])
    assert c.get(f"{API}/threads/{T['other']}", headers=h["other"]).status_code == 200


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_thread_non_uuid_is_framework_500(c, h, method):
    r = c.request(method, f"{API}/threads/thread_1", headers=h["bulk"])
    assert r.status_code == 500 and r.json()["code"] == "22P02"


# ---------------------------------------------------------------- messages

def test_messages_all_roles_with_tool_calls_in_order(c, h):
    rows = _messages_of(c, h, "full")
    assert [(m["role"], m["content"]) for m in rows] == [
        ("system", "Be kind."), ("user", "What time is it?"), ("assistant", ""), ("tool", '{"time":"10:00"}'),
        ("assistant", "It is 10:00 UTC.")]
    for row in rows:
        assert list(row) == MESSAGE_FIELDS
    assert rows[2]["tool_calls"] == [CALL] and rows[0]["tool_calls"] is None and rows[4]["tool_calls"] is None
    assert rows[1] == {"id": _msg(2), "role": "user", "content": "What time is it?", "tool_calls": None,
                       "created_at": "2026-01-10T10:00:01.000Z"}
    assert rows[4]["created_at"] == "2026-01-10T10:00:04.500Z"


def test_messages_data_is_an_object_without_pagination(c, h):
    r = c.get(f"{API}/threads/{T['full']}/messages?page=2&per_page=1", headers=h["bulk"])
    body = r.json()
    assert list(body) == ["data", "meta"] and list(body["data"]) == ["messages"]
    assert len(body["data"]["messages"]) == 5  # page/per_page ignored


def test_messages_ties_ordered_by_id(c, h):
    assert [m["id"] for m in _messages_of(c, h, "ties")] == [_msg(7), _msg(8), _msg(9)]


def test_messages_capped_at_1000_oldest_first(c, h):
    rows = _messages_of(c, h, "long")
    assert len(rows) == 1000
    assert rows[0]["content"] == "m0" and rows[-1]["content"] == "m999"


def test_messages_empty_thread(c, h):
    assert _messages_of(c, h, "empty") == []


# ---------------------------------------------------------------- delete

def test_delete_is_soft_and_second_delete_404(c, h, app):
    r = c.delete(f"{API}/threads/{T['archived']}", headers=h["bulk"])
    assert r.status_code == 200
    assert r.json()["data"] == {"id": T["archived"], "deleted": True}
    assert list(r.json()["data"]) == ["id", "deleted"]
    stored = app.state.fake.store.threads[T["archived"]]
    assert stored.status == "deleted" and stored.deleted_at == parse_instant(NOW)
    _thread_404(c.get(f"{API}/threads/{T['archived']}", headers=h["bulk"]), T["archived"])
    _thread_404(c.get(f"{API}/threads/{T['archived']}/messages", headers=h["bulk"]), T["archived"])
    _thread_404(c.delete(f"{API}/threads/{T['archived']}", headers=h["bulk"]), T["archived"])
    _thread_404(_send(c, h, "archived", {"content": "hi"}), T["archived"])


@pytest.mark.parametrize("name", ["deleted", "other"])
def test_delete_404(c, h, name):
    _thread_404(c.delete(f"{API}/threads/{T[name]}", headers=h["bulk"]), T[name])


def test_delete_other_workspace_thread_leaves_it(c, h):
    _thread_404(c.delete(f"{API}/threads/{T['other']}", headers=h["bulk"]), T["other"])
    assert c.get(f"{API}/threads/{T['other']}", headers=h["other"]).status_code == 200


# ---------------------------------------------------------------- send: validation, 404, 501

@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": None}, {"content": 5}, {"content": ["hi"]},
                                  {"content": {"text": "hi"}}, {"content": True}, {"stream": True}], ids=repr)
@pytest.mark.parametrize("name", ["empty", UNKNOWN, "thread_1"])
def test_send_content_is_validated_first(c, h, body, name):
    assert_error(_send(c, h, name, body), 400, "validation_error", messages.CONTENT_REQUIRED)


def test_send_without_body_or_with_text_body_is_400(c, h):
    assert_error(_send(c, h, "empty"), 400, "validation_error", messages.CONTENT_REQUIRED)
    r = _send(c, h, "empty", content=b'{"content":"hi"}', headers={**h["bulk"], "Content-Type": "text/plain"})
    assert_error(r, 400, "validation_error", messages.CONTENT_REQUIRED)


def test_send_404_and_non_uuid_after_validation(c, h):
    _thread_404(_send(c, h, UNKNOWN, {"content": "hi", "stream": True}), UNKNOWN)
    _thread_404(_send(c, h, "other", {"content": "hi"}), T["other"])
    _thread_404(_send(c, h, "deleted", {"content": "hi"}), T["deleted"])
    r = _send(c, h, "thread_1", {"content": "hi"})
    assert r.status_code == 500 and r.json()["code"] == "22P02"


def test_send_missing_agent_is_500_before_stream_check(c, h):
    assert_error(_send(c, h, "orphan", {"content": "hi", "stream": True}), 500, "internal_error",
           messages.AGENT_NOT_FOUND_FOR_THREAD)


@pytest.mark.parametrize("stream", [True, "false", "0", 1, -1, "yes", {}, []], ids=repr)
def test_send_truthy_stream_is_501_without_side_effects(c, h, stream):
    before = _messages_of(c, h, "full")
    assert_error(_send(c, h, "full", {"content": "hi", "stream": stream}), 501, "not_implemented",
           messages.STREAMING_NOT_IMPLEMENTED)
    assert _messages_of(c, h, "full") == before


@pytest.mark.parametrize("stream", [False, 0, "", None], ids=repr)
def test_send_falsy_stream_replies(c, h, stream):
    assert _send(c, h, "empty", {"content": "hi", "stream": stream}).status_code == 200


# ---------------------------------------------------------------- send: 200

def test_send_reply_shape_updates_thread_and_grows_messages(c, h, app):
    before = _messages_of(c, h, "full")
    r = _send(c, h, "full", {"content": "Thanks, and tomorrow?"})
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == REPLY_FIELDS
    assert data["thread_id"] == T["full"] and data["status"] == "completed"
    assert isinstance(data["iterations"], int) and isinstance(data["tool_calls_count"], int)
    assert list(data["message"]) == ["role", "content", "tool_calls", "created_at"]  # no message id
    # written when the run ends: 1 ms after the question on a frozen clock
    assert data["message"]["role"] == "assistant" and data["message"]["created_at"] == "2026-06-01T08:30:00.126Z"
    assert data["message"]["content"]
    assert data["execution_id"] in app.state.fake.store.agent_executions
    thread = c.get(f"{API}/threads/{T['full']}", headers=h["bulk"]).json()["data"]
    assert thread["last_message_at"] == NOW
    after = _messages_of(c, h, "full")
    assert after[:len(before)] == before and len(after) > len(before)
    new = after[len(before):]
    assert ("user", "Thanks, and tomorrow?") in [(m["role"], m["content"]) for m in new]
    replies = [{k: m[k] for k in ("role", "content", "tool_calls", "created_at")} for m in new
               if m["role"] == "assistant"]
    assert replies == [data["message"]]


def test_send_question_precedes_reply_in_the_thread(c, h):
    for n in range(6):
        assert _send(c, h, "empty", {"content": f"question {n}"}).status_code == 200
    rows = _messages_of(c, h, "empty")
    assert [m["role"] for m in rows] == ["user", "assistant"] * 6
    assert [m["content"] for m in rows[::2]] == [f"question {n}" for n in range(6)]


def test_send_whitespace_content_is_accepted(c, h):
    r = _send(c, h, "empty", {"content": "   "})
    assert r.status_code == 200 and r.json()["data"]["status"] == "completed"


def test_send_to_thread_whose_agent_is_in_another_workspace(c, h):
    # the thread must be in the workspace; its agent is loaded by id without scoping
    r = _send(c, h, "foreign_agent", {"content": "hello"})
    assert r.status_code == 200 and r.json()["data"]["thread_id"] == T["foreign_agent"]


def test_send_to_teammates_thread(c, h):
    assert _send(c, h, "team", {"content": "hello"}).status_code == 200


def test_send_with_agent_latency_within_timeout_succeeds(c, h, app):
    app.state.fake.store.agents[AG].reply_latency_ms = 300
    started = time.monotonic()
    r = _send(c, h, "empty", {"content": "hi", "timeout": 5000})
    assert r.status_code == 200
    assert time.monotonic() - started >= 0.3


# ---------------------------------------------------------------- send: 408 and failures

def _timeout_message(timeout_text: str, name: str) -> str:
    return messages.AGENT_TIMEOUT.format(timeout=timeout_text, thread_id=T[name])


def test_send_408_when_agent_is_slower_than_timeout(c, h, app):
    app.state.fake.store.agents[AG].reply_latency_ms = 60_000
    before = c.get(f"{API}/threads/{T['full']}", headers=h["bulk"]).json()["data"]
    started = time.monotonic()
    r = _send(c, h, "full", {"content": "hi", "timeout": 150})
    elapsed = time.monotonic() - started
    assert_error(r, 408, "timeout", "Execution did not complete within 150ms. Use GET /api/v1/threads/"
                              f"{T['full']}/messages to check for new messages.")
    assert 0.15 <= elapsed < 5
    after = c.get(f"{API}/threads/{T['full']}", headers=h["bulk"]).json()["data"]
    assert after["last_message_at"] == before["last_message_at"]


def test_send_408_timeout_written_as_javascript_number(c, h, app):
    app.state.fake.store.agents[AG].reply_latency_ms = 60_000
    r = _send(c, h, "empty", content=b'{"content":"hi","timeout":100.0}',
              headers={**h["bulk"], "Content-Type": "application/json"})
    assert_error(r, 408, "timeout", _timeout_message("100", "empty"))
    r = _send(c, h, "empty", {"content": "hi", "timeout": 50.5})
    assert_error(r, 408, "timeout", _timeout_message("50.5", "empty"))


@pytest.mark.parametrize("timeout,text", [(0, "0"), (-5, "-5"), (None, "0"), ("abc", "NaN"), ({}, "NaN"),
                                          ([1, 2], "NaN")], ids=repr)
def test_send_non_positive_or_non_numeric_timeout_is_immediate_408(c, h, timeout, text):
    # the agent would answer at once, but the wait is over before the first poll
    started = time.monotonic()
    r = _send(c, h, "empty", {"content": "hi", "timeout": timeout})
    assert_error(r, 408, "timeout", _timeout_message(text, "empty"))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("fail_with,message", [("LLM provider exploded", "LLM provider exploded"),
                                               ("", messages.AGENT_EXECUTION_FAILED)])
def test_send_agent_failure_is_execution_failed(c, h, app, fail_with, message):
    app.state.fake.store.agents[AG].fail_with = fail_with
    assert_error(_send(c, h, "empty", {"content": "hi"}), 500, "execution_failed", message)
    thread = c.get(f"{API}/threads/{T['empty']}", headers=h["bulk"]).json()["data"]
    assert thread["last_message_at"] is None
    assert all(m["role"] != "assistant" for m in _messages_of(c, h, "empty"))
