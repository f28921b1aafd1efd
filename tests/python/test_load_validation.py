"""The per-object schemas: accepted timestamp formats, currencies, and every field problem reported at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mrr_warehouse.validation import parse_timestamp, validate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC)),
        ("2024-01-31 12:30:00", datetime(2024, 1, 31, 12, 30, tzinfo=UTC)),
        ("2024-01-31T12:30:00", datetime(2024, 1, 31, 12, 30, tzinfo=UTC)),
        ("2024-01-31 12:30", datetime(2024, 1, 31, 12, 30, tzinfo=UTC)),
        ("2024-01-31T12:30:00.123456789", datetime(2024, 1, 31, 12, 30, 0, 123456, tzinfo=UTC)),
        ("2024-01-31T12:30:00Z", datetime(2024, 1, 31, 12, 30, tzinfo=UTC)),
        ("2024-01-31T12:30:00+02:00", datetime(2024, 1, 31, 10, 30, tzinfo=UTC)),
        ("2024-01-31T00:30:00-0130", datetime(2024, 1, 31, 2, 0, tzinfo=UTC)),
    ],
)
def test_accepted_timestamps_parse_to_utc(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "31/01/2024",
        "2024-13-01",
        "2024-02-30",
        "2024-01-31T25:00:00",
        "2024-01-31T12",
        "20240131",
        "2024-01-31T12:00:00+2",
        "2024-01-31 12:00:00 UTC",
        "2024-01-31T12:00:00+24:00",
    ],
)
def test_unparseable_timestamps_are_rejected(text):
    assert parse_timestamp(text) is None
    issues = validate("transaction", {"type": "payment", "result": "successful", "date": text})
    assert [field for field, _ in issues] == ["date"]


def test_every_field_problem_of_an_object_is_reported_in_schema_order():
    line_item = {
        "type": "subscription",
        "amount_in_cents": 10.5,
        "quantity": 0,
        "service_period_start": "2024-02-01",
        "service_period_end": "2024-01-01",
        "prorated": "false",
        "currency_unknown_field_is_kept": True,
    }
    fields = [field for field, _ in validate("line_item", line_item)]
    assert fields == [
        "amount_in_cents",
        "subscription_external_id",
        "plan_external_id",
        "service_period_end",
        "quantity",
        "prorated",
    ]


def test_currency_codes_are_iso_4217_in_any_case():
    invoice = {"external_id": "i", "date": "2024-01-01", "customer_external_id": "c"}
    assert validate("invoice", {**invoice, "currency": "eur"}) == []
    assert [field for field, _ in validate("invoice", {**invoice, "currency": "EURO"})] == ["currency"]
    assert [field for field, _ in validate("invoice", {**invoice, "currency": 978})] == ["currency"]


def test_one_time_and_trial_lines_need_no_plan_or_period():
    assert validate("line_item", {"type": "one_time", "amount_in_cents": 100}) == []
    assert validate("line_item", {"type": "trial", "amount_in_cents": 0}) == []


def test_booleans_are_not_integers():
    issues = validate("line_item", {"type": "one_time", "amount_in_cents": True})
    assert issues and issues[0][0] == "amount_in_cents" and "got a boolean" in issues[0][1]
