"""Simulations of what production's engines do: executions that run, agents that
answer, ranking, webhook sending. Each living simulation registers with the World
(world.py) through `install(state, world)`."""
from __future__ import annotations

# The modules whose install(state, world) a fresh store gets, in this order.
SIMULATIONS: tuple[str, ...] = ("agents", "lifecycle", "dispatcher")


def install_simulations(state, world) -> None:
    from importlib import import_module
    for name in SIMULATIONS:
        import_module(f"{__name__}.{name}").install(state, world)
