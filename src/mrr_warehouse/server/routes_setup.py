"""Import API endpoints: ping, data sources (and their bulk imports), customers, plans."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mrr_warehouse import lifecycle
from mrr_warehouse.schema import data_source_uuid as uuid_for_name
from mrr_warehouse.server import store, views
from mrr_warehouse.server.routes_common import (
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
from mrr_warehouse.sources import DataSource


@endpoint
async def ping(request: Request) -> Response:
    return json_response({"data": "pong!"})


@endpoint
async def create_data_source(request: Request) -> Response:
    text, body = await body_of(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Refused(422, "name is required", errors={"name": "is required"})
    rows = await read(request, store.data_sources)
    existing = next((row for row in rows if row[1] == name), None)
    source = DataSource(existing[0], name) if existing else DataSource(uuid_for_name(name), name)
    refuse_rejected(await land(request, source, text, body, ("data_source",)))
    rows = await read(request, store.data_sources)
    return json_response(views.data_source(next(row for row in rows if row[0] == source.uuid)))


@endpoint
async def list_data_sources(request: Request) -> Response:
    rows = await read(request, store.data_sources)
    name = request.query_params.get("name")
    return json_response(
        {"data_sources": [views.data_source(row) for row in rows if name is None or row[1] == name]}
    )


async def _data_source_row(request: Request) -> tuple[Any, ...]:
    uuid = request.path_params["uuid"]
    rows = await read(request, store.data_sources)
    row = next((row for row in rows if row[0] == uuid), None)
    if row is None:
        raise Refused(404, f"data source {uuid} not found")
    return row


@endpoint
async def retrieve_data_source(request: Request) -> Response:
    return json_response(views.data_source(await _data_source_row(request)))


@endpoint
async def delete_data_source(request: Request) -> Response:
    row = await _data_source_row(request)
    server = state(request)

    def delete(con: Any) -> None:
        lifecycle.delete_data_source(con, DataSource(row[0], row[1]))
        server.writer.compact_on_close = True  # no byte of the source may remain in the file

    await server.run(delete)
    server.known.clear()
    server.sources_read_at = -1e9
    return Response(status_code=204)


@endpoint
async def create_json_import(request: Request) -> Response:
    source = await source_of(request, request.path_params["uuid"])
    text, body = await body_of(request)
    expected = ("bulk", "invoice_import", "subscription_events", "contacts")
    result = await land(request, source, text, body, expected, alone=True)
    return json_response(await _import_status(request, source.uuid, result.load_id, body.get("external_id")))


async def _import_status(
    request: Request, source_uuid: str, load_id: str, external_id: Any
) -> dict[str, Any]:
    row = await read(request, store.load_status, load_id)
    if row is None or row[0] != source_uuid:
        raise Refused(404, f"import {load_id} not found")
    errors = await read(request, store.load_errors, load_id)
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
    source = await source_of(request, request.path_params["uuid"])
    return json_response(await _import_status(request, source.uuid, request.path_params["id"], None))


# --------------------------------------------------------------------------------------------------------------
# Customers and plans.


@endpoint
async def create_customer(request: Request) -> Response:
    text, body = await body_of(request)
    source = await source_of(request, body.get("data_source_uuid"), status=422)
    refuse_rejected(await land(request, source, text, body, ("customer",)))
    view = views.customer(source.uuid, body)
    state(request).known[view["uuid"]] = (source.uuid, body.get("external_id"))
    return json_response(view)


async def _customer(request: Request) -> tuple[DataSource, str, dict[str, Any]]:
    source, external_id = await find(request, "customer", request.path_params["uuid"])
    rows = await read(
        request, store.latest, "customer", data_source_uuid=source.uuid, external_id=external_id
    )
    if not rows:
        raise Refused(404, f"customer {request.path_params['uuid']} not found")
    return source, external_id, rows[0][2]


@endpoint
async def retrieve_customer(request: Request) -> Response:
    source, _, body = await _customer(request)
    return json_response(views.customer(source.uuid, body))


@endpoint
async def update_customer(request: Request) -> Response:
    source, external_id, current = await _customer(request)
    _, changes = await body_of(request)
    # The new version is the current one with the changed fields (a PUT names only what changes); it is landed,
    # and kept in raw.requests, as a whole customer.
    merged = {**current, **changes, "external_id": external_id, "data_source_uuid": source.uuid}
    refuse_rejected(await land(request, source, orjson.dumps(merged).decode(), merged, ("customer",)))
    return json_response(views.customer(source.uuid, merged))


@endpoint
async def delete_customer(request: Request) -> Response:
    source, external_id, _ = await _customer(request)
    body = {"deleted_customers": [{"external_id": external_id, "deleted_at": now()}]}
    await land(request, source, orjson.dumps(body).decode(), body, ("deleted_customers",), deletes=True)
    state(request).known.pop(request.path_params["uuid"], None)
    return Response(status_code=204)


@endpoint
async def list_customers(request: Request) -> Response:
    per_page, offset = page(request)
    params = request.query_params
    rows = await read(
        request,
        store.latest,
        "customer",
        data_source_uuid=params.get("data_source_uuid"),
        external_id=params.get("external_id"),
        limit=per_page + 1,
        offset=offset,
    )
    return listing("entries", [views.customer(ds, body) for ds, _, body in rows], per_page, offset)


@endpoint
async def create_plan(request: Request) -> Response:
    text, body = await body_of(request)
    source = await source_of(request, body.get("data_source_uuid"), status=422)
    refuse_rejected(await land(request, source, text, body, ("plan",)))
    key = body.get("external_id") or body.get("name")
    view = views.plan(source.uuid, key, body)
    state(request).known[view["uuid"]] = (source.uuid, key)
    return json_response(view)


@endpoint
async def list_plans(request: Request) -> Response:
    per_page, offset = page(request)
    params = request.query_params
    rows = await read(
        request,
        store.latest,
        "plan",
        data_source_uuid=params.get("data_source_uuid"),
        external_id=params.get("external_id"),
        limit=per_page + 1,
        offset=offset,
    )
    return listing("plans", [views.plan(ds, key, body) for ds, key, body in rows], per_page, offset)


@endpoint
async def retrieve_plan(request: Request) -> Response:
    source, key = await find(request, "plan", request.path_params["uuid"])
    rows = await read(request, store.latest, "plan", data_source_uuid=source.uuid, external_id=key)
    if not rows:
        raise Refused(404, f"plan {request.path_params['uuid']} not found")
    return json_response(views.plan(source.uuid, key, rows[0][2]))
