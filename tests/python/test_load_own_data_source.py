"""A load writes only to its own data source (issue #11 item 4)."""

from __future__ import annotations

from mrr_warehouse.schema import data_source_uuid

SETTINGS = (
    "select auto_churn_enabled, auto_churn_interval_days, include_deleted_customers from raw.data_sources"
)


def _configure(write_request, load, name, interval):
    body = {"name": name, "auto_churn_subscription_setting": {"enabled": True, "interval": interval}}
    return load(write_request(f"ds_{name}_{interval}.json", body), data_source=name)


def test_a_data_source_object_of_another_source_is_rejected_and_leaves_that_source_alone(
    write_request, load, query
):
    assert _configure(write_request, load, "Stripe", 30).returncode == 0
    hostile = {
        "name": "Stripe",
        "auto_churn_subscription_setting": {"enabled": False},
        "include_deleted_customers": True,
    }
    result = load(write_request("hostile.json", hostile), data_source="Billing")
    assert result.returncode == 1
    assert "data_source Stripe: name: is data source Stripe, but this load is for Billing" in result.stdout
    assert query(SETTINGS + " where name = 'Stripe'") == [(True, 30, False)]


def test_a_data_source_object_naming_the_loads_own_source_configures_it(write_request, load, query):
    assert _configure(write_request, load, "Billing", 14).returncode == 0
    assert query(SETTINGS + " where name = 'Billing'") == [(True, 14, False)]


def test_a_data_source_object_whose_uuid_is_another_sources_is_rejected(write_request, load, query):
    assert _configure(write_request, load, "Stripe", 30).returncode == 0
    body = {
        "name": "Billing",
        "uuid": data_source_uuid("Stripe"),
        "auto_churn_subscription_setting": {"enabled": False},
    }
    result = load(write_request("ds.json", body), data_source="Billing")
    assert result.returncode == 1
    assert f"uuid: names data source Stripe ({data_source_uuid('Stripe')})" in result.stdout
    assert query(SETTINGS + " where name = 'Stripe'") == [(True, 30, False)]


def test_objects_whose_data_source_uuid_names_another_source_are_rejected_per_object(
    write_request, load, query
):
    assert (
        load(write_request("s.json", {"customers": [{"external_id": "s1"}]}), data_source="Stripe").returncode
        == 0
    )
    stripe = data_source_uuid("Stripe")
    customers = [
        {"external_id": "foreign", "data_source_uuid": stripe},
        {"external_id": "own", "data_source_uuid": data_source_uuid("Billing")},
        # ChartMogul's own uuid in an exported request names no data source of this warehouse: kept as sent
        {"external_id": "exported", "data_source_uuid": "ds_fef05d54-47b4-431b-aed2-eb6b9e545430"},
    ]
    result = load(write_request("b.json", {"customers": customers}), data_source="Billing")
    assert result.returncode == 1
    assert "customer foreign: data_source_uuid: names data source Stripe" in result.stdout
    rows = query("select data_source_uuid, external_id from raw.objects order by object_seq")
    assert rows == [
        (stripe, "s1"),
        (data_source_uuid("Billing"), "own"),
        (data_source_uuid("Billing"), "exported"),
    ]


def test_a_bulk_request_naming_another_source_at_the_top_rejects_its_objects(write_request, load, query):
    assert (
        load(write_request("s.json", {"customers": [{"external_id": "s1"}]}), data_source="Stripe").returncode
        == 0
    )
    body = {"data_source_uuid": data_source_uuid("Stripe"), "customers": [{"external_id": "c1"}]}
    result = load(write_request("b.json", body), data_source="Billing")
    assert result.returncode == 1
    assert "customer c1: (request) data_source_uuid: names data source Stripe" in result.stdout
    assert query("select count(*) from raw.objects where external_id = 'c1'") == [(0,)]
