"""`mrr-warehouse report`: the HTML page, opened in headless Chromium, against a small two-source warehouse."""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from headless_chromium import dump_dom, problems, report_status, screenshot
from mrr_warehouse import report, report_page
from mrr_warehouse.generate import generate
from warehouse_runner import Warehouse

SOURCES = {"Billing A": 3, "Billing B": 4}  # data source -> generator seed


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Two data sources of 40 generated customers over 8 months each, built."""
    root = tmp_path_factory.mktemp("report")
    built = Warehouse(root / "warehouse.duckdb")
    as_of = None
    for name, seed in SOURCES.items():
        data = root / f"data_{seed}"
        summary = generate(data, customers=40, months=8, seed=seed)
        as_of = summary["end_date"]
        result = built.load(name, [data])
        assert result.returncode in (0, 1), result.stderr  # 1: the generator's deliberately invalid objects
    built.dbt_build({"as_of_date": as_of}, "--exclude-resource-type", "unit_test")
    return built


def _last_month(warehouse: Warehouse) -> dict[str, Any]:
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        cursor = con.execute("select * from main.metrics_monthly order by month desc limit 1")
        columns = [d[0] for d in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def _whole_units(cents: Any) -> str:
    return f"{(Decimal(str(cents)) / 100).quantize(Decimal('1'), rounding=ROUND_HALF_UP):,}"


def _headline(dom: str, element_id: str) -> tuple[str, str]:
    """(data-value, displayed text) of a headline figure."""
    match = re.search(
        rf'<div class="kpi" id="{element_id}" data-value="([^"]*)">.*?<div class="kpi-value">([^<]*)</div>',
        dom,
    )
    assert match, f"no headline element #{element_id} in the page"
    return html.unescape(match.group(1)), html.unescape(match.group(2))


def test_report_draws_every_chart_in_chromium_and_its_headline_equals_metrics_monthly(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    result = warehouse.cli("report", "--database", str(warehouse.db_path), "--out", str(page))
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    # self-contained: no script or stylesheet is fetched from anywhere
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", text)

    dom = dump_dom(page, tmp_path / "chromium")
    status = report_status(dom)
    assert problems(status, list(report_page.CHARTS)) == []
    assert status["view"] == report.ALL_SOURCES

    last = _last_month(warehouse)
    for column, expected_text in [
        ("mrr", _whole_units(last["mrr"])),
        ("arr", _whole_units(last["arr"])),
        ("customers", f"{last['customers']:,}"),
        ("arpa", _whole_units(last["arpa"])),
        (
            "mrr_churn_rate",
            f"{Decimal(str(last['mrr_churn_rate'])).quantize(Decimal('0.01'), ROUND_HALF_UP)}%",
        ),
    ]:
        value, shown = _headline(dom, f"headline-{column.replace('_', '-')}")
        assert shown == expected_text, column
        assert float(value) == pytest.approx(float(last[column]), abs=1e-6), column

    # one selector entry for all sources and one per source, named
    options = re.findall(r"<option value=\"[^\"]+\">([^<]+)</option>", dom)
    assert options[0] == "All data sources"
    assert sorted(option.split(" (")[0] for option in options[1:]) == sorted(SOURCES)
    # the largest movements of the last month are listed with their causes
    assert "Largest MRR movements of " + str(last["month"])[:7] in dom
    assert re.search(r'<tbody id="movements-body"><tr><td>', dom)

    shot = screenshot(page, tmp_path / "chromium", tmp_path / "report.png")
    assert shot.stat().st_size > 50_000  # a blank 1400x4000 PNG is a few kB


def test_a_chart_that_does_not_draw_or_a_script_error_fails_the_browser_check(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_figures = report_page.build_figures

    def without_cash_flow(view: report_page.View, currency_label: str) -> dict[str, Any]:
        figures = build_figures(view, currency_label)
        figures["chart-cash-flow"]["data"] = []
        return figures

    monkeypatch.setattr(report_page, "build_figures", without_cash_flow)
    page = tmp_path / "broken.html"
    broken = report.build_report(str(warehouse.db_path))
    page.write_text(
        broken.replace("</body>", "<script>throw new Error('deliberate failure');</script></body>")
    )

    found = problems(report_status(dump_dom(page, tmp_path / "chromium")), list(report_page.CHARTS))
    assert "chart-cash-flow drew no marks" in found
    assert any("deliberate failure" in problem for problem in found)
    assert not any("chart-mrr-arr" in problem for problem in found)


def test_per_source_views_add_up_to_the_marts(warehouse: Warehouse) -> None:
    """The selector's per-source series are recomputed from customer-level marts; summed over the sources, the
    additive ones must equal metrics_monthly and cohorts_monthly."""
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        views = report.read_views(con, report._tables(con))
    assert views[0].key == report.ALL_SOURCES
    everything, per_source = views[0], views[1:]
    assert len(per_source) == len(SOURCES)
    for column in ("mrr", "customers", "mrr_new_business", "mrr_churn", "new_customers", "gross_cash_flow"):
        for index, row in enumerate(everything.metrics):
            summed = sum(view.metrics[index][column] or 0 for view in per_source)
            assert summed == pytest.approx(row[column] or 0, abs=1e-6), (column, row["month"])

    def cohort_totals(view: report_page.View) -> dict[tuple[str, int], tuple[float, float]]:
        return {
            (row["cohort_month"], row["month_number"]): (
                row["customers_retained"],
                row["net_mrr_retained_in_cents"],
            )
            for row in view.cohorts
        }

    expected = cohort_totals(everything)
    summed: dict[tuple[str, int], list[float]] = {}
    for view in per_source:
        for key, (customers, mrr) in cohort_totals(view).items():
            total = summed.setdefault(key, [0, 0])
            total[0] += customers
            total[1] += mrr
    assert set(summed) == set(expected)
    for key, (customers, mrr) in expected.items():
        assert summed[key][0] == customers
        assert summed[key][1] == pytest.approx(mrr, abs=1e-6)


def test_the_published_snapshot_names_the_data_sources(warehouse: Warehouse) -> None:
    """BI tools and the report read the snapshot, which has no raw schema: the data_sources mart names the uuids."""
    published = warehouse.db_path.parent / "published.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        names = report.source_names(con, report._tables(con))
        used = {
            row[0]
            for row in con.execute("select distinct data_source_uuid from main.mrr_movements").fetchall()
        }
    assert sorted(names.values()) == sorted(SOURCES)
    assert used <= set(names)


def test_report_reads_the_published_snapshot_by_default_and_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "published.duckdb"
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    result = warehouse.cli("report", "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert f"{missing} does not exist" in result.stderr  # beside the warehouse file

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = warehouse.cli("report", "--database", str(empty), "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert "main.metrics_monthly" in result.stderr and str(empty) in result.stderr
    assert not (tmp_path / "r.html").exists()
