"""Incremental builds: the staging models of invoices, line items and transactions parse only the objects landed
since the last build (D29). Whatever happened in between (more loads, a re-sync, a customer deleted), a build
that reuses them must give exactly what a full refresh gives on the same data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse_runner import Warehouse

AS_OF = {"as_of_date": "2023-12-31"}
SOURCE = "Billing"
INCREMENTAL_MODELS = ("stg_invoices", "stg_line_items", "stg_transactions")


def built_tables(warehouse: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Every table dbt built, its rows in a stable order."""
    names = warehouse.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_type = 'BASE TABLE' and table_schema in ('main', 'staging', 'intermediate')"
        " and table_name not in ('loads', 'load_errors', 'load_warnings')"
        " and table_name <> 'int_build_scope' order by 1"  # what a build recomputed, not what the data is
    )
    return {name: warehouse.query(f"select * from {name} order by all") for (name,) in names}


def build(warehouse: Warehouse, *extra: str) -> dict[str, Any]:
    warehouse.dbt_build(AS_OF, "--exclude-resource-type", "unit_test", *extra)
    results = json.loads((warehouse.db_path.parent / "dbt_target" / "run_results.json").read_text())
    return {result["unique_id"].rsplit(".", 1)[-1]: result for result in results["results"]}


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    out = tmp_path / "data"
    result = Warehouse(tmp_path / "unused.duckdb").cli(
        "generate", "--customers", "300", "--months", "12", "--seed", "3", "--start-date", "2023-01-01",
        "--chunk-size", "100", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return sorted(out.iterdir())


def test_incremental_builds_equal_a_full_refresh_after_loads_a_resync_and_a_deletion(
    tmp_path: Path, files: list[Path]
) -> None:
    plans, first, second, third, cancellations = files
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load(SOURCE, [plans, first]).returncode in (0, 1)
    build(warehouse)
    parsed_first = warehouse.query("select count(*) from staging.stg_line_items")[0][0]

    assert warehouse.load(SOURCE, [second, third, cancellations]).returncode in (0, 1)
    nodes = build(warehouse)
    assert all(nodes[model]["status"] == "success" for model in INCREMENTAL_MODELS)
    assert warehouse.query("select count(*) from staging.stg_line_items")[0][0] > parsed_first
    # a re-sync without the third file: its objects are gone, the others land again under new object_seq
    resynced = warehouse.cli("sources", "resync", SOURCE, str(plans), str(first), str(second))
    assert resynced.returncode in (0, 1), resynced.stdout + resynced.stderr
    build(warehouse)
    assert warehouse.load(SOURCE, [third, cancellations]).returncode in (0, 1)
    customer = warehouse.query(
        "select customer_external_id from staging.stg_invoices order by invoice_external_id limit 1"
    )[0][0]
    deleted = warehouse.cli("customers", "delete", customer, "--data-source", SOURCE, "--yes")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    build(warehouse)
    incremental = built_tables(warehouse)

    build(warehouse, "--full-refresh")
    full = built_tables(warehouse)

    assert incremental.keys() == full.keys()
    assert {f"staging.{model}" for model in INCREMENTAL_MODELS} <= incremental.keys()
    for table, rows in full.items():
        assert incremental[table] == rows, table
    landed = warehouse.query("select count(*) from raw.objects where object_type = 'line_item'")[0][0]
    assert len(full["staging.stg_line_items"]) == landed


def test_an_incremental_build_parses_only_the_new_objects(tmp_path: Path, files: list[Path]) -> None:
    plans, first, second, *_ = files
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load(SOURCE, [plans, first]).returncode in (0, 1)
    build(warehouse)
    # mark the rows parsed so far: a build that parsed them again would lose the mark
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute("update staging.stg_line_items set line_item_position = -1")

    assert warehouse.load(SOURCE, [second]).returncode in (0, 1)
    build(warehouse)
    marked = (
        "select load_id, bool_and(line_item_position = -1) from staging.stg_line_items group by 1 order by 1"
    )
    loads = [row[0] for row in warehouse.query("select load_id from main.loads order by started_at")]
    assert warehouse.query(marked) == [(loads[1], True), (loads[2], False)]

    build(warehouse, "--full-refresh")
    assert warehouse.query(marked) == [(loads[1], False), (loads[2], False)]
