"""The Import API server's refusals and guarantees (issue 13 items 2-3, 6): keys, malformed and invalid bodies,
unknown uuids, retried requests, concurrent clients, a busy database file, the body size limit, the logs."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chartmogul
import duckdb
import orjson
import pytest
import requests
from api_server import serving

from warehouse_runner import Warehouse

KEY = "errors-test-key"
UNKNOWN_CUSTOMER = "cus_00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Warehouse]]:
    warehouse = Warehouse(tmp_path_factory.mktemp("server") / "warehouse.duckdb")
    with serving(warehouse.db_path, KEY, MRR_WAREHOUSE_SERVER_LOCK_WAIT="1") as uri:
        yield uri, warehouse


@pytest.fixture(scope="module")
def source(server: tuple[str, Warehouse]) -> str:
    uri, _ = server
    response = requests.post(f"{uri}/data_sources", json={"name": "Errors"}, auth=(KEY, ""), timeout=30)
    assert response.status_code == 200
    return response.json()["uuid"]


def _post(uri: str, path: str, body: Any, key: str = KEY) -> requests.Response:
    return requests.post(f"{uri}{path}", data=orjson.dumps(body), auth=(key, ""), timeout=60)


def _config(uri: str) -> chartmogul.Config:
    config = chartmogul.Config(KEY, max_retries=0)
    config.uri = uri
    return config


def _count(warehouse: Warehouse, sql: str) -> int:
    """Counts read while the server runs: only when its writer has closed the file (idle), so retry briefly."""
    for _ in range(50):
        try:
            return warehouse.query(sql)[0][0]
        except duckdb.IOException:
            threading.Event().wait(0.2)
    raise AssertionError("the server kept the database file open while idle")


def test_a_wrong_or_missing_key_is_401(server: tuple[str, Warehouse]) -> None:
    uri, _ = server
    assert requests.get(f"{uri}/ping", auth=("wrong", ""), timeout=30).status_code == 401
    assert requests.get(f"{uri}/ping", timeout=30).status_code == 401
    config = chartmogul.Config("wrong", max_retries=0)
    config.uri = uri
    with pytest.raises(chartmogul.APIError):
        chartmogul.Ping.ping(config).get()


def test_malformed_and_invalid_bodies(server: tuple[str, Warehouse], source: str) -> None:
    uri, warehouse = server
    malformed = requests.post(f"{uri}/customers", data=b'{"external_id": ', auth=(KEY, ""), timeout=30)
    assert malformed.status_code == 400
    not_an_object = _post(uri, "/customers", [1, 2])
    assert not_an_object.status_code == 400
    # A customer without its external_id: rejected per object, with the field named, and kept in load_errors.
    invalid = _post(
        uri, "/customers", {"data_source_uuid": source, "name": "No Id", "email": "x@example.com"}
    )
    assert invalid.status_code == 422
    assert "external_id" in invalid.json()["errors"]
    assert _count(warehouse, "select count(*) from main.load_errors where field = 'external_id'") == 1


def test_an_invoice_request_reports_each_rejected_invoice(server: tuple[str, Warehouse], source: str) -> None:
    uri, warehouse = server
    customer = _post(
        uri, "/customers", {"data_source_uuid": source, "external_id": "c-inv", "name": "C"}
    ).json()
    good = {
        "external_id": "inv-good",
        "date": "2024-01-01T00:00:00Z",
        "currency": "USD",
        "line_items": [{"type": "one_time", "amount_in_cents": 100}],
    }
    bad = {
        "external_id": "inv-bad",
        "date": "2024-01-01T00:00:00Z",
        "currency": "USD",
        "line_items": [
            {
                "type": "subscription",
                "subscription_external_id": "s",
                "plan_uuid": "pl_00000000-0000-0000-0000-000000000000",
                "service_period_start": "2024-01-01T00:00:00Z",
                "service_period_end": "2024-02-01T00:00:00Z",
                "amount_in_cents": 100,
            }
        ],
    }
    response = _post(uri, f"/import/customers/{customer['uuid']}/invoices", {"invoices": [good, bad]})
    assert response.status_code == 422
    rejected = {(item["object_type"], item.get("external_id")) for item in response.json()["objects"]}
    assert ("invoice", "inv-bad") in rejected and ("invoice", "inv-good") not in rejected
    assert (
        _count(
            warehouse,
            "select count(*) from raw.objects where object_type = 'invoice' and external_id = 'inv-good'",
        )
        == 1
    )


def test_an_unknown_uuid_is_404(server: tuple[str, Warehouse], source: str) -> None:
    uri, _ = server
    body = {
        "invoices": [
            {"external_id": "i", "date": "2024-01-01T00:00:00Z", "currency": "USD", "line_items": []}
        ]
    }
    assert _post(uri, f"/import/customers/{UNKNOWN_CUSTOMER}/invoices", body).status_code == 404
    assert requests.get(f"{uri}/customers/{UNKNOWN_CUSTOMER}", auth=(KEY, ""), timeout=30).status_code == 404
    cancellation = requests.patch(
        f"{uri}/import/subscriptions/sub_00000000-0000-0000-0000-000000000000",
        json={"cancelled_at": "2024-01-01T00:00:00Z"},
        auth=(KEY, ""),
        timeout=30,
    )
    assert cancellation.status_code == 404
    with pytest.raises(chartmogul.APIError):
        chartmogul.Customer.retrieve(_config(uri), uuid=UNKNOWN_CUSTOMER).get()


def test_a_retried_request_changes_nothing(server: tuple[str, Warehouse], source: str) -> None:
    uri, warehouse = server
    body = {"data_source_uuid": source, "external_id": "c-dup", "name": "Dup", "email": "dup@example.com"}
    first = _post(uri, "/customers", body)
    counts = [
        _count(warehouse, "select count(*) from raw.objects"),
        _count(warehouse, "select count(*) from raw.requests"),
    ]
    second = _post(uri, "/customers", body)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert [
        _count(warehouse, "select count(*) from raw.objects"),
        _count(warehouse, "select count(*) from raw.requests"),
    ] == counts


def test_twenty_concurrent_clients_all_land(server: tuple[str, Warehouse], source: str) -> None:
    uri, warehouse = server
    failures: list[BaseException] = []

    def client(number: int) -> None:
        config = _config(uri)
        try:
            for index in range(5):
                chartmogul.Customer.create(
                    config,
                    data={"data_source_uuid": source, "external_id": f"conc-{number}-{index}", "name": "C"},
                ).get()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    landed = "select count(*) from raw.objects where object_type = 'customer' and external_id like 'conc-%'"
    assert _count(warehouse, landed) == 100


def test_while_another_process_holds_the_file_requests_get_503_then_land(
    server: tuple[str, Warehouse], source: str
) -> None:
    uri, warehouse = server
    _count(warehouse, "select 1")  # the writer has closed the file
    holder = duckdb.connect(str(warehouse.db_path))  # as dbt build does
    try:
        busy = _post(uri, "/customers", {"data_source_uuid": "ds_busy", "external_id": "c-busy"})
        assert busy.status_code == 503
        assert busy.headers["Retry-After"].isdigit()
    finally:
        holder.close()
    retried = _post(uri, "/customers", {"data_source_uuid": source, "external_id": "c-busy", "name": "B"})
    assert retried.status_code == 200


def test_a_10_mb_bulk_import_is_accepted_and_a_larger_body_refused(
    server: tuple[str, Warehouse], source: str
) -> None:
    uri, _ = server
    customers = [
        {
            "external_id": f"bulk-{index}",
            "name": "N" * 60,
            "email": f"bulk{index}@example.com",
            "company": "C" * 60,
        }
        for index in range(55_000)
    ]
    body = orjson.dumps({"customers": customers})
    assert len(body) >= 10 * 1024 * 1024
    response = requests.post(
        f"{uri}/data_sources/{source}/json_imports", data=body, auth=(KEY, ""), timeout=300
    )
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["status_details"]["accepted"] == 55_000
    status = requests.get(
        f"{uri}/data_sources/{source}/json_imports/{response.json()['id']}", auth=(KEY, ""), timeout=30
    )
    assert status.json()["status_details"]["accepted"] == 55_000
    too_large = requests.post(
        f"{uri}/data_sources/{source}/json_imports",
        data=b" " * (33 * 1024 * 1024),
        auth=(KEY, ""),
        timeout=60,
    )
    assert too_large.status_code == 413


def test_logs_hold_no_personal_data(server: tuple[str, Warehouse], source: str) -> None:
    uri, warehouse = server
    response = _post(
        uri,
        "/customers",
        {"data_source_uuid": source, "external_id": "secret-ext-id", "email": "private@example.org"},
    )
    assert response.status_code == 200
    requests.get(f"{uri}/customers", params={"external_id": "secret-ext-id"}, auth=(KEY, ""), timeout=30)
    log = "\n".join(path.read_text() for path in Path(warehouse.db_path.parent).glob("server-*.log"))
    assert "POST /v1/customers 200" in log
    assert "private@example.org" not in log and "secret-ext-id" not in log


def test_api_keys_are_stored_hashed_and_revocable(server: tuple[str, Warehouse]) -> None:
    uri, warehouse = server
    created = warehouse.cli("api-keys", "create", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[0]
    assert requests.get(f"{uri}/ping", auth=(key, ""), timeout=30).status_code == 200
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert (
        _count(warehouse, f"select count(*) from main.api_keys where name = 'ci' and key_sha256 = '{digest}'")
        == 1
    )
    assert _count(warehouse, f"select count(*) from main.api_keys where key_sha256 = '{key}'") == 0
    assert warehouse.cli("api-keys", "create", "ci").returncode == 2  # one active key per name
    assert warehouse.cli("api-keys", "revoke", "ci").returncode == 0
    threading.Event().wait(2.5)  # the server re-reads the stored keys every 2 s
    assert requests.get(f"{uri}/ping", auth=(key, ""), timeout=30).status_code == 401


def test_a_customer_is_updated_and_deleted_through_the_client(
    server: tuple[str, Warehouse], source: str
) -> None:
    uri, warehouse = server
    config = _config(uri)
    created = chartmogul.Customer.create(
        config,
        data={"data_source_uuid": source, "external_id": "c-life", "name": "Life", "email": "l@example.com"},
    ).get()
    chartmogul.Customer.modify(config, uuid=created.uuid, data={"company": "Life Ltd"}).get()
    updated = chartmogul.Customer.retrieve(config, uuid=created.uuid).get()
    assert (updated.company, updated.email) == ("Life Ltd", "l@example.com")
    chartmogul.Customer.destroy(config, uuid=created.uuid).get()
    assert requests.get(f"{uri}/customers/{created.uuid}", auth=(KEY, ""), timeout=30).status_code == 404
    # The source keeps no deleted customers (its default): no row of it remains.
    assert _count(warehouse, "select count(*) from raw.objects where external_id = 'c-life'") == 0


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    customers = [{"external_id": f"late-{index}", "name": "N" * 100} for index in range(40_000)]
    answers: list[requests.Response] = []
    with serving(warehouse.db_path, KEY) as uri:
        source = _post(uri, "/data_sources", {"name": "Late"}).json()["uuid"]

        def send() -> None:
            body = orjson.dumps({"customers": customers})
            answers.append(
                requests.post(f"{uri}/data_sources/{source}/json_imports", data=body, auth=(KEY, ""))
            )

        sender = threading.Thread(target=send)
        sender.start()
        threading.Event().wait(0.3)  # the request is being received or landed when SIGTERM arrives
    sender.join()
    assert [answer.status_code for answer in answers] == [200]
    assert warehouse.query("select count(*) from raw.objects where object_type = 'customer'") == [(40_000,)]


def test_a_bulk_import_reports_each_rejected_object(server: tuple[str, Warehouse], source: str) -> None:
    uri, _ = server
    config = _config(uri)
    body = {
        "external_id": "bulk-with-errors",
        "customers": [
            {"external_id": "b-ok", "name": "Ok"},
            {"name": "No id"},
            {"external_id": "b-bad", "country": 7},
        ],
    }
    created = chartmogul.JsonImport.create(config, data_source_uuid=source, data=body).get()
    assert created.status == "completed_with_errors"
    assert (created.status_details["accepted"], created.status_details["rejected"]) == (1, 2)
    errors = {(error["position"], error["field"]) for error in created.status_details["errors"]}
    assert errors == {(1, "external_id"), (2, "country")}
    again = chartmogul.JsonImport.retrieve(config, data_source_uuid=source, id=created.id).get()
    assert again.status_details == created.status_details
