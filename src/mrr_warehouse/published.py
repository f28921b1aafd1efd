"""The published snapshot: every mart of one successful build, in a file of its own that readers open read-only.

`dbt build` ends by calling `publish` (through the dbt-duckdb plugin `mrr_warehouse.dbt_plugin`): the marts,
the loader's tables and `build_info` are copied into a temporary file beside the published one, which is then
swapped in with one rename. A reader therefore opens either the previous snapshot or the new one, never a mix;
it holds no lock that a load or a build needs (they write other files), and a killed build leaves only a
temporary file behind, which the next publish removes.

`database_path()` is the one place that says where the snapshot lives; the CLI, the plugin, the report and the
tests all ask it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse import landing

ENV_VAR = "MRR_WAREHOUSE_PUBLISHED_DB"
DEFAULT_NAME = "published.duckdb"
# The loader's own tables (main.loads, ...), published beside the marts so a dashboard can show import status.
LOADER_TABLES = ("loads", "load_errors", "load_warnings")
BUILD_INFO = "build_info"
# As the warehouse (profiles.yml): BI tools that bundle DuckDB 1.x open the file.
STORAGE_VERSION = "v1.5.0"
_ALIAS = "mrr_publishing"  # the temporary file's name inside the build's DuckDB while it is being written
_TEMP_MARKER = ".tmp-"


class SnapshotMissing(Exception):
    """No build has published a snapshot yet (or the file cannot be opened)."""


class PublishError(Exception):
    """Publishing failed; the previous snapshot is unchanged."""


def database_path() -> str:
    """$MRR_WAREHOUSE_PUBLISHED_DB, else `published.duckdb` in the warehouse file's folder."""
    explicit = os.environ.get(ENV_VAR)
    path = explicit or os.path.join(os.path.dirname(landing.database_path()), DEFAULT_NAME)
    if os.path.abspath(path) == os.path.abspath(landing.database_path()):
        raise PublishError(
            f"{ENV_VAR} names the warehouse file itself ({path}): the snapshot needs a file of its own"
        )
    return path


def connect() -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot. Keep it short: a connection keeps seeing the snapshot
    it opened (the file it holds is replaced, not changed), so reconnect to see a newer build."""
    path = database_path()
    if not os.path.exists(path):
        raise SnapshotMissing(
            f"no published snapshot at {path} yet: load data and run `dbt build` (a successful full build"
            " publishes it)"
        )
    try:
        return duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise SnapshotMissing(f"cannot open the published snapshot {path}: {exc}") from None


@contextmanager
def open_snapshot() -> Iterator[duckdb.DuckDBPyConnection]:
    """`with open_snapshot() as con:` every query on `con` sees the tables of exactly one build."""
    con = connect()
    try:
        yield con
    finally:
        con.close()


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of a snapshot (marts, loader tables, build_info), by name."""
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database()"
        " and schema_name = 'main' order by table_name"
    ).fetchall()
    return [name for (name,) in rows]


# --------------------------------------------------------------------------------------------------------------
# Writing a snapshot (runs inside the dbt process, on the build's own DuckDB connection).


@dataclass(frozen=True)
class Source:
    """A table of the warehouse to publish under `name`."""

    name: str
    database: str
    schema: str
    identifier: str

    @property
    def relation(self) -> str:
        return ".".join(_quote(part) for part in (self.database, self.schema, self.identifier))


@dataclass(frozen=True)
class Published:
    path: str
    row_counts: dict[str, int]
    seconds: float


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return con.execute(sql, list(params)).fetchall()


