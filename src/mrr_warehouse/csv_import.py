"""CSV files of customers or contacts (ChartMogul's "flexible CSV import"), turned into an Import API request.

A spreadsheet export becomes the body `{"customers": [...]}` or `{"contacts": [...]}`, one object per data row, which
then goes through the loader like any JSON request: the same validation, identities, idempotency, atomicity and
erasure (D46). What only a CSV can get wrong is judged here, per row, with its line number and column: a date in no
known form, a custom attribute that is not of its declared type. Headers are matched to Import API fields
case- and punctuation-insensitively; `--map "Header=field"` covers the rest, and `--map "Seats=custom.seats:Integer"`
types a custom attribute. A header that matches nothing is reported once.

The file is read by polars, every column as text: spreadsheets write numbers, dates and ids alike, and a leading zero
of an id or a zip code must survive.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

CSV_SUFFIXES = (".csv",)
OBJECT_TYPES = ("customers", "contacts")
CUSTOM_TYPES = ("String", "Integer", "Decimal", "Timestamp", "Boolean")
CUSTOM_PREFIX = "custom."
CUSTOM_SOURCE = "CSV"


def normalise(header: str) -> str:
    """`Customer External ID`, `customer_external_id` and `customer-external-id` all become `customerexternalid`."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


# Import API field -> the header spellings (normalised) that name it. The field's own name always does.
_CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("externalid", "customerexternalid", "customerid", "id"),
    "name": ("name", "customername", "fullname"),
    "email": ("email", "emailaddress", "customeremail", "mail"),
    "company": ("company", "companyname", "organization", "organisation"),
    "country": ("country", "countrycode"),
    "state": ("state", "province", "region"),
    "city": ("city", "town"),
    "zip": ("zip", "zipcode", "postalcode", "postcode"),
    "lead_created_at": ("leadcreatedat", "leadcreated", "leaddate"),
    "free_trial_started_at": ("freetrialstartedat", "freetrialstarted", "trialstartedat", "trialstarted"),
    "tags": ("tags", "tag"),
    "owner": ("owner",),
    "website_url": ("websiteurl", "website"),
}
_CONTACT_FIELDS: dict[str, tuple[str, ...]] = {
    "customer_external_id": ("customerexternalid", "customerid", "customer"),
    "external_id": ("externalid", "contactexternalid", "contactid"),
    "first_name": ("firstname", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
    "title": ("title", "jobtitle"),
    "email": ("email", "emailaddress", "mail"),
    "phone": ("phone", "phonenumber", "telephone", "mobile"),
    "linked_in": ("linkedin", "linkedinurl"),
    "twitter": ("twitter", "twitterhandle"),
    "notes": ("notes", "note"),
}
FIELDS = {"customers": _CUSTOMER_FIELDS, "contacts": _CONTACT_FIELDS}
OBJECT_TYPE = {"customers": "customer", "contacts": "contact"}
DATE_FIELDS = frozenset({"lead_created_at", "free_trial_started_at"})
_SHARED = frozenset({"external_id", "customer_external_id", "email"})


def _spellings(fields: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """The header spellings of a type's own fields (not those both types have)."""
    return frozenset(
        spelling
        for name, spellings in fields.items()
        if name not in _SHARED
        for spelling in (*spellings, normalise(name))
    )


_CUSTOMER_ONLY = _spellings(_CUSTOMER_FIELDS) - _spellings(_CONTACT_FIELDS)
_CONTACT_ONLY = _spellings(_CONTACT_FIELDS) - _spellings(_CUSTOMER_FIELDS)


class CsvRefused(Exception):
    """The file (or a --map) cannot be read as a customers or contacts CSV at all: nothing of it lands."""


@dataclass(frozen=True, slots=True)
class Column:
    """Where a CSV column goes: an Import API field, or a custom attribute/field (`custom_key`) of a type."""

    header: str
    field: str | None = None
    custom_key: str | None = None
    custom_type: str = "String"


@dataclass(slots=True)
class RowProblem:
    line: int
    column: str
    message: str
    external_id: str | None = None  # the row's own id, when it has one
    customer_external_id: str | None = (
        None  # the customer the row is or belongs to (erasure finds it by this)
    )


@dataclass(slots=True)
class CsvRow:
    line: int  # the line the row starts on (1 is the header)
    obj: dict[str, Any]


@dataclass(slots=True)
class CsvRequest:
    array: str  # "customers" or "contacts"
    rows: list[CsvRow] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    # Import API field -> the header it came from, so that the loader's messages name the CSV's column
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def object_type(self) -> str:
        return OBJECT_TYPE[self.array]

    def body(self) -> dict[str, list[dict[str, Any]]]:
        return {self.array: [row.obj for row in self.rows]}

    def lines(self) -> list[int]:
        """The line of each object of body(), by position."""
        return [row.line for row in self.rows]


def is_csv(path: Path) -> bool:
    return path.suffix.lower() in CSV_SUFFIXES


# --------------------------------------------------------------------------------------------------------------
# --map


def parse_mappings(mappings: Iterable[str], array: str) -> dict[str, Column]:
    """`--map "Source header=field"` or `"Source header=custom.key[:Type]"`, keyed by the normalised header."""
    parsed: dict[str, Column] = {}
    for mapping in mappings:
        header, sep, target = mapping.partition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header or not target:
            raise CsvRefused(
                f'--map {mapping!r}: expected "Source header=field" or "Source header=custom.key:Type"'
            )
        if target.lower().startswith(CUSTOM_PREFIX):
            key, _, custom_type = target[len(CUSTOM_PREFIX) :].partition(":")
            custom_type = custom_type.strip() or "String"
            matched = [known for known in CUSTOM_TYPES if known.lower() == custom_type.lower()]
            if not key.strip() or not matched:
                raise CsvRefused(
                    f"--map {mapping!r}: a custom attribute is custom.KEY or custom.KEY:TYPE,"
                    f" TYPE one of {', '.join(CUSTOM_TYPES)}"
                )
            parsed[normalise(header)] = Column(header, custom_key=key.strip(), custom_type=matched[0])
            continue
        wanted = normalise(target)
        fields = [name for name in FIELDS[array] if normalise(name) == wanted]
        if not fields:
            raise CsvRefused(
                f"--map {mapping!r}: {target!r} is no {OBJECT_TYPE[array]} field;"
                f" fields: {', '.join(FIELDS[array])}, custom.KEY[:TYPE]"
            )
        parsed[normalise(header)] = Column(header, field=fields[0])
    return parsed


# --------------------------------------------------------------------------------------------------------------
# Headers


def recognise(headers: Sequence[str], requested: str | None, mapped: dict[str, Column]) -> str:
    """Which object type the file holds: --object; else contacts when more headers name contact-only fields
    (first and last name, title, phone, ...) than customer-only ones (name, company, country, ...); else
    customers when a header names an external id; otherwise the file is refused."""
    if requested is not None:
        if requested not in OBJECT_TYPES:
            raise CsvRefused(f"--object must be one of {', '.join(OBJECT_TYPES)}, got {requested!r}")
        return requested
    normalised = {normalise(header) for header in headers}
    mapped_fields = {column.field for column in mapped.values()}
    # the type whose own fields the headers name more often: a customers sheet may well have a Notes column
    contact_votes = len(normalised & _CONTACT_ONLY)
    customer_votes = len(normalised & _CUSTOMER_ONLY)
    if contact_votes > customer_votes:
        return "contacts"
    if normalised & {*_CUSTOMER_FIELDS["external_id"], "externalid"} or "external_id" in mapped_fields:
        return "customers"
    customer_fields = ", ".join(name for name in _CUSTOMER_FIELDS if name != "external_id")
    contact_fields = ", ".join(list(_CONTACT_FIELDS)[2:])
    raise CsvRefused(
        f"the headers ({', '.join(headers) or 'none'}) match neither a customers CSV (it needs an external id"
        f" column, e.g. 'External ID', and may have {customer_fields}, custom.KEY) nor a contacts CSV"
        f" (customer_external_id and {contact_fields}, custom.KEY); name the type with --object or map columns"
        " with --map"
    )


def match_columns(
    headers: Sequence[str], array: str, mapped: dict[str, Column]
) -> tuple[list[Column | None], list[str]]:
    """Each header's Column (None: ignored), and the headers that matched nothing."""
    spellings = {
        spelling: name for name, names in FIELDS[array].items() for spelling in (normalise(name), *names)
    }
    columns: list[Column | None] = []
    ignored: list[str] = []
    taken: set[str] = set()
    for header in headers:
        key = normalise(header)
        column: Column | None
        if key in mapped:
            column = mapped[key]
        elif (
            header.strip().lower().startswith(CUSTOM_PREFIX) and header.strip()[len(CUSTOM_PREFIX) :].strip()
        ):
            column = Column(header, custom_key=header.strip()[len(CUSTOM_PREFIX) :].strip())
        elif key in spellings:
            column = Column(header, field=spellings[key])
        else:
            column = None
        target = column and (column.field or CUSTOM_PREFIX + str(column.custom_key))
        if column is None or target in taken:
            # a second column for the same field would silently overwrite the first: report it as ignored
            ignored.append(header)
            columns.append(None)
            continue
        taken.add(str(target))
        columns.append(column)
    return columns, ignored


# --------------------------------------------------------------------------------------------------------------
# Values


_SPREADSHEET_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def parse_date(value: str, date_format: str | None) -> str:
    """An ISO 8601 UTC timestamp (`2024-03-05T14:00:00Z`) from ISO forms (`2024-03-05`, `2024-03-05 14:00`,
    `2024-03-05T14:00:00+01:00`) or, with --date-format, the spreadsheet's own form. No offset means UTC."""
    parsed: datetime | None = None
    if date_format is not None:
        try:
            parsed = datetime.strptime(value, date_format)
        except ValueError:
            parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            hint = (
                "; a day/month form needs --date-format (e.g. --date-format %d/%m/%Y)"
                if date_format is None and _SPREADSHEET_DATE.match(value)
                else ""
            )
            expected = f"{date_format!r} or " if date_format else ""
            raise ValueError(f"{value!r} is not a date ({expected}YYYY-MM-DD[ HH:MM[:SS]]){hint}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def typed(value: str, custom_type: str, date_format: str | None) -> Any:
    """A custom attribute's value as its declared type; ValueError names what was expected."""
    if custom_type == "Integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ValueError(f"{value!r} is not a whole number (custom attribute of type Integer)")
        return int(value)
    if custom_type == "Decimal":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a number (custom attribute of type Decimal)")
        return number
    if custom_type == "Boolean":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ValueError(f"{value!r} is not a boolean (true/false, yes/no, 1/0)")
    if custom_type == "Timestamp":
        return parse_date(value, date_format)
    return value


def split_tags(value: str) -> list[str]:
    """One cell of tags, separated by commas or semicolons; blanks and repeats dropped, order kept."""
    return list(dict.fromkeys(tag.strip() for tag in re.split(r"[,;]", value) if tag.strip()))


def build_object(
    array: str, cells: list[tuple[Column, str]], date_format: str | None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The Import API object of one row, and its problems (column, message)."""
    obj: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    for column, value in cells:
        try:
            if column.custom_key is not None:
                item: dict[str, Any] = {
                    "key": column.custom_key,
                    "value": typed(value, column.custom_type, date_format),
                }
                if array == "customers":
                    item = {"type": column.custom_type, **item, "source": CUSTOM_SOURCE}
                custom.append(item)
            elif column.field == "tags":
                obj.setdefault("attributes", {})["tags"] = split_tags(value)
            elif column.field in DATE_FIELDS:
                obj[str(column.field)] = parse_date(value, date_format)
            else:
                obj[str(column.field)] = value
        except ValueError as error:
            problems.append((column.header, str(error)))
    if custom:
        if array == "customers":
            obj.setdefault("attributes", {})["custom"] = custom
        else:
            obj["custom"] = custom
    return obj, problems


# --------------------------------------------------------------------------------------------------------------
# The file


def _delimiter(header_line: str) -> str:
    """The delimiter of the header line: the most frequent of comma, semicolon and tab outside quotes."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    counts = {delimiter: outside.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter]) if any(counts.values()) else ","


def read_frame(data: bytes) -> pl.DataFrame:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CsvRefused(f"is not UTF-8 text (byte {error.start}); save the CSV as UTF-8") from None
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        raise CsvRefused("has no header line (the first line names the columns)")
    try:
        return pl.read_csv(
            io.BytesIO(data), separator=_delimiter(header_line), has_header=True, infer_schema=False
        )
    except pl.exceptions.PolarsError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CsvRefused(f"is not a well-formed CSV: {first_line}") from None


def read_csv_request(
    data: bytes,
    object_type: str | None = None,
    mappings: Sequence[str] = (),
    date_format: str | None = None,
) -> CsvRequest:
    """The request a CSV file makes. Raises CsvRefused when no row can be read."""
    frame = read_frame(data)
    headers = list(frame.columns)
    provisional = "contacts" if object_type == "contacts" else "customers"
    mapped = parse_mappings(mappings, object_type or provisional)
    array = recognise(headers, object_type, mapped)
    if array != provisional:
        mapped = parse_mappings(mappings, array)
    columns, ignored = match_columns(headers, array, mapped)
    request = CsvRequest(array=array, ignored_headers=ignored)
    request.headers = {str(column.field): column.header for column in columns if column and column.field}
    line = 2  # the header is line 1 (a header with a line break inside quotes is not supported)
    for values in frame.iter_rows():
        start = line
        line += 1 + sum(value.count("\n") for value in values if value)
        cells = [
            (column, value.strip())
            for column, value in zip(columns, values, strict=True)
            if column is not None and value is not None and value.strip()
        ]
        if not cells:
            continue  # a blank line (or a row of empty cells): nothing to import
        obj, problems = build_object(array, cells, date_format)
        if problems:
            external_id = obj.get("external_id")
            customer = external_id if array == "customers" else obj.get("customer_external_id")
            request.rejected.extend(
                RowProblem(start, header, message, external_id, customer) for header, message in problems
            )
            continue
        request.rows.append(CsvRow(start, obj))
    return request
