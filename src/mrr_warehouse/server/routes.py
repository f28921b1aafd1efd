"""The Import API v1 routes (handlers in routes_setup.py and routes_billing.py)."""

from __future__ import annotations

from starlette.routing import Route

from mrr_warehouse.server.routes_billing import (
    cancel_subscription,
    create_contact,
    create_customer_contact,
    create_subscription_event,
    create_transaction,
    import_invoices,
    list_contacts,
    list_customer_invoices,
    list_customer_subscriptions,
    list_invoices,
    list_subscription_events,
    retract_subscription_event,
)
from mrr_warehouse.server.routes_setup import (
    create_customer,
    create_data_source,
    create_json_import,
    create_plan,
    delete_customer,
    delete_data_source,
    list_customers,
    list_data_sources,
    list_plans,
    ping,
    retrieve_customer,
    retrieve_data_source,
    retrieve_json_import,
    retrieve_plan,
    update_customer,
)

ROUTES = [
    Route("/v1/ping", ping, methods=["GET"]),
    Route("/v1/data_sources", create_data_source, methods=["POST"]),
    Route("/v1/data_sources", list_data_sources, methods=["GET"]),
    Route("/v1/data_sources/{uuid}", retrieve_data_source, methods=["GET"]),
    Route("/v1/data_sources/{uuid}", delete_data_source, methods=["DELETE"]),
    Route("/v1/data_sources/{uuid}/json_imports", create_json_import, methods=["POST"]),
    Route("/v1/data_sources/{uuid}/json_imports/{id}", retrieve_json_import, methods=["GET"]),
    Route("/v1/customers", create_customer, methods=["POST"]),
    Route("/v1/customers", list_customers, methods=["GET"]),
    Route("/v1/customers/{uuid}", retrieve_customer, methods=["GET"]),
    Route("/v1/customers/{uuid}", update_customer, methods=["PUT", "PATCH"]),
    Route("/v1/customers/{uuid}", delete_customer, methods=["DELETE"]),
    Route("/v1/plans", create_plan, methods=["POST"]),
    Route("/v1/plans", list_plans, methods=["GET"]),
    Route("/v1/plans/{uuid}", retrieve_plan, methods=["GET"]),
    Route("/v1/import/customers/{uuid}/invoices", import_invoices, methods=["POST"]),
    Route("/v1/import/customers/{uuid}/invoices", list_customer_invoices, methods=["GET"]),
    Route("/v1/invoices", list_invoices, methods=["GET"]),
    Route("/v1/import/customers/{uuid}/subscriptions", list_customer_subscriptions, methods=["GET"]),
    Route("/v1/customers/{uuid}/subscriptions", list_customer_subscriptions, methods=["GET"]),
    Route("/v1/import/invoices/{uuid}/transactions", create_transaction, methods=["POST"]),
    Route("/v1/import/subscriptions/{uuid}", cancel_subscription, methods=["PATCH"]),
    Route("/v1/subscription_events", create_subscription_event, methods=["POST"]),
    Route("/v1/subscription_events", list_subscription_events, methods=["GET"]),
    Route("/v1/subscription_events", retract_subscription_event, methods=["DELETE"]),
    Route("/v1/contacts", create_contact, methods=["POST"]),
    Route("/v1/customers/{uuid}/contacts", create_customer_contact, methods=["POST"]),
    Route("/v1/contacts", list_contacts, methods=["GET"]),
]
