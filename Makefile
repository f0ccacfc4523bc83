# cxtradeoff: two commands do everything on a fresh machine.
#   make report   set up (.venv, pinned packages, kernel, Chromium) and build the reports
#   make test     the same set-up, then every test
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Set-up is redone only when the lock file or the packaging changes.
SETUP_HASH := $(shell cat requirements.lock pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)
STAMP := $(VENV)/.setup-$(SETUP_HASH)
JOBS ?=
BUILD_ARGS ?=
PYTEST_ARGS ?=

.PHONY: help setup report test lab lint lock schemas clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name cxtradeoff --display-name "Python (cxtradeoff)" >/dev/null
	@rm -f $(VENV)/.setup-*
	@touch $@

setup: $(STAMP) ## Create .venv, install pinned packages and the project, make sure a Chromium exists
	@$(PY) -m cxtradeoff.browser ensure

report: setup ## Build every report into reports/ (HTML, PDF, landing page)
	$(VENV)/bin/cxtradeoff build $(if $(JOBS),--jobs $(JOBS)) $(BUILD_ARGS)

test: setup ## Run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

lab: setup ## Open JupyterLab on the project's kernel, "Python (cxtradeoff)"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

lint: setup ## ruff (rules and formatting) and mypy on the package
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy src

schemas: setup ## Regenerate the JSON Schemas of the results file and the manifest (docs/schemas/)
	$(PY) -m cxtradeoff.contracts docs/schemas

lock: ## Re-resolve and re-pin requirements.lock from pyproject.toml
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[test]'
	{ echo "# Pinned versions of every package the project installs (direct and transitive)."; \
	  echo "# Regenerate: make lock  (installs requirements from pyproject.toml in a scratch venv and freezes)."; \
	  .lock-venv/bin/pip freeze --all | grep -v "^pip==" | grep -v -e '^-e' -e '^cxtradeoff' | sort -f; } > requirements.lock
	rm -rf .lock-venv

clean: ## Remove the virtual environment and built reports (keeps reports/README.md)
	rm -rf $(VENV)
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +
