"""Per-object schemas of the Import API (SPEC 1), declared once, and the checks that apply them.

A schema lists each field with its kind; `validate` returns every problem of an object as values (field +
message), so the loader can reject the object, print why and store the rows in `main.load_errors`.
Cross-object rules (unknown customer, plan or invoice; immutability) need the warehouse and live in
`loader.py`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pycountry

# --------------------------------------------------------------------------------------------------------------
# Problems: errors and warnings are values with a path (file -> object type -> external_id/position -> field).


@dataclass(frozen=True, slots=True)
class Problem:
    object_type: str | None
    external_id: str | None
    position: int | None
    field: str | None
    message: str
    context: str | None = None  # e.g. "invoice inv_1" for a nested line item without external_id
    customer_external_id: str | None = None  # the customer the object belongs to (erasure finds it by this)

    def where(self) -> str:
        """`object_type external_id` (or `#position`), as printed before the field."""
        if self.object_type is None:
            return ""
        if self.external_id is not None:
            shown = self.external_id if len(self.external_id) <= 200 else self.external_id[:200] + "..."
            label = f"{self.object_type} {shown}"
        elif self.position is not None and not (self.context or "").startswith("line "):
            # (a CSV row's position is its line, which the context already names)
            label = f"{self.object_type} #{self.position}"
        else:
            label = self.object_type
        if self.context:
            label += f" in {self.context}"
        return label

    def render(self, file: str) -> str:
        parts = [file]
        where = self.where()
        if where:
            parts.append(where)
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


# --------------------------------------------------------------------------------------------------------------
# Hashing: canonical JSON (sorted keys, no whitespace) and its sha256.


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Timestamps: ISO 8601 date, `YYYY-MM-DD HH:MM[:SS]`, with `T`, optional fraction, `Z` or an offset.

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
TIMESTAMP_FORMATS = "YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or ISO 8601 such as 2024-01-31T12:00:00Z"


def _is_plain_timestamp(text: str) -> bool:
    """`YYYY-MM-DD`, or `YYYY-MM-DD[ T]HH:MM:SS` with an optional `Z`, in ASCII: the shapes where
    datetime.fromisoformat accepts exactly what _TIMESTAMP accepts (ASCII digits in the digit places, the
    same range checks) and reads the same values, so it can stand in for the regex."""
    size = len(text)
    if size == 10:
        return text[4] == "-" and text[7] == "-" and text.isascii()
    if size == 19 or (size == 20 and text[19] == "Z"):
        return (
            text[4] == "-"
            and text[7] == "-"
            and text[10] in " T"
            and text[13] == ":"
            and text[16] == ":"
            and text.isascii()
        )
    return False


@functools.lru_cache(maxsize=1 << 16)
def parse_timestamp(text: str) -> datetime | None:
    """An aware UTC datetime, or None when the text is not an accepted timestamp (a date means 00:00 UTC)."""
    # Fast path for the common shapes: fromisoformat is ~20x cheaper than the regex and int() conversions.
    # Anything it refuses (or any other shape) takes the general path below, which decides.
    if _is_plain_timestamp(text):
        try:
            return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
        except ValueError:
            pass
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz = UTC
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= timedelta(hours=24):
            return None
        tz = timezone(sign * delta)
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:  # the offset moves it before 0001-01-01 or past 9999-12-31 in UTC
        return None


def _out_of_range_after_offset(text: str) -> bool:
    """True when the text has a valid local date and time whose offset moves it out of 0001..9999 in UTC."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None or match.group(8) in (None, "Z"):
        return False
    year, month, day = (int(part) for part in match.group(1, 2, 3))
    return (year == 1 and month == 1 and day == 1) or (year == 9999 and month == 12 and day == 31)


# --------------------------------------------------------------------------------------------------------------
# Field kinds. A checker returns None when the value is fine, else the message.

Checker = Callable[[Any], str | None]

_CURRENCIES = frozenset(currency.alpha_3 for currency in pycountry.currencies)
_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) > 60:
        value = value[:60]  # no need to serialise a huge string to show its start
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # nested deeper than orjson goes
        return "(a value nested too deep to show)"
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------------------------------
# Limits on the shape of any value, so that whatever is accepted can be stored, hashed, printed and parsed by
# staging (docs/decisions.md). Deeper nesting made orjson and Python recursion fail; absurd lengths only cost.

