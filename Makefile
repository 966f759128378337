# ecbridge: two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test test-fast e2e bench lint format messages clean lock

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*; touch $(STAMP)

## run: the whole product on the embedded defaults (SQLite, SqliteHuey, sandbox, demo data)
run: $(STAMP)
	$(PY) -m ecbridge.cli run

## test: the whole suite (unit, integration against the sandbox, browser tests)
test: $(STAMP)
	$(PY) -m ruff check ecbridge tests $(wildcard bench)
	$(PY) manage.py makemigrations --check --dry-run >/dev/null
	HUEY_QUEUE_NAME=ecbridge-test $(PY) -m pytest -p no:warnings -q

## test-fast: everything but the browser tests
test-fast: $(STAMP)
	HUEY_QUEUE_NAME=ecbridge-test $(PY) -m pytest -p no:warnings -q -m "not e2e"

bench: $(STAMP)
	@if [ -d bench ]; then $(PY) -m bench; else echo "No benchmarks yet: the orders and stock issues add them."; fi

lint: $(STAMP)
	$(PY) -m ruff check ecbridge tests $(wildcard bench)
	$(PY) -m ruff format --check ecbridge tests $(wildcard bench)

format: $(STAMP)
	$(PY) -m ruff format ecbridge tests $(wildcard bench)
	$(PY) -m ruff check --fix ecbridge tests $(wildcard bench)

## messages: refresh the translation catalogues after changing user-facing strings
messages: $(STAMP)
	cd ecbridge && ../$(PY) ../manage.py makemessages -l zh_Hant --ignore "sandbox/*" && ../$(PY) ../manage.py compilemessages -l zh_Hant

lock:
	uv pip compile pyproject.toml -o requirements.lock --python-version 3.11 -q
	uv pip compile pyproject.toml --extra dev -o requirements-dev.lock --python-version 3.11 -q

clean:
	rm -rf var/ .pytest_cache .ruff_cache
