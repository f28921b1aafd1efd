"""What the steps of one file's load share: the connection and data source, the load's identity, the report,
and the state of the request being loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from mrr_warehouse import landing
from mrr_warehouse.loading.report import Report
from mrr_warehouse.sources import DataSource


@dataclass(slots=True)
class RequestState:
    """Reset for each request."""

    index: int = 0
    landed: int = 0  # objects of this request that landed (a request is kept only when one did)
    line_counters: dict[str, int] = field(default_factory=dict)  # flat line items per invoice, for their keys
    transaction_counters: dict[tuple[str, str], int] = field(default_factory=dict)  # identical transactions
    source_uuid: str | None = None  # a bulk request's top-level data_source_uuid


@dataclass(slots=True)
class LoadContext:
    con: duckdb.DuckDBPyConnection
    source: DataSource
    path: Path
    file: str
    load_id: str
    started_at: datetime
    strict: bool
    batch_size: int
    report: Report
    writer: landing.ObjectWriter
    request: RequestState = field(default_factory=RequestState)
    rejected_invoices: set[str] = field(default_factory=set)  # rejected in this file, not accepted since
    pending_requests: list[tuple[object, ...]] = field(default_factory=list)  # raw.requests rows to insert
    pending_request_bytes: int = 0

    def flush(self) -> None:
        """Make everything accepted so far visible to the lookups of the next batch."""
        self.writer.flush()
        if self.pending_requests:
            landing.insert_requests(self.con, self.pending_requests)
            self.pending_requests = []
            self.pending_request_bytes = 0

    def unknown(self, object_type: str, external_id: str) -> str:
        return (
            f"{object_type} {external_id} is unknown in data source {self.source.name}"
            f" (load the {object_type} first, or in the same bulk request)"
        )