MAX_NESTING = 30  # arrays/objects inside a field's value
MAX_IDENTIFIER_LENGTH = 1_024  # characters of an external_id or other identifier
MAX_STRING_LENGTH = 65_536  # characters of any other string (names, notes, custom attribute values, keys)


def _shape_problem(value: Any) -> str | None:
    """A field value's nesting and string lengths (None when fine). Iterative: no recursion limit to hit."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"is nested more than {MAX_NESTING} levels deep (arrays and objects inside each other)"
        children = current.values() if type(current) is dict else current
        if type(current) is dict:
            for key in current:
                if len(key) > MAX_STRING_LENGTH:
                    return f"has a member name longer than {MAX_STRING_LENGTH:,} characters"
        for child in children:
            cls = type(child)
            if cls is str:
                if len(child) > MAX_STRING_LENGTH:
                    return f"holds a string longer than {MAX_STRING_LENGTH:,} characters"
            elif cls is dict or cls is list:
                stack.append((child, depth + 1))
    return None


def _value_problem(value: Any) -> str | None:
    """Length and nesting limits of one top-level field value (any field, known or not)."""
    cls = type(value)
    if cls is str:
        if len(value) > MAX_STRING_LENGTH:
            return f"is longer than {MAX_STRING_LENGTH:,} characters ({len(value):,})"
        return None
    if cls is dict or cls is list:
        return _shape_problem(value) if value else None
    return None


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, got {_json_type(value)} {_show(value)}"


def _identifier(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {_json_type(value)} {_show(value)}"
    if len(value) > MAX_IDENTIFIER_LENGTH:
        return f"is longer than {MAX_IDENTIFIER_LENGTH:,} characters ({len(value):,})"
    return None if value.strip() else "must not be empty"


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return None
    return f"must be a string, got {_json_type(value)} {_show(value)}"


def _integer(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"must be an integer, got {_json_type(value)} {_show(value)}"


# Integers: each field declares the SQL type staging casts it to (models/staging/*.sql; a test checks that the
# two agree) and, where the values are later combined, a narrower range that keeps that arithmetic in the type.
@dataclass(frozen=True, slots=True)
class SqlInteger:
    name: str
    low: int
    high: int


BIGINT = SqlInteger("bigint", -(2**63), 2**63 - 1)
INTEGER = SqlInteger("integer", -(2**31), 2**31 - 1)


class _IntegerIn:
    """Checker for an integer field: its staging type and the range accepted (a class, so that the fast path
    can read `low` and `high`)."""

    __slots__ = ("high", "low", "reason", "sql_type")

    def __init__(
        self, sql_type: SqlInteger, low: int | None = None, high: int | None = None, reason: str = ""
    ) -> None:
        self.sql_type = sql_type
        self.low = sql_type.low if low is None else low
        self.high = sql_type.high if high is None else high
        self.reason = reason or f"staging stores it as {sql_type.name.upper()}"

    def __call__(self, value: Any) -> str | None:
        problem = _integer(value)
        if problem is not None:
            return problem
        if self.low <= value <= self.high:
            return None
        if value < self.low and self.low in (0, 1):
            if self.low == 0:
                return f"must not be negative, got {value} (a refund is a transaction of type refund)"
            return f"must be an integer greater than 0, got {value}"
        return f"is out of range: {value} (must be from {self.low:,} to {self.high:,}; {self.reason})"


# Money in cents: BIGINT in staging, where MRR subtracts tax and fees from the amount; two bits of headroom keep
# amount - tax - fees inside BIGINT (docs/decisions.md).
MAX_CENTS = 2**61
_MONEY_REASON = "money in cents is kept within +-2^61 so that amount - tax - fees fits BIGINT"
_cents = _IntegerIn(BIGINT, -MAX_CENTS, MAX_CENTS, _MONEY_REASON)
_non_negative_cents = _IntegerIn(BIGINT, 0, MAX_CENTS, _MONEY_REASON)
_quantity = _IntegerIn(BIGINT, 1)
_bigint = _IntegerIn(BIGINT)
# INTEGER in staging, and dates are moved back by it (a plan interval): 10,000 years from any accepted date
# stays within DuckDB's timestamps.
MAX_INTERVAL_COUNT = 10_000
_interval_count = _IntegerIn(
    INTEGER, 1, MAX_INTERVAL_COUNT, "a plan interval longer than 10,000 units cannot be dated"
)
# raw.data_sources.auto_churn_interval_days is an INTEGER; dates are moved forward by it.
MAX_AUTO_CHURN_DAYS = 36_500
auto_churn_days = _IntegerIn(INTEGER, 1, MAX_AUTO_CHURN_DAYS, "auto-churn waits at most 100 years")


def _boolean(value: Any) -> str | None:
    return (
        None if isinstance(value, bool) else f"must be true or false, got {_json_type(value)} {_show(value)}"
    )


def _timestamp(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a timestamp string, got {_json_type(value)} {_show(value)}"
    if parse_timestamp(value) is None:
        if _out_of_range_after_offset(value):
            return f"is out of range once converted to UTC (0001-01-01 to 9999-12-31): {_show(value)}"
        return f"is not a timestamp: {_show(value)} (expected {TIMESTAMP_FORMATS})"
    return None


def _timestamps(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"must be an array of timestamps, got {_json_type(value)} {_show(value)}"
    for index, item in enumerate(value):
        problem = _timestamp(item)
        if problem is not None:
            return f"[{index}] {problem}"
    return None


def _currency(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an ISO 4217 currency code, got {_json_type(value)} {_show(value)}"
    if value.upper() not in _CURRENCIES:
        return f"is not an ISO 4217 currency code: {_show(value)}"
    return None


def _object(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be an object, got {_json_type(value)} {_show(value)}"


def _array(value: Any) -> str | None:
    return None if isinstance(value, list) else f"must be an array, got {_json_type(value)} {_show(value)}"


class _Enum:
    """Checker for a string out of a fixed set (a class, so that the fast path can read `allowed`)."""

    __slots__ = ("allowed", "listed")

    def __init__(self, *choices: str) -> None:
        self.allowed = frozenset(choices)
        self.listed = " | ".join(choices)

    def __call__(self, value: Any) -> str | None:
        if isinstance(value, str) and value in self.allowed:
            return None
        return f"must be one of {self.listed}, got {_show(value)}"


# The fast path of check_fields: per checker, a cheap test that implies the checker would return None (and
# nothing else: when it fails, the checker itself runs and decides). A type here means "exactly this type"
# (exact, so bool never passes for int); the other kinds are tested inline in _fields_ok.
_IDENTIFIER, _TIMESTAMP_KIND, _TEXT, _CURRENCY = range(4)
FastKind = type | int | frozenset[str] | tuple[int, int]
_FAST_KINDS: dict[Checker, FastKind] = {
    _string: str,
    _integer: int,
    _boolean: bool,
    _object: dict,
    _array: list,
    _identifier: _IDENTIFIER,
    _timestamp: _TIMESTAMP_KIND,
    _text: _TEXT,
    _currency: _CURRENCY,
}


def _fast_kind(check: Checker) -> FastKind | None:
    if isinstance(check, _Enum):
        return check.allowed
    if isinstance(check, _IntegerIn):
        return (check.low, check.high)
    return _FAST_KINDS.get(check)


# --------------------------------------------------------------------------------------------------------------
# Schemas.


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    check: Checker
    required: bool = False


@dataclass(frozen=True, slots=True)
class Schema:
    object_type: str
    fields: tuple[Field, ...]
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    required: tuple[str, ...] = field(init=False, repr=False, compare=False)
    order: dict[str, int] = field(init=False, repr=False, compare=False)
    fast: dict[str, FastKind | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {item.name: item for item in self.fields})
        object.__setattr__(self, "fast", {item.name: _fast_kind(item.check) for item in self.fields})
        object.__setattr__(self, "order", {item.name: index for index, item in enumerate(self.fields)})
        object.__setattr__(self, "required", tuple(item.name for item in self.fields if item.required))


# Field kinds, named for the schemas of object_types.py.
STRING, IDENTIFIER, TEXT, BOOLEAN = _string, _identifier, _text, _boolean
TIMESTAMP, TIMESTAMPS, CURRENCY, OBJECT, ARRAY = _timestamp, _timestamps, _currency, _object, _array
CENTS, NON_NEGATIVE_CENTS, QUANTITY, BIG_INTEGER, INTERVAL_COUNT = (
    _cents,
    _non_negative_cents,
    _quantity,
    _bigint,
    _interval_count,
)
Enum, IntegerIn = _Enum, _IntegerIn
CUSTOM_ATTRIBUTE_TYPES = ("String", "Integer", "Decimal", "Timestamp", "Boolean")


# An issue found by the checks below: (field, message); the loader turns it into a Problem.
Issue = tuple[str, str]


def _fields_ok(schema: Schema, obj: dict[str, Any]) -> bool:
    """True when check_fields would find nothing: the common case, decided without calling a checker per
    field or building lists. False means "maybe not": check_fields then runs every checker."""
    for name in schema.required:
        if obj.get(name) is None:
            return False
    fast = schema.fast
    for name, value in obj.items():
        cls = type(value)
        if len(name) > MAX_STRING_LENGTH:
            return False
        if cls is str:
            if len(value) > MAX_STRING_LENGTH:
                return False
        elif (cls is dict or cls is list) and value and _shape_problem(value) is not None:
            return False
        if value is None or name not in fast:
            continue  # null means absent; unknown fields are kept as sent
        kind = fast[name]
        if cls is kind:
            continue
        if kind is _IDENTIFIER:
            if cls is str and value.strip() and len(value) <= MAX_IDENTIFIER_LENGTH:
                continue
        elif kind is _TIMESTAMP_KIND:
            if cls is str and parse_timestamp(value) is not None:
                continue
        elif type(kind) is frozenset:
            if cls is str and value in kind:
                continue
        elif type(kind) is tuple:  # an integer range
            if cls is int and kind[0] <= value <= kind[1]:
                continue
        elif kind is _TEXT:
            if cls is str or cls is int or cls is float:
                continue
        elif kind is _CURRENCY:
            if cls is str and value.upper() in _CURRENCIES:
                continue
        return False
    return True


def check_fields(schema: Schema, obj: dict[str, Any]) -> list[Issue]:
    if _fields_ok(schema, obj):
        return []
    issues: list[Issue] = [(name, "is required") for name in schema.required if obj.get(name) is None]
    by_name = schema.by_name
    for name, value in obj.items():
        message = _value_problem(value)
        if message is None and len(name) > MAX_STRING_LENGTH:
            message = f"member name is longer than {MAX_STRING_LENGTH:,} characters"
        if message is not None:
            issues.append((name[:MAX_IDENTIFIER_LENGTH], message))
            continue
        spec = by_name.get(name)
        if spec is None or value is None:
            continue  # unknown fields are kept as sent; null means absent
        message = spec.check(value)
        if message is not None:
            issues.append((name, message))
    return issues


def _present(obj: dict[str, Any], name: str) -> bool:
    return obj.get(name) is not None


def _period_issues(obj: dict[str, Any], issues: list[Issue]) -> None:
    start, end = obj.get("service_period_start"), obj.get("service_period_end")
    if not (isinstance(start, str) and isinstance(end, str)):
        return
    start_at, end_at = parse_timestamp(start), parse_timestamp(end)
    if start_at is not None and end_at is not None and end_at <= start_at:
        issues.append(("service_period_end", f"must be after service_period_start ({start}), got {end}"))


def validate(object_type: str, obj: Any) -> list[Issue]:
    """Every field-level problem of one object (no cross-object checks)."""
    if compiled_validation.conforms(
        object_type, obj
    ):  # compiled: the common case, about 4x cheaper than the checks below
        return []
    return check_object(object_type, obj)


def check_object(object_type: str, obj: Any) -> list[Issue]:
    """validate() without the compiled fast path: the rules themselves, with their messages."""
    if not isinstance(obj, dict):
        return [("", f"must be a JSON object, got {_json_type(obj)} {_show(obj)}")]
    entry = object_types.TYPES[object_type]
    schema = entry.schema
    issues = check_fields(schema, obj)
    if entry.rules is not None:
        entry.rules(obj, issues)
    if len(issues) > 1:  # in the schema's field order (stable: a field's own problems keep their order)
        order = schema.order
        issues.sort(key=lambda issue: order.get(issue[0].split(".")[0].split("[")[0], len(order)))
    return issues


def _line_item_rules(obj: dict[str, Any], issues: list[Issue]) -> None:
    if obj.get("type") == "subscription":
        for name in ("subscription_external_id", "service_period_start", "service_period_end"):
            if not _present(obj, name):
                issues.append((name, "is required for a subscription line item"))
        if not (_present(obj, "plan_external_id") or _present(obj, "plan_uuid")):
            issues.append(("plan_external_id", "is required for a subscription line item (or plan_uuid)"))
    _period_issues(obj, issues)


def _contact_rules(obj: dict[str, Any], issues: list[Issue]) -> None:
    if not (_present(obj, "customer_external_id") or _present(obj, "customer_uuid")):
        issues.append(("customer_external_id", "is required (or customer_uuid)"))


def _cancellation_rules(obj: dict[str, Any], issues: list[Issue]) -> None:
    if not (_present(obj, "subscription_external_id") or _present(obj, "subscription_uuid")):
        issues.append(("subscription_external_id", "is required (or subscription_uuid)"))
    has_at, has_dates = "cancelled_at" in obj, "cancellation_dates" in obj
    if has_at and has_dates:
        issues.append(("cancelled_at", "give either cancelled_at or cancellation_dates, not both"))
    elif not has_at and not has_dates:
        issues.append(("cancelled_at", "is required (or cancellation_dates)"))
    elif has_at and obj["cancelled_at"] is None:
        issues.append(("cancelled_at", "must be a timestamp, got null"))
    elif has_dates and obj["cancellation_dates"] is None:
        issues.append(("cancellation_dates", "must be an array of timestamps, got null"))


def _customer_rules(obj: dict[str, Any], issues: list[Issue]) -> None:
    attributes = obj.get("attributes")
    if not isinstance(attributes, dict):
        return
    tags = attributes.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
        issues.append(("attributes.tags", "must be an array of strings"))
    custom = attributes.get("custom")
    if custom is None:
        return
    if not isinstance(custom, list):
        issues.append(("attributes.custom", f"must be an array, got {_json_type(custom)}"))
        return
    check_type = _Enum(*CUSTOM_ATTRIBUTE_TYPES)
    for index, item in enumerate(custom):
        name = f"attributes.custom[{index}]"
        if not isinstance(item, dict):
            issues.append((name, f"must be an object, got {_json_type(item)}"))
            continue
        if not isinstance(item.get("key"), str) or not item["key"]:
            issues.append((f"{name}.key", "is required (a string)"))
        if item.get("type") is not None and (message := check_type(item["type"])) is not None:
            issues.append((f"{name}.type", message))


def _data_source_rules(obj: dict[str, Any], issues: list[Issue]) -> None:
    setting = obj.get("auto_churn_subscription_setting")
    if not isinstance(setting, dict):
        return
    enabled, interval = setting.get("enabled"), setting.get("interval")
    if enabled is not None and (message := _boolean(enabled)) is not None:
        issues.append(("auto_churn_subscription_setting.enabled", message))
    if interval is not None and (message := auto_churn_days(interval)) is not None:
        issues.append(("auto_churn_subscription_setting.interval", message))


# Rules across fields, named for the entries of object_types.py.
customer_rules, line_item_rules, contact_rules = _customer_rules, _line_item_rules, _contact_rules
cancellation_rules, data_source_rules = _cancellation_rules, _data_source_rules


# --------------------------------------------------------------------------------------------------------------
# Suspicious but valid input (warnings).

SUSPICIOUS_TRANSACTION_AGE = timedelta(days=365)


def suspicious_transaction_date(transaction_date: Any, invoice_date: Any) -> str | None:
    """A warning when a transaction is dated more than a year before its invoice (the tutorial's 2005 typo)."""
    if not (isinstance(transaction_date, str) and isinstance(invoice_date, str)):
        return None
    paid_at, invoiced_at = parse_timestamp(transaction_date), parse_timestamp(invoice_date)
    if paid_at is None or invoiced_at is None or invoiced_at - paid_at <= SUSPICIOUS_TRANSACTION_AGE:
        return None
    return (
        f"is {(invoiced_at - paid_at).days} days before its invoice's date ({invoice_date}): {transaction_date}"
        " (landed; check for a typo)"
    )


def unknown_country(value: Any) -> str | None:
    if isinstance(value, str) and value.upper() not in _COUNTRIES:
        return f"is not an ISO 3166-1 alpha-2 country code: {_show(value)} (landed as sent)"
    return None


# Last: the schemas (object_types.py) and the compiled fast path derived from them use the kinds above.
from mrr_warehouse import compiled_validation, object_types  # noqa: E402
