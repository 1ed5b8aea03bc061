"""Connection-level faults on a real socket: a TCP reset (RST) or a close (FIN) with
nothing more sent.

ASGI has no way to drop a connection, so the fake finds the connection's socket
by its two addresses and swaps a fresh unconnected socket onto its descriptor
(dup2): the kernel closes the real connection at once (with SO_LINGER 0 that is
a reset), and the server just sees its writes fail. Linux only (/proc/self/fd);
elsewhere, and in-process, the exchange is aborted by an exception instead.
"""
from __future__ import annotations

import os
import socket
import struct


class ConnectionDropped(Exception):
    """Raised to end the ASGI call once the connection is gone (or cannot be dropped)."""


def drop(scope: dict, reset: bool) -> None:
    fd = _connection_fd(scope)
    if fd is None:
        raise ConnectionDropped("reset" if reset else "close")
    if reset:
        with socket.socket(fileno=os.dup(fd)) as dup:
            dup.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as placeholder:
        os.dup2(placeholder.fileno(), fd)
    raise ConnectionDropped("reset" if reset else "close")


def _connection_fd(scope: dict) -> int | None:
    client, server = scope.get("client"), scope.get("server")
    if not client or not server or not os.path.isdir("/proc/self/fd"):
        return None
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            probe = socket.socket(fileno=fd)
        except OSError:
            continue
        try:
            if probe.type == socket.SOCK_STREAM and _same(probe.getpeername(), client) \
                    and _same(probe.getsockname(), server):
                return fd
        except OSError:
            pass
        finally:
            probe.detach()
    return None


def _same(address, expected) -> bool:
    return tuple(address[:2]) == (expected[0], expected[1])
