#!/usr/bin/env bash
# Usage: scripts/generate.sh [OUT_DIR] — regenerate the low-level package from $SPEC
# (default spec/openapi.yaml) into OUT_DIR (default generated/numbers_api) with the pinned
# openapi-python-client and our templates (spec/templates: open enums; an UNSET that survives
# copy and pickle); its post-hooks format the output with the pinned ruff. Then scripts/spec_facts.py adds spec_facts.py: the spec's
# facts the generator drops (constraints, page size, statuses, auth header, field order).
# The package is built beside OUT_DIR and moved into place only once every step passed: a spec
# the generator or spec_facts.py refuses leaves OUT_DIR as it was, not half rewritten.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 1 ]; then
    echo "scripts/generate.sh: one output folder at most, got $#: $*" >&2
    exit 1
fi
out=${1:-generated/numbers_api}
spec=${SPEC:-spec/openapi.yaml}
# OUT_DIR is replaced whole: refuse one that holds anything but a generated package.
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/spec_facts.py" ]; then
    echo "scripts/generate.sh: $out holds files and no spec_facts.py: not replacing it" >&2
    exit 1
fi
bin=$(pwd)/.venv/bin
if [ ! -x "$bin/python" ]; then
    echo "scripts/generate.sh: no $bin/python: run 'make venv' first" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/.generating.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A warning (a parameter or schema the generator skipped) fails the run, its report shown.
if ! report=$(PATH="$bin:$PATH" openapi-python-client generate --path "$spec" \
    --config spec/generator-config.yaml --custom-template-path spec/templates \
    --meta none --overwrite --fail-on-warning --output-path "$work/package" 2>&1); then
    printf '%s\n' "$report" >&2
    exit 1
fi
touch "$work/package/py.typed"
"$bin/python" scripts/spec_facts.py "$spec" "$work/package/spec_facts.py"
"$bin/ruff" format --isolated --no-cache --quiet "$work/package/spec_facts.py"
rm -rf "$out"
mv "$work/package" "$out"
