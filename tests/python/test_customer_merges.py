"""SPEC 8 merges: the merged customer's subscriptions are re-keyed to the survivor before classification, so its
new business becomes the survivor's expansion; unmerge restores it; merges work across data sources."""

from __future__ import annotations

from pathlib import Path

from warehouse_runner import Warehouse, write_requests

AS_OF = {"as_of_date": "2024-04-30"}


def requests(customer: str, start: str, amount: int) -> list[dict]:
    end = start.replace("-01 ", "-28 ")
    return [
        {
            "customers": [
                {
                    "external_id": customer,
                    "name": customer.upper(),
                    "attributes": {
                        "custom": [
                            {"type": "Integer", "key": "seats", "value": amount // 1000},
                            {"type": "String", "key": f"from_{customer}", "value": customer},
                        ]
                    },
                }
            ],
            "plans": [{"external_id": "m", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
        },
        {
            "invoices": [
                {
                    "external_id": f"{customer}-inv",
                    "date": start,
                    "currency": "USD",
                    "customer_external_id": customer,
                    "line_items": [
                        {
                            "type": "subscription",
                            "subscription_external_id": f"{customer}-sub",
                            "plan_external_id": "m",
                            "service_period_start": start,
                            "service_period_end": end,
                            "amount_in_cents": amount,
                        }
                    ],
                    "transactions": [{"type": "payment", "result": "successful", "date": start}],
                }
            ]
        },
    ]


def run(warehouse: Warehouse, *args: str) -> None:
    result = warehouse.cli(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def movements(warehouse: Warehouse) -> list[tuple]:
    warehouse.dbt_build(AS_OF, "--exclude-resource-type", "unit_test")
    return warehouse.query(
        "select customer_external_id, subscription_external_id, movement_type, mrr_change_in_cents::double "
        "from mrr_movements order by movement_at"
    )


def test_merge_turns_new_business_into_expansion_across_sources_and_unmerge_restores_it(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    for source, customer, start, amount in (
        ("Billing", "m1", "2024-01-01 00:00:00", 5000),
        ("Billing", "m2", "2024-03-01 00:00:00", 3000),
        ("Other", "m3", "2024-04-01 00:00:00", 1000),
    ):
        loaded = warehouse.load(
            source, write_requests(tmp_path / customer, requests(customer, start, amount))
        )
        assert loaded.returncode == 0, loaded.stderr

    run(warehouse, "customers", "merge", "--from", "m2", "--into", "m1", "--data-source", "Billing")
    run(
        warehouse,
        *("customers", "merge", "--from", "m3", "--into", "m1"),
        *("--data-source", "Other", "--into-data-source", "Billing"),
    )
    assert movements(warehouse) == [
        ("m1", "m1-sub", "new_business", 5000.0),
        ("m1", "m2-sub", "expansion", 3000.0),
        ("m1", "m3-sub", "expansion", 1000.0),
    ]
    assert warehouse.query("select customer_external_id, mrr_in_cents::double from customers") == [
        ("m1", 9000.0)
    ]
    assert warehouse.query("select distinct customer_external_id from transactions order by 1") == [("m1",)]
    # attributes combine on the survivor; on the same key the survivor's value wins
    assert warehouse.query(
        "select customer_external_id, attribute_key, value_text from customer_attributes order by attribute_key"
    ) == [("m1", "from_m1", "m1"), ("m1", "from_m2", "m2"), ("m1", "from_m3", "m3"), ("m1", "seats", "5")]

    run(warehouse, "customers", "unmerge", "m2", "--data-source", "Billing")
    assert movements(warehouse) == [
        ("m1", "m1-sub", "new_business", 5000.0),
        ("m2", "m2-sub", "new_business", 3000.0),
        ("m1", "m3-sub", "expansion", 1000.0),
    ]
