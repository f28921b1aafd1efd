"""One home per Import API object type: its fields and their kinds, its identity, whether it is immutable, the
staging model that reads it, and how requests carry it and `sources list` counts it.

The loader, the request shapes, validation (plain and compiled) and the CLI read these entries; adding an object
type means an entry here and its staging model. The SQL types staging gives fields (macros/staged_types.sql)
follow from the field kinds below for the fields an entry lists as `staged`; test_object_types.py checks that
the macro's map is exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mrr_warehouse import validation as check

# --------------------------------------------------------------------------------------------------------------
# Fields (SPEC 1), in the order problems are reported. Null means absent, except for required fields.

LINE_ITEM_TYPES = ("subscription", "one_time", "trial")
TRANSACTION_TYPES = ("payment", "refund")
TRANSACTION_RESULTS = ("successful", "failed")
INTERVAL_UNITS = ("day", "month", "year")
PRORATION_TYPES = ("differential", "full")
SUBSCRIPTION_EVENT_TYPES = (
    "subscription_start",
    "subscription_start_scheduled",
    "scheduled_subscription_start_retracted",
    "subscription_cancelled",
    "subscription_cancellation_scheduled",
    "scheduled_subscription_cancellation_retracted",
    "subscription_updated",
    "subscription_update_scheduled",
    "scheduled_subscription_update_retracted",
    "subscription_event_retracted",
)

CUSTOMER = check.Schema(
    "customer",
    (
        check.Field("external_id", check.IDENTIFIER, required=True),
        check.Field("data_source_uuid", check.STRING),
        check.Field("name", check.STRING),
        check.Field("email", check.STRING),
        check.Field("company", check.STRING),
        check.Field("country", check.STRING),
        check.Field("state", check.STRING),
        check.Field("city", check.STRING),
        check.Field("zip", check.TEXT),
        check.Field("lead_created_at", check.TIMESTAMP),
        check.Field("free_trial_started_at", check.TIMESTAMP),
        check.Field("attributes", check.OBJECT),
        check.Field("owner", check.STRING),
        check.Field("website_url", check.STRING),
        check.Field("primary_contact", check.OBJECT),
        # deleted in the billing system (Stripe's "include deleted customers"); see lifecycle.apply_customer_deletions
        check.Field("deleted_at", check.TIMESTAMP),
    ),
)

PLAN = check.Schema(
    "plan",
    (
        check.Field("name", check.STRING, required=True),
        check.Field("interval_count", check.INTERVAL_COUNT, required=True),
        check.Field("interval_unit", check.Enum(*INTERVAL_UNITS), required=True),
        check.Field("external_id", check.IDENTIFIER),
        check.Field("data_source_uuid", check.STRING),
    ),
)

INVOICE = check.Schema(
    "invoice",
    (
        check.Field("external_id", check.IDENTIFIER, required=True),
        check.Field("date", check.TIMESTAMP, required=True),
        check.Field("currency", check.CURRENCY, required=True),
        check.Field("customer_external_id", check.IDENTIFIER, required=True),
        check.Field("due_date", check.TIMESTAMP),
        check.Field("line_items", check.ARRAY),
        check.Field("transactions", check.ARRAY),
        check.Field("data_source_uuid", check.STRING),
        check.Field("customer_uuid", check.STRING),
    ),
)

LINE_ITEM = check.Schema(
    "line_item",
    (
        check.Field("type", check.Enum(*LINE_ITEM_TYPES), required=True),
        check.Field("amount_in_cents", check.CENTS, required=True),
        check.Field("subscription_external_id", check.IDENTIFIER),
        check.Field("plan_external_id", check.IDENTIFIER),
        check.Field("plan_uuid", check.IDENTIFIER),
        check.Field("service_period_start", check.TIMESTAMP),
        check.Field("service_period_end", check.TIMESTAMP),
        check.Field("quantity", check.QUANTITY),
        check.Field("discount_amount_in_cents", check.CENTS),
        check.Field("discount_code", check.STRING),
        check.Field("tax_amount_in_cents", check.CENTS),
        check.Field("transaction_fees_in_cents", check.CENTS),
        check.Field("prorated", check.BOOLEAN),
        check.Field("proration_type", check.Enum(*PRORATION_TYPES)),
        check.Field("cancelled_at", check.TIMESTAMP),
        check.Field("subscription_set_external_id", check.IDENTIFIER),
        check.Field("event_order", check.BIG_INTEGER),
        check.Field("external_id", check.IDENTIFIER),
        check.Field("description", check.STRING),
        check.Field("invoice_external_id", check.IDENTIFIER),
    ),
)

TRANSACTION = check.Schema(
    "transaction",
    (
        check.Field("type", check.Enum(*TRANSACTION_TYPES), required=True),
        check.Field("result", check.Enum(*TRANSACTION_RESULTS), required=True),
        check.Field("date", check.TIMESTAMP, required=True),
        check.Field("external_id", check.IDENTIFIER),
        check.Field("amount_in_cents", check.NON_NEGATIVE_CENTS),
        check.Field("invoice_external_id", check.IDENTIFIER),
    ),
)

SUBSCRIPTION_EVENT = check.Schema(
    "subscription_event",
    (
        check.Field("external_id", check.IDENTIFIER, required=True),
        check.Field("customer_external_id", check.IDENTIFIER, required=True),
        check.Field("event_type", check.Enum(*SUBSCRIPTION_EVENT_TYPES), required=True),
        check.Field("event_date", check.TIMESTAMP, required=True),
        check.Field("effective_date", check.TIMESTAMP, required=True),
        check.Field("subscription_external_id", check.IDENTIFIER),
        check.Field("subscription_set_external_id", check.IDENTIFIER),
        check.Field("plan_external_id", check.IDENTIFIER),
        check.Field("currency", check.CURRENCY),
        check.Field("amount_in_cents", check.CENTS),
        check.Field("tax_amount_in_cents", check.CENTS),
        check.Field("quantity", check.BIG_INTEGER),
        check.Field("retracted_event_id", check.IDENTIFIER),
        check.Field("data_source_uuid", check.STRING),
    ),
)

CONTACT = check.Schema(
    "contact",
    (
        check.Field("customer_external_id", check.IDENTIFIER),
        check.Field("customer_uuid", check.IDENTIFIER),
        check.Field("external_id", check.IDENTIFIER),
        check.Field("first_name", check.STRING),
        check.Field("last_name", check.STRING),
        check.Field("title", check.STRING),
        check.Field("email", check.STRING),
        check.Field("phone", check.TEXT),
        check.Field("position", check.TEXT),
        check.Field("notes", check.STRING),
        check.Field("linked_in", check.STRING),
        check.Field("twitter", check.STRING),
        check.Field("custom", check.ARRAY),
        check.Field("data_source_uuid", check.STRING),
    ),
)

CANCELLATION = check.Schema(
    "cancellation",
    (
        check.Field("subscription_external_id", check.IDENTIFIER),
        check.Field("subscription_uuid", check.IDENTIFIER),
        check.Field("cancelled_at", check.TIMESTAMP),
        check.Field("cancellation_dates", check.TIMESTAMPS),
        check.Field("data_source_uuid", check.STRING),
    ),
)

DATA_SOURCE = check.Schema(
    "data_source",
    (
        check.Field("name", check.IDENTIFIER, required=True),
        check.Field("uuid", check.IDENTIFIER),
        check.Field("auto_churn_subscription_setting", check.OBJECT),
        check.Field("include_deleted_customers", check.BOOLEAN),
    ),
)


# --------------------------------------------------------------------------------------------------------------
# The entries.


@dataclass(frozen=True, slots=True)
class ObjectType:
    name: str  # raw.objects.object_type
    schema: check.Schema
    identity: str  # how its key (raw.objects.external_id) is made; loader.py implements it
    label: str  # in messages: "line item"
    plural: str  # in messages: "line items"
    immutable: bool = False  # a version with other content is rejected instead of landing as the newest
    staging_model: str | None = None
    staged: tuple[
        str, ...
    ] = ()  # fields staging casts to a SQL type (typed_field in macros/staged_types.sql)
    stored: bool = True  # a row per version in raw.objects (data sources have raw.data_sources instead)
    count_header: str | None = None  # its column in `sources list`
    bulk_array: str | None = None  # the member of a bulk request that holds a list of them
    single_request: bool = False  # a request body may be one such object
    compiled: bool = True  # judged by the compiled fast path first (compiled_validation.py)
    rules: Callable[[dict[str, Any], list[check.Issue]], None] | None = None  # rules across fields

    def staged_types(self) -> dict[str, str]:
        """Field -> the SQL type staging casts it to, from the field's kind."""
        return {name: _sql_type(self.schema.by_name[name].check) for name in self.staged}


