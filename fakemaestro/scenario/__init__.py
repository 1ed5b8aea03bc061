"""Scenarios: the YAML that says what the fake holds (tenants, keys, data)."""
from .loader import Scenario, ScenarioError, build_store, load_scenario_file, load_scenario_text

__all__ = ["Scenario", "ScenarioError", "build_store", "load_scenario_file", "load_scenario_text"]
