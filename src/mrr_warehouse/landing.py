"""Writing to DuckDB: the connection (with waiting for a locked file), batched inserts, and the lookups the
loader needs about what a data source already holds."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from mrr_warehouse import schema
from mrr_warehouse.schema import ensure_schema
from mrr_warehouse.validation import Problem

DEFAULT_DATABASE = "warehouse.duckdb"
DEFAULT_LOCK_TIMEOUT_SECONDS = 60.0
CONNECT_CONFIG = {"storage_compatibility_version": "v1.5.0"}


def database_path() -> str:
    return os.environ.get("MRR_WAREHOUSE_DB") or DEFAULT_DATABASE


def lock_timeout() -> float:
    raw = os.environ.get("MRR_WAREHOUSE_LOCK_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_LOCK_TIMEOUT_SECONDS
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_SECONDS


def restrict_new_files() -> None:
    """Files this process creates from now on (the database, its WAL, compaction copies, exports, the published
    snapshot) are readable by their owner only: they hold personal data. Existing files keep their mode."""
    os.umask(os.umask(0) | 0o077)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Execute and consume the result (DuckDB refuses other work on a connection with a pending result)."""
    return con.execute(sql, list(params)).fetchall()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """The first row (or None), with the result consumed."""
    rows = run(con, sql, params)
    return rows[0] if rows else None


# --------------------------------------------------------------------------------------------------------------
# Connecting.


class DatabaseUnavailable(Exception):
    """The database file cannot be opened (locked by another process past the timeout, or unreadable)."""


_PID = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def _lock_holder(message: str) -> str | None:
    """`PID 123: dbt build ...` from DuckDB's lock error, or None when the error is not about a lock."""
    if "lock" not in message.lower():
        return None
    match = _PID.search(message)
    if match is None:
        return "unknown process"
    program, pid = match.groups()
    command = program
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        if raw:
            command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    except OSError:
        pass
    command = " ".join(command.split())
    if len(command) > 160:
        command = command[:157] + "..."
    return f"PID {pid}: {command}"


def _being_created(path: str, message: str) -> bool:
    """DuckDB's "not a valid database file" for a file still shorter than its headers: another process is
    creating it (two loaders starting on a new warehouse)."""
    if "not a valid DuckDB database file" not in message:
        return False
    try:
        return Path(path).stat().st_size < 3 * 4096
    except OSError:
        return True


# The warehouse file is attached under this catalog name, not the one DuckDB derives from the file name: a file
# called raw.duckdb (or staging.duckdb, ...) would otherwise be a catalog named like one of its schemas, and
# `raw.objects` ambiguous.
CATALOG = "mrr_warehouse"


def _attach(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=CONNECT_CONFIG)
    try:
        # A new file gets the connection's storage_compatibility_version (CONNECT_CONFIG); an existing one
        # keeps its own.
        con.execute(f"attach ? as {CATALOG}{' (read_only)' if read_only else ''}", [path]).fetchall()
        con.execute(f"use {CATALOG}").fetchall()
    except BaseException:
        con.close()
        raise
    return con


