# Two commands on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp
export DJANGO_SETTINGS_MODULE := peermentor.settings

.PHONY: install run test lint fmt bench chromium pango xmlsec1 node demo migrate worker clean

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: node_modules/.stamp

# Browser tests need Debian's chromium; install it when missing and fail loudly if we can't.
chromium:
	@if ! test -x /usr/bin/chromium; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			|| { echo "ERROR: chromium is required for the browser tests and could not be installed." >&2; exit 1; }; \
	fi

# The program report's PDF is drawn by WeasyPrint, which needs Debian's Pango.
pango:
	@if ! ldconfig -p | grep -q 'libpango-1.0.so.0'; then \
		echo "Installing Pango for PDF reports..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0) \
			|| { echo "ERROR: libpango is required for PDF reports and could not be installed." >&2; exit 1; }; \
	fi

# The SAML sign-in tests run pysaml2's identity provider, which signs with Debian's xmlsec1.
xmlsec1:
	@if ! test -x /usr/bin/xmlsec1; then \
		echo "Installing xmlsec1 for the SAML sign-in tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1) \
			|| { echo "ERROR: xmlsec1 is required for the SAML sign-in tests and could not be installed." >&2; exit 1; }; \
	fi

migrate: install pango
	DEBUG=true $(BIN)/python manage.py migrate --no-input

demo: migrate
	DEBUG=true $(BIN)/python manage.py load_demo

run: demo
	@echo
	@echo "Peermentor is starting on http://127.0.0.1:$(PORT)"
	@echo "  Sign in as the organisation admin: admin@example.org / peermentor-demo"
	@echo "  Sign in as a participant:          ana@example.org   / peermentor-demo"
	@echo "  (a background-task worker and the periodic-job scheduler run beside the server;"
	@echo "   Ctrl-C stops all three)"
	@echo
	DEBUG=true SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/python manage.py db_worker & worker=$$!; \
	DEBUG=true SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/python manage.py run_periodic & scheduler=$$!; \
	trap "kill $$worker $$scheduler 2>/dev/null" EXIT INT TERM; \
	DEBUG=true SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

worker: install
	$(BIN)/python manage.py db_worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install node chromium pango xmlsec1 lint
	PEERMENTOR_TESTING=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=false $(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles peermentor.sqlite3
