"""Helpers of the published-snapshot tests: dbt as a process that can be killed, and a reader's consistency check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from warehouse_runner import PROJECT_ROOT, Warehouse, load_scenario, write_requests

# Scenario P03 (SPEC worked example) for the first build, P04 added under a second data source for the next.
FIRST = "P03_upgrade_then_downgrade"
SECOND = "P04_churn_at_cancelled_at"
FIRST_AS_OF = "2024-04-30"
SECOND_AS_OF = "2024-05-31"


def check_snapshot(path: Path | str) -> dict[str, Any]:
    """Read one snapshot as a BI tool would (a read-only connection: open, read, close) and check, within that
    one connection, that every table agrees with build_info: the tables it lists, their row counts, and
    metrics_monthly ending in the as-of month."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        build_id, as_of, counts = con.execute(
            "select build_id, as_of_date::varchar, row_counts from build_info"
        ).fetchone()
        counts = json.loads(counts)
        tables = sorted(
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        )
        actual = {name: con.execute(f'select count(*) from main."{name}"').fetchone()[0] for name in counts}
        last_month = con.execute("select max(month)::varchar from metrics_monthly").fetchone()[0]
    finally:
        con.close()
    problems = []
    if tables != sorted([*counts, "build_info"]):
        problems.append(f"tables {tables} but build_info lists {sorted(counts)}")
    problems += [
        f"{name}: {actual[name]} rows, build_info says {counts[name]}"
        for name in counts
        if actual[name] != counts[name]
    ]
    if last_month != as_of[:8] + "01":
        problems.append(f"metrics_monthly ends in {last_month}, as-of date is {as_of}")
    return {"build_id": build_id, "as_of_date": as_of, "row_counts": counts, "problems": problems}


def start_dbt(
    warehouse: Warehouse, command: str, dbt_vars: dict[str, Any], *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        warehouse.dbt_argv(command, dbt_vars, *extra),
        cwd=PROJECT_ROOT,
        env=warehouse.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_dbt(
    warehouse: Warehouse, command: str, dbt_vars: dict[str, Any], *extra: str
) -> subprocess.CompletedProcess[str]:
    return warehouse.dbt(command, dbt_vars, *extra)


def load_scenario_into(warehouse: Warehouse, name: str, data_source: str, folder: Path) -> None:
    scenario = load_scenario(name)
    loaded = warehouse.load(data_source, write_requests(folder, scenario["requests"]))
    assert loaded.returncode == 0, loaded.stderr


def first_snapshot(tmp_path: Path) -> tuple[Warehouse, Path]:
    """A warehouse with scenario P03 loaded and built once: the published snapshot of that build exists."""
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    load_scenario_into(warehouse, FIRST, "Billing", tmp_path / "first")
    # `build` (seed + models; the tests have their own test files) publishes as `run` does.
    built = run_dbt(
        warehouse,
        "build",
        {"as_of_date": FIRST_AS_OF},
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
    )
    assert built.returncode == 0, built.stdout[-4000:]
    return warehouse, tmp_path / "published.duckdb"


def published_build_id(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select build_id from build_info").fetchone()[0]


def poll(path: str, stop_file: str, out: str) -> None:
    """Check the snapshot again and again until `stop_file` exists; write every outcome to `out` (JSON)."""
    reads: list[dict[str, Any]] = []
    errors: list[str] = []
    while not os.path.exists(stop_file):
        try:
            reads.append(check_snapshot(path))
        except Exception as exc:  # every failure to open or read counts: a reader must never see one
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.01)
    Path(out).write_text(json.dumps({"reads": reads, "errors": errors}))


def hold(path: str) -> None:
    """Keep one read-only connection open (a dashboard); check through it on each line of stdin until EOF."""
    con = duckdb.connect(path, read_only=True)
    for _line in sys.stdin:
        build_id, counts = con.execute("select build_id, row_counts from build_info").fetchone()
        movements = con.execute("select count(*) from mrr_movements").fetchone()[0]
        print(
            json.dumps({"build_id": build_id, "mrr_movements": movements, "row_counts": json.loads(counts)})
        )
        sys.stdout.flush()
    con.close()


if __name__ == "__main__":  # python publishing.py poll PATH STOP OUT | hold PATH
    {"poll": poll, "hold": hold}[sys.argv[1]](*sys.argv[2:])
