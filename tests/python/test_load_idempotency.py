"""Nothing lost, nothing doubled (SPEC 2): reloading changes nothing, customers take the newest version,
invoices are immutable."""

from __future__ import annotations

import hashlib
import json

CUSTOMER = {"external_id": "c1", "name": "Customer One", "email": "c1@example.com"}
PLAN = {"external_id": "silver", "name": "Silver", "interval_count": 1, "interval_unit": "month"}


def line(**extra):
    return {
        "type": "subscription",
        "subscription_external_id": "sub_1",
        "plan_external_id": "silver",
        "service_period_start": "2024-01-01 00:00:00",
        "service_period_end": "2024-02-01 00:00:00",
        "amount_in_cents": 4500,
        "quantity": 1,
        **extra,
    }


def invoice(external_id="inv_1", lines=None, transactions=None, **extra):
    return {
        "external_id": external_id,
        "date": "2024-01-01 00:00:00",
        "currency": "USD",
        "customer_external_id": "c1",
        "line_items": lines or [line()],
        "transactions": transactions
        or [{"type": "payment", "result": "successful", "date": "2024-01-01 00:10:00"}],
        **extra,
    }


def test_loading_the_same_files_twice_changes_nothing(write_request, load, query):
    setup = write_request("p12_setup.json", {"external_id": "p12", "customers": [CUSTOMER], "plans": [PLAN]})
    invoices = write_request("p12_invoices.json", {"invoices": [invoice("inv_1"), invoice("inv_2")]})
    assert load(setup, invoices).returncode == 0
    snapshot = (
        "select object_seq, object_type, external_id, content_hash from raw.objects order by object_seq"
    )
    before = query(snapshot)
    requests_before = query("select count(*) from raw.requests")
    result = load(setup, invoices)
    assert result.returncode == 0, result.stdout
    assert query(snapshot) == before
    assert query("select count(*) from raw.requests") == requests_before
    second = query(
        "select status, objects_accepted, objects_rejected, objects_unchanged from main.loads"
        " order by started_at desc limit 2"
    )
    assert second == [("completed", 0, 0, 6), ("completed", 0, 0, 2)]
    assert "0 accepted, 0 rejected, 6 unchanged" in result.stdout


def test_changed_customer_lands_a_new_version_and_the_last_load_wins(write_request, load, query):
    assert load(write_request("v1.json", CUSTOMER)).returncode == 0
    assert load(write_request("v2.json", {**CUSTOMER, "name": "Renamed"})).returncode == 0
    assert load(write_request("v1.json", CUSTOMER)).returncode == 0  # back to v1: lands again, now newest
    versions = query("select body from raw.objects where object_type = 'customer' order by object_seq")
    assert [json.loads(body)["name"] for (body,) in versions] == ["Customer One", "Renamed", "Customer One"]
    assert load(write_request("v1.json", CUSTOMER)).returncode == 0  # same as newest: unchanged
    assert query("select count(*) from raw.objects") == [(3,)]


def test_same_customer_twice_in_one_file_keeps_both_versions_in_order(write_request, load, query):
    body = {"customers": [CUSTOMER, {**CUSTOMER, "name": "Second"}, {**CUSTOMER, "name": "Second"}]}
    result = load(write_request("twice.json", body))
    assert result.returncode == 0
    rows = query("select body from raw.objects order by object_seq")
    assert [json.loads(body)["name"] for (body,) in rows] == ["Customer One", "Second"]
    assert query("select objects_accepted, objects_unchanged from main.loads") == [(2, 1)]


def test_plans_contacts_and_events_take_the_newest_version(write_request, load, query):
    assert load(write_request("a.json", {"customers": [CUSTOMER], "plans": [PLAN]})).returncode == 0
    assert load(write_request("b.json", {**PLAN, "name": "Silver v2"})).returncode == 0
    contact = {"customer_external_id": "c1", "external_id": "ct", "first_name": "A"}
    assert load(write_request("c.json", contact)).returncode == 0
    assert load(write_request("d.json", {**contact, "first_name": "B"})).returncode == 0
    counts = query("select object_type, count(*) from raw.objects group by 1 order by 1")
    assert counts == [("contact", 2), ("customer", 1), ("plan", 2)]


