#!/usr/bin/env bash
# Usage: scripts/generate.sh [OUT_DIR] — regenerate the low-level package from $SPEC
# (default spec/openapi.yaml) into OUT_DIR (default generated/numbers_api) with the pinned
# openapi-python-client; its post-hooks format the output with the pinned ruff.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-generated/numbers_api}
spec=${SPEC:-spec/openapi.yaml}
bin=$(pwd)/.venv/bin
PATH="$bin:$PATH" openapi-python-client generate --path "$spec" \
    --config spec/generator-config.yaml --meta none --overwrite --output-path "$out" >/dev/null
touch "$out/py.typed"
