#!/usr/bin/env bash
# Usage: scripts/generate.sh [OUT_DIR] — regenerate the low-level package from $SPEC
# (default spec/openapi.yaml) into OUT_DIR (default generated/numbers_api) with the pinned
# openapi-python-client and our templates (spec/templates: open enums; an UNSET that survives
# copy and pickle); its post-hooks format the output with the pinned ruff. Then scripts/spec_facts.py adds spec_facts.py: the spec's
# facts the generator drops (constraints, page size, statuses, auth header, field order).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-generated/numbers_api}
spec=${SPEC:-spec/openapi.yaml}
bin=$(pwd)/.venv/bin
PATH="$bin:$PATH" openapi-python-client generate --path "$spec" \
    --config spec/generator-config.yaml --custom-template-path spec/templates \
    --meta none --overwrite --output-path "$out" >/dev/null
touch "$out/py.typed"
"$bin/python" scripts/spec_facts.py "$spec" "$out/spec_facts.py"
"$bin/ruff" format --isolated --no-cache --quiet "$out/spec_facts.py"
