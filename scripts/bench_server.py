"""`make bench` (server part): the Import API server's throughput and the latency of a large bulk import.

Starts `mrr-warehouse serve` on a free local port against a fresh warehouse under --workdir, then
1. N concurrent clients (threads, one keep-alive HTTP session each) create single customers for --seconds:
   requests per second (all answered 200, counted in raw.objects afterwards) and latency percentiles;
2. one `json_imports` request of about --bulk-mb MB (customers): its latency and objects per second.
The server is stopped with SIGTERM (graceful) before the database is read. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "MRR_WAREHOUSE_DB": str(db), "MRR_WAREHOUSE_API_KEY": KEY}
    log = (db.parent / "server.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "mrr-warehouse"), "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    uri = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{uri}/ping", auth=(KEY, ""), timeout=2).status_code == 200:
                return process, uri
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def customers_per_second(uri: str, source: str, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        session = requests.Session()
        session.auth = (KEY, "")
        index = 0
        while time.monotonic() < stop_at:
            body = {
                "data_source_uuid": source,
                "external_id": f"bench-{number}-{index}",
                "name": f"Customer {index}",
            }
            started = time.perf_counter()
            response = session.post(f"{uri}/customers", data=orjson.dumps(body), timeout=60)
            latencies[number].append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(f"{response.status_code}: {response.text[:200]}")
            index += 1

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(value for values in latencies for value in values)
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return {
        "requests": len(flat),
        "requests_per_second": len(flat) / elapsed,
        "p50_ms": statistics.median(flat) * 1000,
        "p99_ms": flat[int(len(flat) * 0.99) - 1] * 1000,
    }


def bulk_import(uri: str, source: str, megabytes: float) -> dict[str, float]:
    customer = {"name": "N" * 60, "email": "someone@example.com", "company": "C" * 60, "country": "DE"}
    per_object = len(orjson.dumps({**customer, "external_id": "bulk-0000000"})) + 1
    count = int(megabytes * 1024 * 1024 / per_object)
    body = orjson.dumps(
        {"customers": [{**customer, "external_id": f"bulk-{index:07d}"} for index in range(count)]}
    )
    started = time.perf_counter()
    response = requests.post(
        f"{uri}/data_sources/{source}/json_imports", data=body, auth=(KEY, ""), timeout=600
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or response.json()["status_details"]["accepted"] != count:
        raise SystemExit(f"bulk import failed: {response.status_code} {response.text[:300]}")
    return {"megabytes": len(body) / 1024 / 1024, "objects": count, "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--bulk-mb", type=float, default=10)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_server_"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "server.duckdb"
    for leftover in (db, db.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)
    process, uri = start(db)
    try:
        source = requests.post(
            f"{uri}/data_sources", json={"name": "Bench"}, auth=(KEY, ""), timeout=60
        ).json()["uuid"]
        print(f"{args.clients} clients creating single customers for {args.seconds:g} s ...", flush=True)
        rate = customers_per_second(uri, source, args.clients, args.seconds)
        print(f"one json_imports request of {args.bulk_mb:g} MB ...", flush=True)
        bulk = bulk_import(uri, source, args.bulk_mb)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    with duckdb.connect(str(db), read_only=True) as con:
        landed = con.execute(
            "select count(distinct external_id) from raw.objects where external_id like 'bench-%'"
        ).fetchone()[0]
        loads = con.execute("select count(*) from main.loads").fetchone()[0]
    if landed != rate["requests"]:
        raise SystemExit(f"{rate['requests']} customers answered 200 but {landed} landed")
    load = os.getloadavg()[0]
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, load average {load:.1f}\n")
    print("| what | value |\n|---|---|")
    print(
        f"| single-customer creates, {args.clients} concurrent clients |"
        f" {rate['requests_per_second']:,.0f} requests/s |"
    )
    print(f"| their latency p50 / p99 | {rate['p50_ms']:.1f} / {rate['p99_ms']:.1f} ms |")
    print(f"| customers landed / loads (batches) | {landed:,} / {loads:,} |")
    print(
        f"| one json_imports request of {bulk['megabytes']:.1f} MB ({bulk['objects']:,} customers) |"
        f" {bulk['seconds']:.2f} s |"
    )


if __name__ == "__main__":
    main()
