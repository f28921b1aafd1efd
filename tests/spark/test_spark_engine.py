"""The engine matrix (`make test-spark`): the dbt unit tests and every scenario in ../shared/scenarios built on Spark
(dbt-spark, a local pyspark session), their published marts compared row for row with the DuckDB build of the same
warehouse, and each scenario's expected movements and month-end MRR checked on the Spark build too.

One Spark session serves the whole run (docs/decisions.md D45): the Spark builds run in this process through
dbt's Python entry point (dbtRunner), where dbt-spark's session mode finds the session the first build started.
Scenarios that share their vars land in one warehouse under data sources of their own, so each distinct set of
vars is one Spark build. The DuckDB builds run as `dbt build` processes beside the Spark ones."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from mrr_warehouse.schema import data_source_uuid
from warehouse_runner import PROJECT_ROOT, Warehouse, load_scenario, scenario_names, write_requests

CENT = 0.01
TIMINGS = Path(os.environ.get("MRR_WAREHOUSE_SPARK_TIMINGS", PROJECT_ROOT / "target" / "spark_timings.json"))


@dataclass
class Group:
    """The scenarios that share one set of vars, in one warehouse."""

    vars: dict[str, Any]
    scenarios: list[str]
    root: Path
    warehouse: Warehouse = field(init=False)
    duckdb_build: Future[subprocess.CompletedProcess[str]] | None = None
    spark_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.warehouse = Warehouse(self.root / "warehouse.duckdb")

    @property
    def spark_snapshot(self) -> Path:
        return self.root / "published_spark.duckdb"

    @property
    def duckdb_snapshot(self) -> Path:
        return self.root / "published_duckdb.duckdb"


def source_name(scenario: str) -> str:
    """Each scenario under a data source of its own (its name), so that a group's scenarios stay apart."""
    return scenario


def group_scenarios(root: Path) -> list[Group]:
    groups: dict[str, Group] = {}
    for name in scenario_names():
        dbt_vars = load_scenario(name)["vars"]
        key = json.dumps(dbt_vars, sort_keys=True)
        if key not in groups:
            groups[key] = Group(dbt_vars, [], root / f"group{len(groups):02d}")
        groups[key].scenarios.append(name)
    return list(groups.values())


def duckdb_build(group: Group) -> subprocess.CompletedProcess[str]:
    env = {**group.warehouse.env, "MRR_WAREHOUSE_PUBLISHED_DB": str(group.duckdb_snapshot)}
    argv = group.warehouse.dbt_argv("build", group.vars, "--exclude-resource-type", "unit_test")
    argv[argv.index("--target-path") + 1] = str(group.root / "dbt_target_duckdb")
    return subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)


def spark_build(group: Group, spark_dir: Path, *extra: str) -> list[Any]:
    """`dbt build --target spark` in this process, with the group's warehouse in the environment dbt reads."""
    env = {
        **group.warehouse.env,
        "MRR_WAREHOUSE_PUBLISHED_DB": str(group.spark_snapshot),
        "MRR_WAREHOUSE_SPARK_DIR": str(spark_dir),
        # a handful of rows per table: one task per shuffle instead of eight
        "MRR_WAREHOUSE_SPARK_SHUFFLE_PARTITIONS": "1",
    }
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        started = time.perf_counter()
        result = dbtRunner().invoke(
            [
                "build",
                "--target",
                "spark",
                "--vars",
                json.dumps(group.vars),
                "--project-dir",
                str(PROJECT_ROOT),
                "--profiles-dir",
                str(PROJECT_ROOT),
                "--target-path",
                str(group.root / "dbt_target_spark"),
                "--log-path",
                str(group.root / "dbt_logs_spark"),
                *extra,
            ]
        )
        group.spark_seconds = time.perf_counter() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if result.exception is not None:
        raise AssertionError(f"dbt build --target spark raised: {result.exception!r}")
    statuses = {node.node.unique_id: str(node.status) for node in (result.result or [])}
    failed = {node: status for node, status in statuses.items() if status not in ("success", "pass")}
    assert result.success and not failed, f"Spark build of {group.scenarios} failed: {failed}"
    return list(result.result)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Group], list[Any]]]:
    root = tmp_path_factory.mktemp("spark_matrix")
    spark_dir = root / "spark"
    groups = group_scenarios(root)
    for group in groups:
        for name in group.scenarios:
            scenario = load_scenario(name)
            paths = write_requests(group.root / "requests" / name, scenario["requests"])
            loaded = group.warehouse.load(source_name(name), paths)
            assert loaded.returncode in (0, 1), loaded.stdout + loaded.stderr
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as duckdb_builds:
        for group in groups:
            group.duckdb_build = duckdb_builds.submit(duckdb_build, group)
        # The unit tests do not depend on the data, and the data tests check marts that are compared row for row
        # with DuckDB's (whose builds run every data test on every group): the first Spark build, of the group with
        # the most scenarios, runs both; the others build the models and publish.
        first = max(groups, key=lambda group: len(group.scenarios))
        unit_results = [
            result
            for result in spark_build(first, spark_dir)
            if result.node.unique_id.startswith("unit_test.")
        ]
        for group in groups:
            if group is not first:
                spark_build(
                    group,
                    spark_dir,
                    "--exclude-resource-type",
                    "unit_test",
                    "--exclude-resource-type",
                    "test",
                )
        for group in groups:
            done = group.duckdb_build.result()
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(
        json.dumps(
            {
                "groups": [
                    {"scenarios": group.scenarios, "spark_build_seconds": round(group.spark_seconds, 1)}
                    for group in groups
                ],
                "all_builds_seconds": round(time.perf_counter() - started, 1),
            },
            indent=1,
        )
    )
    yield groups, unit_results


