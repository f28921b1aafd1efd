"""What the Import API endpoints share: refusals in ChartMogul's error shape, reading the body, finding the data
source or object a request names, and handing a write to the writer as the envelope a recorded request file
would hold ({"method", "path", "body"}), landed by the loader exactly like `mrr-warehouse load`."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mrr_warehouse import shapes
from mrr_warehouse.reading import DictBody
from mrr_warehouse.server import store, views
from mrr_warehouse.server.writer import WriteJob, WriteResult
from mrr_warehouse.sources import DataSource

PER_PAGE = 200


class Refused(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.response = json_response({"code": status, "message": message, **extra}, status)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def endpoint(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refused:
            return refused.response

    return wrapper


def state(request: Request) -> Any:
    return request.app.state.server


async def read(request: Request, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await state(request).run(lambda con: run(con, *args, **kwargs))


async def body_of(request: Request) -> tuple[str, dict[str, Any]]:
    raw = await request.body()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Refused(400, "the request body must be a JSON object")
    return raw.decode().strip(), value


async def source_of(request: Request, uuid: Any, *, status: int = 404) -> DataSource:
    if not isinstance(uuid, str):
        raise Refused(422, "data_source_uuid is required", errors={"data_source_uuid": "is required"})
    source = await state(request).data_source(uuid)
    if source is None:
        raise Refused(status, f"data source {uuid} not found", errors={"data_source_uuid": "not found"})
    return source


async def find(request: Request, object_type: str, uuid: str) -> tuple[DataSource, str]:
    """The data source and external id of the object a path names by its warehouse uuid (404 when unknown)."""
    known = state(request).known
    found = known.get(uuid)
    if found is None:
        if object_type == "subscription":
            found = await read(request, store.find_subscription, uuid)
        else:
            found = await read(request, store.find, object_type, uuid)
        if found is None:
            raise Refused(404, f"{object_type} {uuid} not found")
        known[uuid] = found
    return await source_of(request, found[0]), found[1]


async def land(
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
    return await asyncio.wrap_future(state(request).writer.submit(job))


def refuse_rejected(result: WriteResult) -> None:
    """A request whose objects were all rejected is answered 422 with ChartMogul's error body."""
    outcome = result.outcome
    if outcome.rejected and not outcome.accepted and not outcome.unchanged:
        raise Refused(422, **{k: v for k, v in views.unprocessable(outcome.errors).items() if k != "code"})


def page(request: Request) -> tuple[int, int]:
    try:
        per_page = min(max(int(request.query_params.get("per_page", PER_PAGE)), 1), 1000)
        offset = max(int(request.query_params.get("cursor") or 0), 0)
    except ValueError:
        raise Refused(400, "per_page and cursor must be integers") from None
    return per_page, offset


def listing(key: str, entries: list[Any], per_page: int, offset: int, **extra: Any) -> Response:
    has_more = len(entries) > per_page
    return json_response(
        {
            key: entries[:per_page],
            "has_more": has_more,
            "cursor": str(offset + per_page) if has_more else None,
            **extra,
        }
    )


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
