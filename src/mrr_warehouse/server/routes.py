"""The Import API v1 endpoints. Every write is handed to the writer as the envelope a recorded request file
would hold ({"method", "path", "body"}) and landed by the loader, exactly like `mrr-warehouse load`."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mrr_warehouse import lifecycle, shapes
from mrr_warehouse.reading import DictBody
from mrr_warehouse.schema import data_source_uuid as uuid_for_name
from mrr_warehouse.server import store, views
from mrr_warehouse.server.writer import WriteJob, WriteResult
from mrr_warehouse.sources import DataSource

PER_PAGE = 200


class Refused(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.response = _json({"code": status, "message": message, **extra}, status)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def endpoint(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refused:
            return refused.response

    return wrapper


def _state(request: Request) -> Any:
    return request.app.state.server


async def _read(request: Request, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await _state(request).run(lambda con: run(con, *args, **kwargs))


async def _body(request: Request) -> tuple[str, dict[str, Any]]:
    raw = await request.body()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Refused(400, "the request body must be a JSON object")
    return raw.decode().strip(), value


async def _source(request: Request, uuid: Any, *, status: int = 404) -> DataSource:
    if not isinstance(uuid, str):
        raise Refused(422, "data_source_uuid is required", errors={"data_source_uuid": "is required"})
    source = await _state(request).data_source(uuid)
    if source is None:
        raise Refused(status, f"data source {uuid} not found", errors={"data_source_uuid": "not found"})
    return source


async def _find(request: Request, object_type: str, uuid: str) -> tuple[DataSource, str]:
    """The data source and external id of the object a path names by its warehouse uuid (404 when unknown)."""
    known = _state(request).known
    found = known.get(uuid)
    if found is None:
        if object_type == "subscription":
            found = await _read(request, store.find_subscription, uuid)
        else:
            found = await _read(request, store.find, object_type, uuid)
        if found is None:
            raise Refused(404, f"{object_type} {uuid} not found")
        known[uuid] = found
    return await _source(request, found[0]), found[1]


async def _land(
    request: Request,
    source: DataSource,
    text: str,
    body: dict[str, Any],
    expected: tuple[str, ...],
    *,
    alone: bool = False,
    deletes: bool = False,
) -> WriteResult:
    path = request.url.path
    envelope = {"method": request.method, "path": path, "body": body}
    try:
        shape = shapes.recognise(DictBody(envelope)).shape
    except shapes.ShapeError as exc:
        raise Refused(422, str(exc)) from None
    if shape not in expected:
        raise Refused(422, f"the body is a {shape.replace('_', ' ')} request, not what {path} takes")
    head = orjson.dumps({"method": request.method, "path": path}).decode()[:-1]
    job = WriteJob(source, envelope, f'{head},"body":{text}}}', alone=alone, deletes_customers=deletes)
    return await asyncio.wrap_future(_state(request).writer.submit(job))


def _refuse_rejected(result: WriteResult) -> None:
    """A request whose objects were all rejected is answered 422 with ChartMogul's error body."""
    outcome = result.outcome
    if outcome.rejected and not outcome.accepted and not outcome.unchanged:
        raise Refused(422, **{k: v for k, v in views.unprocessable(outcome.errors).items() if k != "code"})


def _page(request: Request) -> tuple[int, int]:
    try:
        per_page = min(max(int(request.query_params.get("per_page", PER_PAGE)), 1), 1000)
        offset = max(int(request.query_params.get("cursor") or 0), 0)
    except ValueError:
        raise Refused(400, "per_page and cursor must be integers") from None
    return per_page, offset


