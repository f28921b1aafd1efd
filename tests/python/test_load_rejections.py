"""Each rejection class of SPEC 2: the invalid object is rejected with a load_errors row naming object type,
external_id (or position) and field; the valid objects of the same file still land; exit status 1."""

from __future__ import annotations

import pytest

CUSTOMER = {"external_id": "c1", "name": "Customer One"}
PLAN = {"external_id": "silver", "name": "Silver", "interval_count": 1, "interval_unit": "month"}


def line(**extra):
    return {
        "type": "subscription",
        "subscription_external_id": "sub_1",
        "plan_external_id": "silver",
        "service_period_start": "2024-01-01 00:00:00",
        "service_period_end": "2024-02-01 00:00:00",
        "amount_in_cents": 5000,
        **extra,
    }


def invoice(external_id, lines=None, transactions=None, **extra):
    body = {"external_id": external_id, "date": "2024-01-01", "currency": "USD", "customer_external_id": "c1"}
    body["line_items"] = [line()] if lines is None else lines
    if transactions is not None:
        body["transactions"] = transactions
    return {**body, **extra}


def payment(**extra):
    return {"type": "payment", "result": "successful", "date": "2024-01-02", **extra}


def good_invoice():
    return invoice("inv_ok")


# (payload, expected load_errors as (object_type, external_id, position, field), keys that still land)
CASES = {
    "customer_missing_external_id": (
        {"customers": [{"name": "No Id"}, {"external_id": "c2"}]},
        [("customer", None, 0, "external_id")],
        ["c2"],
    ),
    "invoice_missing_date": (
        {"invoices": [invoice("inv_1", date=None), good_invoice()]},
        [("invoice", "inv_1", 0, "date"), ("line_item", None, 0, "invoice_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "amount_in_cents_not_an_integer": (
        {"invoices": [invoice("inv_1", [line(amount_in_cents="50.00")]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "amount_in_cents")],
        ["inv_ok", "inv_ok#0"],
    ),
    "quantity_not_positive": (
        {"invoices": [invoice("inv_1", [line(quantity=-1)]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "quantity")],
        ["inv_ok", "inv_ok#0"],
    ),
    "unknown_line_item_type": (
        {"invoices": [invoice("inv_1", [line(type="recurring")]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "type")],
        ["inv_ok", "inv_ok#0"],
    ),
    "unknown_transaction_type": (
        {
            "invoices": [
                invoice("inv_1", transactions=[payment(type="payments", external_id="t1"), payment()])
            ]
        },
        [("transaction", "t1", 0, "type")],
        ["inv_1", "inv_1#0", "inv_1#0"],
    ),
    "unknown_transaction_result": (
        {"invoices": [invoice("inv_1", transactions=[payment(result="ok", external_id="t1")])]},
        [("transaction", "t1", 0, "result")],
        ["inv_1", "inv_1#0"],
    ),
    "negative_transaction_amount": (
        {"invoices": [invoice("inv_1", transactions=[payment(amount_in_cents=-5, external_id="t1")])]},
        [("transaction", "t1", 0, "amount_in_cents")],
        ["inv_1", "inv_1#0"],
    ),
    "unknown_plan_interval_unit": (
        {
            "plans": [
                {**PLAN, "external_id": "weekly", "interval_unit": "week"},
                {**PLAN, "external_id": "p2"},
            ]
        },
        [("plan", "weekly", 0, "interval_unit")],
        ["p2"],
    ),
    "plan_interval_count_not_positive": (
        {"plans": [{**PLAN, "external_id": "zero", "interval_count": 0}]},
        [("plan", "zero", 0, "interval_count")],
        [],
    ),
    "unparseable_timestamp": (
        {"invoices": [invoice("inv_1", date="yesterday"), good_invoice()]},
        [("invoice", "inv_1", 0, "date"), ("line_item", None, 0, "invoice_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "service_period_end_not_after_start": (
        {"invoices": [invoice("inv_1", [line(service_period_end="2024-01-01 00:00:00")]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "service_period_end")],
        ["inv_ok", "inv_ok#0"],
    ),
    "currency_not_iso_4217": (
        {"invoices": [invoice("inv_1", currency="XYZ"), good_invoice()]},
        [("invoice", "inv_1", 0, "currency"), ("line_item", None, 0, "invoice_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "invoice_customer_unknown": (
        {"invoices": [invoice("inv_1", customer_external_id="nobody"), good_invoice()]},
        [("invoice", "inv_1", 0, "customer_external_id"), ("line_item", None, 0, "invoice_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "subscription_line_plan_unknown": (
        {"invoices": [invoice("inv_1", [line(plan_external_id="gold")]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "plan_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "subscription_line_plan_uuid_unknown": (
        {"invoices": [invoice("inv_1", [line(plan_external_id=None, plan_uuid="pl_nope")]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "plan_uuid")],
        ["inv_ok", "inv_ok#0"],
    ),
    "subscription_line_without_plan": (
        {"invoices": [invoice("inv_1", [line(plan_external_id=None)]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "plan_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "invoice_without_line_items": (
        {"invoices": [invoice("inv_1", []), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items")],
        ["inv_ok", "inv_ok#0"],
    ),
    "prorated_not_boolean_and_unknown_proration_type": (
        {"invoices": [invoice("inv_1", [line(prorated="yes", proration_type="partial")]), good_invoice()]},
        [
            ("invoice", "inv_1", 0, "line_items"),
            ("line_item", None, 0, "prorated"),
            ("line_item", None, 0, "proration_type"),
        ],
        ["inv_ok", "inv_ok#0"],
    ),
    "line_item_cancelled_at_unparseable": (
        {"invoices": [invoice("inv_1", [line(cancelled_at="31/01/2024")]), good_invoice()]},
        [("invoice", "inv_1", 0, "line_items"), ("line_item", None, 0, "cancelled_at")],
        ["inv_ok", "inv_ok#0"],
    ),
    "bulk_line_item_invoice_unknown": (
        {
            "invoices": [{**good_invoice(), "line_items": []}],
            "line_items": [line(invoice_external_id="inv_ok"), line(invoice_external_id="inv_missing")],
        },
        [("line_item", None, 1, "invoice_external_id")],
        ["inv_ok", "inv_ok#0"],
    ),
    "bulk_transaction_invoice_unknown": (
        {
            "invoices": [good_invoice()],
            "transactions": [
                payment(invoice_external_id="inv_missing", external_id="t9"),
                payment(invoice_external_id="inv_ok", external_id="t1"),
            ],
        },
        [("transaction", "t9", 0, "invoice_external_id")],
        ["inv_ok", "inv_ok#0", "t1"],
    ),
    "rejected_invoice_rejects_its_nested_objects": (
        {"invoices": [invoice("inv_1", [line(), line()], [payment()], currency="EURO"), good_invoice()]},
        [
            ("invoice", "inv_1", 0, "currency"),
            ("line_item", None, 0, "invoice_external_id"),
            ("line_item", None, 1, "invoice_external_id"),
            ("transaction", None, 0, "invoice_external_id"),
        ],
        ["inv_ok", "inv_ok#0"],
    ),
    "bulk_objects_of_a_rejected_invoice_are_rejected": (
        {
            "invoices": [{**invoice("inv_1", currency="EURO"), "line_items": []}, good_invoice()],
            "line_items": [line(invoice_external_id="inv_1")],
            "transactions": [payment(invoice_external_id="inv_1", external_id="t1")],
        },
        [
            ("invoice", "inv_1", 0, "currency"),
            ("line_item", None, 0, "invoice_external_id"),
            ("transaction", "t1", 0, "invoice_external_id"),
        ],
        ["inv_ok", "inv_ok#0"],
    ),
    "subscription_event_unknown_type_and_customer": (
        {
            "subscription_events": [
                {
                    "external_id": "e1",
                    "customer_external_id": "c1",
                    "event_type": "subscription_paused",
                    "event_date": "2024-01-01",
                    "effective_date": "2024-01-01",
                },
                {
                    "external_id": "e2",
                    "customer_external_id": "ghost",
                    "event_type": "subscription_start",
                    "event_date": "2024-01-01",
                    "effective_date": "2024-01-01",
                },
                {
                    "external_id": "e3",
                    "customer_external_id": "c1",
                    "event_type": "subscription_start",
                    "event_date": "2024-01-01",
                    "effective_date": "2024-01-01",
                },
            ]
        },
        [
            ("subscription_event", "e1", 0, "event_type"),
            ("subscription_event", "e2", 1, "customer_external_id"),
        ],
        ["e3"],
    ),
    "contact_without_customer": (
        {"contacts": [{"first_name": "Ada"}, {"customer_external_id": "c1", "email": "ok@example.com"}]},
        [("contact", None, 0, "customer_external_id")],
        ["c1#ok@example.com"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_object_is_rejected_with_its_field_and_the_rest_lands(case, write_request, load, query):
    payload, expected_errors, expected_keys = CASES[case]
    # Null fields in the payloads stand for "absent".
    setup = load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]}))
    assert setup.returncode == 0, setup.stdout
    result = load(write_request("payload.json", _without_nulls(payload)))
    assert result.returncode == 1, result.stdout + result.stderr
    (load_id,) = query("select load_id from main.loads where file like '%payload.json'")[0]
    errors = query(
        "select object_type, external_id, position, field from main.load_errors where load_id = ?"
        " order by object_type, position, field",
        [load_id],
    )
    assert errors == sorted(expected_errors, key=lambda row: (row[0], row[2], row[3]))
    landed = query("select external_id from raw.objects where load_id = ? order by object_seq", [load_id])
    # Transactions without external_id have hash keys; compare their invoice part and occurrence.
    assert [_short(key) for (key,) in landed] == expected_keys
    for _, external_id, position, field in expected_errors:
        label = external_id if external_id is not None else f"#{position}"
        assert f"{label}" in result.stdout and f": {field}: " in result.stdout
    assert query("select status, objects_rejected > 0 from main.loads where load_id = ?", [load_id]) == [
        ("completed_with_errors", True)
    ]


def _short(key: str) -> str:
    parts = key.split("#")
    return f"{parts[0]}#{parts[2]}" if len(parts) == 3 else key


def _without_nulls(value):
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def test_invalid_nested_line_item_rejects_its_invoice_because_invoices_land_whole(write_request, load, query):
    load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]}))
    bad = invoice("inv_1", [line(), line(plan_external_id="gold")], [payment()])
    assert load(write_request("bad.json", {"invoices": [bad]})).returncode == 1
    messages = dict(
        query("select coalesce(field, ''), message from main.load_errors where object_type = 'invoice'")
    )
    assert "line item #1 is invalid" in messages["line_items"]
    assert query(
        "select count(*) from raw.objects where object_type in ('invoice', 'line_item', 'transaction')"
    ) == [(0,)]
    # Corrected, the same invoice lands (nothing of it was kept, so it is not "different content").
    fixed = invoice("inv_1", [line(), line()], [payment()])
    assert load(write_request("fixed.json", {"invoices": [fixed]})).returncode == 0
    assert query("select count(*) from raw.objects where invoice_external_id = 'inv_1'") == [(3,)]


def test_error_message_names_file_object_type_external_id_and_field(write_request, load):
    load(write_request("setup.json", {"customers": [CUSTOMER], "plans": [PLAN]}))
    path = write_request(
        "bad.json", {"invoices": [invoice("inv_1", transactions=[payment(type="x", external_id="t1")])]}
    )
    result = load(path)
    assert f"{path}: transaction t1 in invoice inv_1: type: must be one of payment | refund" in result.stdout
