"""Every accepted object builds (issue #11 item 3): values the staging types cannot hold are rejected per object,
naming the field, and an exception while handling one object rejects only that object."""

from __future__ import annotations

import json

import pytest

from mrr_warehouse.loading import prepare as prepare_step
from mrr_warehouse.object_types import SCHEMAS

CUSTOMER = {"external_id": "c1", "name": "One"}
PLAN = {"external_id": "p1", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}


def _invoice(external_id: str, **line_fields):
    line = {
        "type": "subscription",
        "subscription_external_id": "s1",
        "plan_external_id": "p1",
        "service_period_start": "2024-01-01",
        "service_period_end": "2024-02-01",
        "amount_in_cents": 1000,
        **line_fields,
    }
    return {
        "external_id": external_id,
        "date": "2024-01-01",
        "currency": "USD",
        "customer_external_id": "c1",
        "line_items": [line],
    }


def _landed(query, object_type):
    return [
        row[0] for row in query("select external_id from raw.objects where object_type = ?", [object_type])
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_in_cents", 2**63 + 5),  # between 2^63 and 2^64: BIGINT cannot hold it
        ("amount_in_cents", 2**64 + 1),
        ("amount_in_cents", -(2**63)),  # BIGINT holds it, but amount - tax would not
        ("quantity", 2**63),
        ("tax_amount_in_cents", 2**63),
        ("transaction_fees_in_cents", -(2**64)),
        ("discount_amount_in_cents", 2**62),
    ],
)
def test_a_line_item_integer_beyond_its_staging_type_rejects_the_invoice_naming_the_field(
    write_request, load, query, field, value
):
    body = {
        "customers": [CUSTOMER],
        "plans": [PLAN],
        "invoices": [_invoice("bad", **{field: value}), _invoice("ok")],
    }
    result = load(write_request("bulk.json", raw=json.dumps(body)))  # orjson cannot write beyond 64 bits
    assert result.returncode == 1
    # beyond 2^64 orjson reads a number, not an integer: rejected all the same, with another message
    expected = f"is out of range: {value}" if abs(value) < 2**64 else "must be an integer, got a number"
    assert f"line_item #0 in invoice bad: {field}: {expected}" in result.stdout
    assert _landed(query, "invoice") == ["ok"]


def test_a_transaction_amount_beyond_bigint_is_rejected(write_request, load, query):
    invoice = _invoice("i1")
    invoice["transactions"] = [
        {
            "external_id": "t_big",
            "type": "payment",
            "result": "successful",
            "date": "2024-01-01",
            "amount_in_cents": 2**63,
        },
        {
            "external_id": "t_ok",
            "type": "payment",
            "result": "successful",
            "date": "2024-01-01",
            "amount_in_cents": 1000,
        },
    ]
    result = load(
        write_request("bulk.json", {"customers": [CUSTOMER], "plans": [PLAN], "invoices": [invoice]})
    )
    assert result.returncode == 1
    assert "transaction t_big in invoice i1: amount_in_cents: is out of range" in result.stdout
    assert _landed(query, "transaction") == ["t_ok"]


def test_a_plan_interval_count_of_three_billion_is_rejected(write_request, load, query):
    plans = [{**PLAN, "external_id": "huge", "interval_count": 3_000_000_000}, PLAN]
    result = load(write_request("plans.json", {"plans": plans}))
    assert result.returncode == 1
    assert "plan huge: interval_count: is out of range: 3000000000" in result.stdout
    assert _landed(query, "plan") == ["p1"]


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_a_timestamp_an_offset_moves_out_of_years_1_to_9999_rejects_one_object_not_the_file(
    write_request, load, query, text
):
    customers = [{"external_id": "odd", "lead_created_at": text}, CUSTOMER]
    result = load(write_request("customers.json", {"customers": customers}))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "customer odd: lead_created_at: is out of range once converted to UTC" in result.stdout
    assert _landed(query, "customer") == ["c1"]


def test_the_last_representable_instants_with_offsets_are_accepted(write_request, load, query):
    customers = [
        {"external_id": "late", "lead_created_at": "9999-12-31T23:00:00+05:00"},
        {"external_id": "early", "lead_created_at": "0001-01-01T00:30:00-01:00"},
    ]
    assert load(write_request("customers.json", {"customers": customers})).returncode == 0
    assert sorted(_landed(query, "customer")) == ["early", "late"]


def test_a_custom_attribute_nested_1000_deep_rejects_that_customer_only(write_request, load, query):
    deep = '"x"'
    for _ in range(1000):
        deep = "[" + deep + "]"
    raw = (
        '{"customers": [{"external_id": "deep", "attributes": {"custom": [{"key": "k", "value": '
        + deep
        + '}]}}, {"external_id": "c1"}]}'
    )
    result = load(write_request("deep.json", raw=raw))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "customer deep: attributes: is nested more than 30 levels deep" in result.stdout
    assert _landed(query, "customer") == ["c1"]


