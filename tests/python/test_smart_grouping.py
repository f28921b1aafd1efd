"""SPEC 4 smart grouping end to end (issue #11): each group is measured from its own first change, not from the
first change of a run of close changes."""

from __future__ import annotations

import csv
import random
import subprocess
from datetime import datetime, timedelta
from itertools import groupby, pairwise
from pathlib import Path

import duckdb

from mrr_warehouse import landing
from warehouse_runner import BIN, PROJECT_ROOT, Warehouse, write_requests

SETUP = {
    "customers": [{"external_id": "g1", "name": "G1"}],
    "plans": [{"external_id": "m", "name": "Monthly", "interval_count": 1, "interval_unit": "month"}],
}


def invoice(number: str, subscription: str, start: str, end: str, amount: int) -> dict:
    return {
        "external_id": number,
        "date": start,
        "currency": "USD",
        "customer_external_id": "g1",
        "line_items": [
            {
                "type": "subscription",
                "subscription_external_id": subscription,
                "plan_external_id": "m",
                "service_period_start": start,
                "service_period_end": end,
                "amount_in_cents": amount,
            }
        ],
    }


def test_a_group_starts_at_the_first_change_outside_the_previous_groups_window(tmp_path: Path) -> None:
    # A (3000) at 10:00 and B (2000) at 10:45: one group that starts at MRR 0, so both are new business.
    # A cancelled at 11:30 is 90 min after 10:00: it starts the next group, and B cancelled at 12:15 (45 min
    # later) joins it. That group ends at MRR 0, so both are churn. The changes are never more than 45 min apart,
    # so counting fixed windows from 10:00 would put 11:30 alone (a contraction) instead.
    requests = [
        SETUP,
        {
            "invoices": [
                invoice("i_a", "sub_a", "2024-03-04 10:00:00", "2024-04-04 10:00:00", 3000),
                invoice("i_b", "sub_b", "2024-03-04 10:45:00", "2024-04-04 10:45:00", 2000),
            ]
        },
        {"subscription_external_id": "sub_a", "cancelled_at": "2024-03-04 11:30:00"},
        {"subscription_external_id": "sub_b", "cancelled_at": "2024-03-04 12:15:00"},
    ]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load("Billing", write_requests(tmp_path / "requests", requests))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build({"as_of_date": "2024-03-31"}, "--exclude-resource-type", "unit_test")

    assert warehouse.query(
        "select cast(movement_at as varchar), movement_type, mrr_change_in_cents::double "
        "from mrr_movements order by movement_at"
    ) == [
        ("2024-03-04 10:00:00", "new_business", 3000.0),
        ("2024-03-04 10:45:00", "new_business", 2000.0),
        ("2024-03-04 11:30:00", "churn", -3000.0),
        ("2024-03-04 12:15:00", "churn", -2000.0),
    ]
    assert warehouse.query(
        "select mrr_new_business, mrr_expansion, mrr_contraction, mrr_churn, mrr_reactivation, mrr "
        "from metrics_monthly where month = date '2024-03-01'"
    ) == [(5000, 0, 0, -5000, 0, 0)]


# The columns int_customer_mrr_changes reads from its two inputs.
SUBSCRIPTION_CHANGE_COLUMNS = {
    "data_source_uuid": "varchar",
    "customer_external_id": "varchar",
    "subscription_external_id": "varchar",
    "changed_at": "timestamp",
    "event_order": "integer",
    "change_kind": "varchar",
    "cause_type": "varchar",
    "cause_invoice_external_id": "varchar",
    "cause_object_key": "varchar",
    "load_id": "varchar",
    "is_active": "boolean",
    "was_active": "boolean",
    "currency": "varchar",
    "exchange_rate": "double",
    "native_mrr_before_in_cents": "bigint",
    "native_mrr_after_in_cents": "bigint",
    "mrr_before_in_cents": "bigint",
    "mrr_after_in_cents": "bigint",
    "mrr_change_in_cents": "bigint",
    "fx_adjustment_in_cents": "bigint",
}


def random_bursts(seed: int, customers: int) -> list[dict]:
    """Subscription changes of customers with bursts: gaps around the window (44-46 min for a 45 min window), short
    gaps that chain into long sessions, and days."""
    rng = random.Random(seed)
    rows = []
    for customer in range(customers):
        changed_at = datetime(2024, 1, 1)
        subscriptions: dict[str, tuple[int, bool]] = {}
        for order in range(rng.randint(1, 25)):
            changed_at += timedelta(minutes=rng.choice([0, 5, 20, 30, 44, 45, 46, 60, 90, 3000]))
            subscription = rng.choice("abc")
            before, was_active = subscriptions.get(subscription, (0, False))
            draw = rng.random()
            if not was_active:
                after, is_active = rng.choice([1000, 2000, 3000]), True
            elif draw < 0.3:
                after, is_active = 0, False  # cancelled
            elif draw < 0.4:
                after, is_active = 0, True  # free plan
            else:
                after, is_active = rng.choice([500, 1000, 2500, 4000]), True
            if (after, is_active) == (before, was_active):
                continue
            subscriptions[subscription] = (after, is_active)
            rows.append(
                {
                    "data_source_uuid": "ds",
                    "customer_external_id": f"c{customer}",
                    "subscription_external_id": subscription,
                    "changed_at": changed_at,
                    "event_order": order,
                    "is_active": is_active,
                    "was_active": was_active,
                    "currency": "USD",
                    "exchange_rate": 1.0,
                    "native_mrr_before_in_cents": before,
                    "native_mrr_after_in_cents": after,
                    "mrr_before_in_cents": before,
                    "mrr_after_in_cents": after,
                    "mrr_change_in_cents": after - before,
                    "fx_adjustment_in_cents": 0,
                }
            )
    return rows


