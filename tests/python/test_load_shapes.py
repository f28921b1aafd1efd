"""Every Import API request shape lands in raw.objects with the identity keys of the loading rules."""

from __future__ import annotations

import json

from mrr_warehouse.schema import data_source_uuid, deterministic_uuid

SOURCE_UUID = data_source_uuid("Billing")

CUSTOMER = {"external_id": "c1", "name": "Customer One", "email": "c1@example.com", "country": "US"}
PLAN = {"external_id": "silver", "name": "Silver", "interval_count": 1, "interval_unit": "month"}


def line(invoice: str | None = None, **extra):
    item = {
        "type": "subscription",
        "subscription_external_id": "sub_1",
        "plan_external_id": "silver",
        "service_period_start": "2024-01-01 00:00:00",
        "service_period_end": "2024-02-01 00:00:00",
        "amount_in_cents": 5000,
        "quantity": 1,
    }
    if invoice is not None:
        item["invoice_external_id"] = invoice
    return {**item, **extra}


def invoice(external_id: str, **extra):
    return {
        "external_id": external_id,
        "date": "2024-01-01 00:00:00",
        "currency": "USD",
        "customer_external_id": "c1",
        **extra,
    }


def objects(query, object_type=None):
    sql = "select object_type, external_id, invoice_external_id, position, body from raw.objects"
    if object_type:
        return [row[1:] for row in query(sql + " where object_type = ? order by object_seq", [object_type])]
    return query(sql + " order by object_seq")


def test_bulk_import_lands_every_object_in_dependency_order(write_request, load, query):
    body = {
        "external_id": "import_1",
        # Arrays in an order that is not the dependency order: the loader sorts that out.
        "transactions": [
            {
                "invoice_external_id": "inv_1",
                "external_id": "tr_1",
                "type": "payment",
                "result": "successful",
                "date": "2024-01-01 00:10:00",
            }
        ],
        "line_items": [line("inv_1"), line("inv_1", type="one_time", amount_in_cents=100)],
        "invoices": [invoice("inv_1")],
        "plans": [PLAN],
        "customers": [CUSTOMER],
        "subscription_events": [
            {
                "external_id": "ev_1",
                "customer_external_id": "c1",
                "event_type": "subscription_start",
                "event_date": "2024-01-01",
                "effective_date": "2024-01-01",
                "subscription_external_id": "sub_1",
            }
        ],
    }
    result = load(write_request("bulk.json", body))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [(row[0], row[1], row[2], row[3]) for row in objects(query)]
    assert rows == [
        ("customer", "c1", None, 0),
        ("plan", "silver", None, 0),
        ("invoice", "inv_1", None, 0),
        ("line_item", "inv_1#0", "inv_1", 0),
        ("line_item", "inv_1#1", "inv_1", 1),
        ("transaction", "tr_1", "inv_1", 0),
        ("subscription_event", "ev_1", None, 0),
    ]
    assert query("select count(*), min(data_source_uuid), max(data_source_uuid) from raw.objects") == [
        (7, SOURCE_UUID, SOURCE_UUID)
    ]
    kept = query("select body, content_hash from raw.requests")
    assert len(kept) == 1 and json.loads(kept[0][0]) == body
    assert query("select status, objects_accepted, objects_rejected from main.loads") == [("completed", 7, 0)]
    assert query("select uuid, name from raw.data_sources") == [(SOURCE_UUID, "Billing")]


def test_invoice_import_splits_nested_line_items_and_transactions(write_request, load, query):
    load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]}))
    nested = invoice(
        "inv_1",
        line_items=[line(), line(type="one_time", amount_in_cents=2000, description="Setup")],
        transactions=[{"type": "payment", "result": "successful", "date": "2024-01-02"}],
    )
    result = load(write_request("invoices.json", {"invoices": [nested]}))
    assert result.returncode == 0, result.stdout + result.stderr
    (stored_invoice,) = objects(query, "invoice")
    assert stored_invoice[0] == "inv_1"
    assert "line_items" not in json.loads(stored_invoice[3]) and "transactions" not in json.loads(
        stored_invoice[3]
    )
    assert json.loads(stored_invoice[3])["customer_external_id"] == "c1"
    lines = objects(query, "line_item")
    assert [(key, invoice_id, position) for key, invoice_id, position, _ in lines] == [
        ("inv_1#0", "inv_1", 0),
        ("inv_1#1", "inv_1", 1),
    ]
    assert json.loads(lines[1][3])["description"] == "Setup"
    (transaction,) = objects(query, "transaction")
    assert transaction[0].startswith("inv_1#") and transaction[0].endswith("#0")
    assert transaction[1] == "inv_1"


