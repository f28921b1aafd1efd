"""The lake: the landed tables as Parquet files under $MRR_WAREHOUSE_LAKE (default `lake/` beside the warehouse
file), which is what the Spark target reads its sources from (and what a cluster would read from object storage).

Layout (docs/decisions.md D42):

    lake/raw/data_sources/data.parquet      one file per small table, rewritten when the table changed
    lake/raw/manual_edits/data.parquet
    lake/raw/customer_merges/data.parquet
    lake/main/loads/data.parquet            the loader's own tables (published beside the marts)
    lake/main/load_errors/data.parquet
    lake/main/load_warnings/data.parquet
    lake/raw/requests/<load_id>.parquet     the large, append-only tables: one file per load
    lake/raw/objects/<load_id>.parquet
    lake/raw/objects/0-schema.parquet       no rows: the columns, so that Spark can read an empty table
    lake/_lake.json                         what each file holds (a fingerprint per file)

`sync(con)` brings the lake in step with the warehouse and is called after every command that changed the
landed tables has committed (a load, a re-sync, a deletion, a manual edit). It compares a fingerprint of every
file's rows (count and a hash of each row; for the per-load files the row's content hash stands for its JSON
body) with the one recorded when the file was written, and rewrites only what changed: a new load writes its own
files, a customer's deletion rewrites the files of the loads that held the customer, a data source's deletion
removes its loads' files. Each file is written beside its final name and renamed over it, so a reader sees the
old file or the new one; a rewritten or removed file takes the erased values out of the lake's bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from mrr_warehouse import landing
from mrr_warehouse.published import PublishError

ENV_VAR = "MRR_WAREHOUSE_LAKE"
DEFAULT_NAME = "lake"
MANIFEST = "_lake.json"
SCHEMA_FILE = "0-schema.parquet"
WHOLE_FILE = "data.parquet"
# Tables written one file per load: the (large) JSON body the fingerprint leaves out (its content hash stands
# for it) and the column that orders a file's rows.
PER_LOAD = {"raw.requests": ("body", "request_index"), "raw.objects": ("body", "object_seq")}
TABLES = (
    "raw.data_sources",
    "raw.requests",
    "raw.objects",
    "raw.manual_edits",
    "raw.customer_merges",
    "main.loads",
    "main.load_errors",
    "main.load_warnings",
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def lake_path() -> Path:
    """$MRR_WAREHOUSE_LAKE, else `lake` in the warehouse file's folder."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit)
    return Path(os.path.dirname(landing.database_path()) or ".") / DEFAULT_NAME


@dataclass
class Synced:
    path: Path
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_name(load_id: str) -> str:
    if _SAFE_NAME.match(load_id) and not load_id.startswith(("0-", "_", ".")):
        return f"{load_id}.parquet"
    return "load-" + hashlib.sha256(load_id.encode()).hexdigest()[:32] + ".parquet"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    return landing.run(
        con,
        "select column_name, data_type from duckdb_columns() where database_name = current_database()"
        " and schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    )


def _select(table: str, columns: list[tuple[str, str]]) -> str:
    """Every column, JSON as text (Spark reads Parquet's JSON annotation as nothing it knows)."""
    parts = [
        f'cast("{name}" as varchar) as "{name}"' if kind == "JSON" else f'"{name}"' for name, kind in columns
    ]
    return f"select {', '.join(parts)} from {table}"


def _fingerprints(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]
) -> dict[str, str]:
    """File name -> fingerprint of the rows that belong in it."""
    skip = PER_LOAD[table][0] if table in PER_LOAD else None
    hashed = ", ".join(f'"{name}"' for name, _ in columns if name != skip)
    if table in PER_LOAD:
        rows = landing.run(
            con, f"select load_id, count(*), bit_xor(hash({hashed})) from {table} group by load_id"
        )
        return {_file_name(load_id): f"{count}:{digest}" for load_id, count, digest in rows}
    count, digest = landing.run(con, f"select count(*), bit_xor(hash({hashed})) from {table}")[0]
    return {WHOLE_FILE: f"{count}:{digest}"}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(con: duckdb.DuckDBPyConnection, query: str, final: Path) -> None:
    temp = final.with_name(final.name + ".tmp")
    landing.run(con, f"copy ({query}) to {_literal(str(temp))} (format parquet, compression zstd)")
    _fsync(temp)
    os.replace(temp, final)


