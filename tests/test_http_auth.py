"""Authentication (CONTRACT.md §2): key extraction, every 401 branch in order, and
what a 401 looks like (envelope with meta, no details, no rate-limit headers)."""
from __future__ import annotations

import re
import uuid

import pytest

from fakemaestro import messages

URL = "/api/v1/workflows"  # needs workflows:read, which every named key has
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
A_JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
         "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")


def assert_401(response, code: str, message: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["error", "meta"]
    assert body["error"] == {"code": code, "message": message}  # no details on a 401
    assert list(body["meta"]) == ["request_id", "timestamp"]
    assert UUID4.match(body["meta"]["request_id"])
    assert TIMESTAMP.match(body["meta"]["timestamp"])
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]
    assert "retry-after" not in response.headers
    assert "www-authenticate" not in response.headers


def key(app, name):
    return app.state.fake.store.key_by_name(name)


# ----------------------------------------------------------------- extraction


def test_no_key_at_all(client):
    assert_401(client.get(URL), "invalid_api_key", messages.MISSING_API_KEY)


def test_x_api_key_header_authenticates(client, keys):
    response = client.get(URL, headers={"X-API-Key": keys["full"]})
    assert response.status_code == 200
    assert "x-ratelimit-limit" in response.headers


def test_x_api_key_header_name_is_case_insensitive(client, keys):
    assert client.get(URL, headers={"x-api-key": keys["full"]}).status_code == 200
    assert client.get(URL, headers={"X-API-KEY": keys["full"]}).status_code == 200


def test_bearer_authenticates(client, keys):
    response = client.get(URL, headers={"Authorization": f"Bearer {keys['full']}"})
    assert response.status_code == 200


def test_empty_x_api_key_falls_back_to_bearer(client, keys):
    response = client.get(URL, headers={"X-API-Key": "", "Authorization": f"Bearer {keys['full']}"})
    assert response.status_code == 200


def test_empty_x_api_key_without_bearer_is_missing(client):
    assert_401(client.get(URL, headers={"X-API-Key": ""}), "invalid_api_key", messages.MISSING_API_KEY)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer:", "Token", "Basic"])
def test_bearer_prefix_is_case_sensitive_and_exact(client, keys, scheme):
    # anything but exactly "Bearer " is treated as no key at all
    response = client.get(URL, headers={"Authorization": f"{scheme} {keys['full']}"})
    assert_401(response, "invalid_api_key", messages.MISSING_API_KEY)


def test_bearer_with_two_spaces_is_missing(client, keys):
    response = client.get(URL, headers={"Authorization": f"Bearer  {keys['full']}"})
    assert_401(response, "invalid_api_key", messages.MISSING_API_KEY)


@pytest.mark.parametrize("token", [A_JWT, "sk_live_abc", "FM_LIVE_abc", "fm_test_abc", ""])
def test_bearer_with_non_fm_live_token_is_missing_not_invalid_format(client, token):
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert_401(response, "invalid_api_key", messages.MISSING_API_KEY)


@pytest.mark.parametrize("value", ["sk_bad", "FM_LIVE_abc", "Bearer fm_live_abc", "fm-live_abc", "fm_test_x"])
def test_x_api_key_without_fm_live_prefix_is_invalid_format(client, value):
    assert_401(client.get(URL, headers={"X-API-Key": value}), "invalid_api_key", messages.INVALID_KEY_FORMAT)


def test_invalid_x_api_key_is_preferred_over_a_valid_bearer(client, keys):
    response = client.get(URL, headers={"X-API-Key": "sk_bad", "Authorization": f"Bearer {keys['full']}"})
    assert_401(response, "invalid_api_key", messages.INVALID_KEY_FORMAT)


def test_unknown_x_api_key_is_preferred_over_a_valid_bearer(client, keys):
    response = client.get(URL, headers={"X-API-Key": "fm_live_nope", "Authorization": f"Bearer {keys['full']}"})
    assert_401(response, "invalid_api_key", messages.KEY_NOT_FOUND)


def test_valid_x_api_key_wins_over_an_invalid_bearer(client, keys):
    response = client.get(URL, headers={"X-API-Key": keys["full"], "Authorization": "Bearer fm_live_nope"})
    assert response.status_code == 200


def test_x_api_key_wins_over_bearer_of_another_key(client, app, keys):
    # workflows-read key via X-API-Key, full key via Bearer: the X-API-Key's scopes apply
    response = client.get("/api/v1/agents", headers={"X-API-Key": keys["workflows-read"],
                                                     "Authorization": f"Bearer {keys['full']}"})
    assert response.status_code == 403
    assert response.json()["error"]["details"]["your_scopes"] == ["workflows:read"]


@pytest.mark.parametrize("value", ["fm_live_", "fm_live_x", "fm_live_" + "A" * 32, "fm_live_" + "x" * 500])
def test_prefix_only_checked_then_not_found(client, value):
    assert_401(client.get(URL, headers={"X-API-Key": value}), "invalid_api_key", messages.KEY_NOT_FOUND)


def test_bearer_unknown_fm_live_token_is_not_found(client):
    response = client.get(URL, headers={"Authorization": "Bearer fm_live_x"})
    assert_401(response, "invalid_api_key", messages.KEY_NOT_FOUND)


