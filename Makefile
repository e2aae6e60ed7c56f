# Two commands do everything: `make run` (set up + Blur server on 127.0.0.1:8001, embedded)
# and `make test` (set up + the whole suite, ruff, mypy and hadolint included).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml docker/requirements.txt | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8001
SNAPSHOT_PORT ?= 8080

.PHONY: install models run run-snapshot test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml docker/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -q -c docker/requirements.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

models: install
	$(PY) -m blur_sdk models

run: models
	$(PY) -m blur_sdk serve --host $(HOST) --port $(PORT)

run-snapshot: models
	$(PY) -m snapshot_stub --host $(HOST) --port $(SNAPSHOT_PORT)

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy blur_sdk snapshot_stub
	$(VENV)/bin/hadolint --failure-threshold error Dockerfile

test: models lint
	$(VENV)/bin/pytest -q

bench: models
	$(PY) bench/accuracy.py
	$(PY) bench/speed.py

clean:
	rm -rf $(VENV) models .pytest_cache .mypy_cache .ruff_cache