def test_changed_invoice_is_rejected_because_invoices_are_immutable(write_request, load, query):
    assert load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]})).returncode == 0
    assert load(write_request("inv.json", {"invoices": [invoice()]})).returncode == 0
    changed = invoice(lines=[line(amount_in_cents=9999)])
    result = load(write_request("changed.json", {"invoices": [changed]}))
    assert result.returncode == 1
    ((field, message),) = query(
        "select field, message from main.load_errors where object_type = 'invoice' and external_id = 'inv_1'"
    )
    assert field == "external_id"
    assert "already exists with different content" in message and "immutable" in message
    assert "delete it or re-sync the data source first" in message
    assert query("select count(*) from raw.objects where object_type = 'line_item'") == [(1,)]
    amounts = query(
        "select json_extract(body, '$.amount_in_cents')::int from raw.objects where object_type = 'line_item'"
    )
    assert amounts == [(4500,)]


def test_transaction_added_to_an_invoice_later_lands_as_a_new_one(write_request, load, query):
    assert load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]})).returncode == 0
    first = {"type": "payment", "result": "failed", "date": "2024-01-01 00:10:00"}
    assert load(write_request("inv.json", {"invoices": [invoice(transactions=[first])]})).returncode == 0
    retry = {"type": "payment", "result": "successful", "date": "2024-01-03 00:00:00"}
    result = load(write_request("inv2.json", {"invoices": [invoice(transactions=[first, retry])]}))
    assert result.returncode == 0, result.stdout
    assert query(
        "select objects_accepted, objects_unchanged from main.loads order by started_at desc limit 1"
    ) == [(1, 3)]
    results = query(
        "select json_extract_string(body, '$.result') from raw.objects where object_type = 'transaction'"
    )
    assert sorted(results) == [("failed",), ("successful",)]


def test_identical_transactions_without_external_id_are_counted_not_merged(write_request, load, query):
    assert load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]})).returncode == 0
    payment = {"type": "payment", "result": "successful", "date": "2024-01-02", "amount_in_cents": 100}
    body = {"invoices": [invoice(transactions=[payment, payment])]}
    assert load(write_request("inv.json", body)).returncode == 0
    assert load(write_request("inv.json", body)).returncode == 0
    keys = [key for (key,) in query("select external_id from raw.objects where object_type = 'transaction'")]
    assert len(keys) == 2 and {key.rsplit("#", 1)[1] for key in keys} == {"0", "1"}


def test_changed_line_item_in_a_bulk_request_is_rejected_and_the_invoice_stays(write_request, load, query):
    flat = {
        "customers": [CUSTOMER],
        "plans": [PLAN],
        "invoices": [
            {key: value for key, value in invoice().items() if key not in ("line_items", "transactions")}
        ],
        "line_items": [{**line(), "invoice_external_id": "inv_1", "external_id": "li_1"}],
    }
    assert load(write_request("bulk.json", flat)).returncode == 0
    changed = {
        **flat,
        "line_items": [{**line(amount_in_cents=1), "invoice_external_id": "inv_1", "external_id": "li_1"}],
    }
    result = load(write_request("bulk2.json", changed))
    assert result.returncode == 1
    assert query("select object_type, external_id, field from main.load_errors") == [
        ("line_item", "li_1", "external_id")
    ]
    assert "line items are immutable" in result.stdout
    assert query("select count(*) from raw.objects where object_type = 'line_item'") == [(1,)]


def test_many_small_requests_are_each_kept_verbatim_once(write_request, load, query):
    """An .ndjson of many one-object requests: more than one insert's worth of raw.requests rows at a time."""
    customers = [{"external_id": f"c{index}", "name": f"Customer {index}"} for index in range(75)]
    path = write_request("customers.ndjson", customers)
    assert load(path).returncode == 0
    kept = query("select request_index, body::varchar, content_hash from raw.requests order by request_index")
    lines = path.read_text().splitlines()
    assert [(index, json.loads(body)) for index, body, _ in kept] == list(enumerate(customers))
    assert [content_hash for _, _, content_hash in kept] == [
        hashlib.sha256(text.encode()).hexdigest() for text in lines
    ]
    assert load(path).returncode == 0
    assert query("select count(*) from raw.requests") == [(75,)]