def test_nesting_up_to_the_limit_is_accepted_and_one_more_level_is_not(write_request, load, query):
    def nested(levels):
        value = "x"
        for _ in range(levels):
            value = [value]
        return value

    # attributes (1) -> custom (2) -> element (3) -> value: 27 more arrays make 30 levels
    ok = {"external_id": "ok", "attributes": {"custom": [{"key": "k", "value": nested(27)}]}}
    too_deep = {"external_id": "deep", "attributes": {"custom": [{"key": "k", "value": nested(28)}]}}
    result = load(write_request("c.json", {"customers": [ok, too_deep]}))
    assert result.returncode == 1
    assert _landed(query, "customer") == ["ok"]


def test_an_unknown_field_nested_too_deep_is_rejected_too(write_request, load, query):
    value = '"x"'
    for _ in range(300):  # deeper than orjson serialises
        value = "[" + value + "]"
    raw = '{"customers": [{"external_id": "c2", "extra": ' + value + '}, {"external_id": "c1"}]}'
    result = load(write_request("c.json", raw=raw))
    assert result.returncode == 1
    assert "customer c2: extra: is nested more than 30 levels deep" in result.stdout
    assert _landed(query, "customer") == ["c1"]


def test_absurdly_long_identifiers_and_strings_are_rejected_naming_the_field(write_request, load, query):
    customers = [
        {"external_id": "x" * 1025},
        {"external_id": "long_name", "name": "n" * 65_537},
        {"external_id": "y" * 1024, "name": "n" * 65_536},  # exactly at both limits
    ]
    result = load(write_request("c.json", {"customers": customers}))
    assert result.returncode == 1
    assert "external_id: is longer than 1,024 characters (1,025)" in result.stdout
    assert "x" * 201 not in result.stdout  # printed ids are shortened; load_errors keeps them whole
    assert "customer long_name: name: is longer than 65,536 characters (65,537)" in result.stdout
    assert _landed(query, "customer") == ["y" * 1024]


def test_an_exception_while_handling_one_object_rejects_it_as_an_internal_error_and_the_rest_lands(
    write_request, load, query, monkeypatch
):
    real = prepare_step.validate

    def failing(object_type, obj):
        if isinstance(obj, dict) and obj.get("external_id") == "boom":
            raise ZeroDivisionError("simulated bug")
        return real(object_type, obj)

    monkeypatch.setattr(prepare_step, "validate", failing)
    customers = [{"external_id": "boom"}, CUSTOMER]
    result = load(write_request("c.json", {"customers": customers}))
    assert result.returncode == 1
    assert "customer boom: internal error: ZeroDivisionError: simulated bug" in result.stdout
    assert _landed(query, "customer") == ["c1"]
    (message,) = query("select message from main.load_errors where external_id = 'boom'")[0]
    assert message.startswith("internal error: ZeroDivisionError")


def test_strict_still_lands_nothing_when_one_object_raised(write_request, load, query, monkeypatch):
    real = prepare_step.validate

    def failing(object_type, obj):
        if isinstance(obj, dict) and obj.get("external_id") == "boom":
            raise RuntimeError("simulated bug")
        return real(object_type, obj)

    monkeypatch.setattr(prepare_step, "validate", failing)
    result = load(write_request("c.json", {"customers": [{"external_id": "boom"}, CUSTOMER]}), strict=True)
    assert result.returncode == 1
    assert _landed(query, "customer") == []


def test_every_integer_field_declares_the_type_its_staging_model_casts_it_to():
    """The loader's declared SQL type of each integer field matches the type staging gives it, which lives in one
    map, macros/staged_types.sql (read from the macro here, so a change on either side fails this test)."""
    import re
    from pathlib import Path

    macro = (Path(__file__).resolve().parents[2] / "macros" / "staged_types.sql").read_text()
    checked = 0
    for object_type, fields in re.findall(r"'(\w+)': \{([^{}]*)\}", macro):
        for field, sql_type in re.findall(r"'(\w+)': '(\w+)'", fields):
            if sql_type not in ("bigint", "integer"):
                continue
            check = SCHEMAS[object_type].by_name[field].check
            assert check.sql_type.name == sql_type, (object_type, field)
            assert sql_type_range_holds(check), (object_type, field)
            checked += 1
    assert checked == 11  # line items 6, transactions 1, subscription events 3, plans 1


def sql_type_range_holds(check) -> bool:
    return check.sql_type.low <= check.low <= check.high <= check.sql_type.high