def test_every_unit_test_passes_on_spark(built: tuple[list[Group], list[Any]]) -> None:
    unit_results = built[1]
    assert len(unit_results) >= 17
    assert {str(result.status) for result in unit_results} == {"pass"}


def comparable(value: Any) -> Any:
    """Values of the two engines' snapshots on one footing: numbers as floats (DuckDB keeps more decimal places
    in some sums than Spark's decimal arithmetic), JSON text as the value it encodes."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return tuple(comparable(item) for item in value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        (0, "") if value is None else (1, round(value, 4)) if isinstance(value, float) else (2, repr(value))
        for value in row
    )


def same_value(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        # money to the cent at the very least; rates and ratios to a millionth of their size
        return math.isclose(left, right, rel_tol=1e-6, abs_tol=1e-6) or abs(left - right) < CENT / 100
    return left == right


def snapshot_tables(path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' order by table_name"
            ).fetchall()
        ]
        tables = {}
        for name in names:
            if name == "build_info":
                continue
            cursor = con.execute(f'select * from main."{name}"')
            columns = [column[0] for column in cursor.description]
            rows = sorted(
                (tuple(comparable(value) for value in row) for row in cursor.fetchall()), key=sort_key
            )
            tables[name] = (columns, rows)
        return tables


def group_of(groups: list[Group], name: str) -> Group:
    return next(group for group in groups if name in group.scenarios)


@pytest.mark.parametrize("name", scenario_names())
def test_spark_publishes_the_marts_duckdb_publishes_row_for_row(
    built: tuple[list[Group], list[Any]], name: str
) -> None:
    group = group_of(built[0], name)
    spark, duck = snapshot_tables(group.spark_snapshot), snapshot_tables(group.duckdb_snapshot)
    assert sorted(spark) == sorted(duck)
    uuid = data_source_uuid(source_name(name))
    compared = 0
    for table, (columns, duck_rows) in duck.items():
        spark_columns, spark_rows = spark[table]
        assert spark_columns == columns, table
        assert len(spark_rows) == len(duck_rows), table
        for spark_row, duck_row in zip(spark_rows, duck_rows, strict=True):
            different = [
                (column, left, right)
                for column, left, right in zip(columns, spark_row, duck_row, strict=True)
                if not same_value(left, right)
            ]
            assert not different, (table, different)
        if "data_source_uuid" in columns:
            compared += sum(1 for row in duck_rows if row[columns.index("data_source_uuid")] == uuid)
    assert compared > 0, f"no row of {name} in any mart"


@pytest.mark.parametrize("name", scenario_names())
def test_the_spark_build_shows_the_scenarios_expected_movements_and_mrr(
    built: tuple[list[Group], list[Any]], name: str
) -> None:
    scenario = load_scenario(name)
    expected = scenario["expected"]
    uuid = data_source_uuid(source_name(name))
    with duckdb.connect(str(group_of(built[0], name).spark_snapshot), read_only=True) as con:
        movements = con.execute(
            "select customer_external_id, strftime(movement_month, '%Y-%m'), movement_type, mrr_change_in_cents"
            " from mrr_movements where data_source_uuid = ?",
            [uuid],
        ).fetchall()
        month_end_mrr = dict(
            con.execute(
                "select strftime(month, '%Y-%m'), mrr from metrics_monthly_by_source where data_source_uuid = ?",
                [uuid],
            ).fetchall()
        )
    actual: dict[tuple[str, str, str], float] = defaultdict(float)
    for customer, month, movement_type, amount in movements:
        actual[(customer, month, movement_type)] += float(amount)
    wanted: dict[tuple[str, str, str], float] = defaultdict(float)
    for movement in expected["movements"]:
        wanted[(movement["customer_external_id"], movement["month"], movement["movement_type"])] += movement[
            "mrr_change_in_cents"
        ]
    assert set(actual) == set(wanted)
    for key, amount in wanted.items():
        assert actual[key] == pytest.approx(amount, abs=CENT), key
    for month, mrr in expected.get("mrr_by_month", {}).items():
        assert float(month_end_mrr.get(month, 0.0)) == pytest.approx(mrr, abs=CENT), month


def test_the_spark_snapshot_says_which_build_wrote_it(built: tuple[list[Group], list[Any]]) -> None:
    for group in built[0]:
        with duckdb.connect(str(group.spark_snapshot), read_only=True) as con:
            as_of, dbt_vars = con.execute("select as_of_date::varchar, vars from build_info").fetchone()
        assert as_of == group.vars["as_of_date"]
        assert json.loads(dbt_vars)["as_of_date"] == group.vars["as_of_date"]


def test_the_spark_export_folder_is_removed_after_publishing(built: tuple[list[Group], list[Any]]) -> None:
    spark_dir = built[0][0].root.parent / "spark"
    assert (spark_dir / "warehouse").is_dir()
    assert list((spark_dir / "publish").glob("*")) == []