def test_key_is_case_sensitive(client, keys):
    raw = keys["full"]
    swapped = raw[:8] + raw[8:].swapcase()
    assert swapped != raw
    assert_401(client.get(URL, headers={"X-API-Key": swapped}), "invalid_api_key", messages.KEY_NOT_FOUND)


def test_key_with_trailing_garbage_is_not_found(client, keys):
    response = client.get(URL, headers={"X-API-Key": keys["full"] + "x"})
    assert_401(response, "invalid_api_key", messages.KEY_NOT_FOUND)


def test_duplicate_x_api_key_headers_are_joined_and_not_found(client, keys):
    headers = [("X-API-Key", keys["full"]), ("X-API-Key", keys["bulk"])]
    assert_401(client.get(URL, headers=headers), "invalid_api_key", messages.KEY_NOT_FOUND)


def test_duplicate_x_api_key_same_value_twice_is_not_found(client, keys):
    headers = [("X-API-Key", keys["full"]), ("X-API-Key", keys["full"])]
    assert_401(client.get(URL, headers=headers), "invalid_api_key", messages.KEY_NOT_FOUND)


def test_duplicate_x_api_key_with_bad_first_value_is_invalid_format(client, keys):
    headers = [("X-API-Key", "sk_bad"), ("X-API-Key", keys["full"])]
    assert_401(client.get(URL, headers=headers), "invalid_api_key", messages.INVALID_KEY_FORMAT)


# ----------------------------------------------------------------- key states


def test_revoked_key(client, keys):
    response = client.get(URL, headers={"X-API-Key": keys["revoked"]})
    assert_401(response, "revoked_api_key", messages.KEY_REVOKED)


def test_expired_key(client, keys):
    response = client.get(URL, headers={"X-API-Key": keys["expired"]})
    assert_401(response, "expired_api_key", messages.KEY_EXPIRED)


def test_inactive_key(client, keys):
    response = client.get(URL, headers={"X-API-Key": keys["inactive"]})
    assert_401(response, "invalid_api_key", messages.KEY_INACTIVE)


def test_key_states_are_checked_through_bearer_too(client, keys):
    response = client.get(URL, headers={"Authorization": f"Bearer {keys['revoked']}"})
    assert_401(response, "revoked_api_key", messages.KEY_REVOKED)


def test_revoked_is_checked_before_expired_and_inactive(client, app, keys):
    revoked = key(app, "revoked")
    revoked.expires_at = 1  # long expired
    revoked.is_active = False
    assert_401(client.get(URL, headers={"X-API-Key": keys["revoked"]}), "revoked_api_key", messages.KEY_REVOKED)


def test_expired_is_checked_before_inactive(client, app, keys):
    key(app, "expired").is_active = False
    assert_401(client.get(URL, headers={"X-API-Key": keys["expired"]}), "expired_api_key", messages.KEY_EXPIRED)


def test_revocation_wins_even_when_the_key_is_otherwise_fine(client, app, keys):
    key(app, "full").revoked_at = app.state.fake.clock.now_ms()
    assert_401(client.get(URL, headers={"X-API-Key": keys["full"]}), "revoked_api_key", messages.KEY_REVOKED)


def test_expiry_is_strictly_after_expires_at(client, app, keys):
    expires_at = key(app, "expired").expires_at
    clock = app.state.fake.clock
    clock.freeze(expires_at - 1)
    assert client.get(URL, headers={"X-API-Key": keys["expired"]}).status_code == 200
    clock.set(expires_at)  # now == expires_at: not yet expired
    assert client.get(URL, headers={"X-API-Key": keys["expired"]}).status_code == 200
    clock.set(expires_at + 1)
    assert_401(client.get(URL, headers={"X-API-Key": keys["expired"]}), "expired_api_key", messages.KEY_EXPIRED)


def test_key_without_expiry_never_expires(client, app, keys):
    assert key(app, "full").expires_at is None
    app.state.fake.clock.freeze(4_102_444_800_000)  # 2100-01-01
    assert client.get(URL, headers={"X-API-Key": keys["full"]}).status_code == 200


# ----------------------------------------------------------------- ordering


def test_authentication_runs_before_the_handler(client):
    # an unknown resource id still answers 401 first
    assert_401(client.get(f"/api/v1/workflows/{uuid.uuid4()}"), "invalid_api_key", messages.MISSING_API_KEY)


def test_authentication_runs_before_the_uuid_check(client):
    assert_401(client.get("/api/v1/workflows/not-a-uuid"), "invalid_api_key", messages.MISSING_API_KEY)


def test_authentication_runs_before_the_scope_check(client):
    response = client.post(f"/api/v1/executions/{uuid.uuid4()}/cancel", headers={"X-API-Key": "fm_live_x"})
    assert_401(response, "invalid_api_key", messages.KEY_NOT_FOUND)


def test_authentication_runs_before_body_validation(client):
    response = client.post("/api/v1/webhooks", json={})
    assert_401(response, "invalid_api_key", messages.MISSING_API_KEY)


def test_401_carries_request_ids_and_cors(client):
    response = client.get(URL, headers={"Origin": "https://app.example", "X-Request-ID": "rid-1"})
    assert_401(response, "invalid_api_key", messages.MISSING_API_KEY)
    assert response.headers["x-request-id"] == "rid-1"
    assert UUID4.match(response.headers["x-trace-id"])
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.json()["meta"]["request_id"] != "rid-1"

