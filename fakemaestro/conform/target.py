"""The API a run talks to: a base URL over HTTP, or an ASGI app in process.

Every request goes through `Target.send`, which adds the key, paces itself with the
throttle, reads an SSE answer only up to its first event (a live execution's stream
never ends, §7.4) and returns a schemathesis Response for the checks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests
from schemathesis import Response

from .throttle import Throttle

CONNECT_TIMEOUT_S = 10.0
TIMEOUT_S = 130.0   # production's send-message may wait 120 s for its agent (§5.4)
SSE_BUDGET_S = 3.0  # an event stream goes quiet after its first event: wait no longer
ASGI_BASE = "http://testserver"


@dataclass
class Target:
    """`base_url` (scheme and host, no /api/v1) or `app`; `api_key` holds every scope,
    `readonly_key` (optional) lacks some. `admin_token` is only used to reset a fake."""

    name: str
    api_key: str
    base_url: str | None = None
    app: object | None = None
    readonly_key: str | None = None
    admin_token: str | None = None
    throttle: Throttle = field(default_factory=Throttle)
    _fake: bool | None = None

    def __post_init__(self) -> None:
        if (self.base_url is None) == (self.app is None):
            raise ValueError("give a target exactly one of base_url and app")
        if self.app is not None:
            from schemathesis.python import asgi
            self.session = asgi.get_client(self.app, max_stream_events=1)
            self.session.__enter__()  # runs the app's lifespan (the fake's clock ticker)
            self.url = ASGI_BASE
        else:
            self.url = self.base_url.rstrip("/")
            self.session = _session(self.url)

    def describe(self) -> str:
        return f"{self.name} ({'in-process ASGI app' if self.app is not None else self.url})"

    @property
    def transport_kwargs(self) -> dict:
        """What a check that re-sends a request (ignored_auth) needs to reach this target."""
        return {"app": self.app} if self.app is not None else {"base_url": self.url}

    # ------------------------------------------------------------------ sending

    def send(self, case, key: str | None = None, headers: dict | None = None) -> Response:
        """Send a schemathesis case as it is, with `key` (when given) as X-API-Key."""
        kwargs = case.as_transport_kwargs(base_url=self.url)
        sent_headers = {**kwargs.get("headers", {}), **(headers or {})}
        if key:
            sent_headers["X-API-Key"] = key
        kwargs["headers"] = sent_headers
        return self._request(key, **kwargs)

    def send_raw(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                 key: str | None = None) -> Response:
        """A request schemathesis would not generate (malformed JSON, ...), same pacing."""
        sent_headers = dict(headers or {})
        key = key if key is not None else self.api_key
        if key:
            sent_headers["X-API-Key"] = key
        return self._request(key, method=method, url=self.url + path, headers=sent_headers, data=body)

    def _request(self, key: str | None, **kwargs) -> Response:
        self.throttle.before(key)
        started = time.monotonic()
        read = SSE_BUDGET_S if self.app is None and kwargs["url"].split("?")[0].endswith("/events") else TIMEOUT_S
        kwargs.update(timeout=(CONNECT_TIMEOUT_S, read), allow_redirects=False, stream=self.app is None)
        try:
            raw = self.session.request(**kwargs)
        except requests.ConnectionError as exc:
            # A server may close a kept-alive connection between two requests (hypercorn does
            # after an answer that left the request body unread): once more, on a new one.
            if "RemoteDisconnected" not in repr(exc) and "ConnectionResetError" not in repr(exc):
                raise
            raw = self.session.request(**kwargs)
        if self.app is None:
            _read_body(raw)
        response = Response.from_any(raw)
        response.elapsed = time.monotonic() - started
        self.throttle.after(key, response)
        return response

    # ------------------------------------------------------------------ fakes

    def is_fake(self) -> bool:
        """A FakeMaestro answers its admin health endpoint (which needs no token)."""
        if self._fake is None:
            try:
                raw = self.session.get(self.url + "/_fakemaestro/health", timeout=CONNECT_TIMEOUT_S)
                self._fake = raw.status_code == 200 and {"scenario", "clock"} <= set(raw.json())
            except (requests.RequestException, ValueError):
                self._fake = False
        return self._fake

    def reset(self) -> bool:
        """Rebuild a fake's data from its scenario; False when that is not possible."""
        if self.app is not None and hasattr(getattr(self.app, "state", None), "fake"):
            self.app.state.fake.reset()
            return True
        if not self.is_fake():
            return False
        headers = {"X-Admin-Token": self.admin_token} if self.admin_token else {}
        try:
            return self.session.post(self.url + "/_fakemaestro/reset", headers=headers, timeout=CONNECT_TIMEOUT_S).ok
        except requests.RequestException:
            return False

    def close(self) -> None:
        if self.app is not None:
            self.session.__exit__(None, None, None)
        self.session.close()


def _session(url: str) -> requests.Session:
    """A session that reads the environment's proxy and CA settings once, not per request
    (requests would look them up again for each of the run's thousands of requests)."""
    session = requests.Session()
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    return session


def _read_body(raw: requests.Response) -> None:
    """Read the body; an event stream only up to its first event or the read timeout."""
    if not raw.headers.get("content-type", "").startswith("text/event-stream"):
        raw.content  # noqa: B018 - reads the whole body
        return
    data = b""
    try:
        for chunk in raw.iter_content(chunk_size=None):
            data += chunk
            if b"\n\n" in data:
                break
    except requests.RequestException:  # the stream went quiet: keep what came
        pass
    finally:
        raw.close()
    raw._content = data
    raw._content_consumed = True
