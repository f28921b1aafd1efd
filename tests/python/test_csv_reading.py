"""Reading customer and contact CSVs into Import API requests (src/mrr_warehouse/csv_import.py, issue #16): the
files a spreadsheet program writes, header matching, --map, dates and per-row problems. What the loader then does
with the request (load_errors, idempotency, erasure) is tested end to end in test_csv_import.py."""

from __future__ import annotations

import pytest

from mrr_warehouse import csv_import, object_types
from mrr_warehouse.csv_import import CsvRefused, read_csv_request


def test_a_spreadsheet_export_with_bom_semicolons_quotes_line_breaks_and_blank_lines() -> None:
    data = (
        "\ufeffCustomer External ID;Name;Company;Lead created at;Tags;Zip\r\n"
        'c1;Ann Lee;"Acme; Inc";2024-03-05;"vip, beta";01234\r\n'
        "\r\n"
        'c2;"Bob\r\nSmith";;2024-03-05 14:00;;\r\n'
        "\r\n\r\n"
    ).encode()
    request = read_csv_request(data)
    assert request.array == "customers"
    assert [row.line for row in request.rows] == [2, 4]
    first, second = (row.obj for row in request.rows)
    assert first == {
        "external_id": "c1",
        "name": "Ann Lee",
        "company": "Acme; Inc",
        "lead_created_at": "2024-03-05T00:00:00Z",
        "attributes": {"tags": ["vip", "beta"]},
        "zip": "01234",
    }
    assert second == {"external_id": "c2", "name": "Bob\r\nSmith", "lead_created_at": "2024-03-05T14:00:00Z"}
    assert request.rejected == [] and request.ignored_headers == []


def test_headers_match_case_and_punctuation_insensitively_and_unknown_ones_are_reported() -> None:
    data = (
        b"EXTERNAL_ID,e-mail,Free Trial Started At,Favourite colour\n"
        b"c1,a@example.com,2024-01-02T10:00:00+02:00,red\n"
    )
    request = read_csv_request(data)
    assert request.rows[0].obj == {
        "external_id": "c1",
        "email": "a@example.com",
        "free_trial_started_at": "2024-01-02T08:00:00Z",
    }
    assert request.ignored_headers == ["Favourite colour"]


def test_custom_attributes_by_column_name_and_typed_by_map() -> None:
    data = b"id,custom.channel,Seats,Paid,Renews\nc1,Facebook,12,yes,2025-01-31\n"
    request = read_csv_request(
        data,
        mappings=["Seats=custom.seats:Integer", "Paid=custom.paid:boolean", "Renews=custom.renews:Timestamp"],
    )
    assert request.rows[0].obj == {
        "external_id": "c1",
        "attributes": {
            "custom": [
                {"type": "String", "key": "channel", "value": "Facebook", "source": "CSV"},
                {"type": "Integer", "key": "seats", "value": 12, "source": "CSV"},
                {"type": "Boolean", "key": "paid", "value": True, "source": "CSV"},
                {"type": "Timestamp", "key": "renews", "value": "2025-01-31T00:00:00Z", "source": "CSV"},
            ]
        },
    }


def test_a_bad_value_rejects_its_row_with_line_and_column_and_the_rest_is_kept() -> None:
    data = (
        b"External ID,Seats,Lead Created At\nc1,3,2024-01-01\nc2,three,2024-01-01\nc3,4,05/03/2024\nc4,5,\n"
    )
    request = read_csv_request(data, mappings=["Seats=custom.seats:Integer"])
    assert [row.obj["external_id"] for row in request.rows] == ["c1", "c4"]
    assert [(problem.line, problem.column) for problem in request.rejected] == [
        (3, "Seats"),
        (4, "Lead Created At"),
    ]
    assert "'three' is not a whole number" in request.rejected[0].message
    assert "--date-format" in request.rejected[1].message


def test_date_format_reads_day_first_dates() -> None:
    data = b"External ID,Lead Created At\nc1,05/03/2024\n"
    request = read_csv_request(data, date_format="%d/%m/%Y")
    assert request.rows[0].obj["lead_created_at"] == "2024-03-05T00:00:00Z"


def test_contacts_are_recognised_by_their_headers_and_keep_custom_fields() -> None:
    data = (
        b"Customer External ID,First name,Last name,Title,E-mail,Phone,LinkedIn,Twitter,Notes,custom.Source\n"
        b'c1,Ann,Lee,CFO,ann@example.com,+44 20 7946 0000,https://linkedin.com/in/ann,@ann,"met at, the fair",Expo\n'
    )
    request = read_csv_request(data)
    assert request.array == "contacts" and request.object_type == "contact"
    assert request.rows[0].obj == {
        "customer_external_id": "c1",
        "first_name": "Ann",
        "last_name": "Lee",
        "title": "CFO",
        "email": "ann@example.com",
        "phone": "+44 20 7946 0000",
        "linked_in": "https://linkedin.com/in/ann",
        "twitter": "@ann",
        "notes": "met at, the fair",
        "custom": [{"key": "Source", "value": "Expo"}],
    }
    assert request.headers["customer_external_id"] == "Customer External ID"


def test_a_customers_sheet_with_a_notes_column_is_still_customers() -> None:
    request = read_csv_request(b"External ID,Name,Company,Notes\nc1,Ann,Acme,call back\n")
    assert request.array == "customers" and request.ignored_headers == ["Notes"]
    request = read_csv_request(b"Customer External ID,First name,Last name,Company\nc1,Ann,Lee,Acme\n")
    assert request.array == "contacts" and request.ignored_headers == ["Company"]


def test_object_flag_and_map_cover_headers_that_match_nothing() -> None:
    data = b"Kundennummer,Vorname\nc1,Ann\n"
    with pytest.raises(CsvRefused, match="match neither"):
        read_csv_request(data)
    request = read_csv_request(
        data, object_type="contacts", mappings=["Kundennummer=customer_external_id", "Vorname=first_name"]
    )
    assert request.rows[0].obj == {"customer_external_id": "c1", "first_name": "Ann"}


@pytest.mark.parametrize(
    ("data", "mappings", "message"),
    [
        (b"a,b\n1,2,3\n", [], "not a well-formed CSV"),
        (b"\xff\xfeE\x00", [], "not UTF-8"),
        (b"", [], "no header line"),
        (b"External ID\nc1\n", ["Seats"], "expected"),
        (b"External ID\nc1\n", ["Seats=custom.seats:Money"], "TYPE one of"),
        (b"External ID\nc1\n", ["Seats=colour"], "no customer field"),
    ],
)
def test_files_and_maps_that_cannot_be_read_are_refused_whole(
    data: bytes, mappings: list[str], message: str
) -> None:
    with pytest.raises(CsvRefused, match=message):
        read_csv_request(data, mappings=mappings)


def test_every_csv_column_names_a_field_of_its_object_type_in_the_registry() -> None:
    """The CSV import knows header spellings, not fields: the fields are object_types.py's (tags live under the
    customer's attributes)."""
    for array, fields in csv_import.FIELDS.items():
        schema = object_types.SCHEMAS[csv_import.OBJECT_TYPE[array]]
        assert set(fields) - {"tags"} <= set(schema.by_name), array
