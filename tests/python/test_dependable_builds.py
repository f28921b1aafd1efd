"""No landed object and no var value can stop every later build: a bad var fails at once naming the var; an object
staging cannot read (landed by an older loader) is set aside in stg_quarantined_objects with a warning."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse_runner import Warehouse, load_scenario, write_requests


@pytest.fixture(scope="module")
def scenario_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    directory = tmp_path_factory.mktemp("dependable")
    warehouse = Warehouse(directory / "warehouse.duckdb")
    scenario = load_scenario("P03_upgrade_then_downgrade")
    loaded = warehouse.load("Billing", write_requests(directory / "requests", scenario["requests"]))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build({"as_of_date": "2024-06-30"}, "--exclude-resource-type", "unit_test")
    return warehouse


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        (
            {"past_due_auto_churn_days": -5},
            "var past_due_auto_churn_days: expected null (never) or a whole number",
        ),
        ({"smart_grouping_minutes": "an hour"}, "var smart_grouping_minutes: expected a number of minutes"),
        ({"as_of_date": "2024-02-30"}, "var as_of_date: expected a date that exists"),
        ({"reporting_currency": "XYZ"}, "var reporting_currency: no exchange rates for XYZ"),
    ],
)
def test_an_invalid_var_fails_the_build_at_once_naming_the_var(
    scenario_warehouse: Warehouse, dbt_vars: dict, message: str
) -> None:
    result = scenario_warehouse.dbt("build", {"as_of_date": "2024-06-30", **dbt_vars})
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]
    # nothing was built: the failure came before any model ran
    assert " OK created " not in result.stdout


def test_an_object_staging_cannot_read_is_quarantined_and_the_build_passes(
    scenario_warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.db_path.write_bytes(scenario_warehouse.db_path.read_bytes())
    # What an older loader could land: integers past bigint and integer, a timestamp no engine reads.
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute(
            """
            insert into raw.objects
            select * replace (
                (select max(object_seq) from raw.objects) + row_number() over () as object_seq,
                external_id || '_bad' as external_id,
                case object_type
                    when 'line_item' then json_merge_patch(body, '{"amount_in_cents": 18446744073709551615}')
                    when 'plan' then json_merge_patch(body, '{"interval_count": 3000000000}')
                    when 'transaction' then json_merge_patch(body, '{"date": "2024-02-30 10:00:00"}')
                end as body
            )
            from (
                select * from raw.objects where object_type in ('line_item', 'plan', 'transaction')
                qualify row_number() over (partition by object_type order by object_seq) = 1
            )
            """
        )
    result = warehouse.dbt("build", {"as_of_date": "2024-06-30"})
    assert result.returncode == 0, result.stdout[-4000:]
    assert "WARN 3 warn_quarantined_objects" in result.stdout
    quarantined = warehouse.query(
        "select object_type, unreadable_fields from staging.stg_quarantined_objects order by object_type"
    )
    assert quarantined == [
        ("line_item", "amount_in_cents (bigint)"),
        ("plan", "interval_count (integer)"),
        ("transaction", "date (timestamp)"),
    ]
    # the readable objects are all there; the bad versions are not
    assert warehouse.query(
        "select count(*) from staging.stg_line_items where line_item_key like '%_bad'"
    ) == [(0,)]
    assert warehouse.query("select count(*) from plans where plan_external_id like '%_bad'") == [(0,)]