def spec_grouped_types(movements: list[tuple], window: timedelta) -> list[str]:
    """SPEC 4 and D11, written directly: a group is a change and every later change at most `window` after it;
    a group starting with new business or reactivation is all that type unless it ends at MRR 0; a group ending
    in churn is all churn. `movements`: (changed_at, individual type, customer MRR after) in change order."""
    groups: list[list[tuple]] = []
    for movement in movements:
        if groups and movement[0] <= groups[-1][0][0] + window:
            groups[-1].append(movement)
        else:
            groups.append([movement])
    types = []
    for group in groups:
        first_type, last_type, mrr_after = group[0][1], group[-1][1], group[-1][2]
        for _, own_type, _ in group:
            if first_type in ("new_business", "reactivation") and mrr_after != 0:
                types.append(first_type)
            elif last_type == "churn" and first_type not in ("new_business", "reactivation"):
                types.append("churn")
            else:
                types.append(own_type)
    return types


def test_random_bursts_are_grouped_as_spec_4_states(tmp_path: Path) -> None:
    """The model's grouping against the rule written out in Python, on random bursts (sessions many windows long)."""
    minutes = 45
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    compiled = subprocess.run(
        [
            str(BIN / "dbt"),
            "compile",
            "--select",
            "int_customer_mrr_changes",
            "--vars",
            f'{{"smart_grouping_minutes": {minutes}, "free_downgrade_is_churn": false}}',
            "--target-path",
            str(tmp_path / "dbt_target"),
            "--log-path",
            str(tmp_path / "dbt_logs"),
        ],
        cwd=PROJECT_ROOT,
        env=warehouse.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout[-4000:]
    model_sql = next((tmp_path / "dbt_target" / "compiled").rglob("int_customer_mrr_changes.sql")).read_text()

    changes_csv = tmp_path / "subscription_changes.csv"
    with changes_csv.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(SUBSCRIPTION_CHANGE_COLUMNS))
        writer.writeheader()
        writer.writerows(random_bursts(seed=11, customers=1500))
    with duckdb.connect() as con:
        # the compiled SQL names the catalog the warehouse is attached as (profiles.yml)
        con.execute(f"attach '{warehouse.db_path}' as {landing.CATALOG}")
        con.execute(f"use {landing.CATALOG}")
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_subscription_mrr_changes ("
            + ", ".join(f"{name} {kind}" for name, kind in SUBSCRIPTION_CHANGE_COLUMNS.items())
            + ")"
        )
        # one bulk insert from a file: DuckDB inserts row by row far more slowly
        con.execute(
            f"insert into intermediate.int_subscription_mrr_changes select * from read_csv('{changes_csv}')"
        )
        # no merges: every customer reports as itself
        con.execute(
            "create table intermediate.int_customer_identities as select distinct data_source_uuid,"
            " customer_external_id, data_source_uuid as reporting_data_source_uuid,"
            " customer_external_id as reporting_customer_external_id, false as is_merged"
            " from intermediate.int_subscription_mrr_changes"
        )
        movements = con.execute(
            "select customer_external_id, changed_at, individual_movement_type, customer_mrr_after_in_cents, "
            f"movement_type from ({model_sql}) where individual_movement_type is not null "
            "order by customer_external_id, change_number"
        ).fetchall()

    checked = long_sessions = 0
    for _, customer_rows in groupby(movements, key=lambda row: row[0]):
        history = list(customer_rows)
        expected = spec_grouped_types(
            [(row[1], row[2], row[3]) for row in history], timedelta(minutes=minutes)
        )
        assert [row[4] for row in history] == expected, history
        checked += len(history)
        # a burst the old fixed-window approximation got wrong needs a run of close changes longer than 2 windows
        times = [row[1] for row in history]
        run_start = times[0]
        for previous, current in pairwise(times):
            if current - previous > timedelta(minutes=minutes):
                run_start = current
            elif current - run_start > timedelta(minutes=2 * minutes):
                long_sessions += 1
                break
    assert checked > 10_000
    assert long_sessions > 100  # the data exercises the walk over many groups, not only short sessions
