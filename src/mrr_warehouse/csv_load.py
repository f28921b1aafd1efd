"""Loading a CSV of customers or contacts: the file's request (csv_import) goes through FileLoad like a JSON file's.

Only three things differ, all in how problems are told (D46): a row the CSV itself got wrong (a date, a typed
custom attribute) is rejected before the loader sees it; every problem names the CSV's line and column instead of
the object's position and Import API field; a header that matches no field is a warning, once per file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mrr_warehouse import csv_import, reading
from mrr_warehouse.loader import FileLoad, FileResult
from mrr_warehouse.sources import DataSource
from mrr_warehouse.validation import Problem, canonical_json, sha256_hex

MAX_CSV_BYTES = 1 << 30  # read whole (polars holds it as columns): a spreadsheet export is far smaller


@dataclass(frozen=True, slots=True)
class CsvOptions:
    object_type: str | None = None  # --object
    mappings: tuple[str, ...] = ()  # --map
    date_format: str | None = None  # --date-format


class CsvFileLoad(FileLoad):
    def __init__(self, *args: Any, options: CsvOptions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        self.csv: csv_import.CsvRequest | None = None
        self.report.locate = self._located

    def _load_requests(self) -> None:
        request = self._read(self.path)
        self.csv = request
        for header in request.ignored_headers:
            self.report.warn(
                Problem(
                    None,
                    None,
                    None,
                    header,
                    f"matches no {request.object_type} field and is ignored (name its field with"
                    f' --map "{header}=FIELD", or custom.KEY for a custom attribute)',
                )
            )
        self.report.rejected += len({problem.line for problem in request.rejected})
        for problem in request.rejected:
            self.report.error(
                Problem(
                    request.object_type,
                    problem.external_id,
                    problem.line,
                    problem.column,
                    problem.message,
                    f"line {problem.line}",
                    problem.customer_external_id,
                )
            )
        text = canonical_json(request.body())
        raw = reading.RawRequest(
            0, None, reading.DictBody(orjson.loads(text)), text.decode(), sha256_hex(text)
        )
        shape = self._recognise(raw)
        self._reported(raw, lambda: self._load_request(raw, shape))

    def _read(self, path: Path) -> csv_import.CsvRequest:
        with reading.open_regular_file(path) as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise reading.ReadError(f"larger than {MAX_CSV_BYTES:,} bytes; split the CSV")
        try:
            return csv_import.read_csv_request(
                data, self.options.object_type, self.options.mappings, self.options.date_format
            )
        except csv_import.CsvRefused as exc:
            raise reading.ReadError(str(exc)) from None

    def _located(self, problem: Problem) -> Problem:
        """A problem the loader found in an object of the CSV's request, told by line and column."""
        if self.csv is None or problem.context is not None or problem.position is None:
            return problem
        lines = self.csv.lines()
        if not 0 <= problem.position < len(lines):
            return problem
        line = lines[problem.position]
        field = problem.field
        if field:
            top = field.split(".", 1)[0].split("[", 1)[0]
            if top in self.csv.headers:
                field = self.csv.headers[top] + field[len(top) :]
        return dataclasses.replace(problem, position=line, field=field, context=f"line {line}")


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: DataSource,
    *,
    csv_options: CsvOptions | None = None,
    **kwargs: Any,
) -> FileResult:
    """Load one file: a CSV through CsvFileLoad, a JSON or NDJSON file through FileLoad."""
    if csv_import.is_csv(path):
        return CsvFileLoad(con, path, source, options=csv_options or CsvOptions(), **kwargs).run()
    return FileLoad(con, path, source, **kwargs).run()
