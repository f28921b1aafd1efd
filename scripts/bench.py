"""`make bench`: generate, load and build one data set; time each step and the mrr-playbook baseline on it.

Steps (each announced with its progress; everything lands in --workdir, results in --out as JSON):
1. generate Import API request files (`mrr_warehouse.generate.generate`, in-process): wall time, files, bytes,
   object counts
2. `mrr-warehouse load` into a fresh DuckDB file (a subprocess): wall time, objects/s (objects accepted, from
   main.loads), peak RSS
3. `dbt build --full-refresh --exclude-resource-type unit_test` (models + data tests) and then `dbt run
   --full-refresh` (models alone), as_of_date = the last day of the generated window: wall time, dbt's own
   elapsed time, peak RSS, the slowest nodes from run_results.json, time per layer, and the time the build spent
   publishing the snapshot (the plugin's "published ... in S s" line) with its share of the wall time
4. the baseline: scripts/baseline_playbook.sql (customer x month spine + lag(), as dbt Labs' mrr-playbook) on
   intermediate.int_line_items_normalized in the same database (a subprocess): query time, peak RSS; and the
   ratios our time / baseline time, among them the "MRR path" (the models between the baseline's input
   and customer_mrr_monthly, the mart of the baseline's grain)
4b. the baseline over the request files: scripts/baseline_playbook_files.sql, the same playbook written against
   the request files the loader read (DuckDB read_json: the JSON parsing, unnesting invoices and line items,
   joining plans for the interval, spine, lag()), in a fresh database file (a subprocess): query time, peak
   RSS, CPU; the ratio (load wall + dbt run wall) / its query time (issue #14: <= 2x), and whether its
   monthly totals equal the in-warehouse baseline's
5. the increment: the next day's renewal invoices (written from the built warehouse), loaded, then an
   incremental `dbt build` with the as-of date one day later: objects, wall times, peak RSS
6. the environment: date, cores, memory, versions
Peak RSS comes from `/usr/bin/time -v` when it exists, else from polling VmHWM in /proc/<pid>/status; CPU time
(user + system) and the load average around each step are recorded too, because on a shared machine wall times
are noisy: `--repeat N` runs `dbt run` and both baselines N times and keeps the fastest. `--step-timeout` ends a
step that runs too long and goes on with the next.
The last thing printed is a Markdown table (what, value, unit) for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse.generate import DEFAULT_START_DATE, format_summary, generate

ROOT = Path(__file__).resolve().parents[1]
BASELINE_SQL = ROOT / "scripts" / "baseline_playbook.sql"
BASELINE_FILES_SQL = ROOT / "scripts" / "baseline_playbook_files.sql"
DATA_SOURCE = "Bench Billing"
DEFAULT_MEMORY_LIMIT = "8GB"  # the default of profiles.yml
STORAGE_COMPATIBILITY = "v1.5.0"  # as profiles.yml
GNU_TIME = Path("/usr/bin/time")
SLOWEST = 10
# The mart with the baseline's grain (customer x month MRR and movements) and the table the baseline reads.
MRR_PATH_TARGET = "customer_mrr_monthly"
BASELINE_INPUT = "int_line_items_normalized"
MB = 1024 * 1024

_t0 = time.perf_counter()


def say(line: str) -> None:
    print(f"[{time.perf_counter() - _t0:7.1f}s] {line}", flush=True)


# ----------------------------------------------------------------------------------------------------------
# Running a measured subprocess
# ----------------------------------------------------------------------------------------------------------
@dataclass
class Measured:
    returncode: int
    wall_seconds: float
    peak_rss_kb: int | None
    log: Path
    timed_out: bool = False
    cpu_seconds: float | None = None  # user + system, of the process and its children
    load_average: tuple[float, float] | None = None  # 1-minute load average before and after

    @property
    def peak_rss_mb(self) -> float | None:
        return None if self.peak_rss_kb is None else round(self.peak_rss_kb / 1024, 1)


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def run_measured(
    cmd: Sequence[str],
    env: dict[str, str],
    log: Path,
    echo: Callable[[str], bool] = lambda _: False,
    timeout: float | None = None,
) -> Measured:
    """Run `cmd` from the project root; its output goes to `log`, lines for which `echo` is true also to us.

    After `timeout` seconds the process group is terminated (Measured.timed_out)."""
    rusage_file = log.with_suffix(".time")
    wrapped = [str(GNU_TIME), "-v", "-o", str(rusage_file), *cmd] if GNU_TIME.exists() else list(cmd)
    peak = [0]
    load_before = os.getloadavg()[0]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with (
        log.open("w") as sink,
        subprocess.Popen(
            wrapped,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group, so a timeout ends the child and its children
        ) as proc,
    ):
        stop = threading.Event()
        timed_out = threading.Event()

        def expire() -> None:
            if not stop.wait(timeout):
                timed_out.set()
                say(f"timeout: {timeout:.0f} s passed, terminating {cmd[0]} (pid {proc.pid})")
                try:
                    # Under /usr/bin/time, end only the measured command so that time still writes its report.
                    children = _children(proc.pid) if GNU_TIME.exists() else []
                    for pid in children:
                        os.kill(pid, signal.SIGTERM)
                    if not children:
                        os.killpg(proc.pid, signal.SIGTERM)
                    if not stop.wait(20):
                        os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

        if timeout:
            threading.Thread(target=expire, daemon=True).start()
        if not GNU_TIME.exists():

            def poll() -> None:  # VmHWM is the peak so far; the last reading before exit is the peak
                while not stop.is_set():
                    value = _vm_hwm_kb(proc.pid)
                    if value is not None:
                        peak[0] = max(peak[0], value)
                    stop.wait(0.05)

            threading.Thread(target=poll, daemon=True).start()
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            if echo(line):
                print("    " + line.rstrip("\n"), flush=True)
        returncode = proc.wait()
        stop.set()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime
    peak_kb: int | None = peak[0] or None
    if GNU_TIME.exists():
        text = rusage_file.read_text() if rusage_file.exists() else ""
        match = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
        peak_kb = int(match.group(1)) if match else None
        # /usr/bin/time reports "Command exited with non-zero status N" and exits with N itself.
    return Measured(
        returncode, wall, peak_kb, log, timed_out.is_set(), round(cpu, 2), (load_before, os.getloadavg()[0])
    )


# ----------------------------------------------------------------------------------------------------------
# Steps
# ----------------------------------------------------------------------------------------------------------
def bin_dir() -> Path:
    venv = ROOT / ".venv" / "bin"
    return venv if venv.is_dir() else Path(sys.executable).parent


def child_env(workdir: Path, db: Path, memory_limit: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MRR_WAREHOUSE_DB"] = str(db)
    env["DBT_PROFILES_DIR"] = str(ROOT)
    env["MRR_WAREHOUSE_MEMORY_LIMIT"] = memory_limit
    env["MRR_WAREHOUSE_TEMP_DIR"] = str(workdir / "duckdb_tmp")
    env["DBT_USE_COLORS"] = "false"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


def step_generate(args: argparse.Namespace, data_dir: Path, summary_file: Path) -> dict[str, Any]:
    if args.skip_generate:
        if not summary_file.exists():
            raise SystemExit(f"--skip-generate: {summary_file} does not exist; run once without it")
        summary = json.loads(summary_file.read_text())
        if (summary["customers"], summary["months"], summary["seed"]) != (
            args.customers,
            args.months,
            args.seed,
        ):
            raise SystemExit(
                f"--skip-generate: {data_dir} holds {summary['customers']:,} customers x {summary['months']} "
                f"months, seed {summary['seed']}; not what was asked"
            )
        say(f"generate: skipped, reusing {data_dir} ({format_summary(summary)})")
        summary["skipped"] = True
        return summary
    shutil.rmtree(data_dir, ignore_errors=True)
    say(f"generate: {args.customers:,} customers x {args.months} months, seed {args.seed} -> {data_dir}")
    started = time.perf_counter()
    summary = generate(
        data_dir,
        customers=args.customers,
        months=args.months,
        seed=args.seed,
        start_date=DEFAULT_START_DATE,
        progress=lambda m: say("  " + m.strip()),
    )
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    summary["months"] = args.months
    summary["seed"] = args.seed
    summary["objects"] = sum(
        summary[k] for k in ("plans", "customers", "invoices", "line_items", "transactions", "cancellations")
    )
    summary_file.write_text(json.dumps(summary, indent=2) + "\n")
    say("generate: " + format_summary(summary))
    return summary


def measured_fields(cmd: list[str], m: Measured) -> dict[str, Any]:
    """What every measured step reports about its process."""
    return {
        "command": cmd,
        "exit_code": m.returncode,
        "timed_out": m.timed_out,
        "wall_seconds": round(m.wall_seconds, 3),
        "peak_rss_mb": m.peak_rss_mb,
        "cpu_seconds": m.cpu_seconds,
        "load_average_1min_before_after": m.load_average,
        "log": str(m.log),
    }


def step_load(
    data_dir: Path, db: Path, env: dict[str, str], logs: Path, timeout: float | None
) -> dict[str, Any]:
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    cmd = [str(bin_dir() / "mrr-warehouse"), "load", "--data-source", DATA_SOURCE, str(data_dir)]
    say("load: $ " + " ".join(cmd))
    m = run_measured(cmd, env, logs / "load.log", echo=lambda line: " accepted, " in line, timeout=timeout)
    result: dict[str, Any] = {
        **measured_fields(cmd, m),
    }
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute(
                "select file, status, objects_accepted, objects_rejected, objects_unchanged,"
                " epoch(finished_at) - epoch(started_at) from main.loads order by started_at, file"
            ).fetchall()
    except duckdb.Error as exc:
        say(f"load: could not read main.loads: {exc}")
        rows = []
    files = [
        {
            "file": Path(r[0]).name,
            "status": r[1],
            "accepted": r[2],
            "rejected": r[3],
            "unchanged": r[4],
            "seconds": None if r[5] is None else round(float(r[5]), 3),
        }
        for r in rows
    ]
    accepted = sum(f["accepted"] for f in files)
    result.update(
        files=files,
        objects_accepted=accepted,
        objects_rejected=sum(f["rejected"] for f in files),
        objects_per_second=round(accepted / m.wall_seconds) if m.wall_seconds else None,
        database_mb=round(db.stat().st_size / MB, 1) if db.exists() else None,
    )
    for f in files:
        rate = f"{f['accepted'] / f['seconds']:,.0f} objects/s" if f["seconds"] else "-"
        say(
            f"  {f['file']}: {f['accepted']:,} accepted, {f['rejected']:,} rejected in {f['seconds']} s ({rate})"
        )
    say(
        f"load: exit {m.returncode}, {accepted:,} objects accepted in {m.wall_seconds:.1f} s "
        f"= {result['objects_per_second'] or 0:,} objects/s, peak RSS {m.peak_rss_mb} MB, "
        f"CPU {m.cpu_seconds} s, load average {m.load_average}"
    )
    if m.returncode not in (0, 1):  # 1: some objects rejected, which the generator does on purpose
        say(f"load: FAILED (exit {m.returncode}); see {m.log}")
    return result


def _layer(node: dict[str, Any] | None, unique_id: str) -> str:
    if not unique_id.startswith("model."):
        return unique_id.split(".", 1)[0]  # test, seed, ...
    fqn = (node or {}).get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "model"


def _ancestors(nodes: dict[str, Any], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for parent in (nodes.get(stack.pop()) or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def mrr_path_models(nodes: dict[str, Any]) -> list[str]:
    """The models that do what the baseline does: MRR_PATH_TARGET and its model ancestors, minus BASELINE_INPUT
    and its own ancestors (the baseline starts from that table, already built)."""
    target, start = f"model.mrr_warehouse.{MRR_PATH_TARGET}", f"model.mrr_warehouse.{BASELINE_INPUT}"
    if target not in nodes:
        return []
    path = ({target} | _ancestors(nodes, target)) - ({start} | _ancestors(nodes, start))
    return sorted(uid for uid in path if uid.startswith("model."))


def read_run_results(target: Path) -> dict[str, Any]:
    results_file = target / "run_results.json"
    if not results_file.exists():
        return {}
    results = json.loads(results_file.read_text())
    manifest_file = target / "manifest.json"
    nodes = json.loads(manifest_file.read_text()).get("nodes", {}) if manifest_file.exists() else {}
    rows = [
        {
            "unique_id": r["unique_id"],
            "status": r["status"],
            "execution_time": round(float(r.get("execution_time") or 0), 3),
            "layer": _layer(nodes.get(r["unique_id"]), r["unique_id"]),
        }
        for r in results.get("results", [])
    ]
    by_layer: dict[str, float] = {}
    for row in rows:
        by_layer[row["layer"]] = round(by_layer.get(row["layer"], 0.0) + row["execution_time"], 3)
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    seconds = {row["unique_id"]: row["execution_time"] for row in rows}
    mrr_path = mrr_path_models(nodes)
    return {
        "dbt_elapsed_seconds": round(float(results.get("elapsed_time") or 0), 3),
        "mrr_path_models": mrr_path,
        "mrr_path_seconds": round(sum(seconds.get(uid, 0.0) for uid in mrr_path), 3),
        "nodes": len(rows),
        "statuses": statuses,
        "seconds_by_layer": by_layer,
        "slowest": sorted(rows, key=lambda r: -r["execution_time"])[:SLOWEST],
        "all": rows,
    }


_PUBLISHED = re.compile(r"published (\d+) tables of build \S+ to (\S+) in ([\d.]+) s")


def read_publish(log: Path) -> dict[str, Any]:
    """What the on-run-end hook's publishing took (mrr_warehouse.dbt_plugin logs one line), and the file's size."""
    match = _PUBLISHED.search(log.read_text(errors="replace")) if log.exists() else None
    if match is None:
        return {"publish_seconds": None}
    path = Path(match.group(2))
    return {
        "publish_seconds": float(match.group(3)),
        "published_tables": int(match.group(1)),
        "published_mb": round(path.stat().st_size / MB, 1) if path.exists() else None,
    }


def step_dbt(
    command: str,
    extra: Sequence[str],
    as_of: str,
    workdir: Path,
    env: dict[str, str],
    logs: Path,
    timeout: float | None,
    *,
    name: str | None = None,
    full_refresh: bool = True,
) -> dict[str, Any]:
    name = name or f"dbt_{command}"
    target = workdir / f"target_{name}"
    shutil.rmtree(target, ignore_errors=True)
    cmd = [
        str(bin_dir() / "dbt"),
        command,
        *(["--full-refresh"] if full_refresh else []),
        *extra,
        "--vars",
        json.dumps({"as_of_date": as_of}),
        "--target-path",
        str(target),
        "--log-path",
        str(logs / name),
    ]
    say(f"{name}: $ " + " ".join(cmd))

    def echo(line: str) -> bool:
        return any(
            k in line for k in (" ERROR ", " FAIL ", "Finished running", "Done. PASS", "Compilation Error")
        )

    m = run_measured(cmd, env, logs / f"{name}.log", echo=echo, timeout=timeout)
    result: dict[str, Any] = {
        **measured_fields(cmd, m),
        **read_run_results(target),
        **read_publish(logs / f"{name}.log"),
    }
    if result["publish_seconds"] is not None:
        result["publish_share"] = round(result["publish_seconds"] / m.wall_seconds, 4)
    say(
        f"{name}: exit {m.returncode}, {m.wall_seconds:.1f} s wall, publish {result['publish_seconds']} s "
        f"(dbt elapsed {result.get('dbt_elapsed_seconds', '?')} s), peak RSS {m.peak_rss_mb} MB, "
        f"CPU {m.cpu_seconds} s, load average {m.load_average}; "
        f"seconds by layer {result.get('seconds_by_layer')}"
    )
    for row in result.get("slowest", []):
        say(f"  {row['execution_time']:8.2f} s  {row['unique_id']}")
    return result


# The next day's invoices: every subscription whose latest line's service period ends that day renews for one
# more period of the same length at the same price, invoiced and paid that day.
RENEWALS_SQL = """
with latest_lines as (
    select
        invoices.customer_external_id,
        invoices.currency,
        lines.subscription_external_id,
        lines.plan_external_id,
        lines.amount_in_cents,
        lines.quantity,
        lines.service_period_start_at,
        lines.service_period_end_at,
        row_number() over (
            partition by lines.data_source_uuid, lines.subscription_external_id
            order by lines.service_period_start_at desc, lines.object_seq desc
        ) as line_rank
    from staging.stg_line_items as lines
    inner join staging.stg_invoices as invoices
        on lines.data_source_uuid = invoices.data_source_uuid
        and lines.invoice_external_id = invoices.invoice_external_id
    where lines.line_item_type = 'subscription' and lines.subscription_external_id is not null
)
select
    customer_external_id,
    currency,
    subscription_external_id,
    plan_external_id,
    amount_in_cents,
    quantity,
    strftime(service_period_end_at, '%Y-%m-%d %H:%M:%S') as start_text,
    strftime(service_period_end_at + (service_period_end_at - service_period_start_at), '%Y-%m-%d %H:%M:%S')
        as end_text
