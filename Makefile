# Plateforme: `make run` serves the demo campus, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench loadtest translations i18n db demo clean chromium sso-tools

# Runtime dependencies only for `make run`; tests add their own on top.
$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(BIN)/.dev: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

translations: $(BIN)/.runtime
	$(BIN)/pybabel compile -d translations

# After adding strings: refresh the catalogues, then translate the new French entries.
i18n: $(BIN)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k Nn_:1,2 -k _lp:1c,2 --no-location -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete

db: $(BIN)/.runtime
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo load

# The scheduler is its own process (never inside a web worker); both stop together.
# Both are told PORT: without BASE_URL, links in feeds and e-mails use it (config.py).
run: translations demo
	@echo "Plateforme on http://$(HOST):$(PORT)  (Ctrl-C stops the server and the scheduler)"
	@PORT=$(PORT) $(FLASK) scheduler run & sched=$$!; \
	trap 'kill $$sched 2>/dev/null; wait $$sched 2>/dev/null' EXIT INT TERM; \
	PORT=$(PORT) $(FLASK) run --host $(HOST) --port $(PORT)

# The browser tests (tests/browser) drive Debian's Chromium; they fail, never skip, without it.
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# The sign-in tests start Debian's slapd (an LDAP directory) and check SAML
# signatures with xmlsec1; like Chromium, installed when missing, never skipped.
# The packaged slapd service is not used (the tests start their own on loopback).
sso-tools:
	test -x /usr/sbin/slapd && command -v xmlsec1 >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	   --no-install-recommends slapd ldap-utils xmlsec1)

# Two workers, each file whole on one of them (a browser file shares its live
# server); each worker has its own PostgreSQL database (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(BIN)/.dev translations chromium sso-tools
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(BIN)/.dev
	$(BIN)/ruff check .

# The engine, the planning search, the pages (50, 332, 1,000 machines) and the
# feeds; figures in docs/performance.md. Sizes and database on request, e.g.
# ENGINE_ARGS="--bookings 500000,5000000 --database postgresql --database-url postgresql://postgres@127.0.0.1:5432/bench"
bench: $(BIN)/.dev
	$(BIN)/python bench/engine.py $(ENGINE_ARGS)
	$(BIN)/python bench/planning.py
	$(BIN)/python bench/pages.py $(PAGES_ARGS)
	$(BIN)/python bench/feeds.py $(FEEDS_ARGS)

# gunicorn (gunicorn.conf.py) on a PostgreSQL database of its own, dropped and
# re-created: LOAD_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/plateforme_load.
# Not part of `make test`; figures in docs/performance.md.
loadtest: $(BIN)/.runtime translations
	$(BIN)/python bench/load.py $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
