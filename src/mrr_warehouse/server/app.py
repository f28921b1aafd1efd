"""The Import API server: a Starlette app (routes in routes.py), its writer thread, auth and limits.

Starlette + uvicorn: a small, well-kept ASGI stack with graceful shutdown (SIGTERM: stop accepting, finish the
requests in flight, then the lifespan's shutdown drains the writer's queue and closes the file).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from mrr_warehouse import landing
from mrr_warehouse.server import keys, routes, store
from mrr_warehouse.server.writer import LoadFailed, ReadJob, Unavailable, Writer
from mrr_warehouse.sources import DataSource

log = logging.getLogger("mrr_warehouse.server")

# A 10 MB json_imports request is accepted; larger bodies up to this limit too (override with the variable).
MAX_BODY_BYTES = int(os.environ.get("MRR_WAREHOUSE_MAX_BODY_BYTES") or 32 * 1024 * 1024)
# While another process (dbt build) holds the file, a request waits this long, then gets 503 + Retry-After.
LOCK_WAIT_SECONDS = float(os.environ.get("MRR_WAREHOUSE_SERVER_LOCK_WAIT") or 5)
RETRY_AFTER_SECONDS = 10
KEY_CACHE_SECONDS = 2.0
SOURCE_CACHE_SECONDS = 2.0


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def error(status: int, message: str, **extra: Any) -> Response:
    return json_response({"code": status, "message": message, **extra}, status)


class Guard:
    """Pure ASGI middleware: API key (HTTP Basic username), body size limit, and one log line per request
    holding no personal data (method, route template, status, duration; never the path's ids or the body)."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            response = await self._refuse(scope)
            if response is not None:
                await response(scope, receive, sending)
            else:
                await self.app(scope, self._limited(receive), sending)
        finally:
            log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                self._template(scope),
                status[0],
                (time.perf_counter() - started) * 1000,
            )

    async def _refuse(self, scope: Scope) -> Response | None:
        headers = dict(scope["headers"])
        key = _basic_username(headers.get(b"authorization", b""))
        if key is None or not await self.state.key_valid(key):
            return error(401, "Unauthorized: send your API key as the HTTP Basic username")
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error(413, f"request body larger than {MAX_BODY_BYTES:,} bytes")
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = [0]

        async def limited() -> Any:
            message = await receive()
            seen[0] += len(message.get("body", b""))
            if seen[0] > MAX_BODY_BYTES:
                raise BodyTooLarge()
            return message

        return limited

    def _template(self, scope: Scope) -> str:
        for route in routes.ROUTES:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route.path
        return "(no route)"


class BodyTooLarge(Exception):
    pass


def _basic_username(header: bytes) -> str | None:
    scheme, _, encoded = header.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, _, _ = decoded.partition(":")
    return username or None


class ServerState:
    def __init__(self, database: str) -> None:
        self.writer = Writer(database, LOCK_WAIT_SECONDS)
        self.key_hashes: set[str] = set()
        self.keys_read_at = -1e9
        # uuid -> (data source uuid, external id) of objects this server has seen; a miss asks the database.
        self.known: dict[str, tuple[str, str]] = {}
        self.sources: dict[str, DataSource] = {}
        self.sources_read_at = -1e9

    async def run(self, read: Any) -> Any:
        return await asyncio.wrap_future(self.writer.submit(ReadJob(read)))

    async def data_source(self, uuid: str) -> DataSource | None:
        """The data source with this uuid; re-read every few seconds (a CLI may delete or create one) and on a
        miss, so that writes need no read of their own."""
        stale = time.monotonic() - self.sources_read_at > SOURCE_CACHE_SECONDS
        if stale or uuid not in self.sources:
            rows = await self.run(store.data_sources)
            self.sources = {row[0]: DataSource(row[0], row[1]) for row in rows}
            self.sources_read_at = time.monotonic()
        return self.sources.get(uuid)

    async def key_valid(self, key: str) -> bool:
        if keys.env_key_matches(key):
            return True
        digest = keys.key_hash(key)
        # Stored keys are re-read every few seconds (so that a revocation takes effect) and on a miss.
        if digest not in self.key_hashes or time.monotonic() - self.keys_read_at > KEY_CACHE_SECONDS:
            if time.monotonic() - self.keys_read_at > 1.0:
                try:
                    self.key_hashes = await self.run(keys.active_hashes)
                except Unavailable:
                    pass  # keep the last known keys while dbt holds the file
                self.keys_read_at = time.monotonic()
        return digest in self.key_hashes


async def _unavailable(request: Request, exc: Exception) -> Response:
    response = error(503, "the warehouse is busy (another process holds the database file); retry")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _failed(request: Request, exc: Exception) -> Response:
    return error(500, f"the request could not be landed (nothing of it landed): {exc}")


async def _too_large(request: Request, exc: Exception) -> Response:
    return error(413, f"request body larger than {MAX_BODY_BYTES:,} bytes")


def create_app(database: str | None = None) -> Starlette:
    state = ServerState(database or landing.database_path())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.writer.start()
        try:
            yield
        finally:
            await asyncio.to_thread(state.writer.stop)

    app = Starlette(
        routes=routes.ROUTES,
        lifespan=lifespan,
        exception_handlers={Unavailable: _unavailable, LoadFailed: _failed, BodyTooLarge: _too_large},
    )
    app.state.server = state
    app.add_middleware(Guard, state=state)
    return app
