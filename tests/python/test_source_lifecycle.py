"""SPEC 8: deleting a data source removes every byte of it from the database file, atomically."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from mrr_warehouse import lifecycle, sources
from mrr_warehouse.schema import data_source_uuid
from warehouse_runner import Warehouse, write_requests

DOOMED = "Zq7DoomedMarker"
KEPT = "Kx4KeptMarker"


def requests_for(marker: str) -> list[dict]:
    return [
        {
            "customers": [
                {"external_id": f"{marker}-c", "name": f"{marker} Ltd", "email": f"{marker}@mail.test"}
            ],
            "plans": [{"external_id": "p", "name": "Plan", "interval_count": 1, "interval_unit": "month"}],
        },
        {
            "invoices": [
                {
                    "external_id": f"{marker}-inv",
                    "date": "2024-01-01 00:00:00",
                    "currency": "USD",
                    "customer_external_id": f"{marker}-c",
                    "line_items": [
                        {
                            "type": "subscription",
                            "subscription_external_id": f"{marker}-sub",
                            "plan_external_id": "p",
                            "service_period_start": "2024-01-01 00:00:00",
                            "service_period_end": "2024-02-01 00:00:00",
                            "amount_in_cents": 5000,
                        }
                    ],
                    "transactions": [
                        {"type": "payment", "result": "successful", "date": "2024-01-01 00:00:00"}
                    ],
                }
            ]
        },
    ]


def file_bytes(database: Path) -> bytes:
    wal = Path(f"{database}.wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def two_sources(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    for marker in (DOOMED, KEPT):
        loaded = warehouse.load(marker, write_requests(tmp_path / marker, requests_for(marker)))
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return warehouse


def test_deleting_a_source_leaves_no_byte_of_it_in_the_file(two_sources: Warehouse) -> None:
    database = two_sources.db_path
    two_sources.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    # positive control: the markers are findable in the file as it is
    assert DOOMED.encode() in file_bytes(database)
    assert KEPT.encode() in file_bytes(database)

    result = two_sources.cli("sources", "delete", DOOMED, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr

    content = file_bytes(database)
    assert content.count(DOOMED.encode()) == 0
    assert content.count(DOOMED.lower().encode()) == 0
    assert KEPT.encode() in content

    listing = two_sources.cli("sources", "list")
    assert DOOMED not in listing.stdout and KEPT in listing.stdout
    two_sources.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert two_sources.query("select customer_external_id, mrr_change_in_cents from mrr_movements") == [
        (f"{KEPT}-c", 5000)
    ]


def test_deleting_needs_yes_and_otherwise_changes_nothing(two_sources: Warehouse) -> None:
    result = two_sources.cli("sources", "delete", DOOMED)
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert DOOMED.encode() in file_bytes(two_sources.db_path)


def test_a_crash_during_compaction_leaves_the_previous_file_readable(two_sources: Warehouse) -> None:
    database = two_sources.db_path
    before = two_sources.query("select count(*) from raw.objects")

    def crash() -> None:
        raise KeyboardInterrupt("killed before the rename")

    with pytest.raises(KeyboardInterrupt):
        lifecycle.compact(str(database), before_rename=crash)
    assert two_sources.query("select count(*) from raw.objects") == before
    assert Path(f"{database}{lifecycle.COMPACT_SUFFIX}").exists()

    lifecycle.compact(str(database))
    assert not Path(f"{database}{lifecycle.COMPACT_SUFFIX}").exists()
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from raw.objects").fetchall() == before
        assert con.execute("select count(*) from main.loads").fetchone() == (4,)


def test_a_sources_auto_churn_setting_cancels_past_due_subscriptions_and_off_overrides_the_var(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", requests_for(KEPT)))
    assert loaded.returncode == 0, loaded.stderr
    configured = warehouse.cli("sources", "configure", "Billing", "--auto-churn-days", "10")
    assert configured.returncode == 0, configured.stderr

    # the only period ends 2024-02-01: cancelled 10 days later
    warehouse.dbt_build({"as_of_date": "2024-06-30"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select cast(movement_at as varchar), movement_type from mrr_movements") == [
        ("2024-01-01 00:00:00", "new_business"),
        ("2024-02-11 00:00:00", "churn"),
    ]

    assert warehouse.cli("sources", "configure", "Billing", "--auto-churn-days", "off").returncode == 0
    warehouse.dbt_build(
        {"as_of_date": "2024-06-30", "past_due_auto_churn_days": 30}, "--exclude-resource-type", "unit_test"
    )
    assert warehouse.query("select movement_type from mrr_movements") == [("new_business",)]
    assert warehouse.query("select status from subscriptions") == [("past_due",)]

    rejected = warehouse.cli("sources", "configure", "Billing", "--auto-churn-days", "-3")
    assert rejected.returncode == 2
    assert "whole number of days" in rejected.stderr


def resync_requests(amount: int) -> list[dict]:
    requests = requests_for(KEPT)
    requests[1]["invoices"][0]["line_items"][0]["amount_in_cents"] = amount
    return requests


def test_resync_replaces_billing_data_and_keeps_manual_edits(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "first", requests_for(KEPT)))
    assert loaded.returncode == 0, loaded.stderr
    tagged = warehouse.cli("customers", "tag", f"{KEPT}-c", "vip", "--data-source", "Billing")
    assert tagged.returncode == 0, tagged.stderr

    # the billing system corrected the invoice: a normal load would reject the changed invoice as immutable
    corrected = write_requests(tmp_path / "second", resync_requests(7000))
    assert warehouse.load("Billing", corrected).returncode == 1
    result = warehouse.cli("sources", "resync", "Billing", *map(str, corrected))
    assert result.returncode == 0, result.stdout + result.stderr

    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select mrr_change_in_cents::double from mrr_movements") == [(7000.0,)]
    assert warehouse.query("select tags from customers") == [(["vip"],)]
    assert warehouse.query("select count(*) from raw.data_sources") == [(1,)]


def test_a_resync_whose_file_cannot_be_read_leaves_the_previous_data(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load("Billing", write_requests(tmp_path / "first", requests_for(KEPT))).returncode == 0
    before = warehouse.query("select object_type, external_id, content_hash from raw.objects order by all")

    good = write_requests(tmp_path / "second", resync_requests(7000))
    broken = tmp_path / "second" / "999_broken.json"
    broken.write_text('{"invoices": [')
    result = warehouse.cli("sources", "resync", "Billing", *map(str, good), str(broken))
    assert result.returncode == 2
    assert "previous data is unchanged" in result.stderr
    assert (
        warehouse.query("select object_type, external_id, content_hash from raw.objects order by all")
        == before
    )
    assert warehouse.query("select name from raw.data_sources") == [("Billing",)]


def test_deleting_a_customer_leaves_no_byte_of_it_and_keeps_the_others(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    doomed, kept = requests_for(DOOMED), requests_for(KEPT)
    # one bulk request and one invoice request holding both customers, so the verbatim bodies must be rewritten
    both = [
        {"customers": doomed[0]["customers"] + kept[0]["customers"], "plans": kept[0]["plans"]},
        {"invoices": doomed[1]["invoices"] + kept[1]["invoices"]},
        {
            "contacts": [
                {"customer_external_id": f"{DOOMED}-c", "first_name": "Zed", "email": f"z@{DOOMED}.test"},
                # rejected, and its message quotes the e-mail: load_errors holds the customer's data too
                {"customer_external_id": f"{DOOMED}-c", "email": [f"y@{DOOMED}.test"]},
            ]
        },
        # a rejected invoice of the customer (unknown plan): its id is in load_errors, not in raw.objects
        {
            "invoices": [
                {
                    **doomed[1]["invoices"][0],
                    "external_id": f"{DOOMED}-rejected-inv",
                    "line_items": [
                        {**doomed[1]["invoices"][0]["line_items"][0], "plan_external_id": "no-such-plan"}
                    ],
                }
            ]
        },
    ]
    assert warehouse.load("Billing", write_requests(tmp_path / "requests", both)).returncode == 1
    assert warehouse.query(
        "select count(*) from load_errors where contains(message, ?)", [f"y@{DOOMED}.test"]
    ) == [(1,)]
    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert DOOMED.encode() in file_bytes(warehouse.db_path)

    result = warehouse.cli("customers", "delete", f"{DOOMED}-c", "--data-source", "Billing", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr

    content = file_bytes(warehouse.db_path)
    assert content.count(DOOMED.encode()) == 0
    assert content.count(DOOMED.lower().encode()) == 0
    assert KEPT.encode() in content
    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select customer_external_id, mrr_change_in_cents from mrr_movements") == [
        (f"{KEPT}-c", 5000)
    ]
    # reloading the kept customer's data is still a no-op: its objects and their identities are untouched
    again = warehouse.load("Billing", write_requests(tmp_path / "kept_again", kept))
    assert again.returncode == 0 and "0 accepted" in again.stdout, again.stdout


def deleted_customer_requests(deleted_at: str) -> list[dict]:
    requests = requests_for(DOOMED) + requests_for(KEPT)[1:]
    requests[0]["customers"] += requests_for(KEPT)[0]["customers"]
    requests[0]["customers"][0]["attributes"] = {"custom": [{"type": "Integer", "key": "seats", "value": 3}]}
    # rejected (the e-mail must be a string), and its message quotes the e-mail
    requests.append({"contacts": [{"customer_external_id": f"{DOOMED}-c", "email": [f"{DOOMED}@mail.test"]}]})
    requests.append({"customers": [{**requests[0]["customers"][0], "deleted_at": deleted_at}]})
    return requests


def test_deleted_customer_is_kept_anonymised_with_its_subscriptions_cancelled(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.cli("sources", "configure", "Stripe", "--include-deleted-customers").returncode == 0
    deleted_at = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    loaded = warehouse.load(
        "Stripe", write_requests(tmp_path / "requests", deleted_customer_requests(deleted_at))
    )
    assert loaded.returncode == 1, loaded.stdout + loaded.stderr  # the contact is rejected

    content = file_bytes(warehouse.db_path)
    assert content.count(f"{DOOMED} Ltd".encode()) == 0
    assert content.count(f"{DOOMED}@mail.test".encode()) == 0
    assert f"{KEPT} Ltd".encode() in content

    warehouse.dbt_build(
        {"as_of_date": datetime.now(UTC).strftime("%Y-%m-%d")}, "--exclude-resource-type", "unit_test"
    )
    doomed = f"{DOOMED}-c"
    assert warehouse.query(
        "select customer_name, email, tags, status from customers where customer_external_id = ?", [doomed]
    ) == [(None, None, ["deleted_customer_in_stripe"], "cancelled")]
    assert warehouse.query(
        "select movement_type, cast(movement_at as varchar) from mrr_movements where customer_external_id = ?"
        " order by movement_at",
        [doomed],
    ) == [("new_business", "2024-01-01 00:00:00"), ("churn", deleted_at)]
    assert warehouse.query("select attribute_key, value_integer from customer_attributes") == [("seats", 3)]


def test_deleted_customer_is_removed_when_the_setting_is_off(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    deleted_at = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    loaded = warehouse.load(
        "Stripe", write_requests(tmp_path / "requests", deleted_customer_requests(deleted_at))
    )
    assert loaded.returncode == 1, loaded.stdout + loaded.stderr  # the contact is rejected
    assert DOOMED.encode() not in file_bytes(warehouse.db_path)
    assert KEPT.encode() in file_bytes(warehouse.db_path)


def test_a_crash_during_resync_leaves_the_previous_data_and_the_next_resync_cleans_up(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load("Billing", write_requests(tmp_path / "first", requests_for(KEPT))).returncode == 0
    before = warehouse.query("select object_type, external_id, content_hash from raw.objects order by all")
    files = write_requests(tmp_path / "second", resync_requests(7000))

    def crash_after_the_first_file(line: str) -> None:
        if "accepted" in line:
            raise KeyboardInterrupt("killed mid-resync")

    with duckdb.connect(str(warehouse.db_path)) as con:
        source = sources.resolve(con, "Billing")
        with pytest.raises(KeyboardInterrupt):
            lifecycle.resync(con, source, files, strict=False, say=crash_after_the_first_file, note=print)

    real = "select object_type, external_id, content_hash from raw.objects where data_source_uuid = ? order by all"
    assert warehouse.query(real, [data_source_uuid("Billing")]) == before
    assert warehouse.query("select count(*) from raw.objects where data_source_uuid like '%~resync'") != [
        (0,)
    ]

    result = warehouse.cli("sources", "resync", "Billing", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert warehouse.query("select count(*) from raw.objects where data_source_uuid like '%~resync'") == [
        (0,)
    ]
    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select mrr_change_in_cents::double from mrr_movements") == [(7000.0,)]


def test_a_deleted_customers_request_marks_known_customers_and_rejects_unknown_ones(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.cli("sources", "configure", "Stripe", "--include-deleted-customers").returncode == 0
    requests = deleted_customer_requests("2000-01-01")[:-1]  # the customers, without the deleted_at version
    deleted_at = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    requests.append(
        {
            "deleted_customers": [
                {"external_id": f"{DOOMED}-c", "deleted_at": deleted_at},
                {"external_id": "nobody"},
            ]
        }
    )
    loaded = warehouse.load("Stripe", write_requests(tmp_path / "requests", requests))
    assert loaded.returncode == 1, loaded.stdout + loaded.stderr
    assert warehouse.query("select object_type, external_id, field from load_errors") == [
        ("deleted_customer", "nobody", "deleted_at")
    ]
    assert f"{DOOMED}@mail.test".encode() not in file_bytes(warehouse.db_path)
    assert f"{KEPT}@mail.test".encode() in file_bytes(warehouse.db_path)
    assert warehouse.query(
        "select count(*) from raw.objects where object_type = 'cancellation' and data_source_uuid = ?",
        [data_source_uuid("Stripe")],
    ) == [(1,)]


def test_delete_manual_customers_removes_the_customers_created_one_by_one(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    imported = requests_for(KEPT)
    manual = {"external_id": f"{DOOMED}-c", "name": f"{DOOMED} Ltd", "email": f"{DOOMED}@mail.test"}
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", [*imported, manual]))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert DOOMED.encode() in file_bytes(warehouse.db_path)

    result = warehouse.cli("sources", "delete-manual-customers", "Billing", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deleted 1 manual customer(s)" in result.stdout
    assert DOOMED.encode() not in file_bytes(warehouse.db_path)
    assert warehouse.query("select external_id from raw.objects where object_type = 'customer'") == [
        (f"{KEPT}-c",)
    ]


def test_resync_keeps_tags_attributes_and_merges(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    first = write_requests(tmp_path / "first", requests_for(KEPT) + requests_for(DOOMED))
    assert warehouse.load("Billing", first).returncode == 0
    for args in (
        ("customers", "tag", f"{KEPT}-c", "vip", "--data-source", "Billing"),
        ("customers", "set-attribute", f"{KEPT}-c", "tier", "gold", "--data-source", "Billing"),
        ("customers", "merge", "--from", f"{DOOMED}-c", "--into", f"{KEPT}-c", "--data-source", "Billing"),
    ):
        assert warehouse.cli(*args).returncode == 0

    fresh = requests_for(KEPT) + requests_for(DOOMED)
    for request in fresh[1::2]:
        request["invoices"][0]["line_items"][0]["amount_in_cents"] = 6000
    result = warehouse.cli(
        "sources", "resync", "Billing", *map(str, write_requests(tmp_path / "fresh", fresh))
    )
    assert result.returncode == 0, result.stdout + result.stderr

    warehouse.dbt_build({"as_of_date": "2024-02-29"}, "--exclude-resource-type", "unit_test")
    assert warehouse.query("select customer_external_id, tags, mrr_in_cents::double from customers") == [
        (f"{KEPT}-c", ["vip"], 12000.0)
    ]
    assert warehouse.query("select attribute_key, value_text from customer_attributes") == [("tier", "gold")]


def test_a_new_database_file_is_readable_by_its_owner_only_and_compaction_keeps_the_mode(
    two_sources: Warehouse,
) -> None:
    database = two_sources.db_path
    assert stat.S_IMODE(database.stat().st_mode) == 0o600  # created by `load`: it holds personal data

    database.chmod(0o640)  # the user's choice stands through the rewrite that follows a deletion
    result = two_sources.cli("sources", "delete", DOOMED, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compacted" in result.stdout
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
    assert database.stat().st_uid == os.getuid()
