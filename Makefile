# The two commands of the quick start: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# everything the demo, the README's commands and the notebooks write goes under work/ (gitignored)
WORK := work
DEMO_DIR ?= $(WORK)/demo-export
DEMO_USERS ?= 1000
DEMO_KEY ?= $(WORK)/keys/demo.key

.PHONY: demo test lint typecheck pytest docs lab bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What the demo and every notebook need (tests/test_notebooks.py checks the notebooks' imports
# against these extras). The stamp is remade whenever pyproject.toml or this file changes.
$(VENV)/.installed-run: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[ner,lab,dp]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[ner,lab,dev,dp,spark]'
	# pycanon (the independent k, l, t the tests compare with) pins exact versions of
	# everything it could use; its checks need only numpy and pandas
	$(BIN)/python -m pip install --quiet --no-deps 'pycanon==1.3.6'
	touch $@ $(VENV)/.installed-run

# work/examples links to examples/, so the README's commands run as written from work/
demo: $(VENV)/.installed-run
	mkdir -p $(WORK)
	test -e $(WORK)/examples || ln -s ../examples $(WORK)/examples
	$(BIN)/dsar demo --out $(DEMO_DIR) --users $(DEMO_USERS) --seed 7
	$(BIN)/dsar catalog check $(DEMO_DIR)/catalog.yml
	$(BIN)/dsar catalog show $(DEMO_DIR)/catalog.yml
	rm -rf $(WORK)/bundles/AR-DEMO $(WORK)/bundles/AR-DEMO.zip
	# the demo's own key (owner-only, away from what it protects): the bundle carries a MAC and
	# verify checks it (without a key verify says OK, NOT AUTHENTICATED and exits 3)
	test -s $(DEMO_KEY) || (mkdir -p $(dir $(DEMO_KEY)) && umask 077 && \
	  $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $(DEMO_KEY))
	$(BIN)/dsar access --catalog $(DEMO_DIR)/catalog.yml --out $(WORK)/bundles --label AR-DEMO \
	  --key-file $(DEMO_KEY) \
	  --email "$$($(BIN)/python -c "import json; print(json.load(open('$(DEMO_DIR)/demo.json'))['subject']['email'])")"
	$(BIN)/dsar verify $(WORK)/bundles/AR-DEMO --key-file $(DEMO_KEY)
	$(BIN)/dsar verify $(WORK)/bundles/AR-DEMO.zip --key-file $(DEMO_KEY)
	@echo "The access statement: $(WORK)/bundles/AR-DEMO/report.html"
	@echo "Next: make lab (the notebooks), or cd $(WORK) and try the README's commands"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check dsar anonymize tests benchmarks
	$(BIN)/ruff format --check dsar anonymize tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Two workers, each taking whole test files (about 14 minutes instead of 24 on two cores);
# PYTEST_WORKERS=0 runs one process. The kill-at-every-write tests start their children
# from a fork server (tests/child.py): a fork of an xdist worker, which runs threads, hung once.
PYTEST_WORKERS ?= 2
pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=20

# The reference site from the docstrings, into site/; any warning fails the build.
docs: $(VENV)/.installed-dev
	$(BIN)/mkdocs build --strict

test: lint typecheck pytest docs

lab: $(VENV)/.installed-run
	mkdir -p $(WORK)
	$(BIN)/jupyter lab --allow-root notebooks/

# Every benchmark and one table of ratios (bench-out/bench-table.md); BENCH_ARGS=--quick for
# small sizes.
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(WORK) .pytest_cache .mypy_cache .ruff_cache
