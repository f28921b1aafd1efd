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
import itertools
import os
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mrr_warehouse import display, landing, object_types, reading, shapes
from mrr_warehouse.landing import utcnow
from mrr_warehouse.schema import deterministic_uuid
from mrr_warehouse.sources import DataSource
from mrr_warehouse.validation import (
    Issue,
    Problem,
    canonical_json,
    parse_timestamp,
    sha256_hex,
    suspicious_transaction_date,
    unknown_country,
    validate,
)


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


BATCH_SIZE = _env_int("MRR_WAREHOUSE_BATCH_SIZE", 50_000)
PROGRESS_EVERY = _env_int("MRR_WAREHOUSE_PROGRESS_EVERY", 100_000)
MAX_PRINTED_PROBLEMS = 1000
PROBLEM_FLUSH_SIZE = 10_000

IMMUTABLE = object_types.IMMUTABLE
SINGLE_OBJECT_SHAPES = object_types.SINGLE_OBJECT_SHAPES

# Load statuses (main.loads.status).
COMPLETED = "completed"
COMPLETED_WITH_ERRORS = "completed_with_errors"
REJECTED_STRICT = "rejected_strict"
FAILED = "failed"


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


@dataclass(slots=True)
class Item:
    """One object of a request on its way to raw.objects."""

    object_type: str
    obj: Any
    position: int | None
    external_id: str | None = None  # the object's own external_id (for messages and load_errors)
    key: str | None = None  # identity key (raw.objects.external_id)
    invoice_external_id: str | None = None
    content_hash: str = ""
    body: str = ""  # str, not orjson's bytes: those keep a ~4 KB buffer each
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)  # reported when the object lands
    context: str | None = None  # "invoice X" for objects nested in an invoice
    customer: str | None = None  # the invoice's customer, for objects nested in an invoice

    @property
    def valid(self) -> bool:
        return not self.issues


@dataclass(slots=True)
class InvoiceGroup:
    invoice: Item
    customer_external_id: str | None
    line_items: list[Item]
    transactions: list[Item]


def _cancellation_unchanged(history: list[tuple[str, bool]], key: str, replaces_history: bool) -> bool:
    """A cancellation already landed is unchanged unless something landed after it that it would re-apply over:
    a later cancellation_dates request for its subscription (or, for a cancellation_dates request, any later
    cancellation of it)."""
    last = max((index for index, (landed, _) in enumerate(history) if landed == key), default=None)
    if last is None:
        return False
    later = history[last + 1 :]
    return not any(replaces for _, replaces in later) and not (replaces_history and later)


def _newest(item: Item, seen: dict[str, str], known: landing.Known) -> str | None:
    """Content hash of the newest version of the item's identity: accepted earlier in this batch, else landed."""
    key = item.key or ""
    if key in seen:
        return seen[key]
    landed = known.get((item.object_type, key))
    return landed[0] if landed else None


def new_load_id(started_at: Any) -> str:
    return f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


def _chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _owning_customer(item: Item) -> str | None:
    """The external_id of the customer an object belongs to, when it or its invoice says so."""
    if item.object_type == "customer":
        return _string(item.external_id)
    if item.customer is not None:
        return item.customer
    if isinstance(item.obj, dict):
        return _string(item.obj.get("customer_external_id"))
    return None


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


