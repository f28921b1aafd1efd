"""Property (issue #11 item 3): whatever random valid and invalid objects a file holds, the loader never crashes
(exit 0 or 1, no traceback) and `dbt build` passes on whatever it accepted.

Hypothesis generates the batches; each batch is a handful of request files loaded into one warehouse, and dbt
builds once per warehouse (a build costs ~20 s, so a few batches keep the test near a minute). The database file
is called main.duckdb on purpose: a file named like a schema must work too (item 6).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse_runner import Warehouse

# Values that stress the staging types: integers at and beyond BIGINT and INTEGER, odd timestamps and offsets,
# deep nesting, long and unicode strings, nulls and wrong types.
EXTREME_INTS = st.sampled_from(
    [
        0,
        1,
        -1,
        2**31 - 1,
        2**31,
        3_000_000_000,
        2**61,
        2**61 + 1,
        2**62,
        2**63 - 1,
        2**63,
        2**63 + 5,
        2**64 + 1,
        -(2**63),
    ]
)
INTS = st.one_of(st.integers(-(10**6), 10**6), EXTREME_INTS)
TIMESTAMPS = st.one_of(
    st.sampled_from(
        [
            "2024-01-01",
            "2024-02-29T12:00:00Z",
            "2024-01-31T00:30:00-0130",
            "9999-12-31T23:00:00-05:00",
            "9999-12-31T23:00:00+05:00",
            "0001-01-01T00:30:00+01:00",
            "0001-01-01T00:30:00-01:00",
            "2024-01-31T12:30:00.123456789",
            "2024-13-01",
            "not a date",
        ]
    ),
    st.datetimes().map(lambda value: value.isoformat()),
)
TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\n\x1b[2K", "\u202e", "x" * 1025, "y" * 70_000]),
)


def _nested(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


JUNK = st.one_of(st.none(), st.booleans(), INTS, st.floats(allow_nan=False, allow_infinity=False), TEXT)
NESTED = st.sampled_from([3, 29, 31, 200]).map(_nested)
ANY = st.one_of(JUNK, NESTED, TIMESTAMPS)
IDS = st.one_of(st.sampled_from(["c1", "c2", "p1", "s1", "i1", "i2", "t1"]), TEXT)


def maybe(base: dict, **alternatives):
    """The base object with some fields replaced by drawn values."""
    fields = st.fixed_dictionaries({}, optional=alternatives)
    return fields.map(lambda extra: {**base, **extra})


CUSTOMER = maybe(
    {"external_id": "c1", "name": "One"},
    external_id=IDS,
    name=TEXT,
    lead_created_at=TIMESTAMPS,
    attributes=st.one_of(
        NESTED.map(lambda value: {"custom": [{"key": "k", "type": "String", "value": value}]}),
        st.just({"tags": ["a", "b"], "custom": [{"key": "n", "type": "Integer", "value": 2**70}]}),
        JUNK,
    ),
    extra=ANY,
)
PLAN = maybe(
    {"external_id": "p1", "name": "Plan", "interval_count": 1, "interval_unit": "month"},
    interval_count=INTS,
    interval_unit=st.sampled_from(["day", "month", "year", "week"]),
    name=TEXT,
)
LINE = maybe(
    {
        "type": "subscription",
        "subscription_external_id": "s1",
        "plan_external_id": "p1",
        "service_period_start": "2024-01-01",
        "service_period_end": "2024-02-01",
        "amount_in_cents": 1000,
    },
    amount_in_cents=INTS,
    quantity=INTS,
    tax_amount_in_cents=INTS,
    discount_amount_in_cents=INTS,
    transaction_fees_in_cents=INTS,
    event_order=INTS,
    service_period_start=TIMESTAMPS,
    service_period_end=TIMESTAMPS,
    prorated=st.booleans(),
    type=st.sampled_from(["subscription", "one_time", "trial"]),
    description=ANY,
)
TRANSACTION = maybe(
    {"type": "payment", "result": "successful", "date": "2024-01-02", "amount_in_cents": 1000},
    amount_in_cents=INTS,
    date=TIMESTAMPS,
    external_id=IDS,
)
INVOICE = st.builds(
    lambda invoice, lines, transactions: {**invoice, "line_items": lines, "transactions": transactions},
    maybe(
        {"external_id": "i1", "date": "2024-01-01", "currency": "USD", "customer_external_id": "c1"},
        external_id=IDS,
        date=TIMESTAMPS,
        currency=st.sampled_from(["USD", "eur", "XXX", "JPY"]),
    ),
    st.lists(LINE, min_size=1, max_size=3),
    st.lists(TRANSACTION, max_size=2),
)
EVENT = maybe(
    {
        "external_id": "e1",
        "customer_external_id": "c1",
        "subscription_external_id": "s2",
        "plan_external_id": "p1",
        "event_type": "subscription_start",
        "event_date": "2024-01-01",
        "effective_date": "2024-01-01",
        "currency": "USD",
        "amount_in_cents": 1000,
    },
    external_id=IDS,
    amount_in_cents=INTS,
    tax_amount_in_cents=INTS,
    quantity=INTS,
    effective_date=TIMESTAMPS,
)
CONTACT = maybe(
    {"customer_external_id": "c1", "email": "a@example.com"}, first_name=TEXT, custom=ANY, phone=ANY
)
CANCELLATION = maybe(
    {"subscription_external_id": "s1", "cancelled_at": "2024-03-01"}, cancelled_at=TIMESTAMPS
)
DATA_SOURCE = maybe(
    {"name": "Billing", "auto_churn_subscription_setting": {"enabled": True, "interval": 30}},
    name=st.sampled_from(["Billing", "Other"]),
    auto_churn_subscription_setting=st.one_of(
        INTS.map(lambda interval: {"enabled": True, "interval": interval}), JUNK
    ),
)

BULK = st.fixed_dictionaries(
    {
        "customers": st.lists(CUSTOMER, max_size=4),
        "plans": st.lists(PLAN, max_size=3),
        "invoices": st.lists(INVOICE, max_size=3),
        "subscription_events": st.lists(EVENT, max_size=2),
        "contacts": st.lists(CONTACT, max_size=2),
    }
)
# A request that always lands, so that the build has something to chew on besides the random ones.
BASE = {
    "customers": [{"external_id": "c1", "name": "One"}, {"external_id": "c2"}],
    "plans": [{"external_id": "p1", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
}
REQUESTS = st.lists(st.one_of(BULK, CANCELLATION, DATA_SOURCE, CUSTOMER), min_size=2, max_size=6)
BATCHES = 2


def _write(directory: Path, bodies: list) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, body in enumerate([BASE, *bodies]):
        path = directory / f"{index:03d}.json"
        path.write_text(json.dumps(body))  # json, not orjson: integers beyond 64 bits must be written too
        paths.append(path)
    return paths


@settings(
    max_examples=BATCHES,
    deadline=None,
    derandomize=True,  # the same batches every run: a failure reproduces
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
)
@given(batches=st.lists(REQUESTS, min_size=1, max_size=1))
def test_random_objects_never_crash_the_loader_and_what_is_accepted_builds(tmp_path_factory, batches):
    root = tmp_path_factory.mktemp("property")
    warehouse = Warehouse(root / "main.duckdb")
    for index, bodies in enumerate(batches):
        paths = _write(root / f"requests_{index}", bodies)
        result = warehouse.load("Billing", paths)
        output = result.stdout + result.stderr
        assert result.returncode in (0, 1), output
        assert "Traceback" not in output and "internal error" not in output, output
    warehouse.dbt_build({"as_of_date": "2024-12-31"}, "--exclude-resource-type", "unit_test")
