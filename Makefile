# The two commands a newcomer needs: `make demo` and `make test`.
# Both install what they need first (system packages via apt, then a .venv).

VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: demo test system-deps venv lint check clean

system-deps:
	@if command -v apt-get >/dev/null 2>&1; then bash installer/install-deps-debian.sh; \
	else echo "not Debian/Ubuntu: install DCMTK, Orthanc and Xvfb yourself (see README)"; fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

demo: system-deps venv
	$(VENV)/bin/kiosk --demo

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: system-deps venv lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
