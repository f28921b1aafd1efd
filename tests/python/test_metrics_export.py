"""`mrr-warehouse metrics --format chartmogul-json`: the Metrics API response shape, from the marts."""

from __future__ import annotations

import json
from pathlib import Path

from warehouse_runner import Warehouse, load_scenario, write_requests


def test_metrics_are_written_as_chartmogul_entries_with_month_end_dates_and_a_summary(tmp_path: Path) -> None:
    scenario = load_scenario("P08_tutorial_bulk_import")
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.load(scenario["data_source"], write_requests(tmp_path / "requests", scenario["requests"]))
    warehouse.dbt_build(scenario["vars"], "--exclude-resource-type", "unit_test")

    out = tmp_path / "metrics.json"
    result = warehouse.cli("metrics", "--format", "chartmogul-json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())

    entries = {entry["date"]: entry for entry in document["entries"]}
    # 1000 cents on a six-month plan = 166.67 a month, presented as whole cents rounded half away from zero
    assert entries["2023-04-30"]["mrr"] == 167
    assert entries["2023-04-30"]["mrr-new-business"] == 167
    assert entries["2023-04-30"]["customers"] == 1
    # 1500 / 6 = 250 from June; the change is expansion of 83.33
    assert entries["2023-06-30"]["mrr"] == 250
    assert entries["2023-06-30"]["mrr-expansion"] == 83
    assert entries["2023-06-30"]["arr"] == 3000
    assert list(entries)[-1] == "2023-12-31"
    assert document["summary"]["current-mrr"] == 250
    assert document["summary"]["previous-mrr"] == 250


def test_metrics_without_a_built_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "missing.duckdb")
    result = warehouse.cli("metrics")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
