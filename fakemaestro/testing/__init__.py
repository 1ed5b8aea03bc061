"""Helpers for testing client code against FakeMaestro."""
from .server import RunningServer, serve_in_thread

__all__ = ["RunningServer", "serve_in_thread"]
