"""Import API endpoints: invoices, transactions, cancellations, subscription events, contacts."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mrr_warehouse.server import store, views
from mrr_warehouse.server.routes_common import (
    PER_PAGE,
    Refused,
    body_of,
    endpoint,
    find,
    json_response,
    land,
    listing,
    now,
    page,
    read,
    refuse_rejected,
    source_of,
    state,
)


async def _invoices(request: Request, source_uuid: str | None, **filters: Any) -> list[dict[str, Any]]:
    per_page, offset = filters.pop("page", (PER_PAGE, 0))

    def read(con: Any) -> list[dict[str, Any]]:
        invoices = store.latest(
            con, "invoice", data_source_uuid=source_uuid, limit=per_page, offset=offset, **filters
        )
        keys = [key for _, key, _ in invoices]
        lines = store.latest(
            con, "line_item", data_source_uuid=source_uuid, invoice_external_ids=keys, limit=10**9
        )
        transactions = store.latest(
            con, "transaction", data_source_uuid=source_uuid, invoice_external_ids=keys, limit=10**9
        )
        return [
            views.invoice(
                ds,
                key,
                body,
                [(k, b) for d, k, b in lines if d == ds and b.get("invoice_external_id", _parent(k)) == key],
                [
                    (k, b)
                    for d, k, b in transactions
                    if d == ds and b.get("invoice_external_id", _parent(k)) == key
                ],
            )
            for ds, key, body in invoices
        ]

    return await state(request).run(read)


def _parent(key: str) -> str:
    return key.split("#", 1)[0]


@endpoint
async def import_invoices(request: Request) -> Response:
    customer_uuid = request.path_params["uuid"]
    source, _ = await find(request, "customer", customer_uuid)
    text, body = await body_of(request)
    result = await land(request, source, text, body, ("invoice_import",))
    outcome = result.outcome
    if outcome.rejected:
        # Valid invoices of the request landed; each rejected one is listed with its fields at fault.
        raise Refused(422, **{k: v for k, v in views.unprocessable(outcome.errors).items() if k != "code"})
    keys = [
        invoice["external_id"]
        for invoice in body.get("invoices") or []
        if isinstance(invoice, dict) and isinstance(invoice.get("external_id"), str)
    ]
    invoices = await _invoices(request, source.uuid, page=(len(keys) + 1, 0), external_ids=keys)
    return json_response({"invoices": invoices, "customer_uuid": customer_uuid})


@endpoint
async def list_customer_invoices(request: Request) -> Response:
    source, external_id = await find(request, "customer", request.path_params["uuid"])
    per_page, offset = page(request)
    found = await _invoices(
        request, source.uuid, page=(per_page + 1, offset), where_json={"customer_external_id": external_id}
    )
    return listing("invoices", found, per_page, offset, customer_uuid=request.path_params["uuid"])


@endpoint
async def list_invoices(request: Request) -> Response:
    params = request.query_params
    per_page, offset = page(request)
    where = {}
    if customer_uuid := params.get("customer_uuid"):
        _, customer = await find(request, "customer", customer_uuid)
        where["customer_external_id"] = customer
    found = await _invoices(
        request,
        params.get("data_source_uuid"),
        page=(per_page + 1, offset),
        external_id=params.get("external_id"),
        where_json=where,
    )
    return listing("invoices", found, per_page, offset)


@endpoint
async def list_customer_subscriptions(request: Request) -> Response:
    """The customer's subscriptions in the Import API's shape (the tutorial finds the uuid to cancel here)."""
    customer_uuid = request.path_params["uuid"]
    source, customer = await find(request, "customer", customer_uuid)
    rows = await read(request, store.customer_subscriptions, source.uuid, customer)
    subscriptions = [
        {
            "uuid": views.uuid_of("sub", source.uuid, "subscription", subscription),
            "external_id": subscription,
            "customer_uuid": customer_uuid,
            "data_source_uuid": source.uuid,
            "plan_uuid": views.uuid_of("pl", source.uuid, "plan", plan) if plan else None,
            "cancellation_dates": dates,
        }
        for subscription, plan, dates in rows
    ]
    return json_response(
        {"customer_uuid": customer_uuid, "subscriptions": subscriptions, "has_more": False, "cursor": None}
    )


@endpoint
async def create_transaction(request: Request) -> Response:
    source, invoice = await find(request, "invoice", request.path_params["uuid"])
    text, body = await body_of(request)
    refuse_rejected(await land(request, source, text, body, ("invoice_transaction",)))
    key = body.get("external_id") if isinstance(body.get("external_id"), str) else f"{invoice}#{now()}"
    return json_response(views.transaction(source.uuid, key, body))


@endpoint
async def cancel_subscription(request: Request) -> Response:
    uuid = request.path_params["uuid"]
    source, subscription = await find(request, "subscription", uuid)
    text, body = await body_of(request)
    refuse_rejected(await land(request, source, text, body, ("cancellation",)))
    dates = body.get("cancellation_dates")
    if dates is None:
        dates = [body["cancelled_at"]] if body.get("cancelled_at") else []
    return json_response(
        {
            "uuid": uuid,
            "external_id": subscription,
            "data_source_uuid": source.uuid,
            "cancellation_dates": dates,
        }
    )


# --------------------------------------------------------------------------------------------------------------
# Subscription events and contacts.


@endpoint
async def create_subscription_event(request: Request) -> Response:
    text, body = await body_of(request)
    event = body.get("subscription_event") if isinstance(body.get("subscription_event"), dict) else body
    source = await source_of(request, event.get("data_source_uuid"), status=422)
    refuse_rejected(await land(request, source, text, body, ("subscription_event",)))
    return json_response(views.subscription_event(source.uuid, event.get("external_id") or "", event))


@endpoint
async def list_subscription_events(request: Request) -> Response:
    per_page, offset = page(request)
    params = request.query_params
    where = {
        name: params[name]
        for name in ("customer_external_id", "subscription_external_id", "event_type")
        if params.get(name)
    }
    rows = await read(
        request,
        store.latest,
        "subscription_event",
        data_source_uuid=params.get("data_source_uuid"),
        external_id=params.get("external_id"),
        where_json=where,
        limit=per_page + 1,
        offset=offset,
    )
    events = [views.subscription_event(ds, key, body) for ds, key, body in rows]
    return listing("subscription_events", events, per_page, offset)


@endpoint
async def retract_subscription_event(request: Request) -> Response:
    """ChartMogul's DELETE of a subscription event, as a retraction that lands like any event: a
    `subscription_event_retracted` event naming it (SPEC 3.3), so the history keeps both."""
    _, body = await body_of(request)
    wanted = body.get("subscription_event") if isinstance(body.get("subscription_event"), dict) else body
    rows = await read(
        request,
        store.latest,
        "subscription_event",
        data_source_uuid=wanted.get("data_source_uuid"),
        external_id=wanted.get("external_id"),
        limit=10**9,
    )
    event_id = wanted.get("id")
    found = next(
        (
            (ds, key, event)
            for ds, key, event in rows
            if event_id is None or views.stable_id(ds, "subscription_event", key) == event_id
        ),
        None,
    )
    if found is None or (event_id is None and wanted.get("external_id") is None):
        raise Refused(404, "subscription event not found")
    ds, key, event = found
    at = now()
    retraction = {
        "data_source_uuid": ds,
        "external_id": f"{key}#retracted",
        "customer_external_id": event.get("customer_external_id"),
        "subscription_external_id": event.get("subscription_external_id"),
        "event_type": "subscription_event_retracted",
        "event_date": at,
        "effective_date": event.get("effective_date") or at,
        "retracted_event_id": key,
    }
    landed = {"subscription_event": {k: v for k, v in retraction.items() if v is not None}}
    source = await source_of(request, ds)
    text = orjson.dumps(landed).decode()
    refuse_rejected(await land(request, source, text, landed, ("subscription_event",)))
    return Response(status_code=204)


@endpoint
async def create_contact(request: Request) -> Response:
    text, body = await body_of(request)
    source = await source_of(request, body.get("data_source_uuid"), status=422)
    result = await land(request, source, text, body, ("contact",))
    refuse_rejected(result)
    customer = body.get("customer_external_id")
    if customer is None and isinstance(body.get("customer_uuid"), str):
        customer = (await find(request, "customer", body["customer_uuid"]))[1]
    key = body.get("external_id") or f"{customer}#{body.get('email') or ''}"
    return json_response(views.contact(source.uuid, key, {**body, "customer_external_id": customer}))


@endpoint
async def create_customer_contact(request: Request) -> Response:
    """Customer.createContact: the customer is named by the path only."""
    source, customer = await find(request, "customer", request.path_params["uuid"])
    text, body = await body_of(request)
    refuse_rejected(await land(request, source, text, body, ("contact",)))
    key = body.get("external_id") or f"{customer}#{body.get('email') or ''}"
    return json_response(views.contact(source.uuid, key, {**body, "customer_external_id": customer}))


@endpoint
async def list_contacts(request: Request) -> Response:
    per_page, offset = page(request)
    params = request.query_params
    where = {name: params[name] for name in ("customer_external_id", "email") if params.get(name)}
    rows = await read(
        request,
        store.latest,
        "contact",
        data_source_uuid=params.get("data_source_uuid"),
        where_json=where,
        limit=per_page + 1,
        offset=offset,
    )
    return listing("entries", [views.contact(ds, key, body) for ds, key, body in rows], per_page, offset)
