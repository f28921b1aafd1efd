"""A build larger than DuckDB's memory limit spills to the temp directory and still succeeds (what happens at
1M customers with the default 8GB). dbt-duckdb applies profile `settings` again on every new cursor, and DuckDB
refuses to switch the temp directory once something spilled, so temp_directory must be set when the database
opens (profiles.yml config_options); with it in `settings`, this build fails with "Cannot switch temporary
directory" at 88MB, while it needs less than 64MB.
DuckDB's need grows with its threads (each has its own buffers): at 88MB the build fails with 8 threads, as on a
CI container that shows its host's cores, so the test caps them at this machine's 2 (MRR_WAREHOUSE_DUCKDB_THREADS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse_runner import Warehouse


def test_a_build_that_spills_to_disk_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    data = tmp_path / "data"
    generated = warehouse.cli(
        "generate", "--customers", "3000", "--months", "24", "--seed", "1", "--out", str(data), "--quiet"
    )
    assert generated.returncode == 0, generated.stderr
    assert warehouse.load("Billing", [data]).returncode == 1  # the generator adds invalid objects on purpose

    monkeypatch.setenv("MRR_WAREHOUSE_MEMORY_LIMIT", "88MB")
    monkeypatch.setenv("MRR_WAREHOUSE_DUCKDB_THREADS", "2")
    build = warehouse.dbt_build({"as_of_date": "2024-12-31"}, "--exclude-resource-type", "unit_test")
    assert "ERROR=0" in build.stdout
    assert warehouse.query("select count(*) > 0 from mrr_movements") == [(True,)]
