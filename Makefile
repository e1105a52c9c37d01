# Two commands matter: `make demo` and `make test`. Both set up .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo` and `make dev` share one Dagster instance: the demo's runs show in the UI.
DAGSTER_HOME_DIR := $(CURDIR)/.dagster_home
PORT ?= 3000

.PHONY: setup browser demo test lint dev clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

$(DAGSTER_HOME_DIR)/dagster.yaml: deploy/local/dagster.yaml
	mkdir -p $(DAGSTER_HOME_DIR)
	cp deploy/local/dagster.yaml $@

demo: setup $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/dora4 demo

# The UI test drives Debian's chromium (never a downloaded browser): install it if absent.
browser:
	@command -v chromium >/dev/null 2>&1 && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1; then sudo=sudo; \
	else echo "chromium is missing and installing it needs root: apt-get install chromium" >&2; exit 1; fi; \
	echo "installing Debian's chromium for the UI test"; \
	{ $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
	  || { echo "could not install chromium: install Debian's chromium package and rerun" >&2; exit 1; }

test: setup browser
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint deploy/aws/*.yaml deploy/kubernetes/exporter-role.yaml

dev: setup $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/dagster dev -w workspace.yaml -p $(PORT)

clean:
	rm -rf $(VENV) data .dagster_home
