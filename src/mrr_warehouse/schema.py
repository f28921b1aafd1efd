"""The landing schema: the only tables the loader writes and the dbt sources read.

`raw.requests` keeps every accepted request body verbatim; `raw.objects` holds one row per accepted object
version (a customer, plan, invoice, line item, transaction, subscription event, cancellation or contact),
with the object's JSON as sent. Typed parsing happens in dbt staging models, not here.
"""

from __future__ import annotations

import hashlib

import duckdb

from mrr_warehouse import object_types

# Object types as stored in raw.objects.object_type (declared in object_types.py).
OBJECT_TYPES = object_types.STORED

DDL = """
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

create table if not exists raw.requests (
    load_id varchar not null,
    request_index integer not null,
    data_source_uuid varchar not null,
    file varchar not null,
    content_hash varchar not null,
    body json not null,
    loaded_at timestamp not null
);

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
    """Create the landing tables when they do not exist yet (idempotent)."""
    con.execute(DDL)


def deterministic_uuid(prefix: str, *parts: str) -> str:
    """`prefix_` + a UUID-formatted md5 of the parts joined by ':'.

    The dbt macro `deterministic_uuid` computes the same value in SQL, so a rebuild from the same files yields
    the same UUIDs (SPEC 1, Identity).
    """
    digest = hashlib.md5(":".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{digest[0:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def data_source_uuid(name: str) -> str:
    return deterministic_uuid("ds", "data_source", name)
