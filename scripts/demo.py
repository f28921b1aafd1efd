"""`make demo`: generate sample data, load it, build the warehouse, print the monthly MRR bridge.

Steps (each announced with its duration):
1. remove the old demo database (env MRR_WAREHOUSE_DB, default warehouse.duckdb) and demo_data/
2. generate Import API request files into demo_data/ (`mrr_warehouse.generate`)
3. `mrr-warehouse load --data-source "Demo Billing" demo_data` (exit 1 is expected: the generator makes a
   few objects invalid on purpose, and the loader rejects them)
4. `dbt build --vars '{"as_of_date": <last day of the window>}'`
5. the MRR bridge from the mart `metrics_monthly`, checked month by month
6. `mrr-warehouse report`: the HTML report (report.html at the project root), its path printed last
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse.generate import DEFAULT_START_DATE, format_summary, generate

ROOT = Path(__file__).resolve().parents[1]
DATA_SOURCE = "Demo Billing"
DEMO_DIR = ROOT / "demo_data"
REPORT = ROOT / "report.html"
BRIDGE_TOLERANCE_CENTS = 1.0  # amounts may carry fractions of a cent; sums of doubles are not exact
MOVEMENTS = (
    ("mrr_new_business", "New business"),
    ("mrr_expansion", "Expansion"),
    ("mrr_contraction", "Contraction"),
    ("mrr_churn", "Churn"),
    ("mrr_reactivation", "Reactivation"),
)
FX_COLUMNS = ("fx_adjustment", "mrr_fx_adjustment")
MAX_LOADER_LINES = 30

_step_number = 0


@contextmanager
def step(title: str, total: int = 6) -> Iterator[None]:
    global _step_number
    _step_number += 1
    print(f"\n==> [{_step_number}/{total}] {title}", flush=True)
    started = time.perf_counter()
    yield
    print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)


def bin_dir() -> Path:
    venv = ROOT / ".venv" / "bin"
    return venv if venv.is_dir() else Path(sys.executable).parent


def database_path() -> Path:
    path = Path(os.environ.get("MRR_WAREHOUSE_DB", "warehouse.duckdb"))
    return path if path.is_absolute() else ROOT / path


def child_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MRR_WAREHOUSE_DB"] = str(db)  # absolute, so the loader and dbt open the same file
    env.setdefault("DBT_PROFILES_DIR", str(ROOT))
    if not sys.stdout.isatty():
        env.setdefault("DBT_USE_COLORS", "false")  # no escape codes in a log file
    return env


def stream(cmd: Sequence[str], env: dict[str, str], max_lines: int | None = None) -> int:
    """Run `cmd` from the project root, echoing its output (at most `max_lines` lines, then the tail)."""
    print("    $ " + " ".join(_quote(c) for c in cmd), flush=True)
    with subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        shown, hidden = 0, 0
        tail: collections.deque[str] = collections.deque(maxlen=5)
        for line in proc.stdout:
            if max_lines is None or shown < max_lines:
                print("    " + line.rstrip("\n"), flush=True)
                shown += 1
            else:
                hidden += 1
                tail.append(line)
        if hidden:
            if hidden > len(tail):
                print(f"    ... ({hidden - len(tail):,} more lines)")
            for line in tail:
                print("    " + line.rstrip("\n"))
        return proc.wait()


def _quote(arg: str) -> str:
    return f"'{arg}'" if any(c in arg for c in ' {}"') else arg


def count_rejections(db: Path) -> int | None:
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute("select count(*) from main.load_errors").fetchone()
    except duckdb.Error:
        return None
    return int(row[0]) if row else None


# ----------------------------------------------------------------------------------------------------------
# The bridge
# ----------------------------------------------------------------------------------------------------------
def money(cents: float) -> str:
    """Cents -> whole currency units with thousands separators, rounded half away from zero."""
    units = (Decimal(repr(float(cents))) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{units:,.2f}"


def read_metrics(db: Path) -> tuple[list[dict[str, Any]], str | None]:
    with duckdb.connect(str(db), read_only=True) as con:
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'main' and table_name = 'metrics_monthly'"
            ).fetchall()
        }
        if not columns:
            raise LookupError("the mart main.metrics_monthly does not exist")
        fx = next((c for c in FX_COLUMNS if c in columns), None)
        wanted = ["month", "mrr", *(m for m, _ in MOVEMENTS)] + ([fx] if fx else [])
        cursor = con.execute(f"select {', '.join(wanted)} from main.metrics_monthly order by month")
        rows = [dict(zip(wanted, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for key in wanted[1:]:
            row[key] = float(row[key] or 0)
    return rows, fx


def bridge_table(rows: list[dict[str, Any]], fx: str | None) -> tuple[str, list[str]]:
    """The aligned table and the months where start + movements (+ fx adjustment) != end."""
    # Contraction and churn are negative movements. Should a mart store them as magnitudes, show them
    # negative all the same, so the table reads as a sum.
    negatives = ("mrr_contraction", "mrr_churn")
    as_magnitudes = any(r[c] > 0 for r in rows for c in negatives) and not any(
        r[c] < 0 for r in rows for c in negatives
    )
    headers = ["Month", "Starting MRR", *(label for _, label in MOVEMENTS)]
    headers += ["FX adjustment"] if fx else []
    headers += ["Ending MRR"]
    table: list[list[str]] = []
    broken: list[str] = []
    previous = 0.0
    for row in rows:
        month = row["month"]
        label = month.strftime("%Y-%m") if isinstance(month, date) else str(month)[:7]
        moves = [(-row[c] if as_magnitudes and c in negatives else row[c]) for c, _ in MOVEMENTS]
        fx_value = row[fx] if fx else 0.0
        if abs(previous + sum(moves) + fx_value - row["mrr"]) > BRIDGE_TOLERANCE_CENTS:
            broken.append(label)
        table.append(
            [
                label,
                money(previous),
                *(money(m) for m in moves),
                *([money(fx_value)] if fx else []),
                money(row["mrr"]),
            ]
        )
        previous = row["mrr"]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        ),
        "  ".join("-" * w for w in widths),
    ]
    for r in table:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    if as_magnitudes:
        lines.append("(the mart stores contraction and churn as positive amounts; shown negative here)")
    return "\n".join(lines), broken


def print_bridge(db: Path) -> bool:
    rows, fx = read_metrics(db)
    if not rows:
        print("    metrics_monthly is empty")
        return False
    table, broken = bridge_table(rows, fx)
    print("\nMonthly MRR bridge (reporting currency, whole units)\n")
    print(table)
    print()
    rule = "start + movements" + (" + fx adjustment" if fx else "") + " = end"
    if broken:
        print(f"bridge ({rule}) does NOT hold for {len(broken)} of {len(rows)} months: {', '.join(broken)}")
        return False
    print(f"bridge holds for all {len(rows)} months ({rule}, to within {BRIDGE_TOLERANCE_CENTS:g} cent)")
    return True


# ----------------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start-date", type=date.fromisoformat, default=DEFAULT_START_DATE)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    db = database_path()
    env = child_env(db)
    bins = bin_dir()

    with step(f"removing the old demo database ({db}) and {DEMO_DIR.name}/"):
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        db.parent.mkdir(parents=True, exist_ok=True)

    with step(f"generating {args.customers:,} customers over {args.months} months into {DEMO_DIR.name}/"):
        summary = generate(
            DEMO_DIR, customers=args.customers, months=args.months, seed=args.seed, start_date=args.start_date
        )
        print("    " + format_summary(summary))
    as_of = summary["end_date"]

    with step(f'loading {DEMO_DIR.name}/ as data source "{DATA_SOURCE}"'):
        rc = stream(
            [
                str(bins / "mrr-warehouse"),
                "load",
                "--data-source",
                DATA_SOURCE,
                str(DEMO_DIR.relative_to(ROOT)),
            ],
            env,
            max_lines=MAX_LOADER_LINES,
        )
        rejected = count_rejections(db)
        if rc not in (0, 1):
            print(f"    load FAILED (exit code {rc})", file=sys.stderr)
            return 1
        rejected_text = "an unknown number of" if rejected is None else f"{rejected:,}"
        if rc == 1:
            print(
                f"    exit code 1: {rejected_text} objects rejected. This is intentional: the generator made "
                f"{summary['invalid_objects']:,} objects invalid on purpose "
                "(e.g. transaction type 'payments')."
            )
        else:
            print("    exit code 0: every object landed")

    with step(f"dbt build (as_of_date {as_of})"):
        dbt_rc = stream([str(bins / "dbt"), "build", "--vars", json.dumps({"as_of_date": as_of})], env)
        if dbt_rc != 0:
            print(f"    dbt build FAILED (exit code {dbt_rc})", file=sys.stderr)

    with step("reading the monthly MRR bridge from metrics_monthly"):
        try:
            holds = print_bridge(db)
        except (LookupError, duckdb.Error) as exc:
            print(f"    could not read metrics_monthly: {exc}", file=sys.stderr)
            holds = False

    # The report reads the snapshot the build published (MRR_WAREHOUSE_PUBLISHED_DB, beside the warehouse).
    with step("writing the HTML report from the published snapshot"):
        report_rc = stream([str(bins / "mrr-warehouse"), "report", "--out", str(REPORT)], env)

    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s (database: {db})")
    if report_rc == 0:
        print(f"report: {REPORT}  (open it in a browser; it works offline)")
    return 0 if dbt_rc == 0 and holds and report_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
