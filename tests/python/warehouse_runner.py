"""Drive the warehouse the way users and acceptance checks do: the `mrr-warehouse` CLI, then `dbt build`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = PROJECT_ROOT.parent / "shared" / "scenarios"
BIN = Path(sys.executable).parent


@dataclass
class Warehouse:
    """One DuckDB file and the environment that points the CLI and dbt at it."""

    db_path: Path

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MRR_WAREHOUSE_DB"] = str(self.db_path)
        env["DBT_PROFILES_DIR"] = str(PROJECT_ROOT)
        env["MRR_WAREHOUSE_TEMP_DIR"] = str(self.db_path.parent / "duckdb_tmp")
        env.pop("MRR_WAREHOUSE_PUBLISHED_DB", None)  # builds publish beside the test's warehouse file
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Any `mrr-warehouse` subcommand against this warehouse."""
        return subprocess.run(
            [str(BIN / "mrr-warehouse"), *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def load(self, data_source: str, paths: list[Path], *extra: str) -> subprocess.CompletedProcess[str]:
        return self.cli("load", "--data-source", data_source, *extra, *(str(path) for path in paths))

    def dbt_argv(self, command: str, dbt_vars: dict[str, Any], *extra: str) -> list[str]:
        # Separate target and log folders keep parallel or repeated builds from sharing compiled state.
        return [
            str(BIN / "dbt"),
            command,
            "--vars",
            json.dumps(dbt_vars),
            "--target-path",
            str(self.db_path.parent / "dbt_target"),
            "--log-path",
            str(self.db_path.parent / "dbt_logs"),
            *extra,
        ]

    def dbt(self, command: str, dbt_vars: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
        """`dbt COMMAND` against this warehouse, whatever its outcome."""
        return subprocess.run(
            self.dbt_argv(command, dbt_vars, *extra),
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )

    def dbt_build(self, dbt_vars: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
        result = self.dbt("build", dbt_vars, *extra)
        if result.returncode != 0:
            raise AssertionError(f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
        return result

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            return con.execute(sql, parameters or []).fetchall()


def write_requests(directory: Path, requests: list[dict[str, Any]]) -> list[Path]:
    """One file per request body, named so that name order is load order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, body in enumerate(requests):
        path = directory / f"{index:03d}_request.json"
        path.write_text(json.dumps(body))
        paths.append(path)
    return paths


def load_scenario(name: str) -> dict[str, Any]:
    return json.loads((SCENARIOS_DIR / f"{name}.json").read_text())


def scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIOS_DIR.glob("*.json"))
