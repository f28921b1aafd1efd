"""`mrr-warehouse customers tag|untag|set-attribute|merge|unmerge`: manual edits of customer records (SPEC 8).

Edits are appended to `raw.manual_edits`, apart from the billing data, so a re-sync of the data source keeps them;
dbt applies the newest edit per (customer, tag) and per (customer, attribute key) over what the source sent.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from decimal import Decimal, InvalidOperation

from mrr_warehouse import landing, lifecycle, sources
from mrr_warehouse.commands import CommandError, command, open_warehouse, require_customer
from mrr_warehouse.display import say

ATTRIBUTE_TYPES = ("String", "Integer", "Decimal", "Timestamp", "Boolean")


class InvalidEdit(Exception):
    pass


def normalise_value(value: str, attribute_type: str) -> str:
    """The value as text that the named type's cast in dbt accepts; InvalidEdit when it is not of that type."""
    try:
        if attribute_type == "Integer":
            return str(int(value))
        if attribute_type == "Decimal":
            return str(Decimal(value))
        if attribute_type == "Timestamp":
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        if attribute_type == "Boolean":
            lowered = value.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(value)
            return lowered
    except (ValueError, InvalidOperation):
        raise InvalidEdit(f"{value!r} is not a {attribute_type}") from None
    return value


def _edit(
    args: argparse.Namespace, rows: list[tuple[str, str | None, str | None, str | None, str | None]]
) -> int:
    with open_warehouse() as con:
        source = sources.resolve(con, args.data_source)
        require_customer(con, source, args.external_id)
        now = landing.utcnow()
        con.execute("begin transaction")
        for edit_type, tag, key, attribute_type, value in rows:
            landing.run(
                con,
                "insert into raw.manual_edits (data_source_uuid, customer_external_id, edit_type, tag,"
                " attribute_key, attribute_type, attribute_value, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [source.uuid, args.external_id, edit_type, tag, key, attribute_type, value, now],
            )
        con.execute("commit")
    say(
        f"{len(rows)} edit(s) recorded for customer {args.external_id}; run `dbt build` to see them in the marts"
    )
    return 0


@command
def run_tag(args: argparse.Namespace) -> int:
    return _edit(args, [("tag_add", tag, None, None, None) for tag in args.tags])


@command
def run_untag(args: argparse.Namespace) -> int:
    return _edit(args, [("tag_remove", tag, None, None, None) for tag in args.tags])


@command
def run_set_attribute(args: argparse.Namespace) -> int:
    try:
        value = normalise_value(args.value, args.type)
    except InvalidEdit as exc:
        raise CommandError(f"attribute {args.key}: {exc}") from None
    return _edit(args, [("attribute_set", None, args.key, args.type, value)])


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    customers = subparsers.add_parser("customers", help="manual edits of customer records")
    commands = customers.add_subparsers(dest="customers_command", metavar="COMMAND", required=True)
    for name, func, help_text in (
        ("tag", run_tag, "add tags to a customer"),
        ("untag", run_untag, "remove tags from a customer (also tags its source sent)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("external_id", metavar="EXTERNAL_ID")
        command.add_argument("tags", nargs="+", metavar="TAG")
        command.add_argument("--data-source", required=True, metavar="NAME_OR_UUID")
        command.set_defaults(func=func)
    attribute = commands.add_parser(
        "set-attribute", help="set a typed custom attribute (overrides the source's)"
    )
    attribute.add_argument("external_id", metavar="EXTERNAL_ID")
    attribute.add_argument("key", metavar="KEY")
    attribute.add_argument("value", metavar="VALUE")
    attribute.add_argument("--type", choices=ATTRIBUTE_TYPES, default="String")
    attribute.add_argument("--data-source", required=True, metavar="NAME_OR_UUID")
    attribute.set_defaults(func=run_set_attribute)
    add_merge_parsers(commands)
    lifecycle.add_customer_delete_command(commands)


@command
def run_merge(args: argparse.Namespace) -> int:
    unmerge = args.unmerge
    with open_warehouse() as con:
        source = sources.resolve(con, args.data_source)
        merged = args.external_id if unmerge else args.from_external_id
        require_customer(con, source, merged)
        into_source = None
        if not unmerge:
            into_source = sources.resolve(con, args.into_data_source or args.data_source)
            require_customer(con, into_source, args.into_external_id)
            if (into_source.uuid, args.into_external_id) == (source.uuid, merged):
                raise CommandError("a customer cannot be merged into itself")
        landing.run(
            con,
            "insert into raw.customer_merges (data_source_uuid, customer_external_id, into_data_source_uuid,"
            " into_customer_external_id, is_unmerge, created_at) values (?, ?, ?, ?, ?, ?)",
            [
                source.uuid,
                merged,
                None if unmerge else into_source.uuid,
                None if unmerge else args.into_external_id,
                unmerge,
                landing.utcnow(),
            ],
        )
    done = f"unmerged {merged}" if unmerge else f"merged {merged} into {args.into_external_id}"
    say(f"{done}; run `dbt build` to reclassify")
    return 0


def add_merge_parsers(commands: argparse._SubParsersAction) -> None:
    merge = commands.add_parser(
        "merge", help="merge a customer into another (its subscriptions, transactions and tags move over)"
    )
    merge.add_argument("--from", dest="from_external_id", required=True, metavar="EXTERNAL_ID")
    merge.add_argument("--into", dest="into_external_id", required=True, metavar="EXTERNAL_ID")
    merge.add_argument(
        "--data-source", required=True, metavar="NAME_OR_UUID", help="the merged customer's source"
    )
    merge.add_argument("--into-data-source", metavar="NAME_OR_UUID", help="the surviving customer's source")
    merge.set_defaults(func=run_merge, unmerge=False)
    unmerge = commands.add_parser("unmerge", help="undo the merge of a customer")
    unmerge.add_argument("external_id", metavar="EXTERNAL_ID")
    unmerge.add_argument("--data-source", required=True, metavar="NAME_OR_UUID")
    unmerge.set_defaults(func=run_merge, unmerge=True)