def _remove_leftovers(final: Path) -> None:
    """Temporary files of builds killed while publishing. Only one build runs on a warehouse at a time (the
    build holds the warehouse's write lock), so none of them is in use."""
    for path in final.parent.glob(final.name + _TEMP_MARKER + "*"):
        path.unlink(missing_ok=True)


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_comments(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Table and column descriptions (dbt's persist_docs) travel with the table, so BI tools show them."""
    where = "database_name = ? and schema_name = ? and table_name = ?"
    key = [source.database, source.schema, source.identifier]
    target = f"{_ALIAS}.main.{_quote(source.name)}"
    for (comment,) in _run(
        con, f"select comment from duckdb_tables() where {where} and comment is not null", key
    ):
        _run(con, f"comment on table {target} is {_literal(comment)}")
    columns = _run(
        con, f"select column_name, comment from duckdb_columns() where {where} and comment is not null", key
    )
    for column, comment in columns:
        _run(con, f"comment on column {target}.{_quote(column)} is {_literal(comment)}")


def _write_build_info(con: duckdb.DuckDBPyConnection, build: dict[str, Any], counts: dict[str, int]) -> None:
    _run(
        con,
        f"""
        create table {_ALIAS}.main.{BUILD_INFO} (
            build_id varchar not null,
            command varchar not null,
            started_at timestamp,
            finished_at timestamp not null,
            as_of_date date not null,
            vars varchar not null,
            row_counts varchar not null,
            dbt_version varchar
        )
        """,
    )
    _run(
        con,
        f"insert into {_ALIAS}.main.{BUILD_INFO} values"
        " (?, ?, ?, ?, coalesce(cast(? as date), current_date), ?, ?, ?)",
        [
            build["build_id"],
            build["command"],
            build.get("started_at"),
            build["finished_at"],
            build.get("as_of_date"),
            json.dumps(build.get("vars", {}), sort_keys=True, default=str),
            json.dumps(counts),
            build.get("dbt_version"),
        ],
    )


def publish(con: duckdb.DuckDBPyConnection, marts: Sequence[Source], build: dict[str, Any]) -> Published:
    """Copy `marts`, the loader's tables and build_info into a new file and swap it in for the snapshot.

    `build` holds build_id, command, started_at, as_of_date (None: today, as the models read it), vars and
    dbt_version. On any error the temporary file is removed and the published file is left as it was.
    """
    started = time.perf_counter()
    final = Path(database_path()).absolute()
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final)
    temp = final.with_name(final.name + _TEMP_MARKER + str(build["build_id"]))
    # The warehouse is attached under a fixed catalog name (profiles.yml, landing.CATALOG); the marts say which.
    warehouse = marts[0].database if marts else landing.CATALOG
    sources = [*marts, *(Source(name, warehouse, "main", name) for name in LOADER_TABLES)]
    names = [source.name for source in sources]
    if len(set(names)) != len(names) or BUILD_INFO in names:
        raise PublishError(f"two published tables would share a name: {sorted(names)}")
    attached = False
    try:
        _run(con, f"attach {_literal(str(temp))} as {_ALIAS} (storage_version {_literal(STORAGE_VERSION)})")
        attached = True
        counts: dict[str, int] = {}
        for source in sources:
            target = f"{_ALIAS}.main.{_quote(source.name)}"
            _run(con, f"create table {target} as select * from {source.relation}")
            _copy_comments(con, source)
            counts[source.name] = _run(con, f"select count(*) from {target}")[0][0]
        _write_build_info(con, {**build, "finished_at": datetime.now(UTC).replace(tzinfo=None)}, counts)
        _run(con, f"checkpoint {_ALIAS}")
        _run(con, f"detach {_ALIAS}")
        attached = False
        wal = temp.with_name(temp.name + ".wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise PublishError(f"{wal} still holds changes after the checkpoint; not publishing {temp}")
        wal.unlink(missing_ok=True)
        # Readers of the snapshot are the readers of the warehouse: it gets the warehouse file's permissions.
        (warehouse_file,) = _run(
            con, "select path from duckdb_databases() where database_name = ?", [warehouse]
        )[0]
        # (A Spark build's marts come from an in-memory database: the warehouse file is the CLI's.)
        os.chmod(temp, os.stat(warehouse_file or landing.database_path()).st_mode & 0o666)
        # The data must be on disk before the rename makes it the snapshot, and the rename itself before we
        # say it is published: a crash in between leaves either the old snapshot or the complete new one.
        _fsync(temp)
        os.replace(temp, final)
        _fsync(final.parent, directory=True)
    except BaseException:
        if attached:
            try:
                _run(con, f"detach {_ALIAS}")
            except duckdb.Error:
                pass
        _remove_leftovers(final)
        raise
    return Published(str(final), counts, time.perf_counter() - started)
