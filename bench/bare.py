"""The benchmark's baseline: a bare Starlette app that answers each route with an answer
precomputed from FakeMaestro's own (same status, same body), on the same ASGI server and
the same server settings (fakemaestro.serving), so bench/run.py's ratios measure what the
fake itself costs. Not a fake: no auth, no state, one fixed answer per route. It sends
the answer's headers too (production's CORS, request-id and X-RateLimit-* headers),
unless --body-only: then only content-type and content-length.

    python bench/bare.py --routes ROUTES.json --port PORT [--server hypercorn|uvicorn] [--body-only]

ROUTES.json: [{"method", "path", "status", "body" (latin-1 text), "sse": bool,
               "headers": [[name, value], ...]}, ...]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # fakemaestro.serving from this checkout

from starlette.applications import Starlette  # noqa: E402
from starlette.responses import Response, StreamingResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from fakemaestro import serving  # noqa: E402

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def endpoint(route: dict, body_only: bool):
    body = route["body"].encode("latin-1")
    headers = None if body_only else dict(route.get("headers", ()))
    if route["sse"]:
        async def frames():
            yield body
            await asyncio.Event().wait()  # hold until the client leaves (Starlette cancels us)

        async def sse(request):
            return StreamingResponse(frames(), media_type="text/event-stream", headers=headers or SSE_HEADERS)
        return sse

    media_type = "application/json" if not headers or "content-type" not in headers else None

    async def fixed(request):
        await request.body()  # read what the client sent, as the fake does
        return Response(body, status_code=route["status"], headers=headers, media_type=media_type)
    return fixed


def build(routes: list[dict], body_only: bool = False) -> Starlette:
    return Starlette(routes=[Route(r["path"], endpoint(r, body_only), methods=[r["method"]]) for r in routes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=serving.SERVERS, default=serving.DEFAULT_SERVER)
    parser.add_argument("--body-only", action="store_true", help="send content-type and content-length only")
    args = parser.parse_args()
    app = build(json.loads(Path(args.routes).read_text()), args.body_only)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    serving.run(app, sock, args.server)


if __name__ == "__main__":
    main()
