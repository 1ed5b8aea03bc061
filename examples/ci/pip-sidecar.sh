#!/usr/bin/env bash
# The pip variant: no container, FakeMaestro installed with pip and run in the background
# of the CI job itself, for any CI system (or a laptop). From the repository root:
#
#   examples/ci/pip-sidecar.sh
#
# FAKEMAESTRO_PIP_SPEC  what to install (default: this checkout, "."; in your own project
#                       e.g. "fakemaestro @ git+https://github.com/your-org/fakemaestro@v0.1.0")
# FAKEMAESTRO_SKIP_INSTALL=1  use the fakemaestro and python already on PATH
# FAKEMAESTRO_PORT      port to serve on (default 8000); every FAKEMAESTRO_* variable of
#                       `fakemaestro serve` applies (docs/sidecar.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export FAKEMAESTRO_PORT=${FAKEMAESTRO_PORT:-8000}
export FAKEMAESTRO_SCENARIO=${FAKEMAESTRO_SCENARIO:-$here/scenario.yaml}
if [ "${FAKEMAESTRO_SKIP_INSTALL:-}" != 1 ]; then
  python3 -m pip install -q "${FAKEMAESTRO_PIP_SPEC:-.}" flowmaestro
fi

fakemaestro serve > fakemaestro.log 2>&1 &
fake=$!
trap 'kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null || true' EXIT

# your tests go here; they find the fake at FAKEMAESTRO_URL (smoke_client waits for health)
export FAKEMAESTRO_URL="http://127.0.0.1:$FAKEMAESTRO_PORT"
if ! python3 "$here/smoke_client.py" --wait 30; then
  echo "--- fakemaestro.log" >&2; cat fakemaestro.log >&2
  exit 1
fi
