# Every target builds the project's virtual environment (.venv) first when it is
# missing or older than pyproject.toml, so `make test` alone works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPEC ?= spec/openapi.yaml
export SPEC
# Python may write bytecode caches here even where the environment says not to: pytest then
# keeps its assertion-rewritten modules (the tests and its hypothesis and schemathesis plugins,
# about 430 modules) instead of rewriting them in every process of every run, about 5 s each.
unexport PYTHONDONTWRITEBYTECODE
GEN_PKG := generated/numbers_api

.PHONY: all venv generate check-generated validate-spec lint test test-fast test-slow test-uvloop test-matrix demo clean

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,aiohttp,httpx2,otel,sandbox,cli]'
	touch $(STAMP)

venv: $(STAMP)

generate: $(STAMP)
	scripts/generate.sh $(GEN_PKG)
	@echo "regenerated $(GEN_PKG) from $(SPEC)"

check-generated: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	if ! scripts/generate.sh "$$tmp/numbers_api"; then \
		echo "ERROR: generating from $(SPEC) failed (above): $(GEN_PKG) cannot be checked."; \
		exit 1; \
	fi && \
	diff -r -q -x __pycache__ $(GEN_PKG) "$$tmp/numbers_api"; status=$$?; \
	if [ $$status -eq 1 ]; then \
		echo "ERROR: $(GEN_PKG) is stale: it differs from what $(SPEC) generates (files above)."; \
		echo "Run 'make generate' and commit spec/ and generated/ together."; \
		exit 1; \
	elif [ $$status -ne 0 ]; then \
		echo "ERROR: diff could not compare $(GEN_PKG) with what $(SPEC) generates (above)."; \
		exit 1; \
	fi && echo "generated/ is up to date with $(SPEC)"

validate-spec: $(STAMP)
	$(BIN)/openapi-spec-validator $(SPEC)

lint: $(STAMP)
	$(BIN)/ruff check numbers_async tests benchmarks noxfile.py
	$(BIN)/ruff format --check numbers_async tests benchmarks noxfile.py
	$(BIN)/mypy numbers_async tests benchmarks noxfile.py

# `make test` leaves out the tests marked `slow` (the 2,000-search soaks, about a minute on
# 2 cores) and ends with the ten slowest tests, to keep the suite fast; `make test-slow` runs
# only the slow ones. CI (.ci/run) runs both. Three workers on 2 cores, lint beside them: the
# tests wait on sockets and timers a good part of their time (1,282 tests: 84 s with 3 workers,
# 94 s with 2; 4 made a connection-count test flake under the load). Work stealing: a worker
# left with the slow tests of its share gives them to idle ones (1,390 tests: 82-85 s against
# 87-91 s with xdist's default split, measured back to back).
test: validate-spec check-generated
	$(MAKE) --no-print-directory -j2 lint test-fast

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" -n 3 --dist worksteal --durations=10

test-slow: $(STAMP)
	$(BIN)/pytest -m slow

# The same tests on uvloop, the event loop of services run by uvicorn[standard] (tests/conftest.py's
# --loop). uvloop runs pytest-timeout's SIGALRM handler as a callback whose error it only logs:
# the thread method ends a hung test's worker instead (xdist reports it and starts another).
test-uvloop: $(STAMP)
	$(BIN)/pytest -m "not slow" -n 3 --dist worksteal --loop uvloop -o timeout_method=thread

# The tests (all but slow) on each Python version pyproject.toml's classifiers name (3.11 to
# 3.13), each in a venv of its own under .nox/ (noxfile.py); a version not installed fails.
test-matrix: $(STAMP)
	$(BIN)/nox --error-on-missing-interpreters

demo: $(STAMP)
	$(BIN)/numbers-async search US --features sms,voice --limit 120 --sandbox

# Benchmarks are not tests: this measures the facade against the layers below it and writes
# BENCHMARKS.md (about five minutes on 2 cores); `make test` only smoke-tests the harness.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks --output BENCHMARKS.md --command 'make bench'

clean:
	rm -rf $(VENV) .nox dist build .pytest_cache .mypy_cache .ruff_cache
