"""Data sources: resolving the CLI's `--data-source NAME_OR_UUID`, listing them with object counts."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from mrr_warehouse import landing
from mrr_warehouse.schema import OBJECT_TYPES, data_source_uuid

_UUID = re.compile(r"(?:ds_)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class UnknownDataSource(Exception):
    pass


@dataclass(frozen=True, slots=True)
class DataSource:
    uuid: str
    name: str


def looks_like_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def resolve(con: duckdb.DuckDBPyConnection, name_or_uuid: str) -> DataSource:
    """The data source named (or identified) by the argument. A name that does not exist yet resolves to
    the uuid it will get (schema.data_source_uuid); the loader creates it with the first object it lands."""
    value = name_or_uuid.strip()
    if not value:
        raise UnknownDataSource("--data-source must not be empty")
    if looks_like_uuid(value):
        row = landing.find_data_source(con, uuid=value)
        if row is None:
            raise UnknownDataSource(
                f"no data source with uuid {value} in this warehouse (name a data source to create it)"
            )
        return DataSource(row[0], row[1])
    row = landing.find_data_source(con, name=value)
    if row is not None:
        return DataSource(row[0], row[1])
    return DataSource(data_source_uuid(value), value)


@dataclass(frozen=True, slots=True)
class SourceSummary:
    uuid: str
    name: str
    counts: dict[str, int]  # object_type -> distinct objects (identities, not versions)


def summaries(con: duckdb.DuckDBPyConnection) -> list[SourceSummary]:
    sources = con.execute("select uuid, name from raw.data_sources order by name").fetchall()
    counts = con.execute(
        """
        select data_source_uuid, object_type, count(distinct external_id)
        from raw.objects
        group by data_source_uuid, object_type
        """
    ).fetchall()
    by_source: dict[str, dict[str, int]] = {}
    for source_uuid, object_type, count in counts:
        by_source.setdefault(source_uuid, {})[object_type] = count
    known = {uuid for uuid, _ in sources}
    # Objects whose data source row is missing would be a bug; show them rather than hide them.
    orphans = [(uuid, "(no data source row)") for uuid in by_source if uuid not in known]
    return [
        SourceSummary(uuid, name, {kind: by_source.get(uuid, {}).get(kind, 0) for kind in OBJECT_TYPES})
        for uuid, name in [*sources, *orphans]
    ]
