# The README's two commands: `make demo` and `make test`. Everything they need
# is installed here, into a venv cached outside the clone and keyed by the
# pinned requirements and the interpreter, so a fresh clone on a used machine
# starts in seconds.
SHELL := /bin/bash
PYTHON ?= python3.11
# The oldest Python the pins in requirements-test.lock install on (numpy, rpds-py, pydumpling).
PYTHON_MIN := 3.11
CACHE ?= $(HOME)/.cache/tbdump
REQ_HASH := $(shell { cat requirements-test.txt requirements-test.lock pyproject.toml; \
	$(PYTHON) -c 'import sys; print(sys.version, sys.base_prefix)' 2>&1; } | sha256sum | cut -c1-16)
VENV := $(CACHE)/venv-$(REQ_HASH)
PY := $(VENV)/bin/python

.PHONY: demo test venv test-python test-types test-extension test-e2e vsix wheel bench clean

$(VENV)/.done: requirements-test.txt requirements-test.lock pyproject.toml
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
	    || { echo "make: cannot run $(PYTHON): name a Python $(PYTHON_MIN) or later with make PYTHON=..." >&2; exit 1; }; \
	[[ $$(printf '%s\n' $(PYTHON_MIN) $$v | sort -V | head -n1) == $(PYTHON_MIN) ]] \
	    || { echo "make: $(PYTHON) is Python $$v; the pinned test requirements need Python $(PYTHON_MIN)" \
	              "or later: make $(MAKECMDGOALS) PYTHON=python$(PYTHON_MIN)" >&2; exit 1; }
	@mkdir -p $(CACHE)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-test.txt -c requirements-test.lock
	touch $@

venv: $(VENV)/.done
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null

demo: venv
	@rm -f traceback.pkl
	@echo '$$ python -m tbdump examples/divide.py 5 0'
	@$(PY) -m tbdump examples/divide.py 5 0 || echo "(exit status $$?, as Python's own)"
	@echo
	@echo '$$ python -m tbdump.report traceback.pkl'
	@$(PY) -m tbdump.report traceback.pkl
	@echo
	@echo 'Debug it: $(PY) -m tbdebug traceback.pkl   (pdb)'
	@echo '          $(PY) -m tbpeep traceback.pkl    (peepshow)'
	@echo '          VS Code: make vsix, install it, right-click traceback.pkl > Open tbdump file'

# Everything: types, the Python suites (both cores), the extension's adapter
# tests, then the real VS Code end-to-end tests (one code-server for the run).
test: venv
	$(MAKE) --no-print-directory test-types
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-extension
	$(MAKE) --no-print-directory test-e2e

test-types: venv
	$(PY) -m mypy tbdump tbdap tbdebug tbpeep tblsp

test-python: venv
	scripts/system-deps.sh
	$(PY) -m pytest -q -n 2 -m "not e2e" tests

vsix:
	scripts/e2e/vsix.sh

test-extension: venv vsix
	cd vscode-extension && TBDUMP_PYTHON=$(abspath $(PY)) npm test

test-e2e: venv vsix
	$(PY) -m pytest -q -m e2e tests/e2e

bench: venv
	$(PY) benchmarks/run.py

# dist/tbdump-VERSION-py3-none-any.whl: what `pip install` takes on the machines that
# crash (the `tbdump` on PyPI is another project). Built from a clean build/ each time,
# so a module removed from the tree is not shipped from an old build.
wheel:
	@rm -rf build
	$(PYTHON) -m pip wheel -q --no-deps -w dist .
	@rm -rf build
	@ls dist/tbdump-$$(sed -n 's/^__version__ = "\(.*\)"/\1/p' tbdump/__init__.py)-py3-none-any.whl

clean:
	rm -rf build dist *.egg-info traceback.pkl
