"""Validate and key each object: its field problems (validation.py), a data source other than the load's
(D37), its identity key (object_types.py says which), and its canonical JSON body and content hash."""

from __future__ import annotations

from typing import Any

import orjson

from mrr_warehouse.loading.context import LoadContext
from mrr_warehouse.loading.items import InvoiceGroup, Item, string
from mrr_warehouse.loading.references import References
from mrr_warehouse.validation import Issue, canonical_json, sha256_hex, unknown_country, validate


class Prepare:
    def __init__(self, ctx: LoadContext, refs: References) -> None:
        self.ctx = ctx
        self.refs = refs

    def validate(self, object_type: str, obj: Any) -> list[Issue]:
        """Field problems, and a data source other than this load's (a load writes only to its own)."""
        issues = validate(object_type, obj)
        if isinstance(obj, dict):
            named = obj.get("data_source_uuid", self.ctx.request.source_uuid)
            if (
                isinstance(named, str)
                and named != self.ctx.source.uuid
                and named in self.refs.other_sources()
            ):
                field_name = "data_source_uuid" if "data_source_uuid" in obj else "(request) data_source_uuid"
                issues.append((field_name, self.refs.foreign_source(named)))
        return issues

    @staticmethod
    def hash(item: Item, value: Any | None = None) -> None:
        """body = canonical JSON of the object (or of `value`); content_hash = its sha256."""
        try:
            body = canonical_json(item.obj if value is None else value)
        except orjson.JSONEncodeError:
            if item.issues:  # rejected anyway (e.g. nested too deep to serialise): nothing to store
                return
            raise
        item.content_hash = sha256_hex(body)
        item.body = body.decode()

    # customers, plans, subscription events, contacts ---------------------------------------------------------

    def simple(self, object_type: str, position: int | None, obj: Any) -> Item:
        item = Item(object_type, obj, position, issues=self.validate(object_type, obj))
        if not isinstance(obj, dict):
            return item
        item.external_id = string(obj.get("external_id"))
        if object_type == "plan":
            item.key = item.external_id or string(obj.get("name"))
        elif object_type == "contact":
            self._contact(item)
            return item
        else:
            item.key = item.external_id
        if object_type == "customer" and (message := unknown_country(obj.get("country"))):
            item.warnings.append(("country", message))
        self.hash(item)
        return item

    def _contact(self, item: Item) -> None:
        obj = dict(item.obj)
        customer = string(obj.get("customer_external_id"))
        customer_uuid = string(obj.get("customer_uuid"))
        if customer is None and customer_uuid is not None and item.valid:
            customer = self.refs.customer_for_uuid(customer_uuid)
            if customer is None:
                item.issues.append(
                    (
                        "customer_uuid",
                        f"customer {customer_uuid} is unknown in data source {self.ctx.source.name}",
                    )
                )
            else:
                obj["customer_external_id"] = customer
        email = obj.get("email") if isinstance(obj.get("email"), str) else ""
        item.key = item.external_id or (f"{customer}#{email}" if customer else None)
        self.hash(item, obj)

    # line items and transactions (nested in an invoice: `invoice` names it; flat: they name it) ---------------

    def line_item(
        self,
        object_type: str,
        position: int,
        obj: Any,
        invoice: str | None = None,
        context: str | None = None,
    ) -> Item:
        item = Item("line_item", obj, position, issues=self.validate("line_item", obj), context=context)
        if not isinstance(obj, dict):
            return item
        item.external_id = string(obj.get("external_id"))
        if invoice is None:  # flat: the line item names its invoice
            invoice = string(obj.get("invoice_external_id"))
            if invoice is None and not any(name == "invoice_external_id" for name, _ in item.issues):
                item.issues.append(("invoice_external_id", "is required in a bulk request's line_items"))
            if invoice is not None:
                counters = self.ctx.request.line_counters
                index = counters.get(invoice, 0)
                counters[invoice] = index + 1
                item.key = item.external_id or f"{invoice}#{index}"
        else:
            item.key = item.external_id or f"{invoice}#{position}"
        item.invoice_external_id = invoice
        self.hash(item)
        return item

    def transaction(
        self,
        object_type: str,
        position: int,
        obj: Any,
        invoice: str | None = None,
        context: str | None = None,
    ) -> Item:
        item = Item("transaction", obj, position, issues=self.validate("transaction", obj), context=context)
        if not isinstance(obj, dict):
            return item
        item.external_id = string(obj.get("external_id"))
        if invoice is None:
            invoice = string(obj.get("invoice_external_id"))
            if invoice is None and not any(name == "invoice_external_id" for name, _ in item.issues):
                item.issues.append(("invoice_external_id", "is required in a bulk request's transactions"))
        item.invoice_external_id = invoice
        self.hash(item)
        if item.external_id is not None:
            item.key = item.external_id
        elif invoice is not None:
            counters = self.ctx.request.transaction_counters
            occurrence = counters.get((invoice, item.content_hash), 0)
            counters[(invoice, item.content_hash)] = occurrence + 1
            item.key = f"{invoice}#{item.content_hash}#{occurrence}"
        return item

    # invoices, with their nested line items and transactions -------------------------------------------------

    def invoice(
        self,
        object_type: str,
        position: int,
        obj: Any,
        default_customer: str | None,
        customer_uuid: str | None,
    ) -> InvoiceGroup:
        invoice = Item("invoice", obj, position)
        if not isinstance(obj, dict):
            invoice.issues = self.validate("invoice", obj)
            return InvoiceGroup(invoice, None, [], [])
        normalised = dict(obj)
        if normalised.get("customer_external_id") is None and default_customer is not None:
            normalised["customer_external_id"] = default_customer
        invoice.issues = self.validate("invoice", normalised)
        if normalised.get("customer_external_id") is None and customer_uuid is not None:
            invoice.issues = [issue for issue in invoice.issues if issue[0] != "customer_external_id"]
            message = f"customer {customer_uuid} (from the request) is unknown in data source {self.ctx.source.name}"
            invoice.issues.append(("customer_external_id", message))
        invoice.external_id = invoice.key = string(obj.get("external_id"))
        customer = string(normalised.get("customer_external_id"))
        nested_lines = obj.get("line_items") if isinstance(obj.get("line_items"), list) else []
        nested_transactions = obj.get("transactions") if isinstance(obj.get("transactions"), list) else []
        # Hash: the invoice with its line items, without transactions. Body: without either (the same JSON
        # when there are no nested line items: serialised once).
        normalised.pop("transactions", None)
        hashed = canonical_json(normalised)
        invoice.content_hash = sha256_hex(hashed)
        if "line_items" in normalised:
            del normalised["line_items"]
            hashed = canonical_json(normalised)
        invoice.body = hashed.decode()
        context = f"invoice {invoice.key}" if invoice.key else f"invoice #{position}"
        lines = [
            self.line_item("line_item", index, line, invoice.key, context)
            for index, line in enumerate(nested_lines)
        ]
        if invoice.key is not None and lines:
            self.ctx.request.line_counters[invoice.key] = len(lines)
        transactions = [
            self.transaction("transaction", index, transaction, invoice.key, context)
            for index, transaction in enumerate(nested_transactions)
        ]
        for item in (invoice, *lines, *transactions):
            item.customer = customer  # their load_errors name it, so that erasing the customer finds them
        return InvoiceGroup(invoice, customer, lines, transactions)
