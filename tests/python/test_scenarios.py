"""Every worked example in ../shared/scenarios, end to end through the public interface: each request body
becomes a file, `mrr-warehouse load` lands them in order, `dbt build` runs with the scenario's vars, and the
marts must show the expected movements per (customer, month, type) and month-end MRR, to the cent."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from mrr_warehouse.schema import data_source_uuid, deterministic_uuid
from warehouse_runner import Warehouse, load_scenario, scenario_names, write_requests

CENT = 0.01


# dbt's unit tests do not depend on the data; test_dbt_unit_tests runs them once instead of in every scenario.
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def build_scenario(name: str, tmp_path: Path, *dbt_args: str) -> tuple[dict, Warehouse, int]:
    scenario = load_scenario(name)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    paths = write_requests(tmp_path / "requests", scenario["requests"])
    loaded = warehouse.load(scenario.get("data_source", "Billing"), paths)
    assert loaded.returncode in (0, 1), loaded.stdout + loaded.stderr
    warehouse.dbt_build(scenario["vars"], *(dbt_args or WITHOUT_UNIT_TESTS))
    return scenario, warehouse, loaded.returncode


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_produces_the_expected_movements_and_month_end_mrr(name: str, tmp_path: Path) -> None:
    scenario, warehouse, exit_code = build_scenario(name, tmp_path)
    expected = scenario["expected"]

    actual_movements: dict[tuple[str, str, str], float] = defaultdict(float)
    for customer, month, movement_type, amount in warehouse.query(
        """
        select customer_external_id, strftime(movement_month, '%Y-%m'), movement_type, mrr_change_in_cents
        from mrr_movements
        """
    ):
        actual_movements[(customer, month, movement_type)] += float(amount)
    expected_movements: dict[tuple[str, str, str], float] = defaultdict(float)
    for movement in expected["movements"]:
        key = (movement["customer_external_id"], movement["month"], movement["movement_type"])
        expected_movements[key] += movement["mrr_change_in_cents"]
    assert set(actual_movements) == set(expected_movements)
    for key, amount in expected_movements.items():
        assert actual_movements[key] == pytest.approx(amount, abs=CENT), key

    month_end_mrr = {
        month: float(mrr)
        for month, mrr in warehouse.query("select strftime(month, '%Y-%m'), mrr from metrics_monthly")
    }
    for month, mrr in expected.get("mrr_by_month", {}).items():
        assert month_end_mrr.get(month, 0.0) == pytest.approx(mrr, abs=CENT), month

    columns = [
        "gross_cash_flow",
        "non_recurring_cash_flow",
        "refunds",
        "net_cash_flow",
        "failed_transactions",
    ]
    cash = {
        row[0]: dict(zip(columns, row[1:], strict=True))
        for row in warehouse.query(
            f"select strftime(month, '%Y-%m'), {', '.join(columns)} from metrics_monthly"
        )
    }
    for month, figures in expected.get("cash_by_month", {}).items():
        for column, value in figures.items():
            assert float(cash[month][column]) == pytest.approx(value, abs=CENT), (month, column)

    load = expected.get("load", {})
    if "exit_code" in load:
        assert exit_code == load["exit_code"]
    if "rejected_external_ids" in load:
        rejected = {row[0] for row in warehouse.query("select distinct external_id from load_errors")}
        assert rejected == set(load["rejected_external_ids"])


def test_loading_the_same_files_again_changes_no_mart(tmp_path: Path) -> None:
    scenario, warehouse, _ = build_scenario("P06_multiple_subscriptions", tmp_path)
    marts = ["mrr_movements", "customer_mrr_monthly", "metrics_monthly", "subscriptions", "customers"]
    before = {mart: warehouse.query(f"select * from {mart} order by all") for mart in marts}
    again = warehouse.load(scenario["data_source"], sorted((tmp_path / "requests").glob("*.json")))
    assert again.returncode == 0, again.stdout + again.stderr
    warehouse.dbt_build(scenario["vars"], *WITHOUT_UNIT_TESTS)
    after = {mart: warehouse.query(f"select * from {mart} order by all") for mart in marts}
    assert after == before


def test_uuids_are_deterministic_functions_of_the_identity(tmp_path: Path) -> None:
    _, warehouse, _ = build_scenario("P01_new_business_good_faith", tmp_path)
    source = data_source_uuid("Billing")
    assert warehouse.query("select data_source_uuid, customer_uuid from customers") == [
        (source, deterministic_uuid("cus", source, "customer", "c1"))
    ]
    assert warehouse.query("select subscription_uuid from subscriptions") == [
        (deterministic_uuid("sub", source, "subscription", "c1_sub"),)
    ]


def test_dbt_unit_tests_and_data_tests_pass_in_a_full_build(tmp_path: Path) -> None:
    build_scenario("P11_prorated_extra_seat", tmp_path, "--select", "*")
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())["results"]
    unit_tests = [result for result in results if result["unique_id"].startswith("unit_test.")]
    data_tests = [result for result in results if result["unique_id"].startswith("test.")]
    assert len(unit_tests) >= 17
    assert len(data_tests) >= 20
    assert {result["status"] for result in unit_tests + data_tests} == {"pass"}
