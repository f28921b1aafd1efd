"""`mrr-warehouse generate`: deterministic, well-formed, referentially sound, and covering every behaviour."""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mrr_warehouse import generate as gen

CUSTOMERS, MONTHS, SEED = 300, 24, 7
START = date(2023, 1, 1)
WINDOW_START = datetime(2023, 1, 1)
WINDOW_END = datetime(2025, 1, 1)  # exclusive
TS_FORMAT = "%Y-%m-%d %H:%M:%S"

BULK_KEYS = {"external_id", "customers", "invoices", "line_items", "transactions"}
CANCELLATION_KEYS = {"subscription_external_id", "cancelled_at"}


def ts(text: str) -> datetime:
    return datetime.strptime(text, TS_FORMAT)


def add_months(moment: datetime, months: int) -> datetime:
    assert moment.day <= 28, f"a month-interval period starts on day {moment.day}"
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)


def read_dir(path: Path) -> dict[str, Any]:
    """Every request in the directory, checked for its shape, merged into flat lists."""
    data: dict[str, Any] = collections.defaultdict(list)
    for file in sorted(path.iterdir()):
        if file.suffix == ".ndjson":
            for line in file.read_text().splitlines():
                request = json.loads(line)
                assert set(request) == CANCELLATION_KEYS, file.name
                data["cancellations"].append(request)
        else:
            request = json.loads(file.read_bytes())
            if file.name == gen.PLANS_FILE:
                assert set(request) == {"external_id", "plans"}
                data["plans"].extend(request["plans"])
            else:
                assert set(request) == BULK_KEYS, file.name
                for key in BULK_KEYS - {"external_id"}:
                    data[key].extend(request[key])
            data["request_ids"].append(request["external_id"])
    return data


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("generated")
    summary = gen.generate(path, customers=CUSTOMERS, months=MONTHS, seed=SEED, start_date=START)
    return path, summary


