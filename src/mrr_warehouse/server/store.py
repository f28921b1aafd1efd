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


def customer_subscriptions(
    con: duckdb.DuckDBPyConnection, data_source_uuid: str, customer_external_id: str
) -> list[tuple[str, str | None, list[str]]]:
    """(subscription external id, plan external id of its newest line, cancellation dates) of the customer's
    subscriptions: those of its invoices' line items and of its subscription events, in first-seen order."""
    rows = landing.run(
        con,
        """
        with invoices as (
            select distinct external_id from raw.objects
            where data_source_uuid = $1 and object_type = 'invoice'
                and json_extract_string(body, '$.customer_external_id') = $2
        ),
        named as (
            select json_extract_string(body, '$.subscription_external_id') as subscription,
                json_extract_string(body, '$.plan_external_id') as plan, object_seq
            from raw.objects
            where data_source_uuid = $1 and (
                (object_type = 'line_item' and invoice_external_id in (select external_id from invoices))
                or (object_type = 'subscription_event'
                    and json_extract_string(body, '$.customer_external_id') = $2)
            )
        ),
        cancellations as (
            select json_extract_string(body, '$.subscription_external_id') as subscription,
                list(coalesce(json_extract_string(body, '$.cancelled_at'), '') order by object_seq) as dates
            from raw.objects
            where data_source_uuid = $1 and object_type = 'cancellation'
            group by 1
        )
        select named.subscription, arg_max(named.plan, named.object_seq) filter (where named.plan is not null),
            any_value(cancellations.dates), min(named.object_seq) as first_seen
        from named left join cancellations using (subscription)
        where named.subscription is not null
        group by named.subscription
        order by first_seen
        """,
        [data_source_uuid, customer_external_id],
    )
    return [(row[0], row[1], [date for date in (row[2] or []) if date]) for row in rows]
