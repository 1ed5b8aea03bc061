"""Rate limiting (CONTRACT.md §3, §1.2): two fixed windows per key (minute, UTC day),
counted before the decision, headers on every authenticated response, 429 shape,
and which responses are counted. The clock is frozen so windows are exact."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from fakemaestro import messages

URL = "/api/v1/workflows"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                "x-ratelimit-limit-day", "x-ratelimit-remaining-day")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


T0 = ms("2026-03-10T12:00:30")  # half-way through a minute
NEXT_MINUTE_S = ms("2026-03-10T12:01:00") // 1000


@pytest.fixture
def clock(app):
    clock = app.state.fake.clock
    clock.freeze(T0)
    return clock


def get(client, keys, name, url=URL, **kw):
    return client.get(url, headers={"X-API-Key": keys[name]}, **kw)


def rate(response) -> dict[str, int]:
    return {h: int(response.headers[h]) for h in RATE_HEADERS if h in response.headers}


def assert_no_rate_headers(response) -> None:
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")], response.headers
    assert "retry-after" not in response.headers


# ----------------------------------------------------------------- headers


def test_headers_on_a_success(client, keys, clock):
    response = get(client, keys, "full")
    assert response.status_code == 200
    assert rate(response) == {"x-ratelimit-limit": 60, "x-ratelimit-remaining": 59,
                              "x-ratelimit-reset": NEXT_MINUTE_S,
                              "x-ratelimit-limit-day": 10000, "x-ratelimit-remaining-day": 9999}
    assert "retry-after" not in response.headers


def test_headers_are_decimal_strings(client, keys, clock):
    response = get(client, keys, "full")
    for name in RATE_HEADERS:
        assert response.headers[name].isdigit(), (name, response.headers[name])


def test_remaining_counts_down_per_key(client, keys, clock):
    seen = [rate(get(client, keys, "full"))["x-ratelimit-remaining"] for _ in range(5)]
    assert seen == [59, 58, 57, 56, 55]
    # another key has its own counters
    assert rate(get(client, keys, "workflows-read"))["x-ratelimit-remaining"] == 59
    assert rate(get(client, keys, "full"))["x-ratelimit-remaining-day"] == 10000 - 6


def test_reset_is_the_next_minute_boundary(client, keys, clock):
    clock.set(ms("2026-03-10T12:00:00"))
    assert rate(get(client, keys, "full"))["x-ratelimit-reset"] == NEXT_MINUTE_S
    clock.set(ms("2026-03-10T12:00:59") + 999)
    assert rate(get(client, keys, "full"))["x-ratelimit-reset"] == NEXT_MINUTE_S
    clock.set(ms("2026-03-10T12:01:00"))
    assert rate(get(client, keys, "full"))["x-ratelimit-reset"] == NEXT_MINUTE_S + 60


def test_headers_use_the_keys_own_limits(client, keys, clock):
    assert rate(get(client, keys, "low-rate"))["x-ratelimit-limit"] == 3
    low_daily = rate(get(client, keys, "low-daily"))
    assert low_daily["x-ratelimit-limit"] == 60 and low_daily["x-ratelimit-limit-day"] == 2
    assert low_daily["x-ratelimit-remaining-day"] == 1


# ----------------------------------------------------------------- minute window


def test_minute_limit_allows_exactly_the_limit_then_429(client, keys, clock):
    remaining = []
    for _ in range(3):
        response = get(client, keys, "low-rate")
        assert response.status_code == 200
        remaining.append(rate(response)["x-ratelimit-remaining"])
    assert remaining == [2, 1, 0]  # request #limit is allowed with Remaining 0
    response = get(client, keys, "low-rate")
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["retry-after"] == "30"
    assert rate(response) == {"x-ratelimit-limit": 3, "x-ratelimit-remaining": 0,
                              "x-ratelimit-reset": NEXT_MINUTE_S,
                              "x-ratelimit-limit-day": 10000, "x-ratelimit-remaining-day": 10000 - 4}
    body = response.json()
    assert list(body) == ["error", "meta"]
    assert list(body["error"]) == ["code", "message", "details"]
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert body["error"]["message"] == messages.MINUTE_LIMIT.format(seconds=30)
    assert body["error"]["message"] == "Rate limit exceeded. Please retry after 30 seconds."
    assert list(body["error"]["details"]) == ["limit", "window", "retry_after"]
    assert body["error"]["details"] == {"limit": 3, "window": "minute", "retry_after": 30}
    assert list(body["meta"]) == ["request_id", "timestamp"]


@pytest.mark.parametrize("at, retry", [("12:00:00.000", 60), ("12:00:00.999", 60), ("12:00:01.000", 59),
                                       ("12:00:30.500", 30), ("12:00:59.000", 1), ("12:00:59.999", 1)])
def test_retry_after_is_seconds_to_the_next_minute(client, keys, clock, at, retry):
    clock.set(ms(f"2026-03-10T{at}"))
    for _ in range(3):
        assert get(client, keys, "low-rate").status_code == 200
    response = get(client, keys, "low-rate")
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry)
    assert response.json()["error"]["details"]["retry_after"] == retry
    assert response.json()["error"]["message"] == messages.MINUTE_LIMIT.format(seconds=retry)


def test_minute_window_is_fixed_and_resets_on_the_boundary(client, keys, clock):
    for _ in range(3):
        get(client, keys, "low-rate")
    clock.set(ms("2026-03-10T12:00:59") + 999)
    assert get(client, keys, "low-rate").status_code == 429
    clock.set(ms("2026-03-10T12:01:00"))
    response = get(client, keys, "low-rate")
    assert response.status_code == 200
    assert rate(response)["x-ratelimit-remaining"] == 2
    assert rate(response)["x-ratelimit-reset"] == NEXT_MINUTE_S + 60


def test_rejected_requests_still_count(client, keys, clock):
    for _ in range(3):
        get(client, keys, "low-rate")
    for expected_day_remaining in (10000 - 4, 10000 - 5, 10000 - 6):
        response = get(client, keys, "low-rate")
        assert response.status_code == 429
        assert rate(response)["x-ratelimit-remaining-day"] == expected_day_remaining
        assert rate(response)["x-ratelimit-remaining"] == 0
    clock.set(ms("2026-03-10T12:01:00"))
    response = get(client, keys, "low-rate")
    assert response.status_code == 200
    assert rate(response)["x-ratelimit-remaining-day"] == 10000 - 7


def test_rate_limit_is_checked_before_scopes(client, keys, clock):
    # low-rate lacks agents:read; once the minute is used up, the 429 wins over the 403
    for _ in range(3):
        get(client, keys, "low-rate")
    response = get(client, keys, "low-rate", url="/api/v1/agents")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


def test_rate_limit_is_checked_before_the_handler(client, keys, clock):
    for _ in range(3):
        get(client, keys, "low-rate")
    assert get(client, keys, "low-rate", url="/api/v1/workflows/not-a-uuid").status_code == 429
    assert get(client, keys, "low-rate", url=f"/api/v1/workflows/{uuid.uuid4()}").status_code == 429


# ----------------------------------------------------------------- day window


def test_day_limit(client, keys, clock):
    clock.set(ms("2026-03-10T23:59:50"))
    first, second = get(client, keys, "low-daily"), get(client, keys, "low-daily")
    assert (first.status_code, second.status_code) == (200, 200)
    assert [rate(r)["x-ratelimit-remaining-day"] for r in (first, second)] == [1, 0]
    response = get(client, keys, "low-daily")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "10"  # seconds to UTC midnight
    body = response.json()
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert body["error"]["message"] == messages.DAY_LIMIT
    assert body["error"]["message"] == "Daily rate limit exceeded. Limit resets at midnight UTC."
    assert body["error"]["details"] == {"limit": 2, "window": "day", "retry_after": 10}
    assert rate(response) == {"x-ratelimit-limit": 60, "x-ratelimit-remaining": 57,
                              "x-ratelimit-reset": ms("2026-03-11T00:00:00") // 1000,
                              "x-ratelimit-limit-day": 2, "x-ratelimit-remaining-day": 0}


def test_day_retry_after_is_seconds_to_utc_midnight(client, keys, clock):
    clock.set(ms("2026-03-10T06:00:00") + 400)
    get(client, keys, "low-daily")
    get(client, keys, "low-daily")
    response = get(client, keys, "low-daily")
    assert response.headers["retry-after"] == str(18 * 3600)
    assert response.json()["error"]["details"]["retry_after"] == 18 * 3600


def test_day_window_resets_at_utc_midnight_not_after_24h(client, keys, clock):
    clock.set(ms("2026-03-10T23:59:50"))
    for _ in range(3):
        get(client, keys, "low-daily")
    clock.set(ms("2026-03-10T23:59:59") + 999)
    assert get(client, keys, "low-daily").status_code == 429
    clock.set(ms("2026-03-11T00:00:00"))
    response = get(client, keys, "low-daily")
    assert response.status_code == 200
    assert rate(response)["x-ratelimit-remaining-day"] == 1


def test_day_window_holds_across_minutes(client, keys, clock):
    clock.set(ms("2026-03-10T01:00:00"))
    get(client, keys, "low-daily")
    get(client, keys, "low-daily")
    clock.set(ms("2026-03-10T20:00:00"))
    response = get(client, keys, "low-daily")
    assert response.status_code == 429
    assert rate(response)["x-ratelimit-remaining"] == 59  # a fresh minute window, the day still full
    assert response.headers["retry-after"] == str(4 * 3600)


def test_minute_wins_when_both_windows_are_exceeded(client, app, keys, clock):
    low = app.state.fake.store.key_by_name("low-rate")
    low.per_minute, low.per_day = 1, 1
    assert get(client, keys, "low-rate").status_code == 200
    response = get(client, keys, "low-rate")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"]["message"] == messages.MINUTE_LIMIT.format(seconds=30)
    assert response.json()["error"]["details"] == {"limit": 1, "window": "minute", "retry_after": 30}
    assert rate(response)["x-ratelimit-remaining-day"] == 0


# ----------------------------------------------------------------- what is counted


def test_401_is_not_counted_and_has_no_rate_headers(client, app, keys, clock):
    revoked = app.state.fake.store.key_by_name("revoked")
    for _ in range(5):
        response = get(client, keys, "revoked")
        assert response.status_code == 401
        assert_no_rate_headers(response)
    revoked.revoked_at, revoked.is_active = None, True  # un-revoke: the 401s must not have used the window
    response = get(client, keys, "revoked")
    assert response.status_code == 200
    assert rate(response)["x-ratelimit-remaining"] == 59
    assert rate(response)["x-ratelimit-remaining-day"] == 9999


def test_401_for_an_expired_key_is_not_counted(client, app, keys, clock):
    expired = app.state.fake.store.key_by_name("expired")
    assert get(client, keys, "expired").status_code == 401
    expired.expires_at = None
    assert rate(get(client, keys, "expired"))["x-ratelimit-remaining"] == 59


def test_403_is_counted_and_carries_headers(client, keys, clock):
    response = get(client, keys, "low-rate", url="/api/v1/agents")
    assert response.status_code == 403
    assert rate(response)["x-ratelimit-remaining"] == 2
    assert rate(get(client, keys, "low-rate"))["x-ratelimit-remaining"] == 1


def test_404_envelope_is_counted_and_carries_headers(client, keys, clock):
    response = get(client, keys, "low-rate", url=f"/api/v1/workflows/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_not_found"
    assert rate(response)["x-ratelimit-remaining"] == 2
    assert rate(get(client, keys, "low-rate"))["x-ratelimit-remaining"] == 1


def test_400_is_counted_and_carries_headers(client, keys, clock):
    response = client.post("/api/v1/webhooks", headers={"X-API-Key": keys["full"]}, json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert rate(response)["x-ratelimit-remaining"] == 59
    assert rate(get(client, keys, "full"))["x-ratelimit-remaining"] == 58


def test_500_envelope_is_counted_and_carries_headers(client, keys, clock):
    response = client.post("/api/v1/workflows/not-a-uuid/execute", headers={"X-API-Key": keys["full"]})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "execution_failed"
    assert rate(response)["x-ratelimit-remaining"] == 59


def test_429_after_mixed_statuses(client, keys, clock):
    # 403, 404 and 200 all use the same window: the 4th request is rejected
    assert get(client, keys, "low-rate", url="/api/v1/agents").status_code == 403
    assert get(client, keys, "low-rate", url=f"/api/v1/workflows/{uuid.uuid4()}").status_code == 404
    assert get(client, keys, "low-rate").status_code == 200
    assert get(client, keys, "low-rate").status_code == 429


def test_head_is_counted(client, keys, clock):
    response = client.head(URL, headers={"X-API-Key": keys["full"]})
    assert response.status_code == 200
    assert rate(response)["x-ratelimit-remaining"] == 59
    assert rate(get(client, keys, "full"))["x-ratelimit-remaining"] == 58


def test_framework_errors_are_not_counted(client, keys, clock):
    headers = {"X-API-Key": keys["full"]}
    responses = [
        client.get("/api/v1/nope", headers=headers),  # unknown route
        client.put(URL, headers=headers),  # wrong method
        client.post("/api/v1/webhooks", headers={**headers, "Content-Type": "application/json"}, content=b"{x"),
        client.post("/api/v1/webhooks", headers={**headers, "Content-Type": "application/xml"}, content=b"<x/>"),
        client.post("/api/v1/webhooks", headers={**headers, "Content-Type": "application/json"},
                    content=b" " * (1_048_576 + 1)),
    ]
    assert [r.status_code for r in responses] == [404, 404, 500, 415, 413]
    for response in responses:
        assert_no_rate_headers(response)
    assert rate(get(client, keys, "full"))["x-ratelimit-remaining"] == 59


def test_bearer_and_x_api_key_share_the_keys_window(client, keys, clock):
    get(client, keys, "low-rate")
    response = client.get(URL, headers={"Authorization": f"Bearer {keys['low-rate']}"})
    assert rate(response)["x-ratelimit-remaining"] == 1


def test_sse_stream_is_counted_but_has_no_rate_headers(client, app, keys, clock):
    store = app.state.fake.store
    owner = store.key_by_name("low-rate").user_id
    done = next(e for e in store.executions.values() if e.status == "completed"
                and store.workflows[e.workflow_id].user_id == owner)
    response = get(client, keys, "low-rate", url=f"/api/v1/executions/{done.id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert_no_rate_headers(response)
    assert rate(get(client, keys, "low-rate"))["x-ratelimit-remaining"] == 1
