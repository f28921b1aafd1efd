"""`mrr-warehouse metrics`: the monthly metrics in the shape of ChartMogul's Metrics API response.

Dashboards built on `GET /v1/metrics/all` (and the per-metric endpoints) read `entries`, one per month dated on its
last day, with hyphenated metric names and money in cents, and a `summary` comparing the last month with the one
before. The numbers come from the `metrics_monthly` mart; run `dbt build` first.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from mrr_warehouse import landing
from mrr_warehouse.display import note

# metrics_monthly column -> ChartMogul metric name
METRICS = {
    "mrr": "mrr",
    "arr": "arr",
    "customers": "customers",
    "arpa": "arpa",
    "asp": "asp",
    "ltv": "ltv",
    "customer_churn_rate": "customer-churn-rate",
    "mrr_churn_rate": "mrr-churn-rate",
    "gross_mrr_churn_rate": "gross-mrr-churn-rate",
    "mrr_new_business": "mrr-new-business",
    "mrr_expansion": "mrr-expansion",
    "mrr_contraction": "mrr-contraction",
    "mrr_churn": "mrr-churn",
    "mrr_reactivation": "mrr-reactivation",
    "gross_cash_flow": "gross-cash-flow",
    "refunds": "refunds",
    "net_cash_flow": "net-cash-flow",
    "non_recurring_cash_flow": "non-recurring-cash-flow",
    "failed_transactions": "failed-transactions",
}
# Money is presented in whole cents, rounded half away from zero (SPEC conventions); rates keep two decimals.
CENTS = {
    "mrr",
    "arr",
    "arpa",
    "asp",
    "ltv",
    "mrr_new_business",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churn",
    "mrr_reactivation",
    "gross_cash_flow",
    "refunds",
    "net_cash_flow",
    "non_recurring_cash_flow",
}


def _present(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in CENTS:
        return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if column in ("customers", "failed_transactions"):
        return int(value)
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _percentage_change(current: Any, previous: Any) -> float:
    if not previous:
        return 0.0
    return round(100.0 * (float(current or 0) - float(previous)) / float(previous), 2)


def chartmogul_json(rows: list[dict[str, Any]]) -> dict[str, Any]:
    entries = [
        {"date": _month_end(row["month"]).isoformat()}
        | {name: _present(column, row[column]) for column, name in METRICS.items()}
        for row in rows
    ]
    summary: dict[str, Any] = {}
    if entries:
        current, previous = entries[-1], (entries[-2] if len(entries) > 1 else {})
        for name in (
            "mrr",
            "arr",
            "customers",
            "arpa",
            "asp",
            "ltv",
            "customer-churn-rate",
            "mrr-churn-rate",
        ):
            summary[f"current-{name}"] = current.get(name)
            summary[f"previous-{name}"] = previous.get(name)
            summary[f"{name}-percentage-change"] = _percentage_change(current.get(name), previous.get(name))
    return {"entries": entries, "summary": summary}


def read_metrics(database: str, start: date | None, end: date | None) -> list[dict[str, Any]]:
    columns = ["month", *METRICS]
    with landing.connect(database, read_only=True, timeout=0) as con:
        cursor = con.execute(
            f"select {', '.join(columns)} from main.metrics_monthly "
            "where (cast(? as date) is null or month >= ?) and (cast(? as date) is null or month <= ?) order by month",
            [start, start, end, end],
        )
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def run(args: argparse.Namespace) -> int:
    database = os.environ.get("MRR_WAREHOUSE_DB", "warehouse.duckdb")
    if not os.path.exists(database):
        note(f"error: {database} does not exist: load data and run `dbt build` first")
        return 2
    try:
        rows = read_metrics(database, args.start_date, args.end_date)
    except duckdb.CatalogException:
        note(f"error: {database} has no metrics_monthly mart yet: run `dbt build` first")
        return 2
    except (duckdb.IOException, landing.DatabaseUnavailable) as exc:
        note(f"error: cannot open {database}: {exc}")
        return 2
    document = json.dumps(chartmogul_json(rows), indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(document + "\n")
    else:
        print(document)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="write the monthly metrics (as ChartMogul's Metrics API returns them)",
        description="Write metrics_monthly as a ChartMogul Metrics API response (entries + summary).",
    )
    parser.add_argument("--format", choices=["chartmogul-json"], default="chartmogul-json")
    parser.add_argument("--start-date", type=date.fromisoformat, help="first month to include (YYYY-MM-DD)")
    parser.add_argument("--end-date", type=date.fromisoformat, help="last month to include (YYYY-MM-DD)")
    parser.add_argument("--out", help="file to write (default: standard output)")
    parser.set_defaults(func=run)
