"""Exit status 0 / 1 / 2, --strict, one transaction per file, and the public tutorial payload (scenario P08)."""

from __future__ import annotations

CUSTOMER = {"external_id": "c1", "name": "Customer One"}
PLAN = {"external_id": "silver", "name": "Silver", "interval_count": 1, "interval_unit": "month"}
BAD_PLAN = {"external_id": "weekly", "name": "Weekly", "interval_count": 1, "interval_unit": "week"}

# The public ChartMogul tutorial's bulk import payload, as in scenario P08.
TUTORIAL = {
    "external_id": "ds_import_1",
    "customers": [
        {
            "external_id": "scus_0001",
            "name": "Andrew Jones",
            "email": "andrew@example.com",
            "country": "US",
            "state": "California",
            "city": "San Francisco",
            "zip": "90210",
            "company": "CA Printing Company",
            "lead_created_at": "2023-05-14 00:00:00",
            "free_trial_started_at": "2023-06-01 00:00:00",
        }
    ],
    "plans": [
        {
            "name": "Gold Biannual",
            "external_id": "gold_biannual",
            "interval_count": 6,
            "interval_unit": "month",
        }
    ],
    "invoices": [
        {
            "external_id": f"inv_00{n}",
            "date": f"2023-0{n + 3}-02 21:37:00",
            "due_date": f"2023-0{n + 4}-02 21:37:00",
            "currency": "USD",
            "customer_external_id": "scus_0001",
        }
        for n in (1, 2, 3)
    ],
    "line_items": [
        {
            "type": "subscription",
            "amount_in_cents": amount,
            "quantity": 1,
            "invoice_external_id": f"inv_00{n}",
            "plan_external_id": "gold_biannual",
            "subscription_external_id": "sub_0001",
            "service_period_start": f"2023-0{n + 3}-02 21:37:00",
            "service_period_end": f"2023-0{n + 4}-02 21:37:00",
        }
        for n, amount in ((1, 1000), (2, 1000), (3, 1500))
    ],
    "transactions": [
        {
            "invoice_external_id": "inv_001",
            "external_id": "trans_0001",
            "type": "payments",
            "result": "successful",
            "date": "2023-04-02 21:37:00",
        },
        {
            "invoice_external_id": "inv_002",
            "external_id": "trans_0002",
            "type": "payment",
            "result": "failed",
            "date": "2023-05-02 21:37:00",
        },
        {
            "invoice_external_id": "inv_002",
            "external_id": "trans_0003",
            "type": "payment",
            "result": "successful",
            "date": "2005-05-03 21:37:00",
        },
        {
            "invoice_external_id": "inv_003",
            "external_id": "trans_0004",
            "type": "payment",
            "result": "successful",
            "date": "2023-06-03 21:37:00",
        },
    ],
    "subscription_events": [
        {
            "external_id": "scus_0001",
            "subscription_set_external_id": "sub_0001b",
            "subscription_external_id": "evnt_001",
            "customer_external_id": "scus_0001",
            "plan_external_id": "gold_biannual",
            "event_date": "2023-04-02 21:37:00",
            "effective_date": "2023-04-02 21:37:00",
            "event_type": "subscription_start",
            "currency": "USD",
            "amount_in_cents": 150000,
            "quantity": 1,
        }
    ],
}