def _clip(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[:size] + "..."


def internal_error(exc: BaseException) -> str:
    """The rejection message of an object whose handling raised: a bug (or a limit) of the loader, not of the
    object's fields; the rest of the file still lands."""
    text = str(exc)
    if len(text) > 200:
        text = text[:200] + "..."
    return f"internal error: {type(exc).__name__}: {text} (please report it; the rest of the file was loaded)"


def _failed_item(object_type: str, obj: Any, position: int | None, exc: Exception) -> Item:
    item = Item(object_type, obj, position, issues=[("", internal_error(exc))])
    if isinstance(obj, dict):
        external_id = _string(obj.get("external_id"))
        item.external_id = external_id if external_id is None or len(external_id) <= 1024 else None
    return item


class FileLoad:
    """Loads one file in one transaction and records it in main.loads."""

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
        self.con = con
        self.path = path
        self.file = str(path)
        # Requests already in memory (the Import API server's): loaded exactly like a file's, `path` only names
        # them (main.loads.file, raw.requests.file); `on_request` hears each request's own outcome.
        self.requests = list(requests) if requests is not None else None
        self.on_request = on_request
        self.request_errors: list[Problem] = []
        self.source = source
        self.strict = strict
        self.say = say
        self.note = note
        self.batch_size = batch_size or BATCH_SIZE
        self.progress_every = progress_every or PROGRESS_EVERY
        self.stream_threshold = stream_threshold
        self.started_at = utcnow()
        self.load_id = new_load_id(self.started_at)
        self.accepted = self.rejected = self.unchanged = self.warning_count = 0
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.printed = 0
        self.processed = 0
        self.reported = 0
        self.rejected_invoices: set[str] = set()
        self.customer_uuids: dict[str, str] = {}
        self.plan_uuids: dict[str, str] = {}
        self.subscriptions: tuple[set[str], dict[str, str]] | None = None
        self.cancellations: dict[str, list[tuple[str, bool]]] | None = None
        self.request_hashes: set[str] | None = None
        self.pending_requests: list[tuple[Any, ...]] = []
        self.pending_request_bytes = 0
        self.data_source_ensured = False
        self.writer = landing.ObjectWriter(
            con,
            load_id=self.load_id,
            data_source_uuid=source.uuid,
            file=self.file,
            loaded_at=self.started_at,
            batch_size=self.batch_size,
        )
        # per request
        self.request_index = 0
        self.request_landed = 0
        self.line_counters: dict[str, int] = {}
        self.transaction_counters: dict[tuple[str, str], int] = {}
        self.request_source_uuid: str | None = None  # a bulk request's top-level data_source_uuid
        self.other_sources: dict[str, str] | None = None

    # ----------------------------------------------------------------------------------------------------------
    # The file.

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
        con = self.con
        landing.run(con, "begin transaction")
        try:
            self._load_requests()
            self._flush()
            if self.strict and self.rejected:
                landing.run(con, "rollback")
                return self._finish(REJECTED_STRICT)
            status = COMPLETED_WITH_ERRORS if self.rejected else COMPLETED
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
            landing.run(self.con, "rollback")
        except duckdb.Error:
            pass

    def _finish(self, status: str, message: str | None = None) -> FileResult:
        """Record a load whose objects did not land (strict rejection, failure) in a transaction of its own."""
        if status == FAILED:
            self.errors = [Problem(None, None, None, None, message or "failed")]
            self.warnings = []
            self.accepted = self.rejected = self.unchanged = self.warning_count = 0
        else:
            self.accepted = 0
        try:
            landing.run(self.con, "begin transaction")
            self._write_load(status)
            landing.run(self.con, "commit")
        except duckdb.Error as exc:  # the load cannot even be recorded: say so, keep the exit status
            self._rollback()
            self.note(f"{self.file}: could not record the load in main.loads: {exc}")
        return self._result(status, message)

    def _result(self, status: str, message: str | None = None) -> FileResult:
        return FileResult(
            self.file,
            self.load_id,
            status,
            self.accepted,
            self.rejected,
            self.unchanged,
            self.warning_count,
            message,
        )

    def _write_load(self, status: str) -> None:
        self._flush_problems()
        landing.insert_load(
            self.con,
            load_id=self.load_id,
            file=self.file,
            data_source_uuid=self.source.uuid,
            data_source_name=self.source.name,
            content_hash=self._file_hash(),
            status=status,
            strict=self.strict,
            objects_accepted=self.accepted,
            objects_rejected=self.rejected,
            objects_unchanged=self.unchanged,
            warnings=self.warning_count,
            started_at=self.started_at,
            finished_at=utcnow(),
        )

    def _file_hash(self) -> str | None:
        if self.requests is not None:
            return None
        try:
            return reading.file_hash(self.path)
        except OSError:
            return None

    def _flush_problems(self) -> None:
        now = utcnow()
        for table, problems in (("main.load_errors", self.errors), ("main.load_warnings", self.warnings)):
            landing.insert_problems(
                self.con,
                table,
                load_id=self.load_id,
                file=self.file,
                data_source_uuid=self.source.uuid,
                problems=problems,
                now=now,
            )
        self.errors, self.warnings = [], []

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
        before = (self.accepted, self.rejected, self.unchanged)
        self.request_errors = []
        load()
        if self.on_request is not None:
            accepted, rejected, unchanged = (
                now - then
                for now, then in zip((self.accepted, self.rejected, self.unchanged), before, strict=True)
            )
            self.on_request(raw.index, RequestOutcome(accepted, rejected, unchanged, self.request_errors))

    def _load_in_memory(self, requests: list[reading.RawRequest]) -> None:
        """The server's batch of requests. Consecutive single-object requests of one shape (customer creates from
        many clients, say) are judged together, with one lookup for all, as the objects of one bulk request are;
        each request still lands, is kept and is reported as if loaded alone."""
        group: list[tuple[reading.RawRequest, shapes.Request]] = []
        for raw in requests:
            request = self._recognise(raw)
            if request.shape in SINGLE_OBJECT_SHAPES:
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
        object_type = group[0][1].shape
        self._flush()
        items = []
        for _, request in group:
            self.request_source_uuid = request.data_source_uuid
            items.append(self._guarded(object_type, None, _single_object(request), self._prepare_simple))
        wanted = {(object_type, item.key) for item in items if item.valid and item.key}
        known = self._lookup(wanted | self._wanted_customers(items))
        self._check_customers(items, known)
        seen: dict[str, str] = {}

        def judge(raw: reading.RawRequest, request: shapes.Request, item: Item) -> None:
            new_request, inserted_early = self._start_request(raw, request)
            self._settle(item, self._classify(item, _newest(item, seen, known)), seen)
            self._counted(1)
            self._end_request(raw, new_request, inserted_early)

        for (raw, request), item in zip(group, items, strict=True):
            self._reported(raw, lambda raw=raw, request=request, item=item: judge(raw, request, item))

    # ----------------------------------------------------------------------------------------------------------
    # Outcomes.

    def _problem(self, item: Item, field_name: str | None, message: str) -> Problem:
        return Problem(
            item.object_type,
            item.external_id,
            item.position,
            field_name or None,
            message,
            item.context,
            _owning_customer(item),
        )

    def _error(self, problem: Problem) -> None:
        self.errors.append(problem)
        self.request_errors.append(problem)
        self._print(problem.render(self.file))
        if not self.strict and len(self.errors) >= PROBLEM_FLUSH_SIZE:
            self._flush_problems()

    def _warn(self, problem: Problem) -> None:
        self.warnings.append(problem)
        self.warning_count += 1
        self._print("warning: " + problem.render(self.file))
        if not self.strict and len(self.warnings) >= PROBLEM_FLUSH_SIZE:
            self._flush_problems()

    def _print(self, line: str) -> None:
        self.printed += 1
        if self.printed <= MAX_PRINTED_PROBLEMS:
            self.say(line)
        elif self.printed == MAX_PRINTED_PROBLEMS + 1:
            self.say(
                f"{self.file}: more errors and warnings follow; see main.load_errors and main.load_warnings"
            )

    def _reject(self, item: Item, issues: list[Issue] | None = None) -> None:
        for field_name, message in issues if issues is not None else item.issues:
            self._error(self._problem(item, field_name, message))
        self.rejected += 1

    def _subscriptions(self) -> tuple[set[str], dict[str, str]]:
        """Subscription external ids of the data source (from line items and events) and their uuids, read once
        per file when a cancellation needs them, then kept up to date as line items and events land."""
        if self.subscriptions is None:
            self._flush()
            known = landing.subscription_ids(self.con, self.source.uuid)
            self.subscriptions = (known, {self._subscription_uuid(key): key for key in known})
        return self.subscriptions

    def _cancellation_history(self) -> dict[str, list[tuple[str, bool]]]:
        """Per subscription, its landed cancellations (key, is a cancellation_dates request) in load order; read
        once per file, then kept up to date."""
        if self.cancellations is None:
            self._flush()
            self.cancellations = {}
            for subscription, key, replaces in landing.cancellation_history(self.con, self.source.uuid):
                self.cancellations.setdefault(subscription, []).append((key, replaces))
        return self.cancellations

    def _subscription_uuid(self, subscription_external_id: str) -> str:
        return deterministic_uuid("sub", self.source.uuid, "subscription", subscription_external_id)

    def _accept(self, item: Item) -> None:
        if (
            self.subscriptions is not None
            and item.object_type in ("line_item", "subscription_event")
            and (subscription := _string(item.obj.get("subscription_external_id")))
            and subscription not in self.subscriptions[0]
        ):
            self.subscriptions[0].add(subscription)
            self.subscriptions[1][self._subscription_uuid(subscription)] = subscription
        self._ensure_data_source()
        self.writer.add(
            item.object_type,
            item.key or "",
            item.invoice_external_id,
            item.content_hash,
            item.body,
            self.request_index,
            item.position,
        )
        self.accepted += 1
        self.request_landed += 1

    def _ensure_data_source(self) -> None:
        if not self.data_source_ensured:
            landing.ensure_data_source(self.con, self.source.uuid, self.source.name, self.started_at)
            self.data_source_ensured = True

    def _counted(self, count: int) -> None:
        self.processed += count
        if self.processed - self.reported >= self.progress_every:
            self.reported = self.processed - self.processed % self.progress_every
            self.note(f"{self.file}: {self.processed:,} objects read, {self.accepted:,} accepted so far")

    def _flush(self) -> None:
        """Make everything accepted so far visible to the lookups of the next batch."""
        self.writer.flush()
        if self.pending_requests:
            landing.insert_requests(self.con, self.pending_requests)
            self.pending_requests = []
            self.pending_request_bytes = 0

    @staticmethod
    def _classify(item: Item, known_hash: str | None) -> str:
        """accept / unchanged / reject, given the content hash of the newest version of the item's identity."""
        if item.issues:
            return "reject"
        if known_hash is None:
            return "accept"
        if known_hash == item.content_hash:
            return "unchanged"
        if item.object_type in IMMUTABLE:
            entry = object_types.TYPES[item.object_type]
            item.issues.append(
                (
                    "external_id",
                    (
                        f"{entry.label} {item.key} already exists with different content;"
                        f" {entry.plural} are immutable: delete it or re-sync the data source first"
                    ),
                )
            )
            return "reject"
        return "accept"

    def _settle(self, item: Item, outcome: str, seen: dict[str, str]) -> None:
        if outcome == "accept":
            seen[item.key or ""] = item.content_hash
            if item.object_type == "invoice":
                self.rejected_invoices.discard(item.key or "")
            for field_name, message in item.warnings:
                self._warn(self._problem(item, field_name, message))
            self._accept(item)
        elif outcome == "unchanged":
            self.unchanged += 1
        else:
            self._reject(item)

    def _hash(self, item: Item, value: Any | None = None) -> None:
        """body = canonical JSON of the object (or of `value`); content_hash = its sha256."""
        try:
            body = canonical_json(item.obj if value is None else value)
        except orjson.JSONEncodeError:
            if item.issues:  # rejected anyway (e.g. nested too deep to serialise): nothing to store
                return
            raise
        item.content_hash = sha256_hex(body)
        item.body = body.decode()

    # ----------------------------------------------------------------------------------------------------------
    # Requests.

    def _load_request(self, raw: reading.RawRequest, request: shapes.Request) -> None:
        new_request, inserted_early = self._start_request(raw, request)
        shape = request.shape
        body = request.body
        if shape in ("bulk", "invoice_import", "subscription_events", "contacts"):
            self._load_bulk(request)
        elif shape in SINGLE_OBJECT_SHAPES:
            self._load_simple(shape, [(None, _single_object(request))])
        elif shape == "cancellation":
            self._guarded_single("cancellation", lambda: self._load_cancellation(request))
        elif shape == "data_source":
            self._guarded_single("data_source", lambda: self._load_data_source(body.to_dict()))
        elif shape == "invoice_transaction":
            self._load_invoice_transaction(request)
        elif shape == "deleted_customers":
            self._load_deleted_customers(enumerate(body.iter_array("deleted_customers")))
        else:  # pragma: no cover - recognise() only returns the shapes above
            raise shapes.ShapeError(f"unsupported request shape {shape}")
        self._end_request(raw, new_request, inserted_early)

    def _start_request(self, raw: reading.RawRequest, request: shapes.Request) -> tuple[bool, bool]:
        """Per-request state; (is the request new, was it inserted into raw.requests already)."""
        self.request_index = raw.index
        self.request_landed = 0
        self.line_counters = {}
        self.transaction_counters = {}
        self.request_source_uuid = request.data_source_uuid
        for key in request.ignored_keys:
            self._warn(Problem(None, None, None, key, "unknown top-level member, ignored"))
        if self.request_hashes is None:
            # In-memory requests: only whether these were landed before matters (not all of the source's).
            among = [each.content_hash for each in self.requests] if self.requests is not None else None
            self.request_hashes = landing.request_hashes(self.con, self.source.uuid, among)
        new_request = raw.content_hash not in self.request_hashes
        inserted_early = new_request and raw.text is None
        if inserted_early:
            # A large single-request file: DuckDB reads it now, while little else is in memory (it costs DuckDB
            # a few times its size); it comes out again if none of its objects land.
            landing.insert_request(
                self.con,
                load_id=self.load_id,
                request_index=raw.index,
                data_source_uuid=self.source.uuid,
                file=self.file,
                path=self.path,
                content_hash=raw.content_hash,
                text=None,
                loaded_at=self.started_at,
            )
        return new_request, inserted_early

    def _end_request(self, raw: reading.RawRequest, new_request: bool, inserted_early: bool) -> None:
        if new_request and self.request_landed:
            self.request_hashes.add(raw.content_hash)
            if not inserted_early:
                self._keep_request(raw)
        elif inserted_early:
            landing.delete_request(self.con, self.load_id, raw.index)

    def _guarded_single(self, object_type: str, load: Callable[[], None]) -> None:
        """A single-object request: an exception while handling it rejects that object, not the file."""
        try:
            load()
        except (duckdb.Error, MemoryError):
            raise  # the database or the process is in trouble: nothing after this can be trusted
        except Exception as exc:
            self._reject(Item(object_type, None, None, issues=[("", internal_error(exc))]))

    def _keep_request(self, raw: reading.RawRequest) -> None:
        """Queue a landed request for raw.requests (written with the next flush: one insert per many)."""
        text = raw.text or ""
        row = (self.load_id, raw.index, self.source.uuid, self.file, raw.content_hash, text, self.started_at)
        self.pending_requests.append(row)
        self.pending_request_bytes += len(text)
        if len(self.pending_requests) >= 1000 or self.pending_request_bytes >= 16 * 1024 * 1024:
            self._flush()

    def _load_bulk(self, request: shapes.Request) -> None:
        body = request.body
        self._load_simple("customer", enumerate(body.iter_array("customers")))
        self._load_simple("plan", enumerate(body.iter_array("plans")))
        has_flat_lines = "line_items" in body
        referenced: set[str] = set()
        if has_flat_lines:
            for line in body.iter_array("line_items"):
                if isinstance(line, dict) and (invoice := _string(line.get("invoice_external_id"))):
                    referenced.add(invoice)
        self._load_invoices(request, enumerate(body.iter_array("invoices")), referenced)
        del referenced
        if has_flat_lines:
            self._load_line_items(enumerate(body.iter_array("line_items")))
        self._load_transactions(enumerate(body.iter_array("transactions")))
        self._load_simple("subscription_event", enumerate(body.iter_array("subscription_events")))
        self._load_simple("contact", enumerate(body.iter_array("contacts")))

    # ----------------------------------------------------------------------------------------------------------
    # Customers deleted in the billing system: a new version of each customer carrying its deleted_at, which
    # lifecycle.apply_customer_deletions then anonymises or removes (SPEC 8).

    def _load_deleted_customers(self, elements: Iterable[tuple[int, Any]]) -> None:
        self._flush()  # customers landed earlier in this file must be visible to the lookup
        versions = []
        for position, item in elements:
            try:
                version = self._deleted_customer_version(position, item)
            except (duckdb.Error, MemoryError):
                raise
            except Exception as exc:
                self._error(Problem("deleted_customer", None, position, None, internal_error(exc)))
                self.rejected += 1
                continue
            if version is not None:
                versions.append(version)
        self._load_simple("customer", versions)

    def _deleted_customer_version(self, position: int, item: Any) -> tuple[int, dict[str, Any]] | None:
        """The customer's newest version with its deleted_at, or None (rejected, reported)."""
        external_id = _string(item.get("external_id")) if isinstance(item, dict) else None
        problem = None
        if external_id is None:
            problem = Problem("deleted_customer", None, position, "external_id", "is required")
        elif not isinstance(deleted_at := item.get("deleted_at"), str) or parse_timestamp(deleted_at) is None:
            problem = Problem("deleted_customer", external_id, position, "deleted_at", "must be a timestamp")
        else:
            latest = landing.one(
                self.con,
                "select body from raw.objects where data_source_uuid = ? and object_type = 'customer'"
                " and external_id = ? order by object_seq desc limit 1",
                [self.source.uuid, external_id],
            )
            if latest is None:
                problem = Problem(
                    "deleted_customer",
                    external_id,
                    position,
                    "external_id",
                    "unknown customer in this data source",
                )
            else:
                return (position, {**orjson.loads(latest[0]), "deleted_at": item["deleted_at"]})
        if problem is not None:
            self._error(problem)
            self.rejected += 1
        return None

    # ----------------------------------------------------------------------------------------------------------
    # Customers, plans, subscription events, contacts: versions, last load wins.

    def _load_simple(self, object_type: str, elements: Iterable[tuple[int | None, Any]]) -> None:
        for chunk in _chunks(elements, self.batch_size):
            self._flush()
            items = [
                self._guarded(object_type, position, obj, self._prepare_simple) for position, obj in chunk
            ]
            wanted = {(object_type, item.key) for item in items if item.valid and item.key}
            known = self._lookup(wanted | self._wanted_customers(items))
            self._check_customers(items, known)
            seen: dict[str, str] = {}
            for item in items:
                self._settle(item, self._classify(item, _newest(item, seen, known)), seen)
            self._counted(len(items))

    @staticmethod
    def _guarded(
        object_type: str, position: int | None, obj: Any, prepare: Callable[..., Item], *args: Any
    ) -> Item:
        """Prepare one object; an exception while doing so becomes that object's rejection (an internal error),
        so one odd object never loses the rest of its file."""
        try:
            if args:
                return prepare(position, obj, *args)
            return prepare(object_type, position, obj)
        except (duckdb.Error, MemoryError):
            raise  # the database or the process is in trouble: nothing after this can be trusted
        except Exception as exc:
            return _failed_item(object_type, obj, position, exc)

    def _prepare_simple(self, object_type: str, position: int | None, obj: Any) -> Item:
        item = Item(object_type, obj, position, issues=self._validate(object_type, obj))
        if not isinstance(obj, dict):
            return item
        item.external_id = _string(obj.get("external_id"))
        if object_type == "plan":
            item.key = item.external_id or _string(obj.get("name"))
        elif object_type == "contact":
            self._prepare_contact(item)
            return item
        else:
            item.key = item.external_id
        if object_type == "customer" and (message := unknown_country(obj.get("country"))):
            item.warnings.append(("country", message))
        self._hash(item)
        return item

    def _prepare_contact(self, item: Item) -> None:
        obj = dict(item.obj)
        customer = _string(obj.get("customer_external_id"))
        customer_uuid = _string(obj.get("customer_uuid"))
        if customer is None and customer_uuid is not None and item.valid:
            customer = self._customer_for_uuid(customer_uuid)
            if customer is None:
                item.issues.append(
                    (
                        "customer_uuid",
                        f"customer {customer_uuid} is unknown in data source {self.source.name}",
                    )
                )
            else:
                obj["customer_external_id"] = customer
        email = obj.get("email") if isinstance(obj.get("email"), str) else ""
        item.key = item.external_id or (f"{customer}#{email}" if customer else None)
        self._hash(item, obj)

    def _validate(self, object_type: str, obj: Any) -> list[Issue]:
        """Field problems, and a data source other than this load's (a load writes only to its own)."""
        issues = validate(object_type, obj)
        if isinstance(obj, dict):
            named = obj.get("data_source_uuid", self.request_source_uuid)
            if isinstance(named, str) and named != self.source.uuid and named in self._other_sources():
                field_name = "data_source_uuid" if "data_source_uuid" in obj else "(request) data_source_uuid"
                issues.append((field_name, self._foreign_source(named)))
        return issues

    def _other_sources(self) -> dict[str, str]:
        """uuid -> name of the warehouse's other data sources, read once per file. A data_source_uuid that is
        none of them (ChartMogul's own uuid in an exported request, say) is kept as sent."""
        if self.other_sources is None:
            rows = landing.run(
                self.con, "select uuid, name from raw.data_sources where uuid <> ?", [self.source.uuid]
            )
            self.other_sources = {uuid: name for uuid, name in rows}
        return self.other_sources

    def _foreign_source(self, named: str) -> str:
        return (
            f"names data source {self._other_sources()[named]} ({named}), but this load writes to"
            f" {self.source.name}: a load writes only to its own data source (load this object with"
            " --data-source naming its source)"
        )

    def _lookup(self, pairs: set[tuple[str, str]]) -> landing.Known:
        return landing.lookup(self.con, self.source.uuid, pairs)

    @staticmethod
    def _wanted_customers(items: list[Item]) -> set[tuple[str, str]]:
        return {
            ("customer", item.obj["customer_external_id"])
            for item in items
            if item.valid
            and item.object_type in ("subscription_event", "contact")
            and isinstance(item.obj.get("customer_external_id"), str)
        }

    def _check_customers(self, items: list[Item], known: landing.Known) -> None:
        """Subscription events and contacts belong to a customer of the same data source."""
        for item in items:
            if item.valid and item.object_type in ("subscription_event", "contact"):
                customer = item.obj.get("customer_external_id")
                if isinstance(customer, str) and ("customer", customer) not in known:
                    item.issues.append(("customer_external_id", self._unknown("customer", customer)))

    def _unknown(self, object_type: str, external_id: str) -> str:
        return (
            f"{object_type} {external_id} is unknown in data source {self.source.name}"
            f" (load the {object_type} first, or in the same bulk request)"
        )

    def _customer_for_uuid(self, customer_uuid: str) -> str | None:
        if customer_uuid not in self.customer_uuids:
            found = landing.external_id_for_uuid(self.con, self.source.uuid, "customer", "cus", customer_uuid)
            if found is None:
                return None
            self.customer_uuids[customer_uuid] = found
        return self.customer_uuids[customer_uuid]

    def _plan_for_uuid(self, plan_uuid: str) -> str | None:
        if plan_uuid not in self.plan_uuids:
            found = landing.external_id_for_uuid(self.con, self.source.uuid, "plan", "pl", plan_uuid)
            if found is None:
                return None
            self.plan_uuids[plan_uuid] = found
        return self.plan_uuids[plan_uuid]

    # ----------------------------------------------------------------------------------------------------------
    # Invoices, with nested line items and transactions: immutable, landing whole.

    def _load_invoices(
        self, request: shapes.Request, elements: Iterable[tuple[int, Any]], referenced: set[str]
    ) -> None:
        default_customer = request.customer_external_id
        customer_uuid = request.customer_uuid
        for chunk in _chunks(elements, self.batch_size):
            self._flush()
            if default_customer is None and customer_uuid is not None:
                default_customer = self._customer_for_uuid(customer_uuid)
            groups = [
                self._guarded_invoice(position, obj, default_customer, customer_uuid)
                for position, obj in chunk
            ]
            self._judge_invoices(groups, referenced)
            self._counted(sum(1 + len(group.line_items) + len(group.transactions) for group in groups))

    def _guarded_invoice(
        self, position: int, obj: Any, default_customer: str | None, customer_uuid: str | None
    ) -> InvoiceGroup:
        try:
            return self._prepare_invoice(position, obj, default_customer, customer_uuid)
        except (duckdb.Error, MemoryError):
            raise
        except Exception as exc:
            return InvoiceGroup(_failed_item("invoice", obj, position, exc), None, [], [])

    def _prepare_invoice(
        self, position: int, obj: Any, default_customer: str | None, customer_uuid: str | None
    ) -> InvoiceGroup:
        invoice = Item("invoice", obj, position)
        if not isinstance(obj, dict):
            invoice.issues = self._validate("invoice", obj)
            return InvoiceGroup(invoice, None, [], [])
        normalised = dict(obj)
        if normalised.get("customer_external_id") is None and default_customer is not None:
            normalised["customer_external_id"] = default_customer
        invoice.issues = self._validate("invoice", normalised)
        if normalised.get("customer_external_id") is None and customer_uuid is not None:
            invoice.issues = [issue for issue in invoice.issues if issue[0] != "customer_external_id"]
            invoice.issues.append(
                (
                    "customer_external_id",
                    f"customer {customer_uuid} (from the request) is unknown in data source {self.source.name}",
                )
            )
        invoice.external_id = invoice.key = _string(obj.get("external_id"))
        customer = _string(normalised.get("customer_external_id"))
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
            self._prepare_line_item(index, line, invoice.key, context)
            for index, line in enumerate(nested_lines)
        ]
        if invoice.key is not None and lines:
            self.line_counters[invoice.key] = len(lines)
        transactions = [
            self._prepare_transaction(index, transaction, invoice.key, context)
            for index, transaction in enumerate(nested_transactions)
        ]
        for item in (invoice, *lines, *transactions):
            item.customer = customer  # their load_errors name it, so that erasing the customer finds them
        return InvoiceGroup(invoice, customer, lines, transactions)

    def _judge_invoices(self, groups: list[InvoiceGroup], referenced: set[str]) -> None:
        source_uuid = self.source.uuid
        con = self.con
        lines = [line for g in groups for line in g.line_items]
        transactions = [transaction for g in groups for transaction in g.transactions]
        wanted = {("customer", g.customer_external_id) for g in groups if g.customer_external_id}
        wanted |= {("invoice", g.invoice.key) for g in groups if g.invoice.key}
        wanted |= {
            (item.object_type, item.key) for item in (*lines, *transactions) if item.key and item.valid
        }
        wanted |= self._wanted_plans(lines)
        known = self._lookup(wanted)
        self._check_plans(lines, known)
        without_lines = [
            g.invoice.key
            for g in groups
            if g.invoice.key and not g.line_items and g.invoice.key not in referenced
        ]
        with_earlier_lines = (
            landing.invoices_with_line_items(con, source_uuid, without_lines) if without_lines else set()
        )
        seen_invoices: dict[str, str] = {}
        seen_lines: dict[str, str] = {}
        seen_transactions: dict[str, str] = {}
        for group in groups:
            invoice = group.invoice
            if invoice.valid and ("customer", group.customer_external_id) not in known:
                invoice.issues.append(
                    ("customer_external_id", self._unknown("customer", group.customer_external_id or ""))
                )
            key = invoice.key or ""
            if (
                invoice.valid
                and not group.line_items
                and key not in referenced
                and key not in with_earlier_lines
                and key not in seen_invoices
                and ("invoice", key) not in known
            ):
                invoice.issues.append(
                    (
                        "line_items",
                        (
                            "an invoice needs at least one line item: none nested, none pointing to it in this"
                            " request and none landed before"
                        ),
                    )
                )
            outcome = self._classify(invoice, _newest(invoice, seen_invoices, known))
            line_outcomes = []
            in_invoice: dict[str, str] = {}  # a key repeated inside one invoice counts too
            for line in group.line_items:
                line_key = line.key or ""
                newest = in_invoice.get(line_key) or _newest(line, seen_lines, known)
                line_outcomes.append(self._classify(line, newest))
                in_invoice[line_key] = line.content_hash

            if outcome == "accept" and "reject" in line_outcomes:
                bad = group.line_items[line_outcomes.index("reject")]
                label = f"{bad.external_id}" if bad.external_id else f"#{bad.position}"
                invoice.issues.append(
                    (
                        "line_items",
                        f"line item {label} is invalid; an invoice lands whole with its line items",
                    )
                )
                outcome = "reject"
            if outcome == "reject":
                self._reject(invoice)
                if invoice.key:
                    self.rejected_invoices.add(invoice.key)
                for nested in (*group.line_items, *group.transactions):
                    reason = f"{invoice.key or 'its invoice'} was rejected"
                    issues = nested.issues or [("invoice_external_id", f"invoice {reason}")]
                    self._reject(nested, issues)
                continue
            self._settle(invoice, outcome, seen_invoices)
            for line, line_outcome in zip(group.line_items, line_outcomes, strict=True):
                self._settle(line, line_outcome, seen_lines)
            invoice_date = invoice.obj.get("date")
            for transaction in group.transactions:
                transaction_outcome = self._classify(
                    transaction, _newest(transaction, seen_transactions, known)
                )
                if transaction_outcome == "accept":
                    self._check_transaction_date(transaction, invoice_date)
                self._settle(transaction, transaction_outcome, seen_transactions)

    # ----------------------------------------------------------------------------------------------------------
    # Line items and transactions.

    def _prepare_line_item(self, position: int, obj: Any, invoice: str | None, context: str | None) -> Item:
        item = Item("line_item", obj, position, issues=self._validate("line_item", obj), context=context)
        if not isinstance(obj, dict):
            return item
        item.external_id = _string(obj.get("external_id"))
        if invoice is None:  # flat: the line item names its invoice
            invoice = _string(obj.get("invoice_external_id"))
            if invoice is None and not any(name == "invoice_external_id" for name, _ in item.issues):
                item.issues.append(("invoice_external_id", "is required in a bulk request's line_items"))
            if invoice is not None:
                index = self.line_counters.get(invoice, 0)
                self.line_counters[invoice] = index + 1
                item.key = item.external_id or f"{invoice}#{index}"
        else:
            item.key = item.external_id or f"{invoice}#{position}"
        item.invoice_external_id = invoice
        self._hash(item)
        return item

    @staticmethod
    def _wanted_plans(lines: list[Item]) -> set[tuple[str, str]]:
        return {
            ("plan", line.obj["plan_external_id"])
            for line in lines
            if line.valid and isinstance(line.obj.get("plan_external_id"), str)
        }

    def _check_plans(self, lines: list[Item], known: landing.Known) -> None:
        """A subscription line item's plan must be known in the data source (by plan_external_id or plan_uuid);
        a plan_uuid is resolved and its plan_external_id added to the stored body."""
        for line in lines:
            if not line.valid:
                continue
            plan = line.obj.get("plan_external_id")
            plan_uuid = line.obj.get("plan_uuid")
            is_subscription = line.obj.get("type") == "subscription"
            if isinstance(plan, str):
                if ("plan", plan) not in known:
                    self._plan_problem(line, is_subscription, "plan_external_id", self._unknown("plan", plan))
            elif isinstance(plan_uuid, str):
                resolved = self._plan_for_uuid(plan_uuid)
                if resolved is None:
                    self._plan_problem(
                        line,
                        is_subscription,
                        "plan_uuid",
                        f"plan {plan_uuid} is unknown in data source {self.source.name}",
                    )
                else:
                    line.body = canonical_json({**line.obj, "plan_external_id": resolved}).decode()

    def _plan_problem(self, line: Item, is_subscription: bool, field_name: str, message: str) -> None:
        if is_subscription:
            line.issues.append((field_name, message))
        else:
            line.warnings.append((field_name, message + " (landed: not a subscription line)"))

    def _load_line_items(self, elements: Iterable[tuple[int, Any]]) -> None:
        for chunk in _chunks(elements, self.batch_size):
            self._flush()
            items = [
                self._guarded("line_item", position, obj, self._prepare_line_item, None, None)
                for position, obj in chunk
            ]
            wanted = {("line_item", item.key) for item in items if item.valid and item.key}
            known = self._lookup(wanted | self._wanted_invoices(items) | self._wanted_plans(items))
            self._check_invoices(items, known)
            self._check_plans(items, known)
            seen: dict[str, str] = {}
            for item in items:
                self._settle(item, self._classify(item, _newest(item, seen, known)), seen)
            self._counted(len(items))

    def _wanted_invoices(self, items: list[Item]) -> set[tuple[str, str]]:
        return {
            ("invoice", item.invoice_external_id)
            for item in items
            if item.valid
            and item.invoice_external_id
            and item.invoice_external_id not in self.rejected_invoices
        }

    def _check_invoices(self, items: list[Item], known: landing.Known) -> None:
        """Flat line items and transactions point to an invoice landed before or earlier in this request."""
        for item in items:
            invoice = item.invoice_external_id
            if not item.valid or invoice is None:
                continue
            if invoice in self.rejected_invoices:
                item.issues.append(("invoice_external_id", f"invoice {invoice} was rejected"))
            elif ("invoice", invoice) not in known:
                item.issues.append(("invoice_external_id", self._unknown("invoice", invoice)))

    def _prepare_transaction(self, position: int, obj: Any, invoice: str | None, context: str | None) -> Item:
        item = Item("transaction", obj, position, issues=self._validate("transaction", obj), context=context)
        if not isinstance(obj, dict):
            return item
        item.external_id = _string(obj.get("external_id"))
        if invoice is None:
            invoice = _string(obj.get("invoice_external_id"))
            if invoice is None and not any(name == "invoice_external_id" for name, _ in item.issues):
                item.issues.append(("invoice_external_id", "is required in a bulk request's transactions"))
        item.invoice_external_id = invoice
        self._hash(item)
        if item.external_id is not None:
            item.key = item.external_id
        elif invoice is not None:
            occurrence = self.transaction_counters.get((invoice, item.content_hash), 0)
            self.transaction_counters[(invoice, item.content_hash)] = occurrence + 1
            item.key = f"{invoice}#{item.content_hash}#{occurrence}"
        return item

    def _load_transactions(self, elements: Iterable[tuple[int, Any]]) -> None:
        for chunk in _chunks(elements, self.batch_size):
            self._flush()
            items = [
                self._guarded("transaction", position, obj, self._prepare_transaction, None, None)
                for position, obj in chunk
            ]
            wanted = {("transaction", item.key) for item in items if item.valid and item.key}
            known = self._lookup(wanted | self._wanted_invoices(items))
            self._check_invoices(items, known)
            seen: dict[str, str] = {}
            for item in items:
                outcome = self._classify(item, _newest(item, seen, known))
                if outcome == "accept":
                    invoice = known.get(("invoice", item.invoice_external_id or ""))
                    self._check_transaction_date(item, invoice[1] if invoice else None)
                self._settle(item, outcome, seen)
            self._counted(len(items))

    def _load_invoice_transaction(self, request: shapes.Request) -> None:
        """One transaction whose invoice the path names by uuid: lands as a flat transaction of that invoice."""
        obj = request.body.to_dict()
        if _string(obj.get("invoice_external_id")) is None and request.invoice_uuid is not None:
            self._flush()  # an invoice landed earlier in this load must be found
            invoice = landing.external_id_for_uuid(
                self.con, self.source.uuid, "invoice", "inv", request.invoice_uuid
            )
            if invoice is None:
                message = f"invoice {request.invoice_uuid} is unknown in data source {self.source.name}"
                self._reject(
                    Item("transaction", obj, None, _string(obj.get("external_id"))),
                    [("invoice_uuid", message)],
                )
                return
            obj = {**obj, "invoice_external_id": invoice}
        self._load_transactions([(None, obj)])

    @staticmethod
    def _check_transaction_date(item: Item, invoice_date: Any) -> None:
        message = suspicious_transaction_date(item.obj.get("date"), invoice_date)
        if message is not None:
            item.warnings.append(("date", message))

    # ----------------------------------------------------------------------------------------------------------
    # Cancellations and data sources.

    def _load_cancellation(self, request: shapes.Request) -> None:
        obj = request.body.to_dict()
        normalised = dict(obj)
        item = Item("cancellation", obj, None)
        subscription_uuid = _string(obj.get("subscription_uuid")) or request.subscription_uuid
        if subscription_uuid is not None and normalised.get("subscription_uuid") is None:
            normalised["subscription_uuid"] = subscription_uuid
        item.issues = self._validate("cancellation", normalised)
        subscription = _string(normalised.get("subscription_external_id"))
        if item.valid and subscription is None and subscription_uuid is not None:
            subscription = self._subscriptions()[1].get(subscription_uuid)
            if subscription is None:
                item.issues.append(
                    (
                        "subscription_uuid",
                        f"subscription {subscription_uuid} is unknown in data source {self.source.name}",
                    )
                )
            else:
                normalised["subscription_external_id"] = subscription
        item.context = f"subscription {subscription}" if subscription else None
        self._hash(item, normalised)
        item.key = item.content_hash
        self._counted(1)
        if not item.valid:
            self._reject(item)
            return
        assert subscription is not None
        replaces_history = "cancellation_dates" in normalised
        history = self._cancellation_history().setdefault(subscription, [])
        if _cancellation_unchanged(history, item.key, replaces_history):
            self.unchanged += 1
            return
        history.append((item.key, replaces_history))
        if subscription not in self._subscriptions()[0]:
            item.warnings.append(
                (
                    "subscription_external_id",
                    (
                        f"subscription {subscription} has no line items or events in data source"
                        f" {self.source.name} yet (landed; it applies once they arrive)"
                    ),
                )
            )
        self._settle(item, "accept", {})

    def _load_data_source(self, obj: dict[str, Any]) -> None:
        item = Item("data_source", obj, None, issues=validate("data_source", obj))
        item.external_id = _string(obj.get("name"))
        self._counted(1)
        if item.valid and obj["name"] != self.source.name:
            item.issues.append(
                (
                    "name",
                    f"is data source {_clip(obj['name'])}, but this load is for {self.source.name}: a file may"
                    " configure only the data source it is loaded into (load it with --data-source naming it)",
                )
            )
        given_uuid = _string(obj.get("uuid"))
        if item.valid and given_uuid is not None and given_uuid in self._other_sources():
            item.issues.append(("uuid", self._foreign_source(given_uuid)))
        if not item.valid:
            self._reject(item)
            return
        name = obj["name"]
        uuid = self.source.uuid  # the CLI's data source (existing, or about to be created: one uuid for both)
        setting = obj.get("auto_churn_subscription_setting") or {}
        enabled = setting.get("enabled")
        changed = landing.upsert_data_source(
            self.con,
            uuid=uuid,
            name=name,
            auto_churn_enabled=enabled,
            auto_churn_interval_days=setting.get("interval"),
            include_deleted_customers=obj.get("include_deleted_customers"),
            now=self.started_at,
        )
        if uuid == self.source.uuid:
            self.data_source_ensured = True
        if changed:
            self.accepted += 1
            self.request_landed += 1
        else:
            self.unchanged += 1
