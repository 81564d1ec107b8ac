# Beffroi: `make run` starts it with a demo, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint fmt migrate i18n clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $(INSTALLED)

# The embedded mode: one process on SQLite under ./var, with the demo authority.
run: export BEFFROI_ENV ?= development
run: install
	mkdir -p var
	$(BIN)/beffroi db upgrade
	$(BIN)/beffroi demo
	$(BIN)/beffroi serve

migrate: export BEFFROI_ENV ?= development
migrate: install
	$(BIN)/beffroi db upgrade

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/djlint web/templates --lint

test: lint
	./scripts/ensure-chromium
	$(BIN)/pytest -n 2

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint web/templates --reformat --quiet || true

# Refresh the English catalogue after adding or changing French messages.
i18n: install
	$(BIN)/python scripts/i18n.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
