# switchy-guard: `make demo` and `make test` set everything up on a fresh Debian machine.
#
#   make venv     .venv with the package (editable) and its dev/postgres/mysql extras
#   make dbdeps   MariaDB and PostgreSQL 15 server packages, installed only when missing
#   make test     the whole suite under coverage (PYTEST_ARGS=... passes options to pytest)
#   make demo     examples/demo.py
#   make lint     ruff and mypy
#   make mutation mutation testing of the modules that decide safety (MODULES=a,b for some)
#
# The tests start their own throwaway servers (tests/dbservers.py); nothing here starts
# or needs a system database service.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Root installs directly; anyone else through sudo (when there is one).
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)
# Where Debian's invoke-rc.d / deb-systemd-invoke look for a "may services start?" policy.
POLICY_RC_D ?= /usr/sbin/policy-rc.d
# Server binaries live in sbin, which is not on every user's PATH.
FIND := PATH="$$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v

.PHONY: venv dbdeps test demo lint bench mutation

$(BIN)/switchy-guard: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,mysql]'
	touch $@

venv: $(BIN)/switchy-guard

# apt-get install $(1) without letting the packages' maintainer scripts start (or fail to
# start) system services: a policy-rc.d answering 101 ("not allowed") is put in place for
# the install and removed afterwards, unless one was there already (as in Docker images).
define apt_install
	@if [ "$$(id -u)" != 0 ] && [ -z "$(SUDO)" ]; then \
		echo "error: installing $(1) needs root or sudo" >&2; exit 1; \
	fi
	$(SUDO) sh -ec 'guard=; \
		if [ ! -e $(POLICY_RC_D) ]; then \
			printf "#!/bin/sh\nexit 101\n" > $(POLICY_RC_D); chmod 755 $(POLICY_RC_D); guard=1; \
		fi; \
		trap "[ -z \"\$$guard\" ] || rm -f $(POLICY_RC_D)" EXIT; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1)'
endef

# The test servers: MariaDB and PostgreSQL 15 from Debian's packages, when missing.
dbdeps:
	@if { $(FIND) mariadbd || $(FIND) mysqld; } >/dev/null \
		&& { $(FIND) mariadb-install-db || $(FIND) mysql_install_db; } >/dev/null; then \
		echo "dbdeps: MariaDB found"; \
	else \
		echo "dbdeps: installing mariadb-server"; \
		$(MAKE) --no-print-directory _install PACKAGES=mariadb-server; \
	fi
	@if [ -x "$$(pg_config --bindir 2>/dev/null)/initdb" ] \
		|| [ -x /usr/lib/postgresql/15/bin/initdb ]; then \
		echo "dbdeps: PostgreSQL server found"; \
	else \
		echo "dbdeps: installing postgresql-15"; \
		$(MAKE) --no-print-directory _install PACKAGES=postgresql-15; \
	fi

.PHONY: _install
_install:
	$(call apt_install,$(PACKAGES))

test: venv dbdeps
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report

demo: venv
	$(BIN)/python examples/demo.py

lint: venv
	$(BIN)/ruff check switchy_guard tests examples
	$(BIN)/mypy switchy_guard tests/dbservers.py tests/conftest.py
	$(BIN)/lint-imports

# The benchmark harness (not part of the tests); squawk is installed for comparison only.
bench: venv
	$(BIN)/python -m pip install --quiet squawk-cli yoyo-migrations
	$(BIN)/python bench/run.py check
	$(BIN)/python bench/run.py runner
	$(BIN)/python bench/fleet_bench.py

# Mutation testing (bench/mutation.py; not part of the tests): each configured module
# ([tool.mutation] in pyproject.toml) against its unit tests, one fresh process per
# mutant. MODULES=checksum,ordering runs some of them. Needs nothing beyond the venv.
MODULES ?=
mutation: venv
	$(BIN)/python bench/mutation.py $(if $(MODULES),--modules $(MODULES))
