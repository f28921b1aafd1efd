"""The `mrr-warehouse` command: `load`, `sources list`, and the generator's `generate`.

Each subcommand's parser sets `func`; `main` dispatches with `args.func(args)`, which returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mrr_warehouse import (
    csv_import,
    display,
    export,
    generate,
    lake,
    landing,
    lifecycle,
    manual_edits,
    metrics_export,
    object_types,
    reading,
    report,
    sources,
)
from mrr_warehouse.csv_load import CsvOptions, load_file
from mrr_warehouse.schema import OBJECT_TYPES
from mrr_warehouse.server import keys, serve

_say, _note = display.say, display.note  # every line printed is escaped (src/mrr_warehouse/display.py)


def _fail(message: str) -> int:
    _note(f"error: {message}")
    return 2


def run_load(args: argparse.Namespace) -> int:
    worst = 0
    for raw in args.paths:
        if Path(raw).is_dir() and not reading.expand_paths([raw]):
            _note(f"error: {raw}: no .json, .ndjson or .csv files in this folder")
            worst = 2
    files = []
    for path in reading.expand_paths(args.paths):
        # Checked before the database is opened: a FIFO would block (holding the write lock) and a device
        # never end. The other files still load.
        if (problem := reading.not_a_regular_file(path)) is not None:
            _note(f"error: {path}: {problem}")
            worst = 2
        else:
            files.append(path)
    if not files:
        return 2
    if (args.object or args.map or args.date_format) and not any(csv_import.is_csv(path) for path in files):
        _note("warning: --object, --map and --date-format apply to .csv files only; none is being loaded")
    database = landing.database_path()
    try:
        con = landing.connect(database, on_wait=_note)
    except landing.DatabaseUnavailable as exc:
        return _fail(str(exc))
    try:
        try:
            source = sources.resolve(con, args.data_source)
        except sources.UnknownDataSource as exc:
            return _fail(str(exc))
        csv_options = CsvOptions(args.object, tuple(args.map or ()), args.date_format)
        for path in files:
            result = load_file(
                con, path, source, strict=args.strict, say=_say, note=_note, csv_options=csv_options
            )
            _say(result.summary())
            worst = max(worst, result.exit_code)
        removed_personal_data = lifecycle.apply_customer_deletions(con, source, _say)
        lake.sync(con)
    finally:
        con.close()
    if removed_personal_data:
        result = lifecycle.compact(database)
        _say(f"compacted {database} so that no removed personal data remains ({result.seconds:.1f} s)")
    return worst


_COUNT_HEADERS = {name: object_types.TYPES[name].count_header for name in OBJECT_TYPES}


def run_sources_list(args: argparse.Namespace) -> int:
    database = landing.database_path()
    if not Path(database).exists():
        _say(f"no data sources ({database} does not exist yet)")
        return 0
    try:
        con = landing.connect(database, on_wait=_note)
    except landing.DatabaseUnavailable as exc:
        return _fail(str(exc))
    try:
        rows = sources.summaries(con)
    finally:
        con.close()
    if not rows:
        _say("no data sources")
        return 0
    headers = ["uuid", "name", *(_COUNT_HEADERS[kind] for kind in OBJECT_TYPES)]
    table = [[row.uuid, row.name, *(str(row.counts[kind]) for kind in OBJECT_TYPES)] for row in rows]
    widths = [max(len(line[index]) for line in [headers, *table]) for index in range(len(headers))]
    for line in [headers, *table]:
        cells = [
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        _say("  ".join(cells).rstrip())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mrr-warehouse",
        description="Land ChartMogul Import API JSON in DuckDB; model it with dbt. Database: $MRR_WAREHOUSE_DB.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    load = subparsers.add_parser(
        "load",
        help=(
            "load request files (.json: one request body; .ndjson: one per line; .csv: customers or contacts;"
            " folders: in name order)"
        ),
        description=(
            "Load Import API request bodies. Exit status: 0 everything landed, 1 some objects were rejected"
            " (or --strict rejected a file), 2 a file could not be read or parsed (nothing from it landed)."
        ),
    )
    load.add_argument(
        "--data-source",
        required=True,
        metavar="NAME_OR_UUID",
        help="data source name (created when it does not exist) or uuid of an existing one",
    )
    load.add_argument(
        "--strict", action="store_true", help="land nothing from a file with any rejected object"
    )
    load.add_argument(
        "--object",
        choices=csv_import.OBJECT_TYPES,
        help="what the CSV files hold (default: recognised from their headers)",
    )
    load.add_argument(
        "--map",
        action="append",
        metavar='"HEADER=FIELD"',
        help='a CSV column the headers do not name: "Seats=custom.seats:Integer", "Kundennummer=external_id"'
        " (repeatable)",
    )
    load.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="how the CSV writes dates besides ISO 8601, in strptime codes (e.g. %%d/%%m/%%Y)",
    )
    load.add_argument("paths", nargs="+", metavar="PATH", help=".json / .ndjson / .csv file or folder")
    load.set_defaults(func=run_load)

    sources_parser = subparsers.add_parser("sources", help="data sources")
    sources_commands = sources_parser.add_subparsers(dest="sources_command", metavar="COMMAND", required=True)
    listing = sources_commands.add_parser("list", help="data sources with their uuid and object counts")
    listing.set_defaults(func=run_sources_list)
    lifecycle.add_source_commands(sources_commands)

    generate.add_parser(subparsers)
    metrics_export.add_parser(subparsers)
    export.add_parser(subparsers)
    manual_edits.add_parser(subparsers)
    report.add_parser(subparsers)
    lake.add_parser(subparsers)
    serve.add_parser(subparsers)
    keys.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    landing.restrict_new_files()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
