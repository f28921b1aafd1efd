"""SPEC 4 smart grouping end to end (issue #11): each group is measured from its own first change, not from the
first change of a run of close changes."""

from __future__ import annotations

from pathlib import Path

from warehouse_runner import Warehouse, write_requests

SETUP = {
    "customers": [{"external_id": "g1", "name": "G1"}],
    "plans": [{"external_id": "m", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
}


def invoice(number: str, subscription: str, start: str, end: str, amount: int) -> dict:
    return {
        "external_id": number,
        "date": start,
        "currency": "USD",
        "customer_external_id": "g1",
        "line_items": [
            {
                "type": "subscription",
                "subscription_external_id": subscription,
                "plan_external_id": "m",
                "service_period_start": start,
                "service_period_end": end,
                "amount_in_cents": amount,
            }
        ],
    }


def test_a_group_starts_at_the_first_change_outside_the_previous_groups_window(tmp_path: Path) -> None:
    # A (3000) at 10:00 and B (2000) at 10:45: one group that starts at MRR 0, so both are new business.
    # A cancelled at 11:30 is 90 min after 10:00: it starts the next group, and B cancelled at 12:15 (45 min
    # later) joins it. That group ends at MRR 0, so both are churn. The changes are never more than 45 min apart,
    # so counting fixed windows from 10:00 would put 11:30 alone (a contraction) instead.
    requests = [
        SETUP,
        {
            "invoices": [
                invoice("i_a", "sub_a", "2024-03-04 10:00:00", "2024-04-04 10:00:00", 3000),
                invoice("i_b", "sub_b", "2024-03-04 10:45:00", "2024-04-04 10:45:00", 2000),
            ]
        },
        {"subscription_external_id": "sub_a", "cancelled_at": "2024-03-04 11:30:00"},
        {"subscription_external_id": "sub_b", "cancelled_at": "2024-03-04 12:15:00"},
    ]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", requests))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build({"as_of_date": "2024-03-31"}, "--exclude-resource-type", "unit_test")

    assert warehouse.query(
        "select cast(movement_at as varchar), movement_type, mrr_change_in_cents::double "
        "from mrr_movements order by movement_at"
    ) == [
        ("2024-03-04 10:00:00", "new_business", 3000.0),
        ("2024-03-04 10:45:00", "new_business", 2000.0),
        ("2024-03-04 11:30:00", "churn", -3000.0),
        ("2024-03-04 12:15:00", "churn", -2000.0),
    ]
    assert warehouse.query(
        "select mrr_new_business, mrr_expansion, mrr_contraction, mrr_churn, mrr_reactivation, mrr "
        "from metrics_monthly where month = date '2024-03-01'"
    ) == [(5000, 0, 0, -5000, 0, 0)]
