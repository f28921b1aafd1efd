"""The compiled fast path (msgspec) may only say "conforms" when the Python rules find nothing: otherwise an
invalid object would land without its load_errors row. Random objects of every type, valid and not, check
that one direction; a few typical objects check that the fast path is taken at all."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrr_warehouse import compiled_validation, object_types, validation

_TIMESTAMP_TEXT = st.one_of(
    st.sampled_from(
        [
            "2024-01-31",
            "2024-02-30",
            "2024-01-31 12:00:00",
            "2024-01-31T12:00:00Z",
            "2024-01-31T12:00:00+05:30",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "2024-13-01",
            "٢٠٢٤-01-31",
            "2024-02-29",
            "2023-02-29",
            "2024-04-31",
            "0000-01-01",
            "2024-01-31\n",
            "2024-01-31T24:00:00",
            "2024-01-31 23:59:60",
            "2024-01-31 12:00:00z",
            "2024-01-31T12:00:00.5Z",
        ]
    ),
    st.datetimes().map(lambda value: value.isoformat()),
)
_STRINGS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", "\u3000", "\x1c", "usd", "XXX", "EUR", "x" * 1025, "y" * 65_537]),
    _TIMESTAMP_TEXT,
)
_INTS = st.one_of(
    st.integers(-5, 5),
    st.sampled_from([2**31, 2**61, 2**61 + 1, -(2**61) - 1, 2**63, 2**64, 10_000, 10_001]),
)
_SCALARS = st.one_of(st.none(), st.booleans(), _INTS, st.floats(allow_nan=False), _STRINGS)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)


def _values_for(check: validation.Checker) -> st.SearchStrategy:
    """Values of any JSON type, weighted towards the ones the field takes (so that valid objects occur)."""
    if isinstance(check, validation._Enum):
        likely = st.sampled_from(sorted(check.allowed))
    elif isinstance(check, validation._IntegerIn):
        likely = st.one_of(
            st.integers(check.low, check.high), st.just(check.low - 1), st.just(check.high + 1)
        )
    elif check is validation._timestamp:
        likely = _TIMESTAMP_TEXT
    elif check is validation._currency:
        likely = st.sampled_from(["USD", "eur", "XXX", "US"])
    elif check is validation._boolean:
        likely = st.booleans()
    elif check in (validation._object, validation._array):
        likely = _VALUES.filter(lambda value: isinstance(value, dict | list))
    else:
        likely = _STRINGS
    return st.one_of(*[likely] * 12, _VALUES)


def _objects(object_type: str) -> st.SearchStrategy:
    schema = object_types.SCHEMAS[object_type]
    known = {item.name: _values_for(item.check) for item in schema.fields}
    required = {item.name: known[item.name] for item in schema.fields if item.required}
    optional = {name: value for name, value in known.items() if name not in required}
    objects = st.fixed_dictionaries(required, optional=optional)
    with_unknown = st.builds(
        lambda obj, extra: {**extra, **obj}, objects, st.dictionaries(st.text(), _VALUES)
    )
    return st.one_of(objects, objects, with_unknown, _VALUES)


ANY_OBJECT = st.sampled_from(object_types.COMPILED).flatmap(
    lambda object_type: st.tuples(st.just(object_type), _objects(object_type))
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_OBJECT)
def test_an_object_the_compiled_path_accepts_has_no_problem_under_the_rules(typed_object):
    object_type, obj = typed_object
    if compiled_validation.conforms(object_type, obj):
        assert validation.check_object(object_type, obj) == []


def test_typical_valid_objects_take_the_compiled_path():
    typical = {
        "customer": {"external_id": "c1", "name": "Ada", "country": "GB", "lead_created_at": "2024-01-02"},
        "plan": {"name": "Gold", "interval_count": 1, "interval_unit": "month", "external_id": "gold"},
        "invoice": {
            "external_id": "i1",
            "date": "2024-01-02 10:00:00",
            "currency": "usd",
            "customer_external_id": "c1",
        },
        "line_item": {
            "type": "subscription",
            "amount_in_cents": 1000,
            "subscription_external_id": "s1",
            "plan_external_id": "gold",
            "service_period_start": "2024-01-02",
            "service_period_end": "2024-02-02T00:00:00Z",
            "invoice_external_id": "i1",
        },
        "transaction": {"type": "payment", "result": "successful", "date": "2024-01-02", "external_id": "t1"},
        "contact": {"customer_external_id": "c1", "email": "a@example.com", "phone": 441234},
    }
    for object_type, obj in typical.items():
        assert validation.check_object(object_type, obj) == [], object_type
        assert compiled_validation.conforms(object_type, obj), object_type


def test_objects_the_rules_reject_are_left_to_the_rules():
    rejected = [
        ("line_item", {"type": "subscription", "amount_in_cents": 1000}),  # a rule across fields
        ("line_item", {"type": "one_time", "amount_in_cents": True}),  # bool is not an integer
        ("customer", {"external_id": " \u3000"}),  # only whitespace
        (
            "invoice",
            {"external_id": "i", "date": "2024-02-30", "currency": "USD", "customer_external_id": "c"},
        ),
        ("customer", {"external_id": "c", "attributes": {"tags": "a"}}),
    ]
    for object_type, obj in rejected:
        assert validation.check_object(object_type, obj) != [], obj
        assert not compiled_validation.conforms(object_type, obj), obj


def test_every_date_and_time_the_compiled_timestamp_pattern_matches_is_a_timestamp_the_rules_accept():
    pattern = re.compile(compiled_validation.PLAIN_TIMESTAMP)
    matched = 0
    years = ("0000", "0001", "1900", "2000", "2023", "2024", "9999")
    for year, month, day in itertools.product(years, range(14), range(33)):
        date = f"{year}-{month:02d}-{day:02d}"
        for text in (date, f"{date} 00:00:00", f"{date}T23:59:59Z"):
            if pattern.search(text):
                matched += 1
                assert validation.parse_timestamp(text) is not None, text
    for time in ("24:00:00", "23:60:00", "23:59:60", "12:00", "12:00:00.5", "12:00:00+01:00"):
        assert not pattern.search(f"2024-01-31T{time}"), time
    assert matched == 3 * 6 * 365  # every day but February 29th (365 in leap years too), six valid years
