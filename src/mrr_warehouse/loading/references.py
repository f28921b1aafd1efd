"""Resolving references: what a batch's objects point to (customers, plans, invoices, subscriptions, other data
sources) and the newest landed version of each identity, answered by the database inside the load's open
transaction (earlier batches are flushed first), with the few per-file caches that keep it cheap."""

from __future__ import annotations

from mrr_warehouse import landing
from mrr_warehouse.loading.context import LoadContext
from mrr_warehouse.loading.items import Item, string
from mrr_warehouse.schema import deterministic_uuid
from mrr_warehouse.validation import canonical_json


class References:
    def __init__(self, ctx: LoadContext) -> None:
        self.ctx = ctx
        self.customer_uuids: dict[str, str] = {}
        self.plan_uuids: dict[str, str] = {}
        self.other_source_names: dict[str, str] | None = None
        self.subscription_ids: tuple[set[str], dict[str, str]] | None = None
        self.cancellations: dict[str, list[tuple[str, bool]]] | None = None

    def lookup(self, pairs: set[tuple[str, str]]) -> landing.Known:
        """(object_type, key) -> (newest content hash, first invoice date) for those that landed."""
        return landing.lookup(self.ctx.con, self.ctx.source.uuid, pairs)

    # data sources -------------------------------------------------------------------------------------------

    def other_sources(self) -> dict[str, str]:
        """uuid -> name of the warehouse's other data sources, read once per file. A data_source_uuid that is
        none of them (ChartMogul's own uuid in an exported request, say) is kept as sent."""
        if self.other_source_names is None:
            rows = landing.run(
                self.ctx.con,
                "select uuid, name from raw.data_sources where uuid <> ?",
                [self.ctx.source.uuid],
            )
            self.other_source_names = {uuid: name for uuid, name in rows}
        return self.other_source_names

    def foreign_source(self, named: str) -> str:
        return (
            f"names data source {self.other_sources()[named]} ({named}), but this load writes to"
            f" {self.ctx.source.name}: a load writes only to its own data source (load this object with"
            " --data-source naming its source)"
        )

    # uuids the Import API hands out ----------------------------------------------------------------------------

    def customer_for_uuid(self, customer_uuid: str) -> str | None:
        if customer_uuid not in self.customer_uuids:
            found = landing.external_id_for_uuid(
                self.ctx.con, self.ctx.source.uuid, "customer", "cus", customer_uuid
            )
            if found is None:
                return None
            self.customer_uuids[customer_uuid] = found
        return self.customer_uuids[customer_uuid]

    def plan_for_uuid(self, plan_uuid: str) -> str | None:
        if plan_uuid not in self.plan_uuids:
            found = landing.external_id_for_uuid(self.ctx.con, self.ctx.source.uuid, "plan", "pl", plan_uuid)
            if found is None:
                return None
            self.plan_uuids[plan_uuid] = found
        return self.plan_uuids[plan_uuid]

    # subscriptions and their cancellations -------------------------------------------------------------------

    def subscriptions(self) -> tuple[set[str], dict[str, str]]:
        """Subscription external ids of the data source (from line items and events) and their uuids, read once
        per file when a cancellation needs them, then kept up to date as line items and events land."""
        if self.subscription_ids is None:
            self.ctx.flush()
            known = landing.subscription_ids(self.ctx.con, self.ctx.source.uuid)
            self.subscription_ids = (known, {self._subscription_uuid(key): key for key in known})
        return self.subscription_ids

    def note_landed(self, item: Item) -> None:
        """Keep the subscriptions known up to date (once they were read)."""
        if (
            self.subscription_ids is not None
            and item.object_type in ("line_item", "subscription_event")
            and (subscription := string(item.obj.get("subscription_external_id")))
            and subscription not in self.subscription_ids[0]
        ):
            self.subscription_ids[0].add(subscription)
            self.subscription_ids[1][self._subscription_uuid(subscription)] = subscription

    def _subscription_uuid(self, subscription_external_id: str) -> str:
        return deterministic_uuid("sub", self.ctx.source.uuid, "subscription", subscription_external_id)

    def cancellation_history(self) -> dict[str, list[tuple[str, bool]]]:
        """Per subscription, its landed cancellations (key, is a cancellation_dates request) in load order; read
        once per file, then kept up to date."""
        if self.cancellations is None:
            self.ctx.flush()
            self.cancellations = {}
            for subscription, key, replaces in landing.cancellation_history(
                self.ctx.con, self.ctx.source.uuid
            ):
                self.cancellations.setdefault(subscription, []).append((key, replaces))
        return self.cancellations

    # what a batch points to ----------------------------------------------------------------------------------

    @staticmethod
    def wanted_customers(items: list[Item]) -> set[tuple[str, str]]:
        return {
            ("customer", item.obj["customer_external_id"])
            for item in items
            if not item.issues
            and item.object_type in ("subscription_event", "contact")
            and isinstance(item.obj.get("customer_external_id"), str)
        }

    def check_customers(self, items: list[Item], known: landing.Known) -> None:
        """Subscription events and contacts belong to a customer of the same data source."""
        for item in items:
            if not item.issues and item.object_type in ("subscription_event", "contact"):
                customer = item.obj.get("customer_external_id")
                if isinstance(customer, str) and ("customer", customer) not in known:
                    item.issues.append(("customer_external_id", self.ctx.unknown("customer", customer)))

    @staticmethod
    def wanted_plans(lines: list[Item]) -> set[tuple[str, str]]:
        return {
            ("plan", line.obj["plan_external_id"])
            for line in lines
            if not line.issues and isinstance(line.obj.get("plan_external_id"), str)
        }

    def check_plans(self, lines: list[Item], known: landing.Known) -> None:
        """A subscription line item's plan must be known in the data source (by plan_external_id or plan_uuid);
        a plan_uuid is resolved and its plan_external_id added to the stored body."""
        for line in lines:
            if line.issues:
                continue
            plan = line.obj.get("plan_external_id")
            plan_uuid = line.obj.get("plan_uuid")
            is_subscription = line.obj.get("type") == "subscription"
            if isinstance(plan, str):
                if ("plan", plan) not in known:
                    _plan_problem(line, is_subscription, "plan_external_id", self.ctx.unknown("plan", plan))
            elif isinstance(plan_uuid, str):
                resolved = self.plan_for_uuid(plan_uuid)
                if resolved is None:
                    message = f"plan {plan_uuid} is unknown in data source {self.ctx.source.name}"
                    _plan_problem(line, is_subscription, "plan_uuid", message)
                else:  # stored with it; hashed as sent
                    line.body = canonical_json({**line.obj, "plan_external_id": resolved}).decode()

    def wanted_invoices(self, items: list[Item]) -> set[tuple[str, str]]:
        rejected = self.ctx.rejected_invoices
        return {
            ("invoice", item.invoice_external_id)
            for item in items
            if not item.issues and item.invoice_external_id and item.invoice_external_id not in rejected
        }

    def check_invoices(self, items: list[Item], known: landing.Known) -> None:
        """Flat line items and transactions point to an invoice landed before or earlier in this request."""
        rejected = self.ctx.rejected_invoices
        for item in items:
            invoice = item.invoice_external_id
            if item.issues or invoice is None:
                continue
            if invoice in rejected:
                item.issues.append(("invoice_external_id", f"invoice {invoice} was rejected"))
            elif ("invoice", invoice) not in known:
                item.issues.append(("invoice_external_id", self.ctx.unknown("invoice", invoice)))


def _plan_problem(line: Item, is_subscription: bool, field_name: str, message: str) -> None:
    if is_subscription:
        line.issues.append((field_name, message))
    else:
        line.warnings.append((field_name, message + " (landed: not a subscription line)"))
