"""What the management subcommands share: opening the warehouse (waiting while another process holds it) and
turning the errors a user can fix into one `error: ...` line and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

from mrr_warehouse import lake, landing, sources
from mrr_warehouse.display import note


class CommandError(Exception):
    """A problem the user can fix; printed as `error: <message>`, exit status 2."""


def command(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (CommandError, landing.DatabaseUnavailable, sources.UnknownDataSource) as exc:
            note(f"error: {exc}")
            return 2

    return wrapper


@contextmanager
def open_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    con = landing.connect(landing.database_path(), on_wait=note)
    try:
        yield con
        lake.sync(con)  # what the command committed reaches the lake (src/mrr_warehouse/lake.py)
    finally:
        con.close()


def require_customer(con: duckdb.DuckDBPyConnection, source: sources.DataSource, external_id: str) -> None:
    row = landing.one(
        con,
        "select count(*) from raw.objects where data_source_uuid = ? and object_type = 'customer'"
        " and external_id = ?",
        [source.uuid, external_id],
    )
    if not row or not row[0]:
        raise CommandError(f"no customer {external_id} in data source {source.name}")


def require_data_source(con: duckdb.DuckDBPyConnection, name_or_uuid: str) -> sources.DataSource:
    source = sources.resolve(con, name_or_uuid)
    if landing.find_data_source(con, uuid=source.uuid) is None:
        raise CommandError(f"no data source {name_or_uuid} in {landing.database_path()}")
    return source
