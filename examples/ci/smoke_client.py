"""The first thing a CI job's tests do against a FakeMaestro sidecar, through the official
`flowmaestro` SDK: wait until the fake is healthy, optionally load a scenario into it, then
list workflows, execute one and wait for its result. Every example in examples/ci/ runs it.

    FAKEMAESTRO_URL=http://127.0.0.1:8000 python examples/ci/smoke_client.py [--load scenario.yaml]

It expects examples/ci/scenario.yaml (served with --scenario / FAKEMAESTRO_SCENARIO, or loaded
with --load where the fake starts before the checkout, as CI service containers do).
Exit 0 and a last line starting "ok:" when all went as the scenario says; exit 1 otherwise.
Only the standard library and the SDK: `pip install flowmaestro` is all it needs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

from flowmaestro import FlowMaestroClient

# from examples/ci/scenario.yaml
CI_KEY = "fm_live_CiSidecarExample0000000000000001"
WORKFLOW_ID = "c0000000-0000-4000-8000-000000000001"
# the sidecar is local: never send these through an HTTP(S)_PROXY the CI machine may set
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def admin(base_url: str, method: str, path: str, body: bytes | None = None,
          token: str | None = None, content_type: str = "application/yaml") -> dict:
    request = urllib.request.Request(f"{base_url}/_fakemaestro/{path}", data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with _DIRECT.open(request, timeout=10) as response:
        return json.load(response)


def wait_healthy(base_url: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return admin(base_url, "GET", "health")
        except (OSError, urllib.error.URLError) as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"smoke_client: {base_url} not healthy after {timeout_s:g} s: {exc}") from None
            time.sleep(0.2)


def run(base_url: str, api_key: str) -> str:
    # the SDK's default timeout and retries, as a user's code has them
    with FlowMaestroClient(api_key, base_url=base_url) as client:
        listed = client.workflows.list(per_page=100)["data"]
        if WORKFLOW_ID not in [w["id"] for w in listed]:
            raise AssertionError(f"workflow {WORKFLOW_ID} not listed: is examples/ci/scenario.yaml loaded?")
        started = client.workflows.execute(WORKFLOW_ID, inputs={"day": "2026-01-01"})["data"]
        done = client.executions.wait_for_completion(started["execution_id"], poll_interval=0.2, timeout=30)
    if done["status"] != "completed" or done["outputs"] != {"report": "Report for 2026-01-01"}:
        raise AssertionError(f"unexpected result: {done}")
    return started["execution_id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("FAKEMAESTRO_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", default=os.environ.get("FLOWMAESTRO_API_KEY", CI_KEY))
    parser.add_argument("--load", metavar="FILE", help="replace the served scenario with FILE (admin API)")
    parser.add_argument("--admin-token", default=os.environ.get("FAKEMAESTRO_ADMIN_TOKEN") or None)
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for health (default 60)")
    args = parser.parse_args(argv)
    base_url = args.base_url.rstrip("/")
    health = wait_healthy(base_url, args.wait)
    print(f"smoke_client: {base_url} healthy, serving {health['scenario']}", flush=True)
    if args.load:
        with open(args.load, "rb") as f:
            admin(base_url, "PUT", "scenario", f.read(), args.admin_token)
        print(f"smoke_client: loaded {args.load}", flush=True)
    try:
        execution_id = run(base_url, args.api_key)
    except Exception as exc:  # the SDK's errors and our checks: one line, exit 1
        print(f"smoke_client: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"ok: listed workflows, executed {WORKFLOW_ID}, execution {execution_id} completed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
