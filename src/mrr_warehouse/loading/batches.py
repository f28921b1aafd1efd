"""The arrays of a bulk request, in batches: each batch is prepared (validated, keyed, hashed), its references
resolved with one lookup, then judged and landed; everything accepted before is flushed first, so the lookup
sees it. Invoices land whole: one invalid nested line item rejects the invoice and all it holds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb

from mrr_warehouse import landing, shapes
from mrr_warehouse.loading.context import LoadContext
from mrr_warehouse.loading.items import InvoiceGroup, Item, chunks, failed_item, guarded, string
from mrr_warehouse.loading.land import Land, classify, newest
from mrr_warehouse.loading.prepare import Prepare
from mrr_warehouse.loading.references import References
from mrr_warehouse.validation import suspicious_transaction_date

Elements = Iterable[tuple[Any, Any]]  # (position, parsed object)


class Batches:
    def __init__(self, ctx: LoadContext, refs: References, prepare: Prepare, land: Land) -> None:
        self.ctx = ctx
        self.refs = refs
        self.prepare = prepare
        self.land = land

    def bulk(self, request: shapes.Request) -> None:
        """Every array of a bulk (or single-array) request, in the registry's order."""
        body = request.body
        self.simple("customer", enumerate(body.iter_array("customers")))
        self.simple("plan", enumerate(body.iter_array("plans")))
        has_flat_lines = "line_items" in body
        referenced: set[str] = set()  # invoices that flat line items point to
        if has_flat_lines:
            for line in body.iter_array("line_items"):
                if isinstance(line, dict) and (invoice := string(line.get("invoice_external_id"))):
                    referenced.add(invoice)
        self.invoices(request, enumerate(body.iter_array("invoices")), referenced)
        del referenced
        if has_flat_lines:
            self.line_items(enumerate(body.iter_array("line_items")))
        self.transactions(enumerate(body.iter_array("transactions")))
        self.simple("subscription_event", enumerate(body.iter_array("subscription_events")))
        self.simple("contact", enumerate(body.iter_array("contacts")))

    # customers, plans, subscription events, contacts: versions, last load wins -------------------------------

    def simple(self, object_type: str, elements: Elements) -> None:
        for chunk in chunks(elements, self.ctx.batch_size):
            self.ctx.flush()
            items = [guarded(object_type, position, obj, self.prepare.simple) for position, obj in chunk]
            wanted = {(object_type, item.key) for item in items if not item.issues and item.key}
            known = self.refs.lookup(wanted | self.refs.wanted_customers(items))
            self.refs.check_customers(items, known)
            self.land.judge(items, known)
            self.ctx.report.counted(len(items))

    # flat line items and transactions -------------------------------------------------------------------------

    def line_items(self, elements: Elements) -> None:
        for chunk in chunks(elements, self.ctx.batch_size):
            self.ctx.flush()
            items = [guarded("line_item", position, obj, self.prepare.line_item) for position, obj in chunk]
            wanted = {("line_item", item.key) for item in items if not item.issues and item.key}
            known = self.refs.lookup(
                wanted | self.refs.wanted_invoices(items) | self.refs.wanted_plans(items)
            )
            self.refs.check_invoices(items, known)
            self.refs.check_plans(items, known)
            self.land.judge(items, known)
            self.ctx.report.counted(len(items))

    def transactions(self, elements: Elements) -> None:
        for chunk in chunks(elements, self.ctx.batch_size):
            self.ctx.flush()
            items = [
                guarded("transaction", position, obj, self.prepare.transaction) for position, obj in chunk
            ]
            wanted = {("transaction", item.key) for item in items if not item.issues and item.key}
            known = self.refs.lookup(wanted | self.refs.wanted_invoices(items))
            self.refs.check_invoices(items, known)
            seen: dict[str, str] = {}
            for item in items:
                outcome = classify(item, newest(item, seen, known))
                if outcome == "accept":
                    invoice = known.get(("invoice", item.invoice_external_id or ""))
                    check_transaction_date(item, invoice[1] if invoice else None)
                self.land.settle(item, outcome, seen)
            self.ctx.report.counted(len(items))

    # invoices, with nested line items and transactions: immutable, landing whole -----------------------------

    def invoices(self, request: shapes.Request, elements: Elements, referenced: set[str]) -> None:
        default_customer = request.customer_external_id
        customer_uuid = request.customer_uuid
        for chunk in chunks(elements, self.ctx.batch_size):
            self.ctx.flush()
            if default_customer is None and customer_uuid is not None:
                default_customer = self.refs.customer_for_uuid(customer_uuid)
            groups = [
                self._invoice(position, obj, default_customer, customer_uuid) for position, obj in chunk
            ]
            self._judge_invoices(groups, referenced)
            self.ctx.report.counted(
                sum(1 + len(group.line_items) + len(group.transactions) for group in groups)
            )

    def _invoice(
        self, position: int, obj: Any, default_customer: str | None, customer_uuid: str | None
    ) -> InvoiceGroup:
        try:
            return self.prepare.invoice("invoice", position, obj, default_customer, customer_uuid)
        except (duckdb.Error, MemoryError):
            raise  # the database or the process is in trouble: nothing after this can be trusted
        except Exception as exc:  # this invoice (and all it holds) is rejected, not the file
            return InvoiceGroup(failed_item("invoice", obj, position, exc), None, [], [])

    def _judge_invoices(self, groups: list[InvoiceGroup], referenced: set[str]) -> None:
        ctx, refs, land = self.ctx, self.refs, self.land
        lines = [line for g in groups for line in g.line_items]
        transactions = [transaction for g in groups for transaction in g.transactions]
        wanted = {("customer", g.customer_external_id) for g in groups if g.customer_external_id}
        wanted |= {("invoice", g.invoice.key) for g in groups if g.invoice.key}
        wanted |= {
            (item.object_type, item.key) for item in (*lines, *transactions) if item.key and not item.issues
        }
        wanted |= refs.wanted_plans(lines)
        known = refs.lookup(wanted)
        refs.check_plans(lines, known)
        without_lines = [
            g.invoice.key
            for g in groups
            if g.invoice.key and not g.line_items and g.invoice.key not in referenced
        ]
        with_earlier_lines = (
            landing.invoices_with_line_items(ctx.con, ctx.source.uuid, without_lines)
            if without_lines
            else set()
        )
        seen_invoices: dict[str, str] = {}
        seen_lines: dict[str, str] = {}
        seen_transactions: dict[str, str] = {}
        for group in groups:
            invoice = group.invoice
            if not invoice.issues and ("customer", group.customer_external_id) not in known:
                invoice.issues.append(
                    ("customer_external_id", ctx.unknown("customer", group.customer_external_id or ""))
                )
            key = invoice.key or ""
            if (
                not invoice.issues
                and not group.line_items
                and key not in referenced
                and key not in with_earlier_lines
                and key not in seen_invoices
                and ("invoice", key) not in known
            ):
                invoice.issues.append(
                    (
                        "line_items",
                        (
                            "an invoice needs at least one line item: none nested, none pointing to it in this"
                            " request and none landed before"
                        ),
                    )
                )
            outcome = classify(invoice, newest(invoice, seen_invoices, known))
            line_outcomes = []
            in_invoice: dict[str, str] = {}  # a key repeated inside one invoice counts too
            for line in group.line_items:
                line_key = line.key or ""
                known_hash = in_invoice.get(line_key) or newest(line, seen_lines, known)
                line_outcomes.append(classify(line, known_hash))
                in_invoice[line_key] = line.content_hash

            if outcome == "accept" and "reject" in line_outcomes:
                bad = group.line_items[line_outcomes.index("reject")]
                label = f"{bad.external_id}" if bad.external_id else f"#{bad.position}"
                message = f"line item {label} is invalid; an invoice lands whole with its line items"
                invoice.issues.append(("line_items", message))
                outcome = "reject"
            if outcome == "reject":
                ctx.report.reject(invoice)
                if invoice.key:
                    ctx.rejected_invoices.add(invoice.key)
                for nested in (*group.line_items, *group.transactions):
                    reason = f"{invoice.key or 'its invoice'} was rejected"
                    ctx.report.reject(nested, nested.issues or [("invoice_external_id", f"invoice {reason}")])
                continue
            land.settle(invoice, outcome, seen_invoices)
            for line, line_outcome in zip(group.line_items, line_outcomes, strict=True):
                land.settle(line, line_outcome, seen_lines)
            invoice_date = invoice.obj.get("date")
            for transaction in group.transactions:
                transaction_outcome = classify(transaction, newest(transaction, seen_transactions, known))
                if transaction_outcome == "accept":
                    check_transaction_date(transaction, invoice_date)
                land.settle(transaction, transaction_outcome, seen_transactions)


def check_transaction_date(item: Item, invoice_date: Any) -> None:
    message = suspicious_transaction_date(item.obj.get("date"), invoice_date)
    if message is not None:
        item.warnings.append(("date", message))
