# Rallybot: `make demo` and `make test` work from a clean clone with nothing installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# Pinned versions of every dependency (all extras and dev), for Python 3.11: installs a month
# apart are the same. `make lock` refreshes it after a change of pyproject.toml.
LOCK := requirements.lock

.PHONY: demo test lint docs reference lock schemas catalogs bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	@# mypy cannot follow the editable install's import hook: give it rallybot/<folder> links.
	mkdir -p $(VENV)/typing/rallybot
	for p in bot handlers campaigns storage; do ln -sfn "$(CURDIR)/$$p" $(VENV)/typing/rallybot/$$p; done
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rallybot demo

# What CI runs (.ci/run): lint, types, the docs build, then the tests.
test: lint docs
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# The layer contracts of pyproject.toml; like mypy, it reads the packages through the links.
	PYTHONPATH=$(VENV)/typing $(BIN)/lint-imports --no-cache

# The documentation site (mkdocs-material); --strict turns broken links and out-of-date
# reference pages into errors. Not --quiet: it drops the warnings before --strict counts them.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site

# The reference pages (settings, commands, file formats), generated from the code and committed
# under docs/reference/: run it after a change of the settings, the CLI or the file models
# (tests/test_docs.py and `make docs` fail while a page is out of date).
reference: $(STAMP)
	$(BIN)/python tools/mkdocs_hooks.py

lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5,<0.12'
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --extra dev -o $(LOCK) pyproject.toml

# The JSON Schemas shipped beside the example campaign files, from the models.
schemas: $(STAMP)
	@# The installed features first: their step blocks (poll:) are in the campaign schema.
	$(BIN)/python -c 'import rallybot.bot.assembly, rallybot.campaigns.editor_schema as s; s.main()'

# The gettext catalogs: extract every string the code passes to rallybot.bot.i18n (the
# locale comes first, hence the keyword positions), then merge them into each language's .po.
# Two domains: the bot's words (rallybot.po, with the CLI's help texts: tools/cli_pot.py) and
# the web console's (console.po, with its templates, whose calls take no locale:
# tools/console_pot.py extracts both).
# A new language: `$(BIN)/pybabel init -D rallybot -d bot/locale -i $(VENV)/rallybot.pot -l xx`
# and the same with `-D console` and console.pot.
CATALOG_FLAGS = --add-comments=Translators: --sort-by-file --project=Rallybot --no-wrap
catalogs: $(STAMP)
	$(BIN)/pybabel extract --no-default-keywords -k gettext:2 -k ngettext:2,3 -k pgettext:2c,3 -k N_ -k nN_:1,2 \
		$(CATALOG_FLAGS) -F babel-bot.cfg -o $(VENV)/rallybot.pot bot handlers campaigns storage
	@# The command line's help texts (docstrings and help=), read from its command tree.
	$(BIN)/python tools/cli_pot.py $(VENV)/rallybot.pot
	$(BIN)/pybabel update -D rallybot -d bot/locale -i $(VENV)/rallybot.pot --no-fuzzy-matching --no-wrap
	$(BIN)/python tools/console_pot.py $(VENV)/console.pot
	$(BIN)/pybabel update -D console -d bot/locale -i $(VENV)/console.pot --no-fuzzy-matching --no-wrap

bench: $(STAMP)
	$(BIN)/python -m bench

# The security fuzz tests and the indicators' oracle with a long budget (CI runs them with a
# small one): FUZZ_ROUNDS mutated requests and payloads per end-to-end test, 3,000 examples per
# hypothesis test (1,000 for the oracle, each a whole community on two databases).
FUZZ_ROUNDS ?= 2000
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz RALLYBOT_FUZZ_ROUNDS=$(FUZZ_ROUNDS) $(BIN)/python -m pytest -q tests/security \
		tests/report/test_indicator_oracle.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache rallybot.db* build dist
