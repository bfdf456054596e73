# plate-edge developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= cpu,dev,train
# Interpreter that creates the venv: the first of these that runs and is Python >= 3.11.
PYTHON_CANDIDATES ?= python3.11 python3
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS='-m "not slow" -x'`.
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed-stamp

.PHONY: venv sysdeps test lint clean distclean

## venv: create .venv (if missing) and install the package editable with its extras; redone when pyproject.toml changes
venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
		bootstrap=""; \
		for candidate in $(PYTHON_CANDIDATES); do \
			if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
				bootstrap="$$candidate"; break; \
			fi; \
		done; \
		if [ -z "$$bootstrap" ]; then echo "make venv: no Python >= 3.11 among: $(PYTHON_CANDIDATES)" >&2; exit 1; fi; \
		echo "make venv: creating $(VENV) with $$(command -v $$bootstrap) ($$($$bootstrap --version))"; \
		"$$bootstrap" -m venv "$(VENV)"; \
	fi
	PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 $(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@touch "$@"

## sysdeps: install the Debian packages the tests need (only the missing ones; sudo when not root)
sysdeps:
	bash scripts/sysdeps.sh

## test: everything pytest collects under tests/; "no tests collected" (exit 5) is a failure
test: sysdeps venv
	@rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit "$$rc"

## lint: ruff (lint and format check) and mypy --strict (configured in pyproject.toml) on the package
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy edge

# ---------------------------------------------------------------------------------------------------
# Reserved for the lead: `demo` and `models` targets go here.
# ---------------------------------------------------------------------------------------------------

## clean: caches and build outputs (keeps .venv; `make distclean` removes it too)
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
