"""Write the embedded default scenario (`fakemaestro.scenario.defaults.generate`) as YAML,
so it can be read, copied and extended like any other scenario file, and, for the default
seed, as the JSON snapshot the package serves without running faker at startup.

    python tools/export_default_scenario.py            # rewrites scenarios/default.yaml
                                                       # and fakemaestro/scenario/default-seed-1.json
    python tools/export_default_scenario.py --stdout   # prints the YAML instead
    python tools/export_default_scenario.py --seed 7 --output my-default.yaml

tests/test_scenario_library.py checks that both files equal this export (seed 1), so the
committed files cannot drift from the generator: after changing defaults.py, run this
script again.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from fakemaestro.scenario.defaults import DEFAULT_SEED, SNAPSHOT, generate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "scenarios" / "default.yaml"
SNAPSHOT_OUTPUT = ROOT / "fakemaestro" / "scenario" / SNAPSHOT

HEADER = """\
# FakeMaestro's embedded default scenario (seed {seed}), exported to YAML.
#
# GENERATED FILE - do not edit by hand. It is `default_scenario({seed}).data` from
# fakemaestro/scenario/defaults.py, written by tools/export_default_scenario.py; a test
# (tests/test_scenario_library.py) fails when the two differ. To change the defaults,
# change defaults.py and run `python tools/export_default_scenario.py`.
#
# What it simulates: a healthy production account. One user and workspace ("main") hold
# every resource in every state (workflows in backend and array format, one failing
# validation, a soft-deleted and a system one; executions in all six statuses; agents
# with and without tools and working memory; threads with all four message roles;
# enabled and disabled triggers of all four types; knowledge bases with and without
# documents; webhooks with deliveries in every status); a teammate's workflow is listed
# but 404s on get; a second user and workspace hold data the main keys never see.
# There are no faults: every answer is production's.
#
# Named keys (user "owner", workspace "main" unless said):
#   full             all 14 scopes, 60/min and 10000/day (production's defaults)
#   bulk             all 14 scopes, 1000000/min and 100000000/day (for heavy test suites)
#   read-only        the 7 *:read scopes, high limits
#   workflows-read   workflows:read only          -> 403 insufficient_scope elsewhere
#   revoked          revoked                      -> 401 revoked_api_key
#   expired          expired                      -> 401 expired_api_key
#   inactive         deactivated                  -> 401 invalid_api_key "This API key is inactive."
#   low-rate         3 requests per minute        -> the 4th gets 429 (window minute)
#   low-daily        2 requests per day           -> the 3rd gets 429 (window day)
#   other-workspace  all 14 scopes, another user and workspace
# `fakemaestro keys --scenario scenarios/default.yaml` prints the raw keys.
#
# How a client should cope: it should not need to; use it as the baseline your client is
# tested against, and the keys above to reach each authentication and limit branch.
"""


def export(seed: int = DEFAULT_SEED) -> str:
    """The YAML text of the default scenario for `seed`, header included."""
    body = yaml.safe_dump(generate(seed).data, sort_keys=False, allow_unicode=True, width=120)
    return HEADER.format(seed=seed) + body


def snapshot() -> str:
    """The JSON snapshot of the default seed's data that the package serves."""
    return json.dumps(generate(DEFAULT_SEED).data, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="file to write (default scenarios/default.yaml)")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing a file")
    args = parser.parse_args(argv)
    text = export(args.seed)
    if args.stdout:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
        if args.seed == DEFAULT_SEED:
            SNAPSHOT_OUTPUT.write_text(snapshot(), encoding="utf-8")
            print(f"wrote {SNAPSHOT_OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
