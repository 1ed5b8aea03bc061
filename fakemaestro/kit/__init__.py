"""The property-testing kit's internals: fault schedules (schedule.py), the handle a
test drives the fake through (handle.py) and data drawn from openapi.yaml
(openapi.py). The public surface is fakemaestro.strategies and the pytest plugin
(fakemaestro.pytest_plugin)."""
