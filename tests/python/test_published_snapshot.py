"""The published snapshot (issue 12): readers never fight a load or a build, never see two builds at once, and a
killed, failed or partial build leaves the previous snapshot as it was.

Expected counts come from the scenarios (../shared/scenarios): P03 has three movements of one customer in January
to March 2024, reported over four months to 2024-04-30, from two request files; P04, added under a second data
source, brings a second customer with two movements (new business in January, churn in March), and with the
as-of date 2024-05-31 the monthly series has five months, from four request files in all.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from publishing import (
    FIRST_AS_OF,
    SECOND,
    SECOND_AS_OF,
    check_snapshot,
    first_snapshot,
    load_scenario_into,
    published_build_id,
    run_dbt,
    start_dbt,
)

from mrr_warehouse import published

PUBLISHING = Path(__file__).with_name("publishing.py")
FIRST_COUNTS = {"mrr_movements": 3, "metrics_monthly": 4, "customers": 1, "loads": 2}
SECOND_COUNTS = {"mrr_movements": 5, "metrics_monthly": 5, "customers": 2, "loads": 4}


def _some(counts: dict[str, int]) -> dict[str, int]:
    return {name: counts[name] for name in FIRST_COUNTS}


def _leftovers(snapshot: Path) -> list[str]:
    return sorted(path.name for path in snapshot.parent.glob(snapshot.name + ".tmp-*"))


def test_readers_see_one_whole_build_and_block_neither_load_nor_build(tmp_path: Path) -> None:
    warehouse, snapshot = first_snapshot(tmp_path)
    first = check_snapshot(snapshot)
    assert first["problems"] == []
    assert (first["as_of_date"], _some(first["row_counts"])) == (FIRST_AS_OF, FIRST_COUNTS)
    # it holds the warehouse's personal data, so it has the warehouse file's permissions (0600 when new)
    assert stat.S_IMODE(snapshot.stat().st_mode) == stat.S_IMODE(warehouse.db_path.stat().st_mode) == 0o600

    # A dashboard keeping its connection open, and a reader polling (open, read, close) all the time.
    holder = subprocess.Popen(
        [sys.executable, str(PUBLISHING), "hold", str(snapshot)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stop, reads_file = tmp_path / "stop", tmp_path / "reads.json"
    poller = subprocess.Popen(
        [sys.executable, str(PUBLISHING), "poll", str(snapshot), str(stop), str(reads_file)]
    )
    try:
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert json.loads(holder.stdout.readline())["build_id"] == first["build_id"]

        load_scenario_into(warehouse, SECOND, "Second", tmp_path / "second")
        started = time.monotonic()
        built = run_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF})
        assert built.returncode == 0, built.stdout[-4000:]
        build_seconds = time.monotonic() - started
        time.sleep(1.0)  # let the poller read the new snapshot a few times
    finally:
        stop.touch()
        poller.wait(timeout=60)

    # A new reader sees the new build; the open connection still sees the whole old one.
    second = check_snapshot(snapshot)
    assert second["problems"] == []
    assert second["build_id"] != first["build_id"]
    assert (second["as_of_date"], _some(second["row_counts"])) == (SECOND_AS_OF, SECOND_COUNTS)
    holder.stdin.write("\n")
    holder.stdin.flush()
    held = json.loads(holder.stdout.readline())
    assert (held["build_id"], held["mrr_movements"]) == (first["build_id"], FIRST_COUNTS["mrr_movements"])
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0

    polled = json.loads(reads_file.read_text())
    assert polled["errors"] == []
    assert [read["problems"] for read in polled["reads"] if read["problems"]] == []
    seen = [read["build_id"] for read in polled["reads"]]
    # Readers kept reading through the load and the build (about every 10 ms: far more than 10 reads) and
    # switched from the first build to the second exactly once.
    assert len(seen) > 10, f"only {len(seen)} reads in {build_seconds:.0f} s"
    switches = [index for index in range(1, len(seen)) if seen[index] != seen[index - 1]]
    assert (seen[0], seen[-1], len(switches)) == (first["build_id"], second["build_id"], 1)

    # `export` writes the snapshot's tables as Parquet, one file per table.
    exported = warehouse.cli("export", "--format", "parquet", str(tmp_path / "export"))
    assert exported.returncode == 0, exported.stderr
    files = sorted(path.name for path in (tmp_path / "export").iterdir())
    assert files == sorted(f"{name}.parquet" for name in [*second["row_counts"], "build_info"])
    for name, rows in second["row_counts"].items():
        assert pl.read_parquet(tmp_path / "export" / f"{name}.parquet").height == rows, name
    movements = pl.read_parquet(tmp_path / "export" / "mrr_movements.parquet")
    movements = movements.sort("customer_external_id", "movement_at")
    assert movements.select("customer_external_id", "movement_type").rows() == [
        ("c3", "new_business"),
        ("c3", "expansion"),
        ("c3", "contraction"),
        ("c4", "new_business"),
        ("c4", "churn"),
    ]
    info = pl.read_parquet(tmp_path / "export" / "build_info.parquet")
    assert info["build_id"].to_list() == [second["build_id"]]


def test_partial_failed_and_killed_builds_leave_the_previous_snapshot(tmp_path: Path) -> None:
    warehouse, snapshot = first_snapshot(tmp_path)
    first_id = published_build_id(snapshot)
    load_scenario_into(warehouse, SECOND, "Second", tmp_path / "second")

    # Only some marts rebuilt: publishing them would put marts of two builds side by side.
    partial = run_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF}, "--select", "customers")
    assert partial.returncode == 0, partial.stdout[-4000:]
    assert "publish: skipped" in partial.stdout
    assert "marts not built by this run" in partial.stdout
    # A model fails while it runs (a table it reads is missing): nothing is published either.
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute("alter table raw.data_sources rename to data_sources_away")
    failed = run_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF})
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute("alter table raw.data_sources_away rename to data_sources")
    assert failed.returncode == 1, failed.stdout[-4000:]
    assert "publish: skipped" in failed.stdout
    assert "not every node succeeded" in failed.stdout
    # A var that is not a number stops the run before anything runs.
    refused = run_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF, "days_per_month": "not_a_number"})
    assert refused.returncode != 0 and "var days_per_month" in refused.stdout, refused.stdout[-4000:]
    assert published_build_id(snapshot) == first_id

    def kill(process: subprocess.Popen[str]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL, "dbt finished before it was killed"

    # Killed somewhere while building models (dbt run takes well over 4 s here)...
    for delay in random.Random(12).sample([0.5, 1.5, 2.5, 3.5], 2):
        process = start_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF})
        time.sleep(delay)
        kill(process)
        after = check_snapshot(snapshot)
        assert (after["build_id"], after["problems"]) == (first_id, [])
        assert _some(after["row_counts"]) == FIRST_COUNTS

    # ... and while writing the new snapshot: as soon as its temporary file appears.
    process = start_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF})
    deadline = time.monotonic() + 300
    while not _leftovers(snapshot) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    kill(process)
    assert _leftovers(snapshot), "the build was not killed while publishing"
    after = check_snapshot(snapshot)
    assert (after["build_id"], after["problems"]) == (first_id, [])

    built = run_dbt(warehouse, "run", {"as_of_date": SECOND_AS_OF})
    assert built.returncode == 0, built.stdout[-4000:]
    second = check_snapshot(snapshot)
    assert second["problems"] == []
    assert second["build_id"] != first_id
    assert (second["as_of_date"], _some(second["row_counts"])) == (SECOND_AS_OF, SECOND_COUNTS)
    assert _leftovers(snapshot) == []


def test_export_without_a_snapshot_says_so(run_cli, tmp_path: Path) -> None:
    result = run_cli("export", "--format", "parquet", tmp_path / "out")
    assert result.returncode == 2
    assert f"no published snapshot at {tmp_path / 'published.duckdb'} yet" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_snapshot_lives_beside_the_warehouse_unless_told_otherwise(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MRR_WAREHOUSE_DB", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.delenv("MRR_WAREHOUSE_PUBLISHED_DB", raising=False)
    assert published.database_path() == str(tmp_path / "data" / "published.duckdb")
    monkeypatch.setenv("MRR_WAREHOUSE_DB", "warehouse.duckdb")
    assert published.database_path() == "published.duckdb"
    monkeypatch.setenv("MRR_WAREHOUSE_PUBLISHED_DB", str(tmp_path / "bi" / "mrr.duckdb"))
    assert published.database_path() == str(tmp_path / "bi" / "mrr.duckdb")
    monkeypatch.setenv("MRR_WAREHOUSE_PUBLISHED_DB", "warehouse.duckdb")
    with pytest.raises(published.PublishError, match="names the warehouse file itself"):
        published.database_path()
