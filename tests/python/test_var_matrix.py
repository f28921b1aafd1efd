"""The var matrix (README "Vars"): one small warehouse, loaded once, built under the defaults and then under a
non-default value of every var. Each build is a full `dbt build`: the dbt unit tests (which must pin every var
they read) and the data tests, the bridge invariants among them, run under the user's vars and must pass. Each
var also changes one customer's movements in a way computed here by hand from SPEC.

Customers (one data source, monthly plan `m`, 30-day plan `d30`):
- `days`: 3000 on the 30-day plan from Jan 1 (SPEC 3.1: 3000 / (30 / days_per_month) a month).
- `lapsed`: 5000 for January only, never renewed, never cancelled (SPEC 3.3 good faith vs auto-churn).
- `burst`: subscription A 2000 at Mar 1 10:00, B 1000 at 10:30 (SPEC 4 smart grouping).
- `free`: 4000 in January, a 0 line in February, 4000 again in March (SPEC 4 free downgrade).
- `events`: only a subscription_start event of 6000 on plan `m`, effective Feb 1 (SPEC 3.3).
- `fees`: 10000 from Jan 1 with 300 of transaction fees (SPEC 3.1).
- `euro`: 5000 EUR from Jan 1 (SPEC 6).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from warehouse_runner import PROJECT_ROOT, Warehouse, write_requests

AS_OF = "2024-06-30"


def line(subscription: str, start: str, end: str, amount: int, plan: str = "m", **extra: Any) -> dict:
    return {
        "type": "subscription",
        "subscription_external_id": subscription,
        "plan_external_id": plan,
        "service_period_start": start,
        "service_period_end": end,
        "amount_in_cents": amount,
        **extra,
    }


def invoice(number: str, customer: str, *lines: dict, currency: str = "USD") -> dict:
    return {
        "external_id": number,
        "date": lines[0]["service_period_start"],
        "currency": currency,
        "customer_external_id": customer,
        "line_items": list(lines),
    }


REQUESTS: list[dict] = [
    {
        "customers": [
            {"external_id": name, "name": name.title()}
            for name in ("days", "lapsed", "burst", "free", "events", "fees", "euro")
        ],
        "plans": [
            {"external_id": "m", "name": "Monthly", "interval_count": 1, "interval_unit": "month"},
            {"external_id": "d30", "name": "30 days", "interval_count": 30, "interval_unit": "day"},
        ],
    },
    {
        "invoices": [
            invoice("days-1", "days", line("days_s", "2024-01-01", "2024-01-31", 3000, plan="d30")),
            invoice("lapsed-1", "lapsed", line("lapsed_s", "2024-01-01", "2024-02-01", 5000)),
            invoice("burst-a", "burst", line("burst_a", "2024-03-01 10:00:00", "2024-04-01 10:00:00", 2000)),
            invoice("burst-b", "burst", line("burst_b", "2024-03-01 10:30:00", "2024-04-01 10:30:00", 1000)),
            invoice("free-1", "free", line("free_s", "2024-01-01", "2024-02-01", 4000)),
            invoice("free-2", "free", line("free_s", "2024-02-01", "2024-03-01", 0)),
            invoice("free-3", "free", line("free_s", "2024-03-01", "2024-04-01", 4000)),
            invoice(
                "fees-1",
                "fees",
                line("fees_s", "2024-01-01", "2024-02-01", 10000, transaction_fees_in_cents=300),
            ),
            invoice("euro-1", "euro", line("euro_s", "2024-01-01", "2024-02-01", 5000), currency="EUR"),
        ]
    },
    {
        "subscription_events": [
            {
                "external_id": "events-start",
                "customer_external_id": "events",
                "subscription_external_id": "events_s",
                "plan_external_id": "m",
                "event_type": "subscription_start",
                "event_date": "2024-02-01",
                "effective_date": "2024-02-01",
                "currency": "USD",
                "amount_in_cents": 6000,
                "tax_amount_in_cents": 0,
            }
        ]
    },
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse file after the load; each build works on its own copy."""
    directory = tmp_path_factory.mktemp("var_matrix")
    warehouse = Warehouse(directory / "warehouse.duckdb")
    result = warehouse.load("Billing", write_requests(directory / "requests", REQUESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    return warehouse.db_path


def build(loaded: Path, tmp_path: Path, dbt_vars: dict[str, Any]) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    shutil.copy(loaded, warehouse.db_path)
    warehouse.dbt_build(dbt_vars)  # unit tests and data tests included: they must pass under these vars
    return warehouse


def movements(warehouse: Warehouse, customer: str) -> list[tuple[str, str, float]]:
    rows = warehouse.query(
        "select strftime(movement_at, '%Y-%m-%d %H:%M'), movement_type, round(mrr_change_in_cents, 2)::double "
        "from mrr_movements where customer_external_id = ? order by movement_at, movement_type",
        [customer],
    )
    return [tuple(row) for row in rows]


def last_month(warehouse: Warehouse) -> str:
    return warehouse.query("select strftime(max(month), '%Y-%m') from metrics_monthly")[0][0]


def test_every_var_in_dbt_project_is_in_the_matrix() -> None:
    declared = set(yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"])
    assert declared == {"as_of_date", *NON_DEFAULT}


def test_defaults_follow_spec(loaded: Path, tmp_path: Path) -> None:
    warehouse = build(loaded, tmp_path, {})  # as_of_date unset: today (UTC)
    assert last_month(warehouse) == datetime.now(UTC).strftime("%Y-%m")
    # 3000 / (30 / (365 / 12)) = 3041.67
    assert movements(warehouse, "days") == [("2024-01-01 00:00", "new_business", 3041.67)]
    # good faith: never cancelled, so never churned
    assert movements(warehouse, "lapsed") == [("2024-01-01 00:00", "new_business", 5000.0)]
    assert movements(warehouse, "burst") == [
        ("2024-03-01 10:00", "new_business", 2000.0),
        ("2024-03-01 10:30", "new_business", 1000.0),
    ]
    assert movements(warehouse, "free") == [
        ("2024-01-01 00:00", "new_business", 4000.0),
        ("2024-02-01 00:00", "contraction", -4000.0),
        ("2024-03-01 00:00", "expansion", 4000.0),
    ]
    assert movements(warehouse, "events") == []
    assert movements(warehouse, "fees") == [("2024-01-01 00:00", "new_business", 10000.0)]


NON_DEFAULT: dict[str, tuple[Any, dict[str, list[tuple[str, str, float]]]]] = {
    # 3000 / (30 / 30) = 3000
    "days_per_month": (30, {"days": [("2024-01-01 00:00", "new_business", 3000.0)]}),
    # the last period ends Feb 1; ten days later the subscription is cancelled, and it was the only one
    "past_due_auto_churn_days": (
        10,
        {"lapsed": [("2024-01-01 00:00", "new_business", 5000.0), ("2024-02-11 00:00", "churn", -5000.0)]},
    ),
    "smart_grouping_minutes": (
        0,
        {"burst": [("2024-03-01 10:00", "new_business", 2000.0), ("2024-03-01 10:30", "expansion", 1000.0)]},
    ),
    "free_downgrade_is_churn": (
        True,
        {
            "free": [
                ("2024-01-01 00:00", "new_business", 4000.0),
                ("2024-02-01 00:00", "churn", -4000.0),
                ("2024-03-01 00:00", "reactivation", 4000.0),
            ]
        },
    ),
    "subscription_events_drive_mrr": (True, {"events": [("2024-02-01 00:00", "new_business", 6000.0)]}),
    # 10000 - 300
    "deduct_transaction_fees": (True, {"fees": [("2024-01-01 00:00", "new_business", 9700.0)]}),
    # reported in its own currency, the EUR subscription is worth exactly what it was sold for
    "reporting_currency": ("EUR", {"euro": [("2024-01-01 00:00", "new_business", 5000.0)]}),
}


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_each_var_changes_what_spec_says_and_the_build_passes(
    name: str, loaded: Path, tmp_path: Path
) -> None:
    value, expected = NON_DEFAULT[name]
    warehouse = build(loaded, tmp_path, {"as_of_date": AS_OF, name: value})
    assert last_month(warehouse) == "2024-06"  # a non-default as_of_date: nothing reported after it
    assert warehouse.query("select count(*) from mrr_movements where movement_at >= '2024-07-01'") == [(0,)]
    for customer, customer_movements in expected.items():
        assert movements(warehouse, customer) == customer_movements


def test_every_dbt_unit_test_pins_every_var() -> None:
    """Unit tests run inside every user's `dbt build`, with the user's vars: unpinned, a user's var changes a
    hand-computed expectation and the build fails (and dbt skips every mart downstream)."""
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    for path in sorted((PROJECT_ROOT / "models").rglob("*.yml")):
        for unit_test in yaml.safe_load(path.read_text()).get("unit_tests", []):
            pinned = unit_test.get("overrides", {}).get("vars", {})
            assert set(pinned) == set(project), (path.name, unit_test["name"], set(project) - set(pinned))
