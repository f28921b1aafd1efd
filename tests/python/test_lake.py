"""The lake (src/mrr_warehouse/lake.py): the landed tables as Parquet files that the Spark target reads, in step with
the warehouse after every load, re-sync and deletion, and free of erased data (the lake's bytes and its decoded
rows) once a deletion has run."""

from __future__ import annotations

from pathlib import Path

import duckdb
from test_source_lifecycle import DOOMED, KEPT, requests_for

from mrr_warehouse import lake
from warehouse_runner import Warehouse, write_requests


def lake_root(warehouse: Warehouse) -> Path:
    return warehouse.db_path.parent / lake.DEFAULT_NAME


def lake_rows(warehouse: Warehouse, table: str) -> list[str]:
    files = sorted(str(path) for path in lake_root(warehouse).joinpath(*table.split(".")).glob("*.parquet"))
    assert files, f"no files of {table} in the lake"
    listing = "[" + ", ".join(f"'{path}'" for path in files) + "]"
    with duckdb.connect() as con:
        return sorted(repr(row) for row in con.execute(f"select * from read_parquet({listing})").fetchall())


def warehouse_rows(warehouse: Warehouse, table: str) -> list[str]:
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?"
            " order by column_index",
            table.split("."),
        ).fetchall()
        select = ", ".join(f"cast({name} as varchar)" if kind == "JSON" else name for name, kind in columns)
        return sorted(repr(row) for row in con.execute(f"select {select} from {table}").fetchall())


def assert_lake_matches(warehouse: Warehouse) -> None:
    for table in lake.TABLES:
        assert lake_rows(warehouse, table) == warehouse_rows(warehouse, table), table


def lake_content(warehouse: Warehouse) -> bytes:
    """Every file of the lake, raw, and every Parquet file's rows decoded (the files are compressed)."""
    content = b""
    for path in sorted(lake_root(warehouse).rglob("*")):
        if path.is_file():
            content += path.read_bytes()
            if path.suffix == ".parquet":
                with duckdb.connect() as con:
                    content += repr(con.execute(f"select * from read_parquet('{path}')").fetchall()).encode()
    return content


def test_every_load_deletion_and_resync_leaves_the_lake_holding_what_the_warehouse_holds(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    for marker in (DOOMED, KEPT):
        loaded = warehouse.load(marker, write_requests(tmp_path / marker, requests_for(marker)))
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        assert_lake_matches(warehouse)
    tagged = warehouse.cli("customers", "tag", f"{KEPT}-c", "vip", "--data-source", KEPT)
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
    assert_lake_matches(warehouse)
    assert lake_rows(warehouse, "raw.manual_edits") != []

    replacement = requests_for(KEPT)
    replacement[1]["invoices"][0]["line_items"][0]["amount_in_cents"] = 7000
    resynced = warehouse.cli(
        "sources", "resync", KEPT, *map(str, write_requests(tmp_path / "resync", replacement))
    )
    assert resynced.returncode == 0, resynced.stdout + resynced.stderr
    assert_lake_matches(warehouse)
    assert any("7000" in row for row in lake_rows(warehouse, "raw.objects"))

    deleted = warehouse.cli("sources", "delete", DOOMED, "--yes")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert_lake_matches(warehouse)
    content = lake_content(warehouse)
    assert DOOMED.encode() not in content
    assert KEPT.encode() in content


def test_deleting_a_customer_rewrites_the_lake_files_that_held_it(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    doomed, kept = requests_for(DOOMED), requests_for(KEPT)
    both = [
        {"customers": doomed[0]["customers"] + kept[0]["customers"], "plans": kept[0]["plans"]},
        {"invoices": doomed[1]["invoices"] + kept[1]["invoices"]},
        # rejected (an e-mail must be text), its message quoting the customer's data: main.load_errors
        {"contacts": [{"customer_external_id": f"{DOOMED}-c", "email": [f"y@{DOOMED}.test"]}]},
    ]
    assert warehouse.load("Billing", write_requests(tmp_path / "requests", both)).returncode == 1
    before = lake_content(warehouse)
    assert DOOMED.encode() in before
    assert f"y@{DOOMED}.test".encode() in before

    result = warehouse.cli("customers", "delete", f"{DOOMED}-c", "--data-source", "Billing", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr

    after = lake_content(warehouse)
    assert DOOMED.encode() not in after
    assert DOOMED.lower().encode() not in after
    assert KEPT.encode() in after
    assert_lake_matches(warehouse)


def test_a_load_writes_only_its_own_files_and_the_small_tables(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    first = warehouse.load("Billing", write_requests(tmp_path / "first", requests_for(DOOMED)))
    assert first.returncode == 0, first.stdout + first.stderr
    objects = lake_root(warehouse) / "raw" / "objects"
    before = {path.name: path.stat().st_mtime_ns for path in objects.glob("*.parquet")}
    assert len(before) == 3  # the schema file and one per loaded file

    second = warehouse.load("Billing", write_requests(tmp_path / "second", requests_for(KEPT)))
    assert second.returncode == 0, second.stdout + second.stderr
    after = {path.name: path.stat().st_mtime_ns for path in objects.glob("*.parquet")}
    assert {name: after[name] for name in before} == before
    assert len(after) == len(before) + 2
    assert_lake_matches(warehouse)


def test_lake_sync_rebuilds_a_lake_that_was_removed(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load("Billing", write_requests(tmp_path / "r", requests_for(KEPT))).returncode == 0
    for path in sorted(lake_root(warehouse).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    result = warehouse.cli("lake", "sync")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_lake_matches(warehouse)
