"""SPEC 3.3 rules end to end through the CLI and dbt, beyond the shared scenarios: cancellation history
replacement, reactivating the same subscription, timestamps with offsets, recorded-API envelopes, trial lines."""

from __future__ import annotations

from pathlib import Path

from warehouse_runner import Warehouse, write_requests

SETUP = {
    "customers": [{"external_id": "x1", "name": "X1"}, {"external_id": "x2", "name": "X2"}],
    "plans": [{"external_id": "m", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
}


def invoice(number: str, customer: str, subscription: str, start: str, end: str, amount: int, **line) -> dict:
    return {
        "external_id": number,
        "date": start,
        "currency": "USD",
        "customer_external_id": customer,
        "line_items": [
            {
                "type": line.pop("type", "subscription"),
                "subscription_external_id": subscription,
                "plan_external_id": "m",
                "service_period_start": start,
                "service_period_end": end,
                "amount_in_cents": amount,
                **line,
            }
        ],
    }


def movements(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query(
        "select customer_external_id, cast(movement_at as varchar), movement_type, mrr_change_in_cents::double "
        "from mrr_movements order by customer_external_id, movement_at"
    )


def test_cancellation_history_replacement_and_reactivation_of_the_same_subscription(tmp_path: Path) -> None:
    requests = [
        SETUP,
        {
            "invoices": [
                invoice("a1", "x1", "x1_sub", "2024-01-01 00:00:00", "2024-02-01 00:00:00", 3000),
                invoice("b1", "x2", "x2_sub", "2024-01-01 00:00:00", "2024-02-01 00:00:00", 2000),
                invoice("b2", "x2", "x2_sub", "2024-04-01 00:00:00", "2024-05-01 00:00:00", 2500),
            ]
        },
        # x1: cancelled, then the history is replaced by nothing: good faith again
        {"subscription_external_id": "x1_sub", "cancelled_at": "2024-01-15 00:00:00"},
        {"subscription_external_id": "x1_sub", "cancellation_dates": []},
        # x2: cancelled in February; its own next line in April reactivates it
        {"subscription_external_id": "x2_sub", "cancelled_at": "2024-02-10 00:00:00"},
    ]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", requests))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build({"as_of_date": "2024-05-31"}, "--exclude-resource-type", "unit_test")

    assert movements(warehouse) == [
        ("x1", "2024-01-01 00:00:00", "new_business", 3000.0),
        ("x2", "2024-01-01 00:00:00", "new_business", 2000.0),
        ("x2", "2024-02-10 00:00:00", "churn", -2000.0),
        ("x2", "2024-04-01 00:00:00", "reactivation", 2500.0),
    ]
    assert warehouse.query("select subscription_external_id, status from subscriptions order by 1") == [
        ("x1_sub", "past_due"),
        ("x2_sub", "past_due"),
    ]


def test_offsets_convert_to_utc_envelopes_unwrap_and_trial_lines_make_no_mrr(tmp_path: Path) -> None:
    requests = [
        {"method": "POST", "path": "/v1/data_sources/ds/json_imports", "body": SETUP},
        {
            "invoices": [
                # 2024-02-01 01:30 at +02:00 is 2024-01-31 23:30 UTC: a January movement
                invoice("o1", "x1", "x1_sub", "2024-02-01T01:30:00+02:00", "2024-03-01T01:30:00+02:00", 4000),
                invoice(
                    "t1", "x2", "x2_trial", "2024-01-05 00:00:00", "2024-01-19 00:00:00", 0, type="trial"
                ),
            ]
        },
    ]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", requests))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")

    assert movements(warehouse) == [("x1", "2024-01-31 23:30:00", "new_business", 4000.0)]
    assert warehouse.query("select customer_external_id, status from customers order by 1") == [
        ("x1", "past_due"),
        ("x2", "lead"),
    ]