def _sql_type(kind: check.Checker) -> str:
    if kind is check.TIMESTAMP:
        return "timestamp"
    if kind is check.BOOLEAN:
        return "boolean"
    if isinstance(kind, check.IntegerIn):
        return kind.sql_type.name
    raise TypeError(f"no staged SQL type for {kind!r}")


# In load order: what an object refers to lands before it (a bulk request's arrays are taken in this order).
TYPES: dict[str, ObjectType] = {
    entry.name: entry
    for entry in (
        ObjectType(
            "customer",
            CUSTOMER,
            identity="external_id",
            label="customer",
            plural="customers",
            staging_model="stg_customers",
            staged=("lead_created_at", "free_trial_started_at"),
            count_header="customers",
            bulk_array="customers",
            single_request=True,
            rules=check.customer_rules,
        ),
        ObjectType(
            "plan",
            PLAN,
            identity="external_id, else name",
            label="plan",
            plural="plans",
            staging_model="stg_plans",
            staged=("interval_count",),
            count_header="plans",
            bulk_array="plans",
            single_request=True,
        ),
        ObjectType(
            "invoice",
            INVOICE,
            identity="external_id; the content hashed with its nested line items, stored without them",
            label="invoice",
            plural="invoices",
            immutable=True,
            staging_model="stg_invoices",
            staged=("date", "due_date"),
            count_header="invoices",
            bulk_array="invoices",
        ),
        ObjectType(
            "line_item",
            LINE_ITEM,
            identity="external_id, else <invoice_external_id>#<n> (n: its index among the invoice's line items)",
            label="line item",
            plural="line items",
            immutable=True,
            staging_model="stg_line_items",
            staged=(
                "service_period_start",
                "service_period_end",
                "amount_in_cents",
                "quantity",
                "discount_amount_in_cents",
                "tax_amount_in_cents",
                "transaction_fees_in_cents",
                "prorated",
                "cancelled_at",
                "event_order",
            ),
            count_header="line_items",
            bulk_array="line_items",
            rules=check.line_item_rules,
        ),
        ObjectType(
            "transaction",
            TRANSACTION,
            identity="external_id, else <invoice_external_id>#<content hash>#<k> (k: among identical ones)",
            label="transaction",
            plural="transactions",
            immutable=True,
            staging_model="stg_transactions",
            staged=("date", "amount_in_cents"),
            count_header="transactions",
            bulk_array="transactions",
        ),
        ObjectType(
            "subscription_event",
            SUBSCRIPTION_EVENT,
            identity="external_id",
            label="subscription event",
            plural="subscription events",
            staging_model="stg_subscription_events",
            staged=("event_date", "effective_date", "amount_in_cents", "tax_amount_in_cents", "quantity"),
            count_header="events",
            bulk_array="subscription_events",
            single_request=True,
        ),
        ObjectType(
            "cancellation",
            CANCELLATION,
            identity="the content hash of the request, normalised",
            label="cancellation",
            plural="cancellations",
            staging_model="stg_cancellations",
            count_header="cancellations",
            compiled=False,  # one per request
            rules=check.cancellation_rules,
        ),
        ObjectType(
            "contact",
            CONTACT,
            identity="external_id, else <customer_external_id>#<email>",
            label="contact",
            plural="contacts",
            staging_model="stg_contacts",
            count_header="contacts",
            bulk_array="contacts",
            single_request=True,
            rules=check.contact_rules,
        ),
        ObjectType(
            "data_source",
            DATA_SOURCE,
            identity="name (one per load: the load's own)",
            label="data source",
            plural="data sources",
            staging_model="stg_data_sources",
            stored=False,
            compiled=False,  # one per request
            rules=check.data_source_rules,
        ),
    )
}

SCHEMAS: dict[str, check.Schema] = {entry.name: entry.schema for entry in TYPES.values()}
# raw.objects.object_type values, in load order (`sources list` shows them in this order).
STORED = tuple(entry.name for entry in TYPES.values() if entry.stored)
IMMUTABLE = frozenset(entry.name for entry in TYPES.values() if entry.immutable)
SINGLE_OBJECT_SHAPES = tuple(entry.name for entry in TYPES.values() if entry.single_request)
BULK_ARRAYS = {entry.bulk_array: entry.name for entry in TYPES.values() if entry.bulk_array}
COMPILED = tuple(entry.name for entry in TYPES.values() if entry.compiled)