def test_single_customer_request_lands_one_customer(write_request, load, query):
    result = load(write_request("customer.json", {**CUSTOMER, "data_source_uuid": "ds_from_chartmogul"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = objects(query, "customer")
    assert row[0] == "c1" and row[2] is None
    assert json.loads(row[3])["name"] == "Customer One"


def test_single_plan_request_lands_and_a_plan_without_external_id_is_keyed_by_name(
    write_request, load, query
):
    assert load(write_request("plan.json", PLAN)).returncode == 0
    no_id = {"name": "Gold", "interval_count": 12, "interval_unit": "month"}
    assert load(write_request("plan2.json", no_id)).returncode == 0
    assert [row[0] for row in objects(query, "plan")] == ["silver", "Gold"]


def test_data_source_create_request_upserts_auto_churn_setting(write_request, load, query):
    create = {"name": "Stripe", "auto_churn_subscription_setting": {"enabled": True, "interval": 30}}
    assert load(write_request("ds.json", create), data_source="Stripe").returncode == 0
    settings = (
        "select uuid, name, auto_churn_enabled, auto_churn_interval_days from raw.data_sources where name = ?"
    )
    assert query(settings, ["Stripe"]) == [(data_source_uuid("Stripe"), "Stripe", True, 30)]
    again = load(write_request("ds.json", create), data_source="Stripe")
    assert again.returncode == 0
    assert query("select objects_accepted, objects_unchanged from main.loads order by started_at")[-1] == (
        0,
        1,
    )
    changed = {"name": "Stripe", "auto_churn_subscription_setting": {"enabled": True, "interval": 7}}
    assert load(write_request("ds2.json", changed), data_source="Stripe").returncode == 0
    assert query(settings, ["Stripe"]) == [(data_source_uuid("Stripe"), "Stripe", True, 7)]


def _with_subscription(write_request, load):
    body = {"customers": [CUSTOMER], "plans": [PLAN], "invoices": [invoice("inv_1", line_items=[line()])]}
    assert load(write_request("setup.json", body)).returncode == 0


def test_cancellation_with_cancelled_at_lands_one_row_keyed_by_its_content_hash(write_request, load, query):
    _with_subscription(write_request, load)
    result = load(
        write_request("cancel.json", {"subscription_external_id": "sub_1", "cancelled_at": "2024-03-05"})
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ((key, _, position, body),) = objects(query, "cancellation")
    assert len(key) == 64 and position is None
    assert json.loads(body) == {"subscription_external_id": "sub_1", "cancelled_at": "2024-03-05"}


def test_cancellation_dates_replace_history_including_an_empty_list(write_request, load, query):
    _with_subscription(write_request, load)
    dates = {
        "subscription_external_id": "sub_1",
        "cancellation_dates": ["2024-03-05", "2024-05-01T00:00:00Z"],
    }
    assert load(write_request("dates.json", dates)).returncode == 0
    cleared = {"subscription_external_id": "sub_1", "cancellation_dates": []}
    assert load(write_request("clear.json", cleared)).returncode == 0
    bodies = [json.loads(row[3]) for row in objects(query, "cancellation")]
    assert bodies == [dates, cleared]


def test_cancellation_resent_after_a_history_replacement_lands_again(write_request, load, query):
    _with_subscription(write_request, load)
    cancel = write_request("cancel.json", {"subscription_external_id": "sub_1", "cancelled_at": "2024-03-05"})
    assert load(cancel).returncode == 0
    assert load(cancel).returncode == 0  # identical, nothing after it: unchanged
    assert len(objects(query, "cancellation")) == 1
    cleared = write_request("clear.json", {"subscription_external_id": "sub_1", "cancellation_dates": []})
    assert load(cleared).returncode == 0
    assert load(cancel).returncode == 0  # re-applies after the history was replaced
    kinds = ["cancelled_at" in json.loads(row[3]) for row in objects(query, "cancellation")]
    assert kinds == [True, False, True]


def test_cancellation_by_subscription_uuid_is_normalised_to_its_external_id(write_request, load, query):
    _with_subscription(write_request, load)
    subscription_uuid = deterministic_uuid("sub", SOURCE_UUID, "subscription", "sub_1")
    body = {"subscription_uuid": subscription_uuid, "cancelled_at": "2024-03-05"}
    assert load(write_request("cancel.json", body)).returncode == 0
    (row,) = objects(query, "cancellation")
    assert json.loads(row[3])["subscription_external_id"] == "sub_1"


def test_subscription_events_array_and_a_wrapped_single_event_land(write_request, load, query):
    assert load(write_request("customer.json", CUSTOMER)).returncode == 0
    event = {
        "external_id": "ev_1",
        "customer_external_id": "c1",
        "event_type": "subscription_start",
        "event_date": "2024-01-01",
        "effective_date": "2024-01-01",
        "subscription_external_id": "sub_1",
        "plan_external_id": "silver",
        "currency": "USD",
        "amount_in_cents": 5000,
    }
    assert load(write_request("events.json", {"subscription_events": [event]})).returncode == 0
    second = {**event, "external_id": "ev_2", "event_type": "subscription_cancelled"}
    assert load(write_request("event.json", {"subscription_event": second})).returncode == 0
    rows = objects(query, "subscription_event")
    assert [(row[0], row[2]) for row in rows] == [("ev_1", 0), ("ev_2", None)]
    assert json.loads(rows[1][3])["event_type"] == "subscription_cancelled"


def test_contacts_array_and_a_single_contact_land_keyed_by_external_id_or_customer_and_email(
    write_request, load, query
):
    assert load(write_request("customer.json", CUSTOMER)).returncode == 0
    contacts = {
        "contacts": [
            {
                "customer_external_id": "c1",
                "external_id": "ct_1",
                "first_name": "Ada",
                "email": "ada@example.com",
            },
            {"customer_external_id": "c1", "first_name": "Bob", "email": "bob@example.com"},
        ]
    }
    assert load(write_request("contacts.json", contacts)).returncode == 0
    single = {"customer_external_id": "c1", "first_name": "Cy", "email": "cy@example.com", "phone": "+1 555"}
    assert load(write_request("contact.json", single)).returncode == 0
    assert [row[0] for row in objects(query, "contact")] == [
        "ct_1",
        "c1#bob@example.com",
        "c1#cy@example.com",
    ]


def test_contact_by_customer_uuid_gets_the_customer_external_id(write_request, load, query):
    assert load(write_request("customer.json", CUSTOMER)).returncode == 0
    customer_uuid = deterministic_uuid("cus", SOURCE_UUID, "customer", "c1")
    contact = {"customer_uuid": customer_uuid, "first_name": "Ada", "email": "ada@example.com"}
    assert load(write_request("contact.json", contact)).returncode == 0
    ((key, _, _, body),) = objects(query, "contact")
    assert key == "c1#ada@example.com" and json.loads(body)["customer_external_id"] == "c1"


def test_envelope_is_unwrapped_and_its_path_names_the_invoice_customer(write_request, load, query):
    assert load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]})).returncode == 0
    customer_uuid = deterministic_uuid("cus", SOURCE_UUID, "customer", "c1")
    without_customer = {key: value for key, value in invoice("inv_1", line_items=[line()]).items()}
    del without_customer["customer_external_id"]
    envelope = {
        "method": "POST",
        "path": f"/v1/import/customers/{customer_uuid}/invoices",
        "body": {"invoices": [without_customer]},
    }
    result = load(write_request("envelope.json", envelope))
    assert result.returncode == 0, result.stdout + result.stderr
    ((key, _, _, body),) = objects(query, "invoice")
    assert key == "inv_1" and json.loads(body)["customer_external_id"] == "c1"
    assert [row[0] for row in objects(query, "line_item")] == ["inv_1#0"]
    assert (
        json.loads(query("select body from raw.requests order by loaded_at desc limit 1")[0][0]) == envelope
    )