@pytest.fixture(scope="module")
def data(out: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return read_dir(out[0])


@pytest.fixture(scope="module")
def plans(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["external_id"]: p for p in data["plans"]}


def files_of(path: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(path.iterdir())}


# ---- determinism -------------------------------------------------------------------------------------------
def test_same_arguments_give_byte_identical_files(out: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    gen.generate(tmp_path, customers=CUSTOMERS, months=MONTHS, seed=SEED, start_date=START)
    assert files_of(tmp_path) == files_of(out[0])


def test_a_different_seed_gives_different_data(out: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    gen.generate(tmp_path, customers=CUSTOMERS, months=MONTHS, seed=SEED + 1, start_date=START)
    assert files_of(tmp_path)["001_bulk.json"] != files_of(out[0])["001_bulk.json"]


def test_chunk_size_changes_the_files_but_not_the_objects(data: dict[str, Any], tmp_path: Path) -> None:
    summary = gen.generate(
        tmp_path, customers=CUSTOMERS, months=MONTHS, seed=SEED, start_date=START, chunk_size=120
    )
    assert summary["files"] == [
        "000_plans.json",
        "001_bulk.json",
        "002_bulk.json",
        "003_bulk.json",
        gen.CANCELLATIONS_FILE,
    ]
    chunked = read_dir(tmp_path)
    for key in ("customers", "invoices", "line_items", "transactions", "cancellations"):
        assert chunked[key] == data[key], key


def test_invalid_share_only_changes_the_invalid_objects(data: dict[str, Any], tmp_path: Path) -> None:
    summary = gen.generate(
        tmp_path, customers=CUSTOMERS, months=MONTHS, seed=SEED, start_date=START, invalid_share=0
    )
    clean = read_dir(tmp_path)
    assert summary["invalid_objects"] == 0
    assert clean["customers"] == data["customers"]
    assert clean["invoices"] == data["invoices"]
    assert len(clean["transactions"]) == len(data["transactions"])
    assert all(t["type"] in ("payment", "refund") and "result" in t for t in clean["transactions"])
    assert all("amount_in_cents" in li for li in clean["line_items"])


# ---- shapes and integrity ----------------------------------------------------------------------------------
def test_files_sort_plans_first_then_bulk_chunks_then_cancellations(out: tuple[Path, dict[str, Any]]) -> None:
    path, summary = out
    names = sorted(f.name for f in path.iterdir())
    assert names == summary["files"] == ["000_plans.json", "001_bulk.json", "900_cancellations.ndjson"]


def test_summary_counts_match_the_files(out: tuple[Path, dict[str, Any]], data: dict[str, Any]) -> None:
    summary = out[1]
    for key in ("customers", "invoices", "line_items", "transactions", "cancellations", "plans"):
        assert summary[key] == len(data[key]), key
    assert summary["end_date"] == "2024-12-31"
    assert summary["bytes"] == sum(f.stat().st_size for f in out[0].iterdir())


def test_plans_cover_monthly_quarterly_annual_14_day_and_free_intervals(
    plans: dict[str, dict[str, Any]],
) -> None:
    intervals = {(p["interval_count"], p["interval_unit"]) for p in plans.values()}
    assert {(1, "month"), (3, "month"), (1, "year"), (14, "day")} <= intervals
    assert all(p["name"] and p["interval_count"] > 0 for p in plans.values())


def test_external_ids_are_unique_per_object_type(data: dict[str, Any]) -> None:
    for key in ("plans", "customers", "invoices", "line_items", "transactions"):
        ids = [o["external_id"] for o in data[key]]
        assert len(ids) == len(set(ids)), key
    assert len(data["request_ids"]) == len(set(data["request_ids"]))


def test_every_reference_points_to_an_existing_object(data: dict[str, Any], plans: dict[str, Any]) -> None:
    customers = {c["external_id"] for c in data["customers"]}
    invoices = {i["external_id"]: i for i in data["invoices"]}
    subscriptions = set()
    assert all(i["customer_external_id"] in customers for i in invoices.values())
    for li in data["line_items"]:
        assert li["invoice_external_id"] in invoices
        if li["type"] == "subscription":
            assert li["plan_external_id"] in plans
            subscriptions.add(li["subscription_external_id"])
            # a subscription belongs to one customer
            assert (
                li["subscription_external_id"].split("-")[0]
                == invoices[li["invoice_external_id"]]["customer_external_id"]
            )
    assert all(t["invoice_external_id"] in invoices for t in data["transactions"])
    assert all(c["subscription_external_id"] in subscriptions for c in data["cancellations"])
    with_lines = {li["invoice_external_id"] for li in data["line_items"]}
    assert with_lines == set(invoices), "every invoice has at least one line item"


def test_each_customer_has_one_currency(data: dict[str, Any]) -> None:
    currencies: dict[str, set[str]] = collections.defaultdict(set)
    for invoice in data["invoices"]:
        currencies[invoice["customer_external_id"]].add(invoice["currency"])
    assert all(len(c) == 1 for c in currencies.values())


def test_service_periods_follow_the_plan_interval(data: dict[str, Any], plans: dict[str, Any]) -> None:
    period_ends: dict[str, set[datetime]] = collections.defaultdict(set)
    subscription_lines = [li for li in data["line_items"] if li["type"] == "subscription"]
    for li in subscription_lines:
        start, end = ts(li["service_period_start"]), ts(li["service_period_end"])
        assert end > start
        if li.get("prorated"):
            continue
        plan = plans[li["plan_external_id"]]
        count, unit = plan["interval_count"], plan["interval_unit"]
        if unit == "day":
            assert end == start + timedelta(days=count)
        else:
            assert end == add_months(start, count * (12 if unit == "year" else 1)), li
        period_ends[li["subscription_external_id"]].add(end)
    for li in subscription_lines:  # a prorated line covers the rest of a full period of its subscription
        if li.get("prorated"):
            assert ts(li["service_period_end"]) in period_ends[li["subscription_external_id"]]


def test_nothing_is_dated_outside_the_window(data: dict[str, Any]) -> None:
    def inside(text: str) -> bool:
        return WINDOW_START <= ts(text) < WINDOW_END

    for c in data["customers"]:
        for key in ("lead_created_at", "free_trial_started_at"):
            assert key not in c or inside(c[key]), c
    assert all(inside(i["date"]) for i in data["invoices"])
    assert all(inside(t["date"]) for t in data["transactions"] if "date" in t)
    assert all(inside(c["cancelled_at"]) for c in data["cancellations"])
    for li in data["line_items"]:
        if li["type"] == "subscription":
            assert inside(li["service_period_start"])
        if "cancelled_at" in li:
            assert inside(li["cancelled_at"])


def test_subscription_amounts_are_seats_times_price_less_discount_plus_tax(data: dict[str, Any]) -> None:
    currency = {i["external_id"]: i["currency"] for i in data["invoices"]}
    for li in data["line_items"]:
        if li["type"] != "subscription" or li.get("prorated"):
            continue
        price = gen.PRICES[currency[li["invoice_external_id"]]][li["plan_external_id"]]
        net = li["amount_in_cents"] - li.get("tax_amount_in_cents", 0)
        assert net + li.get("discount_amount_in_cents", 0) == price * li["quantity"], li


# ---- the behaviour mix -------------------------------------------------------------------------------------
def test_the_mix_contains_every_behaviour(data: dict[str, Any], plans: dict[str, Any]) -> None:
    lines = data["line_items"]
    subscription_lines = [li for li in lines if li["type"] == "subscription"]
    by_sub: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for li in subscription_lines:
        by_sub[li["subscription_external_id"]].append(li)
    plan_of = {li["plan_external_id"] for li in subscription_lines}
    currencies = {i["currency"] for i in data["invoices"]}
    invoiced = {i["customer_external_id"] for i in data["invoices"]}
    txns_by_invoice: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for t in data["transactions"]:
        txns_by_invoice[t["invoice_external_id"]].append(t)

    def monthly(li: dict[str, Any]) -> float:
        plan = plans[li["plan_external_id"]]
        months = {"month": 1, "year": 12}.get(plan["interval_unit"], 12 / 365)
        return (li["amount_in_cents"] - li.get("tax_amount_in_cents", 0)) / (plan["interval_count"] * months)

    renewals = [
        (a, b)
        for sub_lines in by_sub.values()
        for a, b in zip(
            [li for li in sub_lines if not li.get("prorated")],
            [li for li in sub_lines if not li.get("prorated")][1:],
            strict=False,
        )
    ]
    cancelled_at: dict[str, datetime] = {
        c["subscription_external_id"]: ts(c["cancelled_at"]) for c in data["cancellations"]
    }
    cancelled_at |= {
        li["subscription_external_id"]: ts(li["cancelled_at"]) for li in lines if "cancelled_at" in li
    }
    reactivations = [
        sub
        for sub, sub_lines in by_sub.items()
        if sub.endswith("-S2")
        and cancelled_at.get(sub.replace("-S2", "-S1"), WINDOW_END) < ts(sub_lines[0]["service_period_start"])
    ]
    customers_with_two_live_subscriptions = {
        sub.split("-")[0] for sub in by_sub if "-A" in sub
    }  # the add-on runs next to the main subscription

    mix = {
        "leads who never pay": sum(1 for c in data["customers"] if c["external_id"] not in invoiced),
        "lead_created_at": sum(1 for c in data["customers"] if "lead_created_at" in c),
        "free trials": sum(1 for c in data["customers"] if "free_trial_started_at" in c),
        "prorated lines": sum(1 for li in lines if li.get("prorated")),
        "negative credit lines": sum(1 for li in lines if li.get("prorated") and li["amount_in_cents"] < 0),
        "cancellations on a line item": sum(1 for li in lines if "cancelled_at" in li),
        "cancellation requests": len(data["cancellations"]),
        "reactivations": len(reactivations),
        "add-on subscriptions": len(customers_with_two_live_subscriptions),
        "one-time lines": sum(1 for li in lines if li["type"] == "one_time"),
        "discounts": sum(1 for li in lines if li.get("discount_amount_in_cents")),
        "taxes": sum(1 for li in lines if li.get("tax_amount_in_cents")),
        "free plan lines": sum(1 for li in subscription_lines if li["amount_in_cents"] == 0),
        "upgrades at renewal": sum(
            1
            for a, b in renewals
            if a["plan_external_id"] != b["plan_external_id"] and monthly(b) > monthly(a)
        ),
        "downgrades at renewal": sum(
            1
            for a, b in renewals
            if a["plan_external_id"] != b["plan_external_id"] and monthly(b) < monthly(a)
        ),
        "free downgrades": sum(
            1 for a, b in renewals if a["amount_in_cents"] > 0 and b["amount_in_cents"] == 0
        ),
        "seat changes": sum(1 for a, b in renewals if a["quantity"] != b["quantity"]),
        "refunds": sum(1 for t in data["transactions"] if t["type"] == "refund"),
        "failed payments retried successfully": sum(
            1
            for ts_ in txns_by_invoice.values()
            if any(t.get("result") == "failed" for t in ts_)
            and ts_[-1].get("result") == "successful"
            and ts_[-1]["type"] == "payment"
        ),
        "invalid objects": sum(
            1 for t in data["transactions"] if t["type"] == "payments" or "result" not in t
        )
        + sum(1 for li in lines if "amount_in_cents" not in li),
    }
    missing = [name for name, count in mix.items() if count == 0]
    assert not missing, f"behaviours missing from the sample: {missing} (mix: {mix})"
    assert {"USD", "EUR", "GBP"} <= currencies
    assert {
        "pro_annual",
        "business_annual",
        "pro_quarterly",
        "sprint_14d",
        "free_monthly",
        "team_monthly",
    } <= plan_of


def test_invalid_objects_are_counted_in_the_summary(
    out: tuple[Path, dict[str, Any]], data: dict[str, Any]
) -> None:
    invalid = sum(
        1 for t in data["transactions"] if t["type"] not in ("payment", "refund") or "result" not in t
    )
    invalid += sum(1 for li in data["line_items"] if "amount_in_cents" not in li)
    assert invalid == out[1]["invalid_objects"] > 0


# ---- CLI ---------------------------------------------------------------------------------------------------
def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mrr-warehouse")
    gen.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_writes_the_files_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(
        [
            "generate",
            "--customers",
            "50",
            "--months",
            "6",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--start-date",
            "2024-03-01",
            "--invalid-share",
            "0",
        ]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "50 customers" in out and "2024-03-01 .. 2024-08-31" in out
    assert (tmp_path / "000_plans.json").exists() and (tmp_path / "001_bulk.json").exists()


def test_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["generate", "--customers", "10", "--months", "0", "--out", str(tmp_path)])
    assert args.func(args) == 2
    with pytest.raises(SystemExit):
        parse(
            ["generate", "--customers", "10", "--months", "3", "--out", str(tmp_path), "--invalid-share", "2"]
        )


def test_a_rerun_into_the_same_directory_leaves_no_stale_chunks(tmp_path: Path) -> None:
    gen.generate(tmp_path, customers=30, months=3, seed=1, chunk_size=10)
    gen.generate(tmp_path, customers=30, months=3, seed=1, chunk_size=30)
    assert sorted(f.name for f in tmp_path.glob("*_bulk.json")) == ["001_bulk.json"]


# ---- through the loader ------------------------------------------------------------------------------------
def test_the_loader_accepts_everything_but_the_objects_made_invalid_on_purpose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = pytest.importorskip("mrr_warehouse.cli")
    duckdb = pytest.importorskip("duckdb")
    data_dir, db = tmp_path / "data", tmp_path / "warehouse.duckdb"
    summary = gen.generate(data_dir, customers=200, months=12, seed=5, invalid_share=0.01)
    invalid = read_dir(data_dir)
    rejected_lines = sum(1 for li in invalid["line_items"] if "amount_in_cents" not in li)
    monkeypatch.setenv("MRR_WAREHOUSE_DB", str(db))

    assert cli.main(["load", "--data-source", "Generated", str(data_dir)]) == 1

    with duckdb.connect(str(db), read_only=True) as con:
        errors = con.execute("select count(*) from main.load_errors").fetchone()[0]
        landed = dict(con.execute("select object_type, count(*) from raw.objects group by 1").fetchall())
    assert errors == summary["invalid_objects"] > 0
    assert landed == {
        "plan": summary["plans"],
        "customer": summary["customers"],
        "invoice": summary["invoices"],
        "line_item": summary["line_items"] - rejected_lines,
        "transaction": summary["transactions"] - (summary["invalid_objects"] - rejected_lines),
        "cancellation": summary["cancellations"],
    }


# ---- the demo's bridge table -------------------------------------------------------------------------------
def load_demo() -> Any:
    spec = importlib.util.spec_from_file_location("demo", Path(__file__).parents[2] / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_bridge_table_prints_whole_units_and_finds_broken_months() -> None:
    demo = load_demo()
    assert demo.money(123456.5) == "1,234.57"
    assert demo.money(-0.5) == "-0.01"
    zero = {
        "mrr_new_business": 0.0,
        "mrr_expansion": 0.0,
        "mrr_contraction": 0.0,
        "mrr_churn": 0.0,
        "mrr_reactivation": 0.0,
    }
    rows = [
        {**zero, "month": date(2024, 1, 1), "mrr": 1_000_000.0, "mrr_new_business": 1_000_000.0},
        {
            **zero,
            "month": date(2024, 2, 1),
            "mrr": 950_000.5,
            "mrr_expansion": 100_000.5,
            "mrr_churn": -150_000.0,
        },
        {**zero, "month": date(2024, 3, 1), "mrr": 1.0},
    ]
    table, broken = demo.bridge_table(rows, None)
    assert broken == ["2024-03"]
    assert "10,000.00" in table and "-1,500.00" in table and "9,500.01" in table
    widths = {len(line) for line in table.splitlines()}
    assert len(widths) == 1, "columns are aligned"