def test_tutorial_payload_rejects_trans_0001_warns_about_2005_and_lands_the_rest(write_request, load, query):
    result = load(write_request("tutorial.json", TUTORIAL), subprocess=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert query("select external_id, object_type, field from main.load_errors") == [
        ("trans_0001", "transaction", "type")
    ]
    assert query("select external_id, object_type, field from main.load_warnings") == [
        ("trans_0003", "transaction", "date")
    ]
    assert "warning:" in result.stdout and "trans_0003" in result.stdout
    landed = query("select object_type, external_id from raw.objects order by object_seq")
    assert landed == [
        ("customer", "scus_0001"),
        ("plan", "gold_biannual"),
        ("invoice", "inv_001"),
        ("invoice", "inv_002"),
        ("invoice", "inv_003"),
        ("line_item", "inv_001#0"),
        ("line_item", "inv_002#0"),
        ("line_item", "inv_003#0"),
        ("transaction", "trans_0002"),
        ("transaction", "trans_0003"),
        ("transaction", "trans_0004"),
        ("subscription_event", "scus_0001"),
    ]
    assert query("select status, objects_accepted, objects_rejected, warnings from main.loads") == [
        ("completed_with_errors", 12, 1, 1)
    ]


def test_exit_status_is_0_when_everything_lands(write_request, load):
    result = load(write_request("ok.json", {"customers": [CUSTOMER], "plans": [PLAN]}), subprocess=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed: 2 accepted, 0 rejected, 0 unchanged, 0 warnings" in result.stdout


def test_exit_status_is_2_for_invalid_json_and_nothing_of_the_file_lands(write_request, load, query):
    result = load(write_request("broken.json", raw='{"customers": [{"external_id": "c1"},'), subprocess=True)
    assert result.returncode == 2
    assert "invalid JSON" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert query("select status from main.loads") == [("failed",)]
    assert query("select count(*) from raw.objects") == [(0,)]
    assert query("select count(*) from raw.data_sources") == [(0,)]


def test_exit_status_is_2_for_a_missing_file(load, tmp_path, query):
    result = load(tmp_path / "nope.json")
    assert result.returncode == 2
    assert "cannot read file" in result.stdout


def test_ndjson_with_one_unparseable_line_lands_nothing_of_the_file(write_request, load, query):
    lines = b'{"customers": [{"external_id": "c1"}]}\n{"customers": [\n'
    result = load(write_request("mixed.ndjson", raw=lines))
    assert result.returncode == 2
    assert "line 2" in result.stdout
    assert query("select count(*) from raw.objects") == [(0,)]


def test_each_file_is_its_own_transaction_and_the_exit_status_is_the_worst(write_request, load, query):
    good = write_request("1_good.json", {"customers": [CUSTOMER], "plans": [PLAN]})
    partly = write_request("2_partly.json", {"plans": [BAD_PLAN, {**PLAN, "external_id": "gold"}]})
    broken = write_request("3_broken.json", raw="{")
    after = write_request("4_after.json", {"customers": [{"external_id": "c2"}]})
    result = load(good, partly, broken, after)
    assert result.returncode == 2
    statuses = query("select status from main.loads order by started_at")
    assert statuses == [("completed",), ("completed_with_errors",), ("failed",), ("completed",)]
    keys = query("select external_id from raw.objects order by object_seq")
    assert keys == [("c1",), ("silver",), ("gold",), ("c2",)]
    assert load(good, partly).returncode == 1


def test_strict_mode_lands_nothing_from_a_file_with_errors_but_records_why(write_request, load, query):
    path = write_request("strict.json", {"customers": [CUSTOMER], "plans": [PLAN, BAD_PLAN]})
    result = load(path, strict=True)
    assert result.returncode == 1
    assert "nothing landed" in result.stdout
    assert query("select count(*) from raw.objects") == [(0,)]
    assert query("select count(*) from raw.requests") == [(0,)]
    assert query("select count(*) from raw.data_sources") == [(0,)]
    assert query("select status, strict, objects_accepted, objects_rejected from main.loads") == [
        ("rejected_strict", True, 0, 1)
    ]
    assert query("select object_type, external_id, field from main.load_errors") == [
        ("plan", "weekly", "interval_unit")
    ]


def test_strict_mode_lands_a_file_without_errors(write_request, load, query):
    result = load(write_request("fine.json", {"customers": [CUSTOMER], "plans": [PLAN]}), strict=True)
    assert result.returncode == 0
    assert query("select status, strict from main.loads") == [("completed", True)]
    assert query("select count(*) from raw.objects") == [(2,)]


def test_unknown_data_source_uuid_is_an_error_and_an_existing_one_is_used(write_request, load, query):
    path = write_request("ok.json", {"customers": [CUSTOMER]})
    result = load(path, data_source="ds_00000000-0000-0000-0000-000000000000")
    assert result.returncode == 2 and "no data source with uuid" in result.stderr
    assert load(path, data_source="Billing").returncode == 0
    ((uuid,),) = query("select uuid from raw.data_sources")
    second = write_request("more.json", {"customers": [{"external_id": "c2"}]})
    assert load(second, data_source=uuid).returncode == 0
    assert query("select distinct data_source_uuid from raw.objects") == [(uuid,)]


def test_sources_list_shows_uuid_name_and_object_counts(write_request, load, run_cli):
    load(write_request("ok.json", {"customers": [CUSTOMER, {"external_id": "c2"}], "plans": [PLAN]}))
    load(write_request("ok2.json", {"customers": [{"external_id": "x"}]}), data_source="Other")
    result = run_cli("sources", "list")
    assert result.returncode == 0
    header, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["uuid", "name", "customers", "plans"]
    billing = next(row.split() for row in rows if " Billing " in f" {row} ")
    assert billing[2:4] == ["2", "1"]
    assert any(" Other " in f" {row} " for row in rows)