def sync(con: duckdb.DuckDBPyConnection) -> Synced:
    """Rewrite the lake's files whose rows changed since they were written; remove those of vanished loads.
    Call it on a connection to the warehouse outside any open transaction (after the command's commit)."""
    started = time.perf_counter()
    root = lake_path()
    result = Synced(root)
    manifest_path = root / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    recorded_tables = manifest.get("tables", {})
    tables: dict[str, dict[str, str]] = {}
    for table in TABLES:
        columns = _columns(con, table)
        if not columns:
            continue
        directory = root.joinpath(*table.split("."))
        directory.mkdir(parents=True, exist_ok=True)
        recorded = recorded_tables.get(table, {})
        signature = json.dumps(columns)
        if recorded.get("columns") != signature:
            recorded = {}  # the table's columns changed: write every file anew
        wanted = _fingerprints(con, table, columns)
        files = dict(recorded.get("files", {}))
        select = _select(table, columns)
        if table in PER_LOAD:
            schema_file = directory / SCHEMA_FILE
            if not recorded or not schema_file.exists():
                _write(con, f"{select} limit 0", schema_file)
            load_ids = {
                _file_name(load_id): load_id
                for (load_id,) in landing.run(con, f"select distinct load_id from {table}")
            }
        for name, fingerprint in sorted(wanted.items()):
            path = directory / name
            if files.get(name) == fingerprint and path.exists():
                continue
            if table in PER_LOAD:
                query = f"{select} where load_id = {_literal(load_ids[name])} order by {PER_LOAD[table][1]}"
            else:
                query = f"{select} order by all"
            _write(con, query, path)
            files[name] = fingerprint
            result.written.append(f"{table}/{name}")
        for name in sorted(set(files) - set(wanted)):
            (directory / name).unlink(missing_ok=True)
            del files[name]
            result.removed.append(f"{table}/{name}")
        # Files nobody recorded (a sync killed between writing and recording) are not the table's.
        for path in directory.glob("*.parquet*"):
            if path.name not in files and path.name != SCHEMA_FILE:
                path.unlink(missing_ok=True)
        tables[table] = {"columns": signature, "files": files}
    temp = manifest_path.with_name(MANIFEST + ".tmp")
    temp.write_text(json.dumps({"version": 1, "tables": tables}, indent=1, sort_keys=True))
    os.replace(temp, manifest_path)
    result.seconds = time.perf_counter() - started
    return result


def sync_file(database: str) -> Synced:
    """`sync` for a command that has closed its connection (opens the warehouse read-only meanwhile)."""
    con = landing.connect(database, read_only=True)
    try:
        return sync(con)
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------------------
# `mrr-warehouse lake sync` (a warehouse landed before the lake existed, or a sync that failed) and
# `mrr-warehouse lake publish DIR` (marts a Spark cluster exported, published where the snapshot lives).


def _run_sync(args: argparse.Namespace) -> int:
    from mrr_warehouse.display import note, say

    try:
        result = sync_file(landing.database_path())
    except landing.DatabaseUnavailable as exc:
        note(f"error: {exc}")
        return 2
    say(
        f"lake {result.path}: {len(result.written)} file(s) written, {len(result.removed)} removed"
        f" in {result.seconds:.2f} s"
    )
    return 0


def _run_publish(args: argparse.Namespace) -> int:
    from mrr_warehouse import spark_publish
    from mrr_warehouse.display import note, say

    try:
        say(spark_publish.publish_export(Path(args.directory), keep=args.keep))
    except (spark_publish.ExportError, PublishError) as exc:
        note(f"error: {exc}")
        return 2
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lake", help="the Parquet copy of the landed tables that Spark reads")
    commands = parser.add_subparsers(dest="lake_command", metavar="COMMAND", required=True)
    commands.add_parser("sync", help="bring the lake in step with the warehouse").set_defaults(func=_run_sync)
    publish = commands.add_parser(
        "publish",
        help="publish the marts a Spark build exported (a cluster build's export folder) to the snapshot",
    )
    publish.add_argument("directory", metavar="EXPORT_DIR")
    publish.add_argument("--keep", action="store_true", help="keep the export folder (default: removed)")
    publish.set_defaults(func=_run_publish)
