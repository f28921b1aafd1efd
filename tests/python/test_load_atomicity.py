"""A file lands in one transaction: a loader killed mid-file leaves the warehouse as it was, and loading the
file again gives the same result as a clean load (SPEC 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import orjson

CUSTOMERS = 8_000  # 8 objects each: ~64k objects, a few seconds to load


def bulk(customers: int) -> dict:
    body: dict = {"customers": [], "plans": [], "invoices": [], "line_items": [], "transactions": []}
    body["plans"].append(
        {"external_id": "monthly", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}
    )
    for number in range(customers):
        customer = f"c{number:06d}"
        body["customers"].append(
            {"external_id": customer, "name": f"Customer {number}", "company": 'Brace {"Co"}'}
        )
        for month in (1, 2):
            invoice = f"inv_{number:06d}_{month}"
            body["invoices"].append(
                {
                    "external_id": invoice,
                    "date": f"2024-0{month}-01",
                    "currency": "EUR",
                    "customer_external_id": customer,
                }
            )
            body["line_items"].append(
                {
                    "invoice_external_id": invoice,
                    "type": "subscription",
                    "subscription_external_id": f"sub_{number:06d}",
                    "plan_external_id": "monthly",
                    "service_period_start": f"2024-0{month}-01",
                    "service_period_end": f"2024-0{month + 1}-01",
                    "amount_in_cents": 1000 + number,
                }
            )
            body["transactions"].append(
                {
                    "invoice_external_id": invoice,
                    "type": "payment",
                    "result": "successful",
                    "date": f"2024-0{month}-02",
                }
            )
    return body


SNAPSHOT = """
    select object_type, external_id, invoice_external_id, content_hash, body::varchar, position
    from raw.objects order by object_seq
"""


def read(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_killed_loader_leaves_nothing_of_its_file_and_a_reload_equals_a_clean_load(
    tmp_path, db_path, write_request, load
):
    setup = write_request("0_setup.json", {"customers": [{"external_id": "early"}]})
    assert load(setup).returncode == 0
    big = write_request("1_big.json", raw=orjson.dumps(bulk(CUSTOMERS)))
    env = {
        **os.environ,
        "MRR_WAREHOUSE_DB": str(db_path),
        "MRR_WAREHOUSE_BATCH_SIZE": "1000",
        "MRR_WAREHOUSE_PROGRESS_EVERY": "5000",
        "MRR_WAREHOUSE_STREAM_THRESHOLD_BYTES": "1",  # the streaming reader, as for a large file
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mrr_warehouse.cli", "load", "--data-source", "Billing", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        progress = process.stderr.readline()  # printed after rows were written inside the transaction
        assert "objects read" in progress, progress + process.stderr.read()
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()

    assert read(db_path, "select external_id from raw.objects") == [("early",)]
    assert read(db_path, "select count(*) from raw.requests") == [(1,)]
    assert read(db_path, "select count(*) from main.loads") == [(1,)]

    started = time.monotonic()
    assert load(big).returncode == 0
    assert time.monotonic() - started < 60
    clean_db = tmp_path / "clean.duckdb"
    clean = subprocess.run(
        [sys.executable, "-m", "mrr_warehouse.cli", "load", "--data-source", "Billing", str(setup), str(big)],
        env={**env, "MRR_WAREHOUSE_DB": str(clean_db)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    reloaded = read(db_path, SNAPSHOT)
    assert len(reloaded) == 1 + 1 + CUSTOMERS * 7
    assert reloaded == read(clean_db, SNAPSHOT)
