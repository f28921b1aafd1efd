"""`mrr-warehouse export --format parquet DIR`: every table of the published snapshot as DIR/<table>.parquet.

For tools that read files rather than databases (Evidence, Observable, Spark). All files come from one
read-only connection to the snapshot, so they hold one build's tables even when a build publishes meanwhile;
build_info.parquet says which build.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from mrr_warehouse import published


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Write each table of the snapshot open on `con`; {table: rows written}. Each file is written beside its
    final name and renamed, so a reader of DIR never sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in published.published_tables(con):
        target = directory / f"{name}.parquet"
        temp = directory / f".{name}.parquet.tmp"
        quoted_path = str(temp).replace("'", "''")
        quoted_name = name.replace('"', '""')
        try:
            con.execute(f"""copy (select * from main."{quoted_name}") to '{quoted_path}' (format parquet)""")
            written[name] = con.execute(f"""select count(*) from main."{quoted_name}" """).fetchone()[0]
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
    return written


def run(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    if directory.exists() and not directory.is_dir():
        return _fail(f"{directory} exists and is not a folder")
    try:
        with published.open_snapshot() as con:
            (build_id,) = con.execute("select build_id from build_info").fetchone()
            written = export_parquet(con, directory)
    except (published.SnapshotMissing, published.PublishError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write to {directory}: {exc}")
    for name, rows in written.items():
        print(f"{directory / (name + '.parquet')}: {rows} rows", flush=True)
    print(f"exported {len(written)} tables of build {build_id} from {published.database_path()}", flush=True)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write every table of the published snapshot as Parquet (DIR/<table>.parquet)",
        description=(
            "Write each table of the published snapshot ($MRR_WAREHOUSE_PUBLISHED_DB: marts, loads,"
            " load_errors, load_warnings, build_info) as DIR/<table>.parquet. Exit status 2 when no build has"
            " published a snapshot yet."
        ),
    )
    parser.add_argument("--format", choices=["parquet"], required=True)
    parser.add_argument("dir", metavar="DIR", help="folder to write (created when missing)")
    parser.set_defaults(func=run)
