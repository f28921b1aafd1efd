"""SPEC 7 end to end: tags, typed custom attributes, contacts, status and lead/trial/conversion counts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from warehouse_runner import Warehouse, write_requests

REQUESTS = [
    {
        "customers": [
            {
                "external_id": "crm1",
                "name": "Acme",
                "email": "ops@acme.test",
                "lead_created_at": "2024-01-10 00:00:00",
                "free_trial_started_at": "2024-01-20 00:00:00",
                "attributes": {
                    "tags": ["vip", "beta"],
                    "custom": [
                        {"type": "Integer", "key": "seats", "value": 12, "source": "api"},
                        {"type": "Boolean", "key": "is_partner", "value": True, "source": "api"},
                        {
                            "type": "Timestamp",
                            "key": "renews_at",
                            "value": "2024-05-01T00:00:00Z",
                            "source": "api",
                        },
                    ],
                },
            },
            {"external_id": "crm2", "name": "Lead only", "lead_created_at": "2024-02-03 00:00:00"},
        ],
        "plans": [{"external_id": "m", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
    },
    {"contacts": [{"customer_external_id": "crm1", "first_name": "Ada", "email": "ada@acme.test"}]},
    {
        "invoices": [
            {
                "external_id": "inv_crm1",
                "date": "2024-02-05 00:00:00",
                "currency": "USD",
                "customer_external_id": "crm1",
                "line_items": [
                    {
                        "type": "subscription",
                        "subscription_external_id": "crm1_sub",
                        "plan_external_id": "m",
                        "service_period_start": "2024-02-05 00:00:00",
                        "service_period_end": "2024-03-05 00:00:00",
                        "amount_in_cents": 4000,
                    }
                ],
            }
        ]
    },
]


def test_customer_record_carries_tags_typed_attributes_contacts_and_lifecycle(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("CRM", write_requests(tmp_path / "requests", REQUESTS))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")

    customers = {
        row[0]: row[1:]
        for row in warehouse.query(
            "select customer_external_id, status, tags, contacts_count, mrr_in_cents from customers"
        )
    }
    assert customers["crm1"] == ("active", ["beta", "vip"], 1, 4000)
    assert customers["crm2"] == ("lead", [], 0, 0)

    attributes = {
        row[0]: row[1:]
        for row in warehouse.query(
            "select attribute_key, value_integer, value_boolean, cast(value_timestamp as varchar) "
            "from customer_attributes"
        )
    }
    assert attributes == {
        "seats": (12, None, None),
        "is_partner": (None, True, None),
        "renews_at": (None, None, "2024-05-01 00:00:00"),
    }

    assert warehouse.query("select first_name, email from contacts") == [("Ada", "ada@acme.test")]

    lifecycle = warehouse.query(
        "select strftime(month, '%Y-%m'), new_leads, new_trials, trial_to_paid_conversions "
        "from leads_monthly order by month"
    )
    assert lifecycle == [("2024-01", 1, 1, 0), ("2024-02", 1, 0, 1)]


def test_manual_tags_and_attributes_override_the_source_and_are_validated(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("CRM", write_requests(tmp_path / "requests", REQUESTS))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr

    def customers(*args: str) -> subprocess.CompletedProcess[str]:
        return warehouse.cli("customers", *args, "--data-source", "CRM")

    assert customers("tag", "crm1", "key-account", "emea").returncode == 0
    assert customers("untag", "crm1", "beta").returncode == 0
    assert customers("set-attribute", "crm1", "seats", "20", "--type", "Integer").returncode == 0
    assert customers("set-attribute", "crm1", "segment", "smb").returncode == 0
    wrong_type = customers("set-attribute", "crm1", "seats", "twenty", "--type", "Integer")
    assert wrong_type.returncode == 2 and "'twenty' is not a Integer" in wrong_type.stderr
    unknown = customers("tag", "nobody", "vip")
    assert unknown.returncode == 2 and "no customer nobody" in unknown.stderr

    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select tags from customers where customer_external_id = 'crm1'") == [
        (["emea", "key-account", "vip"],)
    ]
    attributes = {
        row[0]: row[1:]
        for row in warehouse.query(
            "select attribute_key, attribute_source, value_integer, value_text from customer_attributes"
        )
    }
    assert attributes["seats"] == ("manual", 20, "20")
    assert attributes["segment"] == ("manual", None, "smb")
    assert attributes["is_partner"][0] == "api"
