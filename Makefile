# winact.kms: build, test and lint.
#
#   make test    everything CI runs, from a fresh checkout (creates .venv itself)
#   make demo    an emulated Windows fleet and the collection's playbooks run against it
#
# Other targets: venv unit emulator integration sanity lint ruff mypy meta-check docs-check changelog-lint
# ansible-test-units ansible-test-integration matrix-oldest docs docs-lint docsite-rst
# bench format runtime-meta collection-link clean. `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.SUFFIXES:

VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/winact/kms
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/winact/kms
# Upper bound for one ansible-test sanity run; the first run on a machine also builds its per-test venvs.
SANITY_TIMEOUT ?= 1200
PYTEST_ARGS ?=
# Parallel pytest workers for the integration suite (real ansible-playbook runs, mostly waiting on subprocesses).
INTEGRATION_WORKERS ?= 2

# Evaluated when a recipe runs, i.e. after `venv` made the interpreter exist.
PY_VERSION = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
MODULES = $(sort $(basename $(notdir $(filter-out %/__init__.py,$(wildcard plugins/modules/*.py)))))
# Filter plugin files that document a filter of the same name (a file may also hold undocumented helpers).
FILTERS = $(sort $(basename $(notdir $(shell grep -l '^DOCUMENTATION' plugins/filter/*.py 2>/dev/null))))

# What the tests see: the venv's tools first and this checkout as the winact.kms collection.
TEST_ENV := PATH="$(VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" PYTHONPATH="$(COLLECTIONS)"

# pytest exits 5 when a directory holds no test yet: say so instead of failing; any other status stands.
# $(1) = test directory, $(2) = extra pytest arguments.
define run_pytest
	@if [ ! -d $(1) ]; then echo "== $(1): directory absent, nothing to run"; exit 0; fi; \
	echo "== pytest $(1)"; \
	rc=0; $(TEST_ENV) $(PY) -m pytest $(1) $(2) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "== $(1): no tests collected"; rc=0; fi; \
	exit $$rc
endef

TEST_TARGETS := meta-check changelog-lint ruff mypy unit emulator integration reliability docs-check docs-lint lint sanity \
	ansible-test-units ansible-test-integration matrix-oldest

.PHONY: help test venv krb5-deps collection-link ansible-test-units ansible-test-integration matrix-oldest docs docs-lint \
	docsite-rst bench-baseline-venv unit emulator integration sanity sanity-copy sanity-deps get-pip-standin lint ruff \
	format mypy meta-check runtime-meta docs-check changelog-lint demo bench sweep load clean browser-deps $(TEST_TARGETS)

help:
	@echo "make test     run every check CI runs: $(TEST_TARGETS)"
	@echo "make demo     start an emulated fleet and run the playbooks against it"
	@echo "make docs     build the docsite (antsibull-docs, Sphinx) into build/docsite/build/html"
	@echo "make docsite-rst   regenerate docs/docsite/rst from the guides docs/docsite/extra-docs.yml lists"
	@echo "make matrix-oldest the oldest supported versions (ansible-core 2.19.0, Python 3.11): ansible-test units + targets"
	@echo "make bench    run tests/benchmarks (pytest-benchmark), then the fleet cost benchmark (bench/results.json)"
	@echo "make sweep    the full fault sweep: every fault kind at every request index"
	@echo "make load     the site playbook against 200 emulated hosts with forks 50, three times"
	@echo "make format   apply ruff's formatting and safe fixes"
	@echo "make runtime-meta  rewrite meta/runtime.yml action_groups.kms from plugins/modules"
	@echo "make clean    remove build/ and tool caches (keeps .venv)"

# Runs every suite even when one fails, so one run reports all failures; fails if any failed.
test:
	@$(MAKE) --no-print-directory venv
	@passed=0; failed=""; \
	for target in $(TEST_TARGETS); do \
		if $(MAKE) --no-print-directory $$target; then passed=$$((passed + 1)); else failed="$$failed $$target"; fi; \
	done; \
	echo; \
	if [ -n "$$failed" ]; then echo "== make test: failed:$$failed"; fi; \
	echo "suites: $$passed passed, $$(echo $$failed | wc -w) failed"; \
	[ -z "$$failed" ]

venv: krb5-deps
	@bash tools/venv.sh "$(VENV)"

# Kerberos: the Python bindings (pykerberos, gssapi, krb5) build against MIT Kerberos, and the tests run a
# throw-away MIT KDC (tests/emulator/winemu_lib/kdc.py). Installs the Debian packages when missing.
KRB5_PACKAGES := libkrb5-dev krb5-user krb5-kdc krb5-admin-server
krb5-deps:
	@if ! command -v krb5-config >/dev/null || ! PATH="$$PATH:/usr/sbin" command -v krb5kdc >/dev/null \
		|| ! PATH="$$PATH:/usr/sbin" command -v kadmin.local >/dev/null || ! command -v kinit >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "== installing $(KRB5_PACKAGES) (Debian packages) for Kerberos"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q $(KRB5_PACKAGES) >/dev/null 2>&1 \
				|| { apt-get update -q >/dev/null && apt-get install -y -q $(KRB5_PACKAGES) >/dev/null; } \
				|| { echo "== could not install $(KRB5_PACKAGES)"; exit 1; }; \
		else \
			echo "== MIT Kerberos missing and apt-get unavailable: install $(KRB5_PACKAGES) or their equivalents"; \
			exit 1; \
		fi; \
	fi

collection-link:
	@if [ "$$(readlink -f "$(COLLECTION_LINK)" 2>/dev/null)" != "$$(readlink -f "$(CURDIR)")" ]; then \
		mkdir -p "$(dir $(COLLECTION_LINK))" && ln -sfn ../../../.. "$(COLLECTION_LINK)"; \
	fi

unit: venv collection-link
	$(call run_pytest,tests/unit)

emulator: venv collection-link
	$(call run_pytest,tests/emulator)

# Each test file starts its own fleets (module-scoped), so files run in parallel; a file's tests stay in order.
integration: venv collection-link browser-deps
	$(call run_pytest,tests/integration,-n $(INTEGRATION_WORKERS) --dist loadfile --no-loadscope-reorder)

# The report test opens winact.kms.report's page in a real headless browser: Debian's chromium package.
browser-deps:
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "== installing chromium (Debian package) for the report page test"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q chromium >/dev/null 2>&1 \
				|| { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
				|| echo "== could not install chromium: the report page test will fail"; \
		else \
			echo "== chromium not installed and apt-get unavailable: the report page test will fail"; \
		fi; \
	fi

# Then the per-host cost of the kms_client role on emulated fleets of BENCH_HOSTS clients, side by side with
# the ansible.windows way (PyPI ansible in its own venv) up to BENCH_BASELINE_MAX hosts (bench/results.*).
BENCH_HOSTS ?= 10 100 500
BENCH_BASELINE_MAX ?= 100
BASELINE_VENV := $(CURDIR)/.venv-baseline
bench: venv collection-link bench-baseline-venv
	$(call run_pytest,tests/benchmarks,--benchmark-only)
	$(TEST_ENV) $(PY) tests/benchmarks/fleet_cost.py --hosts $(BENCH_HOSTS) --baseline-bin $(BASELINE_VENV)/bin \
		--baseline-max-hosts $(BENCH_BASELINE_MAX) --profile bench/profile.txt --out bench/results.json --svg bench/results.svg

bench-baseline-venv: requirements/bench-baseline.txt
	@if ! cmp -s requirements/bench-baseline.txt $(BASELINE_VENV)/.requirements 2>/dev/null; then \
		rm -rf $(BASELINE_VENV) && $(PY) -m venv $(BASELINE_VENV) && \
		$(BASELINE_VENV)/bin/pip install -q -r requirements/bench-baseline.txt && \
		cp requirements/bench-baseline.txt $(BASELINE_VENV)/.requirements; \
	fi

# Fault sweep (every fault kind at every request index) and hostile hosts (docs/reliability.md); `make sweep`
# runs the sweep alone.
reliability: export WINACT_SWEEP = full
reliability: venv collection-link
	$(call run_pytest,tests/reliability)

sweep: export WINACT_SWEEP = full
sweep: venv collection-link
	$(call run_pytest,tests/reliability,-k test_fault_sweep)

# The site playbook against 200 emulated hosts, forks 50, three times, alone (make test runs it too).
load: export WINACT_LOAD_HOSTS = 200
load: venv collection-link
	$(TEST_ENV) $(PY) -m pytest tests/integration/test_load.py $(PYTEST_ARGS)

demo: venv collection-link
	$(TEST_ENV) bash scripts/demo.sh

ruff: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Plugins are checked through the collection link so that their ansible_collections.* imports resolve.
MYPY_DIRS = $(foreach d,tests/unit tests/integration tests/emulator tests/benchmarks tests/reliability tests/sanity_extra tools,\
	$(if $(shell find $(d) -name '*.py' -print -quit 2>/dev/null),$(d)))
mypy: venv collection-link
	$(VENV)/bin/mypy $(if $(wildcard plugins/*/*.py),build/collections/ansible_collections/winact/kms/plugins) \
		$(MYPY_DIRS) conftest.py

# Collection metadata: the action group matches the modules, plugin headers, changelog fragments.
meta-check: venv changelog-lint
	@rc=0; \
	$(PY) tests/sanity_extra/action_groups.py || rc=1; \
	$(PY) tests/sanity_extra/plugin_headers.py || rc=1; \
	exit $$rc

changelog-lint: venv
	$(VENV)/bin/antsibull-changelog lint
	$(VENV)/bin/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

runtime-meta: venv
	$(PY) tests/sanity_extra/action_groups.py --write

# Renders each module's (and documented filter's) documentation the way users read it; any error or
# warning fails.
docs-check: venv collection-link
	@if [ -z "$(MODULES)$(FILTERS)" ]; then echo "== docs-check: no modules or filters yet"; exit 0; fi; \
	failed=0; \
	for plugin in $(addprefix module:,$(MODULES)) $(addprefix filter:,$(FILTERS)); do \
		type=$${plugin%%:*}; name=winact.kms.$${plugin#*:}; \
		if out=$$($(TEST_ENV) ANSIBLE_NOCOLOR=1 $(VENV)/bin/ansible-doc -t $$type "$$name" 2>&1 >/dev/null) \
			&& [ -z "$$out" ]; then \
			echo "== ansible-doc -t $$type $$name: ok"; \
		else \
			echo "== ansible-doc -t $$type $$name: FAILED"; echo "$$out"; failed=1; \
		fi; \
	done; \
	exit $$failed

# The docsite (antsibull-docs): the guides of docs/docsite/extra-docs.yml converted from docs/*.md, and the
# collection's documentation linted the way docs.ansible.com builds it. `make docs` builds the site locally
# into build/docsite/build/html.
docsite-rst: venv
	$(PY) tools/gen_docsite.py

docs-lint: venv collection-link
	$(PY) tools/gen_docsite.py --check
	cd "$(COLLECTION_LINK)" && $(TEST_ENV) $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs .

DOCSITE := $(BUILD)/docsite
docs: venv collection-link docsite-rst
	@rm -rf "$(DOCSITE)" && mkdir -p "$(DOCSITE)"
	$(TEST_ENV) $(VENV)/bin/antsibull-docs sphinx-init --use-current --lenient --dest-dir "$(DOCSITE)" winact.kms
	cd "$(DOCSITE)" && $(TEST_ENV) ./build.sh
	@echo "== docsite: $(DOCSITE)/build/html/index.html"

# ansible-lint on what users run; skipped while roles/ and playbooks/ hold nothing.
lint: venv collection-link
	@paths="$$(for d in roles playbooks; do [ -n "$$(find $$d -name '*.yml' -print -quit 2>/dev/null)" ] && echo $$d; done || true)"; \
	if [ -z "$$paths" ]; then echo "== ansible-lint: no roles or playbooks yet"; exit 0; fi; \
	echo "== ansible-lint --profile production --strict --offline $$paths"; \
	$(TEST_ENV) $(VENV)/bin/ansible-lint --profile production --strict --offline $$([ -t 1 ] || echo --nocolor) $$paths

# ansible-test needs the tree at .../ansible_collections/winact/kms: sanity runs on a copy of the checkout
# (what is on disk, committed or not) without the venv, build output, VCS data and caches.
sanity-copy:
	@rm -rf "$(BUILD)/sanity"
	@mkdir -p "$(SANITY_ROOT)"
	@tar -C "$(CURDIR)" -cf - --exclude=./.venv --exclude="./.venv-*" --exclude=./build --exclude=./.git --exclude=./tests/output \
		--exclude=.mypy_cache --exclude=.ruff_cache --exclude=.pytest_cache --exclude=__pycache__ \
		--exclude=.benchmarks --exclude=./.ansible --exclude='*.tar.gz' . | tar -C "$(SANITY_ROOT)" -xf -
	@# A repository of its own, or ansible-test would take the file list from the checkout's (where build/ is
	@# ignored). Untracked files count, ignored ones do not: the same set a commit of the checkout would hold.
	@git -C "$(SANITY_ROOT)" init -q

get-pip-standin: venv
	@$(PY) tools/ansible_test_get_pip.py >/dev/null

# The shellcheck sanity test is skipped with a warning when the program is missing: install it (Debian).
sanity-deps:
	@if ! command -v shellcheck >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "== installing shellcheck (Debian package) for the shellcheck sanity test"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q shellcheck >/dev/null 2>&1 \
				|| { apt-get update -q >/dev/null && apt-get install -y -q shellcheck >/dev/null; } \
				|| echo "== could not install shellcheck: its sanity test will be skipped"; \
		else \
			echo "== shellcheck not installed and apt-get unavailable: its sanity test will be skipped"; \
		fi; \
	fi

sanity: venv sanity-copy get-pip-standin sanity-deps
	@echo "== ansible-test sanity --python $(PY_VERSION) (in $(SANITY_ROOT))"
	@start=$$(date +%s); rc=0; \
	cd "$(SANITY_ROOT)" && timeout --kill-after=30 $(SANITY_TIMEOUT) env -u ANSIBLE_COLLECTIONS_PATH PATH="$(VENV)/bin:$$PATH" \
		$(VENV)/bin/ansible-test sanity --requirements --python $(PY_VERSION) --color no --truncate 0 || rc=$$?; \
	echo "== ansible-test sanity: exit $$rc after $$(( $$(date +%s) - start ))s"; \
	if [ $$rc -eq 124 ]; then echo "== ansible-test sanity: stopped after $(SANITY_TIMEOUT)s"; fi; \
	exit $$rc

# The Ansible way, on a copy of the tree at .../ansible_collections/winact/kms: `ansible-test units` (fails when it
# ran no test) and `ansible-test windows-integration` with tests/integration/targets against an emulated fleet.
ansible-test-units: venv sanity-copy
	@bash tools/ansible_test_units.sh "$(VENV)" "$(SANITY_ROOT)"

ansible-test-integration: venv sanity-copy
	@bash tools/ansible_test_windows.sh "$(VENV)" "$(SANITY_ROOT)"

# The oldest end of the version matrix (the newest is $(VENV): ansible-core 2.21 on the newest Python): the oldest
# ansible-core meta/runtime.yml allows on Python 3.11 runs the unit tests and the ansible-test integration targets.
MATRIX_OLDEST_VENV ?= $(CURDIR)/.venv-py311
matrix-oldest: venv sanity-copy
	@bash tools/venv.sh "$(MATRIX_OLDEST_VENV)" 3.11 requirements/matrix-oldest.txt
	@echo "== oldest end: $$($(MATRIX_OLDEST_VENV)/bin/ansible --version | head -1), $$($(MATRIX_OLDEST_VENV)/bin/python -V)"
	@bash tools/ansible_test_units.sh "$(MATRIX_OLDEST_VENV)" "$(SANITY_ROOT)"
	@bash tools/ansible_test_windows.sh "$(MATRIX_OLDEST_VENV)" "$(SANITY_ROOT)" "$(PY)"

clean:
	rm -rf "$(BUILD)" .mypy_cache .ruff_cache .pytest_cache tests/output
