"""BI tools still bundle DuckDB 1.x: a duckdb 1.5 client must open the warehouse file and the published snapshot
and read the marts.

Both files are written with storage version v1.5.0 (profiles.yml and the loader's connection; the snapshot's
ATTACH in mrr_warehouse.published). The check runs a real duckdb 1.5.0 wheel in a throwaway environment made by uv
(from PyPI, then uv's cache).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from warehouse_runner import BIN, Warehouse, load_scenario, write_requests

READ_MARTS = """
import sys, duckdb
assert duckdb.__version__ == "1.5.0", duckdb.__version__
for path in sys.argv[1:]:
    con = duckdb.connect(path, read_only=True)
    print(con.execute("select customer_external_id, movement_type, mrr_change_in_cents::double from mrr_movements "
                      "order by movement_at").fetchall())
    print(con.execute("select count(*) from metrics_monthly").fetchone()[0])
    con.close()
con = duckdb.connect(sys.argv[-1], read_only=True)
print(con.execute("select as_of_date::varchar from build_info").fetchone()[0])
"""


def test_a_duckdb_1_5_client_reads_the_marts(tmp_path: Path) -> None:
    scenario = load_scenario("P03_upgrade_then_downgrade")
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load(
        scenario["data_source"], write_requests(tmp_path / "requests", scenario["requests"])
    )
    assert loaded.returncode == 0, loaded.stderr
    warehouse.dbt_build(scenario["vars"], "--exclude-resource-type", "unit_test")

    result = subprocess.run(
        [
            str(BIN / "uv"),
            "run",
            "--no-project",
            "--quiet",
            "--python",
            sys.executable,
            "--with",
            "duckdb==1.5.0",
            "python",
            "-c",
            READ_MARTS,
            str(warehouse.db_path),
            str(tmp_path / "published.duckdb"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    expected_movements = (
        "[('c3', 'new_business', 5000.0), ('c3', 'expansion', 3000.0), ('c3', 'contraction', -2000.0)]"
    )
    # The warehouse, then the published snapshot (`dbt build` published it), then the snapshot's as-of date.
    assert result.stdout.strip().splitlines() == [
        expected_movements,
        "4",
        expected_movements,
        "4",
        "2024-04-30",
    ]
