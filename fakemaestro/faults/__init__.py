"""Fault injection: scenario rules that make the fake fail the way production can."""
from .engine import Decision, FaultEngine, FaultRule

__all__ = ["Decision", "FaultEngine", "FaultRule"]
