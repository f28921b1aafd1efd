"""SPEC 6 end to end: a EUR customer reported in USD at the ECB reference rates of the seed.

Rates used (USD per EUR, ECB, seeds/exchange_rates.csv): 2023-12-29 1.105 (the rate for 2024-01-01, a TARGET
holiday with no publication), 2024-02-01 1.0814, 2024-03-01 1.0813, 2024-03-15 1.0892.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse_runner import Warehouse, write_requests

CENT = 0.01


def monthly_invoice(number: int, start: str, end: str, amount: int, transactions: list) -> dict:
    return {
        "external_id": f"inv_e1_{number}",
        "date": start,
        "currency": "EUR",
        "customer_external_id": "e1",
        "line_items": [
            {
                "type": "subscription",
                "subscription_external_id": "e1_sub",
                "plan_external_id": "euro_monthly",
                "service_period_start": start,
                "service_period_end": end,
                "amount_in_cents": amount,
            }
        ],
        "transactions": transactions,
    }


REQUESTS = [
    {
        "customers": [{"external_id": "e1", "name": "Euro GmbH", "country": "DE"}],
        "plans": [
            {"external_id": "euro_monthly", "name": "Euro", "interval_count": 1, "interval_unit": "month"}
        ],
    },
    {
        "invoices": [
            monthly_invoice(1, "2024-01-01 00:00:00", "2024-02-01 00:00:00", 10000, []),
            monthly_invoice(2, "2024-02-01 00:00:00", "2024-03-01 00:00:00", 10000, []),
            monthly_invoice(
                3,
                "2024-03-01 00:00:00",
                "2024-04-01 00:00:00",
                12000,
                [
                    {
                        "type": "payment",
                        "result": "successful",
                        "date": "2024-03-15 10:00:00",
                        "amount_in_cents": 10000,
                    }
                ],
            ),
        ]
    },
]


@pytest.fixture(scope="module")
def euro_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    tmp_path = tmp_path_factory.mktemp("currencies")
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", REQUESTS))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return warehouse


def test_movements_convert_at_the_new_value_date_and_revaluation_is_fx_adjustment(
    euro_warehouse: Warehouse,
) -> None:
    euro_warehouse.dbt_build({"as_of_date": "2024-03-31"}, "--exclude-resource-type", "unit_test")

    movements = euro_warehouse.query(
        "select strftime(movement_month, '%Y-%m'), movement_type, mrr_change_in_cents, native_mrr_change_in_cents "
        "from mrr_movements order by movement_at"
    )
    assert [(month, kind) for month, kind, _, _ in movements] == [
        ("2024-01", "new_business"),
        ("2024-03", "expansion"),
    ]
    assert float(movements[0][2]) == pytest.approx(10000 * 1.105, abs=CENT)
    assert float(movements[1][2]) == pytest.approx(2000 * 1.0813, abs=CENT)
    assert float(movements[1][3]) == pytest.approx(2000, abs=CENT)

    months = {
        month: (float(mrr), float(fx), float(cash))
        for month, mrr, fx, cash in euro_warehouse.query(
            "select strftime(month, '%Y-%m'), mrr, fx_adjustment, gross_cash_flow from metrics_monthly"
        )
    }
    assert months["2024-01"] == pytest.approx((11050.0, 0.0, 0.0), abs=CENT)
    # the renewal at the same native price is no movement, only an adjustment: 10000 x (1.0814 - 1.105)
    assert months["2024-02"] == pytest.approx((10814.0, -236.0, 0.0), abs=CENT)
    # the upgrade: 12000 x 1.0813; adjustment 10000 x (1.0813 - 1.0814); cash at the payment date's rate
    assert months["2024-03"] == pytest.approx((12975.6, -1.0, 10892.0), abs=CENT)


def test_reporting_in_the_customers_own_currency_has_no_fx_adjustment(euro_warehouse: Warehouse) -> None:
    euro_warehouse.dbt_build(
        {"as_of_date": "2024-03-31", "reporting_currency": "EUR"}, "--exclude-resource-type", "unit_test"
    )
    months = {
        month: (float(mrr), float(fx))
        for month, mrr, fx in euro_warehouse.query(
            "select strftime(month, '%Y-%m'), mrr, fx_adjustment from metrics_monthly"
        )
    }
    assert months == {"2024-01": (10000.0, 0.0), "2024-02": (10000.0, 0.0), "2024-03": (12000.0, 0.0)}


def test_an_amount_without_any_earlier_rate_fails_the_build_naming_currency_and_date(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    requests = [
        REQUESTS[0],
        {"invoices": [monthly_invoice(1, "1998-06-01 00:00:00", "1998-07-01 00:00:00", 10000, [])]},
    ]
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", requests))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    with pytest.raises(
        AssertionError, match="no exchange rate to USD on or before the date for: EUR on 1998-06-01"
    ):
        warehouse.dbt_build({"as_of_date": "1998-12-31"}, "--exclude-resource-type", "unit_test")
