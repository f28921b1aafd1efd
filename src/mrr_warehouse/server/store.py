"""What the server reads back from the landing tables (run on the writer's thread, see writer.ReadJob).

Objects are read as landed (raw.objects, newest version of each identity), not from the marts: the marts are
only as fresh as the last `dbt build`, while an integration reads back what it has just sent.
"""

from __future__ import annotations

from typing import Any

import duckdb
import orjson

from mrr_warehouse import landing

# An object's deterministic uuid is `prefix_` + md5 of "data source:object type:external id" (schema.py).
_DIGEST_SQL = "md5(data_source_uuid || ':' || object_type || ':' || external_id)"


def digest_of(uuid: str) -> str | None:
    """The md5 hex digest inside a deterministic uuid, or None when the value is not one."""
    _, _, rest = uuid.partition("_")
    digest = rest.replace("-", "").lower()
    if len(digest) != 32 or any(char not in "0123456789abcdef" for char in digest):
        return None
    return digest


def data_sources(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return landing.run(
        con,
        "select uuid, name, created_at, auto_churn_enabled, auto_churn_interval_days from raw.data_sources"
        " order by created_at, name",
    )


def find(con: duckdb.DuckDBPyConnection, object_type: str, uuid: str) -> tuple[str, str] | None:
    """(data source uuid, external id) of the customer/plan/invoice whose warehouse uuid is `uuid`."""
    digest = digest_of(uuid)
    if digest is None:
        return None
    row = landing.one(
        con,
        f"select data_source_uuid, external_id from raw.objects where object_type = ? and {_DIGEST_SQL} = ?"
        " limit 1",
        [object_type, digest],
    )
    return (row[0], row[1]) if row else None


def find_subscription(con: duckdb.DuckDBPyConnection, uuid: str) -> tuple[str, str] | None:
    """(data source uuid, subscription external id) of a subscription named by line items or events."""
    digest = digest_of(uuid)
    if digest is None:
        return None
    row = landing.one(
        con,
        """
        select data_source_uuid, subscription from (
            select distinct data_source_uuid, json_extract_string(body, '$.subscription_external_id') as subscription
            from raw.objects
            where object_type in ('line_item', 'subscription_event')
        ) as subscriptions
        where md5(data_source_uuid || ':subscription:' || subscription) = ?
        limit 1
        """,
        [digest],
    )
    return (row[0], row[1]) if row else None


def latest(
    con: duckdb.DuckDBPyConnection,
    object_type: str,
    *,
    data_source_uuid: str | None = None,
    external_id: str | None = None,
    external_ids: list[str] | None = None,
    invoice_external_ids: list[str] | None = None,
    where_json: dict[str, str] | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[tuple[str, str, dict[str, Any]]]:
    """(data source uuid, key, body) of the newest version of each object, in landing order."""
    conditions = ["object_type = ?"]
    params: list[Any] = [object_type]
    if data_source_uuid is not None:
        conditions.append("data_source_uuid = ?")
        params.append(data_source_uuid)
    if external_id is not None:
        conditions.append("external_id = ?")
        params.append(external_id)
    if external_ids is not None:
        conditions.append("list_contains(?, external_id)")
        params.append(external_ids)
    if invoice_external_ids is not None:
        conditions.append("list_contains(?, invoice_external_id)")
        params.append(invoice_external_ids)
    for name, value in (where_json or {}).items():
        conditions.append(f"json_extract_string(body, '$.{name}') = ?")
        params.append(value)
    rows = landing.run(
        con,
        f"""
        select data_source_uuid, external_id, body, first_seq from (
            select data_source_uuid, external_id, body,
                min(object_seq) over (partition by data_source_uuid, external_id) as first_seq,
                row_number() over (partition by data_source_uuid, external_id order by object_seq desc) as newest
            from raw.objects
            where {" and ".join(conditions)}
        ) as versions
        where newest = 1
        order by first_seq
        limit ? offset ?
        """,
        [*params, limit, offset],
    )
    return [(row[0], row[1], orjson.loads(row[2])) for row in rows]


def load_status(con: duckdb.DuckDBPyConnection, load_id: str) -> tuple[Any, ...] | None:
    return landing.one(
        con,
        "select data_source_uuid, status, objects_accepted, objects_rejected, objects_unchanged, started_at,"
        " finished_at from main.loads where load_id = ?",
        [load_id],
    )


def load_errors(con: duckdb.DuckDBPyConnection, load_id: str) -> list[tuple[Any, ...]]:
    return landing.run(
        con,
        "select object_type, external_id, position, field, message from main.load_errors where load_id = ?"
        " order by created_at, position",
        [load_id],
    )
