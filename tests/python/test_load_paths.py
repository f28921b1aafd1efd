"""Paths and sizes fail fast; any database file name works (issue #11 item 6)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from warehouse_runner import Warehouse, write_requests

CUSTOMERS = {"customers": [{"external_id": "c1", "name": "One"}]}


def test_a_fifo_is_refused_at_once_and_the_other_files_still_load(tmp_path, write_request, load, query):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    good = write_request("c.json", CUSTOMERS)
    started = time.monotonic()
    result = load(fifo, good, subprocess=True, timeout=60)
    assert time.monotonic() - started < 30  # it used to wait forever, holding the write lock
    assert result.returncode == 2
    assert f"error: {fifo}: is a FIFO (named pipe), not a regular file" in result.stderr
    assert query("select external_id from raw.objects") == [("c1",)]


def test_devices_and_sockets_are_refused_without_opening_the_database(tmp_path, db_path, load):
    sock_path = tmp_path / "s.json"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    try:
        result = load("/dev/zero", sock_path)
    finally:
        server.close()
    assert result.returncode == 2
    assert "error: /dev/zero: is a character device, not a regular file" in result.stderr
    assert f"error: {sock_path}: is a socket, not a regular file" in result.stderr
    assert not db_path.exists()  # refused before the database was opened: no lock taken


def test_a_fifo_inside_a_folder_is_reported_not_skipped(tmp_path, write_request, load):
    good = write_request("a.json", CUSTOMERS)
    os.mkfifo(good.parent / "b.json")
    result = load(good.parent)
    assert result.returncode == 2
    assert "b.json: is a FIFO" in result.stderr
    assert "a.json: completed: 1 accepted" in result.stdout


def test_a_large_file_that_cannot_be_a_request_body_is_refused_within_seconds(write_request, load):
    path = write_request("brackets.json", raw=b'{"customers": ' + b"[" * 30_000_000)
    started = time.monotonic()
    result = load(path, env={"MRR_WAREHOUSE_STREAM_THRESHOLD_BYTES": "1"}, timeout=120)  # the lazy scanner
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert "nested more than 1024 levels deep" in result.stdout
    assert elapsed < 15, elapsed  # bracket matching through the file took ~20 s for 30 MB


def test_an_ndjson_line_longer_than_the_limit_is_refused_before_it_is_read_whole(write_request, load):
    path = write_request("long.ndjson", raw=b'{"external_id": "' + b"x" * 5000)  # no newline
    result = load(path, env={"MRR_WAREHOUSE_MAX_NDJSON_LINE_BYTES": "1000"})
    assert result.returncode == 2
    assert "line 1: longer than 1,000 bytes" in result.stdout


@pytest.mark.parametrize("name", ["raw.duckdb", "main.duckdb", "staging.duckdb"])
def test_a_database_file_named_like_a_schema_works_for_every_command_and_dbt(tmp_path: Path, name: str):
    warehouse = Warehouse(tmp_path / name)
    body = {
        "customers": [{"external_id": "c1", "name": "One"}],
        "plans": [{"external_id": "p1", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
        "invoices": [
            {
                "external_id": "i1",
                "date": "2024-01-01",
                "currency": "USD",
                "customer_external_id": "c1",
                "line_items": [
                    {
                        "type": "subscription",
                        "subscription_external_id": "s1",
                        "plan_external_id": "p1",
                        "service_period_start": "2024-01-01",
                        "service_period_end": "2024-02-01",
                        "amount_in_cents": 5000,
                    }
                ],
            }
        ],
    }
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", [body]))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    listing = warehouse.cli("sources", "list")
    assert listing.returncode == 0 and "Billing" in listing.stdout
    tagged = warehouse.cli("customers", "tag", "c1", "vip", "--data-source", "Billing")
    assert tagged.returncode == 0, tagged.stderr
    if name != "raw.duckdb":  # dbt attaches every file under the same catalog name: one build proves it
        return  # (the property test builds main.duckdb in full)
    warehouse.dbt_build(
        {"as_of_date": "2024-01-31"}, "--select", "exchange_rates", "staging", "+int_line_items_normalized"
    )
    mrr = warehouse.query("select line_mrr_in_cents from intermediate.int_line_items_normalized")
    assert [float(row[0]) for row in mrr] == [5000.0]
