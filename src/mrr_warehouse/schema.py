"""The landing schema: the only tables the loader writes and the dbt sources read.

`raw.requests` keeps every accepted request body verbatim; `raw.objects` holds one row per accepted object
version (a customer, plan, invoice, line item, transaction, subscription event, cancellation or contact),
with the object's JSON as sent. Typed parsing happens in dbt staging models, not here.

`raw.requests` is a view (docs/decisions.md D48): the union of `raw.requests_small`, which holds the requests
below landing.LARGE_REQUEST_CHARS, and one table per load that landed a larger one (`raw.requests_large_<load>`,
that load's large requests). DuckDB rewrites a table's last, partly filled row group at every checkpoint; a
request table that only its own load appends to is never touched again by later loads' checkpoints.
"""

from __future__ import annotations

import hashlib
import os
import re

import duckdb

from mrr_warehouse import object_types

# Object types as stored in raw.objects.object_type (declared in object_types.py).
OBJECT_TYPES = object_types.STORED

# The columns of raw.requests, and of each table the view unites.
REQUEST_COLUMNS = "load_id, request_index, data_source_uuid, file, content_hash, body, loaded_at"
REQUEST_TABLE_COLUMNS = """(
    load_id varchar not null,
    request_index integer not null,
    data_source_uuid varchar not null,
    file varchar not null,
    content_hash varchar not null,
    body json not null,
    loaded_at timestamp not null
)"""
DDL = f"""
create schema if not exists raw;

create sequence if not exists raw.object_seq;

create table if not exists raw.data_sources (
    uuid varchar primary key,
    name varchar not null unique,
    auto_churn_enabled boolean,
    auto_churn_interval_days integer,
    include_deleted_customers boolean not null default false,
    created_at timestamp not null,
    updated_at timestamp not null
);

create table if not exists raw.requests_small {REQUEST_TABLE_COLUMNS};

create table if not exists raw.objects (
    object_seq bigint not null default nextval('raw.object_seq'),
    load_id varchar not null,
    data_source_uuid varchar not null,
    object_type varchar not null,
    external_id varchar not null,
    invoice_external_id varchar,
    content_hash varchar not null,
    body json not null,
    file varchar not null,
    request_index integer not null,
    position integer,
    loaded_at timestamp not null
);

-- Manual edits made in the warehouse (tags, custom attributes), kept apart from billing data so that a re-sync
-- does not lose them. Append-only: the newest edit of a (customer, tag) or (customer, key) wins.
create sequence if not exists raw.manual_edit_seq;

create table if not exists raw.manual_edits (
    edit_seq bigint not null default nextval('raw.manual_edit_seq'),
    data_source_uuid varchar not null,
    customer_external_id varchar not null,
    edit_type varchar not null,
    tag varchar,
    attribute_key varchar,
    attribute_type varchar,
    attribute_value varchar,
    created_at timestamp not null
);

-- Customer merges made in the warehouse (SPEC 8), across data sources too. Append-only: the newest row for a merged
-- customer says whether it is merged (and into which customer) or unmerged.
create sequence if not exists raw.customer_merge_seq;

create table if not exists raw.customer_merges (
    merge_seq bigint not null default nextval('raw.customer_merge_seq'),
    data_source_uuid varchar not null,
    customer_external_id varchar not null,
    into_data_source_uuid varchar,
    into_customer_external_id varchar,
    is_unmerge boolean not null,
    created_at timestamp not null
);

create table if not exists main.loads (
    load_id varchar primary key,
    file varchar not null,
    data_source_uuid varchar,
    data_source_name varchar,
    content_hash varchar,
    status varchar not null,
    strict boolean not null,
    objects_accepted bigint not null default 0,
    objects_rejected bigint not null default 0,
    objects_unchanged bigint not null default 0,
    warnings bigint not null default 0,
    started_at timestamp not null,
    finished_at timestamp
);

create table if not exists main.load_errors (
    load_id varchar not null,
    file varchar not null,
    data_source_uuid varchar,
    object_type varchar,
    external_id varchar,
    position integer,
    field varchar,
    message varchar not null,
    created_at timestamp not null,
    -- the customer the object belongs to, so that erasing the customer erases its rejected objects' messages
    customer_external_id varchar
);
-- warehouses created before the column existed
alter table main.load_errors add column if not exists customer_external_id varchar;

create table if not exists main.load_warnings (
    load_id varchar not null,
    file varchar not null,
    data_source_uuid varchar,
    object_type varchar,
    external_id varchar,
    position integer,
    field varchar,
    message varchar not null,
    created_at timestamp not null,
    -- the customer the object belongs to, so that erasing the customer erases its rejected objects' messages
    customer_external_id varchar
);
-- warehouses created before the column existed
alter table main.load_warnings add column if not exists customer_external_id varchar;
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the landing tables when they do not exist yet (idempotent); split a raw.requests table of a
    warehouse created before D48 into the request tables."""
    con.execute(DDL).fetchall()
    (kind,) = con.execute(
        "select coalesce(max(table_type), '') from information_schema.tables"
        " where table_catalog = current_database() and table_schema = 'raw' and table_name = 'requests'"
    ).fetchone()
    if kind == "VIEW":
        return
    con.execute("begin transaction")
    try:
        if kind == "BASE TABLE":
            _split_requests_table(con)
        refresh_requests_view(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


# A request body of at least this many characters is kept in a table of its own load
# (raw.requests_large_<load>), not in raw.requests_small: a checkpoint rewrites the last, partly filled row
# group of a table, and in one shared table that group held every large body landed so far (docs/decisions.md
# D48). MRR_WAREHOUSE_LARGE_REQUEST_CHARS changes it (0: every body in its load's table; the tests use it).
LARGE_REQUEST_CHARS = int(os.environ.get("MRR_WAREHOUSE_LARGE_REQUEST_CHARS") or 1024 * 1024)
SMALL_REQUESTS = "raw.requests_small"
LARGE_REQUESTS_PREFIX = "requests_large_"
_SAFE_LOAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def large_requests_table(load_id: str) -> str:
    """The qualified name of the table holding the large requests of a load."""
    suffix = load_id if _SAFE_LOAD_ID.match(load_id) else hashlib.sha256(load_id.encode()).hexdigest()[:32]
    return f'raw."{LARGE_REQUESTS_PREFIX}{suffix}"'


def create_large_requests_table(con: duckdb.DuckDBPyConnection, load_id: str) -> str:
    """Create the load's table of large requests (the caller refreshes the view); its qualified name."""
    table = large_requests_table(load_id)
    con.execute(f"create table if not exists {table} {REQUEST_TABLE_COLUMNS}").fetchall()
    return table


def request_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The qualified names of the tables raw.requests unites: raw.requests_small first."""
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database()"
        " and schema_name = 'raw' and starts_with(table_name, ?) order by table_name",
        [LARGE_REQUESTS_PREFIX],
    ).fetchall()
    return [SMALL_REQUESTS, *(f'raw."{name}"' for (name,) in rows)]


def refresh_requests_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)define raw.requests as the union of the request tables (after one was created or dropped)."""
    union = " union all ".join(f"select {REQUEST_COLUMNS} from {table}" for table in request_tables(con))
    con.execute(f"create or replace view raw.requests as {union}").fetchall()


def _split_requests_table(con: duckdb.DuckDBPyConnection) -> None:
    """A raw.requests table (before D48) becomes raw.requests_small and a table per load of large requests."""
    large = f"length(body::varchar) >= {int(LARGE_REQUEST_CHARS)}"
    con.execute(
        f"insert into {SMALL_REQUESTS} select {REQUEST_COLUMNS} from raw.requests where not ({large})"
        " order by loaded_at, load_id, request_index"
    ).fetchall()
    for (load_id,) in con.execute(f"select distinct load_id from raw.requests where {large}").fetchall():
        table = create_large_requests_table(con, load_id)
        con.execute(
            f"insert into {table} select {REQUEST_COLUMNS} from raw.requests"
            f" where load_id = ? and {large} order by request_index",
            [load_id],
        ).fetchall()
    con.execute("drop table raw.requests").fetchall()


def deterministic_uuid(prefix: str, *parts: str) -> str:
    """`prefix_` + a UUID-formatted md5 of the parts joined by ':'.

    The dbt macro `deterministic_uuid` computes the same value in SQL, so a rebuild from the same files yields
    the same UUIDs (SPEC 1, Identity).
    """
    digest = hashlib.md5(":".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{digest[0:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def data_source_uuid(name: str) -> str:
    return deterministic_uuid("ds", "data_source", name)