def test_envelope_posting_a_transaction_to_an_invoice_uuid_lands_it_on_that_invoice(
    write_request, load, query
):
    setup = {"customers": [CUSTOMER], "plans": [PLAN], "invoices": [invoice("inv_1", line_items=[line()])]}
    assert load(write_request("setup.json", setup)).returncode == 0
    invoice_uuid = deterministic_uuid("inv", SOURCE_UUID, "invoice", "inv_1")
    payment = {
        "type": "payment",
        "result": "successful",
        "date": "2024-01-02 00:00:00",
        "external_id": "tr_1",
    }
    envelope = {"method": "POST", "path": f"/v1/import/invoices/{invoice_uuid}/transactions", "body": payment}
    result = load(write_request("transaction.json", envelope))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [(key, parent) for key, parent, _, _ in objects(query, "transaction")] == [("tr_1", "inv_1")]
    unknown = {
        **envelope,
        "path": "/v1/import/invoices/inv_00000000-0000-0000-0000-000000000000/transactions",
    }
    rejected = load(write_request("unknown.json", {**unknown, "body": {**payment, "external_id": "tr_2"}}))
    assert rejected.returncode == 1
    assert query("select object_type, external_id, field from main.load_errors") == [
        ("transaction", "tr_2", "invoice_uuid")
    ]


