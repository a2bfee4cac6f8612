# The two set-up commands of the README. Each installs what it needs first.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: demo test install install-test

install:
	$(PIP) install -q -e .

install-test:
	$(PIP) install -q -e '.[test]'

## Install, generate a synthetic council and run the whole pipeline on it (embedded SQLite).
demo: install
	mdh demo --people 2000 --days 5 --event-rate 20

## Install with test extras and run the test suite.
test: install-test
	$(PYTHON) -m pytest -q