def connect(
    path: str,
    *,
    read_only: bool = False,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; while another process holds the file, wait up to `timeout` seconds, saying so."""
    wait_for = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + wait_for
    announced = False
    delay = 0.05
    while True:
        try:
            con = _attach(path, read_only)
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            if _being_created(path, message) and time.monotonic() < deadline:
                time.sleep(0.05)  # another process is creating the file right now
                continue
            holder = _lock_holder(message)
            if holder is None:
                raise DatabaseUnavailable(f"cannot open {path}: {message}") from None
            if time.monotonic() >= deadline:
                raise DatabaseUnavailable(
                    f"{path} is locked by another process ({holder}); gave up after {wait_for:g} s"
                    " (set MRR_WAREHOUSE_LOCK_TIMEOUT to wait longer, or stop that process)"
                ) from None
            if not announced and on_wait is not None:
                on_wait(f"waiting for {path} (held by another process: {holder}); up to {wait_for:g} s")
                announced = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.5)
            continue
        if memory_limit := os.environ.get("MRR_WAREHOUSE_MEMORY_LIMIT"):  # as in profiles.yml
            run(con, "select current_setting('memory_limit')")
            con.execute("set memory_limit = ?", [memory_limit]).fetchall()
        limit_duckdb_threads(con)
        if not read_only:
            # Checkpointing every GB of WAL instead of every 16 MB (DuckDB's default: after each file of a load
            # or a re-sync). It was the first remedy for checkpoints rewriting every request body kept in
            # raw.requests; large bodies now have a table per load (schema.py, D48), and fewer checkpoints still
            # cost less.
            run(con, "set checkpoint_threshold = '1GB'")
            ensure_schema(con)
            run(con, "select 1")  # consume the DDL's pending result
        return con


def limit_duckdb_threads(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB runs each query on every core it sees, and each thread needs its own buffers: under a small
    memory_limit, a machine that shows many cores (a container on a big host) runs out of memory where fewer
    threads would spill and finish. MRR_WAREHOUSE_DUCKDB_THREADS caps them, for the CLI and for dbt."""
    if threads := os.environ.get("MRR_WAREHOUSE_DUCKDB_THREADS"):
        if not threads.isdigit() or int(threads) < 1:
            raise ValueError(
                f"MRR_WAREHOUSE_DUCKDB_THREADS must be a whole number of threads, 1 or more: {threads!r}"
            )
        con.execute(f"set threads = {int(threads)}").fetchall()


# --------------------------------------------------------------------------------------------------------------
# Handing Python columns to DuckDB without pyarrow: a polars frame exposed through the Arrow C stream interface.


class _ArrowStream:
    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._frame.__arrow_c_stream__(requested_schema)


def _with_frame(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, sql: str, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Run `sql` with `frame` visible as table `name`; all result rows."""
    con.register(name, _ArrowStream(frame))
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.unregister(name)


# --------------------------------------------------------------------------------------------------------------
# raw.objects writer.

_OBJECT_SCHEMA = {
    "object_seq": pl.Int64,
    "object_type": pl.String,
    "external_id": pl.String,
    "invoice_external_id": pl.String,
    "content_hash": pl.String,
    "body": pl.String,
    "request_index": pl.Int32,
    "position": pl.Int32,
}


_SMALL_BATCH = 32
_OBJECT_COLUMNS = (
    "object_seq, load_id, data_source_uuid, object_type, external_id, invoice_external_id,"
    " content_hash, body, file, request_index, position, loaded_at"
)


class ObjectWriter:
    """Buffers accepted object versions and inserts them in batches; object_seq comes from raw.object_seq in
    the order objects were accepted."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        load_id: str,
        data_source_uuid: str,
        file: str,
        loaded_at: datetime,
        batch_size: int,
    ) -> None:
        self.con = con
        self.load_id = load_id
        self.data_source_uuid = data_source_uuid
        self.file = file
        self.loaded_at = loaded_at
        self.batch_size = batch_size
        self.rows: list[tuple[str, str, str | None, str, str, int, int | None]] = []
        self.written = 0

    def add(
        self,
        object_type: str,
        external_id: str,
        invoice_external_id: str | None,
        content_hash: str,
        body: str,
        request_index: int,
        position: int | None,
    ) -> None:
        self.rows.append(
            (object_type, external_id, invoice_external_id, content_hash, body, request_index, position)
        )
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        count = len(self.rows)
        if count <= _SMALL_BATCH:  # a plain insert: registering a frame costs milliseconds
            rows, self.rows = self.rows, []
            values = ", ".join(["(nextval('raw.object_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * count)
            params: list[Any] = []
            for (
                object_type,
                external_id,
                invoice_external_id,
                content_hash,
                body,
                request_index,
                position,
            ) in rows:
                params += [self.load_id, self.data_source_uuid, object_type, external_id, invoice_external_id]
                params += [content_hash, body, self.file, request_index, position, self.loaded_at]
            run(self.con, f"insert into raw.objects ({_OBJECT_COLUMNS}) values {values}", params)
            self.written += count
            return
        sequence = sorted(
            value
            for (value,) in self.con.execute(
                "select nextval('raw.object_seq') from range(?)", [count]
            ).fetchall()
        )
        columns = list(zip(*self.rows, strict=True))
        frame = pl.DataFrame(
            {
                "object_seq": sequence,
                "object_type": columns[0],
                "external_id": columns[1],
                "invoice_external_id": columns[2],
                "content_hash": columns[3],
                "body": columns[4],
                "request_index": columns[5],
                "position": columns[6],
            },
            schema=_OBJECT_SCHEMA,
        )
        self.rows = []
        _with_frame(
            self.con,
            "_mrr_objects_batch",
            frame,
            f"""
            insert into raw.objects ({_OBJECT_COLUMNS})
            select
                object_seq, ?, ?, object_type, external_id, invoice_external_id,
                content_hash, body, ?, request_index, position, ?
            from _mrr_objects_batch
            order by object_seq
            """,
            [self.load_id, self.data_source_uuid, self.file, self.loaded_at],
        )
        self.written += count


# --------------------------------------------------------------------------------------------------------------
# Lookups about what a data source already holds (including rows written earlier in the open transaction).


_SMALL_KEY_SET = 64


def _by_keys(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], keys: Iterable[str]
) -> list[tuple[Any, ...]]:
    """Run `sql`, whose `{keys}` placeholder stands for the set of keys: a parameter list for a few keys, a
    registered frame for many (registering costs milliseconds, a long IN list costs more)."""
    unique = list(set(keys))
    if not unique:
        return []
    if len(unique) <= _SMALL_KEY_SET:
        placeholders = ", ".join("?" for _ in unique)
        return run(con, sql.format(keys=placeholders), [*params, *unique])
    frame = pl.DataFrame({"key": unique}, schema={"key": pl.String})
    return _with_frame(con, "_mrr_keys", frame, sql.format(keys="select key from _mrr_keys"), params)


Known = dict[tuple[str, str], tuple[str, str | None]]


def lookup(con: duckdb.DuckDBPyConnection, data_source_uuid: str, pairs: Iterable[tuple[str, str]]) -> Known:
    """(object_type, key) -> (content_hash of the newest version, the first version's `date` for an invoice),
    for the pairs that exist in the data source. One query for everything a batch needs to know."""
    unique = list(set(pairs))
    if not unique:
        return {}
    sql = """
        select o.object_type, o.external_id, arg_max(o.content_hash, o.object_seq),
            arg_min(json_extract_string(o.body, '$.date'), o.object_seq) filter (where o.object_type = 'invoice')
        from raw.objects as o
        join ({keys}) as k (object_type, external_id)
            on o.object_type = k.object_type and o.external_id = k.external_id
        where o.data_source_uuid = ?
        group by o.object_type, o.external_id
    """
    if len(unique) <= _SMALL_KEY_SET:
        values = "values " + ", ".join("(?, ?)" for _ in unique)
        rows = run(
            con, sql.format(keys=values), [*(part for pair in unique for part in pair), data_source_uuid]
        )
    else:
        frame = pl.DataFrame(
            {"object_type": [pair[0] for pair in unique], "external_id": [pair[1] for pair in unique]},
            schema={"object_type": pl.String, "external_id": pl.String},
        )
        keys = "select object_type, external_id from _mrr_keys"
        rows = _with_frame(con, "_mrr_keys", frame, sql.format(keys=keys), [data_source_uuid])
    return {(row[0], row[1]): (row[2], row[3]) for row in rows}


def invoices_with_line_items(
    con: duckdb.DuckDBPyConnection, data_source_uuid: str, ids: Iterable[str]
) -> set[str]:
    sql = """
        select distinct invoice_external_id
        from raw.objects
        where data_source_uuid = ? and object_type = 'line_item' and invoice_external_id in ({keys})
    """
    return {row[0] for row in _by_keys(con, sql, [data_source_uuid], ids)}


def _uuid_sql(prefix: str, digest: str) -> str:
    """SQL for schema.deterministic_uuid, given a column holding the md5 of the ':'-joined parts."""
    return (
        f"'{prefix}_' || substr({digest}, 1, 8) || '-' || substr({digest}, 9, 4) || '-'"
        f" || substr({digest}, 13, 4) || '-' || substr({digest}, 17, 4) || '-' || substr({digest}, 21, 12)"
    )


def external_id_for_uuid(
    con: duckdb.DuckDBPyConnection, data_source_uuid: str, object_type: str, prefix: str, uuid: str
) -> str | None:
    """The external_id of the customer/plan whose deterministic uuid is `uuid` (see schema.deterministic_uuid)."""
    row = one(
        con,
        f"""
        select external_id from (
            select distinct external_id, md5(data_source_uuid || ':' || object_type || ':' || external_id) as digest
            from raw.objects
            where data_source_uuid = ? and object_type = ?
        ) as candidates
        where {_uuid_sql(prefix, "digest")} = ?
        limit 1
        """,
        [data_source_uuid, object_type, uuid],
    )
    return row[0] if row else None


def subscription_ids(con: duckdb.DuckDBPyConnection, data_source_uuid: str) -> set[str]:
    """Every subscription_external_id named by a line item or subscription event of the data source."""
    rows = run(
        con,
        """
        select distinct json_extract_string(body, '$.subscription_external_id')
        from raw.objects
        where data_source_uuid = ? and object_type in ('line_item', 'subscription_event')
        """,
        [data_source_uuid],
    )
    return {row[0] for row in rows if row[0] is not None}


def cancellation_history(
    con: duckdb.DuckDBPyConnection, data_source_uuid: str
) -> list[tuple[str, str, bool]]:
    """(subscription_external_id, cancellation key, is a cancellation_dates request) in load order."""
    rows = run(
        con,
        """
        select json_extract_string(body, '$.subscription_external_id'), external_id,
            json_exists(body, '$.cancellation_dates')
        from raw.objects
        where data_source_uuid = ? and object_type = 'cancellation'
        order by object_seq
        """,
        [data_source_uuid],
    )
    return [(row[0], row[1], bool(row[2])) for row in rows]


# --------------------------------------------------------------------------------------------------------------
# raw.requests, raw.data_sources.


def request_hashes(
    con: duckdb.DuckDBPyConnection, data_source_uuid: str, among: list[str] | None = None
) -> set[str]:
    """Content hashes of the source's landed requests (only those in `among`, when given)."""
    if among is not None:
        rows = run(
            con,
            "select distinct content_hash from raw.requests"
            " where data_source_uuid = ? and list_contains(?, content_hash)",
            [data_source_uuid, among],
        )
        return {row[0] for row in rows}
    rows = run(
        con, "select distinct content_hash from raw.requests where data_source_uuid = ?", [data_source_uuid]
    )
    return {row[0] for row in rows}


_REQUEST_COLUMNS = schema.REQUEST_COLUMNS
_REQUEST_SCHEMA = {
    "load_id": pl.String,
    "request_index": pl.Int32,
    "data_source_uuid": pl.String,
    "file": pl.String,
    "content_hash": pl.String,
    "body": pl.String,
    "loaded_at": pl.Datetime("us"),
}


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether raw."name" exists (as seen by the open transaction)."""
    name = table.split(".", 1)[1].strip('"')
    sql = (
        "select 1 from duckdb_tables() where database_name = current_database() and schema_name = 'raw'"
        " and table_name = ?"
    )
    return one(con, sql, [name]) is not None


def _large_requests_table(con: duckdb.DuckDBPyConnection, load_id: str) -> str:
    """The load's table of large requests, created (and raw.requests redefined) when it is the first."""
    table = schema.large_requests_table(load_id)
    if not _exists(con, table):
        schema.create_large_requests_table(con, load_id)
        schema.refresh_requests_view(con)
    return table


def insert_requests(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Keep many requests verbatim in one insert per table: (load_id, request_index, data_source_uuid, file,
    content_hash, body text, loaded_at) each. Large bodies go to their load's table."""
    small = [row for row in rows if len(row[5]) < schema.LARGE_REQUEST_CHARS]
    _insert_request_rows(con, schema.SMALL_REQUESTS, small)
    large: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        if len(row[5]) >= schema.LARGE_REQUEST_CHARS:
            large.setdefault(row[0], []).append(row)
    for load_id, load_rows in large.items():
        _insert_request_rows(con, _large_requests_table(con, load_id), load_rows)


def _insert_request_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if len(rows) <= _SMALL_BATCH:
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(rows))
        run(
            con, f"insert into {table} ({_REQUEST_COLUMNS}) values {values}", [v for row in rows for v in row]
        )
        return
    # Many small requests (an .ndjson of cancellations): binding thousands of parameters cost DuckDB more
    # than the insert itself (1.3 of 2.5 s for 15,839 cancellation requests); a frame costs milliseconds.
    columns = list(zip(*rows, strict=True))
    frame = pl.DataFrame(
        {name: list(values) for name, values in zip(_REQUEST_SCHEMA, columns, strict=True)},
        schema=_REQUEST_SCHEMA,
    )
    _with_frame(
        con,
        "_mrr_requests_batch",
        frame,
        f"insert into {table} ({_REQUEST_COLUMNS}) select {_REQUEST_COLUMNS} from _mrr_requests_batch",
    )


def insert_request(
    con: duckdb.DuckDBPyConnection,
    *,
    load_id: str,
    request_index: int,
    data_source_uuid: str,
    file: str,
    path: Path,
    content_hash: str,
    text: str | None,
    loaded_at: datetime,
) -> None:
    """Keep one request verbatim (the caller skips requests of this data source that are already kept)."""
    if text is None and any(char in str(path) for char in "*?[{"):  # read_text would take it for a glob
        text = path.read_text().strip()
    if text is not None:
        insert_requests(
            con, [(load_id, request_index, data_source_uuid, file, content_hash, text, loaded_at)]
        )
    else:  # a large single-request file: DuckDB reads it (as is), no copy in Python; its load's table
        run(
            con,
            f"insert into {_large_requests_table(con, load_id)} ({_REQUEST_COLUMNS})"
            " select ?, ?, ?, ?, ?, content, ? from read_text(?)",
            [load_id, request_index, data_source_uuid, file, content_hash, loaded_at, str(path.resolve())],
        )


def request_table(con: duckdb.DuckDBPyConnection, load_id: str, request_index: int) -> str:
    """The table that holds a kept request (the load's table of large requests, or raw.requests_small)."""
    table = schema.large_requests_table(load_id)
    if _exists(con, table) and one(con, f"select 1 from {table} where request_index = ?", [request_index]):
        return table
    return schema.SMALL_REQUESTS


def update_request(
    con: duckdb.DuckDBPyConnection, load_id: str, request_index: int, body: str, content_hash: str
) -> None:
    """Replace a kept request's body (erasure), in whichever table holds it."""
    run(
        con,
        f"update {request_table(con, load_id, request_index)} set body = ?, content_hash = ?"
        " where load_id = ? and request_index = ?",
        [body, content_hash, load_id, request_index],
    )


def delete_request(con: duckdb.DuckDBPyConnection, load_id: str, request_index: int) -> None:
    """Remove a kept request; a load's table of large requests left empty goes too."""
    table = request_table(con, load_id, request_index)
    run(con, f"delete from {table} where load_id = ? and request_index = ?", [load_id, request_index])
    if table != schema.SMALL_REQUESTS:
        drop_empty_request_tables(con)


def request_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table raw.requests unites (raw.requests_small and each load's table of large requests)."""
    return schema.request_tables(con)


def drop_empty_request_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop the loads' tables of large requests that no longer hold a row (after a deletion) and redefine
    raw.requests without them; the tables dropped."""
    large = request_tables(con)[1:]
    if not large:
        return []
    counts = " union all ".join(
        f"select {index} as table_index, count(*) from {table}" for index, table in enumerate(large)
    )
    empty = [large[index] for index, count in run(con, counts) if count == 0]
    for table in empty:
        run(con, f"drop table {table}")
    if empty:
        schema.refresh_requests_view(con)
    return empty


def find_data_source(
    con: duckdb.DuckDBPyConnection, *, uuid: str | None = None, name: str | None = None
) -> Any:
    if uuid is not None:
        return one(con, "select uuid, name from raw.data_sources where uuid = ?", [uuid])
    return one(con, "select uuid, name from raw.data_sources where name = ?", [name])


def ensure_data_source(con: duckdb.DuckDBPyConnection, uuid: str, name: str, now: datetime) -> None:
    if find_data_source(con, uuid=uuid) is None:
        run(
            con,
            "insert into raw.data_sources (uuid, name, created_at, updated_at) values (?, ?, ?, ?)",
            [uuid, name, now, now],
        )


def upsert_data_source(
    con: duckdb.DuckDBPyConnection,
    *,
    uuid: str,
    name: str,
    auto_churn_enabled: bool | None,
    auto_churn_interval_days: int | None,
    include_deleted_customers: bool | None,
    now: datetime,
) -> bool:
    """Create or update a data source from a data source create request; True when something changed."""
    row = one(
        con,
        "select auto_churn_enabled, auto_churn_interval_days, include_deleted_customers from raw.data_sources"
        " where uuid = ?",
        [uuid],
    )
    include = bool(include_deleted_customers) if include_deleted_customers is not None else None
    if row is None:
        run(
            con,
            "insert into raw.data_sources (uuid, name, auto_churn_enabled, auto_churn_interval_days,"
            " include_deleted_customers, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)",
            [uuid, name, auto_churn_enabled, auto_churn_interval_days, bool(include), now, now],
        )
        return True
    wanted = (
        auto_churn_enabled,
        auto_churn_interval_days,
        row[2] if include is None else include,
    )
    if tuple(row) == wanted:
        return False
    run(
        con,
        "update raw.data_sources set auto_churn_enabled = ?, auto_churn_interval_days = ?,"
        " include_deleted_customers = ?, updated_at = ? where uuid = ?",
        [*wanted, now, uuid],
    )
    return True


# --------------------------------------------------------------------------------------------------------------
# main.loads, main.load_errors, main.load_warnings.


def insert_problems(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    load_id: str,
    file: str,
    data_source_uuid: str | None,
    problems: Sequence[Problem],
    now: datetime,
) -> None:
    if not problems:
        return
    frame = pl.DataFrame(
        {
            "object_type": [problem.object_type for problem in problems],
            "external_id": [problem.external_id for problem in problems],
            "position": [problem.position for problem in problems],
            "field": [problem.field for problem in problems],
            "message": [problem.message for problem in problems],
            "customer_external_id": [problem.customer_external_id for problem in problems],
        },
        schema={
            "object_type": pl.String,
            "external_id": pl.String,
            "position": pl.Int32,
            "field": pl.String,
            "message": pl.String,
            "customer_external_id": pl.String,
        },
    )
    assert table in ("main.load_errors", "main.load_warnings")
    _with_frame(
        con,
        "_mrr_problems",
        frame,
        f"""
        insert into {table} (load_id, file, data_source_uuid, object_type, external_id, position, field, message,
            created_at, customer_external_id)
        select ?, ?, ?, object_type, external_id, position, field, message, ?, customer_external_id
        from _mrr_problems
        """,
        [load_id, file, data_source_uuid, now],
    )


def insert_load(con: duckdb.DuckDBPyConnection, **row: Any) -> None:
    columns = ", ".join(row)
    placeholders = ", ".join("?" for _ in row)
    run(con, f"insert into main.loads ({columns}) values ({placeholders})", list(row.values()))