from latest_lines
where line_rank = 1 and cast(service_period_end_at as date) = ?
order by subscription_external_id
"""


def write_increment(db: Path, day: str, path: Path) -> int:
    """One bulk request with the renewals of `day` (see RENEWALS_SQL); the number of objects in it."""
    with duckdb.connect(str(db), read_only=True) as con:
        renewals = con.execute(RENEWALS_SQL, [day]).fetchall()
    at = f"{day} 00:00:00"
    invoices = [
        {
            "external_id": f"{subscription}-renewal-{day}",
            "customer_external_id": customer,
            "date": at,
            "currency": currency,
            "line_items": [
                {
                    "type": "subscription",
                    "subscription_external_id": subscription,
                    "plan_external_id": plan,
                    "service_period_start": start,
                    "service_period_end": end,
                    "amount_in_cents": amount,
                    "quantity": quantity,
                }
            ],
            "transactions": [{"type": "payment", "result": "successful", "date": at}],
        }
        for customer, currency, subscription, plan, amount, quantity, start, end in renewals
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"invoices": invoices}))
    return 3 * len(invoices)


def step_increment(
    db: Path, as_of: str, workdir: Path, env: dict[str, str], logs: Path, timeout: float | None
) -> dict[str, Any]:
    """Append the next day's invoices to the built warehouse, load them and run an incremental `dbt build` with
    the as-of date one day later (what a nightly job does)."""
    day = (datetime.fromisoformat(as_of) + timedelta(days=1)).strftime("%Y-%m-%d")
    path = workdir / "increment" / f"{day}.json"
    objects = write_increment(db, day, path)
    say(f"increment: {objects:,} objects (renewals invoiced on {day}) -> {path}")
    cmd = [str(bin_dir() / "mrr-warehouse"), "load", "--data-source", DATA_SOURCE, str(path)]
    load = run_measured(cmd, env, logs / "increment_load.log", echo=lambda line: True, timeout=timeout)
    say(f"increment load: exit {load.returncode}, {load.wall_seconds:.1f} s, peak RSS {load.peak_rss_mb} MB")
    build = step_dbt(
        "build",
        ["--exclude-resource-type", "unit_test"],
        day,
        workdir,
        env,
        logs,
        timeout,
        name="dbt_build_increment",
        full_refresh=False,
    )
    return {
        "day": day,
        "objects": objects,
        "load": measured_fields(cmd, load),
        "dbt_build": build,
        "load_plus_build_seconds": round(load.wall_seconds + build["wall_seconds"], 1),
    }


def step_baseline(
    db: Path,
    as_of: str,
    memory_limit: str,
    workdir: Path,
    env: dict[str, str],
    logs: Path,
    timeout: float | None,
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--baseline-worker",
        "--db",
        str(db),
        "--as-of",
        as_of,
        "--memory-limit",
        memory_limit,
        "--workdir",
        str(workdir),
    ]
    say(f"baseline: {BASELINE_SQL.relative_to(ROOT)} on intermediate.int_line_items_normalized")
    m = run_measured(cmd, env, logs / "baseline.log", echo=lambda line: True, timeout=timeout)
    result: dict[str, Any] = {
        "sql": str(BASELINE_SQL.relative_to(ROOT)),
        "exit_code": m.returncode,
        "timed_out": m.timed_out,
        "wall_seconds": round(m.wall_seconds, 3),
        "peak_rss_mb": m.peak_rss_mb,
        "cpu_seconds": m.cpu_seconds,
        "load_average_1min_before_after": m.load_average,
    }
    for line in m.log.read_text().splitlines():
        if line.startswith("{"):
            result.update(json.loads(line))
    say(
        f"baseline: exit {m.returncode}, query {result.get('query_seconds')} s "
        f"(process {m.wall_seconds:.1f} s), peak RSS {m.peak_rss_mb} MB, "
        f"CPU {m.cpu_seconds} s, load average {m.load_average}"
    )
    return result


def worker_config(args: argparse.Namespace) -> dict[str, Any]:
    """DuckDB settings of profiles.yml, so that both baselines run as the dbt build does."""
    return {
        "storage_compatibility_version": STORAGE_COMPATIBILITY,
        "memory_limit": args.memory_limit,
        "temp_directory": str(Path(args.workdir) / "duckdb_tmp"),
        "preserve_insertion_order": False,
    }


def baseline_worker(args: argparse.Namespace) -> int:
    """In the subprocess: run the baseline SQL with the settings of profiles.yml; print one JSON line."""
    started = time.perf_counter()
    con = duckdb.connect(args.db, config=worker_config(args))
    connected = time.perf_counter()
    cpu_started = time.process_time()
    con.execute(f"set variable as_of_date = date '{args.as_of}'")
    con.execute(BASELINE_SQL.read_text())
    done = time.perf_counter()
    cpu = time.process_time() - cpu_started
    rows = con.execute(
        "select count(*), count(distinct customer_external_id) from bench.baseline_mrr"
    ).fetchone()
    lines = con.execute(
        "select count(*) from intermediate.int_line_items_normalized where not is_mrr_addition"
    ).fetchone()
    threads = con.execute("select current_setting('threads')").fetchone()
    last = con.execute(
        "select date_month, mrr, customers from bench.baseline_mrr_monthly order by date_month desc limit 1"
    ).fetchone()
    con.close()
    assert rows is not None and lines is not None
    print(
        json.dumps(
            {
                "connect_seconds": round(connected - started, 3),
                "query_seconds": round(done - connected, 3),
                "query_cpu_seconds": round(cpu, 3),
                "threads": threads[0] if threads else None,
                "input_lines": lines[0],
                "spine_rows": rows[0],
                "customers": rows[1],
                "last_month": str(last[0]) if last else None,
                "last_month_mrr_in_cents": float(last[1]) if last else None,
                "last_month_customers": last[2] if last else None,
            }
        ),
        flush=True,
    )
    return 0


def step_baseline_files(
    data_dir: Path,
    as_of: str,
    memory_limit: str,
    workdir: Path,
    env: dict[str, str],
    logs: Path,
    timeout: float | None,
) -> dict[str, Any]:
    """scripts/baseline_playbook_files.sql over data_dir/*.json in a fresh database file (a subprocess)."""
    files_db = workdir / "baseline_files.duckdb"
    # A fresh file each run: a repeat must parse the files again, not find last run's tables.
    for path in (files_db, files_db.with_name(files_db.name + ".wal")):
        path.unlink(missing_ok=True)
    files = sorted(data_dir.glob("*.json"))
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--baseline-files-worker",
        "--db",
        str(files_db),
        "--data-dir",
        str(data_dir),
        "--as-of",
        as_of,
        "--memory-limit",
        memory_limit,
        "--workdir",
        str(workdir),
    ]
    say(
        f"baseline over files: {BASELINE_FILES_SQL.relative_to(ROOT)} on {data_dir}/*.json "
        f"({len(files)} files, {sum(f.stat().st_size for f in files) / MB:,.0f} MB)"
    )
    m = run_measured(cmd, env, logs / "baseline_files.log", echo=lambda line: True, timeout=timeout)
    result: dict[str, Any] = {
        "sql": str(BASELINE_FILES_SQL.relative_to(ROOT)),
        "database": str(files_db),
        "input_files": len(files),
        "input_mb": round(sum(f.stat().st_size for f in files) / MB, 1),
        **{k: v for k, v in measured_fields(cmd, m).items() if k not in ("command", "log")},
    }
    for line in m.log.read_text().splitlines():
        if line.startswith("{"):
            result.update(json.loads(line))
    say(
        f"baseline over files: exit {m.returncode}, query {result.get('query_seconds')} s "
        f"(process {m.wall_seconds:.1f} s), peak RSS {m.peak_rss_mb} MB, "
        f"CPU {m.cpu_seconds} s, load average {m.load_average}"
    )
    return result


def baseline_files_worker(args: argparse.Namespace) -> int:
    """In the subprocess: the playbook over the request files, into the fresh --db; print one JSON line."""
    started = time.perf_counter()
    con = duckdb.connect(args.db, config=worker_config(args))
    connected = time.perf_counter()
    cpu_started = time.process_time()
    # The *.json requests only: the cancellation requests (*.ndjson) are left out, as the in-warehouse baseline
    # leaves them out (see the SQL's header).
    files = sorted(Path(args.data_dir).glob("*.json"))
    con.execute("set variable request_files = ?", [str(Path(args.data_dir) / "*.json")])
    # The largest request, rounded up to a MiB, and never below read_json's default of 16 MiB.
    largest = max((f.stat().st_size for f in files), default=0)
    con.execute("set variable maximum_object_size = ?", [max(16 * MB, -(-largest // MB) * MB)])
    con.execute(f"set variable as_of_date = date '{args.as_of}'")
    con.execute(BASELINE_FILES_SQL.read_text())
    done = time.perf_counter()
    cpu = time.process_time() - cpu_started
    rows = con.execute(
        "select count(*), count(distinct customer_external_id) from bench.baseline_files_mrr"
    ).fetchone()
    threads = con.execute("select current_setting('threads')").fetchone()
    last = con.execute(
        "select date_month, mrr, customers from bench.baseline_files_mrr_monthly"
        " order by date_month desc limit 1"
    ).fetchone()
    con.close()
    assert rows is not None
    print(
        json.dumps(
            {
                "connect_seconds": round(connected - started, 3),
                "query_seconds": round(done - connected, 3),
                "query_cpu_seconds": round(cpu, 3),
                "threads": threads[0] if threads else None,
                "spine_rows": rows[0],
                "customers": rows[1],
                "last_month": str(last[0]) if last else None,
                "last_month_mrr_in_cents": float(last[1]) if last else None,
                "last_month_customers": last[2] if last else None,
            }
        ),
        flush=True,
    )
    return 0


MONTHLY_COLUMNS = (
    "mrr",
    "customers",
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churn",
    "mrr_reactivation",
)


def compare_baselines(db: Path, files_db: Path) -> dict[str, Any]:
    """Month by month, the baseline over files against the in-warehouse one (bench.baseline_mrr_monthly).

    Both read the same subscription lines and do the same arithmetic, so they should agree to the last digit of
    decimal(38, 8); a difference points at a line that the loader or staging treats differently from a plain
    read_json (a rejected, duplicated or re-sent object)."""
    differing = ", ".join(
        f"count(*) filter (where files.{c} is distinct from warehouse.{c}) as {c}" for c in MONTHLY_COLUMNS
    )
    try:
        with duckdb.connect(str(files_db), read_only=True) as con:
            con.execute(f"attach '{db}' as warehouse_db (read_only)")
            row = con.execute(
                f"""
                select
                    count(*) as months,
                    count(*) filter (where files.date_month is null or warehouse.date_month is null)
                        as months_in_one_only,
                    {differing},
                    max(abs(files.mrr - warehouse.mrr)) as max_abs_mrr_difference,
                    sum(files.mrr) as files_mrr_sum,
                    sum(warehouse.mrr) as warehouse_mrr_sum
                from bench.baseline_files_mrr_monthly as files
                full join warehouse_db.bench.baseline_mrr_monthly as warehouse
                    on files.date_month = warehouse.date_month
                """
            ).fetchone()
            assert row is not None
            names = [d[0] for d in con.description or []]
    except (duckdb.Error, AssertionError) as exc:
        return {"agree": None, "error": str(exc)}
    found = dict(zip(names, row, strict=True))
    months_differing = {c: found[c] for c in MONTHLY_COLUMNS}
    result = {
        "agree": found["months_in_one_only"] == 0 and not any(months_differing.values()),
        "months": found["months"],
        "months_in_one_only": found["months_in_one_only"],
        "months_differing_by_column": months_differing,
        "max_abs_mrr_difference_in_cents": float(found["max_abs_mrr_difference"] or 0),
        "sum_of_monthly_mrr_in_cents": {
            "files": float(found["files_mrr_sum"] or 0),
            "warehouse": float(found["warehouse_mrr_sum"] or 0),
        },
    }
    say(f"baselines agree month by month: {result['agree']} ({json.dumps(result)})")
    return result


def fastest(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run with the smallest `key` (others on a shared machine only add noise); all values kept."""
    best = dict(min(runs, key=lambda r: r.get(key) if r.get(key) is not None else float("inf")))
    if len(runs) > 1:
        best[f"all_{key}"] = [r.get(key) for r in runs]
        say(f"  fastest of {len(runs)}: {best.get(key)} s (all: {best[f'all_{key}']})")
    return best


def our_last_month(db: Path) -> dict[str, Any]:
    """The marts' figures for the last month, to set beside the baseline's (they need not agree exactly)."""
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute(
                "select month, mrr from main.metrics_monthly order by month desc limit 1"
            ).fetchone()
            lines = con.execute("select count(*) from intermediate.int_line_items_normalized").fetchone()
            movements = con.execute("select count(*) from main.mrr_movements").fetchone()
    except duckdb.Error as exc:
        return {"error": str(exc)}
    return {
        "last_month": str(row[0]) if row else None,
        "last_month_mrr_in_cents": float(row[1]) if row and row[1] is not None else None,
        "line_items_normalized": lines[0] if lines else None,
        "mrr_movements": movements[0] if movements else None,
    }


def step_spark(
    as_of: str, db: Path, workdir: Path, env: dict[str, str], logs: Path, timeout: float | None, memory: str
) -> dict[str, Any] | None:
    """The same data on Spark (README "Outgrowing one machine"): the lake written in full (what the first load
    after an upgrade pays; later loads write their own files only), then `dbt build --target spark` in a local
    session, which publishes to a snapshot of its own; its last month is set beside the DuckDB build's."""
    if shutil.which("java") is None:
        say("spark: skipped, no Java runtime (Debian: apt-get install default-jre-headless)")
        return None
    lake = workdir / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    cmd = [str(bin_dir() / "mrr-warehouse"), "lake", "sync"]
    say("lake_sync: $ " + " ".join(cmd))
    synced = run_measured(cmd, env, logs / "lake_sync.log", echo=lambda line: "lake" in line, timeout=timeout)
    lake_mb = round(sum(path.stat().st_size for path in lake.rglob("*") if path.is_file()) / MB, 1)
    snapshot = workdir / "published_spark.duckdb"
    spark_env = {
        **env,
        "MRR_WAREHOUSE_PUBLISHED_DB": str(snapshot),
        "MRR_WAREHOUSE_SPARK_DIR": str(workdir / "spark"),
        "MRR_WAREHOUSE_SPARK_MEMORY": memory,
    }
    shutil.rmtree(workdir / "spark", ignore_errors=True)
    build = step_dbt(
        "build",
        ["--target", "spark", "--exclude-resource-type", "unit_test"],
        as_of,
        workdir,
        spark_env,
        logs,
        timeout,
        name="dbt_build_spark",
        full_refresh=False,
    )
    last_month: dict[str, Any] = {}
    for engine, path in (("spark", snapshot), ("duckdb", db.with_name("published.duckdb"))):
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                month, mrr = con.execute(
                    "select month, mrr from metrics_monthly order by month desc limit 1"
                ).fetchone()
            last_month[engine] = {"month": str(month), "mrr": float(mrr)}
        except (duckdb.Error, TypeError) as exc:
            last_month[engine] = {"error": str(exc)}
    say(f"spark: lake {lake_mb} MB written in {synced.wall_seconds:.1f} s; last month {last_month}")
    return {
        "lake_sync": measured_fields(cmd, synced),
        "lake_mb": lake_mb,
        "dbt_build": build,
        "last_month": last_month,
        "spark_memory": memory,
    }


def environment() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else ""
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        nproc = os.cpu_count() or 0

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": nproc,
        "memory_gb": round(int(match.group(1)) / 1024 / 1024, 1) if match else None,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "git": commit,
    }


# ----------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------
def ratio(numerator: Any, denominator: Any) -> float | None:
    if not numerator or not denominator:
        return None
    return round(float(numerator) / float(denominator), 2)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def spark_rows(spark: dict[str, Any] | None) -> list[tuple[str, Any, str]]:
    if not spark:
        return [("spark: dbt build --target spark", "skipped", "")]
    build = spark.get("dbt_build") or {}
    last = spark.get("last_month") or {}
    return [
        ("spark: lake written in full (lake sync): wall time", spark["lake_sync"].get("wall_seconds"), "s"),
        ("spark: lake size", spark.get("lake_mb"), "MB"),
        ("spark: dbt build --target spark (local session): wall time", build.get("wall_seconds"), "s"),
        ("spark: dbt build: peak RSS (dbt and its JVM)", build.get("peak_rss_mb"), "MB"),
        ("spark: dbt build: CPU time (user + system)", build.get("cpu_seconds"), "s"),
        ("spark: publishing the snapshot (from the export folder)", build.get("publish_seconds"), "s"),
        (
            "spark: last month's MRR, Spark / DuckDB",
            f"{(last.get('spark') or {}).get('mrr')} / {(last.get('duckdb') or {}).get('mrr')}",
            "cents",
        ),
    ]


def markdown_table(results: dict[str, Any]) -> str:
    gen, load = results["generate"], results.get("load") or {}
    build, run, base = (
        results.get("dbt_build") or {},
        results.get("dbt_run") or {},
        results.get("baseline") or {},
    )
    files_base = results.get("baseline_files") or {}
    env, ratios = results["environment"], results["ratios"]
    increment = results.get("increment") or {}
    inc_build = increment.get("dbt_build") or {}
    models_layers = run.get("seconds_by_layer") or {}
    rows: list[tuple[str, Any, str]] = [
        ("data", f"{gen['customers']:,} customers x {gen['months']} months", ""),
        ("generate: wall time", gen.get("wall_seconds", "skipped"), "s"),
        ("generate: files / size", f"{len(gen['files'])} / {gen['bytes'] / 1e6:,.0f}", "files / MB"),
        ("generate: invoices / line items", f"{gen['invoices']:,} / {gen['line_items']:,}", "objects"),
        (
            "generate: transactions / cancellations",
            f"{gen['transactions']:,} / {gen['cancellations']:,}",
            "objects",
        ),
        ("load: wall time", load.get("wall_seconds"), "s"),
        ("load: objects accepted", f"{load.get('objects_accepted', 0):,}", "objects"),
        ("load: throughput", f"{load.get('objects_per_second') or 0:,}", "objects/s"),
        ("load: peak RSS", load.get("peak_rss_mb"), "MB"),
        ("load: CPU time (user + system)", load.get("cpu_seconds"), "s"),
        ("load: database size", load.get("database_mb"), "MB"),
        ("dbt build (models + data tests): wall time", build.get("wall_seconds"), "s"),
        ("dbt build: dbt elapsed (without parse)", build.get("dbt_elapsed_seconds"), "s"),
        ("dbt build: peak RSS", build.get("peak_rss_mb"), "MB"),
        ("dbt build: CPU time (user + system)", build.get("cpu_seconds"), "s"),
        ("dbt build: data tests, sum of node times", (build.get("seconds_by_layer") or {}).get("test"), "s"),
        ("dbt build: publishing the snapshot", build.get("publish_seconds"), "s"),
        ("dbt build: publishing / build wall time", _percent(build.get("publish_share")), "%"),
        ("published snapshot: size", build.get("published_mb"), "MB"),
        ("dbt run (models only): wall time", run.get("wall_seconds"), "s"),
        ("dbt run: dbt elapsed (without parse)", run.get("dbt_elapsed_seconds"), "s"),
        ("dbt run: peak RSS", run.get("peak_rss_mb"), "MB"),
        ("dbt run: CPU time (user + system)", run.get("cpu_seconds"), "s"),
        ("dbt run: publishing the snapshot", run.get("publish_seconds"), "s"),
        *(
            (f"dbt run: {layer} models, sum of node times", seconds, "s")
            for layer, seconds in sorted(models_layers.items())
        ),
        ("baseline (playbook SQL): query time", base.get("query_seconds"), "s"),
        ("baseline: peak RSS", base.get("peak_rss_mb"), "MB"),
        ("baseline: query CPU time", base.get("query_cpu_seconds"), "s"),
        ("ratio: dbt run elapsed / baseline", ratios.get("dbt_run_elapsed_vs_baseline"), "x"),
        ("ratio: intermediate + marts node times / baseline", ratios.get("model_node_time_vs_baseline"), "x"),
        ("ratio: dbt build wall / baseline", ratios.get("dbt_build_wall_vs_baseline"), "x"),
        (
            f"ratio: MRR path after {BASELINE_INPUT} ({len(run.get('mrr_path_models') or [])} models"
            f" up to {MRR_PATH_TARGET}), node times / baseline",
            ratios.get("mrr_path_node_time_vs_baseline"),
            "x",
        ),
        ("ratio: dbt run CPU / baseline query CPU", ratios.get("dbt_run_cpu_vs_baseline_cpu"), "x"),
        (
            f"baseline over the request files ({files_base.get('input_files')} files,"
            f" {files_base.get('input_mb')} MB): query time",
            files_base.get("query_seconds"),
            "s",
        ),
        ("baseline over files: peak RSS", files_base.get("peak_rss_mb"), "MB"),
        ("baseline over files: query CPU time", files_base.get("query_cpu_seconds"), "s"),
        (
            "baseline over files: monthly totals equal the in-warehouse baseline's",
            (results.get("baselines_compared") or {}).get("agree"),
            "",
        ),
        (
            "ratio: (load wall + dbt run wall) / baseline over files (issue #14 target <= 2x)",
            ratios.get("load_plus_dbt_run_wall_vs_files_baseline"),
            "x",
        ),
        ("ratio: baseline over files / in-warehouse baseline", ratios.get("files_baseline_vs_baseline"), "x"),
        (
            "ratio: (load + dbt run) CPU / baseline over files query CPU",
            ratios.get("load_plus_dbt_run_cpu_vs_files_baseline_cpu"),
            "x",
        ),
        ("load + dbt build wall time", ratios.get("load_plus_build_seconds"), "s"),
        *spark_rows(results.get("spark")),
        ("increment: next day's invoices", f"{increment.get('objects', 0):,}", "objects"),
        ("increment: load wall time", (increment.get("load") or {}).get("wall_seconds"), "s"),
        ("increment: incremental dbt build wall time", inc_build.get("wall_seconds"), "s"),
        ("increment: incremental dbt build peak RSS", inc_build.get("peak_rss_mb"), "MB"),
        (
            "increment: publishing / incremental build wall time",
            _percent(inc_build.get("publish_share")),
            "%",
        ),
        ("increment: load + incremental build", increment.get("load_plus_build_seconds"), "s"),
        (
            "machine",
            f"{env['nproc']} cores, {env['memory_gb']} GB, duckdb {env['duckdb']}, dbt {env['dbt_core']}",
            env["date"][:10],
        ),
    ]
    stopped = [
        name
        for name, step in (
            ("load", load),
            ("dbt build", build),
            ("dbt run", run),
            ("baseline", base),
            ("baseline over files", files_base),
        )
        if step.get("timed_out")
    ]
    if stopped:
        rows.insert(1, ("TIMED OUT (figures below are partial)", ", ".join(stopped), ""))
    lines = ["| what | value | unit |", "|---|---:|---|"]
    for what, value, unit in rows:
        lines.append(f"| {what} | {'-' if value is None else value} | {unit} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers (default 100,000)")
    parser.add_argument("--million", action="store_true", help="1,000,000 customers (overrides --customers)")
    parser.add_argument("--months", type=int, default=36, help="months in the window (default 36)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mrr_bench"), help="data, database, logs")
    parser.add_argument("--out", type=Path, default=Path("bench_results.json"), help="results JSON file")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the data already in --workdir")
    parser.add_argument(
        "--skip-load", action="store_true", help="reuse the database in --workdir (no load measurement)"
    )
    parser.add_argument(
        "--memory-limit",
        default=os.environ.get("MRR_WAREHOUSE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        help="DuckDB memory_limit for dbt and the baseline (default $MRR_WAREHOUSE_MEMORY_LIMIT or 8GB)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run `dbt run` and both baselines N times and report the fastest (default 1)",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=0,
        metavar="SECONDS",
        help="terminate a step (load, dbt build, dbt run, baseline) after this long and go on (default: none)",
    )
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark build (needs a Java runtime)")
    parser.add_argument(
        "--spark-memory", default="8g", help="driver memory of the local Spark session (default 8g)"
    )
    # Internal: the baseline runs in its own process so that its peak RSS can be measured.
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-files-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.million:
        args.customers = 1_000_000
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_worker:
        return baseline_worker(args)
    if args.baseline_files_worker:
        return baseline_files_worker(args)

    workdir = args.workdir.resolve()
    data_dir, db, logs = workdir / "data", workdir / "warehouse.duckdb", workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(workdir / "duckdb_tmp", ignore_errors=True)
    env = child_env(workdir, db, args.memory_limit)
    timeout = args.step_timeout or None
    results: dict[str, Any] = {"environment": environment()}
    say(f"bench: {args.customers:,} customers x {args.months} months, workdir {workdir}")
    say(f"environment: {json.dumps(results['environment'])}")

    results["generate"] = step_generate(args, data_dir, workdir / "generate_summary.json")
    as_of = results["generate"]["end_date"]

    if args.skip_load:
        if not db.exists():
            raise SystemExit(f"--skip-load: {db} does not exist")
        say(f"load: skipped, reusing {db}")
        results["load"] = None
    else:
        results["load"] = step_load(data_dir, db, env, logs, timeout)

    results["dbt_build"] = step_dbt(
        "build", ["--exclude-resource-type", "unit_test"], as_of, workdir, env, logs, timeout
    )
    results["spark"] = (
        None if args.no_spark else step_spark(as_of, db, workdir, env, logs, timeout, args.spark_memory)
    )
    results["dbt_run"] = fastest(
        [step_dbt("run", [], as_of, workdir, env, logs, timeout) for _ in range(args.repeat)], "wall_seconds"
    )
    results["ours"] = our_last_month(db)
    results["baseline"] = fastest(
        [
            step_baseline(db, as_of, args.memory_limit, workdir, env, logs, timeout)
            for _ in range(args.repeat)
        ],
        "query_seconds",
    )
    results["baseline_files"] = fastest(
        [
            step_baseline_files(data_dir, as_of, args.memory_limit, workdir, env, logs, timeout)
            for _ in range(args.repeat)
        ],
        "query_seconds",
    )
    # Before the increment, which adds a day to the warehouse but not to the files baseline.
    results["baselines_compared"] = compare_baselines(db, workdir / "baseline_files.duckdb")
    say(f"ours last month: {results['ours']}")
    results["increment"] = step_increment(db, as_of, workdir, env, logs, timeout)

    run, build, base = results["dbt_run"], results["dbt_build"], results["baseline"]
    layers = run.get("seconds_by_layer") or {}
    model_time = sum(layers.get(layer, 0.0) for layer in ("intermediate", "marts"))
    load_wall = (results["load"] or {}).get("wall_seconds")
    load_cpu = (results["load"] or {}).get("cpu_seconds")
    files_base = results["baseline_files"]
    results["ratios"] = {
        "dbt_run_elapsed_vs_baseline": ratio(run.get("dbt_elapsed_seconds"), base.get("query_seconds")),
        "dbt_run_wall_vs_baseline": ratio(run.get("wall_seconds"), base.get("query_seconds")),
        "model_node_time_vs_baseline": ratio(model_time, base.get("query_seconds")),
        "dbt_build_wall_vs_baseline": ratio(build.get("wall_seconds"), base.get("query_seconds")),
        "mrr_path_node_time_vs_baseline": ratio(run.get("mrr_path_seconds"), base.get("query_seconds")),
        "dbt_run_cpu_vs_baseline_cpu": ratio(run.get("cpu_seconds"), base.get("query_cpu_seconds")),
        "intermediate_marts_node_seconds": round(model_time, 3),
        "load_plus_build_seconds": round(load_wall + build["wall_seconds"], 1) if load_wall else None,
        # Issue #14: from the same request files to customer x month MRR, the warehouse (load, then the models)
        # against the playbook over the files. Process wall times on our side, as a nightly job pays them;
        # None when the load was skipped.
        "load_plus_dbt_run_wall_vs_files_baseline": ratio(
            load_wall + run["wall_seconds"] if load_wall and run.get("wall_seconds") else None,
            files_base.get("query_seconds"),
        ),
        "load_plus_dbt_run_cpu_vs_files_baseline_cpu": ratio(
            load_cpu + run["cpu_seconds"] if load_cpu and run.get("cpu_seconds") else None,
            files_base.get("query_cpu_seconds"),
        ),
        "files_baseline_vs_baseline": ratio(files_base.get("query_seconds"), base.get("query_seconds")),
    }
    results["params"] = {
        "customers": args.customers,
        "months": args.months,
        "seed": args.seed,
        "workdir": str(workdir),
        "memory_limit": args.memory_limit,
        "as_of_date": as_of,
        "repeat": args.repeat,
        "argv": sys.argv,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    say(f"results written to {args.out}")
    print()
    print(markdown_table(results))

    failed = [
        name
        for name, step in (
            ("load", results["load"]),
            ("dbt build", build),
            ("dbt run", run),
            ("baseline", base),
            ("baseline over files", files_base),
            ("increment load", results["increment"]["load"]),
            ("incremental dbt build", results["increment"]["dbt_build"]),
            ("spark dbt build", (results.get("spark") or {}).get("dbt_build")),
        )
        if step is not None and step.get("exit_code") not in (0, 1 if name == "load" else 0)
    ]
    if failed:
        print(f"\nFAILED: {', '.join(failed)} (see the logs in {logs})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
