"""Deleting a data source irrevocably (SPEC 8): its rows go from every table in one transaction, then the file is
rewritten so that not even DuckDB's free blocks keep a byte of it.

DuckDB marks deleted rows' blocks free but leaves their bytes in the file until they are overwritten, so a
deletion that must hold against a byte scan (GDPR requests) ends with a compaction: the whole database is copied
into a new file (`COPY FROM DATABASE`), which is fsynced and atomically renamed over the old one. A crash before the
rename leaves the old file, intact and readable; the half-written copy is removed on the next compaction.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse import landing, reading, sources
from mrr_warehouse.commands import (
    CommandError,
    command,
    open_warehouse,
    require_customer,
    require_data_source,
)
from mrr_warehouse.csv_load import load_file
from mrr_warehouse.display import note, say
from mrr_warehouse.sources import DataSource
from mrr_warehouse.validation import MAX_AUTO_CHURN_DAYS

COMPACT_SUFFIX = ".compacting"


@dataclass(frozen=True)
class Compaction:
    bytes_before: int
    bytes_after: int
    seconds: float


def source_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """Every base table that holds rows of a data source: (schema, table, the column naming the source).

    The loader's tables and every dbt-built table that carries data_source_uuid; aggregates without that column
    (metrics_monthly and the like) hold no source text and are rebuilt by the next `dbt build`.
    """
    rows = landing.run(
        con,
        """
        select table_schema, table_name, column_name
        from information_schema.columns
        where
            table_catalog = current_database()
            and column_name = 'data_source_uuid'
            and (table_schema, table_name) in (
                select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'
            )
        order by table_schema, table_name
        """,
    )
    return [("raw", "data_sources", "uuid"), *((row[0], row[1], row[2]) for row in rows)]


def delete_data_source(con: duckdb.DuckDBPyConnection, source: DataSource) -> dict[str, int]:
    """Delete everything of the source from every table, in one transaction; the rows deleted per table."""
    deleted: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        for schema, table, column in source_tables(con):
            relation = f'"{schema}"."{table}"'
            (count,) = landing.one(
                con, f'select count(*) from {relation} where "{column}" = ?', [source.uuid]
            )
            if count:
                landing.run(con, f'delete from {relation} where "{column}" = ?', [source.uuid])
                # raw.requests is a view over raw.requests_small and a table per load (D48)
                name = (
                    "raw.requests"
                    if schema == "raw" and table.startswith("requests_")
                    else f"{schema}.{table}"
                )
                deleted[name] = deleted.get(name, 0) + count
        landing.drop_empty_request_tables(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return deleted


def compact(path: str, *, before_rename: Callable[[], None] | None = None) -> Compaction:
    """Rewrite the database file so that deleted rows leave no bytes behind; atomic (see the module doc).

    `before_rename` runs after the copy is complete and before it replaces the old file (tests inject a crash).
    """
    started = time.perf_counter()
    database = Path(path)
    copy = database.with_name(database.name + COMPACT_SUFFIX)
    for leftover in (copy, Path(f"{copy}.wal")):
        leftover.unlink(missing_ok=True)
    original = database.stat()
    bytes_before = original.st_size

    # The old file's WAL is folded into it first: a WAL left beside the new file would be replayed onto it.
    with duckdb.connect(str(database), config=landing.CONNECT_CONFIG) as con:
        con.execute("checkpoint")
    with duckdb.connect(str(copy), config=landing.CONNECT_CONFIG) as con:
        con.execute("attach ? as source_database (read_only)", [str(database)])
        (catalog,) = landing.one(con, "select current_database()")
        con.execute(f'copy from database source_database to "{catalog}"')
        con.execute("detach source_database")
        con.execute("checkpoint")
    _keep_mode_and_owner(copy, original)
    with open(copy, "rb+") as handle:
        os.fsync(handle.fileno())
    if before_rename is not None:
        before_rename()
    os.replace(copy, database)
    _fsync_directory(database.parent)
    Path(f"{database}.wal").unlink(missing_ok=True)
    return Compaction(bytes_before, database.stat().st_size, time.perf_counter() - started)


def _keep_mode_and_owner(path: Path, original: os.stat_result) -> None:
    """The rewritten file replaces the user's: it keeps its permissions (0600 stays 0600) and owner."""
    os.chmod(path, original.st_mode & 0o7777)
    if (original.st_uid, original.st_gid) != (os.getuid(), os.getgid()):
        os.chown(path, original.st_uid, original.st_gid)  # root compacting another user's file


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@command
def run_delete(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CommandError(
            f"deleting data source {args.data_source} removes all of its data irrevocably; add --yes to confirm"
        )
    database = landing.database_path()
    if not Path(database).exists():
        raise CommandError(f"{database} does not exist")
    with open_warehouse() as con:
        source = require_data_source(con, args.data_source)
        deleted = delete_data_source(con, source)
    say(
        f"deleted data source {source.name} ({source.uuid}): {sum(deleted.values()):,} rows from {len(deleted)} tables"
    )
    _compact_after_deletion(database)
    return 0


def _compact_after_deletion(database: str) -> None:
    say("compacting the database file so that no deleted bytes remain ...")
    result = compact(database)
    say(
        f"compacted {database}: {result.bytes_before:,} -> {result.bytes_after:,} bytes in {result.seconds:.1f} s;"
        " run `dbt build` to refresh the monthly aggregates"
    )


def add_source_commands(sources_commands: argparse._SubParsersAction) -> None:
    delete = sources_commands.add_parser(
        "delete",
        help="delete a data source and everything that came from it, irrevocably",
        description=(
            "Delete the data source's objects, landed requests, load history and rows in every model table, then"
            " rewrite the database file so that no byte of them remains."
        ),
    )
    delete.add_argument("data_source", metavar="NAME_OR_UUID")
    delete.add_argument("--yes", action="store_true", help="confirm the irrevocable deletion")
    delete.set_defaults(func=run_delete)
    add_configure_command(sources_commands)
    add_resync_command(sources_commands)
    add_delete_manual_customers_command(sources_commands)


@command
def run_configure(args: argparse.Namespace) -> int:
    if args.auto_churn_days is None and args.include_deleted_customers is None:
        raise CommandError(
            "nothing to configure: give --auto-churn-days and/or --[no-]include-deleted-customers"
        )
    with open_warehouse() as con:
        source = sources.resolve(con, args.data_source)
        current = landing.one(
            con,
            "select auto_churn_enabled, auto_churn_interval_days, include_deleted_customers"
            " from raw.data_sources where uuid = ?",
            [source.uuid],
        )
        enabled, days, include = current if current is not None else (None, None, False)
        if args.auto_churn_days is not None:
            enabled, days = (
                (False, None) if args.auto_churn_days == "off" else (True, int(args.auto_churn_days))
            )
        if args.include_deleted_customers is not None:
            include = args.include_deleted_customers
        landing.upsert_data_source(
            con,
            uuid=source.uuid,
            name=source.name,
            auto_churn_enabled=enabled,
            auto_churn_interval_days=days,
            include_deleted_customers=include,
            now=landing.utcnow(),
        )
    churn = (
        "off" if enabled is False else (f"{days} days after the last service period" if enabled else "var")
    )
    say(
        f"data source {source.name} ({source.uuid}): auto-churn {churn}; include deleted customers: {include}"
    )
    return 0


def _auto_churn_days(value: str) -> str:
    if value == "off" or (value.isdigit() and 0 < int(value) <= MAX_AUTO_CHURN_DAYS):
        return value
    raise argparse.ArgumentTypeError(f"a whole number of days from 1 to {MAX_AUTO_CHURN_DAYS:,}, or off")


def add_configure_command(sources_commands: argparse._SubParsersAction) -> None:
    configure = sources_commands.add_parser(
        "configure",
        help="per-source settings: auto-churn of past-due subscriptions, deleted customers",
        description=(
            "Set a data source's auto_churn_subscription_setting (cancel a past-due subscription N days after its"
            " last service period; off keeps good faith even when var past_due_auto_churn_days is set) and whether"
            " deleted customers are imported. The source is created when it does not exist."
        ),
    )
    configure.add_argument("data_source", metavar="NAME_OR_UUID")
    configure.add_argument("--auto-churn-days", type=_auto_churn_days, metavar="N|off")
    configure.add_argument("--include-deleted-customers", action=argparse.BooleanOptionalAction, default=None)
    configure.set_defaults(func=run_configure)


def billing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """raw.objects and the tables of raw.requests (a view over raw.requests_small and a table per load)."""
    return ["raw.objects", *landing.request_tables(con)]


LOG_TABLES = ("main.loads", "main.load_errors", "main.load_warnings")


def resync(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    paths: list[Path],
    *,
    strict: bool,
    say: Callable[[str], None],
    note: Callable[[str], None],
) -> int:
    """Replace the source's billing data with a fresh import (SPEC 8); the worst file exit code.

    The files land under a staging data source first, each in its own transaction, with the loader's usual
    checks. Only when none of them failed outright does one transaction swap them in: the source's landed
    objects and requests are deleted and the staged ones take the source's uuid. Manual edits and merges are
    kept apart from billing data and survive. A crash before the swap leaves the previous data in place; the
    staged rows are cleared by the next re-sync.
    """
    staging = DataSource(f"{source.uuid}~resync", f"{source.name} (re-sync in progress)")
    delete_data_source(con, staging)
    worst = 0
    for path in paths:
        result = load_file(con, path, staging, strict=strict, say=say, note=note)
        say(result.summary())
        worst = max(worst, result.exit_code)
    if worst >= 2:
        delete_data_source(con, staging)
        note(
            f"error: re-sync of {source.name} aborted: a file could not be read; the previous data is unchanged"
        )
        return worst
    con.execute("begin transaction")
    try:
        for table in billing_tables(con):
            landing.run(con, f"delete from {table} where data_source_uuid = ?", [source.uuid])
        landing.drop_empty_request_tables(con)
        for table in (*billing_tables(con), *LOG_TABLES):
            landing.run(
                con,
                f"update {table} set data_source_uuid = ? where data_source_uuid = ?",
                [source.uuid, staging.uuid],
            )
        landing.run(
            con,
            "update main.loads set data_source_name = ? where data_source_uuid = ?",
            [source.name, source.uuid],
        )
        landing.run(con, "delete from raw.data_sources where uuid = ?", [staging.uuid])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    say(
        f"re-synced {source.name}: its billing data is now the {len(paths)} file(s) just loaded; run `dbt build`"
    )
    return worst


@command
def run_resync(args: argparse.Namespace) -> int:
    files = reading.expand_paths(args.paths)
    if not files:
        raise CommandError("no .json, .ndjson or .csv files to re-sync from")
    with open_warehouse() as con:
        source = require_data_source(con, args.data_source)
        return resync(
            con,
            source,
            files,
            strict=args.strict,
            say=say,
            note=note,
        )


def add_resync_command(sources_commands: argparse._SubParsersAction) -> None:
    command = sources_commands.add_parser(
        "resync",
        help="replace a data source's billing data with a fresh import (manual edits and merges stay)",
    )
    command.add_argument("data_source", metavar="NAME_OR_UUID")
    command.add_argument("paths", nargs="+", metavar="PATH", help=".json / .ndjson file or folder")
    command.add_argument(
        "--strict", action="store_true", help="land nothing from a file with any rejected object"
    )
    command.set_defaults(func=run_resync)


def _redact(
    value: Any, customer: str, invoices: set[str], subscriptions: set[str], key: str | None = None
) -> Any:
    """The request body without anything of the customer: its customer object, its invoices with their line items
    and transactions, its events, contacts and cancellations. None when nothing else is left."""
    if isinstance(value, dict):
        if (
            value.get("customer_external_id") == customer
            or value.get("invoice_external_id") in invoices
            or (key == "invoices" and value.get("external_id") in invoices)
            or (key in ("customers", None) and value.get("external_id") == customer)
            or (value.get("subscription_external_id") in subscriptions and "cancelled_at" in value)
            or (value.get("subscription_external_id") in subscriptions and "cancellation_dates" in value)
        ):
            return None
        kept = {}
        for name, item in value.items():
            redacted = _redact(item, customer, invoices, subscriptions, name)
            if redacted is not None or item is None:
                kept[name] = redacted
        return kept
    if isinstance(value, list):
        items = [_redact(item, customer, invoices, subscriptions, key) for item in value]
        return [item for item in items if item is not None]
    return value


# Everything landed for one customer: its record, its invoices with their lines and transactions, its events,
# contacts, and the cancellations of its subscriptions.
_CUSTOMER_OBJECTS = """
    data_source_uuid = $source and (
        (object_type = 'customer' and external_id = $customer)
        or (object_type = 'invoice' and list_contains($invoices, external_id))
        or (object_type in ('line_item', 'transaction') and list_contains($invoices, invoice_external_id))
        or (object_type in ('subscription_event', 'contact')
            and json_extract_string(body, '$.customer_external_id') = $customer)
        or (object_type = 'cancellation'
            and list_contains($subscriptions, json_extract_string(body, '$.subscription_external_id')))
    )
"""


def delete_customer(con: duckdb.DuckDBPyConnection, source: DataSource, customer: str) -> dict[str, int]:
    """Delete one customer of a source and everything of it: from the landed objects, from the verbatim requests
    (rewritten without it), from manual edits, merges and load logs, and from every model table."""
    invoices = sorted(
        row[0]
        for row in landing.run(
            con,
            "select external_id from raw.objects where data_source_uuid = ? and object_type = 'invoice'"
            " and json_extract_string(body, '$.customer_external_id') = ?",
            [source.uuid, customer],
        )
    )
    subscriptions = sorted(
        row[0]
        for row in landing.run(
            con,
            "select distinct json_extract_string(body, '$.subscription_external_id') from raw.objects"
            " where data_source_uuid = ? and object_type = 'line_item' and list_contains(?, invoice_external_id)",
            [source.uuid, invoices],
        )
        if row[0]
    )
    parameters = {
        "source": source.uuid,
        "customer": customer,
        "invoices": invoices,
        "subscriptions": subscriptions,
    }
    deleted: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        # named parameters: landing.run takes positional ones
        (deleted["raw.objects"],) = con.execute(
            f"select count(*) from raw.objects where {_CUSTOMER_OBJECTS}", parameters
        ).fetchone()
        con.execute(f"delete from raw.objects where {_CUSTOMER_OBJECTS}", parameters).fetchall()
        deleted["raw.requests"] = _redact_requests(con, source, customer, set(invoices), set(subscriptions))
        for table in ("raw.manual_edits", "raw.customer_merges"):
            landing.run(
                con,
                f"delete from {table} where data_source_uuid = ? and customer_external_id = ?",
                [source.uuid, customer],
            )
        _erase_problems(con, source, customer, invoices)
        # model tables: whatever names the customer, one of its invoices or one of its subscriptions
        keys = {
            "customer_external_id": "$customer = {column}",
            "invoice_external_id": "list_contains($invoices, {column})",
            "subscription_external_id": "list_contains($subscriptions, {column})",
        }
        for schema, table, column in source_tables(con):
            if schema == "raw":
                continue
            present = [
                row[0]
                for row in landing.run(
                    con,
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [schema, table],
                )
                if row[0] in keys
            ]
            if present:
                matches = " or ".join(keys[name].format(column=f'"{name}"') for name in present)
                used = {
                    name: value for name, value in parameters.items() if f"${name}" in matches + "$source"
                }
                con.execute(
                    f'delete from "{schema}"."{table}" where "{column}" = $source and ({matches})', used
                ).fetchall()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return deleted


def _erase_problems(
    con: duckdb.DuckDBPyConnection, source: DataSource, customer: str, invoices: Sequence[str]
) -> None:
    """Delete the load errors and warnings of the customer's objects, the rejected ones included: those name
    their customer in customer_external_id, the accepted invoices' problems their invoice."""
    for table in ("main.load_errors", "main.load_warnings"):
        landing.run(
            con,
            f"delete from {table} where data_source_uuid = ?"
            " and (customer_external_id = ? or list_contains(?, external_id))",
            [source.uuid, customer, [customer, *invoices]],
        )


def _redact_requests(
    con: duckdb.DuckDBPyConnection,
    source: DataSource,
    customer: str,
    invoices: set[str],
    subscriptions: set[str],
) -> int:
    """Rewrite the verbatim requests that mention the customer without its objects; drop those left empty."""
    rewritten = 0
    for load_id, request_index, body in landing.run(
        con,
        "select load_id, request_index, body from raw.requests where data_source_uuid = ? and contains(body, ?)",
        [source.uuid, customer],
    ):
        redacted = _redact(json.loads(body), customer, invoices, subscriptions)
        if not redacted or not any(isinstance(item, list | dict) and item for item in redacted.values()):
            landing.delete_request(con, load_id, request_index)
        else:
            text = json.dumps(redacted, separators=(",", ":"))
            landing.update_request(
                con, load_id, request_index, text, hashlib.sha256(text.encode()).hexdigest()
            )
        rewritten += 1
    return rewritten


@command
def run_delete_customer(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CommandError(f"deleting customer {args.external_id} is irrevocable; add --yes to confirm")
    with open_warehouse() as con:
        source = sources.resolve(con, args.data_source)
        require_customer(con, source, args.external_id)
        deleted = delete_customer(con, source, args.external_id)
    say(
        f"deleted customer {args.external_id}: {deleted['raw.objects']:,} landed objects,"
        f" {deleted['raw.requests']:,} requests rewritten"
    )
    _compact_after_deletion(landing.database_path())
    return 0


def add_customer_delete_command(commands: argparse._SubParsersAction) -> None:
    delete = commands.add_parser("delete", help="delete a customer and everything of it, irrevocably")
    delete.add_argument("external_id", metavar="EXTERNAL_ID")
    delete.add_argument("--data-source", required=True, metavar="NAME_OR_UUID")
    delete.add_argument("--yes", action="store_true", help="confirm the irrevocable deletion")
    delete.set_defaults(func=run_delete_customer)


# Personal data removed from a deleted customer (SPEC 8), from its record and its contacts.
PERSONAL_FIELDS = (
    "name",
    "email",
    "company",
    "country",
    "state",
    "city",
    "zip",
    "address",
    "phone",
    "first_name",
    "last_name",
    "primary_contact",
    "website_url",
)
DELETED_CUSTOMER_TAG = "deleted_customer_in_stripe"
DELETION_IMPORT_WINDOW_DAYS = 30


def apply_customer_deletions(
    con: duckdb.DuckDBPyConnection, source: DataSource, say: Callable[[str], None]
) -> bool:
    """Customers the billing system deleted (a `deleted_at` on the customer object), SPEC 8.

    With the source's include-deleted-customers setting on, a customer deleted at most 30 days before its import
    stays, anonymised everywhere (landed objects and verbatim requests), its subscriptions cancelled at the
    deletion time, its custom attributes kept and tag deleted_customer_in_stripe added. Otherwise (setting off, or
    an older deletion) the customer is deleted like `customers delete`. True when anything changed (the caller
    compacts the file so the removed bytes are gone).
    """
    setting = landing.one(
        con, "select include_deleted_customers from raw.data_sources where uuid = ?", [source.uuid]
    )
    include = bool(setting and setting[0])
    pending = landing.run(
        con,
        """
        select
            external_id,
            cast(json_extract_string(body, '$.deleted_at') as timestamptz) at time zone 'UTC' as deleted_at,
            loaded_at
        from raw.objects
        where
            data_source_uuid = ? and object_type = 'customer'
            and json_extract_string(body, '$.deleted_at') is not null
            and json_extract_string(body, '$.anonymised') is null
        """,
        [source.uuid],
    )
    for customer, deleted_at, loaded_at in pending:
        recent = (loaded_at - deleted_at).days <= DELETION_IMPORT_WINDOW_DAYS
        if include and recent:
            _anonymise_customer(con, source, customer, deleted_at)
            say(
                f"customer {customer}: deleted in the billing system on {deleted_at:%Y-%m-%d}; kept anonymised"
            )
        else:
            delete_customer(con, source, customer)
            reason = (
                "include-deleted-customers is off"
                if not include
                else "deleted more than 30 days before import"
            )
            say(f"customer {customer}: deleted in the billing system; removed ({reason})")
    return bool(pending)


def _anonymise_customer(
    con: duckdb.DuckDBPyConnection, source: DataSource, customer: str, deleted_at: Any
) -> None:
    subscriptions = [
        row[0]
        for row in landing.run(
            con,
            """
            select distinct json_extract_string(line.body, '$.subscription_external_id')
            from raw.objects as line
            inner join raw.objects as invoice
                on
                    line.data_source_uuid = invoice.data_source_uuid
                    and line.invoice_external_id = invoice.external_id
                    and invoice.object_type = 'invoice'
            where
                line.data_source_uuid = ? and line.object_type = 'line_item'
                and json_extract_string(invoice.body, '$.customer_external_id') = ?
                and json_extract_string(line.body, '$.subscription_external_id') is not null
            """,
            [source.uuid, customer],
        )
    ]
    now = landing.utcnow()
    con.execute("begin transaction")
    try:
        owner_of = {
            "customer": "external_id",
            "contact": "json_extract_string(body, '$.customer_external_id')",
        }
        for object_type, owner in owner_of.items():
            for object_seq, body in landing.run(
                con,
                "select object_seq, body from raw.objects where data_source_uuid = ? and object_type = ?"
                f" and {owner} = ?",
                [source.uuid, object_type, customer],
            ):
                cleaned = {
                    name: value for name, value in json.loads(body).items() if name not in PERSONAL_FIELDS
                }
                if object_type == "customer":
                    cleaned["anonymised"] = True
                text = json.dumps(cleaned, separators=(",", ":"))
                landing.run(
                    con,
                    "update raw.objects set body = ?, content_hash = ? where object_seq = ?",
                    [text, hashlib.sha256(text.encode()).hexdigest(), object_seq],
                )
        for load_id, request_index, body in landing.run(
            con,
            "select load_id, request_index, body from raw.requests where data_source_uuid = ? and contains(body, ?)",
            [source.uuid, customer],
        ):
            text = json.dumps(_strip_personal(json.loads(body), customer), separators=(",", ":"))
            landing.update_request(
                con, load_id, request_index, text, hashlib.sha256(text.encode()).hexdigest()
            )
        for subscription in subscriptions:
            request = {"subscription_external_id": subscription, "cancelled_at": deleted_at.isoformat()}
            text = json.dumps(request, separators=(",", ":"))
            digest = hashlib.sha256(text.encode()).hexdigest()
            landing.run(
                con,
                "insert into raw.objects (load_id, data_source_uuid, object_type, external_id, content_hash, body,"
                " file, request_index, loaded_at) values ('customer-deletion', ?, 'cancellation', ?, ?, ?,"
                " 'customer deleted in the billing system', 0, ?)",
                [source.uuid, digest, digest, text, now],
            )
        landing.run(
            con,
            "insert into raw.manual_edits (data_source_uuid, customer_external_id, edit_type, tag, created_at)"
            " values (?, ?, 'tag_add', ?, ?)",
            [source.uuid, customer, DELETED_CUSTOMER_TAG, now],
        )
        # a rejected object's message may quote its personal fields (an e-mail that was not a string, say)
        _erase_problems(con, source, customer, [])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _strip_personal(value: Any, customer: str) -> Any:
    """The request with the personal fields of the customer's record and contacts removed."""
    if isinstance(value, dict):
        belongs = value.get("external_id") == customer and "customer_external_id" not in value
        if belongs or (value.get("customer_external_id") == customer and "invoices" not in value):
            if "line_items" not in value and "subscription_external_id" not in value:
                value = {name: item for name, item in value.items() if name not in PERSONAL_FIELDS}
        return {name: _strip_personal(item, customer) for name, item in value.items()}
    if isinstance(value, list):
        return [_strip_personal(item, customer) for item in value]
    return value


def manual_customers(con: duckdb.DuckDBPyConnection, source: DataSource) -> list[str]:
    """Customers created one by one (the customer-create request, POST /v1/customers) rather than by an import:
    the request that landed them is a single customer object."""
    return [
        row[0]
        for row in landing.run(
            con,
            """
            select distinct customer.external_id
            from raw.objects as customer
            inner join raw.requests as request
                on customer.load_id = request.load_id and customer.request_index = request.request_index
            where
                customer.data_source_uuid = ? and customer.object_type = 'customer'
                and json_extract_string(request.body, '$.external_id') = customer.external_id
                and json_extract(request.body, '$.customers') is null
            order by 1
            """,
            [source.uuid],
        )
    ]


@command
def run_delete_manual_customers(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CommandError(
            "deleting the manual customers of a data source is irrevocable; add --yes to confirm"
        )
    with open_warehouse() as con:
        source = require_data_source(con, args.data_source)
        customers = manual_customers(con, source)
        for customer in customers:
            delete_customer(con, source, customer)
    say(f"deleted {len(customers):,} manual customer(s) of {source.name}")
    if customers:
        _compact_after_deletion(landing.database_path())
    return 0


def add_delete_manual_customers_command(sources_commands: argparse._SubParsersAction) -> None:
    command_parser = sources_commands.add_parser(
        "delete-manual-customers",
        help="delete the customers created one by one (not imported), with everything of them, irrevocably",
    )
    command_parser.add_argument("data_source", metavar="NAME_OR_UUID")
    command_parser.add_argument("--yes", action="store_true", help="confirm the irrevocable deletion")
    command_parser.set_defaults(func=run_delete_manual_customers)
