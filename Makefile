# switchy-guard: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)

.PHONY: venv dbdeps test demo lint bench

$(BIN)/switchy-guard: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,mysql]'
	touch $@

venv: $(BIN)/switchy-guard

# The test servers: MariaDB and PostgreSQL 15 from Debian's packages when missing.
dbdeps:
	@if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then \
		echo "installing mariadb-server"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq mariadb-server mariadb-client >/dev/null; \
	fi
	@if [ ! -x "$$(pg_config --bindir 2>/dev/null)/initdb" ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
		echo "installing postgresql-15"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-15 >/dev/null; \
	fi

test: venv dbdeps
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report

demo: venv
	$(BIN)/python examples/demo.py

lint: venv
	$(BIN)/ruff check switchy_guard tests examples
	$(BIN)/mypy switchy_guard

# The benchmark harness (not part of the tests); squawk is installed for comparison only.
bench: venv
	$(BIN)/python -m pip install --quiet squawk-cli yoyo-migrations
	$(BIN)/python bench/run.py check
	$(BIN)/python bench/run.py runner
