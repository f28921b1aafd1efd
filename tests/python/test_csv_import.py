"""Issue #16 end to end: `mrr-warehouse load` takes CSVs of customers and contacts through the same path as JSON
(load_errors with line and column, strict mode, idempotency, newest version wins, erasure), and dbt builds the
marts from them. How a CSV is read (headers, dates, delimiters) is tested in test_csv_reading.py."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from warehouse_runner import Warehouse

SPREADSHEET_EXPORT = (
    "\ufeffCustomer External ID;Name;E-mail;Company;Country;Lead created at;Free trial started at;Tags;Seats;Notes\r\n"
    'c1;Ann Lee;ann@example.com;"Acme; Inc";GB;2024-03-05;2024-03-10 14:00;"vip, beta";12;"first line\r\nsecond"\r\n'
    "c2;Bob Roe;bob@example.com;Roe Ltd;DE;2024-04-01;;;three;\r\n"
    "c3;Cy Poe;cy@example.com;;US;;;trial;4;\r\n"
    "\r\n"
)
CONTACTS = (
    "Customer External ID,First name,Last name,Title,Email,Phone,LinkedIn,Twitter,Notes\n"
    'c1,Ann,Lee,CFO,ann@example.com,+44 20 7946 0000,https://linkedin.com/in/ann,@ann,"met at, the fair"\n'
    "nobody,Zed,Zee,,zed@example.com,,,,\n"
    "c3,Cy,Poe,CTO,cy.work@example.com,,,,\n"
)
SEATS = "Seats=custom.seats:Integer"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse.duckdb")


def test_a_spreadsheet_export_and_a_contacts_csv_land_and_build(warehouse: Warehouse, tmp_path: Path) -> None:
    customers = write(tmp_path / "customers.csv", SPREADSHEET_EXPORT)
    contacts = write(tmp_path / "contacts.csv", CONTACTS)
    result = warehouse.load("CRM", [customers, contacts], "--map", SEATS)
    assert result.returncode == 1, result.stdout + result.stderr  # one bad row in each file

    # the bad rows: file, line, column and reason; the customer they name, for erasure
    assert warehouse.query(
        "select file, position, field, customer_external_id from load_errors order by file desc, position"
    ) == [
        (str(customers), 4, "Seats", "c2"),  # c1's note spans lines 2 and 3
        (str(contacts), 3, "Customer External ID", "nobody"),
    ]
    (message,) = warehouse.query("select message from load_errors where field = 'Seats'")[0]
    assert "'three' is not a whole number" in message
    # the Notes column matches no customer field: reported once, in load_warnings
    assert warehouse.query("select field from load_warnings") == [("Notes",)]
    assert warehouse.query(
        "select file, status, objects_accepted, objects_rejected from loads order by file desc"
    ) == [
        (str(customers), "completed_with_errors", 2, 1),
        (str(contacts), "completed_with_errors", 2, 1),
    ]

    warehouse.dbt_build({"as_of_date": "2024-06-30"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query(
        "select customer_external_id, customer_name, email, company, country, lead_created_at,"
        " free_trial_started_at, status, tags, contacts_count from customers order by 1"
    ) == [
        (
            "c1",
            "Ann Lee",
            "ann@example.com",
            "Acme; Inc",
            "GB",
            datetime(2024, 3, 5),
            datetime(2024, 3, 10, 14),
            "trial",
            ["beta", "vip"],
            1,
        ),
        ("c3", "Cy Poe", "cy@example.com", None, "US", None, None, "lead", ["trial"], 1),
    ]
    assert warehouse.query(
        "select customer_external_id, attribute_key, value_integer from customer_attributes order by 1"
    ) == [("c1", "seats", 12), ("c3", "seats", 4)]
    assert warehouse.query(
        "select customer_external_id, first_name, last_name, title, email, phone, notes from contacts order by 1"
    ) == [
        ("c1", "Ann", "Lee", "CFO", "ann@example.com", "+44 20 7946 0000", "met at, the fair"),
        ("c3", "Cy", "Poe", "CTO", "cy.work@example.com", None, None),
    ]


def test_strict_lands_nothing_from_a_csv_with_a_bad_row(warehouse: Warehouse, tmp_path: Path) -> None:
    customers = write(tmp_path / "customers.csv", SPREADSHEET_EXPORT)
    result = warehouse.load("CRM", [customers], "--map", SEATS, "--strict")
    assert result.returncode == 1
    assert warehouse.query("select status from loads") == [("rejected_strict",)]
    assert warehouse.query("select count(*) from raw.objects") == [(0,)]


def test_reimporting_changes_nothing_and_an_edited_sheet_updates_the_customers_it_names(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sheet = tmp_path / "customers.csv"
    write(sheet, "External ID,Name,Email\nc1,Ann,ann@example.com\nc2,Bob,bob@example.com\n")
    assert warehouse.load("CRM", [sheet]).returncode == 0
    objects = warehouse.query("select count(*) from raw.objects")
    again = warehouse.load("CRM", [sheet])
    assert again.returncode == 0 and "0 accepted, 0 rejected, 2 unchanged" in again.stdout, again.stdout
    assert warehouse.query("select count(*) from raw.objects") == objects

    write(sheet, "External ID,Name,Email\nc1,Ann Lee,ann@example.com\nc2,Bob,bob@example.com\n")
    edited = warehouse.load("CRM", [sheet])
    assert "1 accepted, 0 rejected, 1 unchanged" in edited.stdout, edited.stdout
    warehouse.dbt_build({"as_of_date": "2024-06-30"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select customer_external_id, customer_name from customers order by 1") == [
        ("c1", "Ann Lee"),
        ("c2", "Bob"),
    ]


def test_day_first_dates_with_date_format_and_headers_named_by_map(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sheet = write(tmp_path / "leads.csv", "Kundennummer;Firma;Angelegt\nk1;Muster GmbH;05/03/2024\n")
    refused = warehouse.load("CRM", [sheet])
    assert refused.returncode == 2
    assert "match neither" in refused.stdout + refused.stderr
    assert warehouse.query("select status from loads") == [("failed",)]

    result = warehouse.load(
        "CRM",
        [sheet],
        "--object",
        "customers",
        "--map",
        "Kundennummer=external_id",
        "--map",
        "Firma=company",
        "--map",
        "Angelegt=lead_created_at",
        "--date-format",
        "%d/%m/%Y",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warehouse.dbt_build({"as_of_date": "2024-06-30"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query(
        "select customer_external_id, company, cast(lead_created_at as date) from customers"
    ) == [("k1", "Muster GmbH", date(2024, 3, 5))]


def test_deleting_a_customer_imported_from_csv_leaves_none_of_its_values(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    doomed = "doomed-csv-customer"
    sheet = write(
        tmp_path / "customers.csv",
        f"External ID,Name,Email,Seats\n{doomed},Dee,dee@{doomed}.test,many\n{doomed},Dee,dee@{doomed}.test,2\n"
        "kept,Kay,kay@example.com,1\n",
    )
    assert warehouse.load("CRM", [sheet], "--map", SEATS).returncode == 1  # 'many' is no whole number
    assert warehouse.query("select count(*) from load_errors where customer_external_id = ?", [doomed]) == [
        (1,)
    ]
    result = warehouse.cli("customers", "delete", doomed, "--data-source", "CRM", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    database = warehouse.db_path
    wal = Path(f"{database}.wal")
    content = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert doomed.encode() not in content
    assert b"kay@example.com" in content
