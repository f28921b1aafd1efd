"""`mrr-warehouse report`: one self-contained HTML page of charts, read from the published snapshot.

Reads only: the database is opened read-only (default the published snapshot, `mrr_warehouse.published`;
`--database` names another file, e.g. the warehouse itself, whose marts have the same names). When the file has
a `build_info` table, its as-of date, build time and reporting currency head the page.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse import published, report_queries
from mrr_warehouse.report_page import View, month_label, render

ALL_SOURCES = "all"
MOVEMENTS_SHOWN = 15


class ReportError(Exception):
    """A problem the user can fix (missing file, missing mart); the message names it."""


def _plain(value: Any) -> Any:
    """DuckDB values -> JSON-friendly ones: Decimal to float, dates to ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or {})
    columns = [d[0] for d in cursor.description]
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in cursor.fetchall()]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }


def read_build_info(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, Any]:
    """The newest build_info row, or {} when the file has none (a warehouse file, an older snapshot)."""
    if "main.build_info" not in tables:
        return {}
    rows = _rows(con, "select * from main.build_info")
    if not rows:
        return {}
    info = rows[-1]
    for key in ("finished_at", "as_of_date"):
        if key in info and info[key] is not None:
            info[key] = str(info[key])
    variables = info.get("vars")
    if isinstance(variables, str):
        try:
            info["vars"] = json.loads(variables)
        except ValueError:
            info["vars"] = {}
    return info


def source_names(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, str]:
    """uuid -> name where the file knows the names: the data_sources mart (published), else raw.data_sources."""
    queries = {
        "main.data_sources": "select data_source_uuid, data_source_name from main.data_sources",
        "raw.data_sources": "select uuid, name from raw.data_sources",
    }
    for table, query in queries.items():
        if table in tables:
            return dict(con.execute(query).fetchall())
    return {}


def read_views(con: duckdb.DuckDBPyConnection, tables: set[str]) -> list[View]:
    """All sources from the marts; then, when there is more than one data source, one view per source."""
    views = [
        View(
            key=ALL_SOURCES,
            label="All data sources",
            metrics=_rows(con, report_queries.ALL_METRICS),
            cohorts=_rows(con, report_queries.ALL_COHORTS),
            movements=_rows(
                con, report_queries.LARGEST_MOVEMENTS, {"source": None, "limit": MOVEMENTS_SHOWN}
            ),
        )
    ]
    uuids = [row[0] for row in con.execute(report_queries.SOURCES).fetchall()]
    if len(uuids) > 1:
        names = source_names(con, tables)
        for uuid in uuids:
            views.append(
                View(
                    key=uuid,
                    label=f"{names[uuid]} ({uuid})" if uuid in names else uuid,
                    metrics=_rows(con, report_queries.SOURCE_METRICS, {"source": uuid}),
                    cohorts=_rows(con, report_queries.SOURCE_COHORTS, {"source": uuid}),
                    movements=_rows(
                        con, report_queries.LARGEST_MOVEMENTS, {"source": uuid, "limit": MOVEMENTS_SHOWN}
                    ),
                )
            )
    return views


REQUIRED_MARTS = (
    "metrics_monthly",
    "metrics_monthly_by_source",
    "cohorts_monthly",
    "cohorts_monthly_by_source",
    "customer_mrr_monthly",
    "mrr_movements",
    "customers",
)


def build_report(database: str) -> str:
    """The page's HTML for the marts in `database` (opened read-only)."""
    if not os.path.exists(database):
        raise ReportError(
            f"{database} does not exist: run `dbt build` first (or name a file with --database)"
        )
    try:
        con = duckdb.connect(database, read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {database} read-only: {exc}") from exc
    try:
        tables = _tables(con)
        missing = [mart for mart in REQUIRED_MARTS if f"main.{mart}" not in tables]
        if missing:
            raise ReportError(
                f"{database} has no mart {', '.join('main.' + m for m in missing)}: run `dbt build`"
            )
        info = read_build_info(con, tables)
        views = read_views(con, tables)
    finally:
        con.close()
    metrics = views[0].metrics
    if not metrics:
        raise ReportError(f"{database}: main.metrics_monthly is empty: nothing to chart")
    last_month = month_label(metrics[-1]["month"])
    variables = info.get("vars") if isinstance(info.get("vars"), dict) else {}
    currency = variables.get("reporting_currency") or info.get("reporting_currency")
    subtitle_parts = [
        f"as of {info['as_of_date']}" if info.get("as_of_date") else f"data through {last_month}"
    ]
    if info.get("finished_at"):
        subtitle_parts.append(f"built {info['finished_at'][:19]}")
    subtitle_parts.append(f"money in {currency}" if currency else "money in the reporting currency")
    subtitle_parts.append(Path(database).name)
    return render(
        views,
        title="Subscription metrics",
        subtitle=" · ".join(subtitle_parts),
        currency=currency,
        last_month=last_month,
    )


def run(args: argparse.Namespace) -> int:
    database = args.database or published.database_path()
    try:
        page = build_report(database)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out.resolve()}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write one self-contained HTML page of charts (opens offline)",
        description=(
            "Write an HTML report (MRR, ARR, the MRR bridge, customers, churn, ARPA/ASP/LTV, cash flow, cohorts,"
            " the last month's largest movements) from the published snapshot, opened read-only."
        ),
    )
    parser.add_argument("--out", default="report.html", help="file to write (default: report.html)")
    parser.add_argument(
        "--database",
        metavar="PATH",
        help="DuckDB file to read (default: the published snapshot, $MRR_WAREHOUSE_PUBLISHED_DB)",
    )
    parser.set_defaults(func=run)
