"""Scenarios: the YAML that says what the fake holds (tenants, keys, data, faults)."""
from .loader import (Scenario, build_store, load_scenario_file, load_scenario_files, load_scenario_text)
from .validate import Problem, ScenarioError

__all__ = ["Problem", "Scenario", "ScenarioError", "build_store", "load_scenario_file", "load_scenario_files",
           "load_scenario_text"]
