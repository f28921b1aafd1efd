"""The server's one database thread: every write (and read) of the Import API goes through it.

DuckDB lets one process write a file at a time, and one connection is cheapest used from one thread. Request
handlers put jobs on a queue; this thread takes whatever has queued up (up to MAX_BATCH jobs), lands the writes
of each data source as ONE load through the same `FileLoad` as `mrr-warehouse load` (one transaction, one
`main.loads` row, every request kept verbatim in `raw.requests`), answers each job with its own request's outcome,
then runs the reads. So concurrent clients are batched and never see "database is locked".

The file is opened when work arrives and closed after IDLE_CLOSE_SECONDS without any, so that `dbt build` can
take it between bursts. While another process holds it, a batch waits up to `lock_wait` seconds and is then
answered with Unavailable (HTTP 503 with Retry-After); nothing of it landed, so the client's retry is safe.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from mrr_warehouse import lake, landing, lifecycle
from mrr_warehouse.loader import FAILED, FileLoad, RequestOutcome
from mrr_warehouse.reading import DictBody, RawRequest
from mrr_warehouse.server import keys
from mrr_warehouse.sources import DataSource
from mrr_warehouse.validation import sha256_hex

log = logging.getLogger("mrr_warehouse.server")

MAX_BATCH = 1000
LINGER_SECONDS = float(os.environ.get("MRR_WAREHOUSE_SERVER_LINGER_MS") or 2) / 1000
IDLE_CLOSE_SECONDS = 0.5
# main.loads.file and raw.requests.file of everything landed through the server.
API_FILE = "import-api"


class Unavailable(Exception):
    """The warehouse file is held by another process (dbt build, a CLI load) past the wait."""


class LoadFailed(Exception):
    """The load of a request failed as a whole (an internal error); nothing of it landed."""


@dataclass
class WriteResult:
    load_id: str
    outcome: RequestOutcome


@dataclass
class WriteJob:
    source: DataSource
    envelope: dict[str, Any]  # {"method", "path", "body"}: what a recorded request file would hold
    text: str  # the same envelope as JSON, with the client's body verbatim
    alone: bool = False  # a load of its own (a bulk import: its load id is the import's id)
    deletes_customers: bool = False  # run the customer-deletion lifecycle after landing
    future: Future[Any] = field(default_factory=Future)


@dataclass
class ReadJob:
    run: Callable[[duckdb.DuckDBPyConnection], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class Writer:
    def __init__(self, database: str, lock_wait: float) -> None:
        self.database = database
        self.lock_wait = lock_wait
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.con: duckdb.DuckDBPyConnection | None = None
        self.compact_on_close = False
        self.thread = threading.Thread(target=self._run, name="mrr-warehouse-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Finish every queued job, then close (and, after a deletion, compact) the file."""
        self.jobs.put(_STOP)
        self.thread.join()

    def submit(self, job: WriteJob | ReadJob) -> Future[Any]:
        self.jobs.put(job)
        return job.future

    # ----------------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            try:
                first = self.jobs.get(timeout=IDLE_CLOSE_SECONDS)
            except queue.Empty:
                self._close()
                continue
            if first is _STOP:
                break
            batch = [first]
            linger_until = time.monotonic() + LINGER_SECONDS
            while len(batch) < MAX_BATCH:
                try:
                    # A moment's wait for the requests other clients are about to send: a load costs about the
                    # same for one request as for fifty (its commit, lookups and inserts dominate).
                    job = self.jobs.get(timeout=max(0.0, linger_until - time.monotonic()))
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True
                    break
                batch.append(job)
            self._handle(batch)
        self._close()

    def _handle(self, batch: list[Any]) -> None:
        try:
            con = self._connection()
        except landing.DatabaseUnavailable as exc:
            log.warning("database unavailable: %s", exc)
            for job in batch:
                job.future.set_exception(Unavailable(str(exc)))
            return
        writes = [job for job in batch if isinstance(job, WriteJob)]
        groups: dict[str, list[WriteJob]] = {}
        for job in writes:
            if job.alone:
                self._land(con, [job])
            else:
                groups.setdefault(job.source.uuid, []).append(job)
        for group in groups.values():
            self._land(con, group)
        for job in batch:
            if isinstance(job, ReadJob):
                try:
                    job.future.set_result(job.run(con))
                except BaseException as exc:
                    job.future.set_exception(exc)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            self.con = landing.connect(self.database, timeout=self.lock_wait)
            keys.ensure_table(self.con)
        return self.con

    def _close(self) -> None:
        if self.con is None:
            return
        try:
            lake.sync(self.con)  # what this connection landed reaches the lake (src/mrr_warehouse/lake.py)
        except Exception:
            log.exception(
                "bringing the lake in step failed; the next load or `mrr-warehouse lake sync` retries"
            )
        self.con.close()
        self.con = None
        if self.compact_on_close:
            # After a customer deletion no byte of the customer may remain in the file (as after the CLI's).
            self.compact_on_close = False
            try:
                lifecycle.compact(self.database)
            except Exception:
                log.exception("compaction after a customer deletion failed; run it again with the CLI")

    def _land(self, con: duckdb.DuckDBPyConnection, jobs: list[WriteJob]) -> None:
        source = jobs[0].source
        outcomes: dict[int, RequestOutcome] = {}
        requests = [
            RawRequest(index, None, DictBody(job.envelope), job.text, sha256_hex(job.text.encode()))
            for index, job in enumerate(jobs)
        ]

        def heard(index: int, outcome: RequestOutcome) -> None:
            outcomes[index] = outcome

        try:
            result = FileLoad(
                con,
                Path(API_FILE),
                source,
                requests=requests,
                on_request=heard,
                say=lambda _line: None,  # the answer carries the problems; logs hold no personal data
                note=lambda _line: None,
            ).run()
        except Exception as exc:  # FileLoad records its own failures; this is a bug or the database failing
            log.exception("load failed")
            result = None
            failure = str(exc)
        else:
            failure = result.message or "failed"
        if result is None or result.status == FAILED:
            if len(jobs) > 1:
                for job in jobs:  # one request's failure must not fail the others batched with it
                    self._land(con, [job])
                return
            jobs[0].future.set_exception(LoadFailed(failure))
            return
        if any(job.deletes_customers for job in jobs):
            try:
                if lifecycle.apply_customer_deletions(con, source, lambda _line: None):
                    self.compact_on_close = True
            except Exception:
                log.exception("applying customer deletions failed")
        for index, job in enumerate(jobs):
            job.future.set_result(WriteResult(result.load_id, outcomes[index]))