def test_line_item_naming_its_plan_by_uuid_gets_the_plan_external_id_in_its_body(write_request, load, query):
    assert load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]})).returncode == 0
    plan_uuid = deterministic_uuid("pl", SOURCE_UUID, "plan", "silver")
    by_uuid = {key: value for key, value in line().items() if key != "plan_external_id"}
    by_uuid["plan_uuid"] = plan_uuid
    result = load(write_request("invoices.json", {"invoices": [invoice("inv_1", line_items=[by_uuid])]}))
    assert result.returncode == 0, result.stdout + result.stderr
    ((_, _, _, body),) = objects(query, "line_item")
    assert json.loads(body)["plan_external_id"] == "silver" and json.loads(body)["plan_uuid"] == plan_uuid


def test_ndjson_file_loads_one_request_per_line_in_order(write_request, load, query):
    requests = [
        {"customers": [CUSTOMER], "plans": [PLAN]},
        {"invoices": [invoice("inv_1", line_items=[line()])]},
        {"subscription_external_id": "sub_1", "cancelled_at": "2024-03-05"},
    ]
    result = load(write_request("all.ndjson", requests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [row[0] for row in objects(query)] == ["customer", "plan", "invoice", "line_item", "cancellation"]
    assert query("select request_index from raw.requests order by request_index") == [(0,), (1,), (2,)]
    assert query("select count(*) from main.loads") == [(1,)]


def test_folder_loads_its_files_in_name_order_each_as_its_own_load(write_request, load, query, tmp_path):
    write_request("b_invoices.json", {"invoices": [invoice("inv_1", line_items=[line()])]})
    write_request("a_setup.json", {"customers": [CUSTOMER], "plans": [PLAN]})
    write_request("notes.txt", raw="not a request")
    result = load(tmp_path / "requests")
    assert result.returncode == 0, result.stdout + result.stderr
    files = [row[0].rsplit("/", 1)[-1] for row in query("select file from main.loads order by started_at")]
    assert files == ["a_setup.json", "b_invoices.json"]
    assert query("select count(*) from raw.objects") == [(4,)]


def test_unrecognised_body_fails_the_file_with_exit_2_and_lists_the_known_shapes(write_request, load, query):
    result = load(write_request("odd.json", {"hello": "world"}))
    assert result.returncode == 2
    assert "unrecognised request body" in result.stdout
    for shape in (
        "bulk import",
        "invoice import",
        "customer",
        "plan",
        "cancellation",
        "contacts",
        "envelope",
    ):
        assert shape in result.stdout
    assert query("select status from main.loads") == [("failed",)]
    assert query("select count(*) from raw.objects") == [(0,)]
    assert query("select count(*) from raw.requests") == [(0,)]


def test_unknown_top_level_member_of_a_bulk_request_is_ignored_with_a_warning(write_request, load, query):
    result = load(write_request("bulk.json", {"customers": [CUSTOMER], "metadata": {"source": "x"}}))
    assert result.returncode == 0
    assert query("select object_type, field from main.load_warnings") == [(None, "metadata")]
    assert "warning:" in result.stdout and "metadata" in result.stdout


def test_generate_subcommand_is_registered(run_cli):
    result = run_cli("generate", "--help")
    assert result.returncode == 0
    assert "generate" in result.stdout


def test_recorded_cancellation_patch_names_its_subscription_in_the_path(write_request, load, query):
    _with_subscription(write_request, load)
    subscription_uuid = deterministic_uuid("sub", SOURCE_UUID, "subscription", "sub_1")
    envelope = {
        "method": "PATCH",
        "path": f"/v1/import/subscriptions/{subscription_uuid}",
        "body": {"cancellation_dates": ["2024-03-05T00:00:00Z"]},
    }
    result = load(write_request("patch.json", envelope))
    assert result.returncode == 0, result.stdout + result.stderr
    ((_, _, _, body),) = objects(query, "cancellation")
    assert json.loads(body)["subscription_external_id"] == "sub_1"
    assert json.loads(body)["cancellation_dates"] == ["2024-03-05T00:00:00Z"]
