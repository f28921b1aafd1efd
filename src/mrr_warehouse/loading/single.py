"""Requests of one object that is not a plain version: a cancellation, a data source's settings, a transaction
added to an invoice named by uuid, and customers deleted in the billing system (a new version of each customer
carrying its deleted_at, which lifecycle.apply_customer_deletions then anonymises or removes; SPEC 8)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import orjson

from mrr_warehouse import landing, shapes
from mrr_warehouse.loading.batches import Batches
from mrr_warehouse.loading.context import LoadContext
from mrr_warehouse.loading.items import Item, clip, internal_error, string
from mrr_warehouse.validation import Problem, parse_timestamp, validate


def cancellation_unchanged(history: list[tuple[str, bool]], key: str, replaces_history: bool) -> bool:
    """A cancellation already landed is unchanged unless something landed after it that it would re-apply over:
    a later cancellation_dates request for its subscription (or, for a cancellation_dates request, any later
    cancellation of it)."""
    last = max((index for index, (landed, _) in enumerate(history) if landed == key), default=None)
    if last is None:
        return False
    later = history[last + 1 :]
    return not any(replaces for _, replaces in later) and not (replaces_history and later)


class Single:
    def __init__(self, ctx: LoadContext, batches: Batches) -> None:
        self.ctx = ctx
        self.batches = batches
        self.refs = batches.refs
        self.prepare = batches.prepare
        self.land = batches.land

    def guarded(self, object_type: str, load: Callable[[], None]) -> None:
        """A single-object request: an exception while handling it rejects that object, not the file."""
        try:
            load()
        except (duckdb.Error, MemoryError):
            raise  # the database or the process is in trouble: nothing after this can be trusted
        except Exception as exc:
            self.ctx.report.reject(Item(object_type, None, None, issues=[("", internal_error(exc))]))

    def cancellation(self, request: shapes.Request) -> None:
        ctx, report = self.ctx, self.ctx.report
        obj = request.body.to_dict()
        normalised = dict(obj)
        item = Item("cancellation", obj, None)
        subscription_uuid = string(obj.get("subscription_uuid")) or request.subscription_uuid
        if subscription_uuid is not None and normalised.get("subscription_uuid") is None:
            normalised["subscription_uuid"] = subscription_uuid
        item.issues = self.prepare.validate("cancellation", normalised)
        subscription = string(normalised.get("subscription_external_id"))
        if item.valid and subscription is None and subscription_uuid is not None:
            subscription = self.refs.subscriptions()[1].get(subscription_uuid)
            if subscription is None:
                message = f"subscription {subscription_uuid} is unknown in data source {ctx.source.name}"
                item.issues.append(("subscription_uuid", message))
            else:
                normalised["subscription_external_id"] = subscription
        item.context = f"subscription {subscription}" if subscription else None
        self.prepare.hash(item, normalised)
        item.key = item.content_hash
        report.counted(1)
        if not item.valid:
            report.reject(item)
            return
        assert subscription is not None
        replaces_history = "cancellation_dates" in normalised
        history = self.refs.cancellation_history().setdefault(subscription, [])
        if cancellation_unchanged(history, item.key, replaces_history):
            report.unchanged += 1
            return
        history.append((item.key, replaces_history))
        if subscription not in self.refs.subscriptions()[0]:
            item.warnings.append(
                (
                    "subscription_external_id",
                    (
                        f"subscription {subscription} has no line items or events in data source"
                        f" {ctx.source.name} yet (landed; it applies once they arrive)"
                    ),
                )
            )
        self.land.settle(item, "accept", {})

    def data_source(self, obj: dict[str, Any]) -> None:
        ctx, report = self.ctx, self.ctx.report
        item = Item("data_source", obj, None, issues=validate("data_source", obj))
        item.external_id = string(obj.get("name"))
        report.counted(1)
        if item.valid and obj["name"] != ctx.source.name:
            item.issues.append(
                (
                    "name",
                    f"is data source {clip(obj['name'])}, but this load is for {ctx.source.name}: a file may"
                    " configure only the data source it is loaded into (load it with --data-source naming it)",
                )
            )
        given_uuid = string(obj.get("uuid"))
        if item.valid and given_uuid is not None and given_uuid in self.refs.other_sources():
            item.issues.append(("uuid", self.refs.foreign_source(given_uuid)))
        if not item.valid:
            report.reject(item)
            return
        setting = obj.get("auto_churn_subscription_setting") or {}
        # The CLI's data source (existing, or about to be created: one uuid for both).
        changed = landing.upsert_data_source(
            ctx.con,
            uuid=ctx.source.uuid,
            name=obj["name"],
            auto_churn_enabled=setting.get("enabled"),
            auto_churn_interval_days=setting.get("interval"),
            include_deleted_customers=obj.get("include_deleted_customers"),
            now=ctx.started_at,
        )
        self.land.data_source_ensured = True
        if changed:
            report.accepted += 1
            ctx.request.landed += 1
        else:
            report.unchanged += 1

    def invoice_transaction(self, request: shapes.Request) -> None:
        """One transaction whose invoice the path names by uuid: lands as a flat transaction of that invoice."""
        ctx = self.ctx
        obj = request.body.to_dict()
        if string(obj.get("invoice_external_id")) is None and request.invoice_uuid is not None:
            ctx.flush()  # an invoice landed earlier in this load must be found
            invoice = landing.external_id_for_uuid(
                ctx.con, ctx.source.uuid, "invoice", "inv", request.invoice_uuid
            )
            if invoice is None:
                message = f"invoice {request.invoice_uuid} is unknown in data source {ctx.source.name}"
                ctx.report.reject(
                    Item("transaction", obj, None, string(obj.get("external_id"))),
                    [("invoice_uuid", message)],
                )
                return
            obj = {**obj, "invoice_external_id": invoice}
        self.batches.transactions([(None, obj)])

    def deleted_customers(self, elements: Iterable[tuple[int, Any]]) -> None:
        ctx = self.ctx
        ctx.flush()  # customers landed earlier in this file must be visible to the lookup
        versions = []
        for position, item in elements:
            try:
                version = self._deleted_customer_version(position, item)
            except (duckdb.Error, MemoryError):
                raise
            except Exception as exc:
                ctx.report.error(Problem("deleted_customer", None, position, None, internal_error(exc)))
                ctx.report.rejected += 1
                continue
            if version is not None:
                versions.append(version)
        self.batches.simple("customer", versions)

    def _deleted_customer_version(self, position: int, item: Any) -> tuple[int, dict[str, Any]] | None:
        """The customer's newest version with its deleted_at, or None (rejected, reported)."""
        ctx = self.ctx
        external_id = string(item.get("external_id")) if isinstance(item, dict) else None
        problem = None
        if external_id is None:
            problem = Problem("deleted_customer", None, position, "external_id", "is required")
        elif not isinstance(deleted_at := item.get("deleted_at"), str) or parse_timestamp(deleted_at) is None:
            problem = Problem("deleted_customer", external_id, position, "deleted_at", "must be a timestamp")
        else:
            latest = landing.one(
                ctx.con,
                "select body from raw.objects where data_source_uuid = ? and object_type = 'customer'"
                " and external_id = ? order by object_seq desc limit 1",
                [ctx.source.uuid, external_id],
            )
            if latest is None:
                message = "unknown customer in this data source"
                problem = Problem("deleted_customer", external_id, position, "external_id", message)
            else:
                return (position, {**orjson.loads(latest[0]), "deleted_at": item["deleted_at"]})
        ctx.report.error(problem)
        ctx.report.rejected += 1
        return None
