"""Mart documentation reaches the database (issue #12, item 4): after `dbt build` every table built from
models/marts/ has a table comment and a comment on every column (persist_docs), equal to its description in the
models' YAML, and every column the YAML documents exists in the table, so the docs cannot drift from the SQL.

The test knows no mart by name: a model added to models/marts/ is covered as soon as it exists."""

from __future__ import annotations

from pathlib import Path

import yaml

from warehouse_runner import PROJECT_ROOT, Warehouse, load_scenario, write_requests

MARTS_DIR = PROJECT_ROOT / "models" / "marts"
# Small, and it has invoices, movements and transactions, so the marts hold rows as well as columns.
SCENARIO = "P07_cash_flow_one_time_refund"


def mart_models() -> set[str]:
    return {path.stem for path in MARTS_DIR.glob("*.sql")}


def documented_models() -> dict[str, tuple[Path, dict]]:
    """Model name -> (YAML file, model entry) for every model declared in a YAML file of models/marts/."""
    models: dict[str, tuple[Path, dict]] = {}
    for path in sorted(MARTS_DIR.glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models[model["name"]] = (path.relative_to(PROJECT_ROOT), model)
    return models


def build_warehouse(tmp_path: Path) -> Warehouse:
    scenario = load_scenario(SCENARIO)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load(
        scenario["data_source"], write_requests(tmp_path / "requests", scenario["requests"])
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    warehouse.dbt_build(
        scenario["vars"], "--select", "+path:models/marts", "--exclude-resource-type", "unit_test"
    )
    return warehouse


def test_every_mart_and_mart_column_is_documented_in_the_yaml_and_the_database(tmp_path: Path) -> None:
    marts = mart_models()
    documented = documented_models()
    assert marts, f"no models found in {MARTS_DIR}"
    undocumented = sorted(marts - set(documented))
    assert not undocumented, f"mart models without an entry in models/marts/*.yml: {undocumented}"

    warehouse = build_warehouse(tmp_path)
    relation_comments = dict(
        warehouse.query(
            """
            select table_name, comment from duckdb_tables() where schema_name = 'main'
            union all
            select view_name, comment from duckdb_views() where schema_name = 'main' and not internal
            """
        )
    )
    column_comments: dict[str, dict[str, str | None]] = {}
    for table, column, comment in warehouse.query(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'main'"
    ):
        column_comments.setdefault(table, {})[column] = comment

    unbuilt = sorted(marts - set(relation_comments))
    assert not unbuilt, f"mart models not built in schema main: {unbuilt}"
    problems = []
    for mart in sorted(marts):
        yaml_path, model = documented[mart]
        if not (relation_comments[mart] or "").strip():
            problems.append(f"{mart}: no table comment (description in {yaml_path})")
        for column, comment in column_comments[mart].items():
            if not (comment or "").strip():
                problems.append(f"{mart}.{column}: no column comment (add a description in {yaml_path})")
        for entry in model.get("columns", []):
            name, description = entry["name"], entry.get("description") or ""
            if name not in column_comments[mart]:
                problems.append(f"{yaml_path}: {mart}.{name} is documented but the table has no such column")
            elif "{{" not in description and column_comments[mart][name] != description:
                # Jinja (doc blocks) is rendered by dbt, so only literal descriptions are compared as text.
                problems.append(f"{mart}.{name}: comment differs from the description in {yaml_path}")
    assert not problems, "\n".join(problems)
