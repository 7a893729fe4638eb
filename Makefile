# The README's two commands: `make demo` and `make test`. Everything they need
# is installed here, into a venv cached outside the clone and keyed by the
# pinned requirements, so a fresh clone on a used machine starts in seconds.
SHELL := /bin/bash
PYTHON ?= python3.11
CACHE ?= $(HOME)/.cache/tbdump
REQ_HASH := $(shell cat requirements-test.txt pyproject.toml | sha256sum | cut -c1-16)
VENV := $(CACHE)/venv-$(REQ_HASH)
PY := $(VENV)/bin/python

.PHONY: demo test venv test-python test-mypy bench clean

$(VENV)/.done: requirements-test.txt pyproject.toml
	@mkdir -p $(CACHE)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

venv: $(VENV)/.done
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null

demo: venv
	@rm -f traceback.pkl
	-@$(PY) -m tbdump examples/divide.py 5 0
	@$(PY) -m tbdump.report traceback.pkl

test: venv
	$(PY) -m pytest -q -n 2 tests

bench: venv
	$(PY) benchmarks/run.py

clean:
	rm -rf build *.egg-info traceback.pkl
