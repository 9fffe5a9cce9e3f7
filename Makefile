# Rallybot: `make demo` and `make test` work from a clean clone with nothing installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# mypy cannot follow the editable install's import hook: give it rallybot/<folder> links.
	mkdir -p $(VENV)/typing/rallybot
	for p in bot handlers campaigns storage; do ln -sfn "$(CURDIR)/$$p" $(VENV)/typing/rallybot/$$p; done
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rallybot demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache rallybot.db*
