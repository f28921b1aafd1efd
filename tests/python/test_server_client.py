"""The Import API server driven by ChartMogul's official Python client (issue 13): the tutorial's flow lands like a
file load, `dbt build` turns it into the movements computed by hand below (SPEC 3-4), and the recorded requests
replay through `mrr-warehouse load`."""

from __future__ import annotations

from pathlib import Path

import chartmogul
import orjson
from api_server import serving

from warehouse_runner import Warehouse

KEY = "test-key-1"
AS_OF = {"as_of_date": "2024-04-15"}


def _config(uri: str, key: str = KEY) -> chartmogul.Config:
    config = chartmogul.Config(key, max_retries=0)
    config.uri = uri
    return config


def _line(subscription: str, plan_uuid: str, amount: int, start: str, end: str) -> dict:
    return {
        "type": "subscription",
        "subscription_external_id": subscription,
        "plan_uuid": plan_uuid,
        "service_period_start": start,
        "service_period_end": end,
        "amount_in_cents": amount,
        "quantity": 1,
    }


def tutorial(config: chartmogul.Config) -> dict[str, str]:
    """The Import API tutorial's steps, as an integration sends them. Returns the uuids it was handed."""
    source = chartmogul.DataSource.create(config, data={"name": "Tutorial"}).get()
    ds = source.uuid
    ada = chartmogul.Customer.create(
        config,
        data={
            "data_source_uuid": ds,
            "external_id": "cus_ada",
            "name": "Ada",
            "email": "ada@example.com",
            "country": "GB",
            "lead_created_at": "2023-12-01T00:00:00Z",
        },
    ).get()
    bob = chartmogul.Customer.create(
        config,
        data={"data_source_uuid": ds, "external_id": "cus_bob", "name": "Bob", "email": "bob@example.com"},
    ).get()
    gold = chartmogul.Plan.create(
        config,
        data={
            "data_source_uuid": ds,
            "name": "Gold",
            "interval_count": 1,
            "interval_unit": "month",
            "external_id": "gold",
        },
    ).get()
    silver = chartmogul.Plan.create(
        config,
        data={
            "data_source_uuid": ds,
            "name": "Silver",
            "interval_count": 1,
            "interval_unit": "year",
            "external_id": "silver",
        },
    ).get()
    # Ada: Gold 5000/month from Jan 1, renewed Feb 1 (paid later through the transactions endpoint), upgraded to
    # 8000 on Mar 1.
    january = {
        "external_id": "inv_ada_1",
        "date": "2024-01-01T00:00:00Z",
        "currency": "USD",
        "line_items": [_line("sub_ada", gold.uuid, 5000, "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z")],
        "transactions": [{"date": "2024-01-01T00:00:00Z", "type": "payment", "result": "successful"}],
    }
    february = {
        "external_id": "inv_ada_2",
        "date": "2024-02-01T00:00:00Z",
        "currency": "USD",
        "line_items": [_line("sub_ada", gold.uuid, 5000, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z")],
    }
    march = {
        "external_id": "inv_ada_3",
        "date": "2024-03-01T00:00:00Z",
        "currency": "USD",
        "line_items": [_line("sub_ada", gold.uuid, 8000, "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z")],
    }
    created = chartmogul.Invoice.create(config, uuid=ada.uuid, data={"invoices": [january, february]}).get()
    chartmogul.Invoice.create(config, uuid=ada.uuid, data={"invoices": [march]}).get()
    chartmogul.Transaction.create(
        config,
        uuid=created.invoices[1].uuid,
        data={
            "date": "2024-02-02T00:00:00Z",
            "type": "payment",
            "result": "successful",
            "external_id": "tr_feb",
        },
    ).get()
    # Bob: Gold 3000 from Feb 1, cancelled through the subscription endpoint on Mar 1.
    bob_invoice = {
        "external_id": "inv_bob_1",
        "date": "2024-02-01T00:00:00Z",
        "currency": "USD",
        "line_items": [_line("sub_bob", gold.uuid, 3000, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z")],
    }
    bob_invoices = chartmogul.Invoice.create(config, uuid=bob.uuid, data={"invoices": [bob_invoice]}).get()
    # As the tutorial does: find the subscription among the customer's, cancel it by its uuid.
    (subscription,) = chartmogul.CustomerSubscription.list_imported(config, uuid=bob.uuid).get().subscriptions
    assert subscription.uuid == bob_invoices.invoices[0].line_items[0].subscription_uuid
    assert subscription.plan_uuid == gold.uuid
    cancelled = chartmogul.CustomerSubscription.cancel(
        config, uuid=subscription.uuid, data={"cancelled_at": "2024-03-01T00:00:00Z"}
    ).get()
    assert [date.isoformat() for date in cancelled.cancellation_dates] == ["2024-03-01T00:00:00+00:00"]
    # Cleo arrives in a bulk import: Silver 120000 a year from Jan 15 (10000 a month).
    chartmogul.JsonImport.create(
        config,
        data_source_uuid=ds,
        data={
            "external_id": "bulk-1",
            "customers": [{"external_id": "cus_cleo", "name": "Cleo", "email": "cleo@example.com"}],
            "invoices": [
                {
                    "external_id": "inv_cleo_1",
                    "customer_external_id": "cus_cleo",
                    "date": "2024-01-15T00:00:00Z",
                    "currency": "USD",
                    "line_items": [
                        {
                            "type": "subscription",
                            "subscription_external_id": "sub_cleo",
                            "plan_external_id": "silver",
                            "service_period_start": "2024-01-15T00:00:00Z",
                            "service_period_end": "2025-01-15T00:00:00Z",
                            "amount_in_cents": 120000,
                        }
                    ],
                }
            ],
        },
    ).get()
    # A scheduled cancellation for Ada (a future effective date: CMRR only), then retracted.
    chartmogul.SubscriptionEvent.create(
        config,
        data={
            "subscription_event": {
                "data_source_uuid": ds,
                "customer_external_id": "cus_ada",
                "subscription_external_id": "sub_ada",
                "external_id": "ev_ada_1",
                "event_type": "subscription_cancellation_scheduled",
                "event_date": "2024-03-10T00:00:00Z",
                "effective_date": "2024-06-01T00:00:00Z",
            }
        },
    ).get()
    chartmogul.SubscriptionEvent.destroy_with_params(
        config, data={"subscription_event": {"data_source_uuid": ds, "external_id": "ev_ada_1"}}
    ).get()
    chartmogul.Contact.create(
        config,
        data={
            "customer_uuid": ada.uuid,
            "data_source_uuid": ds,
            "first_name": "Ada",
            "email": "ada.billing@example.com",
        },
    ).get()
    return {"ds": ds, "ada": ada.uuid, "bob": bob.uuid, "silver": silver.uuid}


# Hand-computed from SPEC 3-4: (customer, movement month, type, change in cents).
EXPECTED_MOVEMENTS = [
    ("cus_ada", "2024-01-01", "new_business", 5000),
    ("cus_ada", "2024-03-01", "expansion", 3000),
    ("cus_bob", "2024-02-01", "new_business", 3000),
    ("cus_bob", "2024-03-01", "churn", -3000),
    ("cus_cleo", "2024-01-01", "new_business", 10000),
]


def _movements(warehouse: Warehouse) -> list[tuple[str, str, str, int]]:
    rows = warehouse.query(
        "select customer_external_id, strftime(movement_month, '%Y-%m-%d'), movement_type, mrr_change_in_cents"
        " from mrr_movements order by customer_external_id, movement_at"
    )
    return [(row[0], row[1], row[2], round(row[3])) for row in rows]


def test_tutorial_flow_through_the_official_client_builds_the_hand_computed_movements(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "served.duckdb")
    with serving(warehouse.db_path, KEY) as uri:
        config = _config(uri)
        uuids = tutorial(config)
        # What the integration reads back carries the warehouse's uuids.
        listed = chartmogul.Customer.all(config, data_source_uuid=uuids["ds"], external_id="cus_ada").get()
        assert [entry.uuid for entry in listed.entries] == [uuids["ada"]]
        assert chartmogul.Customer.retrieve(config, uuid=uuids["bob"]).get().email == "bob@example.com"
        assert chartmogul.Plan.retrieve(config, uuid=uuids["silver"]).get().interval_unit == "year"
        invoices = chartmogul.Invoice.all(config, uuid=uuids["ada"]).get()
        assert [invoice.external_id for invoice in invoices.invoices] == [
            "inv_ada_1",
            "inv_ada_2",
            "inv_ada_3",
        ]
        assert len(invoices.invoices[1].transactions) == 1
        events = chartmogul.SubscriptionEvent.all(config, data_source_uuid=uuids["ds"]).get()
        assert {event.event_type for event in events.subscription_events} == {
            "subscription_cancellation_scheduled",
            "subscription_event_retracted",
        }
        chartmogul.Customer.createContact(
            config,
            uuid=uuids["bob"],
            data={"data_source_uuid": uuids["ds"], "first_name": "Bob", "email": "b2@x.test"},
        ).get()
        contacts = chartmogul.Contact.all(config, data_source_uuid=uuids["ds"]).get()
        assert [(contact.email, contact.customer_external_id) for contact in contacts.entries] == [
            ("ada.billing@example.com", "cus_ada"),
            ("b2@x.test", "cus_bob"),
        ]
        subscriptions = chartmogul.Customer.subscriptions(config, uuid=uuids["bob"]).get().subscriptions
        assert [date.isoformat() for date in subscriptions[0].cancellation_dates] == [
            "2024-03-01T00:00:00+00:00"
        ]
        assert {
            plan.external_id for plan in chartmogul.Plan.all(config, data_source_uuid=uuids["ds"]).get().plans
        } == {
            "gold",
            "silver",
        }
        assert len(chartmogul.Invoice.all(config, data_source_uuid=uuids["ds"]).get().invoices) == 5
        assert chartmogul.DataSource.retrieve(config, uuid=uuids["ds"]).get().name == "Tutorial"
        temporary = chartmogul.DataSource.create(config, data={"name": "Temporary"}).get()
        assert {source.name for source in chartmogul.DataSource.all(config).get().data_sources} == {
            "Tutorial",
            "Temporary",
        }
        chartmogul.DataSource.destroy(config, uuid=temporary.uuid).get()
        assert [source.name for source in chartmogul.DataSource.all(config).get().data_sources] == [
            "Tutorial"
        ]
    assert warehouse.query("select count(*) from main.load_errors") == [(0,)]
    warehouse.dbt_build(AS_OF)
    assert _movements(warehouse) == EXPECTED_MOVEMENTS
    # The marts show the uuids the server handed out.
    assert warehouse.query("select customer_uuid from customers where customer_external_id = 'cus_ada'") == [
        (uuids["ada"],)
    ]
    # April: Ada 8000 + Cleo 10000 (Bob churned); Ada's scheduled cancellation was retracted, so CMRR = MRR.
    assert warehouse.query("select cmrr from cmrr_monthly where month = date '2024-04-01'")[0][0] == 18000

    # Recorded traffic replays: the requests kept verbatim, loaded as envelope lines into a fresh warehouse.
    recorded = warehouse.query("select body from raw.requests order by loaded_at, request_index")
    replay = tmp_path / "replay.ndjson"
    replay.write_bytes(b"".join(orjson.dumps(orjson.loads(row[0])) + b"\n" for row in recorded))
    replayed = Warehouse(tmp_path / "replayed" / "replayed.duckdb")
    replayed.db_path.parent.mkdir()
    result = replayed.load("Tutorial", [replay])
    assert result.returncode == 0, result.stdout + result.stderr
    replayed.dbt_build(AS_OF)
    assert _movements(replayed) == EXPECTED_MOVEMENTS
