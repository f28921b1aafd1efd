"""Publishing what a Spark build exported: the DuckDB snapshot, as the duckdb target publishes it.

A successful `dbt build --target spark` ends with Spark writing each mart as Parquet into an export folder, with
the build's request (marts, descriptions, build id, vars) as text beside them (macros/publish_snapshot.sql). This
module turns such a folder into the published snapshot: the marts are read into an in-memory DuckDB database,
the loader's tables from the lake (the files Spark read), and `published.publish` writes them to a temporary
file that one rename makes the snapshot (docs/decisions.md D44). The folder holds personal data and is removed
afterwards, whether publishing succeeded or not.

In session mode Spark's script transform starts `python -m mrr_warehouse.spark_publish FOLDER` (through
scripts/spark_publish.sh); a non-zero exit fails the on-run-end hook and so the build. After a cluster build,
`mrr-warehouse lake publish FOLDER` does the same.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse import landing, published

REQUEST = "request"


class ExportError(Exception):
    """The export folder is not one a Spark build wrote, or lacks a file."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _data_files(folder: Path) -> list[Path]:
    """Spark's part files (not its _SUCCESS marker or .crc checksums)."""
    return sorted(
        path for path in folder.glob("*") if path.is_file() and not path.name.startswith(("_", "."))
    )


def read_request(directory: Path) -> dict[str, Any]:
    files = _data_files(directory / REQUEST)
    text = "".join(path.read_text() for path in files).strip()
    if not text:
        raise ExportError(f"{directory} holds no build request ({REQUEST}/): not a Spark build's export")
    return json.loads(text)


def _effective_vars(request: dict[str, Any]) -> dict[str, Any]:
    from mrr_warehouse.dbt_plugin import effective_vars

    return effective_vars(request.get("project_dir"), request.get("cli_vars"))


def publish_export(directory: Path, *, keep: bool = False) -> str:
    """Publish the export folder; a line saying what was published. The folder is removed unless `keep`."""
    try:
        request = read_request(directory)
        con = duckdb.connect()
        try:
            landing.limit_duckdb_threads(con)
            marts = []
            for mart in request["marts"]:
                name = mart["name"]
                files = [str(path) for path in _data_files(directory / name)]
                if not files:
                    raise ExportError(f"{directory / name} holds no Parquet file: the export is incomplete")
                table = f"memory.main.{_quote(name)}"
                listing = "[" + ", ".join(_literal(path) for path in files) + "]"
                con.execute(f"create table {table} as select * from read_parquet({listing})").fetchall()
                if mart.get("description"):
                    con.execute(f"comment on table {table} is {_literal(mart['description'])}").fetchall()
                for column, text in (mart.get("columns") or {}).items():
                    con.execute(f"comment on column {table}.{_quote(column)} is {_literal(text)}").fetchall()
                marts.append(published.Source(name, "memory", "main", name))
            lake = Path(request["lake"])
            for name in published.LOADER_TABLES:
                path = lake / "main" / name / "data.parquet"
                if not path.exists():
                    raise ExportError(f"{path} is missing: run `mrr-warehouse lake sync`")
                con.execute(
                    f"create table memory.main.{_quote(name)} as select * from read_parquet({_literal(str(path))})"
                ).fetchall()
            build = dict(request["build"])
            build["vars"] = _effective_vars(request)
            # The build's warehouse and snapshot, not those of the environment this process inherited (Spark's
            # JVM keeps the environment of the first build in its session).
            if request.get("warehouse_db"):
                os.environ["MRR_WAREHOUSE_DB"] = request["warehouse_db"]
            if request.get("published_db"):
                os.environ[published.ENV_VAR] = request["published_db"]
            result = published.publish(con, marts, build)
        finally:
            con.close()
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
    return (
        f"published {len(result.row_counts)} tables of build {build['build_id']} to {result.path}"
        f" in {result.seconds:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mrr_warehouse.spark_publish EXPORT_DIR", file=sys.stderr)
        return 2
    landing.restrict_new_files()
    try:
        print(publish_export(Path(args[0])), flush=True)
    except (ExportError, published.PublishError, duckdb.Error, OSError) as exc:
        print(f"publishing failed, the published snapshot is unchanged: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