def _listing(key: str, entries: list[Any], per_page: int, offset: int, **extra: Any) -> Response:
    has_more = len(entries) > per_page
    return _json(
        {
            key: entries[:per_page],
            "has_more": has_more,
            "cursor": str(offset + per_page) if has_more else None,
            **extra,
        }
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------------------------------------------
# Ping and data sources.


@endpoint
async def ping(request: Request) -> Response:
    return _json({"data": "pong!"})


@endpoint
async def create_data_source(request: Request) -> Response:
    text, body = await _body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Refused(422, "name is required", errors={"name": "is required"})
    rows = await _read(request, store.data_sources)
    existing = next((row for row in rows if row[1] == name), None)
    source = DataSource(existing[0], name) if existing else DataSource(uuid_for_name(name), name)
    _refuse_rejected(await _land(request, source, text, body, ("data_source",)))
    rows = await _read(request, store.data_sources)
    return _json(views.data_source(next(row for row in rows if row[0] == source.uuid)))


@endpoint
async def list_data_sources(request: Request) -> Response:
    rows = await _read(request, store.data_sources)
    name = request.query_params.get("name")
    return _json({"data_sources": [views.data_source(row) for row in rows if name is None or row[1] == name]})


async def _data_source_row(request: Request) -> tuple[Any, ...]:
    uuid = request.path_params["uuid"]
    rows = await _read(request, store.data_sources)
    row = next((row for row in rows if row[0] == uuid), None)
    if row is None:
        raise Refused(404, f"data source {uuid} not found")
    return row


@endpoint
async def retrieve_data_source(request: Request) -> Response:
    return _json(views.data_source(await _data_source_row(request)))


@endpoint
async def delete_data_source(request: Request) -> Response:
    row = await _data_source_row(request)
    state = _state(request)

    def delete(con: Any) -> None:
        lifecycle.delete_data_source(con, DataSource(row[0], row[1]))
        state.writer.compact_on_close = True  # no byte of the source may remain in the file

    await state.run(delete)
    state.known.clear()
    state.sources_read_at = -1e9
    return Response(status_code=204)


@endpoint
async def create_json_import(request: Request) -> Response:
    source = await _source(request, request.path_params["uuid"])
    text, body = await _body(request)
    expected = ("bulk", "invoice_import", "subscription_events", "contacts")
    result = await _land(request, source, text, body, expected, alone=True)
    return _json(await _import_status(request, source.uuid, result.load_id, body.get("external_id")))


async def _import_status(
    request: Request, source_uuid: str, load_id: str, external_id: Any
) -> dict[str, Any]:
    row = await _read(request, store.load_status, load_id)
    if row is None or row[0] != source_uuid:
        raise Refused(404, f"import {load_id} not found")
    errors = await _read(request, store.load_errors, load_id)
    _, status, accepted, rejected, unchanged, started_at, finished_at = row
    details = [
        {"object_type": e[0], "external_id": e[1], "position": e[2], "field": e[3], "message": e[4]}
        for e in errors
    ]
    return {
        "id": load_id,
        "data_source_uuid": source_uuid,
        "status": status,  # completed, completed_with_errors (some objects rejected: see status_details), failed
        "external_id": external_id if isinstance(external_id, str) else None,
        "created_at": started_at.isoformat() + "Z",
        "updated_at": (finished_at or started_at).isoformat() + "Z",
        "status_details": {
            "accepted": accepted,
            "rejected": rejected,
            "unchanged": unchanged,
            "errors": details,
        },
    }


@endpoint
async def retrieve_json_import(request: Request) -> Response:
    source = await _source(request, request.path_params["uuid"])
    return _json(await _import_status(request, source.uuid, request.path_params["id"], None))


# --------------------------------------------------------------------------------------------------------------
# Customers and plans.


@endpoint
async def create_customer(request: Request) -> Response:
    text, body = await _body(request)
    source = await _source(request, body.get("data_source_uuid"), status=422)
    _refuse_rejected(await _land(request, source, text, body, ("customer",)))
    view = views.customer(source.uuid, body)
    _state(request).known[view["uuid"]] = (source.uuid, body.get("external_id"))
    return _json(view)


async def _customer(request: Request) -> tuple[DataSource, str, dict[str, Any]]:
    source, external_id = await _find(request, "customer", request.path_params["uuid"])
    rows = await _read(
        request, store.latest, "customer", data_source_uuid=source.uuid, external_id=external_id
    )
    if not rows:
        raise Refused(404, f"customer {request.path_params['uuid']} not found")
    return source, external_id, rows[0][2]


@endpoint
async def retrieve_customer(request: Request) -> Response:
    source, _, body = await _customer(request)
    return _json(views.customer(source.uuid, body))


@endpoint
async def update_customer(request: Request) -> Response:
    source, external_id, current = await _customer(request)
    _, changes = await _body(request)
    # The new version is the current one with the changed fields (a PUT names only what changes); it is landed,
    # and kept in raw.requests, as a whole customer.
    merged = {**current, **changes, "external_id": external_id, "data_source_uuid": source.uuid}
    _refuse_rejected(await _land(request, source, orjson.dumps(merged).decode(), merged, ("customer",)))
    return _json(views.customer(source.uuid, merged))


@endpoint
async def delete_customer(request: Request) -> Response:
    source, external_id, _ = await _customer(request)
    body = {"deleted_customers": [{"external_id": external_id, "deleted_at": _now()}]}
    await _land(request, source, orjson.dumps(body).decode(), body, ("deleted_customers",), deletes=True)
    _state(request).known.pop(request.path_params["uuid"], None)
    return Response(status_code=204)


@endpoint
async def list_customers(request: Request) -> Response:
    per_page, offset = _page(request)
    params = request.query_params
    rows = await _read(
        request,
        store.latest,
        "customer",
        data_source_uuid=params.get("data_source_uuid"),
        external_id=params.get("external_id"),
        limit=per_page + 1,
        offset=offset,
    )
    return _listing("entries", [views.customer(ds, body) for ds, _, body in rows], per_page, offset)


@endpoint
async def create_plan(request: Request) -> Response:
    text, body = await _body(request)
    source = await _source(request, body.get("data_source_uuid"), status=422)
    _refuse_rejected(await _land(request, source, text, body, ("plan",)))
    key = body.get("external_id") or body.get("name")
    view = views.plan(source.uuid, key, body)
    _state(request).known[view["uuid"]] = (source.uuid, key)
    return _json(view)


@endpoint
async def list_plans(request: Request) -> Response:
    per_page, offset = _page(request)
    params = request.query_params
    rows = await _read(
        request,
        store.latest,
        "plan",
        data_source_uuid=params.get("data_source_uuid"),
        external_id=params.get("external_id"),
        limit=per_page + 1,
        offset=offset,
    )
    return _listing("plans", [views.plan(ds, key, body) for ds, key, body in rows], per_page, offset)


@endpoint
async def retrieve_plan(request: Request) -> Response:
    source, key = await _find(request, "plan", request.path_params["uuid"])
    rows = await _read(request, store.latest, "plan", data_source_uuid=source.uuid, external_id=key)
    if not rows:
        raise Refused(404, f"plan {request.path_params['uuid']} not found")
    return _json(views.plan(source.uuid, key, rows[0][2]))


# --------------------------------------------------------------------------------------------------------------
# Invoices, transactions, cancellations.


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

    return await _state(request).run(read)


def _parent(key: str) -> str:
    return key.split("#", 1)[0]


@endpoint
async def import_invoices(request: Request) -> Response:
    customer_uuid = request.path_params["uuid"]
    source, _ = await _find(request, "customer", customer_uuid)
    text, body = await _body(request)
    result = await _land(request, source, text, body, ("invoice_import",))
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
    return _json({"invoices": invoices, "customer_uuid": customer_uuid})


@endpoint
async def list_customer_invoices(request: Request) -> Response:
    source, external_id = await _find(request, "customer", request.path_params["uuid"])
    per_page, offset = _page(request)
    found = await _invoices(
        request, source.uuid, page=(per_page + 1, offset), where_json={"customer_external_id": external_id}
    )
    return _listing("invoices", found, per_page, offset, customer_uuid=request.path_params["uuid"])


@endpoint
async def list_invoices(request: Request) -> Response:
    params = request.query_params
    per_page, offset = _page(request)
    where = {}
    if customer_uuid := params.get("customer_uuid"):
        _, customer = await _find(request, "customer", customer_uuid)
        where["customer_external_id"] = customer
    found = await _invoices(
        request,
        params.get("data_source_uuid"),
        page=(per_page + 1, offset),
        external_id=params.get("external_id"),
        where_json=where,
    )
    return _listing("invoices", found, per_page, offset)


@endpoint
async def create_transaction(request: Request) -> Response:
    source, invoice = await _find(request, "invoice", request.path_params["uuid"])
    text, body = await _body(request)
    _refuse_rejected(await _land(request, source, text, body, ("invoice_transaction",)))
    key = body.get("external_id") if isinstance(body.get("external_id"), str) else f"{invoice}#{_now()}"
    return _json(views.transaction(source.uuid, key, body))


@endpoint
async def cancel_subscription(request: Request) -> Response:
    uuid = request.path_params["uuid"]
    source, subscription = await _find(request, "subscription", uuid)
    text, body = await _body(request)
    _refuse_rejected(await _land(request, source, text, body, ("cancellation",)))
    dates = body.get("cancellation_dates")
    if dates is None:
        dates = [body["cancelled_at"]] if body.get("cancelled_at") else []
    return _json(
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
    text, body = await _body(request)
    event = body.get("subscription_event") if isinstance(body.get("subscription_event"), dict) else body
    source = await _source(request, event.get("data_source_uuid"), status=422)
    _refuse_rejected(await _land(request, source, text, body, ("subscription_event",)))
    return _json(views.subscription_event(source.uuid, event.get("external_id") or "", event))


@endpoint
async def list_subscription_events(request: Request) -> Response:
    per_page, offset = _page(request)
    params = request.query_params
    where = {
        name: params[name]
        for name in ("customer_external_id", "subscription_external_id", "event_type")
        if params.get(name)
    }
    rows = await _read(
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
    return _listing("subscription_events", events, per_page, offset)


@endpoint
async def retract_subscription_event(request: Request) -> Response:
    """ChartMogul's DELETE of a subscription event, as a retraction that lands like any event: a
    `subscription_event_retracted` event naming it (SPEC 3.3), so the history keeps both."""
    _, body = await _body(request)
    wanted = body.get("subscription_event") if isinstance(body.get("subscription_event"), dict) else body
    rows = await _read(
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
    now = _now()
    retraction = {
        "data_source_uuid": ds,
        "external_id": f"{key}#retracted",
        "customer_external_id": event.get("customer_external_id"),
        "subscription_external_id": event.get("subscription_external_id"),
        "event_type": "subscription_event_retracted",
        "event_date": now,
        "effective_date": event.get("effective_date") or now,
        "retracted_event_id": key,
    }
    landed = {"subscription_event": {k: v for k, v in retraction.items() if v is not None}}
    source = await _source(request, ds)
    text = orjson.dumps(landed).decode()
    _refuse_rejected(await _land(request, source, text, landed, ("subscription_event",)))
    return Response(status_code=204)


@endpoint
async def create_contact(request: Request) -> Response:
    text, body = await _body(request)
    source = await _source(request, body.get("data_source_uuid"), status=422)
    result = await _land(request, source, text, body, ("contact",))
    _refuse_rejected(result)
    customer = body.get("customer_external_id")
    if customer is None and isinstance(body.get("customer_uuid"), str):
        customer = (await _find(request, "customer", body["customer_uuid"]))[1]
    key = body.get("external_id") or f"{customer}#{body.get('email') or ''}"
    return _json(views.contact(source.uuid, key, {**body, "customer_external_id": customer}))


@endpoint
async def list_contacts(request: Request) -> Response:
    per_page, offset = _page(request)
    params = request.query_params
    where = {name: params[name] for name in ("customer_external_id", "email") if params.get(name)}
    rows = await _read(
        request,
        store.latest,
        "contact",
        data_source_uuid=params.get("data_source_uuid"),
        where_json=where,
        limit=per_page + 1,
        offset=offset,
    )
    return _listing("entries", [views.contact(ds, key, body) for ds, key, body in rows], per_page, offset)


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
    Route("/v1/import/invoices/{uuid}/transactions", create_transaction, methods=["POST"]),
    Route("/v1/import/subscriptions/{uuid}", cancel_subscription, methods=["PATCH"]),
    Route("/v1/subscription_events", create_subscription_event, methods=["POST"]),
    Route("/v1/subscription_events", list_subscription_events, methods=["GET"]),
    Route("/v1/subscription_events", retract_subscription_event, methods=["DELETE"]),
    Route("/v1/contacts", create_contact, methods=["POST"]),
    Route("/v1/contacts", list_contacts, methods=["GET"]),
]
