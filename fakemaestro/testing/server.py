"""A real hypercorn server on 127.0.0.1 in a background thread, for tests."""
from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from hypercorn.asyncio import serve

from ..serving import hypercorn_config


@dataclass
class RunningServer:
    app: object
    base_url: str
    port: int

    @property
    def state(self):
        return self.app.state.fake

    def key(self, name: str) -> str:
        key = self.state.store.key_by_name(name)
        if key is None:
            raise KeyError(f"no API key named {name!r}")
        return key.raw


@contextmanager
def serve_in_thread(app, host: str = "127.0.0.1") -> Iterator[RunningServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = hypercorn_config(sock)
    config.graceful_timeout = 0.5
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            started.set()
            await serve(app, config, shutdown_trigger=stop.wait)

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, name="fakemaestro-server", daemon=True)
    thread.start()
    started.wait(5)
    _wait_listening(host, port)
    try:
        yield RunningServer(app, f"http://{host}:{port}", port)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        try:
            sock.close()
        except OSError:  # hypercorn already closed the descriptor it was given
            pass


def _wait_listening(host: str, port: int) -> None:
    for _ in range(500):
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            threading.Event().wait(0.01)
    raise RuntimeError(f"server on {host}:{port} did not start")
