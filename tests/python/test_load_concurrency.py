"""Two processes at once: the loader waits for a warehouse file held by another process, says so, and gives
up with a clear message (exit 2, no traceback) after MRR_WAREHOUSE_LOCK_TIMEOUT seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


@pytest.fixture
def holder(db_path):
    """holder(seconds) -> a process holding the warehouse file open (DuckDB's single-writer lock)."""
    processes: list[subprocess.Popen] = []

    def start(seconds: float) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(db_path), str(seconds)], stdout=subprocess.PIPE, text=True
        )
        processes.append(process)
        assert process.stdout.readline().strip() == "holding"
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()
        process.stdout.close()


CUSTOMERS = {"customers": [{"external_id": "c1"}, {"external_id": "c2"}]}


def test_loader_gives_up_on_a_held_file_with_a_clear_message(write_request, load, holder, query):
    held = holder(60)
    started = time.monotonic()
    result = load(write_request("c.json", CUSTOMERS), env={"MRR_WAREHOUSE_LOCK_TIMEOUT": "1"})
    assert result.returncode == 2
    assert time.monotonic() - started < 30
    assert "waiting for" in result.stderr and f"held by another process: PID {held.pid}" in result.stderr
    assert "gave up after 1 s" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    held.kill()
    held.wait()
    # The holder created the file; the loader never got to write anything into it.
    assert query("select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


def test_loader_waits_for_a_held_file_and_then_loads(write_request, holder, db_path, tmp_path, query):
    held = holder(120)
    loader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mrr_warehouse.cli",
            "load",
            "--data-source",
            "Billing",
            write_request("c.json", CUSTOMERS),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MRR_WAREHOUSE_DB": str(db_path), "MRR_WAREHOUSE_LOCK_TIMEOUT": "120"},
        cwd=tmp_path,
    )
    # The file is released only once the loader says it waits: no race with a slow start on a busy machine.
    assert "waiting for" in loader.stderr.readline()
    held.kill()
    held.wait()
    out, err = loader.communicate(timeout=120)
    assert loader.returncode == 0, out + err
    assert query("select count(*) from raw.objects") == [(2,)]


def test_two_loaders_at_once_both_land_everything(write_request, db_path, tmp_path):
    first = write_request("a.json", {"customers": [{"external_id": f"a{n}"} for n in range(2000)]})
    second = write_request("b.json", {"customers": [{"external_id": f"b{n}"} for n in range(2000)]})
    env = {**os.environ, "MRR_WAREHOUSE_DB": str(db_path), "MRR_WAREHOUSE_LOCK_TIMEOUT": "60"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "mrr_warehouse.cli", "load", "--data-source", "Billing", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for path in (first, second)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        assert con.execute("select count(distinct external_id) from raw.objects").fetchone() == (4000,)
        assert con.execute("select count(*) from main.loads where status = 'completed'").fetchone() == (2,)
    finally:
        con.close()
