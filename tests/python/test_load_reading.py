"""Reading request files: the streaming reader of large files sees exactly what a whole-file parse sees, keeps
little in memory, and reports malformed JSON instead of guessing."""

from __future__ import annotations

import json
import tracemalloc

import orjson
import pytest

from mrr_warehouse import reading
from mrr_warehouse.schema import data_source_uuid

TRICKY = {
    "external_id": 'braces {in} "strings" ]',
    "customers": [
        {
            "external_id": "c}1",
            "name": 'Quote " and backslash \\ and brace }',
            "attributes": {"tags": ["a]", "{b"]},
        },
        {
            "external_id": "c2",
            "name": "Ünïcødé ✓ \u2028",
            "attributes": {"custom": [{"key": "k", "value": [1, {}]}]},
        },
        {},
    ],
    "plans": [],
    "invoices": [
        {
            "external_id": "inv_1",
            "line_items": [{"description": '}]},{"x": ['}, {"description": "{{{"}],
            "transactions": [{"type": "payment"}],
        }
    ],
    "line_items": [1, "two", None, [3, [4]], {"nested": {"deeper": {"deepest": "}"}}}],
    "count": 12.5e3,
    "flag": True,
    "nothing": None,
    "body_like": {"inner": [{"a": 1}]},
}


_OPEN: list = []  # keeps the generators (and so their memory maps) alive while a test reads the bodies


def _lazy(path):
    requests = reading.iter_requests(path, stream_threshold=1)
    request = next(requests)
    _OPEN.append(requests)
    assert isinstance(request.body, reading.LazyBody)
    return request


@pytest.mark.parametrize("indent", [False, True])
def test_streaming_reader_yields_the_same_values_as_a_whole_parse(tmp_path, indent):
    path = tmp_path / "tricky.json"
    option = orjson.OPT_INDENT_2 if indent else 0
    path.write_bytes(b"\n  " + orjson.dumps(TRICKY, option=option) + b"\n\n")
    request = _lazy(path)
    body = request.body
    assert body.keys() == list(TRICKY)
    for key, value in TRICKY.items():
        if isinstance(value, list):
            assert body.kind(key) == "array" and list(body.iter_array(key)) == value
        elif isinstance(value, dict):
            assert body.kind(key) == "object" and body.child(key).to_dict() == value
        else:
            assert body.kind(key) == "scalar"
        assert body.get(key) == value
    assert body.to_dict() == TRICKY
    (whole,) = reading.iter_requests(path, stream_threshold=1 << 30)
    assert whole.content_hash == request.content_hash  # sha256 of the request without surrounding whitespace
    assert whole.body.to_dict() == TRICKY and orjson.loads(whole.text) == TRICKY


@pytest.mark.parametrize(
    "text",
    [
        '{"customers": [{"external_id": "c1"},]}',
        '{"customers": [{"external_id": "c1"}',
        '{"customers": [{"external_id": "c1}]}',
        '{"customers": [] "plans": []}',
        '{"customers": []} trailing',
        '{"a": tru}',
    ],
)
def test_streaming_reader_rejects_malformed_json(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(reading.ReadError):
        _lazy(path)
    with pytest.raises(reading.ReadError):
        list(reading.iter_requests(path, stream_threshold=1 << 30))


def test_streaming_reader_keeps_python_memory_far_below_the_file_size(tmp_path):
    customers = [
        {
            "external_id": f"c{n}",
            "name": f"Customer {n} of a realistic length",
            "email": f"c{n}@example.com",
            "company": f"Company {n} Incorporated",
            "country": "US",
            "city": "San Francisco",
        }
        for n in range(50_000)
    ]
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps({"customers": customers}))
    size = path.stat().st_size
    del customers
    tracemalloc.start()
    try:
        request = _lazy(path)
        count = sum(1 for _ in request.body.iter_array("customers"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    # Element offsets (16 bytes each) and one element at a time, not the file's objects (~10x its size).
    assert peak < size / 5, (peak, size)


def test_ndjson_requests_keep_their_line_numbers_and_skip_blank_lines(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text('{"a": 1}\n\n{"b": 2}\n')
    requests = list(reading.iter_requests(path))
    assert [(r.index, r.line, r.body.to_dict()) for r in requests] == [(0, 1, {"a": 1}), (1, 3, {"b": 2})]


def test_a_large_file_loads_through_the_streaming_reader_exactly_like_a_small_one(
    write_request, load, tmp_path, query
):
    body = {
        "customers": [{"external_id": "c1", "name": "A {brace}"}],
        "plans": [{"external_id": "p", "name": "P", "interval_count": 1, "interval_unit": "month"}],
        "invoices": [
            {
                "external_id": "i1",
                "date": "2024-01-01",
                "currency": "USD",
                "customer_external_id": "c1",
                "line_items": [{"type": "one_time", "amount_in_cents": 5}],
            }
        ],
        "transactions": [
            {"invoice_external_id": "i1", "type": "refund", "result": "failed", "date": "2024-01-02"}
        ],
    }
    path = write_request("bulk.json", body)
    snapshot = (
        "select object_type, external_id, content_hash, body::varchar from raw.objects order by object_seq"
    )
    assert load(path, data_source="Small").returncode == 0
    assert load(path, data_source="Large", env={"MRR_WAREHOUSE_STREAM_THRESHOLD_BYTES": "1"}).returncode == 0
    small = query(snapshot.replace("order", "where data_source_uuid = ? order"), [_uuid("Small")])
    large = query(snapshot.replace("order", "where data_source_uuid = ? order"), [_uuid("Large")])
    assert len(small) == 5 and small == large
    requests = query("select body::varchar from raw.requests order by loaded_at")
    assert [json.loads(text) for (text,) in requests] == [body, body]


def _uuid(name):
    return data_source_uuid(name)
