"""Loading one file into the warehouse (SPEC 2): per-object validation, identity and idempotency, one
transaction per file.

Objects of a request are taken in dependency order (customers, plans, invoices with their nested line items
and transactions, flat line items, flat transactions, subscription events, contacts) and in batches: before a
batch is judged, everything accepted so far is flushed into raw.objects inside the open transaction, so "is
this customer/plan/invoice known?" and "did this identity land before?" are answered by the database alone.

Identity = (data source, object_type, key):
- customer, plan, invoice, subscription_event: `external_id` (a plan without one: its `name`).
- contact: `external_id`, else `<customer_external_id>#<email>`.
- line_item: `external_id`, else `<invoice_external_id>#<n>` (n: its index among the invoice's line items in
  the request).
- transaction: `external_id`, else `<invoice_external_id>#<content_hash>#<k>` (k: occurrence among identical
  ones), so a transaction added to an invoice later lands as a new one.
- cancellation: the content hash of the (normalised) request.
Same key and content as the newest version: unchanged. Different content: customers, plans, contacts and
subscription events land a new version (dbt takes the newest object_seq); invoices, line items and
transactions are immutable and the new content is rejected. An invoice lands whole: when one of its nested
line items is invalid, the invoice and all its nested objects are rejected (otherwise the corrected invoice
could never land, being "different content").
"""

from __future__ import annotations

import gc
import os
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse import display, landing, object_types, reading, shapes
from mrr_warehouse.landing import utcnow
from mrr_warehouse.loading.batches import Batches
from mrr_warehouse.loading.context import LoadContext, RequestState
from mrr_warehouse.loading.items import guarded
from mrr_warehouse.loading.land import Land, classify, newest
from mrr_warehouse.loading.prepare import Prepare
from mrr_warehouse.loading.references import References
from mrr_warehouse.loading.report import Report
from mrr_warehouse.loading.single import Single
from mrr_warehouse.sources import DataSource
from mrr_warehouse.validation import Problem


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


BATCH_SIZE = _env_int("MRR_WAREHOUSE_BATCH_SIZE", 50_000)
PROGRESS_EVERY = _env_int("MRR_WAREHOUSE_PROGRESS_EVERY", 100_000)

# Load statuses (main.loads.status).
COMPLETED = "completed"
COMPLETED_WITH_ERRORS = "completed_with_errors"
REJECTED_STRICT = "rejected_strict"
FAILED = "failed"

BULK_SHAPES = ("bulk", "invoice_import", "subscription_events", "contacts")


@dataclass(slots=True)
class FileResult:
    file: str
    load_id: str
    status: str
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    warnings: int = 0
    message: str | None = None

    @property
    def exit_code(self) -> int:
        if self.status == FAILED:
            return 2
        return 1 if self.rejected else 0

    def summary(self) -> str:
        if self.status == FAILED:
            return f"{self.file}: failed, nothing landed: {self.message}"
        warnings = f"{self.warnings} warning" + ("" if self.warnings == 1 else "s")
        counts = f"{self.accepted} accepted, {self.rejected} rejected, {self.unchanged} unchanged, {warnings}"
        if self.status == REJECTED_STRICT:
            return f"{self.file}: rejected (--strict), nothing landed: {counts} (load {self.load_id})"
        return f"{self.file}: {self.status}: {counts} (load {self.load_id})"


@dataclass(slots=True)
class RequestOutcome:
    """What one request of a load did (for the Import API server's answer)."""

    accepted: int
    rejected: int
    unchanged: int
    errors: list[Problem]


def new_load_id(started_at: Any) -> str:
    return f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


