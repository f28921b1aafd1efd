"""Where verbatim request bodies are kept (docs/decisions.md D48): raw.requests is a view over raw.requests_small
and one table per load of large requests, so that a checkpoint never rewrites the bodies of earlier loads."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from mrr_warehouse import landing, lifecycle, schema
from mrr_warehouse.sources import DataSource

CUSTOMERS = [{"external_id": f"c{number}", "name": f"Customer {number}"} for number in range(20)]
LOADED_AT = datetime(2024, 1, 1)


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """Bodies of 200 characters or more count as large."""
    monkeypatch.setattr(schema, "LARGE_REQUEST_CHARS", 200)
    return 200


def _blocks(con: duckdb.DuckDBPyConnection, table: str) -> set[tuple[int, int]]:
    """Where the table's segments are stored: (block, offset); block -1 for a segment stored in none."""
    name = table.split(".", 1)[1].strip('"')
    sql = "select block_id, block_offset from pragma_storage_info(?)"
    return set(con.execute(sql, [f'raw."{name}"']).fetchall())


def test_a_checkpoint_leaves_the_large_requests_of_earlier_loads_where_they_are(
    tmp_path: Path, small_limit: int
) -> None:
    con = landing.connect(str(tmp_path / "w.duckdb"))
    bodies = [json.dumps({"customers": CUSTOMERS, "load": number}) for number in range(3)]
    tables = []
    for number, body in enumerate(bodies):
        con.execute("begin transaction")
        landing.insert_requests(
            con,
            [
                (f"load-{number}", 0, "ds", "f.json", f"h{number}", body, LOADED_AT),
                (f"load-{number}", 1, "ds", "f.json", f"s{number}", '{"customers":[]}', LOADED_AT),
            ],
        )
        con.execute("commit")
        con.execute("checkpoint")
        tables.append(schema.large_requests_table(f"load-{number}"))
        if number == 0:
            first_blocks = _blocks(con, tables[0])
            assert any(block >= 0 for block, _ in first_blocks)
    assert _blocks(con, tables[0]) == first_blocks  # not rewritten by the two later checkpoints
    assert landing.request_tables(con) == [schema.SMALL_REQUESTS, *tables]
    kept = con.execute(
        "select load_id, request_index, body::varchar from raw.requests order by all"
    ).fetchall()
    assert kept == [
        (f"load-{number}", index, body if index == 0 else '{"customers":[]}')
        for number, body in enumerate(bodies)
        for index in (0, 1)
    ]
    assert con.execute(f"select count(*) from {schema.SMALL_REQUESTS}").fetchall() == [(3,)]
    con.close()


def test_a_large_single_request_file_is_kept_byte_for_byte_in_its_loads_table(
    tmp_path: Path, write_request, load, query, small_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mrr_warehouse import reading

    monkeypatch.setattr(reading, "STREAM_THRESHOLD_BYTES", 100)  # DuckDB reads the file itself (read_text)
    text = json.dumps({"customers": CUSTOMERS}, indent=2, ensure_ascii=False)
    path = write_request("big.json", raw=text)
    assert load(path).returncode == 0
    (load_id,) = query("select load_id from main.loads")[0]
    assert query("select body::varchar from raw.requests") == [(text.strip(),)]
    assert query(f"select count(*) from {schema.large_requests_table(load_id)}") == [(1,)]
    # reloading it lands nothing, keeps nothing twice (content_hash)
    assert load(path).returncode == 0
    assert query("select count(*) from raw.requests") == [(1,)]


def test_erasure_rewrites_or_drops_large_requests_and_their_empty_tables(
    tmp_path: Path, small_limit: int
) -> None:
    con = landing.connect(str(tmp_path / "w.duckdb"))
    doomed_only = json.dumps({"customers": [{"external_id": "doomed", "name": "x" * 300}]})
    both = json.dumps({"customers": [{"external_id": "doomed", "name": "y" * 300}, *CUSTOMERS]})
    con.execute("begin transaction")
    landing.insert_requests(con, [("load-a", 0, "ds", "a.json", "ha", doomed_only, LOADED_AT)])
    landing.insert_requests(con, [("load-b", 0, "ds", "b.json", "hb", both, LOADED_AT)])
    con.execute("commit")
    con.execute("begin transaction")
    landing.delete_request(con, "load-a", 0)
    landing.update_request(con, "load-b", 0, json.dumps({"customers": CUSTOMERS}), "hb2")
    con.execute("commit")
    assert landing.request_tables(con) == [schema.SMALL_REQUESTS, schema.large_requests_table("load-b")]
    assert con.execute(
        "select load_id, content_hash, contains(body, 'doomed') from raw.requests"
    ).fetchall() == [("load-b", "hb2", False)]
    deleted = lifecycle.delete_data_source(con, DataSource("ds", "Billing"))
    assert deleted == {"raw.requests": 1}
    assert landing.request_tables(con) == [schema.SMALL_REQUESTS]
    assert con.execute("select count(*) from raw.requests").fetchall() == [(0,)]
    con.close()


def test_a_raw_requests_table_of_an_older_warehouse_is_split_on_connect(
    tmp_path: Path, small_limit: int
) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path), config=landing.CONNECT_CONFIG)
    old.execute("create schema raw")
    old.execute(f"create table raw.requests {schema.REQUEST_TABLE_COLUMNS}")
    large = json.dumps({"customers": CUSTOMERS})
    rows = [
        ("old-1", 0, "ds", "f", "h0", '{"customers":[]}', LOADED_AT),
        ("old-1", 1, "ds", "f", "h1", large, LOADED_AT),
    ]
    old.executemany("insert into raw.requests values (?, ?, ?, ?, ?, ?, ?)", rows)
    old.close()

    con = landing.connect(str(path))
    assert con.execute(
        "select table_type from information_schema.tables where table_schema = 'raw' and table_name = 'requests'"
    ).fetchall() == [("VIEW",)]
    assert landing.request_tables(con) == [schema.SMALL_REQUESTS, schema.large_requests_table("old-1")]
    assert con.execute(
        f"select {schema.REQUEST_COLUMNS} from raw.requests order by request_index"
    ).fetchall() == [(*row[:5], row[5], row[6]) for row in rows]
    con.close()
    con = landing.connect(str(path))  # a second connect changes nothing
    assert con.execute("select count(*) from raw.requests").fetchall() == [(2,)]
    con.close()
