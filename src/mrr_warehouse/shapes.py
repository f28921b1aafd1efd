"""Recognising which Import API request a body is (SPEC 1), unwrapping recorded envelopes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mrr_warehouse import object_types
from mrr_warehouse.reading import Body, DictBody, LazyBody

# Top-level arrays of the bulk import (and of the single-array shapes), in the order they are loaded:
# what an object refers to lands before it.
ARRAY_OBJECT_TYPES = object_types.BULK_ARRAYS  # e.g. "line_items" -> "line_item"
ARRAYS = tuple(ARRAY_OBJECT_TYPES)
# Top-level scalars a bulk/invoice import may carry besides its arrays.
BULK_SCALARS = frozenset({"external_id", "data_source_uuid", "customer_external_id", "customer_uuid"})

DATA_SOURCE_KEYS = frozenset({"name", "uuid", "auto_churn_subscription_setting", "include_deleted_customers"})
CUSTOMER_KEYS = frozenset(
    {"external_id", "email", "company", "country", "lead_created_at", "free_trial_started_at", "attributes"}
)
ENVELOPE_KEYS = frozenset({"method", "path"})

SHAPES = (
    "bulk import {customers|plans|invoices|line_items|transactions|subscription_events: [...]}",
    'invoice import {"invoices": [{..., "line_items": [...], "transactions": [...]}]}',
    'customer {"external_id", "name", "email", ...}',
    'plan {"name", "interval_count", "interval_unit", "external_id"}',
    'data source {"name", "auto_churn_subscription_setting"}',
    'cancellation {"subscription_external_id" or "subscription_uuid", "cancelled_at" or "cancellation_dates"}',
    'subscription events {"subscription_events": [...]} or {"subscription_event": {...}}',
    'contacts {"contacts": [...]} or one contact {"customer_external_id", "email", ...}',
    'deleted customers {"deleted_customers": [{"external_id", "deleted_at"}]}',
    'envelope {"method", "path", "body": <one of the above>}',
    'transaction of an invoice: envelope {"path": "/v1/import/invoices/{uuid}/transactions", "body": {...}}',
    'contact of a customer: envelope {"path": "/v1/customers/{uuid}/contacts", "body": {...}}',
)

_CUSTOMER_IN_PATH = re.compile(r"/customers/([^/?#]+)/(?:invoices|contacts)")
_SUBSCRIPTION_IN_PATH = re.compile(r"/subscriptions/([^/?#]+)")
# A transaction added to an invoice names the invoice only in the path (POST /v1/import/invoices/{uuid}/transactions).
_INVOICE_TRANSACTIONS_PATH = re.compile(r"/import/invoices/([^/?#]+)/transactions/?$")
# A contact created under its customer names the customer only in the path (POST /v1/customers/{uuid}/contacts).
_CUSTOMER_CONTACTS_PATH = re.compile(r"/customers/([^/?#]+)/contacts/?$")


class ShapeError(Exception):
    """The body is not one of the request shapes the loader knows."""


@dataclass(slots=True)
class Request:
    shape: str  # bulk, invoice_import, customer, plan, data_source, cancellation, subscription_events,
    #             subscription_event, contacts, contact, deleted_customers
    body: Body
    customer_external_id: str | None = None  # a top-level default for an invoice import's invoices
    customer_uuid: str | None = None  # from an envelope path (/import/customers/{uuid}/invoices)
    subscription_uuid: str | None = None  # from an envelope path (/import/subscriptions/{uuid})
    invoice_uuid: str | None = None  # from an envelope path (/import/invoices/{uuid}/transactions)
    envelope_path: str | None = None
    data_source_uuid: str | None = None  # a bulk request's top-level data_source_uuid (must be the load's)
    ignored_keys: list[str] = field(default_factory=list)


def _expected(keys: list[str], problem: str) -> ShapeError:
    shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
    listing = "; ".join(SHAPES)
    return ShapeError(f"{problem} (top-level keys: {shown or 'none'}); expected one of: {listing}")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a " + type(value).__name__


def recognise(body: Any) -> Request:
    """The request shape of a parsed body; raises ShapeError (listing the known shapes) when there is none."""
    if not isinstance(body, DictBody | LazyBody):
        raise _expected([], f"the request body is {_json_type(body)}, not a JSON object")
    keys = body.keys()
    if "body" in keys and ENVELOPE_KEYS & set(keys):
        if body.kind("body") != "object":
            raise _expected(keys, "the envelope's body is not a JSON object")
        path = body.get("path")
        path = path if isinstance(path, str) else None
        if path and (match := _INVOICE_TRANSACTIONS_PATH.search(path)):
            # The body is one transaction, which no other shape test would recognise (it looks like nothing).
            request = Request("invoice_transaction", body.child("body"), invoice_uuid=match.group(1))
            request.envelope_path = path
            return request
        if path and (match := _CUSTOMER_CONTACTS_PATH.search(path)):
            request = Request(
                "contact", body.child("body"), customer_uuid=match.group(1)
            )  # looks like a customer
            request.envelope_path = path
            return request
        request = _recognise_plain(body.child("body"))
        request.envelope_path = path
        if path:
            if (match := _CUSTOMER_IN_PATH.search(path)) and request.customer_uuid is None:
                request.customer_uuid = match.group(1)
            if (match := _SUBSCRIPTION_IN_PATH.search(path)) and request.subscription_uuid is None:
                request.subscription_uuid = match.group(1)
        if request.shape == "unknown":
            raise _expected(body.child("body").keys(), "unrecognised request body inside the envelope")
        return request
    request = _recognise_plain(body)
    if request.shape == "unknown":
        raise _expected(keys, "unrecognised request body")
    return request


def _recognise_plain(body: Body) -> Request:
    keys = body.keys()
    key_set = set(keys)
    arrays = [name for name in ARRAYS if name in key_set]
    if arrays:
        for name in arrays:
            if body.kind(name) != "array" and body.get(name) is not None:
                raise _expected(keys, f"{name} must be an array, got {_json_type(body.get(name))}")
        ignored = [key for key in keys if key not in ARRAYS and key not in BULK_SCALARS]
        if arrays == ["invoices"]:
            shape = "invoice_import"
        elif arrays == ["subscription_events"]:
            shape = "subscription_events"
        elif arrays == ["contacts"]:
            shape = "contacts"
        else:
            shape = "bulk"
        return Request(
            shape,
            body,
            customer_external_id=_scalar(body, "customer_external_id"),
            customer_uuid=_scalar(body, "customer_uuid"),
            data_source_uuid=_scalar(body, "data_source_uuid"),
            ignored_keys=ignored,
        )
    if key_set == {"deleted_customers"} and body.kind("deleted_customers") == "array":
        return Request("deleted_customers", body)
    if "subscription_event" in key_set and body.kind("subscription_event") == "object":
        return Request("subscription_event", body.child("subscription_event"))
    if key_set & {"cancelled_at", "cancellation_dates"} and not key_set & {"type", "amount_in_cents"}:
        return Request("cancellation", body)
    if key_set & {"interval_count", "interval_unit"}:
        return Request("plan", body)
    if "event_type" in key_set:
        return Request("subscription_event", body)
    if key_set & {"customer_external_id", "customer_uuid"}:
        return Request("contact", body)
    if "name" in key_set and key_set <= DATA_SOURCE_KEYS:
        return Request("data_source", body)
    if key_set & CUSTOMER_KEYS:
        return Request("customer", body)
    return Request("unknown", body)


def _scalar(body: Body, key: str) -> str | None:
    if key not in body or body.kind(key) != "scalar":
        return None
    value = body.get(key)
    return value if isinstance(value, str) else None
