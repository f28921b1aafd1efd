# Two commands for a newcomer: `make demo` and `make test`. Everything else is here for developers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export MRR_WAREHOUSE_DB ?= $(CURDIR)/warehouse.duckdb
export DBT_PROFILES_DIR := $(CURDIR)

DEMO_CUSTOMERS ?= 3000
DEMO_MONTHS ?= 36
BENCH_CUSTOMERS ?= 100000
TEST_WORKERS ?= 2

.PHONY: install demo test test-spark lint format bench clean

install: $(VENV)/.installed

# uv installs the locked set in seconds; bytecode is compiled at install time because this
# machine sets PYTHONDONTWRITEBYTECODE and every dbt call would otherwise pay for it.
$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/uv || ($(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION))
	$(BIN)/uv sync --frozen --compile-bytecode --quiet
	@touch $@

demo: install
	$(BIN)/python scripts/demo.py --customers $(DEMO_CUSTOMERS) --months $(DEMO_MONTHS)

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc
	$(MAKE) --no-print-directory lint

# The engine matrix: dbt's unit tests and every scenario built on Spark (a local pyspark session; needs a Java
# runtime) and compared with the DuckDB build of the same data. One process: one Spark session for all of it.
test-spark: install
	@command -v java >/dev/null 2>&1 || { echo "test-spark needs a Java runtime (Debian: apt-get install default-jre-headless)"; exit 1; }
	$(BIN)/python -m pytest tests/spark -p no:xdist -p no:cacheprovider; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/sqlfluff lint models macros tests

format: install
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/sqlfluff fix models macros tests

bench: install
	$(BIN)/python scripts/bench.py --customers $(BENCH_CUSTOMERS)
	$(BIN)/python scripts/bench_server.py

clean:
	rm -rf target logs dbt_packages warehouse.duckdb warehouse.duckdb.wal demo_data report.html lake spark