class FileLoad:
    """Loads one file in one transaction and records it in main.loads: for each request, read -> recognise ->
    the steps of its shape (loading/), then keep the request verbatim when any of its objects landed."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        source: DataSource,
        *,
        strict: bool = False,
        say: Callable[[str], None] = display.say,
        note: Callable[[str], None] = display.note,
        batch_size: int | None = None,
        progress_every: int | None = None,
        stream_threshold: int | None = None,
        requests: Iterable[reading.RawRequest] | None = None,
        on_request: Callable[[int, RequestOutcome], None] | None = None,
    ) -> None:
        self.path = path
        self.file = str(path)
        # Requests already in memory (the Import API server's): loaded exactly like a file's, `path` only names
        # them (main.loads.file, raw.requests.file); `on_request` hears each request's own outcome.
        self.requests = list(requests) if requests is not None else None
        self.on_request = on_request
        self.note = note
        self.stream_threshold = stream_threshold
        started_at = utcnow()
        load_id = new_load_id(started_at)
        batch_size = batch_size or BATCH_SIZE
        self.report = Report(
            con,
            file=self.file,
            load_id=load_id,
            data_source_uuid=source.uuid,
            strict=strict,
            say=say,
            note=note,
            progress_every=progress_every or PROGRESS_EVERY,
        )
        writer = landing.ObjectWriter(
            con,
            load_id=load_id,
            data_source_uuid=source.uuid,
            file=self.file,
            loaded_at=started_at,
            batch_size=batch_size,
        )
        self.ctx = LoadContext(
            con, source, path, self.file, load_id, started_at, strict, batch_size, self.report, writer
        )
        refs = References(self.ctx)
        prepare = Prepare(self.ctx, refs)
        self.land = Land(self.ctx, refs)
        self.batches = Batches(self.ctx, refs, prepare, self.land)
        self.single = Single(self.ctx, self.batches)
        self.request_hashes: set[str] | None = None  # of this data source's kept requests

    @property
    def load_id(self) -> str:
        return self.ctx.load_id

    # ----------------------------------------------------------------------------------------------------------
    # The file: one transaction.

    def run(self) -> FileResult:
        # The loader's objects hold no reference cycles; the cyclic collector walking millions of live
        # objects would cost ~40% of the run. Reference counting still frees everything.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if collecting:
                gc.enable()

    def _run(self) -> FileResult:
        con = self.ctx.con
        landing.run(con, "begin transaction")
        try:
            self._load_requests()
            self.ctx.flush()
            if self.ctx.strict and self.report.rejected:
                landing.run(con, "rollback")
                return self._finish(REJECTED_STRICT)
            status = COMPLETED_WITH_ERRORS if self.report.rejected else COMPLETED
            self._write_load(status)
            landing.run(con, "commit")
            return self._result(status)
        except (reading.ReadError, shapes.ShapeError) as exc:
            self._rollback()
            return self._finish(FAILED, str(exc))
        except Exception as exc:
            self._rollback()
            for line in "".join(traceback.format_exception(exc)).rstrip().splitlines():
                self.note(line)
            return self._finish(FAILED, f"internal error: {type(exc).__name__}: {exc}")

    def _rollback(self) -> None:
        try:
            landing.run(self.ctx.con, "rollback")
        except duckdb.Error:
            pass

    def _finish(self, status: str, message: str | None = None) -> FileResult:
        """Record a load whose objects did not land (strict rejection, failure) in a transaction of its own."""
        if status == FAILED:
            self.report.failed(message or "failed")
        else:
            self.report.accepted = 0
        try:
            landing.run(self.ctx.con, "begin transaction")
            self._write_load(status)
            landing.run(self.ctx.con, "commit")
        except duckdb.Error as exc:  # the load cannot even be recorded: say so, keep the exit status
            self._rollback()
            self.note(f"{self.file}: could not record the load in main.loads: {exc}")
        return self._result(status, message)

    def _result(self, status: str, message: str | None = None) -> FileResult:
        report = self.report
        return FileResult(
            self.file,
            self.load_id,
            status,
            report.accepted,
            report.rejected,
            report.unchanged,
            report.warning_count,
            message,
        )

    def _write_load(self, status: str) -> None:
        self.report.flush()
        report, ctx = self.report, self.ctx
        landing.insert_load(
            ctx.con,
            load_id=ctx.load_id,
            file=self.file,
            data_source_uuid=ctx.source.uuid,
            data_source_name=ctx.source.name,
            content_hash=self._file_hash(),
            status=status,
            strict=ctx.strict,
            objects_accepted=report.accepted,
            objects_rejected=report.rejected,
            objects_unchanged=report.unchanged,
            warnings=report.warning_count,
            started_at=ctx.started_at,
            finished_at=utcnow(),
        )

    def _file_hash(self) -> str | None:
        if self.requests is not None:
            return None
        try:
            return reading.file_hash(self.path)
        except OSError:
            return None

    # ----------------------------------------------------------------------------------------------------------
    # Requests: read -> recognise -> the steps of the shape.

    def _load_requests(self) -> None:
        if self.requests is not None:
            self._load_in_memory(self.requests)
            return
        for raw in reading.iter_requests(self.path, self.stream_threshold):
            request = self._recognise(raw)
            self._reported(raw, lambda raw=raw, request=request: self._load_request(raw, request))

    @staticmethod
    def _recognise(raw: reading.RawRequest) -> shapes.Request:
        where = f"line {raw.line}: " if raw.line is not None else ""
        try:
            return shapes.recognise(raw.body)
        except shapes.ShapeError as exc:
            raise shapes.ShapeError(f"{where}{exc}") from None

    def _reported(self, raw: reading.RawRequest, load: Callable[[], None]) -> None:
        """Load one request; tell `on_request` what it alone did."""
        before = self.report.counts()
        self.report.request_errors = []
        load()
        if self.on_request is not None:
            accepted, rejected, unchanged = (
                now - then for now, then in zip(self.report.counts(), before, strict=True)
            )
            self.on_request(
                raw.index, RequestOutcome(accepted, rejected, unchanged, self.report.request_errors)
            )

    def _load_request(self, raw: reading.RawRequest, request: shapes.Request) -> None:
        new_request, inserted_early = self._start_request(raw, request)
        shape = request.shape
        if shape in BULK_SHAPES:
            self.batches.bulk(request)
        elif shape in object_types.SINGLE_OBJECT_SHAPES:
            self.batches.simple(shape, [(None, _single_object(request))])
        elif shape == "cancellation":
            self.single.guarded("cancellation", lambda: self.single.cancellation(request))
        elif shape == "data_source":
            self.single.guarded("data_source", lambda: self.single.data_source(request.body.to_dict()))
        elif shape == "invoice_transaction":
            self.single.invoice_transaction(request)
        elif shape == "deleted_customers":
            self.single.deleted_customers(enumerate(request.body.iter_array("deleted_customers")))
        else:  # pragma: no cover - recognise() only returns the shapes above
            raise shapes.ShapeError(f"unsupported request shape {shape}")
        self._end_request(raw, new_request, inserted_early)

    def _load_in_memory(self, requests: list[reading.RawRequest]) -> None:
        """The server's batch of requests. Consecutive single-object requests of one shape (customer creates from
        many clients, say) are judged together, with one lookup for all, as the objects of one bulk request are;
        each request still lands, is kept and is reported as if loaded alone."""
        group: list[tuple[reading.RawRequest, shapes.Request]] = []
        for raw in requests:
            request = self._recognise(raw)
            if request.shape in object_types.SINGLE_OBJECT_SHAPES:
                if group and group[0][1].shape != request.shape:
                    self._load_single_objects(group)
                    group = []
                group.append((raw, request))
                continue
            if group:
                self._load_single_objects(group)
                group = []
            self._reported(raw, lambda raw=raw, request=request: self._load_request(raw, request))
        if group:
            self._load_single_objects(group)

    def _load_single_objects(self, group: list[tuple[reading.RawRequest, shapes.Request]]) -> None:
        ctx, refs = self.ctx, self.batches.refs
        object_type = group[0][1].shape
        ctx.flush()
        items = []
        for _, request in group:
            ctx.request.source_uuid = request.data_source_uuid
            items.append(guarded(object_type, None, _single_object(request), self.batches.prepare.simple))
        wanted = {(object_type, item.key) for item in items if item.valid and item.key}
        known = refs.lookup(wanted | refs.wanted_customers(items))
        refs.check_customers(items, known)
        seen: dict[str, str] = {}

        def judge(raw: reading.RawRequest, request: shapes.Request, item: Any) -> None:
            new_request, inserted_early = self._start_request(raw, request)
            self.land.settle(item, classify(item, newest(item, seen, known)), seen)
            self.report.counted(1)
            self._end_request(raw, new_request, inserted_early)

        for (raw, request), item in zip(group, items, strict=True):
            self._reported(raw, lambda raw=raw, request=request, item=item: judge(raw, request, item))

    # ----------------------------------------------------------------------------------------------------------
    # Keeping requests verbatim (raw.requests): those of which an object landed, once per data source.

    def _start_request(self, raw: reading.RawRequest, request: shapes.Request) -> tuple[bool, bool]:
        """Per-request state; (is the request new, was it inserted into raw.requests already)."""
        ctx = self.ctx
        ctx.request = RequestState(index=raw.index, source_uuid=request.data_source_uuid)
        for key in request.ignored_keys:
            self.report.warn(Problem(None, None, None, key, "unknown top-level member, ignored"))
        if self.request_hashes is None:
            # In-memory requests: only whether these were landed before matters (not all of the source's).
            among = [each.content_hash for each in self.requests] if self.requests is not None else None
            self.request_hashes = landing.request_hashes(ctx.con, ctx.source.uuid, among)
        new_request = raw.content_hash not in self.request_hashes
        inserted_early = new_request and raw.text is None
        if inserted_early:
            # A large single-request file: DuckDB reads it now, while little else is in memory (it costs DuckDB
            # a few times its size); it comes out again if none of its objects land.
            landing.insert_request(
                ctx.con,
                load_id=ctx.load_id,
                request_index=raw.index,
                data_source_uuid=ctx.source.uuid,
                file=self.file,
                path=self.path,
                content_hash=raw.content_hash,
                text=None,
                loaded_at=ctx.started_at,
            )
        return new_request, inserted_early

    def _end_request(self, raw: reading.RawRequest, new_request: bool, inserted_early: bool) -> None:
        if new_request and self.ctx.request.landed:
            assert self.request_hashes is not None
            self.request_hashes.add(raw.content_hash)
            if not inserted_early:
                self._keep_request(raw)
        elif inserted_early:
            landing.delete_request(self.ctx.con, self.load_id, raw.index)

    def _keep_request(self, raw: reading.RawRequest) -> None:
        """Queue a landed request for raw.requests (written with the next flush: one insert per many)."""
        ctx = self.ctx
        text = raw.text or ""
        ctx.pending_requests.append(
            (ctx.load_id, raw.index, ctx.source.uuid, self.file, raw.content_hash, text, ctx.started_at)
        )
        ctx.pending_request_bytes += len(text)
        if len(ctx.pending_requests) >= 1000 or ctx.pending_request_bytes >= 16 * 1024 * 1024:
            ctx.flush()


def _single_object(request: shapes.Request) -> Any:
    """The object of a single-object request; a contact whose customer only the path names gets its uuid."""
    obj = request.body.to_dict()
    if (
        request.shape == "contact"
        and request.customer_uuid is not None
        and obj.get("customer_external_id") is None
        and obj.get("customer_uuid") is None
    ):
        obj = {**obj, "customer_uuid": request.customer_uuid}
    return obj
