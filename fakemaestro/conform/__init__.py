"""Conformance of an API to openapi.yaml and CONTRACT.md by schemathesis fuzzing: the
engine behind `fakemaestro conform` and the contract_tests/ suite.

    run(target, options=None, reference=None) -> Report   (runner.py)
    Target(name, api_key, base_url=... | app=...)           (target.py)
    Options(max_examples=..., seed=..., writes=..., ...)    (runner.py)

It needs the `conform` extra (pip install 'fakemaestro[conform]'); the names above are
imported on first use, so `fakemaestro conform --help` works without it.
"""
from __future__ import annotations

__all__ = ["PHASES", "Options", "Report", "Target", "run"]

_HOMES = {"PHASES": "runner", "Options": "runner", "run": "runner", "Target": "target", "Report": "results"}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)
