"""Application wiring: the contract is served, production's /health answers, reset rebuilds."""
import yaml

from fakemaestro.app import openapi_text

from . import spec


def test_openapi_document_is_served(client):
    response = client.get("/_fakemaestro/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.text) == spec.document()
    assert response.text == openapi_text()


def test_production_health_route(client):
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200 and list(body) == ["success", "data"]
    assert body["success"] is True and body["data"]["status"] == "healthy"
    assert "x-request-id" in response.headers and "x-ratelimit-limit" not in response.headers


def test_reset_rebuilds_state_from_the_scenario(client, app, keys):
    headers = {"X-API-Key": keys["bulk"]}
    before = client.get("/api/v1/webhooks", headers=headers).json()["data"]
    created = client.post("/api/v1/webhooks", headers=headers,
                          json={"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]})
    assert created.status_code == 201
    assert len(client.get("/api/v1/webhooks", headers=headers).json()["data"]) == len(before) + 1
    app.state.fake.reset()
    assert client.get("/api/v1/webhooks", headers=headers).json()["data"] == before
